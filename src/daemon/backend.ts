// What the Engine API layer needs from the daemon: one method per Docker operation, in the
// Engine API's own types. berthd's Daemon implements it; the API's unit tests use a fake.
// Errors are BerthErrors (NotFound → 404, Conflict → 409, InvalidArgument → 400, …).
import type { Readable } from 'node:stream';
import type {
  ContainerCreateRequest, ContainerCreateResponse, ContainerInspect, ContainerPruneResponse, ContainerStats,
  ContainerSummary, ContainerTopResponse, ContainerUpdateRequest, ContainerUpdateResponse, ContainerWaitResponse,
  DiskUsage, EventMessage, ExecCreateRequest, ExecInspect, FilesystemChange, Filters, ImageDeleteResponseItem,
  ImageHistoryItem, ImageInspect, ImagePruneResponse, ImageSummary, JSONMessage, PathStat, SystemInfo,
  VersionResponse, Volume, VolumeCreateRequest, VolumeListResponse, VolumePruneResponse, NetworkResource, NetworkCreateRequest,
  NetworkCreateResponse, NetworkConnectRequest, NetworkDisconnectRequest, NetworkPruneResponse,
} from '../oci/engine-api.js';

export type ProgressSink = (message: JSONMessage) => void;

/** Registry credentials as the X-Registry-Auth header carries them (base64url JSON). */
export interface RegistryAuth {
  username?: string;
  password?: string;
  auth?: string;
  identitytoken?: string;
  registrytoken?: string;
  serveraddress?: string;
}

export interface AttachOptions {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  /** Stream output from now on (false: only the logs, when `logs` is set). */
  stream: boolean;
  /** Replay the container's log first. */
  logs: boolean;
  /** Docker's detach key sequence, e.g. "ctrl-p,ctrl-q" (default); "" disables. */
  detachKeys?: string;
}

/**
 * A live connection to a container's (or exec's) stdio. Without a tty, `output` carries
 * Docker's multiplexed frames (8-byte header: stream, 0, 0, 0, big-endian length); with a
 * tty, raw bytes. `input` (when stdin was asked for) goes to the process's stdin; ending it
 * closes stdin if the container is StdinOnce. `output` ends when the process exits, the
 * detach keys are typed or `close()` is called.
 */
export interface StdioStream {
  tty: boolean;
  output: Readable;
  input?: NodeJS.WritableStream;
  close(): void;
}

export interface LogsOptions {
  follow: boolean;
  stdout: boolean;
  stderr: boolean;
  /** Unix seconds (fractions allowed); 0: no bound. */
  since: number;
  until: number;
  timestamps: boolean;
  /** Lines from the end; undefined: all. */
  tail?: number;
  /** Aborted when the client goes away (a follow must stop then). */
  signal?: AbortSignal;
}

export interface LogEntry {
  stream: 'stdout' | 'stderr';
  /** RFC 3339 with nanoseconds, as the json-file log stores it. */
  time: string;
  line: Buffer;
}

export interface LogsResult {
  tty: boolean;
  /** Entries in order; ends at the end of the log, or (follow) when the container stops. */
  entries: AsyncIterable<LogEntry>;
}

export interface ArchiveOptions {
  noOverwriteDirNonDir: boolean;
  copyUIDGID: boolean;
}

/** POST /build's options (moby's ImageBuildOptions, the part berth's classic builder uses). */
export interface BuildRequest {
  dockerfile: string;
  /** Normalized references (name:tag). */
  tags: string[];
  buildArgs: Record<string, string | null>;
  labels: Record<string, string>;
  cacheFrom: string[];
  noCache: boolean;
  pull: boolean;
  quiet: boolean;
  target?: string;
  platform?: string;
  networkMode?: string;
}

export interface ListContainersOptions {
  all: boolean;
  limit?: number;
  size: boolean;
  filters: Filters;
}

export interface CommitOptions {
  container: string;
  repo?: string;
  tag?: string;
  comment?: string;
  author?: string;
  pause: boolean;
  changes: string[];
  config?: ContainerCreateRequest;
}

export interface ImportOptions {
  repo?: string;
  tag?: string;
  message?: string;
  changes: string[];
  platform?: string;
  /** Ends a download from a URL when the client goes away. */
  signal?: AbortSignal;
}

/** What to import: the request body, or a URL the daemon downloads ("Importing" progress). */
export type ImportSource = Readable | URL;

export interface Subscription {
  /** Events in order; ends at `until` or when unsubscribed. */
  events: AsyncIterable<EventMessage>;
  close(): void;
}

export interface Backend {
  // ---- system ----
  version(): VersionResponse;
  info(): Promise<SystemInfo>;
  diskUsage(): Promise<DiskUsage>;
  subscribe(opts: { since?: number; until?: number; filters: Filters }): Subscription;

