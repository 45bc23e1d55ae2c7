// The container lifecycle: create, start, stop, kill, pause, wait, restart policies and
// removal, with each container's process run by the runtime library under a monitoring
// berth-shim that outlives the daemon. State transitions are persisted (config.v2.json)
// and published as events; a restarted daemon picks every container up again (restore.ts).
import { existsSync, mkdirSync, rmSync, watch, writeFileSync, type FSWatcher } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type {
  ContainerCreateRequest, ContainerCreateResponse, ContainerState, ContainerWaitResponse, StringMap,
} from '../../oci/engine-api.js';
import type { ImageRecord, ImageStore } from '../../images/store.js';
import type { ContainerConfig as ImageContainerConfig } from '../../oci/image-spec.js';
import { familiarString, parseDockerRef } from '../../images/reference.js';
import type { Runtime } from '../../runtime/container.js';
import { parseSignal } from '../../runtime/container.js';
import { kernelMount, withTempMount } from '../../snapshots/mount.js';
import { BerthError, conflict, invalidArgument, isBerthError, notFound } from '../../util/errors.js';
import type { DaemonConfig } from '../config.js';
import type { EventBus } from '../events.js';
import { applyConfigDefaults, applyHostConfigDefaults, buildSpec, mergeImageConfig, missingBindSources, readSpecHost, resolveUser, validateCreate, type ResolvedUser, type SpecHost } from '../spec/index.js';
import { containerHostname, rewriteNetworkFiles, writeEtcFiles } from './etc-files.js';
import { KeyedMutex } from '../../util/keyed-mutex.js';
import type { ContainerVolumes } from './volumes.js';
import type { NetworkService } from '../networks/service.js';
import { canonicalName, generateName, newId } from './names.js';
import { nextDelay, shouldRestart } from './restart.js';
import { connectUnix, ctlCommand, DEFAULT_DETACH_KEYS, parseDetachKeys, StdioSession } from './stdio.js';
import { ContainerStore, initialState, ZERO_TIME, type ContainerRecord } from './store.js';

/** Docker's default grace period for stop. */
const DEFAULT_STOP_TIMEOUT_S = 10;
const DEFAULT_LOG_MAX_SIZE = 20 * 1024 * 1024;
const DEFAULT_LOG_MAX_FILES = 5;

export interface ManagerOptions {
  config: DaemonConfig;
  images: ImageStore;
  runtime: Runtime;
  events: EventBus;
  store: ContainerStore;
  initPath: string;
  volumes: ContainerVolumes;
  networks: NetworkService;
  log: (level: 'debug' | 'info' | 'warn' | 'error' | 'fatal', msg: string) => void;
}

type WaitCondition = 'not-running' | 'next-exit' | 'removed';

interface Waiter {
  condition: WaitCondition;
  resolve: (r: ContainerWaitResponse) => void;
}

/** What the daemon holds for a container beyond its record. */
interface Live {
  waiters: Waiter[];
  /** Sessions attached before start: joined to the shim when the process is about to run. */
  pending: StdioSession[];
  watcher?: FSWatcher;
  restartTimer?: NodeJS.Timeout;
  restartDelay: number;
  removing: boolean;
  /** Set while an exit is being handled, so stop/remove can wait for it. */
  exitHandled?: Promise<void>;
  onExit: (() => void)[];
}

/** The root and image config of a build step's container (see create). */
export interface BuildStepBase {
  parentChain: string | undefined;
  imageConfig: ImageContainerConfig;
  /** The stage's base image, shown as the container's image; undefined for scratch. */
  imageId?: string;
}

export class ContainerManager {
  readonly store: ContainerStore;
  readonly volumes: ContainerVolumes;
  private readonly live = new Map<string, Live>();
  private readonly mutex = new KeyedMutex();
  private closing = false;
  /** Facts about this machine that shape specs (read once: they do not change while we run). */
  private readonly host: SpecHost = readSpecHost();
  private readonly userCache = new Map<string, ResolvedUser>();
  /** Containers made for build steps (their users are never cached; removed with them). */
  private readonly buildSteps = new Set<string>();
  /** Told when a container's process starts and stops (healthchecks). */
  lifecycle: { started(rec: ContainerRecord): void; stopped(id: string): void } | undefined;

  constructor(private readonly o: ManagerOptions) {
    this.store = o.store;
    this.volumes = o.volumes;
  }

