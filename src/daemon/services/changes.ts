// docker diff: what a container changed in its filesystem (Kind 0 modified, 1 added, 2
// deleted), read from its snapshot rather than its mounted root.
//
// overlay: the upper dir is the change. berth-unpack scans it (nothing followed); a 0:0
// character device is a deletion, an opaque directory replaced whatever the lower layers had
// there (their entries that the upper lacks are deleted). Whether a path is "modified" or
// "added" depends on the lower layers, looked up with overlayfs's rules (top layer first, a
// whiteout or a non-directory hides what is below). The parent of an added or deleted path is
// listed as modified, as moby's collectChanges does.
// native: `berth-unpack diff <lower> <upper>` compares two full trees and reports parents first.
//
// Lower layers are committed snapshots: immutable, and the container cannot write them. They
// are still looked up one component at a time with lstat, a component used only once lstat
// showed it to be a real directory, so a symlink in an image never leads the lookup elsewhere.
// The upper dir, which the container writes, is only read by berth-unpack.
import { lstat, readdir } from 'node:fs/promises';
import type { BigIntStats } from 'node:fs';
import { join, posix } from 'node:path';
import type { FilesystemChange } from '../../oci/engine-api.js';
import { invalidArgument } from '../../util/errors.js';
import { OVERLAY_STYLE_OPTION, type Mount } from '../../snapshots/snapshotter.js';
import { Op } from '../../images/layer/records.js';
import { RecordReader, type RootRecord } from './root-access.js';

const MODIFIED = 0;
const ADDED = 1;
const DELETED = 2;

export type ChangesSource =
  /** An overlay snapshot: its upper dir and its lower dirs, the top one first (none: the first layer). */
  | { style: 'overlay'; upper: string; lowers: string[] }
  /** A native snapshot (a full copy) and its parent's tree (none: an empty parent). */
  | { style: 'native'; upper: string; lower?: string };

async function lstatOrUndefined(path: string): Promise<BigIntStats | undefined> {
  try {
    return await lstat(path, { bigint: true });
  } catch {
    return undefined;
  }
}

const isWhiteout = (st: BigIntStats): boolean => st.isCharacterDevice() && st.rdev === 0n;

/**
 * The layers in which each prefix of parts is a directory visible through the ones above,
 * for the whole path but its last component; [] when the path's parent does not exist.
 */
async function visibleParentLayers(lowers: readonly string[], parts: readonly string[]): Promise<string[]> {
  let layers = [...lowers];
  for (let i = 0; i < parts.length - 1 && layers.length > 0; i++) {
    const rel = parts.slice(0, i + 1).join('/');
    const next: string[] = [];
    for (const layer of layers) {
      const st = await lstatOrUndefined(join(layer, rel));
      if (!st) continue;
      if (!st.isDirectory()) break; // a whiteout or a non-directory hides everything below
      next.push(layer);
    }
    layers = next;
  }
  return layers;
}

/** The entry the lower layers show at parts (top-most wins), or undefined. */
async function lookUpInLowers(lowers: readonly string[], parts: readonly string[]): Promise<BigIntStats | undefined> {
  const rel = parts.join('/');
  for (const layer of await visibleParentLayers(lowers, parts)) {
    const st = await lstatOrUndefined(join(layer, rel));
    if (st) return isWhiteout(st) ? undefined : st;
  }
  return undefined;
}

/** The names a directory has in the lower layers (what an opaque upper directory hides). */
async function lowerChildren(lowers: readonly string[], parts: readonly string[]): Promise<string[]> {
  const rel = parts.join('/');
  const hidden = new Set<string>();
  const visible = new Set<string>();
  for (const layer of await visibleParentLayers(lowers, [...parts, ''])) {
    let names: string[];
    try {
      names = await readdir(join(layer, rel));
    } catch {
      continue;
    }
    for (const name of names) {
      if (hidden.has(name) || visible.has(name)) continue;
      const st = await lstatOrUndefined(join(layer, rel, name));
      if (st && isWhiteout(st)) hidden.add(name);
      else if (st) visible.add(name);
    }
  }
  return [...visible].sort();
}

/** moby's sameFsTime: equal, or equal seconds where one side has no sub-second part. */
function sameTime(r: RootRecord, st: BigIntStats): boolean {
  const lowerSec = st.mtimeNs / 1_000_000_000n;
  const lowerNsec = st.mtimeNs % 1_000_000_000n;
  if (BigInt(r.mtimeSec) !== lowerSec) return false;
  return BigInt(r.mtimeNsec) === lowerNsec || r.mtimeNsec === 0 || lowerNsec === 0n;
}

const isDirRecord = (r: RootRecord): boolean => r.op === Op.Dir;
const isOpaque = (r: RootRecord): boolean => isDirRecord(r) && r.xattrs.get('trusted.overlay.opaque')?.toString() === 'y';
const isUpperWhiteout = (r: RootRecord): boolean => r.op === Op.Char && r.size === 0n;