  // ---- containers ----
  createContainer(req: ContainerCreateRequest, name: string | undefined, platform?: string): Promise<ContainerCreateResponse>;
  listContainers(opts: ListContainersOptions): Promise<ContainerSummary[]>;
  inspectContainer(idOrName: string, size: boolean): Promise<ContainerInspect>;
  startContainer(idOrName: string, detachKeys?: string): Promise<void>;
  /** timeout in seconds (undefined: the container's StopTimeout or 10; -1: wait forever). */
  stopContainer(idOrName: string, opts: { signal?: string; timeout?: number }): Promise<void>;
  restartContainer(idOrName: string, opts: { signal?: string; timeout?: number }): Promise<void>;
  killContainer(idOrName: string, signal: string): Promise<void>;
  pauseContainer(idOrName: string): Promise<void>;
  unpauseContainer(idOrName: string): Promise<void>;
  /** Resolves when the condition is met ("not-running" default, "next-exit", "removed"). */
  waitContainer(idOrName: string, condition: string, signal: AbortSignal): Promise<ContainerWaitResponse>;
  removeContainer(idOrName: string, opts: { force: boolean; volumes: boolean; link: boolean }): Promise<void>;
  renameContainer(idOrName: string, newName: string): Promise<void>;
  updateContainer(idOrName: string, update: ContainerUpdateRequest): Promise<ContainerUpdateResponse>;
  pruneContainers(filters: Filters): Promise<ContainerPruneResponse>;
  resizeContainer(idOrName: string, height: number, width: number): Promise<void>;
  attachContainer(idOrName: string, opts: AttachOptions): Promise<StdioStream>;
  containerLogs(idOrName: string, opts: LogsOptions): Promise<LogsResult>;
  topContainer(idOrName: string, psArgs: string): Promise<ContainerTopResponse>;
  /** One sample after another (stream), or one; one-shot skips the priming second sample. */
  containerStats(idOrName: string, opts: { stream: boolean; oneShot: boolean }, signal: AbortSignal): AsyncIterable<ContainerStats>;
  containerChanges(idOrName: string): Promise<FilesystemChange[]>;
  exportContainer(idOrName: string): Promise<Readable>;
  statPath(idOrName: string, path: string): Promise<PathStat>;
  getArchive(idOrName: string, path: string): Promise<{ stat: PathStat; tar: Readable }>;
  putArchive(idOrName: string, path: string, tar: Readable, opts: ArchiveOptions): Promise<void>;

  // ---- exec ----
  createExec(idOrName: string, req: ExecCreateRequest): Promise<{ Id: string }>;
  /** detach: start and return at once (no stream). */
  startExec(execId: string, opts: { detach: boolean; tty?: boolean; consoleSize?: [number, number] }): Promise<StdioStream | undefined>;
  resizeExec(execId: string, height: number, width: number): Promise<void>;
  inspectExec(execId: string): Promise<ExecInspect>;

  // ---- images ----
  listImages(opts: { all: boolean; filters: Filters; digests: boolean }): Promise<ImageSummary[]>;
  inspectImage(nameOrId: string): Promise<ImageInspect>;
  imageHistory(nameOrId: string): Promise<ImageHistoryItem[]>;
  tagImage(nameOrId: string, repo: string, tag: string | undefined): Promise<void>;
  removeImage(nameOrId: string, opts: { force: boolean; noprune: boolean }): Promise<ImageDeleteResponseItem[]>;
  pruneImages(filters: Filters): Promise<ImagePruneResponse>;
  pullImage(ref: string, opts: { platform?: string; auth?: RegistryAuth; progress: ProgressSink; signal: AbortSignal }): Promise<void>;
  pushImage(ref: string, opts: { auth?: RegistryAuth; progress: ProgressSink; signal: AbortSignal }): Promise<void>;
  /** Reports progress and, last, the new image's ID as {"status": "sha256:…"} (what `docker import` prints). */
  importImage(source: ImportSource, opts: ImportOptions, progress: ProgressSink): Promise<string>;
  /** A tar stream (docker-archive + OCI layout) of the named images. */
  saveImages(names: string[]): Promise<Readable>;
  loadImages(tar: Readable, progress: ProgressSink, quiet: boolean): Promise<void>;
  commitContainer(opts: CommitOptions): Promise<{ Id: string }>;

  // ---- build ----
  /** POST /build: builds the context (a tar stream); messages go to output (see build/builder.ts). */
  build(context: Readable, req: BuildRequest, output: (m: JSONMessage) => void, signal: AbortSignal): Promise<void>;
  pruneBuildCache(opts: { all: boolean; keepStorage: number; filters: Filters }): Promise<{ CachesDeleted: string[]; SpaceReclaimed: number }>;

  // ---- networks ----
  listNetworks(filters: Filters): Promise<NetworkResource[]>;
  inspectNetwork(term: string): Promise<NetworkResource>;
  createNetwork(req: NetworkCreateRequest): Promise<NetworkCreateResponse>;
  removeNetwork(term: string): Promise<void>;
  connectNetwork(term: string, req: NetworkConnectRequest): Promise<void>;
  disconnectNetwork(term: string, req: NetworkDisconnectRequest): Promise<void>;
  pruneNetworks(filters: Filters): Promise<NetworkPruneResponse>;

  // ---- volumes ----
  listVolumes(filters: Filters): Promise<VolumeListResponse>;
  createVolume(req: VolumeCreateRequest): Promise<Volume>;
  inspectVolume(name: string): Promise<Volume>;
  removeVolume(name: string, force: boolean): Promise<void>;
  pruneVolumes(filters: Filters): Promise<VolumePruneResponse>;
}