  // ---- paths ----

  runDir(id: string): string {
    return join(this.o.config.execRoot, 'containers', id);
  }

  /** The (empty) directory a container's root filesystem is mounted on, inside its own mount namespace. */
  rootfsDir(id: string): string {
    return join(this.runDir(id), 'rootfs');
  }

  /** A running container's root filesystem as the host can reach it. */
  liveRootfs(rec: ContainerRecord): string {
    if (!rec.State.Running || rec.State.Pid <= 0) throw conflict(`Container ${rec.ID} is not running`);
    return `/proc/${rec.State.Pid}/root`;
  }

  stateDir(id: string): string {
    return this.o.runtime.store.dir(id);
  }

  liveOf(id: string): Live {
    let l = this.live.get(id);
    if (!l) {
      l = { waiters: [], pending: [], restartDelay: 0, removing: false, onExit: [] };
      this.live.set(id, l);
    }
    return l;
  }

  isRemoving(id: string): boolean {
    return this.live.get(id)?.removing ?? false;
  }

  find(idOrName: string): ContainerRecord {
    return this.store.find(idOrName);
  }

  private emit(rec: ContainerRecord, action: string, extra: StringMap = {}): void {
    this.o.events.emit('container', action, rec.ID, { ...(rec.Config.Labels ?? {}), image: rec.ImageRef, name: rec.Name.slice(1), ...extra });
  }

  private save(rec: ContainerRecord): void {
    this.store.save(rec);
  }

  // ---- create ----

  /**
   * `from`: a build step's container (the builder's RUN), whose root is a layer snapshot
   * (`parentChain`, none for scratch) and whose image config is the step's, not an image's.
   */
  async create(req: ContainerCreateRequest, name: string | undefined, from?: BuildStepBase): Promise<ContainerCreateResponse> {
    if (!from && (typeof req.Image !== 'string' || req.Image === '')) throw invalidArgument('No image specified');
    const warnings = validateCreate(req, this.host);
    const image = from ? undefined : await this.resolveImage(req.Image!);
    const imageConfig = from ? from.imageConfig : ((await this.o.images.configOf(image!)).config ?? {});
    let config = mergeImageConfig(imageConfig, req);
    const args = [...(config.Entrypoint ?? []), ...(config.Cmd ?? [])];
    if (args.length === 0) throw invalidArgument('no command specified');
    const id = newId();
    const canonical = this.claimName(name, id);
    if (from) this.buildSteps.add(id);
    try {
      const hc = applyHostConfigDefaults(withLogConfig(req.HostConfig ?? {}, this.o.config), this.host);
      const hostNetwork = hc.NetworkMode === 'host';
      config = applyConfigDefaults(config, id, hc, this.host);
      // `-v /host/dir:/dst` makes a missing host directory, as Docker does (--mount refuses).
      for (const src of missingBindSources(hc, existsSync)) mkdirSync(src, { recursive: true, mode: 0o755 });
      const dir = this.store.containerDir(id);
      mkdirSync(dir, { recursive: true, mode: 0o710 });
      const etc = await writeEtcFiles(dir, { hostname: containerHostname(id, config.Hostname, hostNetwork), domainname: config.Domainname, hc, hostNetwork });
      if (image) await this.o.images.prepareRootfs(id, image);
      else await this.o.images.snapshots.prepare(id, from?.parentChain);
      const mountPoints = await this.o.volumes.prepare({
        id, hc, configVolumes: Object.keys(config.Volumes ?? {}), find: (ref) => this.find(ref),
        withRootfs: async (fn) => withTempMount(await this.o.images.snapshots.mounts(id), fn, { tmpRoot: this.o.config.execRoot }),
      });
      const networks = this.o.networks.planEndpoints(hc, req.NetworkingConfig, config.NetworkDisabled === true);
      const rec: ContainerRecord = {
        ID: id, Name: canonical, Created: new Date().toISOString(), Path: args[0]!, Args: args.slice(1), Config: { ...config, Image: req.Image },
        HostConfig: hc, Image: image?.id ?? from?.imageId ?? '', ImageRef: req.Image ?? '', State: initialState(),
        RestartCount: 0, HasBeenStartedBefore: false, HasBeenManuallyStopped: false, Driver: this.o.images.snapshots.name,
        SnapshotKey: id, LogPath: join(dir, `${id}-json.log`), HostnamePath: etc.hostnamePath, HostsPath: etc.hostsPath,
        ResolvConfPath: etc.resolvConfPath, MountPoints: mountPoints, ...(networks ? { Networks: networks } : {}),
      };
      this.save(rec);
      await this.store.saved(id);
      this.emit(rec, 'create');
      return { Id: id, Warnings: warnings };
    } catch (err) {
      this.store.releaseName(canonical, id);
      await this.o.images.snapshots.remove(id).catch(() => undefined);
      if (this.store.has(id)) await this.store.delete(id);
      else rmSync(this.store.containerDir(id), { recursive: true, force: true });
      throw err;
    }
  }

