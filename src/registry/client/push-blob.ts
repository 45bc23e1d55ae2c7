// Getting one blob into a repository the cheapest way that works: it is there already,
// or it can be mounted from a repository of the same registry berth pulled it from (or
// pushed it to), or it goes up — in one PUT, or in chunks when asked or when it is big.
import type { ContentStore } from '../../content/store.js';
import type { Descriptor } from '../../oci/image-spec.js';
import { blobExists, cancelUpload, sendBlob, startUpload, tryMount, type BlobReader, type UploadContext } from './blob-upload.js';
import { addSourceRepository, sourceRepositories } from './source-label.js';

/** Blobs larger than this go up in chunks, so no single request carries gigabytes. */
export const CHUNKED_UPLOAD_THRESHOLD = 128 * 1024 * 1024;
export const DEFAULT_CHUNK_SIZE = 16 * 1024 * 1024;
/** dockerd's bound on mount attempts per blob. */
const MAX_MOUNT_CANDIDATES = 3;

export interface BlobPushContext extends UploadContext {
  content: ContentStore;
  /** Force chunked uploads of this size. */
  chunkSize?: number;
}

export type BlobPushOutcome = { kind: 'exists' } | { kind: 'mounted'; from: string } | { kind: 'pushed' };

export async function pushBlob(ctx: BlobPushContext, desc: Descriptor, onBytes?: (sent: number, total: number) => void): Promise<BlobPushOutcome> {
  const outcome = await placeBlob(ctx, desc, onBytes);
  // The repository has it now: a later push elsewhere on this registry may mount it from here.
  await addSourceRepository(ctx.content, desc.digest, ctx.ref.domain, ctx.ref.path);
  return outcome;
}

async function placeBlob(ctx: BlobPushContext, desc: Descriptor, onBytes?: (sent: number, total: number) => void): Promise<BlobPushOutcome> {
  if (await blobExists(ctx, desc)) return { kind: 'exists' };
  let location: string | undefined;
  const candidates = await mountCandidates(ctx, desc);
  for (const [i, from] of candidates.entries()) {
    const r = await tryMount(ctx, desc, from);
    if (r.mounted) return { kind: 'mounted', from };
    // A refused mount opened an upload: use the last one, give the others back.
    if (r.location && i < candidates.length - 1) await cancelUpload(ctx, r.location);
    else if (r.location) location = r.location;
  }
  location ??= await startUpload(ctx);
  const chunkSize = ctx.chunkSize ?? (desc.size > CHUNKED_UPLOAD_THRESHOLD ? DEFAULT_CHUNK_SIZE : undefined);
  await sendBlob(ctx, location, desc, blobReader(ctx.content, desc), { ...(chunkSize !== undefined ? { chunkSize } : {}), ...(onBytes ? { onBytes } : {}) });
  return { kind: 'pushed' };
}

/** Other repositories of this registry known to hold the blob, most recent first. */
async function mountCandidates(ctx: BlobPushContext, desc: Descriptor): Promise<string[]> {
  const info = await ctx.content.info(desc.digest);
  if (!info) return [];
  return sourceRepositories(info.labels, ctx.ref.domain)
    .filter((repo) => repo !== ctx.ref.path)
    .reverse()
    .slice(0, MAX_MOUNT_CANDIDATES);
}

function blobReader(content: ContentStore, desc: Descriptor): BlobReader {
  return async function* read(start: number, end: number): AsyncGenerator<Uint8Array> {
    if (end < start) return; // an empty blob
    yield* (await content.createReadStream(desc.digest, { start, end })) as AsyncIterable<Buffer>;
  };
}
