// The distribution spec's blob upload protocol, one step per function: does the registry
// have the blob (HEAD), can it mount it from another repository (POST ?mount=&from=),
// start an upload (POST), send the bytes in one PUT or in PATCH chunks, and close it
// (PUT ?digest=). Upload URLs come from Location headers — relative or absolute, with
// query parameters (the registry's upload state) that must be kept.
import type { Descriptor } from '../../oci/image-spec.js';
import type { Reference } from '../../images/reference.js';
import { invalidArgument } from '../../util/errors.js';
import { unexpectedResponse } from './errors.js';
import { header } from './resolve.js';
import type { RegistryResponse, RegistrySession, Scope } from './types.js';

/** Bytes start..end (inclusive) of the blob being uploaded, as often as asked (a 401 or redirect replays them). */
export type BlobReader = (start: number, end: number) => AsyncIterable<Uint8Array>;

export interface UploadContext {
  session: RegistrySession;
  /** The repository pushed to. */
  ref: Reference;
  signal?: AbortSignal;
}

export function pushScopes(ref: Reference, mountFrom?: string): Scope[] {
  const scopes: Scope[] = [{ repository: ref.path, actions: ['pull', 'push'] }];
  if (mountFrom !== undefined) scopes.push({ repository: mountFrom, actions: ['pull'] });
  return scopes;
}

function signalOf(ctx: UploadContext): { signal?: AbortSignal } {
  return ctx.signal ? { signal: ctx.signal } : {};
}

/** Whether the repository already has the blob. */
export async function blobExists(ctx: UploadContext, desc: Descriptor): Promise<boolean> {
  const res = await ctx.session.request({ method: 'HEAD', path: `/v2/${ctx.ref.path}/blobs/${desc.digest}`, scopes: pushScopes(ctx.ref), ...signalOf(ctx) });
  res.discard();
  if (res.status === 200) return true;
  if (res.status === 404) return false;
  throw await unexpectedResponse('HEAD', res);
}

export type MountResult = { mounted: true } | { mounted: false; location?: string };

/**
 * Ask the registry to link the blob from repository `from` (201). A 202 means it would not
 * (not there, or no access) and started an ordinary upload instead; any refusal is not an
 * error, since uploading still works.
 */
export async function tryMount(ctx: UploadContext, desc: Descriptor, from: string): Promise<MountResult> {
  const query = `mount=${encodeURIComponent(desc.digest)}&from=${encodeURIComponent(from)}`;
  const res = await ctx.session.request({ method: 'POST', path: `/v2/${ctx.ref.path}/blobs/uploads/?${query}`, scopes: pushScopes(ctx.ref, from), ...signalOf(ctx) });
  res.discard();
  if (res.status === 201) return { mounted: true };
  const location = header(res, 'location');
  if (res.status === 202 && location) return { mounted: false, location: uploadUrl(ctx, res, location) };
  return { mounted: false };
}

/** Give up an upload we will not use (a mount's fallback upload), so the registry can forget it. */
export async function cancelUpload(ctx: UploadContext, location: string): Promise<void> {
  const res = await ctx.session.request({ method: 'DELETE', path: location, scopes: pushScopes(ctx.ref), ...signalOf(ctx) }).catch(() => undefined);
  res?.discard();
}

/** POST …/blobs/uploads/: a new upload session, returned as the URL to send to. */
export async function startUpload(ctx: UploadContext): Promise<string> {
  const res = await ctx.session.request({ method: 'POST', path: `/v2/${ctx.ref.path}/blobs/uploads/`, scopes: pushScopes(ctx.ref), ...signalOf(ctx) });
  const location = header(res, 'location');
  if (res.status !== 202 || !location) throw await unexpectedResponse('POST', res);
  res.discard();
  return uploadUrl(ctx, res, location);
}

export interface SendOptions {
  /** Send in PATCH chunks of this many bytes; otherwise one PUT. */
  chunkSize?: number;
  /** Bytes sent so far of the blob. */
  onBytes?: (sent: number, total: number) => void;
}

