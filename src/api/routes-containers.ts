// Container routes, mapping query and body onto Backend calls as moby's container router
// does (daemon/server/router/container/container_routes.go), with its status codes and
// its per-version adjustments.
import { pipeline } from 'node:stream/promises';
import type { ContainerCreateRequest, ContainerUpdateRequest, ContainerWaitResponse, MountSpec } from '../oci/engine-api.js';
import type { LogsOptions } from '../daemon/backend.js';
import { familiarName, parseReference, withDefaultTag, withTag } from '../images/reference.js';
import { invalidArgument } from '../util/errors.js';
import { checkJsonContentType, type RequestContext } from './context.js';
import { decodeGoJson, COMMIT_CONFIG, CREATE_REQUEST, UPDATE_REQUEST } from './go-json.js';
import { errorMessage, withPrefix } from './http-errors.js';
import { parsePlatform } from './query.js';
import { sendJson, sendStatus } from './respond.js';
import { route, type Route } from './router.js';
import { fixedNanoTimestamp, forEachUntilAborted, MEDIA_MULTIPLEXED_STREAM, MEDIA_RAW_STREAM, muxFrame, StdStream } from './streams.js';
import { versionAtLeast, versionLessThan } from './versions.js';

const name = (ctx: RequestContext): string => ctx.params['name'] ?? '';

// ---- create ----

function checkMountOptions(mounts: MountSpec[], version: string): void {
  for (const m of mounts) {
    const options = m as MountSpec & { BindOptions?: { ReadOnlyForceRecursive?: boolean }; VolumeOptions?: { Subpath?: string } };
    if (versionLessThan(version, '1.42')) {
      // Fields of later versions are ignored, as an older daemon would.
      if (options.BindOptions) options.BindOptions.CreateMountpoint = false;
      if (m.Type !== 'volume') delete options.VolumeOptions;
      if (m.Type !== 'tmpfs') delete options.TmpfsOptions;
    } else {
      if (options.VolumeOptions && m.Type !== 'volume') throw invalidArgument(`VolumeOptions must not be specified on mount type "${m.Type}"`);
      if (options.BindOptions && m.Type !== 'bind') throw invalidArgument(`BindOptions must not be specified on mount type "${m.Type}"`);
      if (options.TmpfsOptions && m.Type !== 'tmpfs') throw invalidArgument(`TmpfsOptions must not be specified on mount type "${m.Type}"`);
    }
    if (versionLessThan(version, '1.44') && m.Type === 'bind' && options.BindOptions?.ReadOnlyForceRecursive === true) {
      throw invalidArgument('BindOptions.ReadOnlyForceRecursive needs API v1.44 or newer');
    }
    if (versionLessThan(version, '1.45') && (options.VolumeOptions?.Subpath ?? '') !== '') {
      throw invalidArgument('VolumeOptions.Subpath needs API v1.45 or newer');
    }
  }
}

/** moby's per-version adjustments of a create request (postContainersCreate). */
export function adjustCreateRequest(req: ContainerCreateRequest, version: string): void {
  const host = req.HostConfig ?? {};
  req.HostConfig = host;
  checkMountOptions(host.Mounts ?? [], version);
  if (versionLessThan(version, '1.42')) (host as { ConsoleSize?: number[] }).ConsoleSize = [0, 0];
  if (versionLessThan(version, '1.43')) delete host.Annotations;
  if (versionLessThan(version, '1.44')) {
    if (req.Healthcheck) req.Healthcheck.StartInterval = 0;
    const endpoints = Object.keys(req.NetworkingConfig?.EndpointsConfig ?? {});
    if (endpoints.length > 1) {
      throw invalidArgument(`Container cannot be created with multiple network endpoints: ${endpoints.join(', ')}`);
    }
  }
  // 0 and negative limits mean "unlimited": no limit at all.
  if (host.PidsLimit !== undefined && host.PidsLimit !== null && host.PidsLimit <= 0) host.PidsLimit = null;
}

