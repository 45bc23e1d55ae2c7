// What a layer entry may do, decided before anything touches the disk: names are cleaned
// and kept inside the root, whiteouts are recognised and checked, overlay's private
// xattrs are never taken from an archive.
import { posix } from 'node:path';
import { invalidArgument } from '../../util/errors.js';

export const WHITEOUT_PREFIX = '.wh.';
export const OPAQUE_MARKER = '.wh..wh..opq';
/** aufs bookkeeping (.wh..wh.plnk, .wh..wh.aufs) that some old layers carry: skipped. */
const AUFS_META_PREFIX = '.wh..wh.';
const PATH_MAX = 4096;

export interface LayerLimits {
  /** Uncompressed bytes of one layer. */
  maxBytes: number;
  maxEntries: number;
  maxHeaderBytes: number;
}

export const DEFAULT_LAYER_LIMITS: LayerLimits = {
  maxBytes: 64 * 1024 ** 3,
  maxEntries: 4_000_000,
  maxHeaderBytes: 1024 * 1024,
};

/**
 * A member name as a path relative to the root: "./a//b/" → "a/b", "/etc/x" → "etc/x"
 * (absolute names are taken as relative to the root, like Docker). Returns "" for the
 * root itself. A name that climbs out of the root ("../x", "a/../../x") is refused.
 */
const SIMPLE_NAME = /^(?:\.\/)?(?:[^/.\0]|\.[^/.\0])[^\0]*$/;
const NEEDS_CLEANING = /\/\/|\/\.\.?(?:\/|$)/;

export function cleanName(name: string, what = 'entry'): string {
  // Most names are plain "a/b/c" or "./a/b/": skip the general path when nothing can be off.
  if (SIMPLE_NAME.test(name) && !NEEDS_CLEANING.test(name) && Buffer.byteLength(name) < PATH_MAX) {
    const start = name.startsWith('./') ? 2 : 0;
    return name.endsWith('/') ? name.slice(start, -1) : start ? name.slice(start) : name;
  }
  if (name.includes('\0')) throw invalidArgument(`${what} name contains NUL`);
  const parts: string[] = [];
  for (const part of name.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (parts.length === 0) throw invalidArgument(`${what} "${name.slice(0, 200)}" points outside the root`);
      parts.pop();
      continue;
    }
    parts.push(part);
  }
  const clean = parts.join('/');
  if (Buffer.byteLength(clean) >= PATH_MAX) throw invalidArgument(`${what} name longer than ${PATH_MAX} bytes`);
  return clean;
}

export type Whiteout =
  | { kind: 'none' }
  | { kind: 'skip' }
  | { kind: 'opaque'; dir: string }
  | { kind: 'whiteout'; path: string };

/** Classify a cleaned name: a plain entry, a whiteout of a sibling, an opaque marker. */
export function classifyWhiteout(path: string): Whiteout {
  const base = posix.basename(path);
  if (!base.startsWith(WHITEOUT_PREFIX)) return { kind: 'none' };
  const dir = posix.dirname(path);
  const parent = dir === '.' ? '' : dir;
  if (base === OPAQUE_MARKER) return { kind: 'opaque', dir: parent };
  if (base.startsWith(AUFS_META_PREFIX)) return { kind: 'skip' };
  const target = base.slice(WHITEOUT_PREFIX.length);
  if (target === '' || target === '.' || target === '..') throw invalidArgument(`invalid whiteout name "${path}"`);
  return { kind: 'whiteout', path: parent ? `${parent}/${target}` : target };
}

/** xattrs an archive may set: overlayfs's own (trusted.overlay.*, user.overlay.*) would let a layer forge whiteouts or redirects. */
export function allowedXattrs(x: ReadonlyMap<string, Buffer>): Map<string, Buffer> | undefined {
  if (x.size === 0) return undefined;
  const out = new Map<string, Buffer>();
  for (const [k, v] of x) if (!k.startsWith('trusted.overlay.') && !k.startsWith('user.overlay.')) out.set(k, v);
  return out.size ? out : undefined;
}
