import { openSync, writeSync, fsyncSync, closeSync, renameSync, unlinkSync } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';
import { randomBytes } from 'node:crypto';

/**
 * Write a file atomically: temp file in the same directory, fsync, rename, fsync the directory.
 * `durable: false` skips both fsyncs: readers still see the old or the new file, never a mix,
 * but a power loss may keep the old one (for state that is also recorded elsewhere).
 */
export function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o644, opts: { durable?: boolean } = {}): void {
  const durable = opts.durable ?? true;
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const fd = openSync(tmp, 'wx', mode);
  try {
    const buf = typeof data === 'string' ? Buffer.from(data) : data;
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
    if (durable) fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    unlinkSync(tmp);
    throw err;
  }
  closeSync(fd);
  try {
    renameSync(tmp, path);
  } catch (err) {
    unlinkSync(tmp);
    throw err;
  }
  if (durable) fsyncDir(dir);
}

/**
 * writeFileAtomic without the fsyncs, on libuv's thread pool: for a daemon's frequent small
 * records, whose file creation costs ~1 ms of kernel time on a disk filesystem that would
 * otherwise block the event loop.
 */
export async function writeFileAtomicAsync(path: string, data: string, mode = 0o644): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const file = await open(tmp, 'wx', mode);
  try {
    await file.writeFile(data);
  } catch (err) {
    await file.close();
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  await file.close();
  try {
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
}

export function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
