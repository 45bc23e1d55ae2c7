// Cross-process lock files that survive a SIGKILLed holder and work on a full disk.
//
// A lock is a symbolic link whose target is its owner record,
// "berth-lock:<pid>:<start time>:<token>". symlink(2) is atomic and fails with EEXIST
// while the lock is held, so the owner appears whole or not at all, and readlink(2)
// tells waiters who holds it. The record is short enough (< 60 bytes) to live in the
// inode itself ("fast symlink" on ext4, xfs, tmpfs): taking a lock needs an inode but
// no data block, so a full disk (ENOSPC) does not stop the operations that free space.
// No temporary files are involved.
//
// A lock whose pid is gone, is a zombie, or was reused by a process with another start
// time (field 22 of /proc/<pid>/stat) is stale and is broken by the next taker, under a
// momentary second lock "<lock>.break" so that racing breakers never both win. Lock
// files written by older berth versions (a regular file "<pid> [<start time>] <hex>\n")
// are still understood, so an upgrade does not strand their stale locks.
//
// Node has no flock(2), and a kernel lock would not tell waiters *who* holds it.
import { readdirSync, readFileSync } from 'node:fs';
import { constants, link, open, readlink, rename, symlink, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { errnoCode, type BerthError } from './errors.js';
import { fsError } from './fs-errors.js';

export interface LockHolder {
  pid: number;
  /** Start time of the holder in clock ticks since boot, or '-' when unknown. */
  startTime: string;
}

export interface AcquireOptions {
  /** Poll until the lock is free instead of failing at once. */
  wait?: boolean;
  signal?: AbortSignal;
  /** With wait: give up (throwing busy()) after this long. Default: wait forever. */
  timeoutMs?: number;
  /** The error to throw when the lock is held (and wait is false, or timed out). */
  busy: (holder: LockHolder) => BerthError;
}

const PREFIX = 'berth-lock:';
const RECORD_RE = /^berth-lock:(\d+):([^:]+):[0-9a-f]+$/;
// Records read from a regular file carry this mark, so they never equal a symlink's.
const LEGACY = 'file:';
const MAX_POLL_MS = 100;

export class FileLock {
  constructor(
    readonly path: string,
    /** Our owner record: the symlink's target while we hold the lock. */
    readonly record: string,
  ) {}

  /** Still ours? False only if someone broke it believing us dead (see moveAsideStale). */
  async held(): Promise<boolean> {
    return (await readRecord(this.path)) === this.record;
  }

  async release(): Promise<void> {
    // A live holder's lock is never broken, so reading then unlinking cannot remove another's lock.
    if ((await readRecord(this.path)) !== this.record) return;
    try {
      await unlink(this.path);
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT') throw fsError(err, `releasing lock ${this.path}`);
    }
  }
}

/** Take the lock; when it is held, throw busy() or (with wait) poll until it is free. */
export async function acquireLock(path: string, opts: AcquireOptions): Promise<FileLock> {
  const deadline = opts.timeoutMs === undefined ? Infinity : Date.now() + opts.timeoutMs;
  let delay = 1;
  for (;;) {
    const got = await tryAcquire(path);
    if (got instanceof FileLock) return got;
    if (!opts.wait || Date.now() > deadline) throw opts.busy(got);
    await sleep(delay + Math.random() * delay, undefined, opts.signal ? { signal: opts.signal } : {});
    delay = Math.min(delay * 2, MAX_POLL_MS);
  }
}

/**
 * Take the lock, or say who holds it. Stale locks are broken on the way; while another
 * live process is breaking it, that process is named as the holder (it takes it next).
 */
export function tryAcquire(path: string): Promise<FileLock | LockHolder> {
  return take(path, breakStale);
}

// Create the symlink, or find a live holder, breaking stale ones with breakOne (which
// names a live process when it could not break, because that one is breaking it).
async function take(path: string, breakOne: (path: string, stale: string) => Promise<LockHolder | undefined>): Promise<FileLock | LockHolder> {
  const record = newRecord();
  for (;;) {
    try {
      await symlink(record, path);
      return new FileLock(path, record);
    } catch (err) {
      if (errnoCode(err) !== 'EEXIST') throw fsError(err, `taking lock ${path}`);
    }
    const seen = await readRecord(path);
    if (seen === undefined) continue; // released between our symlink and readlink
    const holder = parseRecord(seen);
    if (holder && isAlive(holder)) return holder;
    const breaker = await breakOne(path, seen);
    if (breaker) return breaker;
  }
}

/**
 * Run fn holding the lock at path. Callers in this process queue in memory (and hand
 * over at once); only the head of the queue contends for the file with other processes.
 */
export function withLock<T>(path: string, opts: AcquireOptions, fn: () => Promise<T>): Promise<T> {
  return inProcessQueue(resolve(path), async () => {
    const lock = await acquireLock(path, opts);
    try {
      return await fn();
    } finally {
      await lock.release();
    }
  });
}

const queues = new Map<string, Promise<unknown>>();

/** Run fn after every earlier fn queued under key in this process has settled. */
export function inProcessQueue<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const prev = queues.get(key) ?? Promise.resolve();
  const run = prev.then(fn, fn);
  const tail = run.catch(() => undefined);
  queues.set(key, tail);
  void tail.then(() => {
    if (queues.get(key) === tail) queues.delete(key);
  });
  return run;
}

