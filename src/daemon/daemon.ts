// berthd's wiring (plain constructors, one place) and its Backend: the Engine API's
// operations over the container manager, exec, the image service and the per-container
// services (logs, stats, top, archive, changes), which load on first use: an idle daemon
// stays small.
import { mkdirSync } from 'node:fs';
import { cpus, hostname, release, totalmem, arch as osArch } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type {
  ContainerCreateRequest, ContainerCreateResponse, ContainerInspect, ContainerPruneResponse, ContainerStats,
  ContainerSummary, ContainerTopResponse, ContainerUpdateRequest, ContainerUpdateResponse, ContainerWaitResponse,
  DiskUsage, ExecCreateRequest, ExecInspect, FilesystemChange, Filters, ImageDeleteResponseItem, ImageHistoryItem,
  ImageInspect, ImagePruneResponse, ImageSummary, PathStat, SystemInfo, VersionResponse, Volume, VolumeCreateRequest,
  VolumeListResponse, VolumePruneResponse, NetworkResource, NetworkCreateRequest, NetworkCreateResponse, NetworkConnectRequest,
  NetworkDisconnectRequest, NetworkPruneResponse, JSONMessage,
} from '../oci/engine-api.js';
import { API_MIN_VERSION, API_VERSION } from '../oci/engine-api.js';
import { ensureHelloWorld } from '../images/builtin.js';
import { exportSnapshot } from '../images/import.js';
import { ImageStore } from '../images/store.js';
import { detectLayout } from '../runtime/cgroups/index.js';
import { Runtime } from '../runtime/container.js';
import { SHIM_PATH } from '../runtime/shim.js';
import { BuildCache } from '../build/cache.js';
import { CacheMounts } from './build/cache-mounts.js';
import { buildCacheUsage } from './build/usage.js';
import { ShimSpawner } from '../runtime/shim-spawner.js';
import { mountTemp } from '../snapshots/mount.js';
import { conflict } from '../util/errors.js';
import { packageRoot } from '../util/package-root.js';
import type {
  ArchiveOptions, Backend, BuildRequest, CommitOptions, ImportOptions, ImportSource, ListContainersOptions, LogsOptions, LogsResult,
  ProgressSink, RegistryAuth, StdioStream, Subscription,
} from './backend.js';
import type { DaemonConfig } from './config.js';
import { EventBus } from './events.js';
import { ExecManager, ctlCommand } from './containers/exec.js';
import { HealthMonitor } from './containers/health.js';
import { ContainerManager } from './containers/manager.js';
import { restoreContainers, type RestoreReport } from './containers/restore.js';
import { ContainerStore, type ContainerRecord } from './containers/store.js';
import { filterContainers, inspectView, summaryView } from './containers/views.js';
import { ImageService } from './images/service.js';
import { VolumeStore } from '../volumes/store.js';
import { ContainerVolumes } from './containers/volumes.js';
import { NetworkService } from './networks/service.js';

export { BERTH_VERSION } from '../util/version.js';
import { BERTH_VERSION } from '../util/version.js';

export type LogFn = (level: 'debug' | 'info' | 'warn' | 'error' | 'fatal', msg: string) => void;

export class Daemon implements Backend {
  readonly events = new EventBus();
  readonly containers: ContainerManager;
  readonly execs: ExecManager;
  private readonly health: HealthMonitor;
  readonly images: ImageService;
  readonly volumes: VolumeStore;
  readonly networks: NetworkService;

  /** The build cache (opened with the daemon; it also tells image gc what it keeps). */
  get buildCache(): BuildCache {
    return this.buildCacheStore!;
  }
  private spawner: ShimSpawner | undefined;
  /** RUN --mount=type=cache directories. */
  readonly buildCacheMounts: CacheMounts;
  private buildCacheStore: BuildCache | undefined;