async function overlayChanges(upper: string, lowers: readonly string[]): Promise<FilesystemChange[]> {
  const changes: FilesystemChange[] = [];
  const changedDirs = new Set<string>();
  const upperPaths = new Set<string>();
  const opaque: Array<{ at: number; path: string; hidden: string[] }> = [];
  const reader = new RecordReader(['scan', upper], upper);
  try {
    for (let r = await reader.next(); r; r = await reader.next()) {
      const path = `/${r.path}`;
      const parts = r.path.split('/');
      upperPaths.add(path);
      let kind: FilesystemChange['Kind'];
      let hidden: string[] | undefined;
      if (isUpperWhiteout(r)) {
        kind = DELETED;
      } else {
        const below = await lookUpInLowers(lowers, parts);
        // A directory that is in the upper dir only because something below it changed is not itself a change.
        if (below && isDirRecord(r) && below.isDirectory() && !isOpaque(r) && Number(below.mode & 0o7777n) === r.mode && sameTime(r, below)) continue;
        kind = below ? MODIFIED : ADDED;
        hidden = below && isOpaque(r) && below.isDirectory() ? await lowerChildren(lowers, parts) : undefined;
      }
      if (isDirRecord(r)) changedDirs.add(path);
      const parent = posix.dirname(path);
      if (kind !== MODIFIED && parent !== '/' && !changedDirs.has(parent)) {
        changes.push({ Path: parent, Kind: MODIFIED });
        changedDirs.add(parent);
      }
      changes.push({ Path: path, Kind: kind });
      if (hidden) opaque.push({ at: changes.length, path, hidden });
    }
  } finally {
    reader.close();
  }
  // What an opaque directory hid from the lower layers is gone, unless the upper has it again.
  for (const o of opaque.reverse()) {
    const gone = o.hidden.map((n) => `${o.path}/${n}`).filter((p) => !upperPaths.has(p));
    changes.splice(o.at, 0, ...gone.map((p): FilesystemChange => ({ Path: p, Kind: DELETED })));
  }
  return changes;
}

async function nativeChanges(upper: string, lower: string | undefined): Promise<FilesystemChange[]> {
  const changes: FilesystemChange[] = [];
  const reader = lower ? new RecordReader(['diff', lower, upper], upper) : new RecordReader(['scan', upper], upper);
  try {
    for (let r = await reader.next(); r; r = await reader.next()) {
      const path = `/${r.path}`;
      if (r.op === Op.Whiteout) {
        changes.push({ Path: path, Kind: DELETED });
        continue;
      }
      const below = lower ? await lookUpInLowers([lower], r.path.split('/')) : undefined;
      changes.push({ Path: path, Kind: below ? MODIFIED : ADDED });
    }
  } finally {
    reader.close();
  }
  return changes;
}

/** The changes of a container's snapshot, in walk order (parents first). */
export async function containerChanges(source: ChangesSource): Promise<FilesystemChange[]> {
  return source.style === 'overlay' ? overlayChanges(source.upper, source.lowers) : nativeChanges(source.upper, source.lower);
}

/** The source of a snapshot's changes from its mounts (and, for native, its parent's view mounts). */
export function changesSource(mounts: readonly Mount[], parentMounts?: readonly Mount[]): ChangesSource {
  if (mounts.length !== 1) throw invalidArgument(`cannot diff a snapshot of ${mounts.length} mounts: want exactly one`);
  const m = mounts[0]!;
  const option = (key: string): string | undefined => m.options.find((o) => o.startsWith(`${key}=`))?.slice(key.length + 1);
  if (m.type === 'overlay') {
    const upper = option('upperdir');
    if (upper === undefined) throw invalidArgument('cannot diff a read-only overlay (no upperdir)');
    return { style: 'overlay', upper, lowers: (option('lowerdir') ?? '').split(':').filter((d) => d !== '') };
  }
  if (m.type !== 'bind' && !m.options.includes('bind') && !m.options.includes('rbind')) {
    throw invalidArgument(`cannot diff a mount of type ${m.type}`);
  }
  // A parentless overlay snapshot is a bind of its (upper) dir: everything in it was added.
  if (m.options.includes(OVERLAY_STYLE_OPTION)) return { style: 'overlay', upper: m.source, lowers: [] };
  const parent = parentMounts?.[0];
  if (parentMounts && (parentMounts.length !== 1 || (parent!.type !== 'bind' && !parent!.options.includes('rbind')))) {
    throw invalidArgument('the parent of a native snapshot must be one bind mount');
  }
  return parent ? { style: 'native', upper: m.source, lower: parent.source } : { style: 'native', upper: m.source };
}

/**
 * GET /containers/{id}/changes from the snapshot's mounts. A native snapshot is a full copy:
 * pass its parent's view mounts (as src/images/import.ts does for commit); without them every
 * entry counts as added.
 */
export async function changesFromMounts(mounts: Mount[], parentMounts?: Mount[]): Promise<FilesystemChange[]> {
  return containerChanges(changesSource(mounts, parentMounts));
}
