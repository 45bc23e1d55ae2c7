// Volume routes (moby api/server/router/volume): list, create, inspect, remove, prune.
import type { VolumeCreateRequest } from '../oci/engine-api.js';
import { unavailable } from '../util/errors.js';
import { checkJsonContentType, type RequestContext } from './context.js';
import { decodeGoJson, VOLUME_CREATE_REQUEST } from './go-json.js';
import { sendJson, sendStatus } from './respond.js';
import { route, type Route } from './router.js';

async function list(ctx: RequestContext): Promise<void> {
  sendJson(ctx.res, 200, await ctx.backend.listVolumes(ctx.query.filters()));
}

async function create(ctx: RequestContext): Promise<void> {
  checkJsonContentType(ctx.req.headers['content-type']);
  const req = decodeGoJson<VolumeCreateRequest>(await ctx.readJson(), VOLUME_CREATE_REQUEST) ?? {};
  sendJson(ctx.res, 201, await ctx.backend.createVolume(req));
}

async function inspect(ctx: RequestContext): Promise<void> {
  sendJson(ctx.res, 200, await ctx.backend.inspectVolume(ctx.params['name'] ?? ''));
}

async function remove(ctx: RequestContext): Promise<void> {
  await ctx.backend.removeVolume(ctx.params['name'] ?? '', ctx.query.bool('force'));
  sendStatus(ctx.res, 204);
}

async function prune(ctx: RequestContext): Promise<void> {
  sendJson(ctx.res, 200, await ctx.backend.pruneVolumes(ctx.query.filters()));
}

/** PUT /volumes/{name} updates cluster volumes only, which need swarm. */
async function update(): Promise<void> {
  throw unavailable('This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.');
}

export const volumeRoutes: readonly Route[] = [
  route('GET', '/volumes', list),
  route('POST', '/volumes/create', create),
  route('POST', '/volumes/prune', prune),
  route('GET', '/volumes/{name:.*}', inspect),
  route('PUT', '/volumes/{name:.*}', update),
  route('DELETE', '/volumes/{name:.*}', remove),
];
