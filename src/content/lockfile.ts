// Cross-process lock files that survive a SIGKILLed holder.
//
// A lock is a file holding "<pid> <start time> <nonce>". It appears whole, by
// link(2) from a temp file (link fails if the name exists), so a reader never
// sees a half-written owner. A lock whose pid is gone — or was reused by a
// process with another start time — is stale and may be broken. Node has no
// flock(2), and a kernel lock would not tell waiters *who* holds it.
import { readFileSync } from 'node:fs';
import { link, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { errnoCode, type BerthError } from '../util/errors.js';
import { fsError } from './fs-errors.js';

export interface LockHolder {
  pid: number;
  startTime: string;
}

export interface AcquireOptions {
  /** Poll until the lock is free instead of failing. */
  wait?: boolean;
  signal?: AbortSignal;
  /** The error to throw when the lock is held and wait is false. */
  busy: (holder: LockHolder) => BerthError;
}

const MAX_POLL_MS = 100;

export class FileLock {
  constructor(
    readonly path: string,
    private readonly token: string,
  ) {}

  /** Still ours? False only if someone broke it believing us dead (see breakStale). */
  async held(): Promise<boolean> {
    return (await readOrUndefined(this.path)) === this.token;
  }

  async release(): Promise<void> {
    // A live holder's lock is never broken, so reading then unlinking cannot remove another's lock.
    if ((await readOrUndefined(this.path)) !== this.token) return;
    try {
      await unlink(this.path);
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT') throw fsError(err, `releasing lock ${this.path}`);
    }
  }
}

export async function acquireLock(path: string, opts: AcquireOptions): Promise<FileLock> {
  let delay = 1;
  for (;;) {
    const got = await tryAcquire(path);
    if (got instanceof FileLock) return got;
    if (!opts.wait) throw opts.busy(got);
    await sleep(delay + Math.random() * delay, undefined, opts.signal ? { signal: opts.signal } : {});
    delay = Math.min(delay * 2, MAX_POLL_MS);
  }
}

/** Take the lock, or say who holds it. Stale locks are broken on the way. */
export async function tryAcquire(path: string): Promise<FileLock | LockHolder> {
  const token = `${process.pid} ${startTimeOf(process.pid) ?? '-'} ${randomBytes(8).toString('hex')}\n`;
  const tmp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeFile(tmp, token, { flag: 'wx', mode: 0o644 });
  } catch (err) {
    throw fsError(err, `creating lock ${path}`);
  }
  try {
    for (;;) {
      if (await linkIfAbsent(tmp, path)) return new FileLock(path, token);
      const raw = await readOrUndefined(path);
      if (raw === undefined) continue; // released between our link and read
      const holder = parseToken(raw);
      if (holder && isAlive(holder)) return holder;
      await breakStale(path, raw);
    }
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
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
  const raw = await readOrUndefined(path);
  const holder = raw === undefined ? undefined : parseToken(raw);
  return holder && isAlive(holder) ? holder : undefined;
}

async function linkIfAbsent(from: string, to: string): Promise<boolean> {
  try {
    await link(from, to);
    return true;
  } catch (err) {
    if (errnoCode(err) === 'EEXIST') return false;
    throw fsError(err, `taking lock ${to}`);
  }
}

// Two breakers may race: move the lock aside under a unique name and look at what
// was moved. If it is not the stale token we judged, a new owner got in between;
// put its lock back. (If a third process took the name meanwhile, two owners
// exist; holders check held() before their irreversible step.)
async function breakStale(path: string, staleRaw: string): Promise<void> {
  const aside = `${path}.stale.${process.pid}.${randomBytes(6).toString('hex')}`;
  try {
    await rename(path, aside);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return;
    throw fsError(err, `breaking stale lock ${path}`);
  }
  const moved = await readOrUndefined(aside);
  if (moved !== staleRaw) await link(aside, path).catch(() => undefined);
  await unlink(aside).catch(() => undefined);
}

function parseToken(raw: string): LockHolder | undefined {
  const m = /^(\d+) (\S+) [0-9a-f]+\n$/.exec(raw);
  if (!m) return undefined;
  return { pid: Number(m[1]), startTime: m[2]! };
}

function isAlive(holder: LockHolder): boolean {
  try {
    process.kill(holder.pid, 0);
  } catch (err) {
    if (errnoCode(err) !== 'EPERM') return false;
  }
  const stat = procStat(holder.pid);
  if (!stat) return true; // no /proc to ask: trust kill(0)
  // A killed holder its parent has not reaped yet is a zombie; a recycled pid has another start time.
  if (stat.state === 'Z' || stat.state === 'X') return false;
  return holder.startTime === '-' || stat.startTime === holder.startTime;
}

function startTimeOf(pid: number): string | undefined {
  return procStat(pid)?.startTime;
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

async function readOrUndefined(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw fsError(err, `reading lock ${path}`);
  }
}
