// berth-runtime's verbs, with runc's flags, output and exit codes.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { LinuxResources, Process } from '../oci/runtime-spec.js';
import type { MonitorOptions } from '../runtime/plan.js';
import { Runtime, parseSignal } from '../runtime/container.js';
import { CAPABILITIES } from '../runtime/linux-constants.js';
import { boolFlag, intFlag, listFlag, parseFlags, stringFlag, type FlagSpecs, type Parsed } from '../util/argv.js';
import { conflict, invalidArgument } from '../util/errors.js';
import { defaultSpec } from './default-spec.js';
import { featuresJson } from './features.js';

export interface Context {
  runtime: () => Runtime;
  out: (text: string) => void;
}

type Command = (ctx: Context, argv: string[]) => Promise<number>;

const CREATE_FLAGS: FlagSpecs = {
  bundle: { type: 'string', short: 'b' },
  'console-socket': { type: 'string' },
  'pid-file': { type: 'string' },
  'no-pivot': { type: 'boolean' },
  'no-new-keyring': { type: 'boolean' },
  'preserve-fds': { type: 'string' },
  // berth's own extensions: the shim stays as the container's monitor.
  monitor: { type: 'boolean' },
  'log-path': { type: 'string' },
  'log-max-size': { type: 'string' },
  'log-max-files': { type: 'string' },
  stdin: { type: 'boolean' },
  'stdin-once': { type: 'boolean' },
};

/** Docker's json-file rotation, on by default: 10 MiB × 3 files. */
const DEFAULT_LOG_MAX_SIZE = 10 * 1024 * 1024;
const DEFAULT_LOG_MAX_FILES = 3;

function monitorOptions(p: Parsed, cmd: string): MonitorOptions | undefined {
  const extras = ['log-path', 'log-max-size', 'log-max-files', 'stdin', 'stdin-once'].filter((f) => p.flags[f] !== undefined);
  if (!boolFlag(p, 'monitor')) {
    if (extras.length) throw invalidArgument(`${cmd}: --${extras[0]} needs --monitor`);
    return undefined;
  }
  const logPath = stringFlag(p, 'log-path');
  const maxFiles = intFlag(p, 'log-max-files', cmd) ?? DEFAULT_LOG_MAX_FILES;
  const maxSize = intFlag(p, 'log-max-size', cmd) ?? DEFAULT_LOG_MAX_SIZE;
  if (maxFiles < 1) throw invalidArgument(`${cmd}: --log-max-files must be at least 1`);
  if (maxSize < 0) throw invalidArgument(`${cmd}: --log-max-size must not be negative`);
  return {
    logPath: logPath ? resolve(logPath) : undefined, logMaxSize: maxSize, logMaxFiles: maxFiles,
    stdin: boolFlag(p, 'stdin'), stdinOnce: boolFlag(p, 'stdin-once'),
  };
}

function oneId(p: Parsed, cmd: string): string {
  const id = p.rest[0];
  if (!id) throw invalidArgument(`${cmd}: a container id is required`);
  if (p.rest.length > 1) throw invalidArgument(`${cmd}: unexpected arguments after the container id: ${p.rest.slice(1).join(' ')}`);
  return id;
}

function createOptions(p: Parsed, cmd: string): { bundle: string; consoleSocket?: string; pidFile?: string; preserveFds: number; noPivot: boolean; noNewKeyring: boolean } {
  const preserveFds = intFlag(p, 'preserve-fds', cmd) ?? 0;
  if (preserveFds < 0) throw invalidArgument(`${cmd}: --preserve-fds must not be negative`);
  return {
    bundle: resolve(stringFlag(p, 'bundle') ?? '.'),
    consoleSocket: stringFlag(p, 'console-socket'),
    pidFile: stringFlag(p, 'pid-file'),
    preserveFds,
    noPivot: boolFlag(p, 'no-pivot'),
    noNewKeyring: boolFlag(p, 'no-new-keyring'),
  };
}

const create: Command = async (ctx, argv) => {
  const p = parseFlags(argv, CREATE_FLAGS, 'create');
  const id = oneId(p, 'create');
  const monitor = monitorOptions(p, 'create');
  await ctx.runtime().create(id, { ...createOptions(p, 'create'), mode: monitor ? 'monitor' : 'exit', monitor });
  return 0;
};

