// The record stream for native/unpack (wire.h): a 48-byte little-endian header, then
// path, link, xattrs, and for files the data. Written with backpressure to the child.
import type { Writable } from 'node:stream';
import { once } from 'node:events';

export const enum Op {
  File = 1,
  Dir = 2,
  Symlink = 3,
  Hardlink = 4,
  Char = 5,
  Block = 6,
  Fifo = 7,
  Whiteout = 8,
  Opaque = 9,
  End = 10,
}

export interface UnpackRecord {
  op: Op;
  path: string;
  mode?: number;
  uid?: number;
  gid?: number;
  mtimeSec?: number;
  mtimeNsec?: number;
  /** File: data bytes that follow. Devices: major/minor go in rdev instead. */
  size?: number;
  devmajor?: number;
  devminor?: number;
  link?: string | Buffer;
  xattrs?: Map<string, Buffer>;
  /** File: the data is at this offset of the source file (fd 3) instead of following. */
  sourceOffset?: number;
}

export const RECORD_HEADER_BYTES = 48;
const HDR = RECORD_HEADER_BYTES;

function encodeXattrs(x: Map<string, Buffer> | undefined): Buffer {
  if (!x || x.size === 0) return Buffer.alloc(0);
  const parts: Buffer[] = [];
  for (const [name, value] of x) {
    const n = Buffer.from(name);
    const h = Buffer.allocUnsafe(8);
    h.writeUInt32LE(n.length, 0);
    h.writeUInt32LE(value.length, 4);
    parts.push(h, n, value);
  }
  return Buffer.concat(parts);
}

/** A safe integer as 64-bit little-endian two's complement, without BigInt. */
function writeInt64(buf: Buffer, off: number, v: number): void {
  const lo = v % 0x1_0000_0000;
  const hi = Math.floor(v / 0x1_0000_0000);
  buf.writeUInt32LE(lo < 0 ? lo + 0x1_0000_0000 : lo, off);
  buf.writeInt32LE(hi, off + 4);
}

/** The inverse of encodeXattrs: berth-unpack's scan reports xattrs in the same form. */
export function decodeXattrs(b: Buffer): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (let off = 0; off + 8 <= b.length; ) {
    const nlen = b.readUInt32LE(off);
    const vlen = b.readUInt32LE(off + 4);
    out.set(b.toString('utf8', off + 8, off + 8 + nlen), Buffer.from(b.subarray(off + 8 + nlen, off + 8 + nlen + vlen)));
    off += 8 + nlen + vlen;
  }
  return out;
}

/** The fixed part of a record as berth-unpack's scan and diff write it (wire.h). */
export interface RecordHeader {
  op: Op;
  mode: number;
  uid: number;
  gid: number;
  mtimeSec: number;
  mtimeNsec: number;
  /** File: data bytes; devices: major << 32 | minor. */
  size: bigint;
  pathLen: number;
  linkLen: number;
  xattrLen: number;
}

export function decodeRecordHeader(h: Buffer): RecordHeader {
  return {
    op: h[0] as Op,
    mode: h.readUInt32LE(4),
    uid: h.readUInt32LE(8),
    gid: h.readUInt32LE(12),
    mtimeSec: Number(h.readBigInt64LE(16)),
    mtimeNsec: h.readUInt32LE(24),
    pathLen: h.readUInt32LE(28),
    size: h.readBigUInt64LE(32),
    linkLen: h.readUInt32LE(40),
    xattrLen: h.readUInt32LE(44),
  };
}

export function encodeRecord(r: UnpackRecord): Buffer {
  const path = Buffer.from(r.path);
  const link = r.link === undefined ? Buffer.alloc(0) : typeof r.link === 'string' ? Buffer.from(r.link) : r.link;
  const xattrs = encodeXattrs(r.xattrs);
  const tail = r.sourceOffset === undefined ? 0 : 8;
  const buf = Buffer.alloc(HDR + path.length + link.length + xattrs.length + tail);
  buf[0] = r.op;
  buf[1] = tail ? 1 : 0;
  buf.writeUInt32LE(r.mode ?? 0, 4);
  buf.writeUInt32LE(r.uid ?? 0, 8);
  buf.writeUInt32LE(r.gid ?? 0, 12);
  writeInt64(buf, 16, r.mtimeSec ?? 0);
  buf.writeUInt32LE(r.mtimeNsec ?? 0, 24);
  buf.writeUInt32LE(path.length, 28);
  if (r.op === Op.Char || r.op === Op.Block) {
    buf.writeUInt32LE(r.devminor ?? 0, 32);
    buf.writeUInt32LE(r.devmajor ?? 0, 36);
  } else {
    writeInt64(buf, 32, r.size ?? 0);
  }
  buf.writeUInt32LE(link.length, 40);
  buf.writeUInt32LE(xattrs.length, 44);
  path.copy(buf, HDR);
  link.copy(buf, HDR + path.length);
  xattrs.copy(buf, HDR + path.length + link.length);
  if (tail) writeInt64(buf, buf.length - 8, r.sourceOffset!);
  return buf;
}

/**
 * Batches small writes into larger ones and honours the pipe's backpressure. Batches stay
 * small (64 KiB) so that berth-unpack starts working while the records are still being made.
 */
export class RecordSink {
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  constructor(private readonly out: Writable, private readonly batchBytes = 64 * 1024) {}

  async push(buf: Buffer): Promise<void> {
    if (buf.length >= this.batchBytes / 4) {
      // File data goes out as it came in, without a copy into the batch.
      await this.flush();
      await this.write(buf);
      return;
    }
    this.pending.push(buf);
    this.pendingBytes += buf.length;
    if (this.pendingBytes >= this.batchBytes) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    const data = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    await this.write(data);
  }

  private async write(data: Buffer): Promise<void> {
    if (this.out.destroyed) throw new Error('the unpacker stopped reading');
    if (this.out.write(data)) return;
    // 'drain' never comes once the reader is gone: wait for whichever happens first.
    const ac = new AbortController();
    try {
      await Promise.race([
        once(this.out, 'drain', { signal: ac.signal }),
        once(this.out, 'close', { signal: ac.signal }).then(() => {
          throw new Error('the unpacker stopped reading');
        }),
      ]);
    } finally {
      ac.abort();
    }
  }
}
