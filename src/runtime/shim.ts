// Driving berth-shim: send it a setup program, answer its requests (hooks,
// network wiring), and learn the container's pid or a readable error.
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import type { Socket } from 'node:net';
import { constants as osConstants } from 'node:os';
import { join } from 'node:path';
import { closeSync, openSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { BerthError, internal } from '../util/errors.js';
import { packageRoot } from '../util/package-root.js';
import { encodeProgram, type ProgramOp } from './program.js';
import type { ShimSpawner } from './shim-spawner.js';

export const SHIM_PATH = process.env.BERTH_SHIM ?? join(packageRoot(), 'build/native/berth-shim');

const MSG = { GO: 1, CREATED: 2, HOOKS: 3, READY: 4, ERROR: 5 } as const;
const HEADER = 16;

interface Message {
  type: number;
  a: number;
  b: number;
  data: string;
}

export interface ShimHandlers {
  /** The init exists (only when the program has WAIT_AFTER_CREATE). */
  onCreated?: (pid: number) => Promise<void>;
  /** The mounts are done: run prestart and createRuntime hooks. */
  onHooks?: (pid: number) => Promise<void>;
}

export interface ShimSession {
  pid: number;
  /** The shim process itself when spawned here: in wait mode its exit status is the container's. */
  child?: ChildProcess;
  /** Resolves with the shim's exit code (wait mode: the process's status). */
  exited: Promise<number>;
}

/** Reads framed messages from the shim's socket, one at a time. */
class MessageReader {
  private buf = Buffer.alloc(0);
  private waiting: ((m: Message | undefined) => void) | undefined;
  private queue: Message[] = [];
  private ended = false;

  constructor(socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buf = Buffer.concat([this.buf, chunk]);
      this.drain();
    });
    socket.on('end', () => this.finish());
    socket.on('close', () => this.finish());
    socket.on('error', () => this.finish());
    // A socket handed over by the spawner was read in paused mode (its token): flow again.
    socket.resume();
  }

  private finish(): void {
    this.ended = true;
    this.deliver();
  }

  private drain(): void {
    while (this.buf.length >= HEADER) {
      const len = this.buf.readUInt32LE(12);
      if (this.buf.length < HEADER + len) break;
      this.queue.push({
        type: this.buf.readUInt32LE(0),
        a: this.buf.readInt32LE(4),
        b: this.buf.readInt32LE(8),
        data: this.buf.subarray(HEADER, HEADER + len).toString('utf8'),
      });
      this.buf = this.buf.subarray(HEADER + len);
    }
    this.deliver();
  }

  private deliver(): void {
    if (!this.waiting) return;
    const next = this.queue.shift();
    if (next || this.ended) {
      const w = this.waiting;
      this.waiting = undefined;
      w(next);
    }
  }

  next(): Promise<Message | undefined> {
    return new Promise((resolve) => {
      this.waiting = resolve;
      this.deliver();
    });
  }
}

function go(socket: Socket): void {
  const m = Buffer.alloc(HEADER);
  m.writeUInt32LE(MSG.GO, 0);
  socket.write(m);
}

function setupError(ops: readonly ProgramOp[], m: Message): BerthError {
  const op = ops[m.a];
  const what = op ? op.what : 'setting up the container';
  // The shim's message already names the detail; prefix the step it belongs to.
  return new BerthError(m.b === 1 || m.b === 13 ? 'Forbidden' : 'Internal', `${what}: ${m.data}`);
}

export interface SpawnShimOptions {
  ops: ProgramOp[];
  /** A directory for the program's (immediately unlinked) temporary file. */
  programDir: string;
  /** stdio for the shim (and, outside monitor mode, the container). */
  stdio: 'inherit' | 'ignore';
  preserveFds: number;
  handlers?: ShimHandlers;
  /** Forks the shim instead of this process, when its stdio is 'ignore' and no fds are kept. */
  spawner?: ShimSpawner;
}

/**
 * The program goes to the shim as an unlinked file on an inherited fd rather than
 * over the socket: the shim can start at once, while Node is still finishing its own
 * child-process bookkeeping (several ms) before it could write to the socket.
 */
function programPath(dir: string, program: Buffer): string {
  const path = join(dir, `.program-${process.pid}-${randomBytes(6).toString('hex')}`);
  writeFileSync(path, program, { mode: 0o600 });
  return path;
}

function programFile(dir: string, program: Buffer): number {
  const path = programPath(dir, program);
  try {
    return openSync(path, 'r');
  } finally {
    unlinkSync(path);
  }
}

interface StartedShim {
  socket: Socket;
  exited: Promise<number>;
  child?: ChildProcess;
}

function spawnDirectly(opts: SpawnShimOptions): { started: StartedShim; spawnFailed: Promise<never> } {
  const syncIndex = 3 + opts.preserveFds;
  const programFd = programFile(opts.programDir, encodeProgram(opts.ops));
  const stdio: StdioOptions = [opts.stdio, opts.stdio, opts.stdio];
  for (let fd = 3; fd < syncIndex; fd++) stdio.push(fd);
  stdio.push('pipe', programFd);
  let child: ChildProcess;
  try {
    child = spawn(SHIM_PATH, [String(syncIndex), String(syncIndex + 1)], { stdio });
  } finally {
    closeSync(programFd);
  }
  const exited = new Promise<number>((resolve) => {
    child.on('exit', (code, signal) => resolve(code ?? 128 + (signal ? signalNumber(signal) : 0)));
  });
  const spawnFailed = new Promise<never>((_, reject) => {
    child.on('error', (err) => reject(internal(`starting ${SHIM_PATH}: ${err.message}`, err)));
  });
  return { started: { socket: child.stdio[syncIndex] as Socket, exited, child }, spawnFailed };
}

async function spawnThrough(spawner: ShimSpawner, opts: SpawnShimOptions): Promise<StartedShim> {
  const path = programPath(opts.programDir, encodeProgram(opts.ops));
  try {
    const shim = spawner.spawn(path);
    return { socket: await shim.socket, exited: shim.exited };
  } catch (err) {
    rmSync(path, { force: true });
    throw err;
  }
}

export async function spawnShim(opts: SpawnShimOptions): Promise<ShimSession> {
  const viaSpawner = opts.spawner?.alive && opts.stdio === 'ignore' && opts.preserveFds === 0;
  const { started, spawnFailed } = viaSpawner
    ? { started: await spawnThrough(opts.spawner!, opts), spawnFailed: new Promise<never>(() => undefined) }
    : spawnDirectly(opts);
  const { socket, exited, child } = started;
  const reader = new MessageReader(socket);
  const run = async (): Promise<ShimSession> => {
    let pid = -1;
    for (;;) {
      const m = await reader.next();
      if (!m) {
        const code = await exited;
        throw internal(`berth-shim exited (status ${code}) before the container was created`);
      }
      if (m.type === MSG.ERROR) throw setupError(opts.ops, m);
      if (m.type === MSG.CREATED) {
        pid = m.a;
        await opts.handlers?.onCreated?.(pid);
        go(socket);
      } else if (m.type === MSG.HOOKS) {
        await opts.handlers?.onHooks?.(m.a);
        go(socket);
      } else if (m.type === MSG.READY) {
        pid = m.a;
        socket.unref();
        child?.unref();
        return { pid, child, exited };
      }
    }
  };
  try {
    return await Promise.race([run(), spawnFailed]);
  } catch (err) {
    socket.destroy();
    throw err;
  }
}

function signalNumber(name: NodeJS.Signals): number {
  return osConstants.signals[name] ?? 0;
}
