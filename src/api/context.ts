// What a route handler gets: the request, its negotiated version, parsed query, the body
// (streamed, or read as size-limited JSON), an AbortSignal that fires when the client goes
// away, and — for attach and exec start — the means to take the connection over.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import type { Backend, RegistryAuth } from '../daemon/backend.js';
import { invalidArgument } from '../util/errors.js';
import { PayloadTooLargeError } from './http-errors.js';
import type { QueryParams } from './query.js';

/** Operations the API serves when the daemon offers them; absent ones answer 404 or "nothing to do". */
export interface OptionalBackend {
  /** POST /auth (`docker login`): checks the credentials against the registry. */
  authenticate?(auth: RegistryAuth): Promise<{ IdentityToken?: string }>;
}

export type ApiBackend = Backend & OptionalBackend;

export interface HijackedConnection {
  socket: Socket;
  /** Bytes the client sent after the request that are already read: the start of its input. */
  head: Buffer;
}

export interface RequestContext {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly params: Readonly<Record<string, string>>;
  readonly query: QueryParams;
  /** The negotiated API version ("1.47" when the path had no prefix). */
  readonly version: string;
  readonly backend: ApiBackend;
  /** Aborts when the client disconnects before the response is complete. */
  readonly signal: AbortSignal;
  /** The client asked for `Connection: Upgrade` / `Upgrade: tcp`. */
  readonly upgrade: boolean;
  /** Headers every response carries (Api-Version, Server, ...), for hand-written heads. */
  readonly commonHeaders: Readonly<Record<string, string>>;
  /** The request body as a stream (image load, import, archive PUT): never buffered. */
  body(): Readable;
  /** The body parsed as JSON (undefined when empty), at most maxBodyBytes. */
  readJson(): Promise<unknown>;
  /** Takes the raw connection; the handler then owns it and must close it. */
  hijack(status: number): HijackedConnection;
}

/** Reads a whole body, refusing more than `limit` bytes (by Content-Length up front, else while reading). */
export async function readLimitedBody(req: IncomingMessage, body: Readable, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? Number.NaN);
  if (Number.isFinite(declared) && declared > limit) throw tooLarge(limit);
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of body) {
    const buf = chunk as Buffer;
    total += buf.length;
    if (total > limit) throw tooLarge(limit);
    chunks.push(buf);
  }
  return Buffer.concat(chunks);
}

function tooLarge(limit: number): PayloadTooLargeError {
  return new PayloadTooLargeError(`request body is too large: the limit for JSON bodies is ${limit} bytes`);
}

/** moby's CheckForJSON, lenient about a missing Content-Type (some clients send none). */
export function checkJsonContentType(contentType: string | undefined): void {
  if (contentType === undefined || contentType.trim() === '') return;
  const media = contentType.split(';', 1)[0]!.trim().toLowerCase();
  if (media !== 'application/json') {
    throw invalidArgument(`unsupported Content-Type header (${contentType}): must be 'application/json'`);
  }
}

/** Parses a JSON body; the message is moby's "invalid JSON: ..." wording. */
export function parseJsonBody(raw: Buffer): unknown {
  const text = raw.toString('utf8');
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw invalidArgument(`invalid JSON: ${(err as Error).message}`);
  }
}
