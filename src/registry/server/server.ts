// The HTTP(S) server of `berth registry serve`: one handler per request that routes,
// authenticates, enforces --read-only and --delete-enabled, and turns every failure into
// the spec's JSON error — a request can fail, the server cannot (nothing escapes the
// per-request catch, and a response already under way is cut off rather than mangled).
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { BerthError, conflict } from '../../util/errors.js';
import { acquireLock, type FileLock } from '../../util/lockfile.js';
import { RegistryError, registryError } from '../errors.js';
import type { Htpasswd } from './auth.js';
import { deleteBlob, getBlob } from './blobs.js';
import { deleteManifest, getManifest, putManifest } from './manifests.js';
import { checkRepositoryName } from './names.js';
import { listReferrers } from './referrers.js';
import { sendError, sendJson, type Ctx, type ServerPolicy } from './respond.js';
import { ROUTE_METHODS, matchRoute, type Route } from './router.js';
import { RegistryStorage } from './storage.js';
import { catalog, listTags } from './tags.js';
import { cancelUpload, getUploadStatus, patchUpload, putUpload, startUpload } from './upload-handlers.js';
import { Uploads } from './uploads.js';

export interface RegistryServerOptions {
  root: string;
  host: string;
  port: number;
  tls?: { cert: Buffer; key: Buffer };
  htpasswd?: Htpasswd;
  readOnly?: boolean;
  deleteEnabled?: boolean;
  /** Where errors are reported; stderr by default. */
  log?: (line: string) => void;
}

export interface RunningRegistry {
  /** Base URL, e.g. http://127.0.0.1:40123 (the actual port when 0 was asked). */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly root: string;
  /** Stop accepting, let requests in flight finish (up to graceMs), release the lock. */
  close(graceMs?: number): Promise<void>;
}

/** Sessions older than this are removed when a writable server starts (distribution: a week). */
const STALE_UPLOAD_MS = 7 * 24 * 3600 * 1000;
const WRITE_METHODS: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export async function startRegistry(opts: RegistryServerOptions): Promise<RunningRegistry> {
  const log = opts.log ?? ((line: string) => void process.stderr.write(`${line}\n`));
  const policy: ServerPolicy = { readOnly: opts.readOnly === true, deleteEnabled: opts.deleteEnabled === true && opts.readOnly !== true };
  const storage = new RegistryStorage(opts.root);
  const uploads = new Uploads(storage);

  // A read-only server changes nothing, so it takes no lock and gc may run beside it.
  let lock: FileLock | undefined;
  if (!policy.readOnly) {
    await storage.init();
    lock = await acquireLock(storage.lockPath, {
      busy: (h) => conflict(`registry root ${opts.root} is locked by process ${h.pid} (another writable berth registry or a gc); serve it --read-only or stop that process`),
    });
    try {
      await storage.clearTmp();
      await uploads.purgeStale(STALE_UPLOAD_MS);
    } catch (err) {
      await lock.release();
      throw err;
    }
  }

  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    void handle({ req, res, query: new URLSearchParams(), storage, uploads, policy }, opts.htpasswd, log);
  };
  const server: Server = opts.tls ? createHttpsServer({ cert: opts.tls.cert, key: opts.tls.key }, handler) : createHttpServer(handler);
  // Clients pulling several layers keep their connections; an upload may take long, so no
  // whole-request deadline, but a connection that says nothing for 5 minutes is dropped.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  server.requestTimeout = 0;
  server.setTimeout(300_000);
  server.on('clientError', (err: Error & { code?: string }, socket: Socket) => {
    if (socket.writable && err.code !== 'ECONNRESET') socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    else socket.destroy();
  });

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port, opts.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    await lock?.release();
    throw new BerthError('Unavailable', `cannot listen on ${formatHostPort(opts.host, opts.port)}: ${(err as Error).message}`, { cause: err });
  }
  server.on('error', (err) => log(`berth registry: server error: ${err.message}`));

  const address = server.address() as AddressInfo;
  const scheme = opts.tls ? 'https' : 'http';
  let closing: Promise<void> | undefined;
  return {
    url: `${scheme}://${formatHostPort(address.address, address.port)}`,
    host: address.address,
    port: address.port,
    root: opts.root,
    close(graceMs = 10_000): Promise<void> {
      closing ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        const timer = setTimeout(() => server.closeAllConnections(), graceMs);
        await closed;
        clearTimeout(timer);
        await lock?.release();
      })();
      return closing;
    },
  };
}

