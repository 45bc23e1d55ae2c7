// "did you mean …?" hints, as BuildKit gives them (Levenshtein distance below 3).

export function levenshtein(a: string, b: string): number {
  const x = Array.from(a);
  const y = Array.from(b);
  let prev = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const cur = [i];
    for (let j = 1; j <= y.length; j++) {
      const cost = x[i - 1] === y[j - 1] ? 0 : 1;
      cur.push(Math.min((prev[j] as number) + 1, (cur[j - 1] as number) + 1, (prev[j - 1] as number) + cost));
    }
    prev = cur;
  }
  return prev[y.length] as number;
}

/** The closest option within distance 2, or undefined (also for an exact match). */
export function closest(value: string, options: readonly string[], caseSensitive: boolean): string | undefined {
  const norm = (s: string): string => (caseSensitive ? s : s.toLowerCase());
  let best: string | undefined;
  let min = 3;
  for (const opt of options) {
    if (norm(opt) === norm(value)) return undefined;
    const d = levenshtein(norm(value), norm(opt));
    if (d < min) {
      best = opt;
      min = d;
    }
  }
  return best;
}

export function didYouMean(value: string, options: readonly string[], caseSensitive: boolean): string {
  const match = closest(value, options, caseSensitive);
  return match === undefined ? '' : ` (did you mean ${match}?)`;
}
