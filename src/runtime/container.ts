// The runtime library behind berth-runtime (and later berthd): OCI bundles in,
// containers out, with runc's semantics for every verb.
import { closeSync, existsSync, openSync, readFileSync, statSync, unlinkSync, writeSync, constants as fsc } from 'node:fs';
import { basename, isAbsolute, join, resolve } from 'node:path';
import type { LinuxResources, Process, Spec, State } from '../oci/runtime-spec.js';
import { readHostFacts, type HostFacts } from '../sys/host.js';
import { writeFileAtomic } from '../util/atomic.js';
import { conflict, errnoCode, invalidArgument, notFound, BerthError } from '../util/errors.js';
import { hostLayout, openCgroupManager, type CgroupManager } from './cgroups/index.js';
import type { CgroupHierarchy } from './plan-cgroup-mounts.js';
import type { RootfsMount } from './plan-rootfs.js';
import { deviceRules } from './devices-default.js';
import { runHooks } from './hooks.js';
import { CLONE_NEW } from './linux-constants.js';
import { namespaceSet } from './plan-namespaces.js';
import { planCreate, planExec, type CgroupPlan, type HostTool, type MonitorOptions, type SeccompProgram } from './plan.js';
export type { HostTool } from './plan.js';
import type { ShimModeName } from './program.js';
import { spawnShim, type ShimSession } from './shim.js';
import type { ShimSpawner } from './shim-spawner.js';
import { StateStore, isAlive, ociState, pidStartTime, statusOf, validateId, type ContainerRecord } from './state.js';

export interface RuntimeOptions {
  root: string;
  systemdCgroup?: boolean;
  warn?: (msg: string) => void;
  host?: HostFacts;
  /** Forks monitored shims (a daemon's): see shim-spawner.ts. */
  spawner?: ShimSpawner;
}

export interface CreateOptions {
  bundle: string;
  consoleSocket?: string;
  pidFile?: string;
  preserveFds?: number;
  noPivot?: boolean;
  noNewKeyring?: boolean;
  /** exit: runc create/run -d; wait: foreground run; monitor: the shim stays as monitor. */
  mode?: ShimModeName;
  /** Start at once (run) instead of waiting on the exec fifo (create). */
  startImmediately?: boolean;
  monitor?: MonitorOptions;
  /** Called after the init exists, before mounts (network wiring). */
  onCreated?: (pid: number) => Promise<void>;
  /** Bring "lo" up in a new network namespace (berthd). */
  loopbackUp?: boolean;
  /** Mount the root filesystem (a snapshot) inside the container's mount namespace. */
  rootfsMounts?: readonly RootfsMount[];
  /** Host programs the shim runs before it makes the container (berthd's network namespace and veths). */
  hostTools?: readonly HostTool[];
  /** Unmounted and removed by the monitor when the process exits (the network namespace). */
  exitUnmounts?: readonly string[];
  /** The bundle's config.json, already parsed (and validated) by the caller. */
  spec?: Spec;
}

/** An exec whose shim stays as its monitor (berthd): attach.sock, ctl.sock and exit in `stateDir`. */
export interface MonitoredExec {
  stateDir: string;
  /** The process waits here before exec until `startExec` writes to it, so nothing it prints is lost. */
  execFifo: string;
  monitor: MonitorOptions;
}

/** The `exit` file berth-shim's monitor writes when the container exits. */
export interface MonitorExit {
  exitCode: number;
  signal: number | null;
  oomKilled: boolean;
  finishedAt: string;
}

export interface Created {
  record: ContainerRecord;
  session: ShimSession;
}

const SECCOMP_CACHE_SIZE = 16;

const NS_PROC_NAMES: Record<string, string> = {
  user: 'user', ipc: 'ipc', uts: 'uts', network: 'net', pid: 'pid', cgroup: 'cgroup', time: 'time', mount: 'mnt',
};

