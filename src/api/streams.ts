// Response framing: Docker's multiplexed stdout/stderr frames, log timestamps, newline-
// delimited JSON progress with the trailing error line, and iteration that stops when the
// client goes away.
import type { ServerResponse } from 'node:http';
import type { JSONMessage } from '../oci/engine-api.js';
import { errorMessage } from './http-errors.js';

export const MEDIA_RAW_STREAM = 'application/vnd.docker.raw-stream';
export const MEDIA_MULTIPLEXED_STREAM = 'application/vnd.docker.multiplexed-stream';

export enum StdStream {
  Stdin = 0,
  Stdout = 1,
  Stderr = 2,
  /** moby's Systemerr: errors of the daemon itself, in-band. */
  Systemerr = 3,
}

/** One frame of the multiplexed stream: [stream, 0, 0, 0, length (big-endian u32)] + payload. */
export function muxFrame(stream: StdStream, payload: Buffer): Buffer {
  const frame = Buffer.allocUnsafe(8 + payload.length);
  frame.writeUInt32BE(0, 0);
  frame[0] = stream;
  frame.writeUInt32BE(payload.length, 4);
  payload.copy(frame, 8);
  return frame;
}

/** Splits a multiplexed byte stream back into frames (for clients and tests). */
export class MuxDecoder {
  private pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): { stream: StdStream; payload: Buffer }[] {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const frames: { stream: StdStream; payload: Buffer }[] = [];
    while (this.pending.length >= 8) {
      const length = this.pending.readUInt32BE(4);
      if (this.pending.length < 8 + length) break;
      frames.push({ stream: this.pending[0] as StdStream, payload: this.pending.subarray(8, 8 + length) });
      this.pending = this.pending.subarray(8 + length);
    }
    return frames;
  }

  get leftover(): number {
    return this.pending.length;
  }
}

/**
 * A log time as `docker logs -t` prints it: RFC 3339 with exactly nine fraction digits
 * (moby's rfc3339NanoFixed), whatever precision the log stored.
 */
export function fixedNanoTimestamp(time: string): string {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/i.exec(time);
  if (m === null) return time;
  return `${m[1]}.${(m[2] ?? '').slice(0, 9).padEnd(9, '0')}${m[3]!.toUpperCase()}`;
}

/**
 * Newline-delimited JSON on a response, one message per write (node:http sends each write
 * at once). Headers go out with the first message, so a failure before it can still be an
 * ordinary error response; after it, the failure becomes a final errorDetail line.
 */
export class JsonLines {
  constructor(private readonly res: ServerResponse) {}

  get started(): boolean {
    return this.res.headersSent;
  }

  /** Sends the 200 and headers now (for streams whose first message may be long in coming). */
  start(): void {
    if (this.res.headersSent) return;
    this.res.writeHead(200, { 'Content-Type': 'application/json' });
    this.res.flushHeaders();
  }

  write(message: unknown): void {
    if (this.res.destroyed || this.res.writableEnded) return;
    this.start();
    this.res.write(`${JSON.stringify(message)}\n`);
  }

  /** The final line of a failed stream, as moby's streamformatter.FormatError writes it. */
  writeError(err: unknown): void {
    const message = errorMessage(err);
    const line: JSONMessage = { errorDetail: { message }, error: message };
    this.write(line);
  }

  end(): void {
    if (this.res.destroyed || this.res.writableEnded) return;
    this.start();
    this.res.end();
  }
}

/**
 * Runs `each` for every item until the iterable ends or `signal` aborts. Abort does not
 * wait for a pending next(): the iterator's return() is called and the loop leaves at once.
 */
export async function forEachUntilAborted<T>(
  iterable: AsyncIterable<T>,
  signal: AbortSignal,
  each: (item: T) => void | Promise<void>,
): Promise<void> {
  if (signal.aborted) return;
  const iterator = iterable[Symbol.asyncIterator]();
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<'aborted'>((resolve) => {
    onAbort = () => resolve('aborted');
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    for (;;) {
      const next = await Promise.race([iterator.next(), aborted]);
      if (next === 'aborted') {
        void Promise.resolve(iterator.return?.()).catch(() => undefined);
        return;
      }
      if (next.done === true) return;
      await each(next.value);
    }
  } catch (err) {
    void Promise.resolve(iterator.return?.()).catch(() => undefined);
    throw err;
  } finally {
    if (onAbort !== undefined) signal.removeEventListener('abort', onAbort);
  }
}
