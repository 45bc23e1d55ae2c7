// The typed Engine API client: one method per Backend operation (src/daemon/backend.ts)
// over HTTP on the daemon's unix socket (or TCP/TLS), with docker's wire types. The API
// version is negotiated once with GET /_ping; every other request goes to /v1.NN/….
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { readFileSync } from 'node:fs';
import type { Readable } from 'node:stream';
import {
  API_MIN_VERSION, API_VERSION,
  type ContainerCreateRequest, type ContainerCreateResponse, type ContainerInspect, type ContainerPruneResponse,
  type ContainerStats, type ContainerSummary, type ContainerTopResponse, type ContainerUpdateRequest,
  type ContainerUpdateResponse, type ContainerWaitResponse, type DiskUsage, type EventMessage, type ExecCreateRequest,
  type ExecInspect, type FilesystemChange, type Filters, type ImageDeleteResponseItem, type ImageHistoryItem,
  type ImageInspect, type ImagePruneResponse, type ImageSummary, type JSONMessage, type NetworkConnectRequest,
  type NetworkCreateRequest, type NetworkCreateResponse, type NetworkDisconnectRequest, type NetworkPruneResponse,
  type NetworkResource, type PathStat, type SystemInfo,
  type VersionResponse, type Volume, type VolumeCreateRequest, type VolumeListResponse, type VolumePruneResponse,
} from '../oci/engine-api.js';
import type { ArchiveOptions, AttachOptions, CommitOptions, ImportOptions, ListContainersOptions, LogsOptions } from '../daemon/backend.js';
import { unavailable, forbidden, invalidArgument, isBerthError } from '../util/errors.js';
import { ClientError, errorFromBody } from './errors.js';
import { hijack, type HijackedConnection } from './hijack.js';
import { DEFAULT_HOST, parseHost, type DaemonHost, type TlsOptions } from './host.js';
import { decodeJsonStream, readAll } from './streams.js';
import type { DaemonLaunch } from './autostart.js';

export type QueryValue = string | number | boolean | undefined | readonly string[];

export interface RequestInit {
  query?: Record<string, QueryValue>;
  /** JSON-encoded unless a Buffer or a stream. */
  body?: unknown;
  contentType?: string;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** false: no /v1.NN prefix (/_ping). */
  versioned?: boolean;
}

export interface ClientOptions {
  /** A docker host string (unix:///path, tcp://h:p); default unix:///run/berth/berth.sock. */
  host?: string;
  tls?: TlsOptions;
  /** Force an API version instead of negotiating (DOCKER_API_VERSION). */
  version?: string;
  /**
   * Start berthd when nothing answers on the socket (as root, unless BERTH_NO_AUTOSTART=1);
   * the CLI asks for it only for the default socket. See autostart.ts.
   */
  autostart?: boolean;
  /** How to start it (tests): argv and log file. */
  daemonLaunch?: DaemonLaunch;
  env?: NodeJS.ProcessEnv;
}

export interface PingResult {
  apiVersion: string;
  osType: string;
}

/** The answer of a wait request whose headers arrived: the daemon has registered the waiter. */
export interface WaitHandle {
  result: Promise<ContainerWaitResponse>;
}

export interface ContainerLogsRequest extends Omit<LogsOptions, 'since' | 'until' | 'tail'> {
  /** As docker sends them: unix seconds ("1700000000.123456789") or RFC 3339; "" for none. */
  since?: string;
  until?: string;
  /** "all" or a number of lines. */
  tail?: string;
  details?: boolean;
}

export class EngineClient {
  readonly host: DaemonHost;
  private readonly agent: HttpAgent;
  private readonly autostart: boolean;
  private readonly daemonLaunch: DaemonLaunch | undefined;
  private readonly env: NodeJS.ProcessEnv;
  private readonly forcedVersion: string | undefined;
  private negotiated: Promise<PingResult> | undefined;
  private negotiatedVersion = API_VERSION;
  osType = 'linux';

  constructor(opts: ClientOptions = {}) {
    const hostString = opts.host ?? DEFAULT_HOST;
    this.host = parseHost(hostString, opts.tls);
    this.autostart = opts.autostart ?? false;
    this.daemonLaunch = opts.daemonLaunch;
    this.env = opts.env ?? process.env;
    this.forcedVersion = opts.version;
    this.agent = this.makeAgent();
  }

