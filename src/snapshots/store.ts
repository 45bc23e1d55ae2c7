// What overlay and native snapshotters share: metadata, locking, key rules, the crash-safe
// order of directory and metadata changes, check(). A subclass decides only what goes into a
// snapshot's directory and which mounts expose it.
//
// Crash safety: a snapshot directory is built under a temporary name, renamed to its id,
// and only then recorded in metadata.json; removal drops the record first and the directory
// after. So at any SIGKILL the metadata refers only to complete directories, and anything
// under snapshots/ it does not refer to is garbage, removed by the next open.
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fsyncDir } from '../util/atomic.js';
import { conflict, internal, invalidArgument, notFound, unavailable } from '../util/errors.js';
import { StoreLock } from './lock.js';
import { fsError, isNoSpace } from '../util/fs-errors.js';
import { emptyMetadata, loadMetadata, parseMetadataText, readMetadataText, saveMetadata, saveMetadataNotDurable, toInfo, validateKey, validateLabels } from './metadata.js';
import type { Metadata, SnapshotRecord } from './metadata.js';
import { unmount } from './mount.js';
import { mountPointsUnder } from './mountinfo.js';
import type { Kind, Mount, SnapshotInfo, SnapshotOpts, Snapshotter, Usage } from './snapshotter.js';
import { diskUsage } from './usage.js';

export type NewKind = 'active' | 'view';

const q = (s: string): string => JSON.stringify(s.length > 128 ? `${s.slice(0, 128)}…` : s);
const now = (): string => new Date().toISOString();

export abstract class StoreSnapshotter implements Snapshotter {
  abstract readonly name: 'overlay' | 'native';
  readonly root: string;
  protected readonly snapshotsDir: string;
  private readonly metadataPath: string;
  private readonly lock: StoreLock;
  private closed = false;
  /** The last metadata read or written, with the text of the file it came from. */
  private cached: { text: string; meta: Metadata } | undefined;

  protected constructor(root: string) {
    this.root = resolve(root);
    this.snapshotsDir = join(this.root, 'snapshots');
    this.metadataPath = join(this.root, 'metadata.json');
    this.lock = new StoreLock(join(this.root, 'lock'));
  }

  /** Fill `dir` (a fresh directory under a temporary name) for a new snapshot on `parents`. */
  protected abstract populate(dir: string, kind: NewKind, parents: readonly string[]): Promise<void>;
  /** The mounts of the snapshot in `dir`; `parents` are the fs dirs of its chain, nearest first. */
  protected abstract mountsFor(dir: string, kind: NewKind, parents: readonly string[]): Mount[];
  /** Problems of snapshot `key`'s directory beyond a missing fs/, each "corrupt: …" or "leftover: …". */
  protected dirProblems(_key: string, _dir: string, _kind: Kind): string[] {
    return [];
  }
  /** Paths directly under the root (outside snapshots/) that a crash left behind. */
  protected rootLeftovers(): string[] {
    return [];
  }
  /** Longest parent chain a snapshot may have. */
  protected readonly maxParents: number = Number.MAX_SAFE_INTEGER;

  protected dirOf(id: number): string {
    return join(this.snapshotsDir, String(id));
  }

  /** Create the layout and remove what interrupted operations left. Subclasses' open() calls this. */
  protected async init(): Promise<void> {
    await mkdir(this.root, { recursive: true, mode: 0o711 });
    await mkdir(this.snapshotsDir, { recursive: true, mode: 0o700 });
    await this.lock.run(async () => {
      let meta = loadMetadata(this.metadataPath);
      if (meta === undefined) {
        // Metadata is written before any snapshot exists, so directories without it mean
        // the file was lost; deleting them all as "unreferenced" would be a guess.
        if (readdirSync(this.snapshotsDir).length > 0) {
          throw internal(`${this.metadataPath} is missing but ${this.snapshotsDir} is not empty; refusing to open`);
        }
        meta = emptyMetadata();
        saveMetadata(this.metadataPath, meta);
      }
      for (const path of [...this.unreferenced(meta), ...this.rootLeftovers(), ...this.lock.deadSideFiles()]) {
        // Not fatal: e.g. a `cp` orphaned by a killed process may still be writing into its
        // temporary tree. What stays is reported by check() and retried by the next open.
        await removeLeftover(path).catch(() => undefined);
      }
    });
  }