  private claimName(name: string | undefined, id: string): string {
    if (name !== undefined && name !== '') {
      const canonical = canonicalName(name);
      this.store.reserveName(canonical, id);
      return canonical;
    }
    for (let retry = 0; ; retry++) {
      const canonical = `/${generateName(retry)}`;
      if (!this.store.nameTaken(canonical)) {
        this.store.reserveName(canonical, id);
        return canonical;
      }
    }
  }

  private async resolveImage(ref: string): Promise<ImageRecord> {
    try {
      return await this.o.images.resolve(ref);
    } catch (err) {
      if (!isBerthError(err, 'NotFound')) throw err;
      let shown = ref;
      try {
        shown = familiarString(parseDockerRef(ref));
      } catch {
        throw invalidArgument(`invalid reference format: ${ref}`);
      }
      throw notFound(`No such image: ${shown}`);
    }
  }

  // ---- start ----

  start(idOrName: string): Promise<void> {
    const rec = this.find(idOrName);
    return this.mutex.run(rec.ID, () => this.startLocked(rec));
  }

  private async startLocked(rec: ContainerRecord): Promise<void> {
    const live = this.liveOf(rec.ID);
    if (live.removing) throw conflict(`container ${rec.ID} is marked for removal and cannot be started`);
    if (rec.State.Paused) throw conflict('cannot start a paused container, try unpause instead');
    if (rec.State.Running) throw new AlreadyInState('container already started');
    clearTimeout(live.restartTimer);
    live.restartTimer = undefined;
    try {
      await this.run(rec);
    } catch (err) {
      // dockerd removes an --rm container that failed to start (after this start returns).
      if (rec.HostConfig.AutoRemove) setImmediate(() => void this.remove(rec.ID, { force: true, volumes: true }).catch(() => undefined));
      throw startError(err);
    }
  }

