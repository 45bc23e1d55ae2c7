// Stands between an accepted socket and node:http so that a request can take the raw
// connection over (Docker's "hijack") at any time — including the plain, non-Upgrade form
// that old clients and docker-py use, where node:http would otherwise keep parsing the
// attached stdin bytes as further HTTP requests. node:http reads through this Duplex (it
// is documented to accept any Duplex via the 'connection' event); `hijack()` stops the
// forwarding and hands back the socket with whatever it had buffered.
import { Duplex } from 'node:stream';
import type { Socket } from 'node:net';

export class ConnectionTap extends Duplex {
  private taken = false;
  private readonly onData = (chunk: Buffer): void => {
    if (!this.push(chunk)) this.raw.pause();
  };
  private readonly onEnd = (): void => {
    this.push(null);
  };
  private readonly onError = (err: Error): void => {
    this.destroy(err);
  };
  private readonly onClose = (): void => {
    this.destroy();
  };
  private readonly onTimeout = (): void => {
    this.emit('timeout');
  };

  constructor(readonly raw: Socket) {
    super({ allowHalfOpen: true });
    raw.on('data', this.onData);
    raw.on('end', this.onEnd);
    raw.on('error', this.onError);
    raw.on('close', this.onClose);
    raw.on('timeout', this.onTimeout);
  }

  get hijacked(): boolean {
    return this.taken;
  }

  get remoteAddress(): string | undefined {
    return this.raw.remoteAddress;
  }

  get remotePort(): number | undefined {
    return this.raw.remotePort;
  }

  get remoteFamily(): string | undefined {
    return this.raw.remoteFamily;
  }

  get localAddress(): string | undefined {
    return this.raw.localAddress;
  }

  get localPort(): number | undefined {
    return this.raw.localPort;
  }

  get encrypted(): boolean {
    return 'encrypted' in this.raw && this.raw.encrypted === true;
  }

  setTimeout(ms: number, callback?: () => void): this {
    this.raw.setTimeout(ms);
    if (callback !== undefined) this.once('timeout', callback);
    return this;
  }

  setNoDelay(noDelay?: boolean): this {
    this.raw.setNoDelay(noDelay);
    return this;
  }

  setKeepAlive(enable?: boolean, initialDelay?: number): this {
    this.raw.setKeepAlive(enable, initialDelay);
    return this;
  }

  override _read(): void {
    if (!this.taken) this.raw.resume();
  }

  override _write(chunk: Buffer, encoding: BufferEncoding, callback: (err?: Error | null) => void): void {
    // Once taken, the socket belongs to the hijacker: node:http may not write into it.
    if (this.taken) callback();
    else this.raw.write(chunk, encoding, callback);
  }

  override _final(callback: (err?: Error | null) => void): void {
    if (this.taken) {
      callback();
      return;
    }
    this.raw.end(() => callback());
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    if (!this.taken) this.raw.destroy();
    callback(err);
  }

  /**
   * Stops feeding node:http and returns the socket, paused, with the bytes it had already
   * read but node:http had not consumed. The tap is destroyed when the socket closes, so
   * node:http still cleans up its request.
   */
  hijack(): { socket: Socket; head: Buffer } {
    if (this.taken) throw new Error('connection already hijacked');
    this.taken = true;
    const raw = this.raw;
    raw.pause();
    raw.off('data', this.onData);
    raw.off('end', this.onEnd);
    raw.off('error', this.onError);
    raw.off('timeout', this.onTimeout);
    raw.off('close', this.onClose);
    raw.once('close', () => this.destroy());
    const buffered: Buffer[] = [];
    for (let chunk: unknown = this.read(); chunk !== null; chunk = this.read()) buffered.push(chunk as Buffer);
    return { socket: raw, head: Buffer.concat(buffered) };
  }
}
