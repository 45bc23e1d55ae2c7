// The Engine API's two streaming encodings: JSON messages one after another (events,
// stats, pull/push/load progress) and the multiplexed stdio frames of logs, attach and
// exec without a tty (an 8-byte header: stream type, three zero bytes, big-endian length).
import type { Readable } from 'node:stream';

export enum StdStream {
  Stdin = 0,
  Stdout = 1,
  Stderr = 2,
  /** The daemon's own error, sent in place of output (docker's stdcopy "Systemerr"). */
  Systemerr = 3,
}

export interface Frame {
  stream: StdStream;
  data: Buffer;
}

/**
 * Decode a stream of JSON documents. The daemon separates them with newlines; documents
 * written back to back without one are split too, as Go's json.Decoder does.
 */
export async function* decodeJsonStream<T>(body: AsyncIterable<Buffer | string>): AsyncGenerator<T> {
  let pending = '';
  for await (const chunk of body) {
    pending += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    let start = 0;
    for (;;) {
      const end = documentEnd(pending, start);
      if (end < 0) break;
      const text = pending.slice(start, end).trim();
      if (text) yield JSON.parse(text) as T;
      start = end;
    }
    pending = pending.slice(start);
  }
  const tail = pending.trim();
  if (tail) yield JSON.parse(tail) as T;
}

/** Index just past the next complete top-level JSON value after `from`, or -1. */
function documentEnd(s: string, from: number): number {
  let depth = 0;
  let inString = false;
  let escaped = false;
  let started = false;
  for (let i = from; i < s.length; i++) {
    const c = s[i]!;
    if (inString) {
      if (escaped) escaped = false;
      else if (c === '\\') escaped = true;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') {
      inString = true;
      started = true;
    } else if (c === '{' || c === '[') {
      depth++;
      started = true;
    } else if (c === '}' || c === ']') {
      depth--;
      if (depth === 0) return i + 1;
    } else if (c === '\n' && started && depth === 0) {
      return i + 1; // a scalar document
    } else if (!/\s/.test(c)) {
      started = true;
    }
  }
  return -1;
}

/** Split docker's multiplexed stdio stream into frames. */
export async function* demuxFrames(body: AsyncIterable<Buffer>): AsyncGenerator<Frame> {
  let buf: Buffer = Buffer.alloc(0);
  for await (const chunk of body) {
    buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
    while (buf.length >= 8) {
      const size = buf.readUInt32BE(4);
      if (buf.length < 8 + size) break;
      const stream = buf[0]! as StdStream;
      yield { stream, data: buf.subarray(8, 8 + size) };
      buf = buf.subarray(8 + size);
    }
  }
  if (buf.length > 0) throw new Error('unexpected EOF in multiplexed stream');
}

/** One frame, as the daemon writes it (for tests and fakes). */
export function encodeFrame(stream: StdStream, data: Buffer | string): Buffer {
  const payload = Buffer.from(data);
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

/**
 * Copy a multiplexed stream to stdout/stderr (docker's stdcopy.StdCopy), honouring
 * back-pressure. A Systemerr frame ends the copy with the daemon's message.
 */
export async function demuxTo(body: AsyncIterable<Buffer>, stdout: NodeJS.WritableStream | undefined, stderr: NodeJS.WritableStream | undefined): Promise<void> {
  for await (const frame of demuxFrames(body)) {
    if (frame.stream === StdStream.Systemerr) throw new Error(`Error from daemon in stream: ${frame.data.toString('utf8')}`);
    const out = frame.stream === StdStream.Stderr ? stderr : stdout;
    if (out) await write(out, frame.data);
  }
}

/** Raw copy (tty output) with back-pressure. */
export async function copyTo(body: AsyncIterable<Buffer>, out: NodeJS.WritableStream): Promise<void> {
  for await (const chunk of body) await write(out, chunk);
}

export function write(out: NodeJS.WritableStream, data: Buffer | string): Promise<void> {
  return new Promise((resolve, reject) => {
    const ok = out.write(data, (err) => {
      if (err) reject(err);
    });
    if (ok) resolve();
    else out.once('drain', resolve);
  });
}

/** Read a whole body. */
export async function readAll(body: Readable | AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of body) parts.push(Buffer.isBuffer(c) ? c : Buffer.from(c as string));
  return Buffer.concat(parts);
}
