// A Backend with canned containers and images, for testing the API layer in isolation
// (wire compatibility with the docker CLI and docker-py, without a daemon). It records
// every call, and its containers behave just enough: `run` prints its command line and
// exits with the code in label "fake.exit"; an attached container with OpenStdin echoes
// its stdin until stdin closes, then exits 0.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { createApiServer, type ApiServer, type ApiServerOptions } from '../../src/api/server.js';
import type {
  ArchiveOptions, AttachOptions, Backend, BuildRequest, CommitOptions, ImportOptions, ImportSource, ListContainersOptions, LogEntry,
  LogsOptions, LogsResult, ProgressSink, RegistryAuth, StdioStream, Subscription,
} from '../../src/daemon/backend.js';
import type {
  ContainerCreateRequest, ContainerCreateResponse, ContainerInspect, ContainerPruneResponse, ContainerStats,
  ContainerSummary, ContainerTopResponse, ContainerUpdateRequest, ContainerUpdateResponse, ContainerWaitResponse,
  DiskUsage, EventMessage, ExecCreateRequest, ExecInspect, FilesystemChange, Filters, ImageDeleteResponseItem,
  ImageHistoryItem, ImageInspect, ImagePruneResponse, ImageSummary, PathStat, SystemInfo, VersionResponse, Volume, VolumeCreateRequest, VolumeListResponse, VolumePruneResponse,
  NetworkResource, NetworkCreateRequest, NetworkCreateResponse, NetworkConnectRequest, NetworkDisconnectRequest, NetworkPruneResponse, JSONMessage,
} from '../../src/oci/engine-api.js';
import { BerthError, conflict, notFound, type ErrorCode } from '../../src/util/errors.js';

export const FAKE_VERSION = '0.1.0-fake';
const CREATED = '2026-01-02T03:04:05.123456789Z';

export interface FakeContainer {
  id: string;
  name: string;
  image: string;
  cmd: string[];
  tty: boolean;
  openStdin: boolean;
  state: 'created' | 'running' | 'exited';
  exitCode: number;
  labels: Record<string, string>;
  logs: LogEntry[];
}

interface FakeExec {
  id: string;
  container: string;
  cmd: string[];
  tty: boolean;
  running: boolean;
  exitCode: number | null;
}

export interface Call {
  method: string;
  args: unknown[];
}

/** A BerthError with the NotModified code the API maps to 304 (not yet in util/errors.ts). */
export function notModified(message: string): BerthError {
  return new BerthError('NotModified' as ErrorCode, message);
}