  private constructor(readonly config: DaemonConfig, readonly store: ImageStore, readonly runtime: Runtime, private readonly log: LogFn) {
    const containerStore = new ContainerStore(join(config.dataRoot, 'containers'), (id, err) => log('error', `writing the record of container ${id}: ${err.message}`));
    this.volumes = new VolumeStore({ root: join(config.dataRoot, 'volumes'), usersOf: (name) => containerVolumes.usersOf(name) });
    const containerVolumes = new ContainerVolumes(this.volumes, { emit: (action, name, attrs) => this.events.emit('volume', action, name, attrs) }, () => containerStore.all());
    this.networks = new NetworkService({
      config, events: this.events, containers: () => containerStore.all(), findContainer: (ref) => containerStore.find(ref),
      persist: (rec) => containerStore.save(rec), log: (level, msg) => log(level, msg),
    });
    this.containers = new ContainerManager({
      config, images: store, runtime, events: this.events, store: containerStore, log, volumes: containerVolumes, networks: this.networks,
      initPath: join(packageRoot(), 'build/native/berth-init'),
    });
    this.execs = new ExecManager(this.containers, runtime, config.execRoot);
    this.health = new HealthMonitor(this.containers, this.execs, (m) => log('debug', m));
    this.containers.lifecycle = { started: (rec) => this.health.start(rec), stopped: (id) => this.health.stop(id) };
    this.buildCacheMounts = new CacheMounts(join(config.dataRoot, 'builder', 'mounts'));
    this.images = new ImageService({
      store, emit: (e) => this.events.emit('image', e.Action, e.Actor.ID, e.Actor.Attributes),
      registry: { insecureRegistries: config.insecureRegistries, registryMirrors: config.registryMirrors, mirrors: config.mirrorsByHost },
      inUse: (imageId) => this.imageUser(imageId),
      containerCount: (imageId) => this.containers.store.all().filter((c) => c.Image === imageId).length,
    });
  }

  static async open(config: DaemonConfig, log: LogFn): Promise<{ daemon: Daemon; restored: RestoreReport }> {
    for (const dir of [config.dataRoot, config.execRoot]) mkdirSync(dir, { recursive: true, mode: 0o711 });
    const store = await ImageStore.open({ root: config.dataRoot, snapshotter: config.storageDriver });
    const spawner = await ShimSpawner.start(SHIM_PATH, join(config.execRoot, 'shim-spawner.sock')).catch((err: unknown) => {
      log('warn', `starting the shim spawner (shims are spawned by berthd instead): ${(err as Error).message}`);
      return undefined;
    });
    const runtime = new Runtime({ root: join(config.execRoot, 'runtime'), warn: (m) => log('warn', m), spawner });
    const daemon = new Daemon(config, store, runtime, log);
    daemon.spawner = spawner;
    daemon.buildCacheStore = new BuildCache(store, join(config.dataRoot, 'builder'));
    await ensureHelloWorld(store);
    const records = daemon.containers.store.load((m) => log('warn', m));
    // Networks first: a container that exited while the daemon was down lets go of its endpoints.
    await daemon.networks.init();
    const restored = await restoreContainers(daemon.containers, records, runtime, config.execRoot, (m) => log('warn', m));
    return { daemon, restored };
  }

  async close(): Promise<void> {
    this.health.close();
    this.containers.close();
    await this.networks.close();
    await this.containers.store.flush();
    await this.store.close();
    this.spawner?.close();
  }

  private imageUser(imageId: string): { container: string; running: boolean } | undefined {
    const users = this.containers.store.all().filter((c) => c.Image === imageId);
    const running = users.find((c) => c.State.Running);
    const any = running ?? users[0];
    return any ? { container: any.ID, running: running !== undefined } : undefined;
  }

  // ---- system ----

  version(): VersionResponse {
    const details = { ApiVersion: API_VERSION, MinAPIVersion: API_MIN_VERSION, GitCommit: 'berth', GoVersion: process.version, Os: 'linux', Arch: goArch(), KernelVersion: release(), BuildTime: '' };
    return {
      Platform: { Name: 'berth' },
      Components: [{ Name: 'Engine', Version: BERTH_VERSION, Details: { ...details, Experimental: 'false' } }],
      Version: BERTH_VERSION, ...details,
    };
  }