  /** Mount, plan, create the shim-monitored process, join waiting attachers, then let it run. */
  private async run(rec: ContainerRecord): Promise<void> {
    const id = rec.ID;
    const live = this.liveOf(id);
    const bundle = this.runDir(id);
    const rootfs = this.rootfsDir(id);
    mkdirSync(rootfs, { recursive: true, mode: 0o711 });
    try {
      const t = [performance.now()];
      await this.cleanRuntimeState(id);
      const mounts = (await this.o.images.snapshots.mounts(rec.SnapshotKey)).map(kernelMount);
      t.push(performance.now());
      // The user is looked up in the image's files, read through a view of the snapshot.
      const user = await this.userOf(rec);
      const userMounts = await this.o.volumes.attach(rec);
      const network = await this.o.networks.attach(rec);
      if (network.addresses.length > 0) await rewriteNetworkFiles(rec, network);
      const { spec } = buildSpec({
        id, config: rec.Config, hostConfig: rec.HostConfig, rootfs, user, initPath: this.o.initPath, host: this.host,
        cgroupParent: `/${this.o.config.cgroupParent.replace(/^\/+/, '')}`, defaultUlimits: this.o.config.defaultUlimits,
        networkFiles: { hostname: rec.HostnamePath, hosts: rec.HostsPath, resolvConf: rec.ResolvConfPath }, mounts: userMounts,
        joined: { network: network.netns, ...this.sharedNamespaces(rec) },
      });
      writeFileSync(join(bundle, 'config.json'), JSON.stringify(spec));
      t.push(performance.now());
      const logOpts = { ...this.o.config.logOpts, ...(rec.HostConfig.LogConfig?.Config ?? {}) };
      const logDriver = rec.HostConfig.LogConfig?.Type || this.o.config.logDriver;
      const created = await this.o.runtime.create(id, {
        bundle, spec, mode: 'monitor', loopbackUp: true, rootfsMounts: mounts, hostTools: network.hostTools, exitUnmounts: network.exitUnmounts,
        monitor: {
          logPath: logDriver === 'none' ? undefined : rec.LogPath,
          logMaxSize: logOpts['max-size'] ? parseSize(logOpts['max-size']) : DEFAULT_LOG_MAX_SIZE,
          logMaxFiles: logOpts['max-file'] ? Number(logOpts['max-file']) : DEFAULT_LOG_MAX_FILES,
          stdin: rec.Config.OpenStdin === true, stdinOnce: rec.Config.StdinOnce === true,
        },
      });
      t.push(performance.now());
      await this.joinPending(rec);
      this.watchExit(rec);
      await this.o.runtime.start(id);
      t.push(performance.now());
      this.o.log('debug', `started ${id.slice(0, 12)}: ${['mount', 'spec', 'create', 'start'].map((step, i) => `${step} ${(t[i + 1]! - t[i]!).toFixed(1)}ms`).join(', ')}`);
      rec.State = {
        ...rec.State, Status: 'running', Running: true, Paused: false, Restarting: false, OOMKilled: false, Dead: false,
        Pid: created.record.pid, ExitCode: 0, Error: '', StartedAt: new Date().toISOString(), FinishedAt: ZERO_TIME,
      };
      if (rec.Config.Healthcheck?.Test?.length && rec.Config.Healthcheck.Test[0] !== 'NONE') {
        rec.State.Health = { Status: 'starting', FailingStreak: 0, Log: [] };
      }
      rec.HasBeenStartedBefore = true;
      rec.HasBeenManuallyStopped = false;
      this.save(rec);
      this.emit(rec, 'start');
      this.lifecycle?.started(rec);
    } catch (err) {
      live.watcher?.close();
      live.watcher = undefined;
      for (const s of live.pending.splice(0)) s.close();
      await this.o.runtime.delete(id, true).catch(() => undefined);
      await this.o.volumes.detach(rec);
      await this.o.networks.detach(rec);
      const message = (err as Error).message;
      rec.State = { ...rec.State, Status: rec.HasBeenStartedBefore ? 'exited' : 'created', Running: false, Pid: 0, Error: message, ExitCode: exitCodeForStartError(message) };
      this.save(rec);
      throw err;
    }
  }

  /**
   * The container's user as its /etc/passwd and /etc/group say, read through a temporary
   * mount of its snapshot. Before its first start a container's files are its image's, so
   * the answer is kept per image (and user): most starts need no mount at all.
   */
  private async userOf(rec: ContainerRecord): Promise<ResolvedUser> {
    const spec = rec.Config.User ?? '';
    const groups = rec.HostConfig.GroupAdd ?? [];
    const key = JSON.stringify([rec.Image, spec, groups]);
    // A build step's files are its own: its user is looked up every time.
    const cacheable = !rec.HasBeenStartedBefore && !this.buildSteps.has(rec.ID);
    const cached = cacheable ? this.userCache.get(key) : undefined;
    if (cached) return cached;
    const mounts = await this.o.images.snapshots.mounts(rec.SnapshotKey);
    const user = await withTempMount(mounts, (dir) => resolveUser(dir, spec, groups), { tmpRoot: this.o.config.execRoot });
    if (cacheable) {
      if (this.userCache.size >= 256) this.userCache.delete(this.userCache.keys().next().value!);
      this.userCache.set(key, user);
    }
    return user;
  }

  /** pid and ipc modes container:<x>: the namespaces of x, which must be running. */
  private sharedNamespaces(rec: ContainerRecord): { pid?: string; ipc?: string } {
    const out: { pid?: string; ipc?: string } = {};
    for (const [key, mode] of [['pid', rec.HostConfig.PidMode], ['ipc', rec.HostConfig.IpcMode]] as const) {
      if (!mode?.startsWith('container:')) continue;
      const other = this.find(mode.slice('container:'.length));
      if (!other.State.Running) throw conflict(`cannot join ${key} namespace of a non running container: ${other.ID}`);
      out[key] = `/proc/${other.State.Pid}/ns/${key}`;
    }
    return out;
  }

