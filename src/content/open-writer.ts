// Opening a writer: take the ref's lock, then resume the ingest on disk or start afresh.
import { chmod, open, type FileHandle } from 'node:fs/promises';
import { createHash, type Hash } from 'node:crypto';
import { conflict, unavailable } from '../util/errors.js';
import { parseDigest, type DigestAlgorithm } from '../util/digest.js';
import { fsError, isNoSpace } from '../util/fs-errors.js';
import { createIngest, dataPath, hashFile, readIngest, removeIngest, writeExpected, type IngestExpected, type IngestState } from './ingest.js';
import { checkRef, checkSize, type Layout } from './layout.js';
import { acquireLock, type FileLock } from '../util/lockfile.js';
import type { Expected } from './types.js';
import { ContentWriter, type Publish } from './writer.js';

export interface OpenWriterOptions {
  expected?: Expected;
  /** Wait for another holder of the ref instead of failing with Conflict. */
  wait?: boolean;
  signal?: AbortSignal;
}

export async function openContentWriter(layout: Layout, ref: string, opts: OpenWriterOptions, publish: Publish): Promise<ContentWriter> {
  checkRef(ref);
  const expected = checkExpected(opts.expected);
  const lock = await acquireLock(layout.ingestLock(ref), {
    wait: opts.wait ?? false,
    ...(opts.signal ? { signal: opts.signal } : {}),
    busy: (h) => conflict(`ref ${ref} is in progress (locked by pid ${h.pid})`),
  });
  const dir = layout.ingestDir(ref);
  let file: FileHandle | undefined;
  try {
    const { state, hash, algorithm } = await prepare(dir, ref, expected);
    file = await open(dataPath(dir), 'r+');
    return new ContentWriter({ ref, dir, lock, file, hash, algorithm, state, publish });
  } catch (err) {
    await file?.close().catch(() => undefined);
    await giveUp(dir, lock, err);
    throw isNoSpace(err) ? unavailable(`no space left on device while writing ${ref}`, err) : fsError(err, `opening ingest ${ref}`);
  }
}

export function checkExpected(expected: Expected | undefined): IngestExpected {
  const out: IngestExpected = {};
  if (expected?.digest !== undefined) out.digest = parseDigest(expected.digest).digest;
  if (expected?.size !== undefined) out.size = checkSize(expected.size, 'expected size');
  return out;
}

async function prepare(dir: string, ref: string, expected: IngestExpected): Promise<{ state: IngestState; hash: Hash; algorithm: DigestAlgorithm }> {
  const found = await readIngest(dir);
  const merged = found && resumable(found, ref, expected);
  if (found && merged) {
    const algorithm = algorithmOf(merged);
    // A commit that failed after seal() left data read-only.
    await chmod(dataPath(dir), 0o644);
    const { hash, size } = await hashFile(dataPath(dir), algorithm);
    if (merged !== found.expected) await writeExpected(dir, merged);
    return { state: { ...found, expected: merged, offset: size }, hash, algorithm };
  }
  const state = await createIngest(dir, ref, expected);
  const algorithm = algorithmOf(expected);
  return { state, hash: createHash(algorithm), algorithm };
}

/**
 * The expectations a resumed ingest runs under, or undefined when the bytes on disk
 * cannot be the start of what is wanted now (and the ingest must start over).
 */
function resumable(found: IngestState, ref: string, wanted: IngestExpected): IngestExpected | undefined {
  if (found.ref !== ref) return undefined; // a hash collision of refs, or a damaged ingest
  if (found.links > 1) return undefined; // already committed; the cleanup was interrupted
  const old = found.expected;
  if (wanted.digest && old.digest && wanted.digest !== old.digest) return undefined;
  if (wanted.size !== undefined && old.size !== undefined && wanted.size !== old.size) return undefined;
  const merged: IngestExpected = { ...old, ...wanted };
  if (merged.size !== undefined && found.offset > merged.size) return undefined;
  const same = merged.digest === old.digest && merged.size === old.size;
  return same ? old : merged;
}

function algorithmOf(expected: IngestExpected): DigestAlgorithm {
  return expected.digest ? parseDigest(expected.digest).algorithm : 'sha256';
}

async function giveUp(dir: string, lock: FileLock, err: unknown): Promise<void> {
  try {
    // With no space there is nothing worth resuming; otherwise leave the ingest as it was.
    if (isNoSpace(err)) await removeIngest(dir);
  } finally {
    await lock.release();
  }
}
