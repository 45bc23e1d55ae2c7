// `docker exec`: extra processes in a running container. Each runs under its own
// monitoring shim (state in <exec-root>/execs/<id>/: attach.sock, ctl.sock, exit), held
// at an exec fifo until the client's stdio is connected, so no output is lost. Exec
// configurations live in memory, as in dockerd.
import { closeSync, existsSync, mkdirSync, openSync, rmSync, watch, writeSync, constants as fsc } from 'node:fs';
import { join } from 'node:path';
import type { ExecCreateRequest, ExecInspect } from '../../oci/engine-api.js';
import type { Process } from '../../oci/runtime-spec.js';
import type { Runtime } from '../../runtime/container.js';
import { demuxFrames } from '../../client/streams.js';
import { conflict, invalidArgument, notFound } from '../../util/errors.js';
import { resolveUser } from '../spec/index.js';
import type { ContainerManager } from './manager.js';
import { newId } from './names.js';
import { connectUnix, ctlCommand, DEFAULT_DETACH_KEYS, parseDetachKeys, StdioSession } from './stdio.js';
export { ctlCommand } from './stdio.js';
import type { ContainerRecord } from './store.js';

const MAX_PROBE_OUTPUT = 4096;
/** How long a finished probe's output may trail its exit (a background child holding the pipe). */
const OUTPUT_GRACE_MS = 1000;

/** All capabilities, for `exec --privileged`. */
const ALL_CAPS_FROM = 'CAP_';

interface ExecRecord {
  id: string;
  containerId: string;
  req: ExecCreateRequest;
  running: boolean;
  started: boolean;
  exitCode: number | null;
  pid: number;
  session?: StdioSession;
  exited: Promise<void>;
  markExited: () => void;
}

export interface ExecStartOptions {
  detach: boolean;
  tty?: boolean;
  consoleSize?: [number, number];
}

export class ExecManager {
  private readonly execs = new Map<string, ExecRecord>();

  constructor(private readonly containers: ContainerManager, private readonly runtime: Runtime, private readonly execRoot: string) {}

  private dir(id: string): string {
    return join(this.execRoot, 'execs', id);
  }

  idsOf(containerId: string): string[] {
    return [...this.execs.values()].filter((e) => e.containerId === containerId).map((e) => e.id);
  }

  create(idOrName: string, req: ExecCreateRequest): { Id: string } {
    const rec = this.containers.find(idOrName);
    if (!Array.isArray(req.Cmd) || req.Cmd.length === 0 || req.Cmd[0] === '') throw invalidArgument('No exec command specified');
    this.requireRunning(rec);
    const id = newId();
    let markExited!: () => void;
    const exited = new Promise<void>((r) => (markExited = r));
    this.execs.set(id, { id, containerId: rec.ID, req, running: false, started: false, exitCode: null, pid: 0, exited, markExited });
    this.containers.emitFor(rec, `exec_create: ${req.Cmd.join(' ')}`, { execID: id });
    return { Id: id };
  }

  private requireRunning(rec: ContainerRecord): void {
    if (rec.State.Paused) throw conflict(`Container ${rec.ID} is paused, unpause the container before exec`);
    if (!rec.State.Running) throw conflict(`Container ${rec.ID} is not running`);
    if (rec.State.Restarting) throw conflict(`Container ${rec.ID} is restarting, wait until the container is running`);
  }

  get(id: string): ExecRecord {
    const e = this.execs.get(id);
    if (!e) throw notFound(`No such exec instance: ${id}`);
    return e;
  }