const start: Command = async (ctx, argv) => {
  await ctx.runtime().start(oneId(parseFlags(argv, {}, 'start'), 'start'));
  return 0;
};

const run: Command = async (ctx, argv) => {
  const p = parseFlags(argv, { ...CREATE_FLAGS, detach: { type: 'boolean', short: 'd' }, keep: { type: 'boolean' } }, 'run');
  const id = oneId(p, 'run');
  const rt = ctx.runtime();
  const detach = boolFlag(p, 'detach');
  const monitor = monitorOptions(p, 'run');
  const mode = monitor ? 'monitor' : detach ? 'exit' : 'wait';
  const { record, session } = await rt.create(id, { ...createOptions(p, 'run'), mode, monitor, startImmediately: true });
  await rt.poststart(record);
  if (detach) return 0;
  if (monitor) {
    const code = await rt.waitExit(id);
    if (!boolFlag(p, 'keep')) await rt.delete(id, true);
    return code;
  }
  const forward = (sig: NodeJS.Signals): void => {
    try {
      process.kill(record.pid, sig);
    } catch {
      // it already exited
    }
  };
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH'];
  for (const s of signals) process.on(s, forward);
  session.child?.ref();
  const code = await session.exited;
  for (const s of signals) process.off(s, forward);
  if (!boolFlag(p, 'keep')) await rt.delete(id, true);
  return code;
};

const state: Command = async (ctx, argv) => {
  ctx.out(JSON.stringify(ctx.runtime().state(oneId(parseFlags(argv, {}, 'state'), 'state')), null, 2) + '\n');
  return 0;
};

const kill: Command = async (ctx, argv) => {
  const p = parseFlags(argv, { all: { type: 'boolean', short: 'a' } }, 'kill');
  const [id, signal = 'SIGTERM', ...extra] = p.rest;
  if (!id) throw invalidArgument('kill: a container id is required');
  if (extra.length) throw invalidArgument(`kill: unexpected arguments: ${extra.join(' ')}`);
  ctx.runtime().kill(id, signal, boolFlag(p, 'all'));
  return 0;
};

const del: Command = async (ctx, argv) => {
  const p = parseFlags(argv, { force: { type: 'boolean', short: 'f' } }, 'delete');
  const id = oneId(p, 'delete');
  const rt = ctx.runtime();
  // runc: deleting a container that does not exist is an error, except with --force.
  if (boolFlag(p, 'force') && !rt.store.exists(id)) {
    rt.store.remove(id); // a create killed before it recorded anything
    return 0;
  }
  await rt.delete(id, boolFlag(p, 'force'));
  return 0;
};

const pause: Command = async (ctx, argv) => {
  ctx.runtime().pause(oneId(parseFlags(argv, {}, 'pause'), 'pause'));
  return 0;
};

const resume: Command = async (ctx, argv) => {
  ctx.runtime().resume(oneId(parseFlags(argv, {}, 'resume'), 'resume'));
  return 0;
};

const ps: Command = async (ctx, argv) => {
  const p = parseFlags(argv, { format: { type: 'string', short: 'f' } }, 'ps');
  const [id] = p.rest;
  if (!id) throw invalidArgument('ps: a container id is required');
  const pids = ctx.runtime().pids(id);
  const format = stringFlag(p, 'format') ?? 'table';
  if (format === 'json') {
    ctx.out(JSON.stringify(pids) + '\n');
    return 0;
  }
  if (format !== 'table') throw invalidArgument(`ps: unknown format "${format}"`);
  ctx.out('PID       CMD\n');
  for (const pid of pids) {
    let cmd = '';
    try {
      cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
    } catch {
      continue;
    }
    ctx.out(`${String(pid).padEnd(10)}${cmd}\n`);
  }
  return 0;
};

