// Shared by the build-context tests: temp directories that are always removed, contexts
// made from in-memory tars, and a tar stream read back into members.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { BuildContext, type ContextLimits } from '../../src/build/context/index.js';
import { TarReader } from '../../src/images/tar/reader.js';
import type { TarEntry } from '../../src/images/tar/header.js';
import { tarBuffer, type WriteEntry } from '../../src/images/tar/writer.js';

export type Member = WriteEntry & { data?: Buffer | string };

/** Run fn with a fresh temp directory, removed afterwards whatever happens. */
export async function withTmp<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-build-context-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A BuildContext from members (or raw bytes), closed after fn. */
export async function withContext<T>(
  dir: string,
  members: Member[] | Buffer,
  fn: (ctx: BuildContext) => Promise<T> | T,
  limits?: Partial<ContextLimits>,
): Promise<T> {
  const body = Buffer.isBuffer(members) ? members : tarBuffer(members);
  const ctx = await BuildContext.fromStream(chunks(body, 7000), dir, limits ? { limits } : {});
  try {
    return await fn(ctx);
  } finally {
    await ctx.close();
  }
}

/** The buffer as an async stream of small chunks (as an HTTP body arrives). */
export async function* chunks(buf: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
}

export interface ReadMember {
  entry: TarEntry;
  data: Buffer;
}

export async function readTar(stream: Readable | AsyncIterable<Buffer>): Promise<ReadMember[]> {
  const reader = new TarReader(stream as AsyncIterable<Buffer>);
  const out: ReadMember[] = [];
  for (let e = await reader.next(); e; e = await reader.next()) {
    const parts: Buffer[] = [];
    for await (const p of reader.data()) parts.push(Buffer.from(p));
    out.push({ entry: e, data: Buffer.concat(parts) });
  }
  return out;
}

export const file = (name: string, data: string, over: Partial<WriteEntry> = {}): Member => ({ name, type: 'file', mode: 0o644, mtimeSec: 1_700_000_000, data, ...over });
export const dir = (name: string, over: Partial<WriteEntry> = {}): Member => ({ name, type: 'dir', mode: 0o755, mtimeSec: 1_700_000_000, ...over });
export const symlink = (name: string, target: string): Member => ({ name, type: 'symlink', mode: 0o777, linkname: target, mtimeSec: 1_700_000_000 });
export const hardlink = (name: string, target: string): Member => ({ name, type: 'hardlink', mode: 0o644, linkname: target, mtimeSec: 1_700_000_000 });