  async start(id: string, o: ExecStartOptions): Promise<StdioSession | undefined> {
    const e = this.get(id);
    if (e.started) throw conflict(`Error: Exec command ${id} has already run`);
    const rec = this.containers.find(e.containerId);
    this.requireRunning(rec);
    e.started = true;
    const tty = o.tty ?? e.req.Tty === true;
    const stdin = e.req.AttachStdin === true;
    const session = o.detach ? undefined : new StdioSession(tty, {
      stdin, stdout: e.req.AttachStdout !== false, stderr: e.req.AttachStderr !== false,
      detachKeys: parseDetachKeys(e.req.DetachKeys ?? DEFAULT_DETACH_KEYS),
    });
    const dir = this.dir(id);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const fifo = join(dir, 'exec.fifo');
    try {
      const proc = await this.process(rec, e.req, tty, o.consoleSize ?? e.req.ConsoleSize ?? undefined);
      const shim = await this.runtime.exec(rec.ID, proc, {
        detach: false,
        monitored: { stateDir: dir, execFifo: fifo, monitor: { logMaxSize: 0, logMaxFiles: 1, stdin, stdinOnce: true } },
      });
      e.pid = shim.pid;
      if (session) {
        session.connect(await connectUnix(join(dir, 'attach.sock')));
        await ctlCommand(join(dir, 'ctl.sock'), 'ping'); // the shim has accepted it: no output is missed
      }
      this.watchExit(e, rec);
      releaseFifo(fifo);
      e.running = true;
      e.session = session;
      this.containers.emitFor(rec, `exec_start: ${e.req.Cmd.join(' ')}`, { execID: id });
      return session;
    } catch (err) {
      session?.close();
      rmSync(dir, { recursive: true, force: true });
      e.exitCode = 126;
      e.markExited();
      throw err;
    }
  }

  /** The container's process settings with the exec's overrides (docker exec -u -w -e --privileged -t). */
  private async process(rec: ContainerRecord, req: ExecCreateRequest, tty: boolean, size: [number, number] | undefined): Promise<Process> {
    const base = this.runtime.load(rec.ID).spec.process;
    if (!base) throw conflict(`container ${rec.ID} has no process configuration`);
    const user = req.User ? await resolveUser(`${this.containers.liveRootfs(rec)}/`, req.User) : base.user;
    const env = mergeEnv(base.env ?? [], req.Env ?? []);
    if (tty && !env.some((v) => v.startsWith('TERM='))) env.push('TERM=xterm');
    const caps = req.Privileged ? allCapabilities() : base.capabilities;
    return {
      ...base, args: req.Cmd, env, cwd: req.WorkingDir || base.cwd, terminal: tty, user, capabilities: caps,
      consoleSize: size ? { height: size[0], width: size[1] } : undefined,
    };
  }

  private watchExit(e: ExecRecord, rec: ContainerRecord): void {
    const dir = this.dir(e.id);
    const done = (): void => {
      if (!e.running && e.exitCode !== null) return;
      watcher.close();
      const exit = this.runtime.exitRecordIn(dir);
      e.running = false;
      e.exitCode = exit?.exitCode ?? 126;
      rmSync(dir, { recursive: true, force: true });
      this.containers.emitFor(rec, 'exec_die', { execID: e.id, exitCode: String(e.exitCode) });
      e.markExited();
      // dockerd forgets an exec five minutes after it ended; inspect until then.
      setTimeout(() => this.execs.delete(e.id), 5 * 60_000).unref();
    };
    const watcher = watch(dir, { persistent: false }, (_ev, file) => {
      if (file === 'exit' && existsSync(join(dir, 'exit'))) done();
    });
    watcher.on('error', () => undefined);
    if (existsSync(join(dir, 'exit'))) done();
  }

