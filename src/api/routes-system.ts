// System routes: ping, version, info, events, disk usage and auth.
import type { DiskUsage, EventMessage } from '../oci/engine-api.js';
import { invalidArgument } from '../util/errors.js';
import type { RequestContext } from './context.js';
import { sendJson, sendStatus } from './respond.js';
import { route, type Route } from './router.js';
import { forEachUntilAborted, JsonLines } from './streams.js';
import { versionAtLeast } from './versions.js';
import { decodeGoJson, type GoType } from './go-json.js';
import { checkJsonContentType } from './context.js';
import type { RegistryAuth } from '../daemon/backend.js';

async function ping(ctx: RequestContext): Promise<void> {
  const headers: Record<string, string> = {
    'Cache-Control': 'no-cache, no-store, must-revalidate',
    Pragma: 'no-cache',
    // The classic builder: berth has no BuildKit, so clients must not try it.
    'Builder-Version': '1',
    Swarm: 'inactive',
    'Content-Type': 'text/plain; charset=utf-8',
  };
  if (ctx.req.method === 'HEAD') {
    ctx.res.writeHead(200, { ...headers, 'Content-Length': '0' });
    ctx.res.end();
    return;
  }
  ctx.res.writeHead(200, { ...headers, 'Content-Length': '2' });
  ctx.res.end('OK');
}

async function version(ctx: RequestContext): Promise<void> {
  sendJson(ctx.res, 200, ctx.backend.version());
}

async function info(ctx: RequestContext): Promise<void> {
  sendJson(ctx.res, 200, await ctx.backend.info());
}

const DISK_USAGE_TYPES: Readonly<Record<string, keyof DiskUsage>> = {
  container: 'Containers',
  image: 'Images',
  volume: 'Volumes',
  'build-cache': 'BuildCache',
};

async function diskUsage(ctx: RequestContext): Promise<void> {
  const types = ctx.query.all('type');
  const wanted = new Set<keyof DiskUsage>();
  if (versionAtLeast(ctx.version, '1.42') && ctx.query.has('type')) {
    for (const t of types) {
      const key = DISK_USAGE_TYPES[t];
      if (key === undefined) throw invalidArgument(`unknown object type: ${t}`);
      wanted.add(key);
    }
  }
  const usage = await ctx.backend.diskUsage();
  if (wanted.size === 0) {
    sendJson(ctx.res, 200, usage);
    return;
  }
  const partial: Partial<DiskUsage> = {};
  if (wanted.has('Images')) {
    partial.LayersSize = usage.LayersSize;
    partial.Images = usage.Images;
  }
  if (wanted.has('Containers')) partial.Containers = usage.Containers;
  if (wanted.has('Volumes')) partial.Volumes = usage.Volumes;
  if (wanted.has('BuildCache')) partial.BuildCache = usage.BuildCache;
  sendJson(ctx.res, 200, partial);
}

/** The pre-1.52 fields the docker CLI (up to v25) still reads from events. */
function withLegacyFields(ev: EventMessage): EventMessage {
  if (ev.Type === 'container') {
    return { ...ev, status: ev.status ?? ev.Action, id: ev.id ?? ev.Actor.ID, from: ev.from ?? ev.Actor.Attributes['image'] ?? '' };
  }
  if (ev.Type === 'image') return { ...ev, status: ev.status ?? ev.Action, id: ev.id ?? ev.Actor.ID };
  return ev;
}

async function events(ctx: RequestContext): Promise<void> {
  const since = ctx.query.timestamp('since');
  const until = ctx.query.timestamp('until');
  if (until !== 0 && until < since) {
    throw invalidArgument(`\`since\` time (${ctx.query.get('since')}) cannot be after \`until\` time (${ctx.query.get('until')})`);
  }
  const filters = ctx.query.filters();
  const subscription = ctx.backend.subscribe({
    ...(since !== 0 ? { since } : {}),
    ...(until !== 0 ? { until } : {}),
    filters,
  });
  const out = new JsonLines(ctx.res);
  out.start();
  // The daemon ends the subscription at `until`; this timer only guards a future `until`
  // against a subscription that would not.
  const untilMs = until * 1000 - Date.now();
  const timer = until !== 0 && untilMs > 0 ? setTimeout(() => subscription.close(), untilMs + 1000) : undefined;
  try {
    const skipImageCreate = !versionAtLeast(ctx.version, '1.46');
    await forEachUntilAborted(subscription.events, ctx.signal, (ev) => {
      // Image create events came with API 1.46.
      if (skipImageCreate && ev.Type === 'image' && ev.Action === 'create') return;
      out.write(withLegacyFields(ev));
    });
  } finally {
    if (timer !== undefined) clearTimeout(timer);
    subscription.close();
  }
  out.end();
}

const AUTH_CONFIG: Extract<GoType, { kind: 'struct' }> = {
  kind: 'struct',
  name: 'AuthConfig',
  fields: {
    username: { kind: 'string' }, password: { kind: 'string' }, auth: { kind: 'string' },
    email: { kind: 'string' }, serveraddress: { kind: 'string' }, identitytoken: { kind: 'string' },
    registrytoken: { kind: 'string' },
  },
};

async function auth(ctx: RequestContext): Promise<void> {
  const authenticate = ctx.backend.authenticate;
  if (authenticate === undefined) {
    sendJson(ctx.res, 404, { message: 'page not found' });
    return;
  }
  checkJsonContentType(ctx.req.headers['content-type']);
  const body = decodeGoJson<Record<string, string | null>>(await ctx.readJson(), AUTH_CONFIG) ?? {};
  const credentials: RegistryAuth = {};
  for (const key of ['username', 'password', 'auth', 'identitytoken', 'registrytoken', 'serveraddress'] as const) {
    const value = body[key];
    if (typeof value === 'string' && value !== '') credentials[key] = value;
  }
  const result = await authenticate.call(ctx.backend, credentials);
  sendJson(ctx.res, 200, { Status: 'Login Succeeded', IdentityToken: result.IdentityToken ?? '' });
}

async function options(ctx: RequestContext): Promise<void> {
  sendStatus(ctx.res, 200);
}

export const systemRoutes: readonly Route[] = [
  route('OPTIONS', '/{anyroute:.*}', options),
  route('GET', '/_ping', ping),
  route('HEAD', '/_ping', ping),
  route('GET', '/events', events),
  route('GET', '/info', info),
  route('GET', '/version', version),
  route('GET', '/system/df', diskUsage),
  route('POST', '/auth', auth),
];
