// One ingest in progress: bytes go to ingest/<key>/data and through a hash;
// commit verifies size and digest before anything reaches blobs/.
import { chmod, utimes, type FileHandle } from 'node:fs/promises';
import { createHash, type Hash } from 'node:crypto';
import { conflict, invalidArgument, unavailable } from '../util/errors.js';
import { parseDigest, type Digest, type DigestAlgorithm } from '../util/digest.js';
import { fsError, isNoSpace } from '../util/fs-errors.js';
import { dataPath, hashFile, removeIngest, type IngestExpected, type IngestState } from './ingest.js';
import type { FileLock } from '../util/lockfile.js';
import { checkLabels } from './labels.js';
import { checkLeaseId, checkSize } from './layout.js';
import type { IngestStatus, Labels } from './types.js';

export interface CommitOptions {
  size?: number;
  digest?: Digest | string;
  labels?: Labels;
  /** Add the blob to this lease in the same step that makes it visible, so gc cannot take it first. */
  lease?: string;
}

/** The store's half of a commit: make the verified file a blob (under the store lock). */
export type Publish = (file: string, digest: Digest, opts: { labels?: Labels; lease?: string }) => Promise<void>;

export interface WriterParts {
  ref: string;
  dir: string;
  lock: FileLock;
  file: FileHandle;
  hash: Hash;
  algorithm: DigestAlgorithm;
  state: IngestState;
  publish: Publish;
}

type Phase = 'open' | 'committed' | 'aborted' | 'closed';

export class ContentWriter {
  readonly ref: string;
  readonly startedAt: Date;
  private readonly dir: string;
  private readonly lock: FileLock;
  private readonly file: FileHandle;
  private readonly publish: Publish;
  private readonly expected: IngestExpected;
  private readonly algorithm: DigestAlgorithm;
  private hash: Hash;
  private written: number;
  private updatedAt: Date;
  private phase: Phase = 'open';
  private busy = false;

  constructor(p: WriterParts) {
    this.ref = p.ref;
    this.dir = p.dir;
    this.lock = p.lock;
    this.file = p.file;
    this.hash = p.hash;
    this.algorithm = p.algorithm;
    this.publish = p.publish;
    this.expected = p.state.expected;
    this.written = p.state.offset;
    this.startedAt = p.state.startedAt;
    this.updatedAt = p.state.updatedAt;
  }

  /** Bytes held so far; a resumed ingest starts here (e.g. an HTTP Range start). */
  get offset(): number {
    return this.written;
  }

  /** Digest of the bytes so far, in the algorithm of the expected digest (sha256 without one). */
  digest(): Digest {
    return `${this.algorithm}:${this.hash.copy().digest('hex')}`;
  }

  status(): IngestStatus {
    return {
      ref: this.ref,
      offset: this.written,
      startedAt: this.startedAt,
      updatedAt: this.updatedAt,
      expected: { ...this.expected },
      lockedBy: process.pid,
    };
  }

  async write(chunk: Uint8Array): Promise<void> {
    this.enter('write');
    try {
      const limit = this.expected.size;
      if (limit !== undefined && this.written + chunk.length > limit) {
        await this.discard();
        throw invalidArgument(`size mismatch for ${this.ref}: more than the expected ${limit} bytes`);
      }
      await this.writeAll(chunk);
    } finally {
      this.busy = false;
    }
  }

  /** Start over from byte 0 (a source that cannot resume). */
  async truncate(): Promise<void> {
    this.enter('truncate');
    try {
      await this.file.truncate(0);
      this.hash = createHash(this.algorithm);
      this.written = 0;
    } catch (err) {
      throw fsError(err, `truncating ${this.ref}`);
    } finally {
      this.busy = false;
    }
  }

  async commit(opts: CommitOptions = {}): Promise<Digest> {
    this.enter('commit');
    try {
      // Caller mistakes are reported before anything is verified, so they cost no data.
      if (opts.labels !== undefined) checkLabels(opts.labels);
      if (opts.lease !== undefined) checkLeaseId(opts.lease);
      const digest = await this.verify(opts);
      await this.seal();
      // Someone broke our lock believing us dead: they own the ingest now.
      if (!(await this.lock.held())) {
        this.phase = 'closed';
        throw conflict(`ingest ${this.ref} was taken over by another process`);
      }
      await this.publishOrKeep(digest, opts);
      this.phase = 'committed';
      // The blob is in; a leftover ingest is only litter (resume and cleanIngests drop it).
      await removeIngest(this.dir).catch(() => undefined);
      await this.lock.release();
      return digest;
    } finally {
      this.busy = false;
    }
  }