  async info(): Promise<SystemInfo> {
    const all = this.containers.store.all();
    const layout = detectLayout(await readText('/proc/self/mountinfo'), '/sys/fs/cgroup');
    return {
      ID: hostname(), Containers: all.length, ContainersRunning: all.filter((c) => c.State.Running && !c.State.Paused).length,
      ContainersPaused: all.filter((c) => c.State.Paused).length, ContainersStopped: all.filter((c) => !c.State.Running).length,
      Images: this.store.list().length, Driver: this.store.snapshots.name, DriverStatus: [['Backing Filesystem', 'extfs']],
      DockerRootDir: this.config.dataRoot, SystemTime: new Date().toISOString(), LoggingDriver: this.config.logDriver,
      CgroupDriver: 'cgroupfs', CgroupVersion: layout.mode === 'unified' ? '2' : '1', NEventsListener: this.events.listeners,
      KernelVersion: release(), OperatingSystem: await osName(), OSVersion: '', OSType: 'linux', Architecture: osArch() === 'x64' ? 'x86_64' : osArch(),
      NCPU: cpus().length, MemTotal: totalmem(), IndexServerAddress: 'https://index.docker.io/v1/',
      RegistryConfig: { InsecureRegistryCIDRs: ['127.0.0.0/8'], IndexConfigs: {}, Mirrors: this.config.registryMirrors },
      Name: hostname(), Labels: [], ExperimentalBuild: false, ServerVersion: BERTH_VERSION,
      Runtimes: { 'berth-runtime': { path: 'berth-runtime' } }, DefaultRuntime: 'berth-runtime', LiveRestoreEnabled: true,
      Isolation: '', InitBinary: 'berth-init', SecurityOptions: ['name=seccomp,profile=builtin'], Warnings: null,
      MemoryLimit: true, SwapLimit: true, CpuCfsPeriod: true, CpuCfsQuota: true, CPUShares: true, CPUSet: true, PidsLimit: true,
      IPv4Forwarding: true, Debug: this.config.logLevel === 'debug', NFd: 0, NGoroutines: 0, OomKillDisable: true,
      Plugins: { Volume: ['local'], Network: ['bridge', 'host', 'null'], Authorization: null, Log: ['json-file', 'local'] },
      Swarm: { LocalNodeState: 'inactive', NodeID: '', NodeAddr: '', ControlAvailable: false, Error: '', RemoteManagers: null },
      HttpProxy: '', HttpsProxy: '', NoProxy: '',
    };
  }

  async diskUsage(): Promise<DiskUsage> {
    const { LayersSize, Images } = await this.images.diskUsage();
    const containers = await this.listContainers({ all: true, size: true, filters: {} });
    return { LayersSize, Images, Containers: containers, Volumes: await this.volumeUsage(), BuildCache: buildCacheUsage(this.buildCache) };
  }

  async build(context: Readable, req: BuildRequest, output: (m: JSONMessage) => void, signal: AbortSignal): Promise<void> {
    const { runBuild } = await import('./build/service.js');
    return runBuild(this, context, req, output, signal);
  }

  async pruneBuildCache(opts: { all: boolean; keepStorage: number; filters: Filters }): Promise<{ CachesDeleted: string[]; SpaceReclaimed: number }> {
    const { pruneBuildCache } = await import('./build/service.js');
    return pruneBuildCache(this, opts);
  }

  private readonly networkNames = (id: string): string | undefined => this.networks.store.tryFind(id)?.Name;

  // ---- networks ----

  async listNetworks(filters: Filters): Promise<NetworkResource[]> {
    return this.networks.list(filters);
  }

  async inspectNetwork(term: string): Promise<NetworkResource> {
    return this.networks.inspect(term);
  }

  createNetwork(req: NetworkCreateRequest): Promise<NetworkCreateResponse> {
    return this.networks.create(req);
  }

  removeNetwork(term: string): Promise<void> {
    return this.networks.remove(term);
  }

  connectNetwork(term: string, req: NetworkConnectRequest): Promise<void> {
    return this.networks.connect(term, req.Container, req.EndpointConfig);
  }

  disconnectNetwork(term: string, req: NetworkDisconnectRequest): Promise<void> {
    return this.networks.disconnect(term, req.Container, req.Force === true);
  }

  async pruneNetworks(filters: Filters): Promise<NetworkPruneResponse> {
    const deleted = await this.networks.prune(filters);
    this.events.emit('network', 'prune', '', {});
    return { NetworksDeleted: deleted };
  }

  // ---- volumes ----

