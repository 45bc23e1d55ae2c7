// A counting semaphore for transfers: at most `max` blobs move at once, as dockerd's
// max-concurrent-downloads/uploads, and the caller learns when a transfer had to queue
// (that is when Docker shows "Waiting").
import { invalidArgument } from '../../util/errors.js';

export class Limiter {
  private active = 0;
  private readonly queue: (() => void)[] = [];
  private readonly max: number;

  constructor(max: number) {
    if (!Number.isInteger(max) || max < 1) throw invalidArgument(`concurrency must be a positive integer, got ${max}`);
    this.max = max;
  }

  /** Run fn in a free slot; onWait is called (synchronously) when it has to queue first. */
  async run<T>(fn: () => Promise<T>, onWait?: () => void): Promise<T> {
    if (this.active < this.max) {
      this.active++;
    } else {
      onWait?.();
      // The finishing task hands its slot over, so `active` stays counted.
      await new Promise<void>((resolve) => this.queue.push(resolve));
    }
    try {
      return await fn();
    } finally {
      const next = this.queue.shift();
      if (next) next();
      else this.active--;
    }
  }
}

/**
 * Run every task; the first failure aborts the rest (through the signal they were given)
 * and is the one reported once all have stopped.
 */
export async function runAll<T>(tasks: ((signal: AbortSignal) => Promise<T>)[], outer?: AbortSignal): Promise<T[]> {
  const ctl = new AbortController();
  // By hand rather than AbortSignal.any, which Node 20 gained only in 20.3.
  const forward = (): void => ctl.abort(outer?.reason);
  if (outer?.aborted) forward();
  else outer?.addEventListener('abort', forward, { once: true });
  const signal = ctl.signal;
  let first: { err: unknown } | undefined;
  const settled = await Promise.allSettled(
    tasks.map((t) =>
      t(signal).catch((err: unknown) => {
        if (!first) {
          first = { err };
          ctl.abort(err);
        }
        throw err;
      }),
    ),
  );
  outer?.removeEventListener('abort', forward);
  if (first) throw first.err;
  return settled.map((s) => (s as PromiseFulfilledResult<T>).value);
}
