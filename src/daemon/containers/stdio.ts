// Connections to a process's stdio through its shim's attach.sock (native/shim/monitor_attach.c):
// the shim already speaks Docker's multiplexed framing without a tty and raw bytes with
// one, so the daemon only filters streams the client did not ask for and watches stdin
// for the detach keys. Each attacher has its own connection to the shim.
import { closeSync, openSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { basename, dirname } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { conflict, invalidArgument } from '../../util/errors.js';
import type { StdioStream } from '../backend.js';

export const DEFAULT_DETACH_KEYS = 'ctrl-p,ctrl-q';

/** Connect to a unix socket whose path may exceed sun_path (108 bytes): go through a directory fd. */
export function connectUnix(path: string): Promise<Socket> {
  let dirFd: number | undefined;
  let target = path;
  if (Buffer.byteLength(path) > 100) {
    dirFd = openSync(dirname(path), 'r');
    target = `/proc/self/fd/${dirFd}/${basename(path)}`;
  }
  return new Promise<Socket>((resolve, reject) => {
    const socket = connect(target);
    const done = (): void => {
      if (dirFd !== undefined) closeSync(dirFd);
      dirFd = undefined;
    };
    socket.once('connect', () => {
      done();
      resolve(socket);
    });
    socket.once('error', (err) => {
      done();
      reject(err);
    });
  });
}

/** Docker's detach key syntax ("ctrl-p,ctrl-q", "a,ctrl-@") to bytes (moby's term.ToBytes). */
export function parseDetachKeys(spec: string): Buffer {
  if (spec === '') return Buffer.alloc(0);
  const out: number[] = [];
  for (const raw of spec.split(',')) {
    const key = raw.trim().toLowerCase();
    if (key.length === 1 && raw.trim().length === 1) {
      out.push(raw.trim().charCodeAt(0));
      continue;
    }
    const m = /^ctrl-([a-z@[\\\]^_])$/.exec(key);
    if (!m) throw invalidArgument(`Invalid detach keys (${spec}) provided`);
    const c = m[1]!;
    out.push(c >= 'a' && c <= 'z' ? c.charCodeAt(0) - 96 : { '@': 0, '[': 27, '\\': 28, ']': 29, '^': 30, _: 31 }[c]!);
  }
  return Buffer.from(out);
}

/** Splits Docker's multiplexed frames and keeps those of the wanted streams (1 stdout, 2 stderr). */
export class FrameFilter {
  private pending: Buffer = Buffer.alloc(0);

  constructor(private readonly keep: ReadonlySet<number>) {}

  push(chunk: Buffer): Buffer[] {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const out: Buffer[] = [];
    while (this.pending.length >= 8) {
      const len = this.pending.readUInt32BE(4);
      if (this.pending.length < 8 + len) break;
      if (this.keep.has(this.pending[0]!)) out.push(this.pending.subarray(0, 8 + len));
      this.pending = this.pending.subarray(8 + len);
    }
    return out;
  }
}

/** Passes stdin through until the detach sequence is typed; a partial match is held back, then flushed. */
export class DetachWatcher {
  private held = 0;

  constructor(private readonly keys: Buffer) {}

  /** The bytes to forward, and whether the keys were completed in this chunk. */
  scan(chunk: Buffer): { forward: Buffer; detached: boolean } {
    if (this.keys.length === 0) return { forward: chunk, detached: false };
    const out: number[] = [];
    for (const byte of chunk) {
      if (byte === this.keys[this.held]) {
        this.held++;
        if (this.held === this.keys.length) return { forward: Buffer.from(out), detached: true };
        continue;
      }
      for (let i = 0; i < this.held; i++) out.push(this.keys[i]!);
      this.held = 0;
      if (byte === this.keys[0]) this.held = 1;
      else out.push(byte);
    }
    return { forward: Buffer.from(out), detached: false };
  }
}

export interface StdioWant {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  detachKeys: Buffer;
}

/**
 * A client's view of a process's stdio. It exists before the process does (attach before
 * start): `connect` joins it to the shim's attach.sock when the process is about to run.
 */
export class StdioSession implements StdioStream {
  readonly output = new PassThrough();
  readonly input?: NodeJS.WritableStream;
  private socket: Socket | undefined;
  private readonly early: Buffer[] = [];
  private inputEnded = false;
  private closed = false;
  private readonly detach: DetachWatcher;
  private readonly filter: FrameFilter | undefined;
  /** Called once the session ends (exit, detach or close). */
  onClose: (() => void) | undefined;

  constructor(readonly tty: boolean, private readonly want: StdioWant) {
    this.detach = new DetachWatcher(want.detachKeys);
    const streams = new Set<number>([...(want.stdout ? [1] : []), ...(want.stderr ? [2] : [])]);
    this.filter = !tty && streams.size < 2 ? new FrameFilter(streams) : undefined;
    if (want.stdin) this.input = this.makeInput();
    this.output.on('close', () => this.close());
  }

  private makeInput(): Writable {
    return new Writable({
      write: (chunk: Buffer, _enc, cb) => {
        if (this.closed) return cb();
        const { forward, detached } = this.detach.scan(chunk);
        if (forward.length > 0) this.sendInput(forward);
        if (detached) this.close();
        cb();
      },
      final: (cb) => {
        // The shim closes the process's stdin (if StdinOnce) when a client half-closes. As in
        // dockerd, that is only for a client without a tty: the end of a terminal client's
        // input (a detach, a hang-up) leaves the container's terminal open.
        if (!this.closed && !this.tty) {
          this.inputEnded = true;
          this.socket?.end();
        }
        cb();
      },
    });
  }

  private sendInput(data: Buffer): void {
    if (this.socket) this.socket.write(data);
    else this.early.push(data);
  }

  /** Join the shim; output flows until it closes the connection (the process exited). */
  connect(socket: Socket): void {
    if (this.closed) {
      socket.destroy();
      return;
    }
    this.socket = socket;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      if (this.filter) for (const frame of this.filter.push(chunk)) this.output.write(frame);
      else if (this.want.stdout || this.want.stderr) this.output.write(chunk);
    });
    socket.on('end', () => this.finish());
    socket.on('error', () => this.finish());
    socket.on('close', () => this.finish());
    for (const data of this.early.splice(0)) socket.write(data);
    if (this.inputEnded) socket.end();
  }

  private finish(): void {
    if (this.closed) return;
    this.closed = true;
    this.output.end();
    this.onClose?.();
  }

  /**
   * Detach or hang up. The shim closes a StdinOnce stdin when a client's connection ends,
   * which Docker does only for a client that attached stdin without a tty; any other
   * connection is left open, unread, until the shim drops it (at exit, or once 1 MiB of
   * output has queued up for it), so a detached `run -it` shell keeps its terminal.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.want.stdin && !this.tty) this.socket?.destroy();
    else if (this.socket) {
      this.socket.removeAllListeners('data');
      this.socket.pause();
      this.socket.unref();
    }
    this.output.end();
    this.onClose?.();
  }

  get isClosed(): boolean {
    return this.closed;
  }
}

/** One command on a shim's ctl.sock; resolves on "ok", rejects with the shim's error. */
export async function ctlCommand(sock: string, command: string): Promise<void> {
  const socket = await connectUnix(sock);
  return new Promise((resolve, reject) => {
    let reply = '';
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => {
      reply += d;
      const nl = reply.indexOf('\n');
      if (nl < 0) return;
      socket.destroy();
      const line = reply.slice(0, nl);
      if (line === 'ok') resolve();
      else reject(conflict(line.replace(/^error /, '')));
    });
    socket.on('error', reject);
    socket.on('close', () => reject(conflict(`no reply from ${sock}`)));
    socket.write(`${command}\n`);
  });
}