  async listVolumes(filters: Filters): Promise<VolumeListResponse> {
    return { Volumes: this.volumes.list(filters), Warnings: null };
  }

  async createVolume(req: VolumeCreateRequest): Promise<Volume> {
    const { volume, created } = await this.volumes.create({ name: req.Name, driver: req.Driver, driverOpts: req.DriverOpts ?? undefined, labels: req.Labels ?? undefined });
    if (created) this.events.emit('volume', 'create', volume.Name, { driver: volume.Driver });
    return volume;
  }

  async inspectVolume(name: string): Promise<Volume> {
    return this.volumes.inspect(name);
  }

  async removeVolume(name: string, force: boolean): Promise<void> {
    const existed = this.volumes.has(name);
    await this.volumes.remove(name, { force });
    if (existed) this.events.emit('volume', 'destroy', name, { driver: 'local' });
  }

  async pruneVolumes(filters: Filters): Promise<VolumePruneResponse> {
    const { deleted, reclaimed } = await this.volumes.prune(filters);
    for (const name of deleted) this.events.emit('volume', 'destroy', name, { driver: 'local' });
    this.events.emit('volume', 'prune', '', { reclaimed: String(reclaimed) });
    return { VolumesDeleted: deleted, SpaceReclaimed: reclaimed };
  }

  private async volumeUsage(): Promise<Volume[]> {
    return Promise.all(this.volumes.list().map(async (v) => ({
      ...v, UsageData: { Size: v.Options ? -1 : await this.volumes.size(v.Name), RefCount: this.containers.volumes.usersOf(v.Name).length },
    })));
  }

  subscribe(opts: { since?: number; until?: number; filters: Filters }): Subscription {
    return this.events.subscribe(opts);
  }

  // ---- containers ----

  createContainer(req: ContainerCreateRequest, name: string | undefined): Promise<ContainerCreateResponse> {
    return this.containers.create(req, name);
  }

  async listContainers(opts: ListContainersOptions): Promise<ContainerSummary[]> {
    const sorted = this.containers.store.all().sort((a, b) => Date.parse(b.Created) - Date.parse(a.Created));
    const find = (ref: string): ContainerRecord | undefined => {
      try {
        return this.containers.find(ref);
      } catch {
        return undefined;
      }
    };
    const imageMatches = (rec: ContainerRecord, ref: string): boolean => rec.ImageRef === ref || rec.Image === ref || rec.Image.startsWith(`sha256:${ref}`);
    const names = this.networkNames;
    let recs = filterContainers(sorted, opts.filters, opts.all || (opts.limit ?? 0) > 0, find, imageMatches, names);
    if (opts.limit && opts.limit > 0) recs = recs.slice(0, opts.limit);
    const out = recs.map((r) => summaryView(r, this.containers.isRemoving(r.ID), names));
    if (opts.size) {
      for (const [i, rec] of recs.entries()) {
        const usage = await this.store.snapshots.usage(rec.SnapshotKey).catch(() => ({ size: 0 }));
        out[i]!.SizeRw = usage.size;
      }
    }
    return out;
  }

  async inspectContainer(idOrName: string, size: boolean): Promise<ContainerInspect> {
    const rec = this.containers.find(idOrName);
    const view = inspectView(rec, this.execs.idsOf(rec.ID), this.networkNames);
    if (size) view.SizeRw = (await this.store.snapshots.usage(rec.SnapshotKey).catch(() => ({ size: 0 }))).size;
    return view;
  }

  startContainer(idOrName: string): Promise<void> {
    return this.containers.start(idOrName);
  }

  stopContainer(idOrName: string, opts: { signal?: string; timeout?: number }): Promise<void> {
    return this.containers.stop(idOrName, opts);
  }

  restartContainer(idOrName: string, opts: { signal?: string; timeout?: number }): Promise<void> {
    return this.containers.restart(idOrName, opts);
  }

  killContainer(idOrName: string, signal: string): Promise<void> {
    return this.containers.kill(idOrName, signal);
  }

  pauseContainer(idOrName: string): Promise<void> {
    return this.containers.pause(idOrName);
  }

  unpauseContainer(idOrName: string): Promise<void> {
    return this.containers.unpause(idOrName);
  }

