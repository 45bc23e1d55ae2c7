// One HTTP(S) exchange with a registry: keep-alive agents per TLS identity, redirects
// (dropping credentials when the host changes), timeouts, bounded body readers.
// Auth and endpoint choice live above this, in session.ts.
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { Readable } from 'node:stream';
import { rootCertificates } from 'node:tls';
import { pipeline } from 'node:stream/promises';
import { invalidArgument, unavailable } from '../../util/errors.js';
import type { Method, RegistryResponse, RequestBody } from './types.js';

export interface TlsIdentity {
  /** Extra CAs (PEM) trusted besides the system's. */
  ca?: string[];
  cert?: string;
  key?: string;
  /** false for an insecure registry reached over HTTPS. */
  verify: boolean;
}

export interface HttpRequest {
  method: Method;
  url: URL;
  headers: OutgoingHttpHeaders;
  body?: RequestBody;
  contentLength?: number;
  tls: TlsIdentity;
  signal?: AbortSignal;
}

const MAX_REDIRECTS = 5;
/** No bytes for this long on an open connection means the peer is gone. */
const IDLE_TIMEOUT_MS = 60_000;

const agents = new Map<string, HttpAgent>();

function agentFor(url: URL, tls: TlsIdentity): HttpAgent {
  const key = url.protocol === 'http:' ? 'http' : `https|${tls.verify}|${(tls.ca ?? []).join('')}|${tls.cert ?? ''}`;
  let agent = agents.get(key);
  if (!agent) {
    const common = { keepAlive: true, maxSockets: 16, maxFreeSockets: 8, scheduling: 'lifo' as const };
    agent =
      url.protocol === 'http:'
        ? new HttpAgent(common)
        : new HttpsAgent({
            ...common,
            rejectUnauthorized: tls.verify,
            // Giving `ca` replaces Node's roots; a certs.d CA adds to them, as in Docker.
            ...(tls.ca ? { ca: [...rootCertificates, ...tls.ca] } : {}),
            ...(tls.cert && tls.key ? { cert: tls.cert, key: tls.key } : {}),
          });
    agents.set(key, agent);
  }
  return agent;
}


/** Close idle keep-alive sockets (tests, shutdown). */
export function closeIdleConnections(): void {
  for (const agent of agents.values()) agent.destroy();
  agents.clear();
}

/** Send a request, following redirects. The caller owns the returned response body. */
export async function send(req: HttpRequest): Promise<RegistryResponse> {
  let url = req.url;
  let method = req.method;
  let body = req.body;
  const headers = { ...req.headers };
  for (let hop = 0; ; hop++) {
    const res = await sendOnce({ ...req, url, method, headers, body });
    const location = res.headers.location;
    if (!isRedirect(res.statusCode ?? 0) || !location) return wrap(res, url);
    if (hop >= MAX_REDIRECTS) {
      res.resume();
      throw unavailable(`${req.url.host}: too many redirects`);
    }
    res.resume();
    const next = new URL(location, url);
    if (next.protocol !== 'http:' && next.protocol !== 'https:') throw invalidArgument(`${req.url.host}: redirect to unsupported URL ${next.protocol}`);
    if (next.host !== url.host) delete headers.authorization; // credentials are for the registry, not its storage backend
    if (res.statusCode === 303 || ((res.statusCode === 301 || res.statusCode === 302) && method === 'POST')) {
      method = 'GET';
      body = undefined;
      delete headers['content-length'];
      delete headers['content-type'];
    }
    url = next;
  }
}

function isRedirect(status: number): boolean {
  return status === 301 || status === 302 || status === 303 || status === 307 || status === 308;
}

function sendOnce(req: HttpRequest): Promise<IncomingMessage> {
  const { url } = req;
  const headers: OutgoingHttpHeaders = { 'user-agent': 'berth/0.1', ...req.headers };
  const length = Buffer.isBuffer(req.body) ? req.body.length : req.contentLength;
  if (length !== undefined) headers['content-length'] = length;
  else if (req.body) headers['transfer-encoding'] = 'chunked';
  else if (req.method === 'PUT' || req.method === 'POST' || req.method === 'PATCH') headers['content-length'] = 0;
  const requestFn = url.protocol === 'http:' ? httpRequest : httpsRequest;
  return new Promise<IncomingMessage>((resolve, reject) => {
    const cr = requestFn(url, { method: req.method, headers, agent: agentFor(url, req.tls), ...(req.signal ? { signal: req.signal } : {}) });
    cr.setTimeout(IDLE_TIMEOUT_MS, () => cr.destroy(new Error(`no answer for ${IDLE_TIMEOUT_MS / 1000}s`)));
    cr.once('error', (err) => reject(networkError(url, err)));
    cr.once('response', (res) => {
      res.setTimeout(IDLE_TIMEOUT_MS, () => res.destroy(networkError(url, new Error(`stalled for ${IDLE_TIMEOUT_MS / 1000}s`))));
      resolve(res);
    });
    writeBody(cr, req.body).catch((err: unknown) => cr.destroy(err as Error));
  });
}

async function writeBody(cr: import('node:http').ClientRequest, body: RequestBody | undefined): Promise<void> {
  if (body === undefined) {
    cr.end();
    return;
  }
  if (Buffer.isBuffer(body)) {
    cr.end(body);
    return;
  }
  await pipeline(Readable.from(body()), cr);
}

/** Node's codes for a peer certificate that does not verify: a configuration problem, not a flaky network. */
const CERTIFICATE_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT', 'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID', 'CERT_UNTRUSTED', 'CERT_REJECTED', 'ERR_TLS_CERT_ALTNAME_INVALID',
]);

export function isCertificateError(err: unknown): boolean {
  const cause = err instanceof Error && err.name.startsWith('BerthError') ? (err as Error & { cause?: unknown }).cause : err;
  const code = (cause as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && CERTIFICATE_CODES.has(code);
}

export function networkError(url: URL, err: unknown): Error {
  const e = err as NodeJS.ErrnoException;
  if (e?.name === 'AbortError') return e;
  const why = e?.code ? `${e.code}: ${e.message}` : String(e?.message ?? err);
  return unavailable(`${url.protocol}//${url.host}: ${why}`, err);
}

function wrap(res: IncomingMessage, url: URL): RegistryResponse {
  const read = async (maxBytes: number): Promise<Buffer> => {
    const declared = Number(res.headers['content-length'] ?? NaN);
    if (declared > maxBytes) {
      res.destroy();
      throw invalidArgument(`${url.host}: response of ${declared} bytes is larger than the ${maxBytes} allowed`);
    }
    const parts: Buffer[] = [];
    let total = 0;
    try {
      for await (const chunk of res) {
        total += (chunk as Buffer).length;
        if (total > maxBytes) {
          res.destroy();
          throw invalidArgument(`${url.host}: response is larger than the ${maxBytes} bytes allowed`);
        }
        parts.push(chunk as Buffer);
      }
    } catch (err) {
      throw isLocalError(err) ? err : networkError(url, err);
    }
    return Buffer.concat(parts, total);
  };
  return {
    status: res.statusCode ?? 0,
    headers: res.headers,
    url,
    body: res,
    bytes: read,
    text: async (max) => (await read(max)).toString('utf8'),
    discard: () => {
      // A small remainder keeps the socket for reuse; a large one is cheaper to drop.
      const len = Number(res.headers['content-length'] ?? NaN);
      if (len <= 64 * 1024) res.resume();
      else res.destroy();
    },
  };
}

function isLocalError(err: unknown): boolean {
  return err instanceof Error && err.name.startsWith('BerthError');
}
