// Where things live under a content store root. Every path is built from a
// validated digest, a hashed ref or a checked lease id, never from raw input.
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { invalidArgument } from '../util/errors.js';
import { parseDigest, type Digest, type DigestAlgorithm } from '../util/digest.js';

export const ALGORITHMS: readonly DigestAlgorithm[] = ['sha256', 'sha512'];

const MAX_REF_LENGTH = 4096;
const LEASE_ID_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

export class Layout {
  readonly blobs: string;
  readonly ingest: string;
  readonly meta: string;
  readonly leases: string;
  readonly locks: string;

  constructor(readonly root: string) {
    this.blobs = join(root, 'blobs');
    this.ingest = join(root, 'ingest');
    this.meta = join(root, 'meta');
    this.leases = join(root, 'leases');
    // Locks sit apart from ingest dirs so removing an ingest never races with a lock file inside it.
    this.locks = join(root, 'locks');
  }

  /** Every directory init() creates. */
  dirs(): string[] {
    const perAlg = ALGORITHMS.flatMap((a) => [join(this.blobs, a), join(this.meta, a)]);
    return [this.root, this.blobs, this.ingest, this.meta, this.leases, this.locks, ...perAlg];
  }

  blobPath(digest: Digest | string): string {
    const { algorithm, hex } = parseDigest(digest);
    return join(this.blobs, algorithm, hex);
  }

  metaPath(digest: Digest | string): string {
    const { algorithm, hex } = parseDigest(digest);
    return join(this.meta, algorithm, `${hex}.json`);
  }

  /** The ingest dir of a ref: hashed, so any string gives a fixed-length safe name. */
  ingestDir(ref: string): string {
    return join(this.ingest, ingestKey(ref));
  }

  ingestLock(ref: string): string {
    return this.ingestLockByKey(ingestKey(ref));
  }

  ingestLockByKey(key: string): string {
    return join(this.locks, `ingest-${key}.lock`);
  }

  /** Taken by gc for mark+sweep and by every change to what gc reads (commit, labels, leases, delete). */
  storeLock(): string {
    return join(this.locks, 'store.lock');
  }

  leasePath(id: string): string {
    return join(this.leases, `${checkLeaseId(id)}.json`);
  }
}

export function ingestKey(ref: string): string {
  return createHash('sha256').update(checkRef(ref)).digest('hex');
}

export function checkRef(ref: string): string {
  if (typeof ref !== 'string' || ref.length === 0) throw invalidArgument('ingest ref must be a non-empty string');
  if (ref.includes('\0')) throw invalidArgument(`ingest ref ${JSON.stringify(ref.slice(0, 80))} contains a NUL byte`);
  if (ref.length > MAX_REF_LENGTH) throw invalidArgument(`ingest ref is longer than ${MAX_REF_LENGTH} characters`);
  return ref;
}

export function checkLeaseId(id: string): string {
  if (typeof id !== 'string' || !LEASE_ID_RE.test(id)) {
    throw invalidArgument(`invalid lease id ${JSON.stringify(String(id).slice(0, 80))}: want [A-Za-z0-9][A-Za-z0-9_.-]{0,127}`);
  }
  return id;
}

export function checkSize(size: unknown, what: string): number {
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
    throw invalidArgument(`${what} must be a non-negative integer, got ${String(size)}`);
  }
  return size;
}