  waitContainer(idOrName: string, condition: string, signal: AbortSignal): Promise<ContainerWaitResponse> {
    return this.containers.wait(idOrName, condition, signal);
  }

  removeContainer(idOrName: string, opts: { force: boolean; volumes: boolean; link: boolean }): Promise<void> {
    if (opts.link) throw conflict('links are not supported');
    return this.containers.remove(idOrName, { force: opts.force, volumes: opts.volumes });
  }

  renameContainer(idOrName: string, newName: string): Promise<void> {
    return this.containers.rename(idOrName, newName);
  }

  async updateContainer(idOrName: string, update: ContainerUpdateRequest): Promise<ContainerUpdateResponse> {
    const { applyUpdate } = await import('./containers/update.js');
    return applyUpdate(this.containers, this.runtime, idOrName, update);
  }

  async pruneContainers(filters: Filters): Promise<ContainerPruneResponse> {
    const { pruneContainers } = await import('./containers/prune.js');
    return pruneContainers(this.containers, this.store, filters);
  }

  async resizeContainer(idOrName: string, height: number, width: number): Promise<void> {
    const rec = this.containers.find(idOrName);
    if (!rec.State.Running) throw conflict(`Container ${rec.ID} is not running`);
    await ctlCommand(join(this.containers.stateDir(rec.ID), 'ctl.sock'), `resize ${height} ${width}`);
  }

  async attachContainer(idOrName: string, opts: { stdin: boolean; stdout: boolean; stderr: boolean; stream: boolean; logs: boolean; detachKeys?: string }): Promise<StdioStream> {
    if (!opts.logs) return this.containers.attach(idOrName, opts);
    // logs=1: the log so far first (framed unless tty), then — with stream=1 — the live output.
    const rec = this.containers.find(idOrName);
    const tty = rec.Config.Tty === true;
    const { readJsonLog } = await import('./services/logs.js');
    const controller = new AbortController();
    const entries = readJsonLog(rec.LogPath, { follow: false, stdout: opts.stdout, stderr: opts.stderr, since: 0, until: 0, timestamps: false }, Promise.resolve(), controller.signal);
    const live = opts.stream ? await this.containers.attach(idOrName, opts) : undefined;
    async function* output(): AsyncGenerator<Buffer> {
      for await (const e of entries) yield tty ? e.line : frame(e.stream === 'stderr' ? 2 : 1, e.line);
      if (live) for await (const chunk of live.output) yield chunk as Buffer;
    }
    return {
      tty,
      output: Readable.from(output()),
      input: live?.input,
      close: () => {
        controller.abort();
        live?.close();
      },
    };
  }

  async containerLogs(idOrName: string, opts: LogsOptions): Promise<LogsResult> {
    const rec = this.containers.find(idOrName);
    const driver = rec.HostConfig.LogConfig?.Type || this.config.logDriver;
    if (driver === 'none') throw conflict('configured logging driver does not support reading');
    const stopped = rec.State.Running ? new Promise<void>((r) => this.containers.liveOf(rec.ID).onExit.push(r)) : Promise.resolve();
    const { readJsonLog } = await import('./services/logs.js');
    return { tty: rec.Config.Tty === true, entries: readJsonLog(rec.LogPath, opts, stopped, opts.signal ?? new AbortController().signal) };
  }

  async topContainer(idOrName: string, psArgs: string): Promise<ContainerTopResponse> {
    const rec = this.containers.find(idOrName);
    if (!rec.State.Running) throw conflict(`Container ${rec.ID} is not running`);
    const { top } = await import('./services/top.js');
    return top(this.runtime.pids(rec.ID), psArgs || '-ef');
  }

  async *containerStats(idOrName: string, opts: { stream: boolean; oneShot: boolean }, signal: AbortSignal): AsyncIterable<ContainerStats> {
    const rec = this.containers.find(idOrName);
    const { streamStats } = await import('./services/stats.js');
    const source = {
      id: rec.ID,
      name: rec.Name,
      // Re-read on every sample: the container may stop (or restart) while the stream runs.
      current: () => {
        if (!rec.State.Running || !this.containers.store.has(rec.ID)) return undefined;
        try {
          return { cgroup: this.runtime.cgroupOf(rec.ID), pid: rec.State.Pid };
        } catch {
          return undefined;
        }
      },
    };
    yield* streamStats(source, { stream: opts.stream, oneShot: opts.oneShot }, signal);
  }

