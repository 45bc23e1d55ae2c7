// Serialising a store's mutations: a promise chain within this process, a pid lock file
// across processes. The file is held only for one operation, so a store can be shared by
// several processes, and a lock whose pid is dead (SIGKILL) is broken by the next taker.
import { linkSync, readdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { errnoCode, unavailable } from '../util/errors.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

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

function readOwner(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw err;
  }
}

const ownerPid = (content: string): number => Number.parseInt(content.split(' ')[0] ?? '', 10);

export class StoreLock {
  private tail: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly path: string,
    private readonly timeoutMs = 10 * 60_000,
  ) {}

  /** Run fn while holding both locks; calls queue in order. fn must not call run again. */
  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(() => this.withFileLock(fn));
    this.tail = result.catch(() => undefined);
    return result;
  }

  /** Resolves once every queued call has finished. */
  async idle(): Promise<void> {
    await this.tail;
  }

  private async withFileLock<T>(fn: () => Promise<T>): Promise<T> {
    const token = await this.acquire();
    try {
      return await fn();
    } finally {
      this.release(token);
    }
  }

  private async acquire(): Promise<string> {
    const token = `${process.pid} ${randomBytes(8).toString('hex')}\n`;
    const deadline = Date.now() + this.timeoutMs;
    for (let delay = 5; ; delay = Math.min(delay * 2, 200)) {
      if (this.tryCreate(token)) return token;
      const owner = readOwner(this.path);
      if (owner !== undefined && !pidAlive(ownerPid(owner))) {
        this.breakStale(owner);
        continue;
      }
      if (Date.now() > deadline) {
        throw unavailable(`snapshot store lock ${this.path} is held by pid ${owner ? ownerPid(owner) : '?'}`);
      }
      await sleep(delay);
    }
  }

  // Written whole under a temporary name and linked into place: link fails if the lock
  // exists, and a reader never sees a lock file without its pid.
  private tryCreate(token: string): boolean {
    const tmp = this.sideName('tmp');
    writeFileSync(tmp, token, { mode: 0o600 });
    try {
      linkSync(tmp, this.path);
      return true;
    } catch (err) {
      if (errnoCode(err) === 'EEXIST') return false;
      throw err;
    } finally {
      unlinkSync(tmp);
    }
  }

  // Two takers may see the same dead owner; moving the file aside first lets only the one
  // whose moved file still holds that owner delete it. The other puts back what it moved.
  private breakStale(staleContent: string): void {
    const aside = this.sideName('stale');
    try {
      renameSync(this.path, aside);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return;
      throw err;
    }
    const moved = readOwner(aside);
    if (moved !== staleContent) {
      try {
        linkSync(aside, this.path);
      } catch (err) {
        if (errnoCode(err) !== 'EEXIST') throw err;
      }
    }
    unlinkSync(aside);
  }

  private release(token: string): void {
    // Never remove a lock file some other taker created.
    if (readOwner(this.path) === token) unlinkSync(this.path);
  }

  // Side files carry our pid so that a process killed between creating and removing one
  // leaves something removeLeftovers can recognise as dead.
  private sideName(kind: 'tmp' | 'stale'): string {
    return `${this.path}.${process.pid}.${randomBytes(6).toString('hex')}.${kind}`;
  }

  /** Paths of side files left by dead processes, to be removed by the store's cleanup. */
  deadSideFiles(): string[] {
    const dir = dirname(this.path);
    const prefix = `${basename(this.path)}.`;
    return readdirSync(dir)
      .filter((n) => n.startsWith(prefix))
      .filter((n) => {
        const m = /^(\d+)\.[0-9a-f]+\.(tmp|stale)$/.exec(n.slice(prefix.length));
        return m !== null && !pidAlive(Number(m[1]));
      })
      .map((n) => join(dir, n));
  }
}
