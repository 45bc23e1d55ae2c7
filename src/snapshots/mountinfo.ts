// Reading /proc/self/mountinfo: which mount points lie under a directory. Used to undo the
// mounts a crashed operation or a failed test left behind before removing their directories.
import { readFileSync } from 'node:fs';

// mountinfo escapes space, tab, newline and backslash as \ooo octal.
function unescapeField(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

/** Mount points in this mount namespace equal to or below `dir`, deepest (last mounted) first. */
export function mountPointsUnder(dir: string): string[] {
  const prefix = dir.endsWith('/') ? dir : `${dir}/`;
  const points: string[] = [];
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const field = line.split(' ')[4];
    if (field === undefined) continue;
    const point = unescapeField(field);
    if (point === dir || point.startsWith(prefix)) points.push(point);
  }
  // mountinfo lists in mount order; unmounting in reverse undoes stacked mounts correctly.
  return points.reverse();
}