export function formatHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

async function handle(ctx: Ctx, htpasswd: Htpasswd | undefined, log: (line: string) => void): Promise<void> {
  const { req, res } = ctx;
  res.setHeader('Docker-Distribution-API-Version', 'registry/2.0');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  try {
    // Not WHATWG URL parsing: it would resolve "a/../b" and hand us a name nobody sent.
    const target = req.url ?? '/';
    const q = target.indexOf('?');
    const path = q < 0 ? target : target.slice(0, q);
    ctx.query = new URLSearchParams(q < 0 ? '' : target.slice(q + 1));
    if (htpasswd !== undefined) await htpasswd.authenticate(req.headers.authorization);
    const route = matchRoute(path);
    if (route === undefined) throw registryError('UNSUPPORTED', 'no such endpoint', { status: 404, detail: { path: path.slice(0, 300) } });
    const method = req.method ?? 'GET';
    if (!ROUTE_METHODS[route.kind].includes(method)) throw registryError('UNSUPPORTED', `${method} is not supported here`);
    if ('name' in route) checkRepositoryName(route.name);
    if (WRITE_METHODS.has(method) && ctx.policy.readOnly) throw registryError('UNSUPPORTED', 'the registry is read-only');
    await dispatch(ctx, route, method);
  } catch (err) {
    const e = toRegistryError(err);
    if (e.status >= 500) log(`berth registry: ${req.method} ${req.url}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    if (res.headersSent) {
      res.destroy();
      return;
    }
    // Node reads and drops a body we did not read, keeping the connection; for a huge
    // declared body closing is cheaper (the client may then miss the answer, but it
    // sent far more than anything we refuse early would need).
    if (!req.complete && Number(req.headers['content-length'] ?? 0) > 64 * 1024 * 1024) res.setHeader('Connection', 'close');
    try {
      sendError(res, e);
    } catch (sendErr) {
      log(`berth registry: cannot send error response: ${(sendErr as Error).message}`);
      res.destroy();
    }
  }
}

async function dispatch(ctx: Ctx, route: Route, method: string): Promise<void> {
  switch (route.kind) {
    case 'base':
      return sendJson(ctx.res, 200, {});
    case 'catalog':
      return catalog(ctx);
    case 'tags':
      return listTags(ctx, route.name);
    case 'referrers':
      return listReferrers(ctx, route.name, route.digest);
    case 'manifest':
      if (method === 'PUT') return putManifest(ctx, route.name, route.reference);
      if (method === 'DELETE') return deleteManifest(ctx, route.name, route.reference);
      return getManifest(ctx, route.name, route.reference);
    case 'blob':
      if (method === 'DELETE') return deleteBlob(ctx, route.name, route.digest);
      return getBlob(ctx, route.name, route.digest);
    case 'uploads':
      return startUpload(ctx, route.name);
    case 'upload':
      if (method === 'PATCH') return patchUpload(ctx, route.name, route.id);
      if (method === 'PUT') return putUpload(ctx, route.name, route.id);
      if (method === 'DELETE') return cancelUpload(ctx, route.name, route.id);
      return getUploadStatus(ctx, route.name, route.id);
  }
}

function toRegistryError(err: unknown): RegistryError {
  if (err instanceof RegistryError) return err;
  if (err instanceof BerthError) {
    const status = err.code === 'Unavailable' ? 503 : 500;
    return registryError('UNKNOWN', err.message, { status, cause: err });
  }
  return registryError('UNKNOWN', 'internal error', { cause: err });
}
