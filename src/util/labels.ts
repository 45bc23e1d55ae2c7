// Docker's label filter: "key" matches when the label is present, "key=value" when it has
// that value (the same rule for containers, images, volumes, networks and events).
export function labelMatches(labels: Readonly<Record<string, string>>, filter: string): boolean {
  const eq = filter.indexOf('=');
  if (eq < 0) return filter in labels;
  return labels[filter.slice(0, eq)] === filter.slice(eq + 1);
}
