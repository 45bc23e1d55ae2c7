// Layer compression: detected from the stream's first bytes (media types lie), undone
// on the stream. gzip by zlib; zstd by zlib when Node has it (≥ 22.15), else the host's
// zstd program (Debian's zstd) through the host-tool wrapper.
import { Readable } from 'node:stream';
import * as zlib from 'node:zlib';
import { errnoCode, invalidArgument, unavailable } from '../../util/errors.js';
import { spawnTool } from '../../util/host-tool.js';
import { HostToolError } from '../../util/host-tool.js';

export type Compression = 'none' | 'gzip' | 'zstd';

export function detectCompression(head: Buffer): Compression {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 4 && head.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
  if (head.length >= 3 && head.toString('latin1', 0, 3) === 'BZh') throw invalidArgument('bzip2-compressed layers are not supported');
  if (head.length >= 6 && head.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) {
    throw invalidArgument('xz-compressed layers are not supported');
  }
  return 'none';
}

type ZstdFactory = () => NodeJS.ReadWriteStream;
const nodeZstd = (zlib as unknown as { createZstdDecompress?: ZstdFactory }).createZstdDecompress;

/** Look at the first chunk to learn the compression; the returned stream still starts with it. */
export async function peekCompression(source: AsyncIterable<Buffer>): Promise<{ kind: Compression; stream: AsyncIterable<Buffer> }> {
  const it = source[Symbol.asyncIterator]();
  const first = await it.next();
  const stream: AsyncIterable<Buffer> = {
    async *[Symbol.asyncIterator]() {
      if (first.done) return;
      yield first.value;
      for (let r = await it.next(); !r.done; r = await it.next()) yield r.value;
    },
  };
  return { kind: first.done ? 'none' : detectCompression(first.value), stream };
}

/** The stream decompressed according to kind. */
export function decompress(source: AsyncIterable<Buffer>, kind: Compression): AsyncIterable<Buffer> {
  if (kind === 'none') return source;
  if (kind === 'gzip') return throughTransform(source, zlib.createGunzip({ chunkSize: 1024 * 1024 }), 'gzip');
  return nodeZstd ? throughTransform(source, nodeZstd(), 'zstd') : throughZstdTool(source);
}

async function* throughTransform(src: AsyncIterable<Buffer>, t: NodeJS.ReadWriteStream, what: string): AsyncGenerator<Buffer> {
  const input = Readable.from(src, { objectMode: false });
  input.on('error', (err) => (t as unknown as Readable).destroy(err));
  input.pipe(t as unknown as NodeJS.WritableStream);
  try {
    for await (const chunk of t as unknown as AsyncIterable<Buffer>) yield chunk;
  } catch (err) {
    throw invalidArgument(`${what} stream is corrupt: ${(err as Error).message}`, err);
  } finally {
    input.destroy();
  }
}

async function* throughZstdTool(src: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const argv = ['zstd', '-d', '-c', '-q', '--no-progress'];
  const child = spawnTool(argv, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on('error', (err) =>
      reject(errnoCode(err) === 'ENOENT' ? unavailable('zstd-compressed layer: the zstd program is not installed (Debian: zstd)') : err),
    );
    child.on('close', resolve);
  });
  const input = Readable.from(src, { objectMode: false });
  child.stdin!.on('error', () => undefined); // a failed decompressor reports through its exit status
  input.pipe(child.stdin!);
  try {
    for await (const chunk of child.stdout! as AsyncIterable<Buffer>) yield chunk;
    const code = await exited;
    if (code !== 0) throw invalidArgument(`zstd stream is corrupt: ${new HostToolError(argv, code, stderr).message}`);
  } finally {
    input.destroy();
    if (child.exitCode === null) child.kill('SIGKILL');
  }
}