/** The live holder of a lock, if any (without taking it). */
export async function lockHolder(path: string): Promise<LockHolder | undefined> {
  const record = await readRecord(path);
  const holder = record === undefined ? undefined : parseRecord(record);
  return holder && isAlive(holder) ? holder : undefined;
}

/** Whether a process with this pid exists (EPERM: it does, owned by someone else). */
export function pidAlive(pid: number): boolean {
  // kill(0) and kill(-n) address process groups: no such pid names a live owner.
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return errnoCode(err) === 'EPERM';
  }
}

/**
 * A name in a lock directory that is a breaker's side file (or an older berth's temp
 * file): the lock it belongs to and the pid that made it; undefined for anything else.
 */
export function parseSideFile(name: string): { lock: string; pid: number } | undefined {
  const m = /^(.+)\.(\d+)\.[0-9a-f]+\.(?:tmp|stale)$/.exec(name) ?? /^(.+)\.stale\.(\d+)\.[0-9a-f]+$/.exec(name);
  return m ? { lock: m[1]!, pid: Number(m[2]) } : undefined;
}

/**
 * Side files in dir left by processes that are gone (a breaker killed between moving a
 * stale lock aside and deleting it, or an older berth's temp files), of the lock named
 * lockName (and its break lock) or of any lock. Safe to delete.
 */
export function deadLockLeftovers(dir: string, lockName?: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return [];
    throw fsError(err, `listing lock directory ${dir}`);
  }
  return names
    .filter((n) => {
      const side = parseSideFile(n);
      const ours = lockName === undefined || side?.lock === lockName || side?.lock === `${lockName}.break`;
      return side !== undefined && ours && !pidAlive(side.pid);
    })
    .map((n) => join(dir, n));
}

let ownStartTime: string | undefined;

function newRecord(): string {
  ownStartTime ??= procStat(process.pid)?.startTime || '-';
  return `${PREFIX}${process.pid}:${ownStartTime}:${randomBytes(8).toString('hex')}`;
}

function parseRecord(record: string): LockHolder | undefined {
  const m = RECORD_RE.exec(record);
  if (m) return { pid: Number(m[1]), startTime: m[2]! };
  if (!record.startsWith(LEGACY)) return undefined;
  // Older berth: content store "<pid> <start time> <hex>\n", snapshot store "<pid> <hex>\n".
  const raw = record.slice(LEGACY.length);
  const withStart = /^(\d+) (\S+) [0-9a-f]+\n$/.exec(raw);
  if (withStart) return { pid: Number(withStart[1]), startTime: withStart[2]! };
  const pidOnly = /^(\d+) [0-9a-f]+\n$/.exec(raw);
  return pidOnly ? { pid: Number(pidOnly[1]), startTime: '-' } : undefined;
}