  /** A previous run's runtime state (after a crash) must not block the new one. */
  private async cleanRuntimeState(id: string): Promise<void> {
    if (!existsSync(this.stateDir(id))) return;
    await this.o.runtime.delete(id, true).catch((err: unknown) => this.o.log('warn', `cleaning old runtime state of ${id}: ${(err as Error).message}`));
    rmSync(this.stateDir(id), { recursive: true, force: true });
  }

  private async joinPending(rec: ContainerRecord): Promise<void> {
    const live = this.liveOf(rec.ID);
    const sessions = live.pending.splice(0).filter((s) => !s.isClosed);
    const sock = join(this.stateDir(rec.ID), 'attach.sock');
    await Promise.all(sessions.map(async (s) => s.connect(await connectUnix(sock))));
    // connect() returns once the kernel queued the connection; the shim accepts it later. Its
    // answer to "ping" comes after it accepted them, so the process's first byte reaches them.
    if (sessions.length > 0) await ctlCommand(join(this.stateDir(rec.ID), 'ctl.sock'), 'ping');
  }

  /** The shim writes `exit` atomically (rename) when the process is gone; inotify tells us. */
  watchExit(rec: ContainerRecord): void {
    const live = this.liveOf(rec.ID);
    live.watcher?.close();
    const dir = this.stateDir(rec.ID);
    const check = (): void => {
      if (!live.watcher || !existsSync(join(dir, 'exit'))) return;
      live.watcher.close();
      live.watcher = undefined;
      void this.mutex.run(rec.ID, () => this.handleExit(rec.ID)).catch((err: unknown) => this.o.log('error', `handling the exit of ${rec.ID}: ${(err as Error).stack}`));
    };
    live.watcher = watch(dir, { persistent: false }, (_event, file) => {
      if (file === 'exit') check();
    });
    live.watcher.on('error', () => undefined);
    check();
  }

  // ---- exit ----

  /** The process exited: record it, clean up, wake waiters, then restart or auto-remove. */
  async handleExit(id: string): Promise<void> {
    if (!this.store.has(id)) return;
    const rec = this.store.find(id);
    const live = this.liveOf(id);
    const exit = this.o.runtime.exitRecord(id);
    const finishedAt = exit?.finishedAt ?? new Date().toISOString();
    const exitCode = exit?.exitCode ?? 255;
    const ranMs = Date.parse(finishedAt) - Date.parse(rec.State.StartedAt);
    this.lifecycle?.stopped(id);
    await this.o.runtime.delete(id, true).catch((err: unknown) => this.o.log('warn', `deleting the runtime state of ${id}: ${(err as Error).message}`));
    await this.o.volumes.detach(rec);
    await this.o.networks.detach(rec);
    const restart = !this.closing && !live.removing && shouldRestart(rec.HostConfig.RestartPolicy, {
      exitCode, ranMs, manuallyStopped: rec.HasBeenManuallyStopped, restartCount: rec.RestartCount,
    });
    rec.State = {
      ...rec.State, Status: restart ? 'restarting' : 'exited', Running: false, Paused: false, Restarting: restart,
      Pid: 0, ExitCode: exitCode, OOMKilled: exit?.oomKilled ?? false, FinishedAt: finishedAt,
      Error: exit ? rec.State.Error : 'the container\'s monitor exited without recording the exit status',
    };
    if (rec.State.Health) rec.State.Health = { ...rec.State.Health, Status: 'unhealthy' };
    if (!restart) delete rec.State.Health;
    this.save(rec);
    if (exit?.oomKilled) this.emit(rec, 'oom');
    this.emit(rec, 'die', { exitCode: String(exitCode) });
    this.wake(id, (c) => c === 'not-running' || c === 'next-exit', exitCode);
    for (const fn of live.onExit.splice(0)) fn();
    if (restart) this.scheduleRestart(rec, ranMs);
    else if (rec.HostConfig.AutoRemove && !live.removing) {
      void this.remove(id, { force: true, volumes: true }).catch((err: unknown) => this.o.log('warn', `auto-removing ${id}: ${(err as Error).message}`));
    }
  }

