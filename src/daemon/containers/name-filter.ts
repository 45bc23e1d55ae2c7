// The `name` filter of GET /containers/json. Docker matches each value as a Go regexp (RE2,
// linear time) against the name, and falls back to an exact comparison when the value is not a
// valid regexp (moby's filters.Args.Match). JavaScript's RegExp backtracks: a quantified group
// that itself repeats or alternates — `(a+)+$`, `(a|aa)*$` — takes exponential time on a
// name that almost matches, and would stall the daemon's only thread. Such patterns are
// refused with a 400 instead; berth knowingly differs from Docker there (architecture.md).
import { invalidArgument } from '../../util/errors.js';

export type NameTest = (name: string) => boolean;

/** A test for one filter value; throws InvalidArgument for a pattern that could backtrack without end. */
export function nameFilter(pattern: string): NameTest {
  const exact = (name: string): boolean => name === pattern;
  if (!validInGo(pattern)) return exact;
  let re: RegExp;
  try {
    re = new RegExp(pattern);
  } catch {
    return exact;
  }
  if (hasNestedRepetition(pattern)) {
    throw invalidArgument(`invalid filter 'name=${pattern}': a repeated group that itself repeats or alternates is not supported`);
  }
  return (name) => exact(name) || re.test(name);
}

/** Constructs RE2 rejects (lookaround, backreferences): Go's compile fails, so Docker compares exactly. */
function validInGo(pattern: string): boolean {
  return !/\(\?<?[=!]|\\[1-9]|\\k</.test(pattern);
}

/**
 * True when a group followed by *, + or {n,…} contains a quantifier or an alternation. The
 * scan skips escapes and character classes; it errs on the side of refusing.
 */
export function hasNestedRepetition(pattern: string): boolean {
  // For each open group: does it contain a quantifier or a '|'?
  const open: boolean[] = [];
  let lastGroupRisky = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\') {
      i++;
      lastGroupRisky = false;
      continue;
    }
    if (c === '[') {
      i = classEnd(pattern, i);
      lastGroupRisky = false;
      continue;
    }
    if (c === '(') {
      open.push(false);
      lastGroupRisky = false;
      // "(?:" and "(?<name>" open groups too; their '?' is no quantifier.
      if (pattern[i + 1] === '?') i = pattern[i + 2] === '<' ? Math.max(pattern.indexOf('>', i), i + 1) : i + 2;
      continue;
    }
    if (c === ')') {
      lastGroupRisky = open.pop() ?? false;
      if (lastGroupRisky && open.length > 0) open[open.length - 1] = true;
      continue;
    }
    const repeats = c === '*' || c === '+' || (c === '{' && /^\{\d+,\d*\}/.test(pattern.slice(i)));
    if (repeats && lastGroupRisky) return true;
    if (c === '*' || c === '+' || c === '?' || c === '{' || c === '|') {
      if (open.length > 0) open[open.length - 1] = true;
    }
    lastGroupRisky = false;
  }
  return false;
}

/** The index of the ']' closing the class that opens at `start` (or the end of the pattern). */
function classEnd(pattern: string, start: number): number {
  let i = start + 1;
  if (pattern[i] === '^') i++;
  if (pattern[i] === ']') i++;
  for (; i < pattern.length; i++) {
    if (pattern[i] === '\\') i++;
    else if (pattern[i] === ']') return i;
  }
  return pattern.length;
}