/** Send the blob's bytes to an upload and close it with its digest. */
export async function sendBlob(ctx: UploadContext, location: string, desc: Descriptor, read: BlobReader, opts: SendOptions = {}): Promise<void> {
  if (opts.chunkSize !== undefined && (!Number.isInteger(opts.chunkSize) || opts.chunkSize < 1)) {
    throw invalidArgument(`chunk size must be a positive integer, got ${opts.chunkSize}`);
  }
  const res = opts.chunkSize === undefined ? await putWhole(ctx, location, desc, read, opts) : await putChunked(ctx, location, desc, read, opts.chunkSize, opts);
  if (res.status !== 201) throw await unexpectedResponse('PUT', res);
  res.discard();
  const claimed = header(res, 'docker-content-digest');
  if (claimed !== undefined && claimed !== desc.digest) {
    throw invalidArgument(`the registry stored blob ${desc.digest} as ${claimed}`);
  }
}

/** Monolithic upload: PUT <location>&digest=<d> with the whole blob. */
function putWhole(ctx: UploadContext, location: string, desc: Descriptor, read: BlobReader, opts: SendOptions): Promise<RegistryResponse> {
  return ctx.session.request({
    method: 'PUT',
    path: withQuery(location, 'digest', desc.digest),
    headers: { 'content-type': 'application/octet-stream' },
    body: () => counting(read(0, desc.size - 1), 0, desc.size, opts.onBytes),
    contentLength: desc.size,
    scopes: pushScopes(ctx.ref),
    ...signalOf(ctx),
  });
}

/** Chunked upload: PATCH each chunk with its Content-Range (following each new Location), then PUT ?digest=. */
async function putChunked(ctx: UploadContext, location: string, desc: Descriptor, read: BlobReader, chunkSize: number, opts: SendOptions): Promise<RegistryResponse> {
  let url = location;
  for (let start = 0; start < desc.size; start += chunkSize) {
    const end = Math.min(start + chunkSize, desc.size) - 1;
    const res = await ctx.session.request({
      method: 'PATCH',
      path: url,
      headers: { 'content-type': 'application/octet-stream', 'content-range': `${start}-${end}` },
      body: () => counting(read(start, end), start, desc.size, opts.onBytes),
      contentLength: end - start + 1,
      scopes: pushScopes(ctx.ref),
      ...signalOf(ctx),
    });
    const next = header(res, 'location');
    if (res.status !== 202 || !next) throw await unexpectedResponse('PATCH', res);
    res.discard();
    url = uploadUrl(ctx, res, next);
  }
  return ctx.session.request({ method: 'PUT', path: withQuery(url, 'digest', desc.digest), scopes: pushScopes(ctx.ref), ...signalOf(ctx) });
}

async function* counting(chunks: AsyncIterable<Uint8Array>, start: number, total: number, onBytes?: (sent: number, total: number) => void): AsyncGenerator<Uint8Array> {
  let sent = start;
  for await (const chunk of chunks) {
    sent += chunk.length;
    onBytes?.(sent, total);
    yield chunk;
  }
}

/**
 * A Location as the session takes it: on the registry's own host, the path and query
 * (so the session keeps its scheme and credentials); elsewhere, the absolute URL.
 */
export function uploadUrl(ctx: UploadContext, res: RegistryResponse, location: string): string {
  const url = new URL(location, res.url);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw invalidArgument(`the registry gave an upload location that is not HTTP: ${location.slice(0, 200)}`);
  return url.host === ctx.session.endpoint.base.host ? `${url.pathname}${url.search}` : url.href;
}

/** Append a query parameter, leaving the registry's own parameters byte for byte as they were. */
export function withQuery(url: string, key: string, value: string): string {
  const hash = url.indexOf('#');
  const base = hash >= 0 ? url.slice(0, hash) : url;
  const sep = base.includes('?') ? (base.endsWith('?') || base.endsWith('&') ? '' : '&') : '?';
  return `${base}${sep}${encodeURIComponent(key)}=${encodeURIComponent(value)}`;
}