async function create(ctx: RequestContext): Promise<void> {
  checkJsonContentType(ctx.req.headers['content-type']);
  const req = decodeGoJson<ContainerCreateRequest>(await ctx.readJson(), CREATE_REQUEST);
  if (req === undefined) throw invalidArgument('config cannot be empty in order to create a container');
  adjustCreateRequest(req, ctx.version);
  const platform = parsePlatform(ctx.query.optional('platform'));
  const created = await ctx.backend.createContainer(req, ctx.query.optional('name'), platform);
  sendJson(ctx.res, 201, { Id: created.Id, Warnings: created.Warnings ?? [] });
}

// ---- reads ----

async function list(ctx: RequestContext): Promise<void> {
  const filters = ctx.query.filters();
  const limit = ctx.query.int('limit');
  const containers = await ctx.backend.listContainers({
    all: ctx.query.bool('all'),
    size: ctx.query.bool('size'),
    // docker-py sends limit=-1: no limit.
    ...(limit !== undefined && limit > 0 ? { limit } : {}),
    filters,
  });
  if (versionLessThan(ctx.version, '1.46')) {
    for (const c of containers) delete c.HostConfig.Annotations;
  }
  sendJson(ctx.res, 200, containers);
}

async function inspect(ctx: RequestContext): Promise<void> {
  sendJson(ctx.res, 200, await ctx.backend.inspectContainer(name(ctx), ctx.query.bool('size')));
}

async function top(ctx: RequestContext): Promise<void> {
  sendJson(ctx.res, 200, await ctx.backend.topContainer(name(ctx), ctx.query.get('ps_args')));
}

async function changes(ctx: RequestContext): Promise<void> {
  sendJson(ctx.res, 200, await ctx.backend.containerChanges(name(ctx)));
}

async function exportContainer(ctx: RequestContext): Promise<void> {
  const tar = await ctx.backend.exportContainer(name(ctx));
  ctx.res.writeHead(200, { 'Content-Type': 'application/x-tar' });
  await pipeline(tar, ctx.res);
}

// ---- logs and stats ----

/** moby: a tail that is not a number, or negative, means all lines. */
function tailLines(raw: string): number | undefined {
  if (!/^[+-]?[0-9]+$/.test(raw)) return undefined;
  const n = Number(raw);
  return n < 0 ? undefined : n;
}

async function logs(ctx: RequestContext): Promise<void> {
  const q = ctx.query;
  const stdout = q.bool('stdout');
  const stderr = q.bool('stderr');
  if (!stdout && !stderr) throw invalidArgument("must specify at least one of 'stdout' or 'stderr'");
  const since = q.timestamp('since');
  const until = q.get('until') === '0' ? 0 : q.timestamp('until');
  const tail = tailLines(q.get('tail'));
  const opts: LogsOptions & { signal: AbortSignal } = {
    follow: q.bool('follow'),
    stdout,
    stderr,
    since,
    until,
    timestamps: q.bool('timestamps'),
    ...(tail !== undefined ? { tail } : {}),
    signal: ctx.signal,
  };
  const result = await ctx.backend.containerLogs(name(ctx), opts);
  const multiplexed = !result.tty;
  const contentType = multiplexed && versionAtLeast(ctx.version, '1.42') ? MEDIA_MULTIPLEXED_STREAM : MEDIA_RAW_STREAM;
  // Headers go out now: `logs -f` of a quiet container must not look like a hung request.
  ctx.res.writeHead(200, { 'Content-Type': contentType });
  ctx.res.flushHeaders();
  await forEachUntilAborted(result.entries, ctx.signal, (entry) => {
    if ((entry.stream === 'stdout' && !stdout) || (entry.stream === 'stderr' && !stderr)) return;
    const line = opts.timestamps ? Buffer.concat([Buffer.from(`${fixedNanoTimestamp(entry.time)} `), entry.line]) : entry.line;
    const chunk = multiplexed ? muxFrame(entry.stream === 'stdout' ? StdStream.Stdout : StdStream.Stderr, line) : line;
    if (!ctx.res.destroyed) ctx.res.write(chunk);
  });
  ctx.res.end();
}

