// The contract between the registry transport (endpoints, TLS, auth, retries) and the
// operations built on it (resolve, pull, push). Operations speak in /v2/ paths and scopes;
// the transport decides which host, which credentials and which token answer them.
import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';

export type Action = 'pull' | 'push' | 'delete';

/** An access scope, as in a Bearer token request: repository:<name>:<actions>. */
export interface Scope {
  repository: string;
  actions: readonly Action[];
}

export type Method = 'GET' | 'HEAD' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';

/** A request body must be replayable: a 401 or a redirect sends it again. */
export type RequestBody = Buffer | (() => AsyncIterable<Uint8Array>);

export interface RegistryRequest {
  method: Method;
  /** A path with its query ("/v2/library/busybox/manifests/latest"), or an absolute URL from a Location header. */
  path: string;
  headers?: Record<string, string>;
  body?: RequestBody;
  /** Length of a streamed body; a Buffer's length is known. */
  contentLength?: number;
  scopes: readonly Scope[];
  signal?: AbortSignal;
}

export interface RegistryResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** The URL that answered, after redirects. */
  url: URL;
  /** The body; read it, or call discard(). */
  body: Readable;
  /** The body as text, refusing more than maxBytes. */
  text(maxBytes: number): Promise<string>;
  /** The body as bytes, refusing more than maxBytes. */
  bytes(maxBytes: number): Promise<Buffer>;
  discard(): void;
}

/** One way to reach a registry: the registry itself, or a mirror of it. */
export interface Endpoint {
  /** Base URL, e.g. https://registry-1.docker.io or http://127.0.0.1:5000. */
  base: URL;
  /** A mirror serves pulls only and falls back to the next endpoint on failure. */
  mirror: boolean;
}

/** Talks to one endpoint with the credentials of one registry, caching tokens per scope. */
export interface RegistrySession {
  readonly endpoint: Endpoint;
  /** The registry name the references use (docker.io, localhost:5000, …). */
  readonly registry: string;
  request(req: RegistryRequest): Promise<RegistryResponse>;
}

/** What operations need to find their way: endpoints in order of preference and a session for each. */
export interface RegistryResolver {
  /** Pull endpoints: mirrors first, then the registry. Push: the registry only. */
  endpoints(registry: string, purpose: 'pull' | 'push'): Endpoint[];
  session(registry: string, endpoint: Endpoint): RegistrySession;
}
