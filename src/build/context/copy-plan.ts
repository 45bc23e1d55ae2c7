// Where COPY puts each source, by Docker's destination rules: the destination is relative
// to WORKDIR; with several sources it must end in "/"; a directory source copies its
// contents; a file goes into a destination that is (or ends like) a directory under its
// own name, and otherwise becomes the destination. Owners are reset (root, or --chown);
// --chmod and parent creation follow BuildKit, where those flags come from.
import { posix } from 'node:path';
import { invalidArgument } from '../../util/errors.js';
import { goClean } from './go-path.js';
import type { SourceMatch } from './sources.js';
import { baseName, type ContextEntry, type ContextEntryType } from './tree.js';

export interface CopyItem {
  /** Absolute, cleaned destination path ("/app/x"). */
  dest: string;
  type: ContextEntryType;
  mode: number;
  uid: number;
  gid: number;
  mtimeSec: number;
  mtimeNsec: number;
  /** Symlink target, verbatim. */
  linkname: string;
  devmajor: number;
  devminor: number;
  /** The context file whose bytes this item carries (files only). */
  source?: ContextEntry;
  /** Set when an earlier item of the plan is the same file: written as a hardlink to it. */
  hardlinkTo?: string;
  /** A missing parent directory of the destination, created (0755, the --chown owner). */
  created: boolean;
}

export interface CopyPlan {
  /** The destination as an absolute, cleaned path. */
  dest: string;
  /** In write order: every directory comes before what is in it. */
  items: CopyItem[];
}

export interface PlanOptions {
  /** The destination exists in the image as a directory. */
  destIsDir: boolean;
  workdir: string;
  chown?: { uid: number; gid: number };
  /** Mode for every copied file and directory (BuildKit --chmod); not for created parents or symlinks. */
  chmod?: number;
  /**
   * Whether a directory above the destination exists in the image. Those that do not are
   * created, as Docker's MkdirAll does. Without it, all are taken to exist: a header is
   * never written over a directory (or symlink) the image already has.
   */
  dirExists?: (absPath: string) => boolean;
  /** mtime of created directories (seconds); default now, as Docker. */
  createdMtimeSec?: number;
}

export const MULTIPLE_SOURCES_ERROR = 'When using COPY with more than one source file, the destination must be a directory and end with a /';

export function planCopy(matches: readonly SourceMatch[], dest: string, opts: PlanOptions): CopyPlan {
  // "." and ".../." name a directory as BuildKit reads them; the classic builder wants "/".
  const endsLikeDir = dest.endsWith('/') || dest === '.' || dest.endsWith('/.') || dest === '';
  const abs = dest.startsWith('/') ? goClean(dest) : goClean(posix.join('/', opts.workdir || '/', dest));
  if (matches.length > 1 && !endsLikeDir) throw invalidArgument(MULTIPLE_SOURCES_ERROR);
  const parentsMode = matches.some((m) => m.parentsPath !== undefined);
  const destDir = endsLikeDir || opts.destIsDir || parentsMode;
  const owner = opts.chown ?? { uid: 0, gid: 0 };
  const createdMtime = opts.createdMtimeSec ?? Math.floor(Date.now() / 1000);
  const items = new Map<string, CopyItem>();
  /** Which source each item came from: hardlinks are kept within one source, as Docker copies each source apart. */
  const origin = new Map<string, number>();
  let current = 0;

  const exists = (d: string): boolean => {
    if (d === '/') return true;
    if (d === abs) return opts.destIsDir;
    return opts.dirExists?.(d) ?? true;
  };
  /** The directory d and its missing parents (only d = the destination or above it). */
  const ensureDir = (d: string): void => {
    const chain: string[] = [];
    for (let p = d; p !== '/'; p = posix.dirname(p)) chain.push(p);
    for (const p of chain.reverse()) {
      if (items.has(p) || exists(p)) continue;
      items.set(p, { dest: p, type: 'dir', mode: 0o755, ...owner, mtimeSec: createdMtime, mtimeNsec: 0, linkname: '', devmajor: 0, devminor: 0, created: true });
    }
  };
  const add = (to: string, e: ContextEntry): void => {
    const old = items.get(to);
    if (old?.type === 'dir' && e.type !== 'dir') throw invalidArgument(`cannot replace directory ${to} with a file`);
    if (old && old.type !== 'dir' && e.type === 'dir') throw invalidArgument(`cannot copy a directory to non-directory ${to}`);
    // Same destination again: the later source wins, in the earlier one's place.
    origin.set(to, current);
    items.set(to, {
      dest: to,
      type: e.type,
      mode: e.type === 'symlink' ? 0o777 : (opts.chmod ?? e.mode) & 0o7777,
      ...owner,
      mtimeSec: e.mtimeSec,
      mtimeNsec: e.mtimeNsec,
      linkname: e.linkname,
      devmajor: e.devmajor,
      devminor: e.devminor,
      ...(e.type === 'file' ? { source: e } : {}),
      created: false,
    });
  };

  for (const [index, m] of matches.entries()) {
    current = index;
    let top: string;
    if (m.parentsPath !== undefined) {
      // --parents: the source's directories are recreated under the destination from the context.
      ensureDir(abs);
      top = m.parentsPath === '' ? abs : posix.join(abs, m.parentsPath);
      const names = m.parentsPath.split('/');
      let at = abs;
      m.parentDirs.forEach((d, i) => {
        at = posix.join(at, names[i]!);
        add(at, d);
      });
    } else if (m.entry.type === 'dir') {
      top = abs;
      ensureDir(posix.dirname(abs));
    } else {
      top = destDir ? posix.join(abs, baseName(m.path)) : abs;
      ensureDir(destDir ? abs : posix.dirname(abs));
    }
    // The destination directory keeps its own metadata when it already exists (Docker
    // never rewrites it); otherwise it is made from the source directory (BuildKit).
    const skipTop = m.entry.type === 'dir' && ((top === abs && opts.destIsDir) || top === '/');
    for (const it of m.items) {
      if (it.rel === '') {
        if (!skipTop) add(top, it.entry);
      } else add(posix.join(top, it.rel), it.entry);
    }
  }

  // Files that are one file in the context stay one file within a source: later names become hardlinks.
  const seen = new Map<string, string>();
  for (const it of items.values()) {
    if (it.type !== 'file' || !it.source) continue;
    const key = `${origin.get(it.dest)}:${it.source.inode}`;
    const first = seen.get(key);
    if (first === undefined) seen.set(key, it.dest);
    else it.hardlinkTo = first;
  }
  return { dest: abs, items: [...items.values()] };
}
