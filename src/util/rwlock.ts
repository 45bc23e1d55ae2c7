// A process-local readers–writer lock: many readers at once, a writer alone. Writers are
// not starved: once one waits, new readers queue behind it.
export class RwLock {
  private readers = 0;
  private writer = false;
  private queue: Array<{ write: boolean; go: () => void }> = [];

  async read<T>(fn: () => Promise<T>): Promise<T> {
    await this.acquire(false);
    try {
      return await fn();
    } finally {
      this.readers--;
      this.wake();
    }
  }

  async write<T>(fn: () => Promise<T>): Promise<T> {
    await this.acquire(true);
    try {
      return await fn();
    } finally {
      this.writer = false;
      this.wake();
    }
  }

  private canGo(write: boolean): boolean {
    return write ? !this.writer && this.readers === 0 : !this.writer && !this.queue.some((w) => w.write);
  }

  private acquire(write: boolean): Promise<void> {
    if (this.queue.length === 0 && this.canGo(write)) {
      this.take(write);
      return Promise.resolve();
    }
    return new Promise((go) => this.queue.push({ write, go }));
  }

  private take(write: boolean): void {
    if (write) this.writer = true;
    else this.readers++;
  }

  private wake(): void {
    while (this.queue.length > 0) {
      const next = this.queue[0]!;
      if (next.write ? this.writer || this.readers > 0 : this.writer) return;
      this.queue.shift();
      this.take(next.write);
      next.go();
      if (next.write) return;
    }
  }
}