  /** The negotiated API version ("1.47"). */
  get apiVersion(): string {
    return this.negotiatedVersion;
  }

  private makeAgent(): HttpAgent {
    const h = this.host;
    if (h.kind === 'tcp' && h.tls) {
      return new HttpsAgent({
        keepAlive: true,
        ca: h.tls.ca ? readFileSync(h.tls.ca) : undefined,
        cert: h.tls.cert ? readFileSync(h.tls.cert) : undefined,
        key: h.tls.key ? readFileSync(h.tls.key) : undefined,
        rejectUnauthorized: h.tls.verify,
      });
    }
    return new HttpAgent({ keepAlive: true });
  }

  /** Release pooled connections (the process can exit without waiting for them). */
  close(): void {
    this.agent.destroy();
  }

  // ---------------------------------------------------------------- transport

  /** Negotiate once: GET /_ping, then use min(ours, the daemon's) API version. */
  negotiate(): Promise<PingResult> {
    this.negotiated ??= this.doNegotiate();
    return this.negotiated;
  }

  private async doNegotiate(): Promise<PingResult> {
    let ping: PingResult;
    try {
      ping = await this.ping();
    } catch (err) {
      if (!this.shouldAutostart(err)) throw err;
      const { startDaemon } = await import('./autostart.js');
      await startDaemon(async () => {
        try {
          await this.ping();
          return true;
        } catch {
          return false;
        }
      }, this.env, this.daemonLaunch);
      ping = await this.ping();
    }
    this.osType = ping.osType;
    this.negotiatedVersion = this.forcedVersion ?? chooseVersion(ping.apiVersion);
    return { ...ping, apiVersion: this.negotiatedVersion };
  }

  private shouldAutostart(err: unknown): boolean {
    if (!this.autostart || this.host.kind !== 'unix' || !isBerthError(err, 'Unavailable')) return false;
    if (this.env.BERTH_NO_AUTOSTART === '1' || process.getuid?.() !== 0) return false;
    return (err as Error & { daemonDown?: boolean }).daemonDown === true;
  }

  /** GET /_ping (unversioned): the daemon's API version and OS. */
  async ping(): Promise<PingResult> {
    const res = await this.send('GET', '/_ping', { versioned: false });
    await readAll(res);
    const apiVersion = header(res, 'api-version') ?? API_MIN_VERSION;
    return { apiVersion, osType: header(res, 'ostype') ?? 'linux' };
  }

  private url(path: string, init: RequestInit): string {
    const prefix = init.versioned === false ? '' : `/v${this.negotiatedVersion}`;
    return prefix + path + encodeQuery(init.query);
  }