const list: Command = async (ctx, argv) => {
  const p = parseFlags(argv, { format: { type: 'string', short: 'f' }, quiet: { type: 'boolean', short: 'q' } }, 'list');
  const all = ctx.runtime().list();
  if (boolFlag(p, 'quiet')) {
    for (const c of all) ctx.out(c.state.id + '\n');
    return 0;
  }
  const format = stringFlag(p, 'format') ?? 'table';
  const rows = all.map(({ record, state }) => ({
    ociVersion: state.ociVersion, id: state.id, pid: state.pid ?? 0, status: state.status, bundle: record.bundle,
    rootfs: record.rootfs, created: record.created, owner: record.owner, annotations: state.annotations,
  }));
  if (format === 'json') {
    ctx.out(JSON.stringify(rows) + '\n');
    return 0;
  }
  if (format !== 'table') throw invalidArgument(`list: unknown format "${format}"`);
  const table = [['ID', 'PID', 'STATUS', 'BUNDLE', 'CREATED', 'OWNER'], ...rows.map((r) => [r.id, String(r.pid), r.status, r.bundle, r.created, r.owner])];
  const widths = table[0]!.map((_, i) => Math.max(...table.map((r) => r[i]!.length)));
  for (const r of table) ctx.out(r.map((c, i) => c.padEnd(widths[i]! + 3)).join('').trimEnd() + '\n');
  return 0;
};

function parseUser(spec: string): { uid: number; gid: number } {
  const m = /^(\d+)(?::(\d+))?$/.exec(spec);
  if (!m) throw invalidArgument(`exec: --user "${spec}" must be uid[:gid]`);
  return { uid: Number(m[1]), gid: Number(m[2] ?? 0) };
}

const EXEC_FLAGS: FlagSpecs = {
  'console-socket': { type: 'string' },
  cwd: { type: 'string' },
  env: { type: 'string', short: 'e', multiple: true },
  tty: { type: 'boolean', short: 't' },
  user: { type: 'string', short: 'u' },
  'additional-gids': { type: 'string', short: 'g', multiple: true },
  process: { type: 'string', short: 'p' },
  detach: { type: 'boolean', short: 'd' },
  'pid-file': { type: 'string' },
  'process-label': { type: 'string' },
  apparmor: { type: 'string' },
  'no-new-privs': { type: 'boolean' },
  cap: { type: 'string', short: 'c', multiple: true },
  'preserve-fds': { type: 'string' },
  'ignore-paused': { type: 'boolean' },
};

function execProcess(p: Parsed, base: Process | undefined): Process {
  const file = stringFlag(p, 'process');
  if (file) {
    try {
      return JSON.parse(readFileSync(file, 'utf8')) as Process;
    } catch (err) {
      throw invalidArgument(`exec: --process ${file}: ${(err as Error).message}`);
    }
  }
  const args = p.rest.slice(1);
  if (!args.length) throw invalidArgument('exec: a command to run is required');
  const user = stringFlag(p, 'user') ? parseUser(stringFlag(p, 'user')!) : base?.user ?? { uid: 0, gid: 0 };
  const gids = listFlag(p, 'additional-gids').map(Number);
  const caps = base?.capabilities ? { ...base.capabilities } : undefined;
  if (caps) {
    for (const c of listFlag(p, 'cap')) {
      for (const set of ['bounding', 'effective', 'permitted', 'ambient', 'inheritable'] as const) {
        caps[set] = [...new Set([...(caps[set] ?? []), c])];
      }
    }
  }
  const proc: Process = {
    args,
    env: [...(base?.env ?? []), ...listFlag(p, 'env')],
    cwd: stringFlag(p, 'cwd') ?? base?.cwd ?? '/',
    user: { ...user, additionalGids: gids.length ? gids : base?.user.additionalGids },
    terminal: boolFlag(p, 'tty'),
    noNewPrivileges: boolFlag(p, 'no-new-privs') || base?.noNewPrivileges,
    capabilities: caps,
    apparmorProfile: stringFlag(p, 'apparmor') ?? base?.apparmorProfile,
    selinuxLabel: stringFlag(p, 'process-label') ?? base?.selinuxLabel,
  };
  return proc;
}

const exec: Command = async (ctx, argv) => {
  const p = parseFlags(argv, EXEC_FLAGS, 'exec');
  const id = p.rest[0];
  if (!id) throw invalidArgument('exec: a container id is required');
  const rt = ctx.runtime();
  const rec = rt.load(id);
  const proc = execProcess(p, rec.spec.process);
  const detach = boolFlag(p, 'detach');
  const session = await rt.exec(id, proc, {
    consoleSocket: stringFlag(p, 'console-socket'), pidFile: stringFlag(p, 'pid-file'), detach,
    preserveFds: intFlag(p, 'preserve-fds', 'exec') ?? 0, ignorePaused: boolFlag(p, 'ignore-paused'),
  });
  if (detach) return 0;
  const forward = (sig: NodeJS.Signals): void => {
    try {
      process.kill(session.pid, sig);
    } catch {
      // gone
    }
  };
  for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(s, forward);
  session.child?.ref();
  return session.exited;
};

