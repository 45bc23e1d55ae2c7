// POST /build, the classic builder's protocol (moby api/server/router/build): the context is
// the request body (a tar, possibly compressed), options are query parameters, and the answer
// is a stream of JSON messages ending in the image ID (aux) or an errorDetail.
import { normalizedTag } from '../images/store.js';
import type { BuildRequest } from '../daemon/backend.js';
import { invalidArgument } from '../util/errors.js';
import type { RequestContext } from './context.js';
import { sendJson } from './respond.js';
import { route, type Route } from './router.js';
import { JsonLines } from './streams.js';

function jsonParam<T>(ctx: RequestContext, key: string, check: (v: unknown) => v is T, what: string): T | undefined {
  const raw = ctx.query.optional(key);
  if (raw === undefined || raw === '') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw invalidArgument(`invalid ${key} parameter: not JSON`);
  }
  if (!check(parsed)) throw invalidArgument(`invalid ${key} parameter: expected ${what}`);
  return parsed;
}

const isStringMap = (v: unknown): v is Record<string, string> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every((x) => typeof x === 'string');
const isArgMap = (v: unknown): v is Record<string, string | null> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every((x) => typeof x === 'string' || x === null);
const isStringList = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');

/** The query as moby's newImageBuildOptions reads it. */
export function buildRequest(ctx: RequestContext): BuildRequest {
  const q = ctx.query;
  const version = q.get('version');
  if (version === '2') throw invalidArgument('BuildKit is not supported by berth: use the classic builder (DOCKER_BUILDKIT=0)');
  if (version !== '' && version !== '1') throw invalidArgument(`unsupported builder version ${version}`);
  const remote = q.get('remote');
  if (remote !== '' && remote !== 'context') throw invalidArgument('remote build contexts (git, URLs) are not supported by berth: send the context as the request body');
  if (q.bool('squash')) throw invalidArgument('squash is only supported with experimental mode');
  const tags = q.all('t').map((t) => {
    try {
      return normalizedTag(t);
    } catch (err) {
      throw invalidArgument(`invalid reference format: ${t}`, err);
    }
  });
  const target = q.get('target');
  const platform = q.get('platform');
  const networkMode = q.get('networkmode');
  return {
    dockerfile: q.get('dockerfile') || 'Dockerfile',
    tags,
    buildArgs: jsonParam(ctx, 'buildargs', isArgMap, 'an object of strings') ?? {},
    labels: jsonParam(ctx, 'labels', isStringMap, 'an object of strings') ?? {},
    cacheFrom: jsonParam(ctx, 'cachefrom', isStringList, 'an array of strings') ?? [],
    noCache: q.bool('nocache'),
    pull: q.bool('pull'),
    quiet: q.bool('q'),
    ...(target ? { target } : {}),
    ...(platform ? { platform } : {}),
    ...(networkMode ? { networkMode } : {}),
  };
}

async function build(ctx: RequestContext): Promise<void> {
  const request = buildRequest(ctx);
  const out = new JsonLines(ctx.res);
  // The stream starts at once, as moby's does: the context upload may take long.
  out.start();
  try {
    await ctx.backend.build(ctx.body(), request, (m) => out.write(m), ctx.signal);
  } catch (err) {
    const code = (err as { exitCode?: unknown }).exitCode;
    if (typeof code === 'number') {
      const message = (err as Error).message;
      out.write({ errorDetail: { code, message }, error: message });
    } else out.writeError(err);
  }
  out.end();
}

async function prune(ctx: RequestContext): Promise<void> {
  const filters = ctx.query.filters();
  const keep = Number(ctx.query.get('keep-storage') || ctx.query.get('reserved-space') || 0);
  sendJson(ctx.res, 200, await ctx.backend.pruneBuildCache({ all: ctx.query.bool('all'), keepStorage: Number.isFinite(keep) ? keep : 0, filters }));
}

export const buildRoutes: readonly Route[] = [
  route('POST', '/build', build),
  route('POST', '/build/prune', prune),
];