  private connectionError(err: NodeJS.ErrnoException): Error {
    const where = this.host.url;
    if (err.code === 'EACCES' || err.code === 'EPERM') {
      return forbidden(`permission denied while trying to connect to the berth daemon socket at ${where}: ${err.message}`);
    }
    if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED' || err.code === 'ECONNRESET' || err.code === 'EHOSTUNREACH') {
      const e = unavailable(`Cannot connect to the berth daemon at ${where}. Is berthd running?`, err);
      (e as Error & { daemonDown?: boolean }).daemonDown = err.code !== 'ECONNRESET';
      return e;
    }
    return unavailable(`error during connect: ${err.message}`, err);
  }

  /** Send a request; resolves at the response headers. Error statuses become ClientErrors. */
  async send(method: string, path: string, init: RequestInit = {}): Promise<IncomingMessage> {
    if (init.versioned !== false) await this.negotiate();
    const { body, contentType } = encodeBody(init);
    const headers: Record<string, string> = { 'User-Agent': 'berth-cli', ...init.headers };
    if (contentType) headers['Content-Type'] = contentType;
    if (Buffer.isBuffer(body)) headers['Content-Length'] = String(body.length);
    const h = this.host;
    const options: RequestOptions = {
      method,
      path: this.url(path, init),
      headers,
      agent: this.agent,
      signal: init.signal,
      ...(h.kind === 'unix' ? { socketPath: h.path, host: 'api.moby.localhost' } : { host: h.host, port: h.port }),
    };
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = (h.kind === 'tcp' && h.tls ? httpsRequest : httpRequest)(options, resolve);
      req.once('error', (err: NodeJS.ErrnoException) => {
        reject(err.name === 'AbortError' ? err : this.connectionError(err));
      });
      if (body === undefined || Buffer.isBuffer(body)) req.end(body);
      else {
        (body as Readable).once('error', (err) => req.destroy(err));
        (body as Readable).pipe(req);
      }
    });
    if ((res.statusCode ?? 500) >= 400) {
      const text = method === 'HEAD' ? Buffer.alloc(0) : await readAll(res);
      throw errorFromBody(res.statusCode ?? 500, res.statusMessage ?? '', text);
    }
    return res;
  }

  async json<T>(method: string, path: string, init: RequestInit = {}): Promise<T> {
    const res = await this.send(method, path, init);
    const text = (await readAll(res)).toString('utf8');
    return (text.trim() ? JSON.parse(text) : undefined) as T;
  }

  /** A request whose answer carries nothing we need (204 or a body to drop). */
  async call(method: string, path: string, init: RequestInit = {}): Promise<void> {
    await readAll(await this.send(method, path, init));
  }

  async *jsonStream<T>(method: string, path: string, init: RequestInit = {}): AsyncGenerator<T> {
    const res = await this.send(method, path, init);
    try {
      yield* decodeJsonStream<T>(res);
    } catch (err) {
      if ((err as Error).name === 'AbortError' || (err as NodeJS.ErrnoException).code === 'ECONNRESET' && init.signal?.aborted) return;
      throw err;
    } finally {
      res.destroy();
    }
  }

  private async hijack(path: string, init: RequestInit): Promise<HijackedConnection> {
    await this.negotiate();
    const { body, contentType } = encodeBody(init);
    return hijack(
      this.host,
      {
        method: 'POST',
        path: this.url(path, init),
        body: Buffer.isBuffer(body) ? body : undefined,
        contentType: contentType ?? 'text/plain',
        headers: init.headers,
      },
      (err) => this.connectionError(err as NodeJS.ErrnoException),
    );
  }

  // ---------------------------------------------------------------- system

  version(): Promise<VersionResponse> {
    return this.json('GET', '/version');
  }

  info(): Promise<SystemInfo> {
    return this.json('GET', '/info');
  }

  diskUsage(): Promise<DiskUsage> {
    return this.json('GET', '/system/df');
  }

  /** GET /events: ends at `until`, or when `signal` aborts. */
  events(opts: { since?: string; until?: string; filters?: Filters }, signal?: AbortSignal): AsyncGenerator<EventMessage> {
    return this.jsonStream('GET', '/events', { query: { since: opts.since, until: opts.until, filters: filtersParam(opts.filters) }, signal });
  }

  // ---------------------------------------------------------------- containers

  createContainer(req: ContainerCreateRequest, name?: string, platform?: string): Promise<ContainerCreateResponse> {
    return this.json('POST', '/containers/create', { query: { name, platform }, body: req });
  }

  listContainers(opts: Partial<ListContainersOptions> = {}): Promise<ContainerSummary[]> {
    return this.json('GET', '/containers/json', {
      query: { all: opts.all || undefined, limit: opts.limit, size: opts.size || undefined, filters: filtersParam(opts.filters) },
    });
  }

  inspectContainer(id: string, size = false): Promise<ContainerInspect> {
    return this.json('GET', `/containers/${enc(id)}/json`, { query: { size: size || undefined } });
  }

  startContainer(id: string, detachKeys?: string): Promise<void> {
    return this.call('POST', `/containers/${enc(id)}/start`, { query: { detachKeys: detachKeys || undefined } });
  }

  stopContainer(id: string, opts: { signal?: string; timeout?: number } = {}): Promise<void> {
    return this.call('POST', `/containers/${enc(id)}/stop`, { query: { signal: opts.signal || undefined, t: opts.timeout } });
  }

  restartContainer(id: string, opts: { signal?: string; timeout?: number } = {}): Promise<void> {
    return this.call('POST', `/containers/${enc(id)}/restart`, { query: { signal: opts.signal || undefined, t: opts.timeout } });
  }

  killContainer(id: string, signal?: string): Promise<void> {
    return this.call('POST', `/containers/${enc(id)}/kill`, { query: { signal: signal || undefined } });
  }

  pauseContainer(id: string): Promise<void> {
    return this.call('POST', `/containers/${enc(id)}/pause`);
  }

  unpauseContainer(id: string): Promise<void> {
    return this.call('POST', `/containers/${enc(id)}/unpause`);
  }

  /**
   * POST /containers/{id}/wait. Resolves once the daemon answered with headers (so the
   * waiter is registered before, say, the container is started); `result` settles at the
   * condition ("not-running" default, "next-exit", "removed").
   */
  async startWait(id: string, condition?: string, signal?: AbortSignal): Promise<WaitHandle> {
    const res = await this.send('POST', `/containers/${enc(id)}/wait`, { query: { condition: condition || undefined }, signal });
    const result = readAll(res).then((b) => JSON.parse(b.toString('utf8')) as ContainerWaitResponse);
    result.catch(() => undefined); // observed by the caller; never an unhandled rejection
    return { result };
  }

  async waitContainer(id: string, condition?: string, signal?: AbortSignal): Promise<ContainerWaitResponse> {
    return (await this.startWait(id, condition, signal)).result;
  }

  removeContainer(id: string, opts: { force?: boolean; volumes?: boolean; link?: boolean } = {}): Promise<void> {
    return this.call('DELETE', `/containers/${enc(id)}`, { query: { force: opts.force || undefined, v: opts.volumes || undefined, link: opts.link || undefined } });
  }

  renameContainer(id: string, newName: string): Promise<void> {
    return this.call('POST', `/containers/${enc(id)}/rename`, { query: { name: newName } });
  }

  updateContainer(id: string, update: ContainerUpdateRequest): Promise<ContainerUpdateResponse> {
    return this.json('POST', `/containers/${enc(id)}/update`, { body: update });
  }

  pruneContainers(filters: Filters = {}): Promise<ContainerPruneResponse> {
    return this.json('POST', '/containers/prune', { query: { filters: filtersParam(filters) } });
  }

  resizeContainer(id: string, height: number, width: number): Promise<void> {
    return this.call('POST', `/containers/${enc(id)}/resize`, { query: { h: height, w: width } });
  }

  /** POST /containers/{id}/attach, hijacked. Output is framed unless the container has a tty. */
  attachContainer(id: string, opts: AttachOptions): Promise<HijackedConnection> {
    return this.hijack(`/containers/${enc(id)}/attach`, {
      query: {
        stream: opts.stream || undefined,
        logs: opts.logs || undefined,
        stdin: opts.stdin || undefined,
        stdout: opts.stdout || undefined,
        stderr: opts.stderr || undefined,
        detachKeys: opts.detachKeys || undefined,
      },
    });
  }

  /** GET /containers/{id}/logs: the raw body (frames unless the container has a tty). */
  async containerLogs(id: string, opts: Partial<ContainerLogsRequest>, signal?: AbortSignal): Promise<IncomingMessage> {
    return this.send('GET', `/containers/${enc(id)}/logs`, {
      query: {
        stdout: opts.stdout ?? true,
        stderr: opts.stderr ?? true,
        follow: opts.follow || undefined,
        since: opts.since || undefined,
        until: opts.until || undefined,
        timestamps: opts.timestamps || undefined,
        tail: opts.tail,
        details: opts.details || undefined,
      },
      signal,
    });
  }

  topContainer(id: string, psArgs?: string): Promise<ContainerTopResponse> {
    return this.json('GET', `/containers/${enc(id)}/top`, { query: { ps_args: psArgs || undefined } });
  }

  containerStats(id: string, opts: { stream: boolean; oneShot?: boolean }, signal?: AbortSignal): AsyncGenerator<ContainerStats> {
    return this.jsonStream('GET', `/containers/${enc(id)}/stats`, {
      query: { stream: opts.stream, 'one-shot': opts.oneShot || undefined },
      signal,
    });
  }

  containerChanges(id: string): Promise<FilesystemChange[] | null> {
    return this.json('GET', `/containers/${enc(id)}/changes`);
  }

  /** GET /containers/{id}/export: a tar of the container's filesystem. */
  exportContainer(id: string): Promise<IncomingMessage> {
    return this.send('GET', `/containers/${enc(id)}/export`);
  }

  /** HEAD /containers/{id}/archive: the X-Docker-Container-Path-Stat of a path. */
  async statPath(id: string, path: string): Promise<PathStat> {
    try {
      const res = await this.send('HEAD', `/containers/${enc(id)}/archive`, { query: { path } });
      res.resume();
      return decodePathStat(res);
    } catch (err) {
      if (err instanceof ClientError && err.status === 404 && /^404/.test(err.daemonMessage)) {
        throw new ClientError(404, `Could not find the file ${path} in container ${id}`);
      }
      throw err;
    }
  }

  async getArchive(id: string, path: string): Promise<{ stat: PathStat; tar: IncomingMessage }> {
    const res = await this.send('GET', `/containers/${enc(id)}/archive`, { query: { path } });
    return { stat: decodePathStat(res), tar: res };
  }

  putArchive(id: string, path: string, tar: Readable, opts: Partial<ArchiveOptions> = {}): Promise<void> {
    return this.call('PUT', `/containers/${enc(id)}/archive`, {
      query: { path, noOverwriteDirNonDir: opts.noOverwriteDirNonDir ?? true, copyUIDGID: opts.copyUIDGID || undefined },
      body: tar,
      contentType: 'application/x-tar',
    });
  }

  // ---------------------------------------------------------------- exec

  createExec(id: string, req: ExecCreateRequest): Promise<{ Id: string }> {
    return this.json('POST', `/containers/${enc(id)}/exec`, { body: req });
  }

  /** Detached start: returns once the process runs. */
  startExecDetached(execId: string, opts: { tty?: boolean; consoleSize?: [number, number] } = {}): Promise<void> {
    return this.call('POST', `/exec/${enc(execId)}/start`, { body: { Detach: true, Tty: opts.tty ?? false, ConsoleSize: opts.consoleSize ?? null } });
  }

  /** Attached start: the hijacked stdio of the exec'd process. */
  startExec(execId: string, opts: { tty?: boolean; consoleSize?: [number, number] } = {}): Promise<HijackedConnection> {
    return this.hijack(`/exec/${enc(execId)}/start`, {
      body: { Detach: false, Tty: opts.tty ?? false, ConsoleSize: opts.consoleSize ?? null },
    });
  }

  resizeExec(execId: string, height: number, width: number): Promise<void> {
    return this.call('POST', `/exec/${enc(execId)}/resize`, { query: { h: height, w: width } });
  }

  inspectExec(execId: string): Promise<ExecInspect> {
    return this.json('GET', `/exec/${enc(execId)}/json`);
  }

  // ---------------------------------------------------------------- images

  listImages(opts: { all?: boolean; filters?: Filters; digests?: boolean } = {}): Promise<ImageSummary[]> {
    return this.json('GET', '/images/json', { query: { all: opts.all || undefined, filters: filtersParam(opts.filters), digests: opts.digests || undefined } });
  }

  inspectImage(name: string): Promise<ImageInspect> {
    return this.json('GET', `/images/${encImage(name)}/json`);
  }

  imageHistory(name: string): Promise<ImageHistoryItem[]> {
    return this.json('GET', `/images/${encImage(name)}/history`);
  }

  tagImage(name: string, repo: string, tag?: string): Promise<void> {
    return this.call('POST', `/images/${encImage(name)}/tag`, { query: { repo, tag: tag || undefined } });
  }

  removeImage(name: string, opts: { force?: boolean; noprune?: boolean } = {}): Promise<ImageDeleteResponseItem[]> {
    return this.json('DELETE', `/images/${encImage(name)}`, { query: { force: opts.force || undefined, noprune: opts.noprune || undefined } });
  }

  listVolumes(filters: Filters = {}): Promise<VolumeListResponse> {
    return this.json('GET', '/volumes', { query: { filters: filtersParam(filters) } });
  }

  createVolume(req: VolumeCreateRequest): Promise<Volume> {
    return this.json('POST', '/volumes/create', { body: req });
  }

  inspectVolume(name: string): Promise<Volume> {
    return this.json('GET', `/volumes/${enc(name)}`);
  }

  removeVolume(name: string, force = false): Promise<void> {
    return this.call('DELETE', `/volumes/${enc(name)}`, { query: { force: force || undefined } });
  }

  pruneVolumes(filters: Filters = {}): Promise<VolumePruneResponse> {
    return this.json('POST', '/volumes/prune', { query: { filters: filtersParam(filters) } });
  }

  listNetworks(filters: Filters = {}): Promise<NetworkResource[]> {
    return this.json('GET', '/networks', { query: { filters: filtersParam(filters) } });
  }

  /** GET /networks/{id}; `raw` is the daemon's JSON as sent (inspect prints it, not a re-encoding). */
  async inspectNetworkRaw(id: string, opts: { verbose?: boolean; scope?: string } = {}): Promise<string> {
    const res = await this.send('GET', `/networks/${enc(trimID('network', id))}`, { query: { verbose: opts.verbose ? 'true' : undefined, scope: opts.scope || undefined } });
    return (await readAll(res)).toString('utf8');
  }

  async inspectNetwork(id: string, opts: { verbose?: boolean; scope?: string } = {}): Promise<NetworkResource> {
    return JSON.parse(await this.inspectNetworkRaw(id, opts)) as NetworkResource;
  }

  /** POST /networks/create; below API 1.44 docker's client also asks for CheckDuplicate. */
  async createNetwork(req: NetworkCreateRequest): Promise<NetworkCreateResponse> {
    await this.negotiate();
    const body: NetworkCreateRequest = compareVersions(this.apiVersion, '1.44') < 0 ? { ...req, CheckDuplicate: true } : req;
    return this.json('POST', '/networks/create', { body });
  }

  removeNetwork(id: string): Promise<void> {
    return this.call('DELETE', `/networks/${enc(trimID('network', id))}`);
  }

  connectNetwork(id: string, req: NetworkConnectRequest): Promise<void> {
    const network = trimID('network', id);
    return this.call('POST', `/networks/${enc(network)}/connect`, { body: { ...req, Container: trimID('container', req.Container) } });
  }

  disconnectNetwork(id: string, req: NetworkDisconnectRequest): Promise<void> {
    const network = trimID('network', id);
    return this.call('POST', `/networks/${enc(network)}/disconnect`, { body: { ...req, Container: trimID('container', req.Container) } });
  }

  pruneNetworks(filters: Filters = {}): Promise<NetworkPruneResponse> {
    return this.json('POST', '/networks/prune', { query: { filters: filtersParam(filters) } });
  }

  pruneBuildCache(opts: { all?: boolean; filters?: Filters } = {}): Promise<{ CachesDeleted: string[] | null; SpaceReclaimed: number }> {
    return this.json('POST', '/build/prune', { query: { all: opts.all || undefined, filters: filtersParam(opts.filters ?? {}) } });
  }

  pruneImages(filters: Filters = {}): Promise<ImagePruneResponse> {
    return this.json('POST', '/images/prune', { query: { filters: filtersParam(filters) } });
  }

  /** POST /images/create?fromImage=: progress messages until the pull ends. With allTags (and a name only), every tag. */
  pullImage(ref: string, opts: { platform?: string; auth?: string; signal?: AbortSignal; allTags?: boolean } = {}): AsyncGenerator<JSONMessage> {
    const { name, tag } = splitReference(ref);
    return this.jsonStream('POST', '/images/create', {
      query: { fromImage: name, tag: opts.allTags ? undefined : (tag ?? 'latest'), platform: opts.platform || undefined },
      headers: opts.auth ? { 'X-Registry-Auth': opts.auth } : {},
      signal: opts.signal,
    });
  }

  pushImage(ref: string, opts: { auth?: string; signal?: AbortSignal } = {}): AsyncGenerator<JSONMessage> {
    const { name, tag } = splitReference(ref);
    return this.jsonStream('POST', `/images/${encImage(name)}/push`, {
      query: { tag: tag || undefined },
      // The daemon insists on the header, even for anonymous pushes ("e30=" is "{}").
      headers: { 'X-Registry-Auth': opts.auth ?? 'e30=' },
      signal: opts.signal,
    });
  }

  /** POST /images/create?fromSrc=…: import a filesystem tar sent as the body, or one the daemon downloads from a URL. */
  importImage(source: Readable | URL, opts: Partial<ImportOptions> & { repoTag?: string } = {}): AsyncGenerator<JSONMessage> {
    const { name, tag } = opts.repoTag ? splitReference(opts.repoTag) : { name: opts.repo, tag: opts.tag };
    const fromUrl = source instanceof URL;
    return this.jsonStream('POST', '/images/create', {
      query: {
        fromSrc: fromUrl ? source.href : '-', repo: name, tag, message: opts.message || undefined,
        changes: opts.changes?.length ? opts.changes : undefined, platform: opts.platform || undefined,
      },
      ...(fromUrl ? {} : { body: source, contentType: 'application/x-tar' }),
    });
  }

  /** GET /images/get: a tar of the named images. */
  saveImages(names: string[]): Promise<IncomingMessage> {
    return this.send('GET', '/images/get', { query: { names } });
  }

  /** POST /images/load: progress messages (JSON), or plain text from daemons that send it. */
  async *loadImages(tar: Readable, quiet: boolean): AsyncGenerator<JSONMessage> {
    const res = await this.send('POST', '/images/load', { query: { quiet: quiet || undefined }, body: tar, contentType: 'application/x-tar' });
    if (!/json/.test(header(res, 'content-type') ?? '')) {
      const text = (await readAll(res)).toString('utf8');
      if (text) yield { stream: text };
      return;
    }
    yield* decodeJsonStream<JSONMessage>(res);
  }

  /** POST /build with a context tar; the classic builder's JSON messages. */
  async *build(context: Readable, query: Record<string, QueryValue>): AsyncGenerator<JSONMessage> {
    const res = await this.send('POST', '/build', { query, body: context, contentType: 'application/x-tar' });
    yield* decodeJsonStream<JSONMessage>(res);
  }

  commitContainer(opts: CommitOptions): Promise<{ Id: string }> {
    return this.json('POST', '/commit', {
      query: {
        container: opts.container,
        repo: opts.repo,
        tag: opts.tag,
        comment: opts.comment || undefined,
        author: opts.author || undefined,
        pause: opts.pause,
        changes: opts.changes.length ? opts.changes : undefined,
      },
      body: opts.config ?? {},
    });
  }
}