async function stats(ctx: RequestContext): Promise<void> {
  const stream = ctx.query.boolOrDefault('stream', true);
  const oneShot = ctx.query.boolOrDefault('one-shot', false);
  const samples = ctx.backend.containerStats(name(ctx), { stream, oneShot }, ctx.signal);
  try {
    await forEachUntilAborted(samples, ctx.signal, (sample) => {
      if (!ctx.res.headersSent) {
        ctx.res.writeHead(200, { 'Content-Type': 'application/json' });
      }
      ctx.res.write(`${JSON.stringify(sample)}\n`);
    });
  } catch (err) {
    // Before the first sample the error is the answer (404 for an unknown container);
    // after it, the stream simply ends.
    if (!ctx.res.headersSent) throw err;
  }
  if (!ctx.res.headersSent) ctx.res.writeHead(200, { 'Content-Type': 'application/json' });
  ctx.res.end();
}

// ---- lifecycle ----

async function start(ctx: RequestContext): Promise<void> {
  const length = ctx.req.headers['content-length'];
  const chunked = ctx.req.headers['transfer-encoding'] !== undefined;
  if (chunked || (length !== undefined && Number(length) > 7)) {
    throw invalidArgument('starting container with non-empty request body was deprecated since API v1.22 and removed in v1.24');
  }
  await ctx.backend.startContainer(name(ctx), ctx.query.optional('detachKeys'));
  sendStatus(ctx.res, 204);
}

function stopOptions(ctx: RequestContext): { signal?: string; timeout?: number } {
  const signal = versionAtLeast(ctx.version, '1.42') ? ctx.query.optional('signal') : undefined;
  const timeout = ctx.query.int('t');
  return { ...(signal !== undefined ? { signal } : {}), ...(timeout !== undefined ? { timeout } : {}) };
}

async function stop(ctx: RequestContext): Promise<void> {
  await ctx.backend.stopContainer(name(ctx), stopOptions(ctx));
  sendStatus(ctx.res, 204);
}

async function restart(ctx: RequestContext): Promise<void> {
  await ctx.backend.restartContainer(name(ctx), stopOptions(ctx));
  sendStatus(ctx.res, 204);
}

async function kill(ctx: RequestContext): Promise<void> {
  try {
    await ctx.backend.killContainer(name(ctx), ctx.query.get('signal'));
  } catch (err) {
    throw withPrefix(err, `cannot kill container: ${name(ctx)}`);
  }
  sendStatus(ctx.res, 204);
}

async function pause(ctx: RequestContext): Promise<void> {
  await ctx.backend.pauseContainer(name(ctx));
  sendStatus(ctx.res, 204);
}

async function unpause(ctx: RequestContext): Promise<void> {
  await ctx.backend.unpauseContainer(name(ctx));
  sendStatus(ctx.res, 204);
}

const WAIT_CONDITIONS: ReadonlySet<string> = new Set(['not-running', 'next-exit', 'removed']);

/**
 * The 200 goes out as soon as the wait is registered (moby does the same): the docker CLI
 * waits for these headers before it starts the container, so that a "next-exit" wait
 * cannot miss a quick exit. The result follows when the condition is met.
 */
async function wait(ctx: RequestContext): Promise<void> {
  const condition = ctx.query.get('condition') || 'not-running';
  if (!WAIT_CONDITIONS.has(condition)) throw invalidArgument(`invalid condition: ${JSON.stringify(condition)}`);
  const giveUp = new AbortController();
  const signal = AbortSignal.any([ctx.signal, giveUp.signal]);
  type Outcome = { result: ContainerWaitResponse } | { error: unknown };
  const settled: { outcome?: Outcome } = {};
  const waiting = ctx.backend.waitContainer(name(ctx), condition, signal).then(
    (result) => (settled.outcome = { result }),
    (error: unknown) => (settled.outcome = { error }),
  );
  try {
    await ctx.backend.inspectContainer(name(ctx), false);
    // One turn of the event loop, so that a wait the daemon refuses at once is an error status.
    await new Promise((resolve) => setImmediate(resolve));
  } catch (err) {
    giveUp.abort();
    throw err;
  }
  const early = settled.outcome;
  if (early !== undefined && 'error' in early) throw early.error;
  ctx.res.writeHead(200, { 'Content-Type': 'application/json' });
  ctx.res.flushHeaders();
  await waiting;
  const outcome = settled.outcome;
  if (outcome === undefined || ctx.signal.aborted) return;
  const body: ContainerWaitResponse = 'result' in outcome
    ? outcome.result
    : { StatusCode: -1, Error: { Message: errorMessage(outcome.error) } };
  ctx.res.end(`${JSON.stringify(body)}\n`);
}

