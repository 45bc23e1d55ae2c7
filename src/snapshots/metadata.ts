// A snapshot store's metadata.json: key → {id, kind, parent, labels, times}. Each write
// replaces the whole file atomically, so any reader — or a process opening the store after
// a crash — sees either the state before an operation or the state after it.
import { readFileSync } from 'node:fs';
import { writeFileAtomic, writeFileAtomicAsync } from '../util/atomic.js';
import { errnoCode, internal, invalidArgument } from '../util/errors.js';
import type { Kind, SnapshotInfo, Usage } from './snapshotter.js';

export interface SnapshotRecord {
  /** Names the directory snapshots/<id>; numeric so overlay lowerdir lists stay short. */
  id: number;
  kind: Kind;
  parent?: string;
  labels: Record<string, string>;
  created: string;
  updated: string;
  /** Measured once at commit: a committed layer never changes. */
  usage?: Usage;
}

export interface Metadata {
  nextId: number;
  // A Map, not an object: keys are arbitrary strings such as "__proto__".
  snapshots: Map<string, SnapshotRecord>;
}

interface MetadataFile {
  version: 1;
  nextId: number;
  snapshots: Record<string, SnapshotRecord>;
}

const MAX_KEY_LENGTH = 1024;
// containerd's bound for one label (key plus value).
const MAX_LABEL_LENGTH = 4096;
const KINDS: readonly string[] = ['view', 'active', 'committed'];

export function emptyMetadata(): Metadata {
  return { nextId: 1, snapshots: new Map() };
}

/** The store's metadata, or undefined when the file does not exist yet. */
export function loadMetadata(path: string): Metadata | undefined {
  const text = readMetadataText(path);
  return text === undefined ? undefined : parseMetadataText(path, text);
}

/** The file's text; undefined when it does not exist. */
export function readMetadataText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw err;
  }
}

export function parseMetadataText(path: string, text: string): Metadata {
  let file: unknown;
  try {
    file = JSON.parse(text);
  } catch (err) {
    throw internal(`${path} is corrupt: ${String(err)}`, err);
  }
  return parseMetadata(path, file);
}

function parseMetadata(path: string, file: unknown): Metadata {
  const bad = (why: string): Error => internal(`${path} is corrupt: ${why}`);
  if (typeof file !== 'object' || file === null) throw bad('not an object');
  const f = file as Partial<MetadataFile>;
  if (f.version !== 1) throw bad(`unknown version ${String(f.version)}`);
  if (!Number.isSafeInteger(f.nextId) || f.nextId! < 1) throw bad('bad nextId');
  if (typeof f.snapshots !== 'object' || f.snapshots === null) throw bad('no snapshots');
  const snapshots = new Map<string, SnapshotRecord>();
  for (const [key, rec] of Object.entries(f.snapshots)) {
    const why = recordProblem(rec);
    if (why) throw bad(`snapshot ${JSON.stringify(key)}: ${why}`);
    snapshots.set(key, rec);
  }
  return { nextId: f.nextId!, snapshots };
}

function recordProblem(rec: unknown): string | undefined {
  if (typeof rec !== 'object' || rec === null) return 'not an object';
  const r = rec as Partial<SnapshotRecord>;
  if (!Number.isSafeInteger(r.id) || r.id! < 1) return 'bad id';
  if (typeof r.kind !== 'string' || !KINDS.includes(r.kind)) return 'bad kind';
  if (r.parent !== undefined && typeof r.parent !== 'string') return 'bad parent';
  if (typeof r.labels !== 'object' || r.labels === null) return 'bad labels';
  if (!Object.values(r.labels).every((v) => typeof v === 'string')) return 'bad labels';
  if (typeof r.created !== 'string' || typeof r.updated !== 'string') return 'bad times';
  return undefined;
}

/**
 * Replace the file atomically. `durable: false` skips the fsyncs: for containers' active
 * snapshots and views, which a power loss may forget (their directories are then
 * unreferenced leftovers the next open removes); committed layers are always durable.
 */
export function saveMetadata(path: string, meta: Metadata, durable = true): void {
  writeFileAtomic(path, metadataText(meta), 0o600, { durable });
}

/** saveMetadata(…, false) on the thread pool, for the container snapshots a daemon makes and drops. */
export function saveMetadataNotDurable(path: string, meta: Metadata): Promise<void> {
  return writeFileAtomicAsync(path, metadataText(meta), 0o600);
}

function metadataText(meta: Metadata): string {
  const file: MetadataFile = { version: 1, nextId: meta.nextId, snapshots: Object.fromEntries(meta.snapshots) };
  return `${JSON.stringify(file)}\n`;
}

export function validateKey(key: unknown, what = 'snapshot key'): asserts key is string {
  if (typeof key !== 'string' || key === '') throw invalidArgument(`invalid ${what}: must be a non-empty string`);
  if (key.includes('\0')) throw invalidArgument(`invalid ${what} ${JSON.stringify(key.slice(0, 64))}: contains NUL`);
  if (key.length > MAX_KEY_LENGTH) throw invalidArgument(`invalid ${what}: longer than ${MAX_KEY_LENGTH} characters`);
}

export function validateLabels(labels: Record<string, string>): void {
  for (const [k, v] of Object.entries(labels)) {
    if (k === '' || typeof v !== 'string') throw invalidArgument(`invalid label ${JSON.stringify(k)}: want a non-empty key and a string value`);
    if (k.length + v.length > MAX_LABEL_LENGTH) throw invalidArgument(`label ${JSON.stringify(k.slice(0, 64))} is longer than ${MAX_LABEL_LENGTH} characters`);
  }
}

export function toInfo(key: string, rec: SnapshotRecord): SnapshotInfo {
  const info: SnapshotInfo = {
    key,
    kind: rec.kind,
    labels: { ...rec.labels },
    created: new Date(rec.created),
    updated: new Date(rec.updated),
  };
  if (rec.parent !== undefined) info.parent = rec.parent;
  return info;
}