// ---------------------------------------------------------------- helpers

/** The version both sides speak: ours, or the daemon's when it is older. */
export function chooseVersion(server: string): string {
  return compareVersions(server, API_VERSION) < 0 ? server : API_VERSION;
}

export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}

function header(res: IncomingMessage, name: string): string | undefined {
  const v = res.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** The client's trimID: an empty (or blank) name or ID is refused before any request. */
function trimID(objType: string, id: string): string {
  const trimmed = id.trim();
  if (trimmed === '') throw invalidArgument(`invalid ${objType} name or ID: value is empty`);
  return trimmed;
}

function enc(s: string): string {
  return encodeURIComponent(s);
}

/** Image names keep their slashes in the path, as docker's client sends them. */
function encImage(s: string): string {
  return s.split('/').map(encodeURIComponent).join('/');
}

export function encodeQuery(query: Record<string, QueryValue> | undefined): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined) continue;
    if (Array.isArray(v)) for (const item of v as readonly string[]) params.append(k, item);
    else if (typeof v === 'boolean') params.append(k, v ? '1' : '0');
    else params.append(k, String(v));
  }
  const s = params.toString();
  return s ? `?${s}` : '';
}

/** Docker's filters parameter: {"key": {"value": true}}; omitted when empty. */
export function filtersParam(filters: Filters | undefined): string | undefined {
  if (!filters || Object.keys(filters).length === 0) return undefined;
  const doc: Record<string, Record<string, boolean>> = {};
  for (const [k, values] of Object.entries(filters)) doc[k] = Object.fromEntries(values.map((v) => [v, true]));
  return JSON.stringify(doc);
}