  async containerChanges(idOrName: string): Promise<FilesystemChange[]> {
    const rec = this.containers.find(idOrName);
    const { changesFromMounts } = await import('./services/changes.js');
    const mounts = await this.store.snapshots.mounts(rec.SnapshotKey);
    if (this.store.snapshots.name === 'overlay') return changesFromMounts(mounts);
    // A native snapshot is a full copy: compare it with a view of the image it came from.
    const parent = (await this.store.snapshots.stat(rec.SnapshotKey)).parent;
    if (parent === undefined) return changesFromMounts(mounts);
    const viewKey = `diff-${rec.ID}-${process.hrtime.bigint()}`;
    try {
      return await changesFromMounts(mounts, await this.store.snapshots.view(viewKey, parent));
    } finally {
      await this.store.snapshots.remove(viewKey).catch(() => undefined);
    }
  }

  async exportContainer(idOrName: string): Promise<Readable> {
    const rec = this.containers.find(idOrName);
    return Readable.from(exportSnapshot(this.store, rec.SnapshotKey));
  }

  async statPath(idOrName: string, path: string): Promise<PathStat> {
    const { statPath } = await import('./services/archive.js');
    return this.withRootfs(idOrName, (rootfs) => statPath(rootfs, path, idOrName));
  }

  async getArchive(idOrName: string, path: string): Promise<{ stat: PathStat; tar: Readable }> {
    const rec = this.containers.find(idOrName);
    const { getArchive } = await import('./services/archive.js');
    if (rec.State.Running) return getArchive(this.containers.liveRootfs(rec), path, idOrName);
    // A stopped container's rootfs is mounted for the copy and unmounted when the tar is read.
    const { rootfs, release } = await this.mountStopped(rec);
    try {
      const result = await getArchive(rootfs, path, idOrName);
      result.tar.once('close', () => void release());
      return result;
    } catch (err) {
      await release();
      throw err;
    }
  }

  async putArchive(idOrName: string, path: string, tar: Readable, opts: ArchiveOptions): Promise<void> {
    const rec = this.containers.find(idOrName);
    const { putArchive } = await import('./services/archive.js');
    return this.withRootfs(idOrName, (rootfs) => putArchive(rootfs, path, tar, {
      ...opts, container: idOrName, user: rec.Config.User ?? '', readonlyRootfs: rec.HostConfig.ReadonlyRootfs === true,
    }));
  }

  private async withRootfs<T>(idOrName: string, fn: (rootfs: string) => Promise<T>): Promise<T> {
    const rec = this.containers.find(idOrName);
    if (rec.State.Running) return fn(this.containers.liveRootfs(rec));
    const { rootfs, release } = await this.mountStopped(rec);
    try {
      return await fn(rootfs);
    } finally {
      await release();
    }
  }

  /** A stopped container's rootfs on a temporary mount; release never throws (it may run from a stream's close). */
  private async mountStopped(rec: ContainerRecord): Promise<{ rootfs: string; release: () => Promise<void> }> {
    const tmpRoot = join(this.config.execRoot, 'mounts');
    mkdirSync(tmpRoot, { recursive: true, mode: 0o700 });
    const { dir, release } = await mountTemp(await this.store.snapshots.mounts(rec.SnapshotKey), { tmpRoot });
    return {
      rootfs: dir,
      release: () => release().catch((err: Error) => this.log('warn', `unmounting ${dir}: ${err.message}`)),
    };
  }

