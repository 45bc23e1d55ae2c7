// .dockerignore: the file's syntax (moby/patternmatcher/ignorefile) and the matcher
// (moby/patternmatcher: regexp-compiled patterns, "**", parent-directory matching,
// "!" exceptions applied in order). The same matcher serves COPY --exclude.
import { posix } from 'node:path';
import { invalidArgument } from '../../util/errors.js';
import { goClean, goMatch, validatePattern, BadPatternError } from './go-path.js';

const BOM = '\ufeff';

/** The patterns of a .dockerignore file, as ignorefile.ReadAll returns them. */
export function parseIgnoreFile(text: string): string[] {
  const out: string[] = [];
  const lines = text.split(/\r?\n/);
  if (lines[0]?.startsWith(BOM)) lines[0] = lines[0].slice(1);
  for (const line of lines) {
    if (line.startsWith('#')) continue; // a comment only at the very start of the line
    let p = line.trim();
    if (p === '') continue;
    const invert = p.startsWith('!');
    if (invert) p = p.slice(1).trim();
    if (p.length > 0) {
      p = goClean(p);
      if (p.length > 1 && p.startsWith('/')) p = p.slice(1); // "/foo" means "foo" at the context root
    }
    out.push(invert ? `!${p}` : p);
  }
  return out;
}

/**
 * Where Docker looks for the ignore file of a build, first hit wins:
 * "<Dockerfile path>.dockerignore" (BuildKit), then ".dockerignore" at the context root.
 */
export function ignoreFileFor(dockerfilePath: string): string[] {
  const df = goClean(dockerfilePath.replace(/^\/+/, ''));
  if (df === '.' || df === '..' || df.startsWith('../') || df === '-') return ['.dockerignore'];
  const own = `${df}.dockerignore`;
  return own === '.dockerignore' ? [own] : [own, '.dockerignore'];
}

type MatchKind = { kind: 'exact'; text: string } | { kind: 'prefix'; text: string } | { kind: 'suffix'; text: string } | { kind: 'regexp'; re: RegExp | undefined };

class Pattern {
  readonly exclusion: boolean;
  /** The cleaned pattern without "!". */
  readonly text: string;
  readonly dirs: string[];
  private compiled: MatchKind | undefined;

  constructor(text: string, exclusion: boolean) {
    this.text = text;
    this.exclusion = exclusion;
    this.dirs = text.split('/');
  }

  match(path: string): boolean {
    this.compiled ??= compile(this.text);
    const m = this.compiled;
    switch (m.kind) {
      case 'exact':
        return path === m.text;
      case 'prefix':
        return path.startsWith(m.text);
      case 'suffix':
        // "**/foo" also matches "foo" itself
        return path.endsWith(m.text) || (m.text.startsWith('/') && path === m.text.slice(1));
      case 'regexp':
        if (!m.re) throw new BadPatternError(this.text);
        return m.re.test(path);
    }
  }
}

// The characters a 'u' regexp lets (and needs) us escape; any other escape is a syntax error there.
const SYNTAX = new Set(Array.from('^$\\.*+?()[]{}|/'));
const escapeChar = (ch: string): string => (SYNTAX.has(ch) ? `\\${ch}` : ch);

/** patternmatcher's compile(): the pattern as an anchored regexp, or a cheaper string test. */
function compile(pattern: string): MatchKind {
  const runes = Array.from(pattern);
  let re = '^';
  let kind: 'exact' | 'prefix' | 'suffix' | 'regexp' = 'exact';
  let inClass = false;
  for (let i = 0; i < runes.length; i++) {
    const ch = runes[i]!;
    if (inClass) {
      // Inside [...] everything is literal for the regexp except the class syntax itself.
      if (ch === ']') inClass = false;
      if (ch === '\\' && i + 1 < runes.length) {
        const next = runes[++i]!;
        re += next === '-' ? '\\-' : escapeChar(next);
      }
      else re += ch === ']' || ch === '^' || ch === '-' ? ch : escapeChar(ch);
      continue;
    }
    if (ch === '*') {
      if (runes[i + 1] === '*') {
        i++;
        if (runes[i + 1] === '/') i++; // "**/" is "**"
        if (i + 1 >= runes.length) {
          // "**" at the end: everything, as .gitignore
          if (kind === 'exact') kind = 'prefix';
          else {
            re += '.*';
            kind = 'regexp';
          }
        } else {
          re += '(.*/)?'; // any number of directories, even none
          kind = 'regexp';
        }
        if (i <= 2 && (runes[0] === '*' && runes[1] === '*')) kind = 'suffix';
      } else {
        re += '[^/]*';
        kind = 'regexp';
      }
    } else if (ch === '?') {
      re += '[^/]';
      kind = 'regexp';
    } else if (ch === '\\') {
      if (i + 1 < runes.length) {
        re += escapeChar(runes[++i]!);
        kind = 'regexp';
      } else re += '\\\\';
    } else if (ch === '[') {
      re += '[';
      inClass = true;
      if (runes[i + 1] === '^') {
        re += '^';
        i++;
      }
      kind = 'regexp';
    } else if (ch === ']') {
      re += '\\]';
      kind = 'regexp';
    } else re += escapeChar(ch);
  }
  if (kind === 'prefix') return { kind, text: pattern.slice(0, -2) };
  if (kind === 'suffix') return { kind, text: pattern.slice(2) };
  if (kind === 'exact') return { kind, text: pattern };
  try {
    return { kind: 'regexp', re: new RegExp(`${re}$`, 'u') };
  } catch {
    return { kind: 'regexp', re: undefined }; // e.g. "[z-a]": accepted by Match, refused at use
  }
}