function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text);
  if (!m) throw invalidArgument(`events: --interval "${text}" is not a duration like 5s`);
  const n = Number(m[1]);
  return m[2] === 'ms' ? n : m[2] === 'm' ? n * 60000 : n * 1000;
}

const events: Command = async (ctx, argv) => {
  const p = parseFlags(argv, { stats: { type: 'boolean' }, interval: { type: 'string' } }, 'events');
  const id = oneId(p, 'events');
  const rt = ctx.runtime();
  if (boolFlag(p, 'stats')) {
    ctx.out(JSON.stringify(rt.stats(id)) + '\n');
    return 0;
  }
  const interval = parseDuration(stringFlag(p, 'interval') ?? '5s');
  for (;;) {
    const rec = rt.load(id);
    if (rt.status(rec) === 'stopped') return 0;
    ctx.out(JSON.stringify(rt.stats(id)) + '\n');
    await new Promise((r) => setTimeout(r, interval));
  }
};

const UPDATE_FLAGS: FlagSpecs = {
  resources: { type: 'string', short: 'r' },
  'blkio-weight': { type: 'string' },
  'cpu-period': { type: 'string' },
  'cpu-quota': { type: 'string' },
  'cpu-share': { type: 'string' },
  'cpu-rt-period': { type: 'string' },
  'cpu-rt-runtime': { type: 'string' },
  'cpuset-cpus': { type: 'string' },
  'cpuset-mems': { type: 'string' },
  memory: { type: 'string' },
  'memory-reservation': { type: 'string' },
  'memory-swap': { type: 'string' },
  'kernel-memory': { type: 'string' },
  'kernel-memory-tcp': { type: 'string' },
  'pids-limit': { type: 'string' },
};

const update: Command = async (ctx, argv) => {
  const p = parseFlags(argv, UPDATE_FLAGS, 'update');
  const id = oneId(p, 'update');
  let r: LinuxResources = {};
  const file = stringFlag(p, 'resources');
  if (file) {
    try {
      r = JSON.parse(readFileSync(file === '-' ? 0 : file, 'utf8')) as LinuxResources;
    } catch (err) {
      throw invalidArgument(`update: --resources ${file}: ${(err as Error).message}`);
    }
  }
  const num = (name: string): number | undefined => intFlag(p, name, 'update');
  const set = <T extends object>(obj: T | undefined, patch: Partial<T>): T | undefined => {
    const clean = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) as Partial<T>;
    return Object.keys(clean).length ? ({ ...obj, ...clean } as T) : obj;
  };
  r.memory = set(r.memory, { limit: num('memory'), reservation: num('memory-reservation'), swap: num('memory-swap') });
  r.cpu = set(r.cpu, {
    period: num('cpu-period'), quota: num('cpu-quota'), shares: num('cpu-share'), realtimePeriod: num('cpu-rt-period'),
    realtimeRuntime: num('cpu-rt-runtime'), cpus: stringFlag(p, 'cpuset-cpus'), mems: stringFlag(p, 'cpuset-mems'),
  });
  const pids = num('pids-limit');
  if (pids !== undefined) r.pids = { limit: pids };
  r.blockIO = set(r.blockIO, { weight: num('blkio-weight') });
  ctx.runtime().update(id, r);
  return 0;
};

const spec: Command = async (ctx, argv) => {
  const p = parseFlags(argv, { bundle: { type: 'string', short: 'b' }, rootless: { type: 'boolean' } }, 'spec');
  if (boolFlag(p, 'rootless')) throw invalidArgument('spec: --rootless is not supported yet');
  const path = join(resolve(stringFlag(p, 'bundle') ?? '.'), 'config.json');
  if (existsSync(path)) throw conflict(`File ${path} exists. Remove it first`);
  writeFileSync(path, JSON.stringify(defaultSpec(), null, '\t') + '\n');
  void ctx;
  return 0;
};

const features: Command = async (ctx, argv) => {
  parseFlags(argv, {}, 'features');
  ctx.out(JSON.stringify(featuresJson(), null, '    ') + '\n');
  return 0;
};

export const COMMANDS: Record<string, Command> = {
  create, start, run, state, kill, delete: del, pause, resume, ps, list, exec, events, update, spec, features,
};

export { parseSignal, CAPABILITIES };
