// GET/HEAD/DELETE /v2/<name>/blobs/<digest>. The hot path of every pull: two small
// async filesystem calls (the repository link, open+fstat) and then the file streams
// out in 1 MiB reads with a Content-Length, so keep-alive connections are reused.
import { pipeline } from 'node:stream';
import type { Digest } from '../../util/digest.js';
import { registryError } from '../errors.js';
import { checkDigest } from './names.js';
import { send, type Ctx } from './respond.js';
import type { RegistryStorage } from './storage.js';

const READ_BUFFER = 1024 * 1024;

/** Whether the repository may serve this blob: pushed or mounted here, or one of its manifests. */
export async function blobInRepo(storage: RegistryStorage, name: string, digest: Digest): Promise<boolean> {
  return (await storage.hasBlobLink(name, digest)) || (await storage.getManifestLink(name, digest)) !== undefined;
}

export async function getBlob(ctx: Ctx, name: string, rawDigest: string): Promise<void> {
  const digest = checkDigest(rawDigest);
  if (!(await blobInRepo(ctx.storage, name, digest))) throw blobUnknown(digest);
  const blob = await ctx.storage.openBlob(digest);
  if (blob === undefined) throw blobUnknown(digest);
  const { file, size } = blob;
  const headers: Record<string, string> = {
    'Content-Type': 'application/octet-stream',
    'Docker-Content-Digest': digest,
    'Accept-Ranges': 'bytes',
    ETag: `"${digest}"`,
    'Cache-Control': 'max-age=31536000',
  };
  const range = parseRange(ctx.req.headers.range, size);
  if (range === 'unsatisfiable') {
    await file.close();
    throw registryError('SIZE_INVALID', 'requested range not satisfiable', {
      status: 416,
      detail: { size },
      headers: { 'Content-Range': `bytes */${size}` },
    });
  }
  const [start, end] = range ?? [0, size - 1];
  const length = size === 0 ? 0 : end - start + 1;
  if (range !== undefined) headers['Content-Range'] = `bytes ${start}-${end}/${size}`;
  ctx.res.writeHead(range !== undefined ? 206 : 200, { ...headers, 'Content-Length': String(length) });
  if (ctx.req.method === 'HEAD' || length === 0) {
    await file.close();
    ctx.res.end();
    return;
  }
  const stream = file.createReadStream({ start, end, highWaterMark: READ_BUFFER, autoClose: true });
  // A client that goes away mid-blob is normal; pipeline closes the file either way.
  pipeline(stream, ctx.res, () => undefined);
}

export async function deleteBlob(ctx: Ctx, name: string, rawDigest: string): Promise<void> {
  const digest = checkDigest(rawDigest);
  if (!ctx.policy.deleteEnabled) throw registryError('UNSUPPORTED', 'deletion is disabled (start the registry with --delete-enabled)');
  if (!(await ctx.storage.unlinkBlob(name, digest))) throw blobUnknown(digest);
  send(ctx.res, 202, { 'Docker-Content-Digest': digest });
}

function blobUnknown(digest: Digest): Error {
  return registryError('BLOB_UNKNOWN', 'blob unknown to registry', { detail: { digest } });
}

/**
 * One byte range of a Range header ("bytes=a-b", "bytes=a-", "bytes=-n"), clamped to
 * the size. Undefined means serve everything: no header, several ranges, or a header we
 * cannot read (RFC 9110 lets a server ignore Range).
 */
export function parseRange(header: string | undefined, size: number): [number, number] | 'unsatisfiable' | undefined {
  if (header === undefined) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (m === null || (m[1] === '' && m[2] === '')) return undefined;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return [Math.max(size - suffix, 0), size - 1];
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? Infinity : Number(m[2]);
  if (!Number.isSafeInteger(start) || end < start) return undefined;
  if (start >= size) return 'unsatisfiable';
  return [start, Math.min(end, size - 1)];
}