  /** Delete the ingest. */
  async abort(): Promise<void> {
    if (this.phase !== 'open') return;
    await this.discard();
  }

  /** Release the ref, keeping the bytes so a later writer resumes. */
  async close(): Promise<void> {
    if (this.phase !== 'open') return;
    this.phase = 'closed';
    try {
      await this.file.sync();
    } finally {
      await this.file.close().catch(() => undefined);
      await this.lock.release();
    }
  }

  private enter(op: string): void {
    if (this.phase !== 'open') throw conflict(`cannot ${op} ${this.ref}: the writer is ${this.phase}`);
    if (this.busy) throw conflict(`cannot ${op} ${this.ref}: another operation on this writer is still running`);
    this.busy = true;
  }

  private async writeAll(chunk: Uint8Array): Promise<void> {
    try {
      for (let done = 0; done < chunk.length; ) {
        const { bytesWritten } = await this.file.write(chunk, done, chunk.length - done, this.written + done);
        done += bytesWritten;
      }
    } catch (err) {
      // A full disk ends the ingest (no half blob to resume into a full disk); other
      // failures keep the bytes: a resume re-hashes whatever reached the file.
      if (isNoSpace(err)) {
        await this.discard();
        throw unavailable(`no space left on device while writing ${this.ref}`, err);
      }
      await this.close().catch(() => undefined);
      throw fsError(err, `writing ${this.ref}`);
    }
    this.hash.update(chunk);
    this.written += chunk.length;
    this.updatedAt = new Date();
  }

  private async verify(opts: CommitOptions): Promise<Digest> {
    const size = opts.size ?? this.expected.size;
    if (size !== undefined) checkSize(size, 'commit size');
    const want = opts.digest ?? this.expected.digest;
    const wanted = want === undefined ? undefined : parseDigest(want);
    if (size !== undefined && size !== this.written) {
      await this.discard();
      throw invalidArgument(`size mismatch for ${this.ref}: expected ${size} bytes, got ${this.written}`);
    }
    const got = await this.actualDigest(wanted?.algorithm ?? this.algorithm);
    for (const w of [opts.digest, this.expected.digest]) {
      if (w !== undefined && w !== got) {
        await this.discard();
        throw invalidArgument(`digest mismatch for ${this.ref}: expected ${w}, got ${got}`);
      }
    }
    return got;
  }

  private async actualDigest(algorithm: DigestAlgorithm): Promise<Digest> {
    if (algorithm === this.algorithm) return this.digest();
    // Asked at commit for another algorithm than the ingest was hashed with: hash the file again.
    const { hash } = await hashFile(dataPath(this.dir), algorithm);
    return `${algorithm}:${hash.digest('hex')}`;
  }

  /** Durable, read-only, stamped with the commit time — before it gets a name in blobs/. */
  private async seal(): Promise<void> {
    const data = dataPath(this.dir);
    try {
      await this.file.sync();
      await this.file.close();
      await chmod(data, 0o444);
      const now = new Date();
      await utimes(data, now, now);
    } catch (err) {
      if (isNoSpace(err)) {
        await this.discard();
        throw unavailable(`no space left on device while writing ${this.ref}`, err);
      }
      this.phase = 'closed';
      await this.file.close().catch(() => undefined);
      await this.lock.release();
      throw fsError(err, `committing ${this.ref}`);
    }
  }

  private async publishOrKeep(digest: Digest, opts: CommitOptions): Promise<void> {
    const extra: { labels?: Labels; lease?: string } = {};
    if (opts.labels) extra.labels = opts.labels;
    if (opts.lease !== undefined) extra.lease = opts.lease;
    try {
      await this.publish(dataPath(this.dir), digest, extra);
    } catch (err) {
      const e = fsError(err, `committing ${this.ref}`);
      if (e.code === 'Unavailable') {
        await this.discard();
      } else {
        this.phase = 'closed';
        await this.lock.release();
      }
      throw e;
    }
  }

  private async discard(): Promise<void> {
    this.phase = 'aborted';
    await this.file.close().catch(() => undefined);
    try {
      await removeIngest(this.dir);
    } finally {
      await this.lock.release();
    }
  }
}