/** A set of ignore (or --exclude) patterns. */
export class IgnoreMatcher {
  private readonly patterns: Pattern[] = [];
  readonly hasExceptions: boolean;

  /** Patterns as parseIgnoreFile returns them; throws InvalidArgument for a malformed one. */
  constructor(patterns: readonly string[]) {
    let exceptions = false;
    for (const raw of patterns) {
      let p = raw.trim();
      if (p === '') continue;
      p = goClean(p);
      let exclusion = false;
      if (p.startsWith('!')) {
        if (p.length === 1) throw invalidArgument('illegal exclusion pattern: "!"');
        exclusion = true;
        exceptions = true;
        p = p.slice(1);
      }
      try {
        validatePattern(p);
      } catch (err) {
        throw invalidArgument(`invalid ignore pattern ${JSON.stringify(raw)}: ${(err as Error).message}`);
      }
      this.patterns.push(new Pattern(p, exclusion));
    }
    this.hasExceptions = exceptions;
  }

  static fromFile(text: string): IgnoreMatcher {
    return new IgnoreMatcher(parseIgnoreFile(text));
  }

  get empty(): boolean {
    return this.patterns.length === 0;
  }

  /** The cleaned patterns, "!" included. */
  get patternList(): string[] {
    return this.patterns.map((p) => (p.exclusion ? `!${p.text}` : p.text));
  }

  /**
   * Whether path (relative to the root, "/"-separated) is ignored: patternmatcher's
   * MatchesOrParentMatches. A pattern naming a directory ignores everything under it;
   * patterns apply in order, so a later "!" re-includes.
   */
  matches(path: string): boolean {
    const file = goClean(path);
    if (file === '.') return false; // the context root is never ignored
    const parent = posix.dirname(file);
    const parentDirs = parent === '.' ? [] : parent.split('/');
    let matched = false;
    for (const pat of this.patterns) {
      if (pat.exclusion !== matched) continue; // nothing this pattern could change
      let m = this.test(pat, file);
      for (let i = 0; !m && i < parentDirs.length; i++) m = this.test(pat, parentDirs.slice(0, i + 1).join('/'));
      if (m) matched = !pat.exclusion;
    }
    return matched;
  }

  /**
   * For an ignored directory: whether it must still be walked because an exception could
   * re-include something inside it. Docker compares the exception as a string prefix;
   * this also follows wildcards component by component, and "**" makes it always true.
   */
  mustWalk(dir: string): boolean {
    if (!this.hasExceptions) return false;
    const clean = goClean(dir);
    const parts = clean === '.' ? [] : clean.split('/');
    for (const pat of this.patterns) {
      if (!pat.exclusion) continue;
      if (`${pat.text}/`.startsWith(`${clean}/`)) return true; // Docker's own test
      if (couldMatchUnder(pat.dirs, parts)) return true;
    }
    return false;
  }

  /** A matcher with "!path" appended for each given path it would ignore (docker/cli's TrimBuildFilesFromExcludes). */
  keeping(paths: readonly string[]): IgnoreMatcher {
    const extra = paths.filter((p) => this.matches(p)).map((p) => `!${goClean(p)}`);
    return extra.length === 0 ? this : new IgnoreMatcher([...this.patternList, ...extra]);
  }

  private test(pat: Pattern, path: string): boolean {
    try {
      return pat.match(path);
    } catch (err) {
      if (err instanceof BadPatternError) throw invalidArgument(`invalid ignore pattern ${JSON.stringify(pat.text)}: ${err.message}`);
      throw err;
    }
  }
}

/** Whether a pattern's components could match some path strictly below dir's components. */
function couldMatchUnder(patDirs: readonly string[], dirParts: readonly string[]): boolean {
  for (let i = 0; i < dirParts.length; i++) {
    const p = patDirs[i];
    if (p === undefined) return false;
    if (p.includes('**')) return true;
    try {
      if (!goMatch(p, dirParts[i]!)) return false;
    } catch {
      return true; // malformed: walking is the safe answer, matches() reports the error
    }
  }
  return patDirs.length > dirParts.length;
}
