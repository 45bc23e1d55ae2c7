// Network routes (moby api/server/router/network): list, inspect, create, connect,
// disconnect, remove, prune.
import type { NetworkConnectRequest, NetworkCreateRequest, NetworkDisconnectRequest } from '../oci/engine-api.js';
import { invalidArgument } from '../util/errors.js';
import { checkJsonContentType, type RequestContext } from './context.js';
import { decodeGoJson, NETWORK_CONNECT_REQUEST, NETWORK_CREATE_REQUEST, NETWORK_DISCONNECT_REQUEST } from './go-json.js';
import { sendJson, sendStatus } from './respond.js';
import { route, type Route } from './router.js';

const id = (ctx: RequestContext): string => ctx.params['id'] ?? '';

async function list(ctx: RequestContext): Promise<void> {
  sendJson(ctx.res, 200, await ctx.backend.listNetworks(ctx.query.filters()));
}

async function inspect(ctx: RequestContext): Promise<void> {
  const scope = ctx.query.get('scope');
  if (scope && scope !== 'local') throw invalidArgument(`invalid scope "${scope}": berth networks are local`);
  sendJson(ctx.res, 200, await ctx.backend.inspectNetwork(id(ctx)));
}

async function create(ctx: RequestContext): Promise<void> {
  checkJsonContentType(ctx.req.headers['content-type']);
  const req = decodeGoJson<NetworkCreateRequest>(await ctx.readJson(), NETWORK_CREATE_REQUEST);
  if (!req) throw invalidArgument('network name cannot be empty');
  sendJson(ctx.res, 201, await ctx.backend.createNetwork(req));
}

async function connect(ctx: RequestContext): Promise<void> {
  checkJsonContentType(ctx.req.headers['content-type']);
  const req = decodeGoJson<NetworkConnectRequest>(await ctx.readJson(), NETWORK_CONNECT_REQUEST);
  if (!req?.Container) throw invalidArgument('container name or ID is required');
  await ctx.backend.connectNetwork(id(ctx), req);
  sendStatus(ctx.res, 200);
}

async function disconnect(ctx: RequestContext): Promise<void> {
  checkJsonContentType(ctx.req.headers['content-type']);
  const req = decodeGoJson<NetworkDisconnectRequest>(await ctx.readJson(), NETWORK_DISCONNECT_REQUEST);
  if (!req?.Container) throw invalidArgument('container name or ID is required');
  await ctx.backend.disconnectNetwork(id(ctx), req);
  sendStatus(ctx.res, 200);
}

async function remove(ctx: RequestContext): Promise<void> {
  await ctx.backend.removeNetwork(id(ctx));
  sendStatus(ctx.res, 204);
}

async function prune(ctx: RequestContext): Promise<void> {
  sendJson(ctx.res, 200, await ctx.backend.pruneNetworks(ctx.query.filters()));
}

export const networkRoutes: readonly Route[] = [
  route('GET', '/networks', list),
  route('POST', '/networks/create', create),
  route('POST', '/networks/prune', prune),
  route('GET', '/networks/{id:.*}', inspect),
  route('POST', '/networks/{id:.*}/connect', connect),
  route('POST', '/networks/{id:.*}/disconnect', disconnect),
  route('DELETE', '/networks/{id:.*}', remove),
];