export function loadBundleConfig(bundle: string): Spec {
  const path = join(bundle, 'config.json');
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw errnoCode(err) === 'ENOENT' ? notFound(`bundle ${bundle} has no config.json`) : err;
  }
  let spec: unknown;
  try {
    spec = JSON.parse(text);
  } catch (err) {
    throw invalidArgument(`${path} is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) throw invalidArgument(`${path} must hold a JSON object`);
  const s = spec as Spec;
  if (typeof s.ociVersion !== 'string') throw invalidArgument(`${path}: ociVersion is missing`);
  if (!s.root?.path) throw invalidArgument(`${path}: root.path is missing`);
  return s;
}

export function parseSignal(sig: string): number {
  const names: Record<string, number> = {
    HUP: 1, INT: 2, QUIT: 3, ILL: 4, TRAP: 5, ABRT: 6, IOT: 6, BUS: 7, FPE: 8, KILL: 9, USR1: 10, SEGV: 11, USR2: 12,
    PIPE: 13, ALRM: 14, TERM: 15, STKFLT: 16, CHLD: 17, CONT: 18, STOP: 19, TSTP: 20, TTIN: 21, TTOU: 22, URG: 23,
    XCPU: 24, XFSZ: 25, VTALRM: 26, PROF: 27, WINCH: 28, IO: 29, POLL: 29, PWR: 30, SYS: 31,
  };
  if (/^\d+$/.test(sig)) {
    const n = Number(sig);
    if (n >= 1 && n <= 64) return n;
  }
  const name = sig.toUpperCase().replace(/^SIG/, '');
  const rt = /^RTMIN(?:\+(\d+))?$/.exec(name);
  if (rt) return 34 + Number(rt[1] ?? 0);
  const n = names[name];
  if (n === undefined) throw invalidArgument(`unknown signal "${sig}"`);
  return n;
}

export class Runtime {
  readonly store: StateStore;
  private readonly host: HostFacts;
  private readonly warn: (msg: string) => void;
  private readonly seccompCache = new Map<string, SeccompProgram>();

  constructor(private readonly opts: RuntimeOptions) {
    this.store = new StateStore(opts.root);
    this.host = opts.host ?? readHostFacts();
    this.warn = opts.warn ?? ((m) => process.stderr.write(`berth-runtime: warning: ${m}\n`));
  }

  private cgroupFor(id: string, spec: Spec, paths?: Record<string, string>): CgroupManager {
    return openCgroupManager({ id, cgroupsPath: spec.linux?.cgroupsPath, systemd: this.opts.systemdCgroup, paths });
  }

  /** The seccomp compiler and its syscall tables load only when a spec asks for a filter. */
  private async seccompFor(spec: Spec): Promise<SeccompProgram | undefined> {
    if (!spec.linux?.seccomp) return undefined;
    // A daemon starts many containers with the same profile: compile each profile once.
    const key = JSON.stringify(spec.linux.seccomp);
    const cached = this.seccompCache.get(key);
    if (cached) return cached;
    const { compileSeccomp } = await import('./seccomp/index.js');
    const program = compileSeccomp(spec.linux.seccomp, this.host.arch);
    if (this.seccompCache.size >= SECCOMP_CACHE_SIZE) this.seccompCache.delete(this.seccompCache.keys().next().value!);
    this.seccompCache.set(key, program);
    return program;
  }

  async create(id: string, o: CreateOptions): Promise<Created> {
    validateId(id);
    const bundle = resolve(o.bundle);
    // berthd hands over the spec it just wrote to config.json: no need to read it back.
    const spec = o.spec ?? loadBundleConfig(bundle);
    const rootfs = isAbsolute(spec.root!.path) ? spec.root!.path : join(bundle, spec.root!.path);
    if (!existsSync(rootfs) || !statSync(rootfs).isDirectory()) throw invalidArgument(`root.path ${rootfs} is not a directory`);
    const seccomp = await this.seccompFor(spec);
    const dir = this.store.reserve(id);
    let cgroup: CgroupManager | undefined;
    let pid = -1;
    try {
      cgroup = this.cgroupFor(id, spec);
      // Recorded before anything is made, so `delete --force` can clean up a create
      // that was killed half-way (pid 0 reads as stopped).
      this.store.save({ ...this.recordStub(id, bundle, rootfs, spec, 0), cgroupPaths: cgroup.paths() });
      const resources: LinuxResources = { ...spec.linux?.resources, devices: deviceRules(spec.linux?.resources?.devices, spec.linux?.devices) };
      const applied = cgroup.create(resources);
      for (const note of applied.notes) this.warn(note);
      const cgroupPlan: CgroupPlan = { ...cgroupJoin(cgroup, spec), hierarchies: cgroupHierarchies(cgroup) };
      if (applied.deviceProgram) cgroupPlan.deviceFilter = { dir: applied.deviceProgram.cgroupDir, program: applied.deviceProgram.insns };
      const mode = o.mode ?? 'exit';
      const oom = cgroup.oomWatchPaths();
      const monitor = o.monitor && { ...o.monitor, oomV1MemoryDir: oom.v1MemoryDir, oomV2Dir: oom.v2Dir };
      const ops = planCreate({
        id, bundle, rootfs, spec, mode, stateDir: dir, preserveFds: o.preserveFds ?? 0, consoleSocket: o.consoleSocket,
        cgroup: cgroupPlan, seccomp, monitor, host: this.host, warn: this.warn,
        execFifo: o.startImmediately ? undefined : this.store.fifo(id), noPivot: o.noPivot ?? false, noNewKeyring: o.noNewKeyring,
        waitAfterCreate: o.onCreated !== undefined, loopbackUp: o.loopbackUp, rootfsMounts: o.rootfsMounts,
        hostTools: o.hostTools, exitUnmounts: o.exitUnmounts,
      });
      const hookState = (p: number, status: State['status']): State => ({ ...ociState(this.recordStub(id, bundle, rootfs, spec, p), status), pid: p });
      const session = await spawnShim({
        ops,
        programDir: dir,
        stdio: mode === 'monitor' ? 'ignore' : 'inherit',
        preserveFds: o.preserveFds ?? 0,
        spawner: this.opts.spawner,
        handlers: {
          onCreated: o.onCreated,
          onHooks: async (p) => {
            // prestart (deprecated) has always seen "created"; createRuntime runs mid-create.
            await runHooks('prestart', spec.hooks?.prestart, hookState(p, 'created'));
            await runHooks('createRuntime', spec.hooks?.createRuntime, hookState(p, 'creating'));
          },
        },
      });
      pid = session.pid;
      const record: ContainerRecord = {
        ...this.recordStub(id, bundle, rootfs, spec, pid),
        pidStartTime: pidStartTime(pid) ?? '',
        cgroupPaths: cgroup.paths(),
        monitored: mode === 'monitor',
      };
      this.store.save(record);
      if (o.pidFile) writeFileAtomic(resolve(o.pidFile), String(pid));
      return { record, session };
    } catch (err) {
      if (pid > 0) killQuietly(pid, 9);
      try {
        cgroup?.killAll(9);
        cgroup?.destroy();
      } catch (cleanupErr) {
        this.warn(`cleaning up the cgroup of ${id}: ${(cleanupErr as Error).message}`);
      }
      this.store.remove(id);
      throw err;
    }
  }

  private recordStub(id: string, bundle: string, rootfs: string, spec: Spec, pid: number): ContainerRecord {
    return { id, bundle, rootfs, spec, pid, pidStartTime: '', created: new Date().toISOString(), monitored: false, owner: ownerName() };
  }

  load(id: string): ContainerRecord {
    return this.store.load(validateId(id));
  }

  private managerOf(rec: ContainerRecord): CgroupManager {
    return this.cgroupFor(rec.id, rec.spec, rec.cgroupPaths);
  }

  status(rec: ContainerRecord): State['status'] {
    return statusOf(rec, this.store, () => {
      try {
        return this.managerOf(rec).isFrozen();
      } catch {
        return false;
      }
    });
  }

  state(id: string): State {
    const rec = this.load(id);
    return ociState(rec, this.status(rec));
  }

  list(): { record: ContainerRecord; state: State }[] {
    return this.store.list().flatMap((id) => {
      try {
        const record = this.load(id);
        return [{ record, state: ociState(record, this.status(record)) }];
      } catch {
        return [];
      }
    });
  }

  async start(id: string): Promise<void> {
    const rec = this.load(id);
    const status = this.status(rec);
    if (status !== 'created') throw conflict(`cannot start a container that is ${status}`);
    const fifo = this.store.fifo(id);
    let fd: number;
    try {
      fd = openSync(fifo, fsc.O_WRONLY | fsc.O_NONBLOCK);
    } catch (err) {
      if (errnoCode(err) === 'ENXIO') throw conflict(`container ${id}'s init is no longer waiting to start`);
      throw err;
    }
    try {
      writeSync(fd, Buffer.from('0'));
    } finally {
      closeSync(fd);
    }
    unlinkSync(fifo);
    await this.poststart(rec);
  }

  async poststart(rec: ContainerRecord): Promise<void> {
    try {
      await runHooks('poststart', rec.spec.hooks?.poststart, ociState(rec, 'running'));
    } catch (err) {
      this.warn((err as Error).message);
    }
  }

  kill(id: string, signal: string, all = false): void {
    const rec = this.load(id);
    const status = this.status(rec);
    if (status === 'stopped') throw conflict(`container ${id} is not running`);
    const sig = parseSignal(signal);
    if (all) {
      this.managerOf(rec).killAll(sig);
      return;
    }
    process.kill(rec.pid, sig);
  }

  async delete(id: string, force = false): Promise<void> {
    const rec = this.load(id);
    const status = this.status(rec);
    // The spec: deleting a container that is not stopped is an error (runc kills a created one).
    if (status !== 'stopped' && !force) {
      throw conflict(`cannot delete container ${id} that is not stopped: ${status}`);
    }
    const cgroup = this.managerOf(rec);
    if (status !== 'stopped') {
      killQuietly(rec.pid, 9);
      if (status === 'paused') cgroup.thaw();
      await waitGone(rec, 5000);
    }
    // Without a pid namespace, children of the init can outlive it.
    try {
      if (cgroup.exists()) {
        cgroup.killAll(9);
        cgroup.destroy();
      }
    } catch (err) {
      this.warn(`removing the cgroup of ${id}: ${(err as Error).message}`);
    }
    try {
      await runHooks('poststop', rec.spec.hooks?.poststop, ociState(rec, 'stopped'));
    } catch (err) {
      this.warn((err as Error).message);
    }
    await this.store.removeAsync(id);
  }

  /** A monitored container's exit record (written by the shim), once it has exited. */
  exitRecord(id: string): MonitorExit | undefined {
    return this.exitRecordIn(this.store.dir(id));
  }

  /** The exit record a monitoring shim left in `dir` (a container's or an exec's state directory). */
  exitRecordIn(dir: string): MonitorExit | undefined {
    try {
      return JSON.parse(readFileSync(join(dir, 'exit'), 'utf8')) as MonitorExit;
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return undefined;
      throw err;
    }
  }

  /** Wait for a monitored container to exit; its status as a shell reports it. */
  async waitExit(id: string): Promise<number> {
    for (;;) {
      const exit = this.exitRecord(id);
      if (exit) return exit.exitCode;
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  pause(id: string): void {
    const rec = this.load(id);
    const status = this.status(rec);
    if (status !== 'running' && status !== 'created') throw conflict(`container ${id} is ${status}, not running`);
    this.managerOf(rec).freeze();
  }

  resume(id: string): void {
    const rec = this.load(id);
    if (this.status(rec) !== 'paused') throw conflict(`container ${id} is not paused`);
    this.managerOf(rec).thaw();
  }

  /** The container's cgroups (for stats). */
  cgroupOf(id: string): CgroupManager {
    return this.managerOf(this.load(id));
  }

  pids(id: string): number[] {
    const rec = this.load(id);
    if (this.status(rec) === 'stopped') return [];
    return this.managerOf(rec).pids();
  }

  stats(id: string): { type: 'stats'; id: string; data: unknown } {
    const rec = this.load(id);
    if (this.status(rec) === 'stopped') throw conflict(`container ${id} is stopped`);
    return { type: 'stats', id, data: this.managerOf(rec).stats() };
  }

  update(id: string, resources: LinuxResources): void {
    const rec = this.load(id);
    if (this.status(rec) === 'stopped') throw conflict(`container ${id} is stopped`);
    const applied = this.managerOf(rec).update(resources);
    for (const note of applied.notes) this.warn(note);
    const linux = { ...rec.spec.linux, resources: { ...rec.spec.linux?.resources, ...resources } };
    this.store.save({ ...rec, spec: { ...rec.spec, linux } });
  }

  async exec(id: string, proc: Process, o: { consoleSocket?: string; pidFile?: string; detach: boolean; preserveFds?: number; ignorePaused?: boolean; monitored?: MonitoredExec }): Promise<ShimSession> {
    const rec = this.load(id);
    const status = this.status(rec);
    if (status === 'paused' && !o.ignorePaused) throw conflict(`container ${id} is paused; unpause it first`);
    if (status !== 'running' && status !== 'created' && status !== 'paused') throw conflict(`cannot exec in a ${status} container`);
    const namespaces = namespaceSet(rec.spec);
    const namespacePaths = ['user', 'ipc', 'uts', 'network', 'pid', 'cgroup', 'time', 'mount']
      .filter((t) => namespaces.has(t as never))
      .map((t) => ({ type: CLONE_NEW[t as keyof typeof CLONE_NEW], path: `/proc/${rec.pid}/ns/${NS_PROC_NAMES[t]}` }));
    const spec = rec.spec;
    const seccomp = await this.seccompFor(spec);
    const m = o.monitored;
    const ops = planExec({
      mode: m ? 'monitor' : o.detach ? 'exit' : 'wait', preserveFds: o.preserveFds ?? 0, consoleSocket: o.consoleSocket,
      stateDir: m?.stateDir, monitor: m?.monitor, execFifo: m?.execFifo,
      cgroup: { ...cgroupJoin(this.managerOf(rec), spec), hierarchies: [] }, seccomp, host: this.host, warn: this.warn,
      process: proc, namespacePaths, apparmor: spec.process?.apparmorProfile,
    });
    const session = await spawnShim({
      ops, programDir: m?.stateDir ?? this.store.dir(id), stdio: m ? 'ignore' : 'inherit', preserveFds: o.preserveFds ?? 0, spawner: this.opts.spawner,
    });
    if (o.pidFile) writeFileAtomic(resolve(o.pidFile), String(session.pid));
    return session;
  }
}

function killQuietly(pid: number, sig: number): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

async function waitGone(rec: ContainerRecord, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (isAlive(rec) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  if (isAlive(rec)) throw new BerthError('Internal', `container ${rec.id} (pid ${rec.pid}) did not die after SIGKILL`);
}

/** The host hierarchies and this container's directory in each (for cgroup mounts). */
function cgroupHierarchies(cgroup: CgroupManager): CgroupHierarchy[] {
  const paths = cgroup.paths();
  const layout = hostLayout();
  if (layout.mode === 'unified') return [{ name: '', fstype: 'cgroup2', controllers: [], hostDir: paths[''] ?? '' }];
  const out: CgroupHierarchy[] = [];
  const seen = new Set<string>();
  for (const [key, mount] of layout.v1) {
    const hostDir = paths[key];
    if (seen.has(mount.mountpoint) || hostDir === undefined) continue;
    seen.add(mount.mountpoint);
    out.push({ name: basename(mount.mountpoint), fstype: 'cgroup', controllers: mount.controllers, hostDir });
  }
  if (layout.unified && paths[''] !== undefined) {
    out.push({ name: basename(layout.unified.mountpoint), fstype: 'cgroup2', controllers: [], hostDir: paths[''] });
  }
  return out;
}

/**
 * How stage 1 and the init enter the container's cgroups: a thread moving itself
 * through a v1 `tasks` file, and birth into the cgroup2 directory, both avoid the
 * kernel's global threadgroup lock (an RCU grace period, 5-20 ms, per cgroup.procs
 * write). Stage 1 is single-threaded, so moving its thread moves the process.
 */
export function cgroupJoin(cgroup: CgroupManager, spec: Spec): Pick<CgroupPlan, 'joinFiles' | 'cloneInto'> {
  const paths = cgroup.paths();
  const v1 = [...new Set(Object.entries(paths).filter(([key]) => key !== '').map(([, dir]) => dir))];
  const joinFiles = v1.map((dir) => join(dir, 'tasks'));
  const v2 = paths[''];
  if (v2 === undefined) return { joinFiles };
  // Inside a user namespace the init's creator is an unprivileged host uid that may
  // not fork into the cgroup: stage 1 joins it before entering the namespace.
  if (spec.linux?.namespaces?.some((ns) => ns.type === 'user')) return { joinFiles: [...joinFiles, join(v2, 'cgroup.procs')] };
  return { joinFiles, cloneInto: v2 };
}

/** runc's "owner" column: the creating user's name (berth-runtime runs as root). */
function ownerName(): string {
  const uid = process.getuid?.() ?? 0;
  return uid === 0 ? 'root' : String(uid);
}
