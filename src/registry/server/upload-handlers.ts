// /v2/<name>/blobs/uploads/[<uuid>]: starting (plain, monolithic, cross-repository
// mount), chunks, completion, status and cancellation — the HTTP side of uploads.ts.
// Locations are paths relative to the host the client used (the spec allows it, and a
// registry behind a proxy cannot know its public address).
import { RegistryError, registryError } from '../errors.js';
import type { Digest } from '../../util/digest.js';
import { hasBody } from './body.js';
import { checkDigest, isRepositoryName } from './names.js';
import { send, type Ctx } from './respond.js';
import { rangeHeader, type ChunkRange, type UploadStatus } from './uploads.js';

export async function startUpload(ctx: Ctx, name: string): Promise<void> {
  const mount = ctx.query.get('mount');
  const from = ctx.query.get('from');
  if (mount !== null && from !== null && (await tryMount(ctx, name, mount, from))) return;

  const digestParam = ctx.query.get('digest');
  if (digestParam !== null) {
    const digest = checkDigest(digestParam);
    await ctx.uploads.putWhole(name, digest, ctx.req);
    return created(ctx, name, digest);
  }
  if (hasBody(ctx.req)) {
    throw registryError('DIGEST_INVALID', 'a POST with a body is a monolithic upload and needs ?digest=');
  }
  const status = await ctx.uploads.create(name);
  send(ctx.res, 202, progressHeaders(name, status));
}

/** Link a blob of another repository into this one; false to fall back to a new upload. */
async function tryMount(ctx: Ctx, name: string, mount: string, from: string): Promise<boolean> {
  // As distribution does, a mount that cannot happen is not an error: the client uploads.
  let digest: Digest;
  try {
    digest = checkDigest(mount);
  } catch {
    return false;
  }
  if (!isRepositoryName(from)) return false;
  if (!(await ctx.storage.hasBlobLink(from, digest))) return false;
  if ((await ctx.storage.blobSize(digest)) === undefined) return false;
  await ctx.storage.linkBlob(name, digest);
  created(ctx, name, digest);
  return true;
}

export async function patchUpload(ctx: Ctx, name: string, id: string): Promise<void> {
  const range = parseContentRange(ctx.req.headers['content-range']);
  const status = await withUploadHeaders(name, id, () => ctx.uploads.append(name, id, ctx.req, range));
  send(ctx.res, 202, progressHeaders(name, status));
}

export async function putUpload(ctx: Ctx, name: string, id: string): Promise<void> {
  const digestParam = ctx.query.get('digest');
  if (digestParam === null) throw registryError('DIGEST_INVALID', 'digest missing: completing an upload needs ?digest=');
  const digest = checkDigest(digestParam);
  const range = parseContentRange(ctx.req.headers['content-range']);
  const body = hasBody(ctx.req) ? ctx.req : undefined;
  await withUploadHeaders(name, id, () => ctx.uploads.complete(name, id, digest, body, range));
  created(ctx, name, digest);
}

export async function getUploadStatus(ctx: Ctx, name: string, id: string): Promise<void> {
  const status = await ctx.uploads.status(name, id);
  send(ctx.res, 204, progressHeaders(name, status));
}

export async function cancelUpload(ctx: Ctx, name: string, id: string): Promise<void> {
  await ctx.uploads.cancel(name, id);
  send(ctx.res, 204, { 'Docker-Upload-UUID': id });
}

function created(ctx: Ctx, name: string, digest: Digest): void {
  send(ctx.res, 201, { Location: `/v2/${name}/blobs/${digest}`, 'Docker-Content-Digest': digest });
}

function progressHeaders(name: string, status: UploadStatus): Record<string, string> {
  return {
    Location: `/v2/${name}/blobs/uploads/${status.id}`,
    Range: rangeHeader(status.size),
    'Docker-Upload-UUID': status.id,
  };
}

/** A 416 tells the client where to continue: add the session's Location to it. */
async function withUploadHeaders<T>(name: string, id: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof RegistryError && err.status === 416) {
      throw registryError(err.registryCode, err.message, {
        status: err.status,
        detail: err.detail,
        headers: { ...err.headers, Location: `/v2/${name}/blobs/uploads/${id}`, 'Docker-Upload-UUID': id },
      });
    }
    throw err;
  }
}

/**
 * Content-Range of a chunk: "<start>-<end>" as the spec writes it; "bytes <start>-<end>/<total>"
 * (RFC 9110) and "bytes=<start>-<end>" as some clients send it.
 */
export function parseContentRange(header: string | undefined): ChunkRange | undefined {
  if (header === undefined) return undefined;
  const m = /^(?:bytes[ =])?(\d+)-(\d+)(?:\/(?:\d+|\*))?$/.exec(header.trim());
  if (m === null) throw registryError('BLOB_UPLOAD_INVALID', 'invalid Content-Range: want <start>-<end>', { status: 416 });
  const start = Number(m[1]);
  const end = Number(m[2]);
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || end < start) {
    throw registryError('BLOB_UPLOAD_INVALID', 'invalid Content-Range: want <start>-<end> with end >= start', { status: 416 });
  }
  return { start, end };
}