  /** POST /auth (`docker login`): check the credentials with the registry; nothing is stored. */
  async authenticate(auth: RegistryAuth): Promise<{ IdentityToken?: string }> {
    const { verifyLogin } = await import('../registry/client/login.js');
    let username = auth.username ?? '';
    let password = auth.password ?? '';
    if (auth.auth && !username) [username, password] = Buffer.from(auth.auth, 'base64').toString('utf8').split(/:(.*)/s) as [string, string];
    const registry = (auth.serveraddress ?? 'docker.io').replace(/^https?:\/\//, '').replace(/\/v[12]\/?$/, '').replace(/^index\.docker\.io$/, 'docker.io');
    await verifyLogin(registry, { username, password }, {
      insecureRegistries: this.config.insecureRegistries, registryMirrors: this.config.registryMirrors, mirrors: this.config.mirrorsByHost,
    });
    return {};
  }

  // ---- exec ----

  async createExec(idOrName: string, req: ExecCreateRequest): Promise<{ Id: string }> {
    return this.execs.create(idOrName, req);
  }

  startExec(execId: string, opts: { detach: boolean; tty?: boolean; consoleSize?: [number, number] }): Promise<StdioStream | undefined> {
    return this.execs.start(execId, opts);
  }

  resizeExec(execId: string, height: number, width: number): Promise<void> {
    return this.execs.resize(execId, height, width);
  }

  async inspectExec(execId: string): Promise<ExecInspect> {
    return this.execs.inspect(execId);
  }

  // ---- images ----

  listImages(opts: { all: boolean; filters: Filters; digests: boolean }): Promise<ImageSummary[]> {
    return this.images.listImages(opts);
  }

  inspectImage(nameOrId: string): Promise<ImageInspect> {
    return this.images.inspectImage(nameOrId);
  }

  imageHistory(nameOrId: string): Promise<ImageHistoryItem[]> {
    return this.images.imageHistory(nameOrId);
  }

  tagImage(nameOrId: string, repo: string, tag: string | undefined): Promise<void> {
    return this.images.tagImage(nameOrId, repo, tag);
  }

  removeImage(nameOrId: string, opts: { force: boolean; noprune: boolean }): Promise<ImageDeleteResponseItem[]> {
    return this.images.removeImage(nameOrId, opts);
  }

  pruneImages(filters: Filters): Promise<ImagePruneResponse> {
    return this.images.pruneImages(filters);
  }

  pullImage(ref: string, opts: { platform?: string; auth?: RegistryAuth; progress: ProgressSink; signal: AbortSignal }): Promise<void> {
    return this.images.pullImage(ref, opts);
  }

  pushImage(ref: string, opts: { auth?: RegistryAuth; progress: ProgressSink; signal: AbortSignal }): Promise<void> {
    return this.images.pushImage(ref, opts);
  }

  importImage(source: ImportSource, opts: ImportOptions, progress: ProgressSink): Promise<string> {
    return this.images.importImage(source, opts, progress);
  }

  saveImages(names: string[]): Promise<Readable> {
    return this.images.saveImages(names);
  }

  loadImages(tar: Readable, progress: ProgressSink, quiet: boolean): Promise<void> {
    return this.images.loadImages(tar, progress, quiet);
  }

  async commitContainer(opts: CommitOptions): Promise<{ Id: string }> {
    const rec = this.containers.find(opts.container);
    const pause = opts.pause && rec.State.Running && !rec.State.Paused;
    if (pause) this.runtime.pause(rec.ID);
    try {
      const base = await this.store.resolve(rec.Image).catch(() => undefined);
      const result = await this.images.commit({
        snapshotKey: rec.SnapshotKey, baseImage: base, containerConfig: rec.Config, containerId: rec.ID,
        repo: opts.repo, tag: opts.tag, comment: opts.comment, author: opts.author, changes: opts.changes, config: opts.config,
      });
      const imageRef = opts.repo ? `${opts.repo}:${opts.tag || 'latest'}` : '';
      this.containers.emitFor(rec, 'commit', { comment: opts.comment ?? '', imageID: result.Id, imageRef });
      return result;
    } finally {
      if (pause) this.runtime.resume(rec.ID);
    }
  }
}

function goArch(): string {
  return ({ x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386' } as Record<string, string>)[osArch()] ?? osArch();
}

async function readText(path: string): Promise<string> {
  return (await import('node:fs/promises')).readFile(path, 'utf8');
}

async function osName(): Promise<string> {
  try {
    const text = await readText('/etc/os-release');
    return /^PRETTY_NAME="?([^"\n]*)"?/m.exec(text)?.[1] ?? 'Linux';
  } catch {
    return 'Linux';
  }
}

/** One frame of Docker's multiplexed stream: [stream, 0, 0, 0, length (big-endian)] + payload. */
function frame(stream: 1 | 2, payload: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}
