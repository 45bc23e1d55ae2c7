// The context as POST /build receives it, decompressed into a file: the Dockerfile, the
// ignore file and each COPY read from there by offset, so a context of any size costs
// disk, not memory. Bounded, because the body is whatever the client chose to send.
import { open } from 'node:fs/promises';
import { invalidArgument } from '../../util/errors.js';
import { decompress, detectCompression } from '../../images/layer/compression.js';

/** Enough bytes to tell gzip, zstd, bzip2 and xz apart. */
const MAGIC_BYTES = 6;

/** The first bytes of the stream (at least MAGIC_BYTES unless it is shorter) and the stream from its start. */
async function peek(source: AsyncIterable<Buffer>): Promise<{ head: Buffer; stream: AsyncIterable<Buffer> }> {
  const it = source[Symbol.asyncIterator]();
  const seen: Buffer[] = [];
  let have = 0;
  let ended = false;
  while (have < MAGIC_BYTES) {
    const r = await it.next();
    if (r.done) {
      ended = true;
      break;
    }
    const chunk = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value as Uint8Array);
    seen.push(chunk);
    have += chunk.length;
  }
  const stream: AsyncIterable<Buffer> = {
    async *[Symbol.asyncIterator]() {
      yield* seen;
      if (ended) return;
      for (let r = await it.next(); !r.done; r = await it.next()) yield r.value;
    },
  };
  return { head: Buffer.concat(seen), stream };
}

function refuseUnsupported(head: Buffer): void {
  if (head.length >= 3 && head.toString('latin1', 0, 3) === 'BZh') {
    throw invalidArgument('build context is bzip2-compressed: send it uncompressed, gzip or zstd');
  }
  if (head.length >= 6 && head.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) {
    throw invalidArgument('build context is xz-compressed: send it uncompressed, gzip or zstd');
  }
}

/** Write the decompressed tar to file (created, mode 0600); returns its size. */
export async function spoolTar(source: AsyncIterable<Buffer>, file: string, maxBytes: number): Promise<number> {
  const { head, stream } = await peek(source);
  refuseUnsupported(head);
  const plain = decompress(stream, detectCompression(head));
  const fh = await open(file, 'wx', 0o600);
  let size = 0;
  try {
    for await (const chunk of plain) {
      size += chunk.length;
      if (size > maxBytes) throw invalidArgument(`build context is larger than ${maxBytes} bytes uncompressed`);
      let off = 0;
      while (off < chunk.length) off += (await fh.write(chunk, off, chunk.length - off)).bytesWritten;
    }
  } finally {
    await fh.close();
  }
  return size;
}