  private scheduleRestart(rec: ContainerRecord, ranMs: number): void {
    const live = this.liveOf(rec.ID);
    live.restartDelay = nextDelay(live.restartDelay, ranMs);
    live.restartTimer = setTimeout(() => {
      live.restartTimer = undefined;
      void this.mutex.run(rec.ID, async () => {
        if (!rec.State.Restarting || live.removing || this.closing) return;
        rec.RestartCount++;
        try {
          await this.run(rec);
        } catch (err) {
          this.o.log('warn', `restarting ${rec.ID}: ${(err as Error).message}`);
          rec.State = { ...rec.State, Status: 'exited', Restarting: false };
          this.save(rec);
        }
      });
    }, live.restartDelay);
    live.restartTimer.unref();
  }

  private wake(id: string, which: (c: WaitCondition) => boolean, exitCode: number, error?: string): void {
    const live = this.liveOf(id);
    const keep: Waiter[] = [];
    for (const w of live.waiters) {
      if (which(w.condition)) w.resolve({ StatusCode: exitCode, Error: error ? { Message: error } : null });
      else keep.push(w);
    }
    live.waiters = keep;
  }

  // ---- stop, kill, restart, pause ----

  async stop(idOrName: string, opts: { signal?: string; timeout?: number }): Promise<void> {
    const rec = this.find(idOrName);
    const pending = await this.mutex.run(rec.ID, async () => this.beginStop(rec, opts, true));
    if (pending) await this.finishStop(rec, pending);
  }

  /**
   * Under the mutex: send the stop signal. The exit is recorded by handleExit, which takes
   * the same mutex, so the waiting happens outside it (finishStop).
   */
  private beginStop(rec: ContainerRecord, opts: { signal?: string; timeout?: number }, manual: boolean): { exited: Promise<void>; timeout: number } | undefined {
    const live = this.liveOf(rec.ID);
    if (rec.State.Restarting && live.restartTimer) {
      clearTimeout(live.restartTimer);
      live.restartTimer = undefined;
      rec.State = { ...rec.State, Status: 'exited', Restarting: false };
      rec.HasBeenManuallyStopped = manual;
      this.save(rec);
      return undefined;
    }
    if (!rec.State.Running) throw new AlreadyInState('container already stopped');
    if (manual) {
      rec.HasBeenManuallyStopped = true;
      this.save(rec);
    }
    const signal = parseSignal(opts.signal || rec.Config.StopSignal || 'SIGTERM');
    const timeout = opts.timeout ?? rec.Config.StopTimeout ?? DEFAULT_STOP_TIMEOUT_S;
    const exited = this.exitPromise(rec.ID);
    if (rec.State.Paused) this.o.runtime.resume(rec.ID);
    this.signal(rec, signal);
    return { exited, timeout };
  }

  private async finishStop(rec: ContainerRecord, p: { exited: Promise<void>; timeout: number }): Promise<void> {
    if (p.timeout < 0) return p.exited;
    if (await withTimeout(p.exited, p.timeout * 1000)) return;
    await this.mutex.run(rec.ID, async () => {
      if (rec.State.Running) this.signal(rec, 9);
    });
    await p.exited;
  }

  /** Resolves once the exit has been recorded (the handler runs under the same mutex, so wait outside it). */
  private exitPromise(id: string): Promise<void> {
    return new Promise((resolve) => this.liveOf(id).onExit.push(resolve));
  }

  private signal(rec: ContainerRecord, sig: number): void {
    try {
      process.kill(rec.State.Pid, sig);
    } catch {
      // already gone: the exit handler will record it
    }
  }

  async kill(idOrName: string, signal: string): Promise<void> {
    const rec = this.find(idOrName);
    const sig = parseSignal(signal || 'SIGKILL');
    await this.mutex.run(rec.ID, async () => {
      if (!rec.State.Running) throw conflict(`Cannot kill container: ${rec.ID}: container ${rec.ID} is not running`);
      if (sig === 9 || sig === parseSignal(rec.Config.StopSignal || 'SIGTERM')) {
        rec.HasBeenManuallyStopped = true;
        this.save(rec);
      }
      this.signal(rec, sig);
      this.emit(rec, 'kill', { signal: String(sig) });
    });
  }

  async restart(idOrName: string, opts: { signal?: string; timeout?: number }): Promise<void> {
    const rec = this.find(idOrName);
    const pending = await this.mutex.run(rec.ID, async () => (rec.State.Running ? this.beginStop(rec, opts, false) : undefined));
    if (pending) await this.finishStop(rec, pending);
    await this.mutex.run(rec.ID, async () => {
      if (rec.State.Running) return;
      rec.HasBeenManuallyStopped = false;
      const live = this.liveOf(rec.ID);
      clearTimeout(live.restartTimer);
      live.restartTimer = undefined;
      await this.run(rec);
    });
    this.emit(rec, 'restart');
  }

