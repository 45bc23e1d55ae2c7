// Ingests seen from outside a writer: listing, aborting, cleaning up leftovers.
import { conflict, notFound } from '../util/errors.js';
import { unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { lstatOrUndefined, readdirOrEmpty } from './blob-files.js';
import { readIngest, removeIngest } from './ingest.js';
import { checkRef, type Layout } from './layout.js';
import { acquireLock, deadLockLeftovers, FileLock, lockHolder, tryAcquire } from '../util/lockfile.js';
import type { IngestStatus } from './types.js';

const KEY_RE = /^[a-f0-9]{64}$/;

export async function listIngests(layout: Layout): Promise<IngestStatus[]> {
  const out: IngestStatus[] = [];
  for (const key of await ingestKeys(layout)) {
    const state = await readIngest(join(layout.ingest, key));
    if (!state || state.links > 1) continue; // unusable or already committed: not in progress
    const status: IngestStatus = {
      ref: state.ref,
      offset: state.offset,
      startedAt: state.startedAt,
      updatedAt: state.updatedAt,
      expected: state.expected,
    };
    const holder = await lockHolder(layout.ingestLockByKey(key));
    if (holder) status.lockedBy = holder.pid;
    out.push(status);
  }
  return out;
}

export async function abortIngest(layout: Layout, ref: string): Promise<void> {
  checkRef(ref);
  const lock = await acquireLock(layout.ingestLock(ref), {
    busy: (h) => conflict(`ref ${ref} is in progress (locked by pid ${h.pid})`),
  });
  try {
    const dir = layout.ingestDir(ref);
    if (!(await lstatOrUndefined(dir))) throw notFound(`no ingest for ref ${ref}`);
    await removeIngest(dir);
  } finally {
    await lock.release();
  }
}

export async function cleanIngests(layout: Layout, olderThanMs: number): Promise<string[]> {
  const cutoff = Date.now() - olderThanMs;
  const removed: string[] = [];
  for (const key of await ingestKeys(layout)) {
    const dir = join(layout.ingest, key);
    const state = await readIngest(dir);
    const updated = state?.updatedAt ?? (await lstatOrUndefined(dir))?.mtime;
    const done = state !== undefined && state.links > 1;
    if (!done && (updated === undefined || updated.getTime() > cutoff)) continue;
    const lock = await tryAcquire(layout.ingestLockByKey(key));
    if (!(lock instanceof FileLock)) continue; // someone is writing it right now
    try {
      await removeIngest(dir);
      removed.push(state?.ref ?? key);
    } finally {
      await lock.release();
    }
  }
  await dropStaleLocks(layout);
  return removed;
}

/** Lock files left by killed writers of refs that no longer have an ingest, and side files of killed lock breakers. */
async function dropStaleLocks(layout: Layout): Promise<void> {
  for (const path of deadLockLeftovers(layout.locks)) await unlink(path).catch(() => undefined);
  for (const name of await readdirOrEmpty(layout.locks)) {
    const key = /^ingest-([a-f0-9]{64})\.lock$/.exec(name)?.[1];
    if (!key || (await lstatOrUndefined(join(layout.ingest, key)))) continue;
    const lock = await tryAcquire(layout.ingestLockByKey(key)); // breaks it if stale
    if (lock instanceof FileLock) await lock.release();
  }
}

async function ingestKeys(layout: Layout): Promise<string[]> {
  return (await readdirOrEmpty(layout.ingest)).filter((k) => KEY_RE.test(k));
}
