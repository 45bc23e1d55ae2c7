// berthd's Engine API server: node:http behind a ConnectionTap on every accepted socket,
// one dispatcher for ordinary and Upgrade requests, Docker's headers and version check on
// every route, and a per-request catch — a request can fail, the server cannot.
import { channel } from 'node:diagnostics_channel';
import { createServer, ServerResponse, type IncomingMessage, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { Readable, type Duplex } from 'node:stream';
import { API_VERSION } from '../oci/engine-api.js';
import { invalidArgument } from '../util/errors.js';
import { ConnectionTap } from './connection-tap.js';
import { parseJsonBody, readLimitedBody, type ApiBackend, type HijackedConnection, type RequestContext } from './context.js';
import { errorMessage, PayloadTooLargeError } from './http-errors.js';
import { openListener, type ListenSpec, type Listener } from './listen.js';
import { QueryParams } from './query.js';
import { sendError, sendJson } from './respond.js';
import { matchRoute, splitVersion, type Route } from './router.js';
import { archiveRoutes } from './routes-archive.js';
import { containerRoutes } from './routes-containers.js';
import { execRoutes } from './routes-exec.js';
import { imageRoutes } from './routes-images.js';
import { buildRoutes } from './routes-build.js';
import { systemRoutes } from './routes-system.js';
import { volumeRoutes } from './routes-volumes.js';
import { networkRoutes } from './routes-networks.js';
import { negotiateVersion } from './versions.js';

export interface ApiServerOptions {
  /** One line per request (method, path, status, ms) and server errors. */
  log?: (line: string) => void;
  /** Limit for JSON request bodies; streamed bodies (load, import, archive PUT) have none. */
  maxBodyBytes?: number;
  /** The daemon's version, for the Server header. */
  serverVersion: string;
}

export interface ApiServer {
  /** The node:http server that parses requests (it never listens itself). */
  readonly http: Server;
  /** Opens every listener; on failure, closes those already opened. */
  listen(hosts: readonly ListenSpec[]): Promise<void>;
  /** Addresses being served, e.g. unix:///run/berth/berth.sock, tcp://127.0.0.1:2376. */
  addresses(): string[];
  /** Stops listening and drops every connection, which aborts their backend work. */
  close(): Promise<void>;
}

export interface RequestRecord {
  method: string;
  path: string;
  status: number;
  durationMs: number;
}

export const DEFAULT_MAX_BODY_BYTES = 2 * 1024 * 1024;
/** node:diagnostics_channel name: one RequestRecord per finished request. */
export const REQUEST_CHANNEL = 'berth:api:request';
const requestChannel = channel(REQUEST_CHANNEL);
/** nginx's "client closed request": the client left before the response was complete. */
const STATUS_CLIENT_CLOSED = 499;

const ROUTES: readonly Route[] = [...systemRoutes, ...containerRoutes, ...execRoutes, ...archiveRoutes, ...imageRoutes, ...buildRoutes, ...volumeRoutes, ...networkRoutes];

/** One request on its way through the server, from either node:http event. */
interface Exchange {
  req: IncomingMessage;
  res: ServerResponse;
  upgrade: boolean;
  body(): Readable;
  hijack(): HijackedConnection;
}

export function createApiServer(backend: ApiBackend, opts: ApiServerOptions): ApiServer {
  const log = opts.log ?? (() => undefined);
  const maxBodyBytes = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const commonHeaders: Readonly<Record<string, string>> = {
    'Api-Version': API_VERSION,
    'Docker-Experimental': 'false',
    Ostype: 'linux',
    Server: `Docker/${opts.serverVersion} (linux)`,
  };
  const sockets = new Set<Socket>();
  const listeners: Listener[] = [];

  const dispatch = async (ex: Exchange): Promise<void> => {
    const started = performance.now();
    const { req, res } = ex;
    let hijackStatus: number | undefined;
    const abort = new AbortController();
    for (const [name, value] of Object.entries(commonHeaders)) res.setHeader(name, value);
    res.once('close', () => {
      const completed = res.writableFinished || hijackStatus !== undefined;
      if (!res.writableFinished) abort.abort();
      const status = hijackStatus ?? (completed || res.headersSent ? res.statusCode : STATUS_CLIENT_CLOSED);
      record({ method: req.method ?? '', path: (req.url ?? '').split('?', 1)[0]!, status, durationMs: performance.now() - started });
    });
    try {
      const { version, path } = splitVersion(decodePath(req.url ?? '/'));
      const match = matchRoute(ROUTES, req.method ?? '', path);
      if (match === undefined) {
        sendJson(res, 404, { message: 'page not found' });
        return;
      }
      const ctx: RequestContext = {
        req,
        res,
        params: match.params,
        query: QueryParams.fromUrl(req.url ?? ''),
        version: negotiateVersion(version),
        backend,
        signal: abort.signal,
        upgrade: ex.upgrade,
        commonHeaders,
        body: () => ex.body(),
        readJson: async () => parseJsonBody(await readLimitedBody(req, ex.body(), maxBodyBytes)),
        hijack: (status: number) => {
          if (!match.route.hijacks) throw new Error(`${match.route.pattern} does not take connections over`);
          const conn = ex.hijack();
          hijackStatus = status;
          return conn;
        },
      };
      await match.route.handler(ctx);
    } catch (err) {
      if (hijackStatus !== undefined) return;
      // The rest of an oversized body is not worth reading: answer, then close.
      if (err instanceof PayloadTooLargeError) res.shouldKeepAlive = false;
      const status = sendError(res, err);
      if (status >= 500) log(`api: ${req.method} ${req.url}: ${errorMessage(err)}`);
    }
  };

  const record = (entry: RequestRecord): void => {
    log(`${entry.method} ${entry.path} ${entry.status} ${entry.durationMs.toFixed(1)}ms`);
    if (requestChannel.hasSubscribers) requestChannel.publish(entry);
  };

  // Node cuts off any request whose body takes over 5 minutes by default (requestTimeout);
  // dockerd has no such limit, and `docker load`, import and cp upload bodies of any size.
  // Headers must still arrive within a minute (headersTimeout), so idle half-open
  // connections cannot pile up.
  const http = createServer({ keepAliveTimeout: 65_000, requestTimeout: 0, headersTimeout: 60_000 });
  http.on('request', (req: IncomingMessage, res: ServerResponse) => {
    void dispatch(requestExchange(req, res));
  });
  http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    void upgradeExchange(req, socket, head, maxBodyBytes).then(
      (ex) => dispatch(ex),
      () => socket.destroy(),
    );
  });
  http.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    if (socket instanceof ConnectionTap && socket.hijacked) return;
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const body = JSON.stringify({ message: `malformed HTTP request: ${err.message}` });
    socket.end(`HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  });

  const accept = (socket: Socket): void => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    http.emit('connection', new ConnectionTap(socket));
  };

  return {
    http,
    async listen(hosts) {
      const opened: Listener[] = [];
      try {
        for (const spec of hosts) opened.push(await openListener(spec, accept));
      } catch (err) {
        await Promise.all(opened.map((l) => l.close()));
        throw err;
      }
      listeners.push(...opened);
    },
    addresses: () => listeners.map((l) => l.address),
    async close() {
      const closing = listeners.splice(0).map((l) => l.close());
      for (const socket of sockets) socket.destroy();
      await Promise.all(closing);
    },
  };
}

function decodePath(url: string): string {
  const path = url.split('?', 1)[0]!;
  try {
    return decodeURIComponent(path);
  } catch {
    throw invalidArgument(`invalid URL escape in ${JSON.stringify(path)}`);
  }
}

function requestExchange(req: IncomingMessage, res: ServerResponse): Exchange {
  return {
    req,
    res,
    upgrade: req.headers.upgrade !== undefined,
    body: () => req,
    hijack: () => {
      const tap = req.socket;
      if (!(tap instanceof ConnectionTap)) throw new Error('connection cannot be taken over');
      return tap.hijack();
    },
  };
}

/**
 * An Upgrade request arrives with node:http already detached from the socket, and its
 * body (exec start's JSON) still unread on it: read Content-Length bytes here, then serve
 * it through a ServerResponse of our own on the raw socket.
 */
async function upgradeExchange(req: IncomingMessage, socket: Duplex, head: Buffer, maxBodyBytes: number): Promise<Exchange> {
  if (!(socket instanceof ConnectionTap)) throw new Error('upgrade on a connection berth did not accept');
  const taken = socket.hijack();
  const raw = taken.socket;
  raw.on('error', () => raw.destroy());
  const res = new ServerResponse(req);
  res.shouldKeepAlive = false;
  res.assignSocket(raw);
  res.once('finish', () => raw.end());

  let pending: Buffer = Buffer.concat([head, taken.head]);
  let body: Buffer = Buffer.alloc(0);
  const length = Number(req.headers['content-length'] ?? 0);
  const bodyError = req.headers['transfer-encoding'] !== undefined
    ? invalidArgument('a chunked request body cannot be combined with Connection: Upgrade')
    : !Number.isSafeInteger(length) || length < 0
      ? invalidArgument('invalid Content-Length')
      : length > maxBodyBytes
        ? new PayloadTooLargeError(`request body is too large: the limit for JSON bodies is ${maxBodyBytes} bytes`)
        : undefined;
  if (bodyError === undefined && length > 0) {
    pending = await readAtLeast(raw, pending, length);
    body = pending.subarray(0, length);
    pending = pending.subarray(length);
  }
  return {
    req,
    res,
    upgrade: true,
    body: () => {
      if (bodyError !== undefined) throw bodyError;
      return Readable.from(body.length > 0 ? [body] : []);
    },
    hijack: () => ({ socket: raw, head: pending }),
  };
}

function readAtLeast(socket: Socket, have: Buffer, wanted: number): Promise<Buffer> {
  if (have.length >= wanted) return Promise.resolve(have);
  return new Promise((resolve, reject) => {
    const chunks = [have];
    let total = have.length;
    const cleanup = (): void => {
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('close', onEnd);
      socket.pause();
    };
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
      total += chunk.length;
      if (total >= wanted) {
        cleanup();
        resolve(Buffer.concat(chunks));
      }
    };
    const onEnd = (): void => {
      cleanup();
      reject(new Error('connection closed before the request body was complete'));
    };
    socket.on('data', onData);
    socket.on('end', onEnd);
    socket.on('close', onEnd);
    socket.resume();
  });
}