  prepare(key: string, parent?: string, opts: SnapshotOpts = {}): Promise<Mount[]> {
    return this.create('active', key, parent, opts);
  }

  view(key: string, parent?: string, opts: SnapshotOpts = {}): Promise<Mount[]> {
    return this.create('view', key, parent, opts);
  }

  async mounts(key: string): Promise<Mount[]> {
    validateKey(key);
    const meta = this.read();
    const rec = this.get(meta, key);
    if (rec.kind === 'committed') {
      throw invalidArgument(`snapshot ${q(key)} is committed and cannot be mounted: view or prepare a child of it`);
    }
    return this.mountsFor(this.dirOf(rec.id), rec.kind, this.parentChain(meta, rec.parent));
  }

  async commit(name: string, key: string, opts: SnapshotOpts = {}): Promise<void> {
    validateKey(name, 'snapshot name');
    validateKey(key);
    const labels = { ...opts.labels };
    validateLabels(labels);
    await this.mutate(async (meta) => {
      const rec = this.get(meta, key);
      if (rec.kind !== 'active') throw invalidArgument(`snapshot ${q(key)} is a ${rec.kind}: only active snapshots can be committed`);
      if (meta.snapshots.has(name)) throw conflict(`snapshot ${q(name)} already exists`);
      const usage = await diskUsage(join(this.dirOf(rec.id), 'fs'));
      // The directory's name (made by a non-durable prepare) must be on disk before a durable record names it.
      fsyncDir(this.snapshotsDir);
      const t = now();
      meta.snapshots.delete(key);
      meta.snapshots.set(name, { ...withParent(rec.id, 'committed', rec.parent), labels, created: t, updated: t, usage });
      saveMetadata(this.metadataPath, meta);
    });
  }

  async remove(key: string): Promise<void> {
    validateKey(key);
    await this.mutate(async (meta) => {
      const rec = this.get(meta, key);
      const children = [...meta.snapshots].filter(([, r]) => r.parent === key).map(([k]) => k);
      if (children.length > 0) {
        throw conflict(`cannot remove snapshot ${q(key)}: ${children.length} snapshot(s) depend on it (${children.slice(0, 3).map(q).join(', ')})`);
      }
      meta.snapshots.delete(key);
      try {
        if (rec.kind === 'committed') saveMetadata(this.metadataPath, meta);
        else await saveMetadataNotDurable(this.metadataPath, meta);
      } catch (err) {
        if (!isNoSpace(err)) throw err;
        // A full disk (often this very snapshot filled it, unpacking): free its space first,
        // then record the removal. Only a crash in between leaves a record without its dir.
        await rm(this.dirOf(rec.id), { recursive: true, force: true });
        try {
          saveMetadata(this.metadataPath, meta);
        } catch (again) {
          throw fsError(again, `removing snapshot ${q(key)}`);
        }
        return;
      }
      // The record is gone for good; a directory that fails to go is an unreferenced
      // leftover, which check() reports and the next open removes.
      await rm(this.dirOf(rec.id), { recursive: true, force: true }).catch(() => undefined);
    });
  }

  async stat(key: string): Promise<SnapshotInfo> {
    validateKey(key);
    return toInfo(key, this.get(this.read(), key));
  }

  async update(key: string, labels: Record<string, string>): Promise<SnapshotInfo> {
    validateKey(key);
    const copy = { ...labels };
    validateLabels(copy);
    return this.mutate(async (meta) => {
      const rec = this.get(meta, key);
      rec.labels = copy;
      rec.updated = now();
      saveMetadata(this.metadataPath, meta);
      return toInfo(key, rec);
    });
  }

