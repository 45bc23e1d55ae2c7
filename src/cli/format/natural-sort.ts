// fvbommel/sortorder NaturalLess, which docker uses to order `port` lines and prune filters:
// runs of digits compare as numbers ("9" < "10"), digits sort before other characters.

const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';

export function naturalLess(a: string, b: string): boolean {
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const c1 = a[i] as string;
    const c2 = b[j] as string;
    const d1 = isDigit(c1);
    const d2 = isDigit(c2);
    if (d1 !== d2) return d1;
    if (!d1) {
      if (c1 !== c2) return c1 < c2;
      i++;
      j++;
      continue;
    }
    while (a[i] === '0') i++;
    while (b[j] === '0') j++;
    const start1 = i;
    const start2 = j;
    while (isDigit(a[i])) i++;
    while (isDigit(b[j])) j++;
    const len1 = i - start1;
    const len2 = j - start2;
    if (len1 !== len2) return len1 < len2;
    const n1 = a.slice(start1, i);
    const n2 = b.slice(start2, j);
    if (n1 !== n2) return n1 < n2;
    if (start1 !== start2) return start1 < start2;
  }
  return a.length < b.length;
}

export const naturalCompare = (a: string, b: string): number => (naturalLess(a, b) ? -1 : naturalLess(b, a) ? 1 : 0);
