// A long-lived `berth-shim --spawner` that forks shims for a daemon (native/shim/spawner.c).
// Spawning a process from Node forks the whole daemon: 5-7 ms of a ~90 MiB process's page
// tables, during which the event loop stands still. The spawner is a small static process
// whose fork costs a fraction of that. Each shim it forks connects back to the daemon's
// socket and names its request by a token; from there on the socket is the shim's caller
// socket, exactly as with a spawned shim.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { internal } from '../util/errors.js';

const TOKEN_LEN = 32;
/** sun_path is 108 bytes with its NUL. */
const MAX_SOCKET_PATH = 107;
const CONNECT_TIMEOUT_MS = 30_000;
/**
 * A shim's exit code when it failed before connecting back (spawner.c). Other exits come
 * after the connection, which carries the shim's own error; a monitor's first process exits
 * 0 once it has detached, possibly before the connection is seen here.
 */
const EXIT_NOT_CONNECTED = 121;

interface Pending {
  socket: (s: Socket) => void;
  fail: (err: Error) => void;
  pid?: number;
  exited: (code: number) => void;
}

export interface SpawnedShim {
  /** The shim's caller socket, once it has connected back. */
  socket: Promise<Socket>;
  /** The shim's exit code. */
  exited: Promise<number>;
}

export class ShimSpawner {
  private readonly byToken = new Map<string, Pending>();
  private readonly byPid = new Map<number, Pending>();
  private lines = '';
  private dead: Error | undefined;

  private constructor(
    private readonly child: ChildProcess,
    private readonly server: Server,
    private readonly socketPath: string,
  ) {
    const control = child.stdio[3] as Socket;
    control.setEncoding('utf8').on('data', (text: string) => this.onReplies(text));
    control.on('error', () => undefined);
    child.on('exit', (code, signal) => this.stop(internal(`the shim spawner exited (${signal ?? `status ${code}`})`)));
    server.on('connection', (s) => this.onConnection(s));
  }

  /**
   * Starts the spawner with its socket at socketPath. Undefined when the path is too long
   * for a unix socket; the caller then spawns shims itself.
   */
  static async start(shimPath: string, socketPath: string): Promise<ShimSpawner | undefined> {
    if (Buffer.byteLength(socketPath) > MAX_SOCKET_PATH) return undefined;
    rmSync(socketPath, { force: true });
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, () => resolve());
    });
    server.unref();
    const child = spawn(shimPath, ['--spawner', '3'], { stdio: ['ignore', 'ignore', 'ignore', 'pipe'] });
    child.unref();
    (child.stdio[3] as Socket).unref();
    return new ShimSpawner(child, server, socketPath);
  }

  /** The spawner process's pid. */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Whether it still serves requests (a dead spawner is not restarted: callers spawn themselves). */
  get alive(): boolean {
    return this.dead === undefined;
  }

  /** Forks a shim that will read its program from programPath (and unlink it). */
  spawn(programPath: string): SpawnedShim {
    if (this.dead) throw this.dead;
    const token = randomBytes(TOKEN_LEN / 2).toString('hex');
    let pending!: Pending;
    const socket = new Promise<Socket>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.byToken.delete(token);
        reject(internal('berth-shim did not connect back to berthd within 30 s'));
      }, CONNECT_TIMEOUT_MS);
      timer.unref();
      pending = {
        socket: (s) => (clearTimeout(timer), resolve(s)),
        fail: (err) => (clearTimeout(timer), reject(err)),
        exited: () => undefined,
      };
    });
    const exited = new Promise<number>((resolve) => (pending.exited = resolve));
    void exited.then((code) => {
      if (code !== EXIT_NOT_CONNECTED) return;
      this.byToken.delete(token);
      pending.fail(internal(`berth-shim could not read its program ${programPath} or connect back to ${this.socketPath}`));
    });
    socket.catch(() => undefined);
    this.byToken.set(token, pending);
    // Only a shim on its way keeps the process alive (the server is unref'd otherwise).
    this.server.ref();
    void socket.then(this.settled, this.settled);
    (this.child.stdio[3] as Socket).write(`${token}\0${this.socketPath}\0${programPath}\0`);
    return { socket, exited };
  }

  private readonly settled = (): void => {
    if (this.byToken.size === 0) this.server.unref();
  };

  close(): void {
    this.stop(internal('berthd is shutting down'));
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }

  private stop(err: Error): void {
    if (this.dead) return;
    this.dead = err;
    this.server.close();
    rmSync(this.socketPath, { force: true });
    for (const p of this.byToken.values()) p.fail(err);
    this.byToken.clear();
    for (const p of this.byPid.values()) p.exited(-1);
    this.byPid.clear();
  }

  private onReplies(text: string): void {
    this.lines += text;
    let nl: number;
    while ((nl = this.lines.indexOf('\n')) >= 0) {
      const [kind, key, value] = this.lines.slice(0, nl).split(' ');
      this.lines = this.lines.slice(nl + 1);
      this.onReply(kind!, key ?? '', Number(value));
    }
  }

  private onReply(kind: string, key: string, value: number): void {
    if (kind === 'P') {
      const p = this.byToken.get(key);
      if (p) {
        p.pid = value;
        this.byPid.set(value, p);
      }
    } else if (kind === 'F') {
      const p = this.byToken.get(key);
      this.byToken.delete(key);
      p?.fail(internal(`forking berth-shim: errno ${value}`));
    } else if (kind === 'X') {
      const p = this.byPid.get(Number(key));
      this.byPid.delete(Number(key));
      p?.exited(value);
    }
  }

  private onConnection(s: Socket): void {
    const timer = setTimeout(() => s.destroy(), CONNECT_TIMEOUT_MS);
    const readToken = (): void => {
      const token = s.read(TOKEN_LEN) as Buffer | null;
      if (token === null) return;
      clearTimeout(timer);
      s.off('readable', readToken);
      const p = this.byToken.get(token.toString('latin1'));
      if (!p) {
        s.destroy();
        return;
      }
      this.byToken.delete(token.toString('latin1'));
      p.socket(s);
    };
    s.on('readable', readToken);
    s.on('error', () => undefined);
  }
}
