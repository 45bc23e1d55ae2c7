// The Snapshotter role: named filesystem trees that *return mounts* instead of mounting
// (containerd's model). Whoever needs the tree — the layer applier, the container manager —
// mounts the returned list itself, so a snapshotter never owns a mount point.
import { invalidArgument } from '../util/errors.js';

/** One mount(2) call, fstab style. Paths in options are absolute. */
export interface Mount {
  type: string;
  source: string;
  options: string[];
}

/**
 * active: writable, can be committed; view: read-only, cannot be committed;
 * committed: immutable, the only kind that can be a parent.
 */
export type Kind = 'view' | 'active' | 'committed';

export interface SnapshotInfo {
  /** The snapshot's key (active, view) or name (committed). */
  key: string;
  parent?: string;
  kind: Kind;
  labels: Record<string, string>;
  created: Date;
  updated: Date;
}

/** Disk use of a snapshot's own layer: bytes of allocated blocks and distinct inodes. */
export interface Usage {
  size: number;
  inodes: number;
}

export interface SnapshotOpts {
  labels?: Record<string, string>;
}

export interface Snapshotter {
  readonly name: 'overlay' | 'native';
  /** A new active snapshot on top of the committed `parent` (or empty); its mounts. */
  prepare(key: string, parent?: string, opts?: SnapshotOpts): Promise<Mount[]>;
  /** A new read-only snapshot of the committed `parent` (or empty); its mounts. */
  view(key: string, parent?: string, opts?: SnapshotOpts): Promise<Mount[]>;
  /** The mounts of an existing active snapshot or view. */
  mounts(key: string): Promise<Mount[]>;
  /** Turn the active snapshot `key` into the committed snapshot `name`; `key` is gone after. */
  commit(name: string, key: string, opts?: SnapshotOpts): Promise<void>;
  /** Remove a snapshot without children. Unmount its mounts first. */
  remove(key: string): Promise<void>;
  stat(key: string): Promise<SnapshotInfo>;
  /** Replace the labels of a snapshot. */
  update(key: string, labels: Record<string, string>): Promise<SnapshotInfo>;
  usage(key: string): Promise<Usage>;
  walk(fn: (info: SnapshotInfo) => void | Promise<void>): Promise<void>;
  /** Problems found in the store, each prefixed "corrupt:" or "leftover:"; changes nothing. */
  check(): Promise<string[]>;
  close(): Promise<void>;
}

/**
 * Marks the rw bind of a parentless overlay snapshot. Such a bind looks exactly like a native
 * one, yet a layer unpacked into it becomes an overlay lowerdir later, so its whiteouts must be
 * in overlay form. An `x-` option is userspace-only by fstab convention; mountAll drops it.
 */
export const OVERLAY_STYLE_OPTION = 'x-berth.style=overlay';

export interface WritableDir {
  dir: string;
  /** overlay: whiteouts are 0:0 char devices and opaque xattrs; native: whiteouts are deletions. */
  style: 'overlay' | 'native';
}

/** The directory a layer is unpacked into for an active snapshot's mounts, without mounting. */
export function writableDir(mounts: readonly Mount[]): WritableDir {
  if (mounts.length !== 1) throw invalidArgument(`cannot unpack into ${mounts.length} mounts: want exactly one`);
  const m = mounts[0]!;
  if (m.type === 'overlay') {
    const upper = m.options.find((o) => o.startsWith('upperdir='));
    if (upper === undefined) throw invalidArgument('cannot unpack into a read-only overlay (no upperdir)');
    return { dir: upper.slice('upperdir='.length), style: 'overlay' };
  }
  if (m.type === 'bind' || m.options.includes('bind') || m.options.includes('rbind')) {
    if (m.options.includes('ro')) throw invalidArgument(`cannot unpack into a read-only bind of ${m.source}`);
    return { dir: m.source, style: m.options.includes(OVERLAY_STYLE_OPTION) ? 'overlay' : 'native' };
  }
  throw invalidArgument(`cannot unpack into a mount of type ${m.type}`);
}