// Breaking a stale lock is itself done under a lock, "<lock>.break", so that of the
// processes that found the same stale owner exactly one removes it, and only after seeing
// under that lock that the owner is still the stale one: nobody else removes a lock (its
// owner only removes its own, and a stale owner is dead), so the lock cannot change hands
// between that look and the removal, and a new owner's lock is never touched.
// The break lock is held for a moment only. If its holder was killed, it is stale too and
// is broken by moveAsideStale below.

/** Remove the lock at path if it is still the stale staleRecord; else name the live process breaking it. */
export async function breakStale(path: string, staleRecord: string): Promise<LockHolder | undefined> {
  const mutex = await take(`${path}.break`, moveAsideStale);
  if (!(mutex instanceof FileLock)) return mutex;
  try {
    if ((await readRecord(path)) === staleRecord) await moveAsideStale(path, staleRecord);
  } finally {
    await mutex.release();
  }
  return undefined;
}

// Without a break lock, two breakers may race: move the lock aside under a unique name and
// look at what was moved. If it is not the stale owner we judged, a new owner got in
// between: put its lock back (link(2) fails rather than replace a lock someone took
// meanwhile) and leave. Only the breaker whose moved lock is the stale one deletes it.
// (If a third process took the name in the instant before the put-back, two owners exist;
// holders check held() before their irreversible step.) Under the break lock this is only
// a second guard: what is moved is always the stale lock.
async function moveAsideStale(path: string, staleRecord: string): Promise<undefined> {
  const aside = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.stale`;
  try {
    await rename(path, aside);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined; // another breaker (or the holder) was first
    throw fsError(err, `breaking stale lock ${path}`);
  }
  try {
    const moved = await readRecord(aside);
    if (moved !== undefined && moved !== staleRecord) await putBack(aside, path, moved);
  } finally {
    await unlink(aside).catch((err: unknown) => {
      if (errnoCode(err) !== 'ENOENT') throw fsError(err, `removing ${aside}`);
    });
  }
  return undefined;
}

async function putBack(aside: string, path: string, record: string): Promise<void> {
  try {
    await link(aside, path); // a new name for the same inode: needs no inode nor block
    return;
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'EEXIST') return;
    // protected_hardlinks forbids linking another user's symlink; the record is the lock.
    if (record.startsWith(LEGACY) || (code !== 'EPERM' && code !== 'EMLINK')) throw fsError(err, `restoring lock ${path}`);
  }
  try {
    await symlink(record, path);
  } catch (err) {
    if (errnoCode(err) !== 'EEXIST') throw fsError(err, `restoring lock ${path}`);
  }
}

/** The owner record at path: a symlink's target, or LEGACY + an older berth's lock file content. */
async function readRecord(path: string): Promise<string | undefined> {
  for (;;) {
    try {
      return await readlink(path);
    } catch (err) {
      const code = errnoCode(err);
      if (code === 'ENOENT') return undefined;
      if (code !== 'EINVAL') throw fsError(err, `reading lock ${path}`);
    }
    // Not a symlink. O_NOFOLLOW: if it became one since, read it as one.
    try {
      const file = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
      try {
        return LEGACY + (await file.readFile('utf8'));
      } finally {
        await file.close();
      }
    } catch (err) {
      const code = errnoCode(err);
      if (code === 'ENOENT') return undefined;
      if (code !== 'ELOOP') throw fsError(err, `reading lock ${path}`);
    }
  }
}

function isAlive(holder: LockHolder): boolean {
  if (!pidAlive(holder.pid)) return false;
  const stat = procStat(holder.pid);
  if (!stat) return true; // no /proc to ask: trust kill(0)
  // A killed holder its parent has not reaped yet is a zombie; a recycled pid has another start time.
  if (stat.state === 'Z' || stat.state === 'X') return false;
  return holder.startTime === '-' || stat.startTime === holder.startTime;
}

/** State (field 3) and start time (field 22, clock ticks since boot) from /proc/<pid>/stat, read after the parenthesised comm. */
function procStat(pid: number): { state: string; startTime: string } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0] ?? '', startTime: fields[19] ?? '' };
  } catch {
    return undefined;
  }
}

