// Go's path semantics that Docker's builder relies on: filepath.Clean and filepath.Match
// (Unix flavour: "\" escapes). Ported rather than approximated, because a context that
// builds under Docker must select the same files here.
import { posix } from 'node:path';
import { invalidArgument } from '../../util/errors.js';

/** filepath.Clean: "" → ".", no trailing slash except for "/". */
export function goClean(p: string): string {
  if (p === '') return '.';
  const n = posix.normalize(p);
  return n.length > 1 && n.endsWith('/') ? n.slice(0, -1) : n;
}

/**
 * A path relative to the context root as Docker scopes it: "..", "/" and "./" cannot
 * leave the root ("../x" is "x", "/etc" is "etc"); "" is the root itself.
 */
export function contextRelative(p: string): string {
  const abs = posix.normalize(`/${p}`);
  const rel = abs.replace(/^\/+/, '').replace(/\/+$/, '');
  return rel;
}

export class BadPatternError extends Error {
  constructor(pattern: string) {
    super(`syntax error in pattern: ${JSON.stringify(pattern)}`);
  }
}

/** Docker's containsWildcards: "*", "?" or "[" not escaped by "\". */
export function containsWildcards(name: string): boolean {
  for (let i = 0; i < name.length; i++) {
    const ch = name[i];
    if (ch === '\\') i++;
    else if (ch === '*' || ch === '?' || ch === '[') return true;
  }
  return false;
}

/** filepath.Match(pattern, name); throws BadPatternError where Go returns ErrBadPattern. */
export function goMatch(pattern: string, name: string): boolean {
  // Code points, so "?" and classes take one rune as Go does.
  return matchRunes(pattern, Array.from(pattern), Array.from(name));
}

/** Whether filepath.Match accepts the pattern at all (New() in patternmatcher checks this). */
export function validatePattern(pattern: string): void {
  goMatch(pattern, '.');
}

function matchRunes(original: string, pattern: string[], name: string[]): boolean {
  let pat = pattern;
  let s = name;
  outer: while (pat.length > 0) {
    const { star, chunk, rest } = scanChunk(pat);
    pat = rest;
    if (star && chunk.length === 0) return !s.includes('/'); // trailing * matches the rest of one component
    const first = matchChunk(original, chunk, s);
    if (first !== undefined && (first.length === 0 || pat.length > 0)) {
      s = first;
      continue;
    }
    if (star) {
      for (let i = 0; i < s.length && s[i] !== '/'; i++) {
        const t = matchChunk(original, chunk, s.slice(i + 1));
        if (t !== undefined) {
          if (pat.length === 0 && t.length > 0) continue;
          s = t;
          continue outer;
        }
      }
    }
    // Before answering false, check that the rest of the pattern is well formed (Go does).
    while (pat.length > 0) {
      const next = scanChunk(pat);
      pat = next.rest;
      matchChunk(original, next.chunk, []);
    }
    return false;
  }
  return s.length === 0;
}

function scanChunk(pattern: string[]): { star: boolean; chunk: string[]; rest: string[] } {
  let p = pattern;
  let star = false;
  while (p.length > 0 && p[0] === '*') {
    p = p.slice(1);
    star = true;
  }
  let inRange = false;
  let i = 0;
  scan: for (; i < p.length; i++) {
    switch (p[i]) {
      case '\\':
        if (i + 1 < p.length) i++;
        break;
      case '[':
        inRange = true;
        break;
      case ']':
        inRange = false;
        break;
      case '*':
        if (!inRange) break scan;
        break;
    }
  }
  return { star, chunk: p.slice(0, i), rest: p.slice(i) };
}

/** The rest of s after chunk matched its start, or undefined; throws on a malformed chunk. */
function matchChunk(original: string, chunk: string[], str: string[]): string[] | undefined {
  let c = chunk;
  let s = str;
  let failed = false;
  while (c.length > 0) {
    if (!failed && s.length === 0) failed = true;
    const head = c[0];
    if (head === '[') {
      let r = '';
      if (!failed) {
        r = s[0]!;
        s = s.slice(1);
      }
      c = c.slice(1);
      let negated = false;
      if (c.length > 0 && c[0] === '^') {
        negated = true;
        c = c.slice(1);
      }
      let match = false;
      let nrange = 0;
      for (;;) {
        if (c.length > 0 && c[0] === ']' && nrange > 0) {
          c = c.slice(1);
          break;
        }
        const lo = getEsc(original, c);
        c = lo.rest;
        let hi = lo.ch;
        if (c[0] === '-') {
          const h = getEsc(original, c.slice(1));
          hi = h.ch;
          c = h.rest;
        }
        if (!failed && lo.ch.codePointAt(0)! <= r.codePointAt(0)! && r.codePointAt(0)! <= hi.codePointAt(0)!) match = true;
        nrange++;
      }
      if (match === negated) failed = true;
    } else if (head === '?') {
      if (!failed) {
        if (s[0] === '/') failed = true;
        s = s.slice(1);
      }
      c = c.slice(1);
    } else {
      if (head === '\\') {
        c = c.slice(1);
        if (c.length === 0) throw new BadPatternError(original);
      }
      if (!failed) {
        if (c[0] !== s[0]) failed = true;
        s = s.slice(1);
      }
      c = c.slice(1);
    }
  }
  return failed ? undefined : s;
}

function getEsc(original: string, chunk: string[]): { ch: string; rest: string[] } {
  let c = chunk;
  if (c.length === 0 || c[0] === '-' || c[0] === ']') throw new BadPatternError(original);
  if (c[0] === '\\') {
    c = c.slice(1);
    if (c.length === 0) throw new BadPatternError(original);
  }
  const ch = c[0]!;
  const rest = c.slice(1);
  if (rest.length === 0) throw new BadPatternError(original);
  return { ch, rest };
}

/** A pattern error as berth reports it to the user. */
export function badPattern(err: unknown, what: string): Error {
  return err instanceof BadPatternError ? invalidArgument(`${what}: ${err.message}`) : (err as Error);
}