export function muxFrame(stream: 1 | 2, text: string): Buffer {
  const payload = Buffer.from(text);
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

function hexId(seed: number): string {
  return seed.toString(16).padStart(2, '0').repeat(32);
}

export class FakeBackend implements Backend {
  readonly calls: Call[] = [];
  readonly containers = new Map<string, FakeContainer>();
  readonly execs = new Map<string, FakeExec>();
  /** Counts of streams the API closed or aborted (client went away). */
  readonly closed = { logs: 0, stats: 0, events: 0, attach: 0, pull: 0 };
  /** Bytes received by putArchive, importImage and loadImages. */
  readonly received: Buffer[] = [];
  private nextId = 16;
  private readonly waiters: { id: string; condition: string; resolve: (r: ContainerWaitResponse) => void }[] = [];
  private readonly attached = new Map<string, PassThrough[]>();
  /** What attached stdin readers do once their container starts (input before start waits, as in a pipe). */
  private readonly onStart = new Map<string, (() => void)[]>();

  constructor() {
    this.addContainer({ name: 'web', cmd: ['httpd', '-f'], state: 'running' });
    this.addContainer({ name: 'tty', cmd: ['sh'], tty: true, state: 'running' });
    this.addContainer({ name: 'done', cmd: ['true'], state: 'exited', exitCode: 3 });
  }

  addContainer(spec: Partial<FakeContainer> & { name: string }): FakeContainer {
    const id = hexId(this.nextId++);
    const c: FakeContainer = {
      id, image: 'busybox:latest', cmd: ['sh'], tty: false, openStdin: false, state: 'created', exitCode: 0, labels: {},
      logs: [
        { stream: 'stdout', time: '2026-01-02T03:04:05.5Z', line: Buffer.from(`hello from ${spec.name}\n`) },
        { stream: 'stderr', time: '2026-01-02T03:04:06.123Z', line: Buffer.from(`warning from ${spec.name}\n`) },
      ],
      ...spec,
    };
    this.containers.set(c.id, c);
    return c;
  }

  private record(method: string, ...args: unknown[]): void {
    this.calls.push({ method, args });
  }

  callsTo(method: string): unknown[][] {
    return this.calls.filter((c) => c.method === method).map((c) => c.args);
  }

  find(idOrName: string): FakeContainer {
    for (const c of this.containers.values()) {
      if (c.id.startsWith(idOrName) || c.name === idOrName || `/${c.name}` === idOrName) return c;
    }
    throw notFound(`No such container: ${idOrName}`);
  }

  // ---- system ----

  version(): VersionResponse {
    this.record('version');
    return {
      Platform: { Name: 'berth (fake)' },
      Components: [{ Name: 'Engine', Version: FAKE_VERSION, Details: { ApiVersion: '1.47', MinAPIVersion: '1.41' } }],
      Version: FAKE_VERSION, ApiVersion: '1.47', MinAPIVersion: '1.41', GitCommit: 'fake', GoVersion: 'node',
      Os: 'linux', Arch: 'amd64', KernelVersion: '6.0.0', BuildTime: CREATED,
    };
  }

  async info(): Promise<SystemInfo> {
    this.record('info');
    return {
      ID: 'FAKE', Containers: this.containers.size, ContainersRunning: 1, ContainersPaused: 0, ContainersStopped: 1,
      Images: 1, Driver: 'overlay2', DriverStatus: [], DockerRootDir: '/var/lib/berth', SystemTime: CREATED,
      LoggingDriver: 'json-file', CgroupDriver: 'cgroupfs', CgroupVersion: '1', NEventsListener: 0,
      KernelVersion: '6.0.0', OperatingSystem: 'Fake OS', OSVersion: '1', OSType: 'linux', Architecture: 'x86_64',
      NCPU: 2, MemTotal: 1 << 30, IndexServerAddress: 'https://index.docker.io/v1/',
      RegistryConfig: { InsecureRegistryCIDRs: [], IndexConfigs: {}, Mirrors: [] }, Name: 'fakehost', Labels: [],
      ExperimentalBuild: false, ServerVersion: FAKE_VERSION, Runtimes: { runc: { path: 'berth-runtime' } },
      DefaultRuntime: 'runc', LiveRestoreEnabled: true, Isolation: '', InitBinary: '', SecurityOptions: [],
      Warnings: null, MemoryLimit: true, SwapLimit: true, CpuCfsPeriod: true, CpuCfsQuota: true, CPUShares: true,
      CPUSet: true, PidsLimit: true, IPv4Forwarding: true, Debug: false, NFd: 10, NGoroutines: 1, OomKillDisable: true,
      Plugins: { Volume: [], Network: [], Authorization: null, Log: [] },
      Swarm: { LocalNodeState: 'inactive', NodeID: '', NodeAddr: '', ControlAvailable: false, Error: '', RemoteManagers: null },
      HttpProxy: '', HttpsProxy: '', NoProxy: '',
    };
  }

  async diskUsage(): Promise<DiskUsage> {
    this.record('diskUsage');
    return { LayersSize: 1234, Images: [this.imageSummary()], Containers: [...this.containers.values()].map((c) => this.summary(c)), Volumes: [], BuildCache: [] };
  }

  subscribe(opts: { since?: number; until?: number; filters: Filters }): Subscription {
    this.record('subscribe', opts);
    let stop: () => void = () => undefined;
    const stopped = new Promise<void>((resolve) => (stop = resolve));
    const counters = this.closed;
    const canned: EventMessage[] = [
      { Type: 'container', Action: 'start', Actor: { ID: hexId(16), Attributes: { image: 'busybox', name: 'web' } }, scope: 'local', time: 1767323045, timeNano: 1767323045000000000 },
      { Type: 'image', Action: 'create', Actor: { ID: 'sha256:abc', Attributes: {} }, scope: 'local', time: 1767323046, timeNano: 1767323046000000000 },
      { Type: 'image', Action: 'tag', Actor: { ID: 'sha256:abc', Attributes: { name: 'busybox:latest' } }, scope: 'local', time: 1767323047, timeNano: 1767323047000000000 },
    ];
    async function* events(): AsyncGenerator<EventMessage> {
      try {
        for (const ev of canned) yield ev;
        // With an until in the past, only the past: end here. Otherwise, live until closed.
        if (opts.until !== undefined && opts.until * 1000 <= Date.now()) return;
        await stopped;
      } finally {
        counters.events++;
      }
    }
    return { events: events(), close: () => stop() };
  }

  // ---- containers ----

  async createContainer(req: ContainerCreateRequest, name: string | undefined, platform?: string): Promise<ContainerCreateResponse> {
    this.record('createContainer', req, name, platform);
    if (req.Image === 'missing') throw notFound('No such image: missing:latest');
    const c = this.addContainer({
      name: name ?? `fake_${this.nextId}`,
      image: req.Image ?? '',
      cmd: [...(req.Entrypoint ?? []), ...(req.Cmd ?? [])],
      tty: req.Tty === true,
      openStdin: req.OpenStdin === true,
      labels: req.Labels ?? {},
      exitCode: Number(req.Labels?.['fake.exit'] ?? 0),
      logs: [],
    });
    return { Id: c.id, Warnings: [] };
  }

  private summary(c: FakeContainer): ContainerSummary {
    return {
      Id: c.id, Names: [`/${c.name}`], Image: c.image, ImageID: `sha256:${hexId(1)}`, Command: c.cmd.join(' '),
      Created: 1767323045, Ports: [], Labels: c.labels, State: c.state,
      Status: c.state === 'running' ? 'Up 5 minutes' : c.state === 'exited' ? `Exited (${c.exitCode}) 1 minute ago` : 'Created',
      HostConfig: { NetworkMode: 'none', Annotations: { a: 'b' } }, NetworkSettings: { Networks: {} }, Mounts: [],
    };
  }

  async listContainers(opts: ListContainersOptions): Promise<ContainerSummary[]> {
    this.record('listContainers', opts);
    const all = [...this.containers.values()].filter((c) => opts.all || c.state === 'running');
    return all.map((c) => this.summary(c));
  }

  async inspectContainer(idOrName: string, size: boolean): Promise<ContainerInspect> {
    this.record('inspectContainer', idOrName, size);
    const c = this.find(idOrName);
    return {
      Id: c.id, Created: CREATED, Path: c.cmd[0] ?? '', Args: c.cmd.slice(1),
      State: {
        Status: c.state, Running: c.state === 'running', Paused: false, Restarting: false, OOMKilled: false, Dead: false,
        Pid: c.state === 'running' ? 4242 : 0, ExitCode: c.exitCode, Error: '', StartedAt: CREATED, FinishedAt: '0001-01-01T00:00:00Z',
      },
      Image: `sha256:${hexId(1)}`, ResolvConfPath: '', HostnamePath: '', HostsPath: '', LogPath: '', Name: `/${c.name}`,
      RestartCount: 0, Driver: 'overlay2', Platform: 'linux', MountLabel: '', ProcessLabel: '', AppArmorProfile: '',
      ExecIDs: null, HostConfig: { NetworkMode: 'none', AutoRemove: false, LogConfig: { Type: 'json-file', Config: {} } }, GraphDriver: { Name: 'overlay2', Data: null },
      Mounts: [],
      Config: { Hostname: c.id.slice(0, 12), Image: c.image, Cmd: c.cmd, Tty: c.tty, OpenStdin: c.openStdin, StdinOnce: c.openStdin, AttachStdout: true, AttachStderr: true, Labels: c.labels, Env: [] },
      NetworkSettings: {
        Bridge: '', SandboxID: '', HairpinMode: false, LinkLocalIPv6Address: '', LinkLocalIPv6PrefixLen: 0, Ports: {},
        SandboxKey: '', SecondaryIPAddresses: null, SecondaryIPv6Addresses: null, EndpointID: '', Gateway: '',
        GlobalIPv6Address: '', GlobalIPv6PrefixLen: 0, IPAddress: '', IPPrefixLen: 0, IPv6Gateway: '', MacAddress: '', Networks: {},
      },
    };
  }

  async startContainer(idOrName: string, detachKeys?: string): Promise<void> {
    this.record('startContainer', idOrName, detachKeys);
    const c = this.find(idOrName);
    if (c.state === 'running') throw notModified('container already started');
    c.state = 'running';
    for (const begin of this.onStart.get(c.id) ?? []) begin();
    this.onStart.delete(c.id);
    const streams = this.attached.get(c.id) ?? [];
    this.attached.delete(c.id);
    // An interactive fake process (cat) runs until its stdin closes.
    if (c.openStdin) return;
    // A non-interactive fake process: prints its command line, then exits.
    const text = `fake output of ${c.cmd.join(' ')}\n`;
    c.logs.push({ stream: 'stdout', time: new Date().toISOString(), line: Buffer.from(text) });
    for (const out of streams) out.end(c.tty ? Buffer.from(text) : muxFrame(1, text));
    setImmediate(() => this.exit(c, c.exitCode));
  }

  /** The container's process ends with `code`: waits resolve. */
  exit(c: FakeContainer, code: number): void {
    c.state = 'exited';
    c.exitCode = code;
    for (const w of this.waiters.splice(0)) {
      if (w.id === c.id) w.resolve({ StatusCode: code, Error: null });
      else this.waiters.push(w);
    }
  }

  async stopContainer(idOrName: string, opts: { signal?: string; timeout?: number }): Promise<void> {
    this.record('stopContainer', idOrName, opts);
    const c = this.find(idOrName);
    if (c.state !== 'running') throw notModified('container already stopped');
  }

  async restartContainer(idOrName: string, opts: { signal?: string; timeout?: number }): Promise<void> {
    this.record('restartContainer', idOrName, opts);
    this.find(idOrName);
  }

  async killContainer(idOrName: string, signal: string): Promise<void> {
    this.record('killContainer', idOrName, signal);
    const c = this.find(idOrName);
    if (c.state !== 'running') throw conflict(`container ${c.id} is not running`);
  }

  async pauseContainer(idOrName: string): Promise<void> {
    this.record('pauseContainer', idOrName);
    this.find(idOrName);
  }

  async unpauseContainer(idOrName: string): Promise<void> {
    this.record('unpauseContainer', idOrName);
    this.find(idOrName);
  }

  waitContainer(idOrName: string, condition: string, signal: AbortSignal): Promise<ContainerWaitResponse> {
    this.record('waitContainer', idOrName, condition);
    let c: FakeContainer;
    try {
      c = this.find(idOrName);
    } catch (err) {
      return Promise.reject(err);
    }
    if (condition === 'not-running' && c.state !== 'running' && c.state !== 'created') {
      return Promise.resolve({ StatusCode: c.exitCode, Error: null });
    }
    return new Promise((resolve, reject) => {
      this.waiters.push({ id: c.id, condition, resolve });
      signal.addEventListener('abort', () => reject(new Error('wait aborted')), { once: true });
    });
  }

  async removeContainer(idOrName: string, opts: { force: boolean; volumes: boolean; link: boolean }): Promise<void> {
    this.record('removeContainer', idOrName, opts);
    const c = this.find(idOrName);
    if (c.state === 'running' && !opts.force) {
      throw conflict(`cannot remove container "/${c.name}": container is running: stop the container before removing or force remove`);
    }
    this.containers.delete(c.id);
  }

  async renameContainer(idOrName: string, newName: string): Promise<void> {
    this.record('renameContainer', idOrName, newName);
    this.find(idOrName).name = newName;
  }

  async updateContainer(idOrName: string, update: ContainerUpdateRequest): Promise<ContainerUpdateResponse> {
    this.record('updateContainer', idOrName, update);
    this.find(idOrName);
    return { Warnings: [] };
  }

  async pruneContainers(filters: Filters): Promise<ContainerPruneResponse> {
    this.record('pruneContainers', filters);
    return { ContainersDeleted: null, SpaceReclaimed: 0 };
  }

  async resizeContainer(idOrName: string, height: number, width: number): Promise<void> {
    this.record('resizeContainer', idOrName, height, width);
    this.find(idOrName);
  }

  async attachContainer(idOrName: string, opts: AttachOptions): Promise<StdioStream> {
    this.record('attachContainer', idOrName, opts);
    const c = this.find(idOrName);
    const output = new PassThrough();
    const counters = this.closed;
    let input: PassThrough | undefined;
    if (opts.stdin && c.openStdin) {
      // cat: echo stdin; when stdin closes, the process exits 0.
      const stdin = new PassThrough();
      input = stdin;
      const begin = (): void => {
        stdin.on('data', (chunk: Buffer) => output.write(c.tty ? chunk : muxFrame(1, chunk.toString())));
        stdin.on('end', () => {
          output.end();
          this.exit(c, 0);
        });
      };
      if (c.state === 'running') begin();
      else this.onStart.set(c.id, [...(this.onStart.get(c.id) ?? []), begin]);
    } else if (c.state !== 'running') {
      this.attached.set(c.id, [...(this.attached.get(c.id) ?? []), output]);
    }
    return {
      tty: c.tty,
      output,
      ...(input !== undefined ? { input } : {}),
      close: () => {
        counters.attach++;
        output.destroy();
      },
    };
  }

  async containerLogs(idOrName: string, opts: LogsOptions): Promise<LogsResult> {
    this.record('containerLogs', idOrName, opts);
    const c = this.find(idOrName);
    const counters = this.closed;
    const entries = c.logs.filter((e) => (e.stream === 'stdout' ? opts.stdout : opts.stderr));
    const tail = opts.tail !== undefined ? entries.slice(Math.max(0, entries.length - opts.tail)) : entries;
    async function* generate(): AsyncGenerator<LogEntry> {
      try {
        for (const e of tail) yield e;
        // Following a running container's log never ends by itself; a stopped one's does.
        if (opts.follow && c.state === 'running') await new Promise(() => undefined);
      } finally {
        counters.logs++;
      }
    }
    const iterable = generate();
    // The API calls return() while next() is pending; a generator would queue it, so end directly.
    return {
      tty: c.tty,
      entries: {
        [Symbol.asyncIterator]: () => ({
          next: () => iterable.next(),
          return: async () => {
            counters.logs++;
            return { done: true, value: undefined };
          },
        }),
      },
    };
  }

  async topContainer(idOrName: string, psArgs: string): Promise<ContainerTopResponse> {
    this.record('topContainer', idOrName, psArgs);
    this.find(idOrName);
    return { Titles: ['UID', 'PID', 'CMD'], Processes: [['root', '4242', 'httpd -f']] };
  }

  containerStats(idOrName: string, opts: { stream: boolean; oneShot: boolean }, signal: AbortSignal): AsyncIterable<ContainerStats> {
    this.record('containerStats', idOrName, opts);
    const find = (): FakeContainer => this.find(idOrName);
    const counters = this.closed;
    signal.addEventListener('abort', () => counters.stats++, { once: true });
    return (async function* () {
      const c = find();
      for (let i = 0; ; i++) {
        yield fakeStats(c, i);
        if (!opts.stream) return;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
  }

  async containerChanges(idOrName: string): Promise<FilesystemChange[]> {
    this.record('containerChanges', idOrName);
    this.find(idOrName);
    return [{ Path: '/tmp', Kind: 0 }, { Path: '/tmp/x', Kind: 1 }];
  }

  async exportContainer(idOrName: string): Promise<Readable> {
    this.record('exportContainer', idOrName);
    this.find(idOrName);
    return Readable.from([Buffer.from('fake tar of the container\n')]);
  }

  private pathStat(path: string): PathStat {
    if (path === '/nope') throw notFound(`Could not find the file ${path} in container`);
    return { name: path.split('/').pop() ?? '', size: 6, mode: 0o644, mtime: CREATED, linkTarget: '' };
  }

  async statPath(idOrName: string, path: string): Promise<PathStat> {
    this.record('statPath', idOrName, path);
    this.find(idOrName);
    return this.pathStat(path);
  }

  async getArchive(idOrName: string, path: string): Promise<{ stat: PathStat; tar: Readable }> {
    this.record('getArchive', idOrName, path);
    this.find(idOrName);
    return { stat: this.pathStat(path), tar: Readable.from([Buffer.from('fake archive\n')]) };
  }

  async putArchive(idOrName: string, path: string, tar: Readable, opts: ArchiveOptions): Promise<void> {
    this.record('putArchive', idOrName, path, opts);
    this.find(idOrName);
    this.received.push(await readAll(tar));
  }

  // ---- exec ----

  async createExec(idOrName: string, req: ExecCreateRequest): Promise<{ Id: string }> {
    this.record('createExec', idOrName, req);
    const c = this.find(idOrName);
    if (c.state !== 'running') throw conflict(`container ${c.id} is not running`);
    const id = hexId(this.nextId++).replace(/^../, 'ee');
    this.execs.set(id, { id, container: c.id, cmd: req.Cmd, tty: req.Tty === true, running: false, exitCode: null });
    return { Id: id };
  }

  private findExec(execId: string): FakeExec {
    const e = this.execs.get(execId);
    if (e === undefined) throw notFound(`No such exec instance: ${execId}`);
    return e;
  }

  async startExec(execId: string, opts: { detach: boolean; tty?: boolean; consoleSize?: [number, number] }): Promise<StdioStream | undefined> {
    this.record('startExec', execId, opts);
    const e = this.findExec(execId);
    if (e.cmd[0] === 'fail') throw conflict('exec failed to start: fake failure');
    const code = Number(e.cmd[1] ?? 0) || 0;
    if (opts.detach) {
      e.exitCode = code;
      return undefined;
    }
    const text = `exec output: ${e.cmd.join(' ')}\n`;
    const output = new PassThrough();
    output.end(e.tty ? Buffer.from(text) : Buffer.concat([muxFrame(1, text), muxFrame(2, 'exec stderr\n')]));
    e.exitCode = code;
    return { tty: e.tty, output, close: () => output.destroy() };
  }

  async resizeExec(execId: string, height: number, width: number): Promise<void> {
    this.record('resizeExec', execId, height, width);
    this.findExec(execId);
  }

  async inspectExec(execId: string): Promise<ExecInspect> {
    this.record('inspectExec', execId);
    const e = this.findExec(execId);
    return {
      CanRemove: false, DetachKeys: '', ID: e.id, Running: false, ExitCode: e.exitCode,
      ProcessConfig: { privileged: false, user: '', tty: e.tty, entrypoint: e.cmd[0] ?? '', arguments: e.cmd.slice(1) },
      OpenStdin: false, OpenStderr: true, OpenStdout: true, ContainerID: e.container, Pid: 0,
    };
  }

  // ---- images ----

  private imageSummary(): ImageSummary {
    return {
      Id: `sha256:${hexId(1)}`, ParentId: '', RepoTags: ['busybox:latest'], RepoDigests: [], Created: 1767323045,
      Size: 4_000_000, SharedSize: -1, Labels: {}, Containers: -1, VirtualSize: 4_000_000,
    };
  }

  async listImages(opts: { all: boolean; filters: Filters; digests: boolean }): Promise<ImageSummary[]> {
    this.record('listImages', opts);
    return [this.imageSummary(), { ...this.imageSummary(), Id: `sha256:${hexId(2)}`, RepoTags: [] }];
  }

  async inspectImage(nameOrId: string): Promise<ImageInspect> {
    this.record('inspectImage', nameOrId);
    if (!nameOrId.startsWith('busybox') && !nameOrId.startsWith('sha256:')) throw notFound(`No such image: ${nameOrId}`);
    return {
      Id: `sha256:${hexId(1)}`, RepoTags: ['busybox:latest'], RepoDigests: [], Parent: '', Comment: '', Created: CREATED,
      DockerVersion: '', Author: '', Config: { Cmd: ['sh'] }, Architecture: 'amd64', Os: 'linux', Size: 4_000_000,
      GraphDriver: { Name: 'overlay2', Data: null }, RootFS: { Type: 'layers', Layers: [] }, Metadata: { LastTagTime: CREATED },
    };
  }

  async imageHistory(nameOrId: string): Promise<ImageHistoryItem[]> {
    this.record('imageHistory', nameOrId);
    return [{ Id: `sha256:${hexId(1)}`, Created: 1767323045, CreatedBy: 'ADD rootfs', Tags: ['busybox:latest'], Size: 4_000_000, Comment: '' }];
  }

  async tagImage(nameOrId: string, repo: string, tag: string | undefined): Promise<void> {
    this.record('tagImage', nameOrId, repo, tag);
    await this.inspectImage(nameOrId);
  }

  async removeImage(nameOrId: string, opts: { force: boolean; noprune: boolean }): Promise<ImageDeleteResponseItem[]> {
    this.record('removeImage', nameOrId, opts);
    return [{ Untagged: nameOrId }, { Deleted: `sha256:${hexId(1)}` }];
  }

  async pruneImages(filters: Filters): Promise<ImagePruneResponse> {
    this.record('pruneImages', filters);
    return { ImagesDeleted: null, SpaceReclaimed: 0 };
  }

  async pullImage(ref: string, opts: { platform?: string; auth?: RegistryAuth; progress: ProgressSink; signal: AbortSignal }): Promise<void> {
    this.record('pullImage', ref, { platform: opts.platform, auth: opts.auth });
    if (ref.startsWith('missing')) throw notFound(`pull access denied for missing, repository does not exist`);
    opts.progress({ status: `Pulling from ${ref.split(':')[0]}`, id: 'latest' });
    if (ref.startsWith('broken')) throw new BerthError('Internal', 'unexpected EOF while downloading layer');
    if (ref.startsWith('slow')) {
      await new Promise<void>((resolve) => opts.signal.addEventListener('abort', () => resolve(), { once: true }));
      this.closed.pull++;
      return;
    }
    opts.progress({ status: 'Download complete', id: 'abc123', progressDetail: {} });
    opts.progress({ status: `Status: Downloaded newer image for ${ref}` });
  }

  async pushImage(ref: string, opts: { auth?: RegistryAuth; progress: ProgressSink; signal: AbortSignal }): Promise<void> {
    this.record('pushImage', ref, { auth: opts.auth });
    opts.progress({ status: `The push refers to repository [${ref.split(':')[0]}]` });
    opts.progress({ status: 'latest: digest: sha256:abc size: 528' });
  }

  async importImage(source: ImportSource, opts: ImportOptions, progress: ProgressSink): Promise<string> {
    const { signal: _signal, ...recorded } = opts;
    if (source instanceof URL) this.record('importImage', { ...recorded, url: source.href });
    else {
      this.record('importImage', recorded);
      this.received.push(await readAll(source));
    }
    progress({ status: 'Importing', progressDetail: {} });
    // As the image service does: the new image's ID is the stream's last status.
    const id = `sha256:${hexId(3)}`;
    progress({ status: id });
    return id;
  }

  async saveImages(names: string[]): Promise<Readable> {
    this.record('saveImages', names);
    for (const n of names) await this.inspectImage(n);
    return Readable.from([Buffer.from(`fake save of ${names.join(',')}\n`)]);
  }

  async loadImages(tar: Readable, progress: ProgressSink, quiet: boolean): Promise<void> {
    this.record('loadImages', quiet);
    const data = await readAll(tar);
    this.received.push(data);
    if (data.toString().startsWith('bad')) throw new BerthError('InvalidArgument', 'archive/tar: invalid tar header');
    progress({ stream: 'Loaded image: busybox:latest\n' });
  }

  async commitContainer(opts: CommitOptions): Promise<{ Id: string }> {
    this.record('commitContainer', opts);
    this.find(opts.container);
    return { Id: `sha256:${hexId(4)}` };
  }

  readonly volumes = new Map<string, Volume>();
  readonly networks = new Map<string, NetworkResource>();

  async listNetworks(filters: Filters): Promise<NetworkResource[]> {
    this.record('listNetworks', filters);
    return [...this.networks.values()];
  }

  async inspectNetwork(term: string): Promise<NetworkResource> {
    this.record('inspectNetwork', term);
    const n = this.networks.get(term);
    if (!n) throw notFound(`network ${term} not found`);
    return n;
  }

  async createNetwork(req: NetworkCreateRequest): Promise<NetworkCreateResponse> {
    this.record('createNetwork', req);
    const id = hexId(this.nextId++);
    this.networks.set(req.Name, {
      Name: req.Name, Id: id, Created: '2026-01-02T03:04:05Z', Scope: 'local', Driver: req.Driver || 'bridge', EnableIPv4: true, EnableIPv6: false,
      IPAM: { Driver: 'default', Options: null, Config: req.IPAM?.Config ?? [] }, Internal: req.Internal ?? false, Attachable: false, Ingress: false,
      ConfigFrom: { Network: '' }, ConfigOnly: false, Containers: {}, Options: req.Options ?? {}, Labels: req.Labels ?? {},
    });
    return { Id: id, Warning: '' };
  }

  async removeNetwork(term: string): Promise<void> {
    this.record('removeNetwork', term);
    if (!this.networks.delete(term)) throw notFound(`network ${term} not found`);
  }

  async connectNetwork(term: string, req: NetworkConnectRequest): Promise<void> {
    this.record('connectNetwork', term, req);
  }

  async disconnectNetwork(term: string, req: NetworkDisconnectRequest): Promise<void> {
    this.record('disconnectNetwork', term, req);
  }

  async pruneNetworks(filters: Filters): Promise<NetworkPruneResponse> {
    this.record('pruneNetworks', filters);
    return { NetworksDeleted: null };
  }

  async listVolumes(filters: Filters): Promise<VolumeListResponse> {
    this.record('listVolumes', filters);
    return { Volumes: [...this.volumes.values()], Warnings: null };
  }

  async createVolume(req: VolumeCreateRequest): Promise<Volume> {
    this.record('createVolume', req);
    const name = req.Name || hexId(this.nextId++);
    const v: Volume = { Name: name, Driver: req.Driver || 'local', Mountpoint: `/var/lib/berth/volumes/${name}/_data`, CreatedAt: '2026-01-02T03:04:05Z', Labels: req.Labels ?? {}, Scope: 'local', Options: req.DriverOpts ?? null };
    this.volumes.set(name, v);
    return v;
  }

  async inspectVolume(name: string): Promise<Volume> {
    this.record('inspectVolume', name);
    const v = this.volumes.get(name);
    if (!v) throw notFound(`get ${name}: no such volume`);
    return v;
  }

  async removeVolume(name: string, force: boolean): Promise<void> {
    this.record('removeVolume', name, force);
    if (!this.volumes.delete(name) && !force) throw notFound(`get ${name}: no such volume`);
  }

  async build(_context: Readable, req: BuildRequest, output: (m: JSONMessage) => void): Promise<void> {
    this.record('build', req);
    output({ stream: 'Step 1/1 : FROM scratch\n' });
  }

  async pruneBuildCache(opts: { all: boolean; keepStorage: number; filters: Filters }): Promise<{ CachesDeleted: string[]; SpaceReclaimed: number }> {
    this.record('pruneBuildCache', opts);
    return { CachesDeleted: [], SpaceReclaimed: 0 };
  }

  async pruneVolumes(filters: Filters): Promise<VolumePruneResponse> {
    this.record('pruneVolumes', filters);
    return { VolumesDeleted: null, SpaceReclaimed: 0 };
  }
}

function fakeStats(c: FakeContainer, i: number): ContainerStats {
  const cpu = { cpu_usage: { total_usage: 1000 * (i + 1), usage_in_kernelmode: 0, usage_in_usermode: 0 }, system_cpu_usage: 100000 * (i + 1), online_cpus: 2, throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 } };
  const none = null;
  return {
    read: CREATED, preread: CREATED, name: `/${c.name}`, id: c.id, pids_stats: { current: 1 },
    blkio_stats: { io_service_bytes_recursive: none, io_serviced_recursive: none, io_queue_recursive: none, io_service_time_recursive: none, io_wait_time_recursive: none, io_merged_recursive: none, io_time_recursive: none, sectors_recursive: none },
    num_procs: 0, storage_stats: {}, cpu_stats: cpu, precpu_stats: cpu,
    memory_stats: { usage: 1 << 20, limit: 1 << 30, stats: {} },
  };
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export interface FakeApi {
  backend: FakeBackend;
  server: ApiServer;
  socketPath: string;
  logLines: string[];
  close(): Promise<void>;
}

/** An API server on a unix socket in a fresh temp dir, serving a FakeBackend. */
export async function startFakeApi(opts: Partial<ApiServerOptions> = {}): Promise<FakeApi> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-api-'));
  const backend = new FakeBackend();
  const logLines: string[] = [];
  const server = createApiServer(backend, { serverVersion: FAKE_VERSION, log: (line) => logLines.push(line), ...opts });
  const socketPath = join(dir, 'run', 'berth.sock');
  try {
    await server.listen([{ kind: 'unix', path: socketPath }]);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    backend,
    server,
    socketPath,
    logLines,
    async close() {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