async function remove(ctx: RequestContext): Promise<void> {
  await ctx.backend.removeContainer(name(ctx), {
    force: ctx.query.bool('force'),
    volumes: ctx.query.bool('v'),
    link: ctx.query.bool('link'),
  });
  sendStatus(ctx.res, 204);
}

async function rename(ctx: RequestContext): Promise<void> {
  await ctx.backend.renameContainer(name(ctx), ctx.query.get('name'));
  sendStatus(ctx.res, 204);
}

async function update(ctx: RequestContext): Promise<void> {
  checkJsonContentType(ctx.req.headers['content-type']);
  const update = decodeGoJson<ContainerUpdateRequest>(await ctx.readJson(), UPDATE_REQUEST) ?? {};
  // Both 0 and -1 (any negative, historically) mean "unlimited" when updating.
  if (update.PidsLimit !== undefined && update.PidsLimit !== null && update.PidsLimit <= 0) update.PidsLimit = 0;
  sendJson(ctx.res, 200, await ctx.backend.updateContainer(name(ctx), update));
}

async function prune(ctx: RequestContext): Promise<void> {
  sendJson(ctx.res, 200, await ctx.backend.pruneContainers(ctx.query.filters()));
}

async function resize(ctx: RequestContext): Promise<void> {
  const height = ctx.query.uint32('h', 'resize height');
  const width = ctx.query.uint32('w', 'resize width');
  await ctx.backend.resizeContainer(name(ctx), height, width);
  sendStatus(ctx.res, 200);
}

/** moby's RepoTagReference: no repo, no reference; no tag, "latest"; never a digest. */
export function repoTagReference(repo: string, tag: string): { repo: string; tag: string } | undefined {
  if (repo === '') return undefined;
  const ref = parseReference(repo);
  if (ref.digest !== undefined) throw invalidArgument('cannot import digest reference');
  const tagged = tag !== '' ? withTag(ref, tag) : withDefaultTag(ref);
  return { repo: familiarName(tagged), tag: tagged.tag ?? 'latest' };
}

async function commit(ctx: RequestContext): Promise<void> {
  checkJsonContentType(ctx.req.headers['content-type']);
  const config = decodeGoJson<ContainerCreateRequest>(await ctx.readJson(), COMMIT_CONFIG);
  const q = ctx.query;
  const ref = repoTagReference(q.get('repo'), q.get('tag'));
  const result = await ctx.backend.commitContainer({
    container: q.get('container'),
    ...(ref !== undefined ? ref : {}),
    ...(q.has('comment') ? { comment: q.get('comment') } : {}),
    ...(q.has('author') ? { author: q.get('author') } : {}),
    // Pausing is the default; only an explicit false turns it off.
    pause: !(q.has('pause') && !q.bool('pause')),
    changes: q.all('changes'),
    ...(config !== undefined ? { config } : {}),
  });
  sendJson(ctx.res, 201, { Id: result.Id });
}

export const containerRoutes: readonly Route[] = [
  route('GET', '/containers/json', list),
  route('GET', '/containers/{name:.*}/export', exportContainer),
  route('GET', '/containers/{name:.*}/changes', changes),
  route('GET', '/containers/{name:.*}/json', inspect),
  route('GET', '/containers/{name:.*}/top', top),
  route('GET', '/containers/{name:.*}/logs', logs),
  route('GET', '/containers/{name:.*}/stats', stats),
  route('POST', '/containers/create', create),
  route('POST', '/containers/{name:.*}/kill', kill),
  route('POST', '/containers/{name:.*}/pause', pause),
  route('POST', '/containers/{name:.*}/unpause', unpause),
  route('POST', '/containers/{name:.*}/restart', restart),
  route('POST', '/containers/{name:.*}/start', start),
  route('POST', '/containers/{name:.*}/stop', stop),
  route('POST', '/containers/{name:.*}/wait', wait),
  route('POST', '/containers/{name:.*}/resize', resize),
  route('POST', '/containers/{name:.*}/rename', rename),
  route('POST', '/containers/{name:.*}/update', update),
  route('POST', '/containers/prune', prune),
  route('POST', '/commit', commit),
  route('DELETE', '/containers/{name:.*}', remove),
];