function encodeBody(init: RequestInit): { body: Buffer | Readable | undefined; contentType: string | undefined } {
  const b = init.body;
  if (b === undefined) return { body: undefined, contentType: init.contentType };
  if (Buffer.isBuffer(b)) return { body: b, contentType: init.contentType };
  if (typeof (b as Readable).pipe === 'function') return { body: b as Readable, contentType: init.contentType };
  return { body: Buffer.from(JSON.stringify(b)), contentType: init.contentType ?? 'application/json' };
}

function decodePathStat(res: IncomingMessage): PathStat {
  const raw = header(res, 'x-docker-container-path-stat');
  if (!raw) throw new Error('the daemon sent no X-Docker-Container-Path-Stat header');
  return JSON.parse(Buffer.from(raw, 'base64').toString('utf8')) as PathStat;
}

/**
 * name and tag (or digest) of a reference as docker's client sends them to
 * /images/create and /images/{name}/push: the tag after the last colon that follows the
 * last slash, a digest after "@".
 */
export function splitReference(ref: string): { name: string; tag?: string } {
  const at = ref.indexOf('@');
  if (at >= 0) return { name: ref.slice(0, at).replace(/:[^/:]*$/, ''), tag: ref.slice(at + 1) };
  const colon = ref.lastIndexOf(':');
  if (colon > ref.lastIndexOf('/')) return { name: ref.slice(0, colon), tag: ref.slice(colon + 1) };
  return { name: ref };
}
