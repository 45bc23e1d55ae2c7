// Reading a tar that is a file: headers by positional reads, member data skipped (it is
// copied by the kernel elsewhere), so a tar's headers are parsed without reading its data.
import { readSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import type { TarByteSource } from './reader.js';

export class FileTarSource implements TarByteSource {
  position = 0;
  private buf = Buffer.alloc(0);
  private bufStart = 0;

  constructor(private readonly file: FileHandle, private readonly size: number) {}

  private async fill(at: number, n: number): Promise<void> {
    if (at >= this.bufStart && at + n <= this.bufStart + this.buf.length) return;
    const want = Math.max(n, 64 * 1024);
    const b = Buffer.allocUnsafe(Math.min(want, Math.max(0, this.size - at)));
    // Synchronous: a 64 KiB positional read of a blob berth just wrote (page cache) costs
    // microseconds, a thread-pool round trip costs more than the read, ~1000 times a layer.
    const bytesRead = readSync(this.file.fd, b, 0, b.length, at);
    this.buf = b.subarray(0, bytesRead);
    this.bufStart = at;
  }

  async read(n: number): Promise<Buffer> {
    await this.fill(this.position, n);
    const off = this.position - this.bufStart;
    // A view, not a copy: a refill replaces the buffer instead of writing into it.
    const out = this.buf.subarray(off, off + n);
    this.position += out.length;
    return out;
  }

  some(n: number): Promise<Buffer> {
    return this.read(Math.min(n, 1024 * 1024));
  }

  async skip(n: number): Promise<number> {
    const step = Math.min(n, this.size - this.position);
    this.position += step;
    return step;
  }

  async drain(): Promise<void> {
    this.position = this.size;
  }
}