  async usage(key: string): Promise<Usage> {
    validateKey(key);
    const rec = this.get(this.read(), key);
    if (rec.kind === 'view') return { size: 0, inodes: 0 };
    if (rec.kind === 'committed' && rec.usage) return { ...rec.usage };
    return diskUsage(join(this.dirOf(rec.id), 'fs'));
  }

  async walk(fn: (info: SnapshotInfo) => void | Promise<void>): Promise<void> {
    // Walks a snapshot of the metadata without the lock, so fn may call back into the store.
    const entries = [...this.read().snapshots].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    for (const [key, rec] of entries) await fn(toInfo(key, rec));
  }

  async check(): Promise<string[]> {
    this.ensureOpen();
    return this.lock.run(async () => {
      let meta: Metadata | undefined;
      try {
        meta = loadMetadata(this.metadataPath);
      } catch (err) {
        return [`corrupt: ${(err as Error).message}`];
      }
      if (meta === undefined) return [`corrupt: ${this.metadataPath} is missing`];
      return [
        ...this.recordProblems(meta),
        ...this.unreferenced(meta).map((p) => `leftover: ${p} is not referenced by metadata.json (removed on next open)`),
        ...[...this.rootLeftovers(), ...this.lock.deadSideFiles()].map((p) => `leftover: ${p} (removed on next open)`),
      ];
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.lock.idle();
  }

  private async create(kind: NewKind, key: string, parent: string | undefined, opts: SnapshotOpts): Promise<Mount[]> {
    validateKey(key);
    if (parent !== undefined) validateKey(parent, 'parent snapshot name');
    const labels = { ...opts.labels };
    validateLabels(labels);
    return this.mutate(async (meta) => {
      if (meta.snapshots.has(key)) throw conflict(`snapshot ${q(key)} already exists`);
      const parents = this.parentChain(meta, parent);
      const id = this.allocateId(meta);
      const dir = this.dirOf(id);
      await this.build(dir, kind, parents);
      const t = now();
      meta.snapshots.set(key, { ...withParent(id, kind, parent), labels, created: t, updated: t });
      meta.nextId = id + 1;
      try {
        // An active snapshot or view is durable once committed (commit writes durably).
        await saveMetadataNotDurable(this.metadataPath, meta);
      } catch (err) {
        await rm(dir, { recursive: true, force: true }).catch(() => undefined);
        throw err;
      }
      return this.mountsFor(dir, kind, parents);
    });
  }

  // Built under a temporary name so that a half-populated directory never carries an id.
  private async build(dir: string, kind: NewKind, parents: readonly string[]): Promise<void> {
    const tmp = join(this.snapshotsDir, `tmp-${randomBytes(6).toString('hex')}`);
    await mkdir(tmp, { mode: 0o700 });
    try {
      await this.populate(tmp, kind, parents);
      await rename(tmp, dir);
    } catch (err) {
      await rm(tmp, { recursive: true, force: true }).catch(() => undefined);
      throw err;
    }
  }

  // Another process may have crashed after creating snapshots/<nextId> but before recording
  // it; such a directory is garbage for the next open to remove, not an id to reuse now.
  private allocateId(meta: Metadata): number {
    let id = meta.nextId;
    while (existsSync(this.dirOf(id))) id++;
    return id;
  }

  /** The fs dirs of `parent` and its ancestors, nearest first. */
  private parentChain(meta: Metadata, parent: string | undefined): string[] {
    const dirs: string[] = [];
    for (let key = parent; key !== undefined; ) {
      const rec = meta.snapshots.get(key);
      if (rec === undefined) throw notFound(dirs.length === 0 ? `parent snapshot ${q(key)} does not exist` : `snapshot ${q(key)} in the parent chain is missing`);
      if (rec.kind !== 'committed') throw invalidArgument(`parent snapshot ${q(key)} is a${rec.kind === 'active' ? 'n' : ''} ${rec.kind} snapshot, not committed`);
      dirs.push(join(this.dirOf(rec.id), 'fs'));
      if (dirs.length > this.maxParents) {
        throw invalidArgument(`parent chain of ${q(parent!)} is too long: the ${this.name} snapshotter supports at most ${this.maxParents} layers`);
      }
      if (dirs.length > meta.snapshots.size) throw internal(`parent chain of ${q(parent!)} has a cycle`);
      key = rec.parent;
    }
    return dirs;
  }

  private get(meta: Metadata, key: string): SnapshotRecord {
    const rec = meta.snapshots.get(key);
    if (rec === undefined) throw notFound(`snapshot ${q(key)} does not exist`);
    return rec;
  }

  /**
   * The metadata as the file holds it now (replaced atomically, so reading it without the lock
   * sees a consistent state). Another process sharing the store may have replaced it, so the
   * file is read on every call, but parsed again only when its text changed: a daemon with many
   * containers would otherwise parse the same large file for every operation.
   */
  private read(): Metadata {
    this.ensureOpen();
    const text = readMetadataText(this.metadataPath);
    if (text === undefined) throw internal(`${this.metadataPath} is missing`);
    if (this.cached?.text === text) return this.cached.meta;
    const meta = parseMetadataText(this.metadataPath, text);
    this.cached = { text, meta };
    return meta;
  }

  // Under the lock. fn changes the metadata it is given before saving it, so that object is
  // taken out of the cache meanwhile (readers parse the file, and never see a change that is
  // not saved yet); it goes back, with the file's new text, once fn has saved it.
  private mutate<T>(fn: (meta: Metadata) => Promise<T>): Promise<T> {
    this.ensureOpen();
    return this.lock.run(async () => {
      const meta = this.read();
      const before = this.cached?.text;
      this.cached = undefined;
      const result = await fn(meta);
      const after = readMetadataText(this.metadataPath);
      if (after !== undefined && after !== before) this.cached = { text: after, meta };
      return result;
    });
  }

  private ensureOpen(): void {
    if (this.closed) throw unavailable(`the ${this.name} snapshotter at ${this.root} is closed`);
  }

  private unreferenced(meta: Metadata): string[] {
    const ids = new Set([...meta.snapshots.values()].map((r) => String(r.id)));
    return readdirSync(this.snapshotsDir)
      .filter((name) => !ids.has(name))
      .map((name) => join(this.snapshotsDir, name));
  }

  private recordProblems(meta: Metadata): string[] {
    const problems: string[] = [];
    const byId = new Map<number, string>();
    for (const [key, rec] of meta.snapshots) {
      const dir = this.dirOf(rec.id);
      const other = byId.get(rec.id);
      if (other !== undefined) problems.push(`corrupt: snapshots ${q(other)} and ${q(key)} share id ${rec.id}`);
      byId.set(rec.id, key);
      if (rec.id >= meta.nextId) problems.push(`corrupt: snapshot ${q(key)} has id ${rec.id} >= nextId ${meta.nextId}`);
      if (!isDir(join(dir, 'fs'))) problems.push(`corrupt: snapshot ${q(key)}: ${dir}/fs is missing`);
      else problems.push(...this.dirProblems(key, dir, rec.kind));
      if (rec.parent !== undefined) {
        const p = meta.snapshots.get(rec.parent);
        if (p === undefined) problems.push(`corrupt: snapshot ${q(key)}: parent ${q(rec.parent)} does not exist`);
        else if (p.kind !== 'committed') problems.push(`corrupt: snapshot ${q(key)}: parent ${q(rec.parent)} is not committed`);
      }
    }
    return problems;
  }
}

function withParent(id: number, kind: Kind, parent: string | undefined): Pick<SnapshotRecord, 'id' | 'kind' | 'parent'> {
  return parent === undefined ? { id, kind } : { id, kind, parent };
}

function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

// A crash can leave a probe or an operation's temporary tree still mounted; unmount before
// removing so the recursive remove never reaches through a mount into someone's files.
async function removeLeftover(path: string): Promise<void> {
  for (const point of mountPointsUnder(path)) await unmount(point, { detach: true });
  await rm(path, { recursive: true, force: true });
}