  async pause(idOrName: string): Promise<void> {
    const rec = this.find(idOrName);
    await this.mutex.run(rec.ID, async () => {
      if (!rec.State.Running) throw conflict(`Container ${rec.ID} is not running`);
      if (rec.State.Paused) throw conflict(`Container ${rec.ID} is already paused`);
      this.o.runtime.pause(rec.ID);
      rec.State = { ...rec.State, Status: 'paused', Paused: true };
      this.save(rec);
      this.emit(rec, 'pause');
    });
  }

  async unpause(idOrName: string): Promise<void> {
    const rec = this.find(idOrName);
    await this.mutex.run(rec.ID, async () => {
      if (!rec.State.Paused) throw conflict(`Container ${rec.ID} is not paused`);
      this.o.runtime.resume(rec.ID);
      rec.State = { ...rec.State, Status: 'running', Paused: false };
      this.save(rec);
      this.emit(rec, 'unpause');
    });
  }

  // ---- wait ----

  wait(idOrName: string, condition: string, signal: AbortSignal): Promise<ContainerWaitResponse> {
    const rec = this.find(idOrName);
    const c = (condition || 'not-running') as WaitCondition;
    if (c !== 'not-running' && c !== 'next-exit' && c !== 'removed') throw invalidArgument(`invalid condition: "${condition}"`);
    if (c === 'not-running' && !rec.State.Running && !rec.State.Restarting) {
      return Promise.resolve({ StatusCode: rec.State.ExitCode, Error: null });
    }
    return new Promise((resolve, reject) => {
      const live = this.liveOf(rec.ID);
      const waiter: Waiter = { condition: c, resolve };
      live.waiters.push(waiter);
      signal.addEventListener('abort', () => {
        live.waiters = live.waiters.filter((w) => w !== waiter);
        reject(new Error('client went away'));
      }, { once: true });
    });
  }

  // ---- remove ----

  /** volumes: also the container's anonymous volumes (`rm -v`, --rm). */
  async remove(idOrName: string, opts: { force: boolean; volumes?: boolean }): Promise<void> {
    const rec = this.find(idOrName);
    const live = this.liveOf(rec.ID);
    if (live.removing) throw conflict(`removal of container ${rec.ID} is already in progress`);
    if ((rec.State.Running || rec.State.Paused) && !opts.force) {
      const state = rec.State.Paused ? 'paused' : 'running';
      throw conflict(`You cannot remove a ${state} container ${rec.ID}. Stop the container before attempting removal or force remove`);
    }
    live.removing = true;
    try {
      if (rec.State.Running) {
        const exited = this.exitPromise(rec.ID);
        await this.mutex.run(rec.ID, async () => {
          if (!rec.State.Running) return;
          if (rec.State.Paused) this.o.runtime.resume(rec.ID);
          this.signal(rec, 9);
        });
        if (rec.State.Running) await exited;
      }
      await this.mutex.run(rec.ID, () => this.destroy(rec, opts.volumes ?? false));
    } catch (err) {
      live.removing = false;
      throw err;
    }
  }

  private async destroy(rec: ContainerRecord, removeVolumes: boolean): Promise<void> {
    const live = this.liveOf(rec.ID);
    clearTimeout(live.restartTimer);
    live.watcher?.close();
    for (const s of live.pending.splice(0)) s.close();
    await this.o.runtime.delete(rec.ID, true).catch(() => undefined);
    await rm(this.runDir(rec.ID), { recursive: true, force: true });
    await this.o.images.snapshots.remove(rec.SnapshotKey).catch((err: unknown) => {
      if (!isBerthError(err, 'NotFound')) throw err;
    });
    await this.store.delete(rec.ID);
    if (removeVolumes) await this.o.volumes.removeAnonymous(rec, (m) => this.o.log('warn', m));
    this.emit(rec, 'destroy');
    this.wake(rec.ID, (c) => c === 'removed' || c === 'not-running' || c === 'next-exit', rec.State.ExitCode);
    this.live.delete(rec.ID);
    this.buildSteps.delete(rec.ID);
  }

