// Writing responses: every one carries the API version header (set by the server before
// dispatch), errors are the spec's JSON body, and bodies always have a Content-Length
// so connections stay reusable.
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { errorBody, type RegistryError } from '../errors.js';
import type { RegistryStorage } from './storage.js';
import type { Uploads } from './uploads.js';

export interface ServerPolicy {
  readOnly: boolean;
  deleteEnabled: boolean;
}

/** What a handler gets: the exchange, its parsed query, and the registry's parts. */
export interface Ctx {
  req: IncomingMessage;
  res: ServerResponse;
  query: URLSearchParams;
  storage: RegistryStorage;
  uploads: Uploads;
  policy: ServerPolicy;
}

export function send(res: ServerResponse, status: number, headers: OutgoingHttpHeaders = {}, body?: string | Buffer): void {
  const data = body === undefined ? undefined : typeof body === 'string' ? Buffer.from(body) : body;
  res.writeHead(status, { ...headers, 'Content-Length': String(data?.length ?? 0) });
  res.end(data);
}

export function sendJson(res: ServerResponse, status: number, value: unknown, headers: OutgoingHttpHeaders = {}): void {
  send(res, status, { 'Content-Type': 'application/json', ...headers }, JSON.stringify(value));
}

export function sendError(res: ServerResponse, err: RegistryError): void {
  send(res, err.status, { 'Content-Type': 'application/json', ...err.headers }, errorBody(err.entries()));
}