  /**
   * Run a command to completion and collect its output (healthchecks), as dockerd keeps it:
   * the first 4096 bytes. The exit file can land before the last output is read, so the
   * output is read to its end; a grandchild still holding the pipe gets a short grace.
   */
  async run(containerId: string, cmd: string[], timeoutMs: number): Promise<{ exitCode: number; output: string; timedOut: boolean }> {
    const { Id } = this.create(containerId, { Cmd: cmd, AttachStdout: true, AttachStderr: true });
    const e = this.get(Id);
    const session = await this.start(Id, { detach: false, tty: false });
    const output = session ? collectOutput(session.output, MAX_PROBE_OUTPUT) : Promise.resolve(Buffer.alloc(0));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(e.pid, 9);
      } catch {
        // gone already
      }
    }, timeoutMs);
    await e.exited;
    clearTimeout(timer);
    const grace = setTimeout(() => session?.close(), OUTPUT_GRACE_MS);
    const bytes = await output;
    clearTimeout(grace);
    this.execs.delete(Id);
    return { exitCode: e.exitCode ?? -1, output: bytes.toString('utf8'), timedOut };
  }

  async resize(id: string, height: number, width: number): Promise<void> {
    const e = this.get(id);
    if (!e.running) throw conflict(`Exec ${id} is not running`);
    await ctlCommand(join(this.dir(id), 'ctl.sock'), `resize ${height} ${width}`);
  }

  inspect(id: string): ExecInspect {
    const e = this.get(id);
    const [entrypoint = '', ...args] = e.req.Cmd;
    return {
      CanRemove: false, DetachKeys: e.req.DetachKeys ?? '', ID: e.id, Running: e.running, ExitCode: e.exitCode,
      ProcessConfig: { privileged: e.req.Privileged === true, user: e.req.User ?? '', tty: e.req.Tty === true, entrypoint, arguments: args },
      OpenStdin: e.req.AttachStdin === true, OpenStderr: e.req.AttachStderr === true, OpenStdout: e.req.AttachStdout === true,
      ContainerID: e.containerId, Pid: e.pid,
    };
  }
}

function releaseFifo(fifo: string): void {
  const fd = openSync(fifo, fsc.O_WRONLY | fsc.O_NONBLOCK);
  try {
    writeSync(fd, Buffer.from('0'));
  } finally {
    closeSync(fd);
  }
  rmSync(fifo, { force: true });
}

/** Later entries replace earlier ones with the same name (exec -e over the container's env). */
export function mergeEnv(base: string[], extra: string[]): string[] {
  const out = new Map<string, string>();
  for (const kv of [...base, ...extra]) {
    const eq = kv.indexOf('=');
    out.set(eq < 0 ? kv : kv.slice(0, eq), kv);
  }
  return [...out.values()];
}

function allCapabilities(): Process['capabilities'] {
  const names = [
    'CHOWN', 'DAC_OVERRIDE', 'DAC_READ_SEARCH', 'FOWNER', 'FSETID', 'KILL', 'SETGID', 'SETUID', 'SETPCAP', 'LINUX_IMMUTABLE',
    'NET_BIND_SERVICE', 'NET_BROADCAST', 'NET_ADMIN', 'NET_RAW', 'IPC_LOCK', 'IPC_OWNER', 'SYS_MODULE', 'SYS_RAWIO',
    'SYS_CHROOT', 'SYS_PTRACE', 'SYS_PACCT', 'SYS_ADMIN', 'SYS_BOOT', 'SYS_NICE', 'SYS_RESOURCE', 'SYS_TIME',
    'SYS_TTY_CONFIG', 'MKNOD', 'LEASE', 'AUDIT_WRITE', 'AUDIT_CONTROL', 'SETFCAP', 'MAC_OVERRIDE', 'MAC_ADMIN', 'SYSLOG',
    'WAKE_ALARM', 'BLOCK_SUSPEND', 'AUDIT_READ', 'PERFMON', 'BPF', 'CHECKPOINT_RESTORE',
  ].map((n) => ALL_CAPS_FROM + n);
  return { bounding: names, effective: names, permitted: names };
}

/** The payloads of a multiplexed stream, stdout and stderr in order, up to `max` bytes. */
async function collectOutput(stream: AsyncIterable<Buffer>, max: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const frame of demuxFrames(stream)) {
      if (size >= max) continue; // keep draining, so the shim is never blocked on us
      chunks.push(frame.data.subarray(0, max - size));
      size += Math.min(frame.data.length, max - size);
    }
  } catch {
    // a stream cut mid-frame (closed after the grace): what was whole is kept
  }
  return Buffer.concat(chunks);
}
