// berth's content-addressed blob store (containerd's local content store is the model).
//
//   blobs/<alg>/<hex>          immutable, verified, 0444
//   ingest/<sha256(ref)>/      ref, data, startedat, total?, expected?  (resumable)
//   meta/<alg>/<hex>.json      labels
//   leases/<id>.json           leases
//   locks/                     ingest-<key>.lock per ref, store.lock for gc
//
// A blob appears only by link(2) of a verified, fsynced ingest file, so nothing
// under blobs/ is ever partial. gc and everything that changes what gc reads
// (commit, labels, leases, delete) hold the store lock, so a blob being committed
// is never swept between getting its name and getting its labels.
import type { ReadStream } from 'node:fs';
import { link, mkdir, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { randomBytes } from 'node:crypto';
import { fsyncDir } from '../util/atomic.js';
import { conflict, errnoCode, internal, invalidArgument, notFound } from '../util/errors.js';
import { digestOf, parseDigest, type Digest } from '../util/digest.js';
import { listBlobs, lstatOrUndefined, openBlob } from './blob-files.js';
import { checkStore, verifyBlob, type VerifyResult } from './check.js';
import { fsError } from '../util/fs-errors.js';
import { collectGarbage } from './gc.js';
import { abortIngest, cleanIngests, listIngests } from './ingest-admin.js';
import { checkLabels, readLabels, writeLabels } from './labels.js';
import { checkLeaseId, checkSize, Layout } from './layout.js';
import { readLease, readLeases, writeLease } from './leases.js';
import { withLock } from '../util/lockfile.js';
import { checkExpected, openContentWriter, type OpenWriterOptions } from './open-writer.js';
import type { BlobInfo, Expected, GcResult, IngestStatus, Labels, Lease, Problem } from './types.js';
import type { ContentWriter } from './writer.js';

export type { BlobInfo, Expected, GcResult, IngestStatus, Labels, Lease, Problem } from './types.js';
export type { CommitOptions, ContentWriter } from './writer.js';
export type { OpenWriterOptions } from './open-writer.js';
export type { VerifyResult } from './check.js';
export { GC_REF_CONTENT_PREFIX, GC_ROOT_LABEL } from './labels.js';

export interface WriteOptions {
  labels?: Labels;
  /** Lease that protects the blob from gc from the moment it exists. */
  lease?: string;
}

export interface IngestStreamOptions extends WriteOptions {
  wait?: boolean;
  signal?: AbortSignal;
}

type Chunks = AsyncIterable<Uint8Array | string>;
/** Bytes from the start, or a function that opens the source at an offset (so an interrupted ingest resumes). */
export type IngestSource = Chunks | ((offset: number) => Chunks | Promise<Chunks>);

export interface LeaseOptions {
  expiresAt?: Date;
  labels?: Labels;
}

export class ContentStore {
  private readonly layout: Layout;

  constructor(root: string) {
    this.layout = new Layout(root);
  }

  get root(): string {
    return this.layout.root;
  }

  async init(): Promise<void> {
    try {
      for (const dir of this.layout.dirs()) await mkdir(dir, { recursive: true, mode: 0o711 });
    } catch (err) {
      throw fsError(err, `creating content store ${this.layout.root}`);
    }
  }

  /** Path of a blob (which may not exist); throws InvalidArgument for a bad digest. */
  blobPath(digest: Digest | string): string {
    return this.layout.blobPath(digest);
  }

  async info(digest: Digest | string): Promise<BlobInfo | undefined> {
    const d = parseDigest(digest).digest;
    const st = await lstatOrUndefined(this.layout.blobPath(d));
    if (!st) return undefined;
    if (!st.isFile()) throw internal(`blob ${d} is not a regular file`);
    return { digest: d, size: st.size, createdAt: st.mtime, labels: await readLabels(this.layout.metaPath(d)) };
  }

  async has(digest: Digest | string): Promise<boolean> {
    return (await this.info(digest)) !== undefined;
  }

  /** A whole small blob (manifest, config), re-verified: what is parsed is what was hashed. */
  async readBlob(digest: Digest | string, maxBytes: number): Promise<Buffer> {
    const d = parseDigest(digest).digest;
    checkSize(maxBytes, 'maxBytes');
    const { file, size } = await openBlob(this.layout.blobPath(d), d);
    try {
      if (size > maxBytes) throw invalidArgument(`blob ${d} is ${size} bytes, more than the limit of ${maxBytes}`);
      const data = await file.readFile();
      const got = digestOf(data, parseDigest(d).algorithm);
      if (got !== d) throw internal(`blob ${d} is corrupt: its content hashes to ${got}`);
      return data;
    } finally {
      await file.close();
    }
  }

  /** A stream of a blob, or of bytes start..end (inclusive, as fs.createReadStream). */
  async createReadStream(digest: Digest | string, range: { start?: number; end?: number } = {}): Promise<ReadStream> {
    const d = parseDigest(digest).digest;
    if (range.start !== undefined) checkSize(range.start, 'start');
    if (range.end !== undefined) checkSize(range.end, 'end');
    if (range.start !== undefined && range.end !== undefined && range.end < range.start) {
      throw invalidArgument(`invalid range ${range.start}-${range.end} of blob ${d}`);
    }
    const { file } = await openBlob(this.layout.blobPath(d), d);
    return file.createReadStream({ ...range, autoClose: true });
  }

  openWriter(ref: string, opts: OpenWriterOptions = {}): Promise<ContentWriter> {
    return openContentWriter(this.layout, ref, opts, (file, digest, extra) => this.publish(file, digest, extra));
  }

  async writeBlob(data: Uint8Array, expected?: Expected, labels?: Labels, opts: { lease?: string } = {}): Promise<Digest> {
    const exp = checkExpected(expected);
    const digest = digestOf(data, exp.digest ? parseDigest(exp.digest).algorithm : 'sha256');
    if (exp.size !== undefined && exp.size !== data.length) {
      throw invalidArgument(`size mismatch for blob ${digest}: expected ${exp.size} bytes, got ${data.length}`);
    }
    if (exp.digest !== undefined && exp.digest !== digest) {
      throw invalidArgument(`digest mismatch for blob: expected ${exp.digest}, got ${digest}`);
    }
    const extra = writeOptions(labels, opts.lease);
    if (await this.adoptExisting(digest, extra)) return digest;
    const ref = `write-${digest}-${randomBytes(6).toString('hex')}`;
    const w = await this.openWriter(ref, { expected: { digest, size: data.length } });
    try {
      await w.write(data);
      return await w.commit(extra);
    } catch (err) {
      // Nobody will resume a random ref; drop it whether the writer is still open or not.
      await w.abort();
      await this.abortIngest(ref).catch(() => undefined);
      throw err;
    }
  }

  /**
   * Ingest a stream, hashing as it goes. A failing source leaves a resumable ingest
   * (open the same ref again); a verification failure or a full disk leaves none.
   */
  async ingestStream(ref: string, source: IngestSource, expected?: Expected, opts: IngestStreamOptions = {}): Promise<{ digest: Digest; size: number }> {
    const exp = checkExpected(expected);
    const extra = writeOptions(opts.labels, opts.lease);
    if (exp.digest && (await this.adoptExisting(exp.digest, extra))) {
      if (typeof source !== 'function') destroy(source);
      const size = (await this.info(exp.digest))?.size ?? exp.size ?? 0;
      return { digest: exp.digest, size };
    }
    const w = await this.openWriter(ref, { expected: exp, ...(opts.wait ? { wait: true } : {}), ...(opts.signal ? { signal: opts.signal } : {}) });
    try {
      await pump(w, source);
    } catch (err) {
      await w.close().catch(() => undefined); // no-op if a verification failure already discarded it
      throw err;
    }
    const size = w.offset;
    return { digest: await w.commit(extra), size };
  }

  listIngests(): Promise<IngestStatus[]> {
    return listIngests(this.layout);
  }

  abortIngest(ref: string): Promise<void> {
    return abortIngest(this.layout, ref);
  }

  /** Remove ingests nobody holds that were last written more than olderThanMs ago; returns their refs. */
  cleanIngests(olderThanMs: number): Promise<string[]> {
    return cleanIngests(this.layout, checkSize(olderThanMs, 'olderThanMs'));
  }

  /** Replace a blob's labels (an empty object removes them). */
  async setLabels(digest: Digest | string, labels: Labels): Promise<void> {
    const d = parseDigest(digest).digest;
    const clean = checkLabels(labels);
    await this.withStoreLock(async () => {
      if (!(await lstatOrUndefined(this.layout.blobPath(d)))) throw notFound(`blob ${d} not found`);
      await writeLabels(this.layout.metaPath(d), clean);
    });
  }

  async createLease(id: string, opts: LeaseOptions = {}): Promise<Lease> {
    const path = this.layout.leasePath(id);
    const lease: Lease = { id, createdAt: new Date(), labels: checkLabels(opts.labels ?? {}), resources: [] };
    if (opts.expiresAt !== undefined) {
      if (Number.isNaN(opts.expiresAt.getTime())) throw invalidArgument(`lease ${id}: invalid expiry date`);
      lease.expiresAt = opts.expiresAt;
    }
    await this.withStoreLock(async () => {
      if (await lstatOrUndefined(path)) throw conflict(`lease ${id} already exists`);
      writeLease(path, lease);
    });
    return lease;
  }

  /** Protect a blob (which need not exist yet: a pull leases what it is about to write). */
  async addLeaseResource(id: string, digest: Digest | string): Promise<void> {
    const d = parseDigest(digest).digest;
    checkLeaseId(id);
    await this.withStoreLock(() => this.addToLease(id, d));
  }

  async deleteLease(id: string): Promise<void> {
    const path = this.layout.leasePath(id);
    await this.withStoreLock(async () => {
      try {
        await unlink(path);
      } catch (err) {
        if (errnoCode(err) === 'ENOENT') throw notFound(`lease ${id} not found`, err);
        throw fsError(err, `deleting lease ${id}`);
      }
    });
  }

  async listLeases(): Promise<Lease[]> {
    return (await readLeases(this.layout.leases)).leases;
  }

  async delete(digest: Digest | string): Promise<void> {
    const d = parseDigest(digest).digest;
    const path = this.layout.blobPath(d);
    await this.withStoreLock(async () => {
      try {
        await unlink(path);
      } catch (err) {
        if (errnoCode(err) === 'ENOENT') throw notFound(`blob ${d} not found`, err);
        throw fsError(err, `deleting blob ${d}`);
      }
      await writeLabels(this.layout.metaPath(d), {});
      fsyncDir(dirname(path));
    });
  }

  async *walk(): AsyncIterable<BlobInfo> {
    for (const { digest } of await listBlobs(this.layout)) {
      const info = await this.info(digest).catch(() => undefined); // a non-file is check()'s to report
      if (info) yield info;
    }
  }

  async verify(digest: Digest | string): Promise<VerifyResult> {
    return verifyBlob(this.layout, parseDigest(digest).digest);
  }

  /** Everything wrong or left over in the store; changes nothing. */
  check(): Promise<Problem[]> {
    return checkStore(this.layout);
  }

  async gc(opts: { roots: Iterable<Digest | string>; dryRun?: boolean }): Promise<GcResult> {
    const roots = [...opts.roots].map((r) => parseDigest(r).digest);
    return this.withStoreLock(() => collectGarbage(this.layout, roots, opts.dryRun ?? false));
  }

  private withStoreLock<T>(fn: () => Promise<T>): Promise<T> {
    // In-process callers queue in memory and hand over at once instead of polling the file lock.
    return withLock(
      this.layout.storeLock(),
      { wait: true, busy: (h) => conflict(`content store ${this.layout.root} is locked by pid ${h.pid}`) },
      fn,
    );
  }

  /** The commit's last step: name the verified file in blobs/, then its labels and lease. */
  private publish(file: string, digest: Digest, extra: WriteOptions): Promise<void> {
    return this.withStoreLock(async () => {
      if (extra.lease !== undefined) await this.requireLease(extra.lease);
      const target = this.layout.blobPath(digest);
      try {
        await link(file, target);
        fsyncDir(dirname(target));
      } catch (err) {
        // Same bytes under the same name: the blob is already here, nothing to do.
        if (errnoCode(err) !== 'EEXIST') throw fsError(err, `committing blob ${digest}`);
      }
      await this.attach(digest, extra);
    });
  }

  /** If the blob exists, give it the labels and lease and say so (all under the store lock, so gc cannot interleave). */
  private adoptExisting(digest: Digest, extra: WriteOptions): Promise<boolean> {
    return this.withStoreLock(async () => {
      const st = await lstatOrUndefined(this.layout.blobPath(digest));
      if (!st?.isFile()) return false;
      if (extra.lease !== undefined) await this.requireLease(extra.lease);
      await this.attach(digest, extra);
      return true;
    });
  }

  private async attach(digest: Digest, extra: WriteOptions): Promise<void> {
    if (extra.labels && Object.keys(extra.labels).length > 0) {
      const meta = this.layout.metaPath(digest);
      await writeLabels(meta, { ...(await readLabels(meta)), ...extra.labels });
    }
    if (extra.lease !== undefined) await this.addToLease(extra.lease, digest);
  }

  private async requireLease(id: string): Promise<Lease> {
    const lease = await readLease(this.layout.leasePath(id));
    if (!lease) throw notFound(`lease ${id} not found`);
    return lease;
  }

  /** Caller holds the store lock. */
  private async addToLease(id: string, digest: Digest): Promise<void> {
    const lease = await this.requireLease(id);
    if (lease.resources.includes(digest)) return;
    lease.resources.push(digest);
    writeLease(this.layout.leasePath(id), lease);
  }
}

function writeOptions(labels: Labels | undefined, lease: string | undefined): WriteOptions {
  const out: WriteOptions = {};
  if (labels !== undefined) out.labels = checkLabels(labels);
  if (lease !== undefined) out.lease = checkLeaseId(lease);
  return out;
}

async function pump(w: ContentWriter, source: IngestSource): Promise<void> {
  let chunks: Chunks;
  if (typeof source === 'function') {
    chunks = await source(w.offset);
  } else {
    // A plain stream starts at byte 0, so earlier bytes of this ref cannot be kept.
    if (w.offset > 0) await w.truncate();
    chunks = source;
  }
  // for-await pulls one chunk at a time: the source waits while we write (backpressure).
  for await (const chunk of chunks) await w.write(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
}

function destroy(source: Chunks): void {
  const d = (source as { destroy?: () => void }).destroy;
  if (typeof d === 'function') d.call(source);
}
