// Serialising a store's mutations: an in-memory queue within this process, a lock file
// across processes (src/util/lockfile.ts). The file is held only for one operation, so a
// store can be shared by several processes, and a lock whose pid is dead (SIGKILL) is
// broken by the next taker. Taking it needs no free data block, so a full disk does not
// keep snapshots from being removed.
import { basename, dirname } from 'node:path';
import { unavailable } from '../util/errors.js';
import { deadLockLeftovers, withLock } from '../util/lockfile.js';

export class StoreLock {
  private tail: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly path: string,
    private readonly timeoutMs = 10 * 60_000,
  ) {}

  /** Run fn while holding both locks; calls queue in order. fn must not call run again. */
  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = withLock(
      this.path,
      {
        wait: true,
        timeoutMs: this.timeoutMs,
        busy: (h) => unavailable(`snapshot store lock ${this.path} is held by pid ${h.pid}`),
      },
      fn,
    );
    // Calls queue in order, so the last one settling means all of ours have.
    this.tail = result.catch(() => undefined);
    return result;
  }

  /** Resolves once every queued call has finished. */
  async idle(): Promise<void> {
    await this.tail;
  }

  /** Paths of side files left by dead processes, to be removed by the store's cleanup. */
  deadSideFiles(): string[] {
    return deadLockLeftovers(dirname(this.path), basename(this.path));
  }
}
