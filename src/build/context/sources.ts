// COPY/ADD sources in the build context, as Docker's builder finds them: each source is
// scoped to the context root ("../x" is "x"), wildcards are Go filepath.Match per path
// component, a symlink named as the source is followed (inside the context), a directory
// brings everything under it with symlinks kept as symlinks. --exclude and --parents are
// BuildKit's (the classic builder has neither).
import { invalidArgument, notFound } from '../../util/errors.js';
import type { BuildContext } from './archive.js';
import { badPattern, containsWildcards, contextRelative, goMatch } from './go-path.js';
import { IgnoreMatcher } from './ignore.js';
import { parentOf, type ContextEntry } from './tree.js';

export interface SourceItem {
  /** Path relative to the source ("" for the source itself). */
  rel: string;
  entry: ContextEntry;
}

export interface SourceMatch {
  /** The source as matched, relative to the context root ("" is the root); its base name names a copied file. */
  path: string;
  /** What path names, a symlink given as the source followed. */
  entry: ContextEntry;
  /** The source and, for a directory, everything under it that the copy takes (--exclude applied), parents first. */
  items: SourceItem[];
  /** --parents: the path kept under the destination (after a "/./" pivot if the source had one). */
  parentsPath?: string;
  /** --parents: the context's directories for each parent of parentsPath, outermost first. */
  parentDirs: ContextEntry[];
}

export interface ResolveOptions {
  /** --exclude patterns (.dockerignore syntax), matched against paths relative to each source. */
  excludes?: string[];
  /** --parents: keep each source's directory path under the destination. */
  parents?: boolean;
}

export function resolveSources(ctx: BuildContext, srcs: readonly string[], opts: ResolveOptions = {}): SourceMatch[] {
  const excluder = opts.excludes && opts.excludes.length > 0 ? new IgnoreMatcher(opts.excludes) : undefined;
  const out: SourceMatch[] = [];
  let found = 0;
  for (const src of srcs) {
    let given = src;
    let pivot: string | undefined;
    if (opts.parents) {
      // BuildKit's pivot: in "a/./b/c" only "b/c" is kept under the destination.
      const i = given.indexOf('/./');
      if (i >= 0) {
        pivot = contextRelative(given.slice(0, i));
        given = `${given.slice(0, i)}/${given.slice(i + 3)}`;
      }
    }
    // The name in Docker's message: the source with a leading "/" and "./" trimmed.
    const shown = given.replace(/^\/+/, '').replace(/^\.\//, '');
    const rel = contextRelative(given);
    if (containsWildcards(rel)) {
      const { base, paths } = expandWildcard(ctx, rel, src);
      found += paths.length;
      for (const p of paths) {
        const entry = ctx.stat(p);
        if (!entry) throw missing(p);
        // A wildcard's file matches answer to --exclude by their path below the wildcard's
        // base (the docs' "COPY --exclude=*.txt hom* /dir/"); directories are filtered inside.
        if (excluder && entry.type !== 'dir' && excluder.matches(base === '' ? p : p.slice(base.length + 1))) continue;
        out.push(makeMatch(ctx, p, entry, excluder, opts.parents ? pivot : undefined, !!opts.parents));
      }
      continue;
    }
    const entry = ctx.stat(rel);
    if (!entry) throw missing(shown);
    found++;
    out.push(makeMatch(ctx, rel, entry, excluder, opts.parents ? pivot : undefined, !!opts.parents));
  }
  if (found === 0 && srcs.length > 0) throw invalidArgument('no source files were specified');
  return out;
}

function missing(shown: string): Error {
  return notFound(`file not found in build context or excluded by .dockerignore: stat ${shown}: file does not exist`);
}

function makeMatch(ctx: BuildContext, path: string, entry: ContextEntry, excluder: IgnoreMatcher | undefined, pivot: string | undefined, parents: boolean): SourceMatch {
  const items = entry.type === 'dir' ? collect(ctx, entry, excluder) : [{ rel: '', entry }];
  if (!parents) return { path, entry, items, parentDirs: [] };
  const base = pivot !== undefined && (pivot === '' || path === pivot || path.startsWith(`${pivot}/`)) ? pivot : '';
  const parentsPath = base === '' ? path : path === base ? '' : path.slice(base.length + 1);
  const parentDirs: ContextEntry[] = [];
  const comps = parentsPath === '' ? [] : parentsPath.split('/').slice(0, -1);
  for (let i = 0; i < comps.length; i++) {
    const dirPath = [base, ...comps.slice(0, i + 1)].filter((c) => c !== '').join('/');
    const d = ctx.stat(dirPath);
    if (!d || d.type !== 'dir') throw invalidArgument(`${dirPath} is not a directory in the build context`);
    parentDirs.push(d);
  }
  return { path, entry, items, parentsPath, parentDirs };
}

/** A directory and what is under it, not following symlinks, minus what --exclude drops. */
function collect(ctx: BuildContext, dir: ContextEntry, excluder: IgnoreMatcher | undefined): SourceItem[] {
  const items: SourceItem[] = [{ rel: '', entry: dir }];
  const included = new Set<string>(['']);
  // Ignored directories walked for exceptions: added only if something under them is kept.
  const pending = new Map<string, ContextEntry>();
  const keep = (rel: string, entry: ContextEntry): void => {
    const chain: string[] = [];
    for (let p = parentOf(rel); !included.has(p); p = parentOf(p)) chain.push(p);
    for (const p of chain.reverse()) {
      items.push({ rel: p, entry: pending.get(p)! });
      included.add(p);
    }
    items.push({ rel, entry });
    included.add(rel);
  };
  const visit = (real: string, prefix: string): void => {
    for (const e of ctx.list(real)) {
      const name = e.path.slice(e.path.lastIndexOf('/') + 1);
      const rel = prefix === '' ? name : `${prefix}/${name}`;
      if (excluder?.matches(rel)) {
        if (e.type === 'dir' && excluder.mustWalk(rel)) {
          pending.set(rel, e);
          visit(e.path, rel);
        }
        continue;
      }
      keep(rel, e);
      if (e.type === 'dir') visit(e.path, rel);
    }
  };
  visit(dir.path, '');
  return items;
}

/**
 * The paths a wildcard source names: the components before the first wildcard are a
 * directory (symlinks followed), each component from there on matches names in the
 * directory reached so far, without following symlinks (as Docker walks the context).
 */
function expandWildcard(ctx: BuildContext, rel: string, original: string): { base: string; paths: string[] } {
  const comps = rel.split('/');
  const first = comps.findIndex((c) => containsWildcards(c));
  const base = comps.slice(0, first).join('/');
  const start = ctx.stat(base);
  const paths: string[] = [];
  if (!start || start.type !== 'dir') return { base, paths };
  const expand = (dir: ContextEntry, logical: string, i: number): void => {
    const comp = comps[i]!;
    for (const e of ctx.list(dir.path)) {
      const name = e.path.slice(e.path.lastIndexOf('/') + 1);
      let hit: boolean;
      try {
        hit = goMatch(comp, name);
      } catch (err) {
        throw badPattern(err, `COPY source ${JSON.stringify(original)}`);
      }
      if (!hit) continue;
      const path = logical === '' ? name : `${logical}/${name}`;
      if (i === comps.length - 1) paths.push(path);
      else if (e.type === 'dir') expand(e, path, i + 1);
    }
  };
  expand(start, base, first);
  return { base, paths };
}