  // ---- rename, attach ----

  async rename(idOrName: string, newName: string): Promise<void> {
    const rec = this.find(idOrName);
    const canonical = canonicalName(newName);
    if (canonical === rec.Name) throw invalidArgument('Renaming a container with the same name as its current name');
    await this.mutex.run(rec.ID, async () => {
      const old = rec.Name;
      this.store.reserveName(canonical, rec.ID);
      rec.Name = canonical;
      this.save(rec);
      this.store.releaseName(old, rec.ID);
      this.emit(rec, 'rename', { oldName: old });
    });
  }

  /** A session on the process's stdio: joined now when it runs, or when it starts. */
  async attach(idOrName: string, want: { stdin: boolean; stdout: boolean; stderr: boolean; detachKeys?: string }): Promise<StdioSession> {
    const rec = this.find(idOrName);
    const keys = parseDetachKeys(want.detachKeys ?? DEFAULT_DETACH_KEYS);
    const session = new StdioSession(rec.Config.Tty === true, { ...want, stdin: want.stdin && rec.Config.OpenStdin === true, detachKeys: keys });
    await this.mutex.run(rec.ID, async () => {
      if (rec.State.Running) session.connect(await connectUnix(join(this.stateDir(rec.ID), 'attach.sock')));
      else this.liveOf(rec.ID).pending.push(session);
    });
    this.emit(rec, 'attach');
    return session;
  }

  // ---- shutdown ----

  /** Stop timers and watchers; containers keep running (live restore). */
  close(): void {
    this.closing = true;
    for (const live of this.live.values()) {
      clearTimeout(live.restartTimer);
      live.watcher?.close();
      live.watcher = undefined;
    }
  }

  /** Run fn under the container's mutex (for exec, update and commit). */
  locked<T>(id: string, fn: () => Promise<T>): Promise<T> {
    return this.mutex.run(id, fn);
  }

  setState(rec: ContainerRecord, patch: Partial<ContainerState>): void {
    rec.State = { ...rec.State, ...patch };
    this.save(rec);
  }

  persist(rec: ContainerRecord): void {
    this.save(rec);
  }

  emitFor(rec: ContainerRecord, action: string, extra: StringMap = {}): void {
    this.emit(rec, action, extra);
  }
}

/** A start of a running container or a stop of a stopped one: the API answers 304. */
export class AlreadyInState extends Error {
  readonly notModified = true;
}

function withTimeout(p: Promise<void>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), ms);
    void p.then(() => {
      clearTimeout(t);
      resolve(true);
    });
  });
}

/**
 * A start failure as dockerd words it: clients pick exit codes 127/126 from Go's lower-case
 * "no such file or directory" / "permission denied", so strerror's capitals are lowered.
 */
function startError(err: unknown): unknown {
  if (!isBerthError(err)) return err;
  const message = err.message.replace(/No such file or directory/g, 'no such file or directory').replace(/Permission denied/g, 'permission denied');
  const runtimeFailure = /^(finding the executable|executing|changing to cwd|switching to uid)/.test(err.message);
  return new BerthError(runtimeFailure ? 'InvalidArgument' : err.code, runtimeFailure ? `failed to create task for container: OCI runtime create failed: ${message}: unknown` : message, { cause: err });
}

/** Docker's exit codes for a process that could not be started: 127 not found, 126 not executable. */
function exitCodeForStartError(message: string): number {
  if (/executable file not found|no such file or directory/i.test(message)) return 127;
  if (/permission denied|not executable|exec format error/i.test(message)) return 126;
  return 128;
}

/** "10m", "512k", "1g" (log-opt max-size) to bytes. */
function parseSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmg]?)b?$/i.exec(text.trim());
  if (!m) throw invalidArgument(`invalid max-size "${text}"`);
  const unit = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g'];
  return Math.floor(Number(m[1]) * unit);
}

/** The log driver and options a container starts with: the daemon's unless the request names one. */
function withLogConfig(hc: NonNullable<ContainerCreateRequest['HostConfig']>, config: DaemonConfig): NonNullable<ContainerCreateRequest['HostConfig']> {
  if (hc.LogConfig?.Type) return hc;
  return { ...hc, LogConfig: { Type: config.logDriver, Config: { ...config.logOpts } } };
}
