// RUN --mount=type=cache: directories under <data-root>/builder/mounts that outlive builds,
// one per cache id. `shared` lets every step use the directory at once, `locked` lets one
// step at a time have it (others wait), `private` gives a concurrent step a directory of its
// own (the first free one of that id).
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, renameSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { StepMount } from '../../build/worker.js';

type CacheMount = Extract<StepMount, { type: 'cache' }>;
/** Prefix of a pruned directory still being removed. */
const TRASH = '.pruning-';

export class CacheMounts {
  private readonly inUse = new Map<string, number>();
  private readonly waiting = new Map<string, Array<() => void>>();

  constructor(private readonly root: string) {}

  /** Directories for a step's cache mounts, held until release(). */
  async acquire(mounts: readonly StepMount[]): Promise<{ paths: Map<StepMount, string>; release: () => void }> {
    const paths = new Map<StepMount, string>();
    const held: string[] = [];
    // A fixed order, so two steps locking the same caches cannot wait on each other.
    const caches = mounts.filter((m): m is CacheMount => m.type === 'cache').sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    for (const m of caches) {
      const dir = await this.take(m);
      held.push(dir);
      paths.set(m, dir);
    }
    let released = false;
    return {
      paths,
      release: () => {
        if (released) return;
        released = true;
        for (const dir of held) this.give(dir);
      },
    };
  }

  /**
   * Removes every cache directory not in use (build cache prune). Each is first renamed out of
   * the way at once, so a step starting meanwhile gets a fresh one; the files go off the event
   * loop, as a cache may be large.
   */
  async prune(): Promise<number> {
    if (!existsSync(this.root)) return 0;
    const doomed: string[] = [];
    for (const name of readdirSync(this.root)) {
      const dir = join(this.root, name);
      if (this.inUse.has(dir)) continue;
      const trash = name.startsWith(TRASH) ? dir : join(this.root, `${TRASH}${name}-${Date.now()}`);
      if (trash !== dir) renameSync(dir, trash);
      doomed.push(trash);
    }
    await Promise.all(doomed.map((d) => rm(d, { recursive: true, force: true })));
    return doomed.length;
  }

  private async take(m: CacheMount): Promise<string> {
    const base = join(this.root, createHash('sha256').update(m.id).digest('hex').slice(0, 32));
    let dir = base;
    if (m.sharing === 'private') {
      for (let i = 1; this.inUse.has(dir); i++) dir = `${base}-${i}`;
    } else if (m.sharing === 'locked') {
      while (this.inUse.has(dir)) await new Promise<void>((resolve) => this.waiting.set(dir, [...(this.waiting.get(dir) ?? []), resolve]));
    }
    this.inUse.set(dir, (this.inUse.get(dir) ?? 0) + 1);
    if (!existsSync(dir)) {
      mkdirSync(dir, { recursive: true });
      chmodSync(dir, m.mode);
      chownSync(dir, m.uid, m.gid);
    }
    return dir;
  }

  private give(dir: string): void {
    const n = (this.inUse.get(dir) ?? 1) - 1;
    if (n > 0) this.inUse.set(dir, n);
    else this.inUse.delete(dir);
    const next = this.waiting.get(dir)?.shift();
    next?.();
  }
}
