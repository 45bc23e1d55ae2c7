// Downloading one blob into the content store. The ingest is named by the blob's digest,
// so bytes from an interrupted download stay on disk and the next attempt — in this pull
// or a later one — asks only for the rest (Range: bytes=<offset>-). The content store
// hashes every byte as it lands and commits only a blob of the expected digest and size.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Readable } from 'node:stream';
import type { ContentStore, Labels } from '../../content/store.js';
import type { Descriptor } from '../../oci/image-spec.js';
import type { Reference } from '../../images/reference.js';
import { isBerthError, unavailable } from '../../util/errors.js';
import { isAbort, isTransient, unexpectedResponse } from './errors.js';
import { header, pullScopes } from './resolve.js';
import type { RegistryResponse, RegistrySession } from './types.js';

export const DEFAULT_BLOB_ATTEMPTS = 5;

export interface FetchBlobOptions {
  /** Where to ask, in order: a mirror that lacks the blob falls back to the next. */
  sessions: readonly RegistrySession[];
  ref: Reference;
  descriptor: Descriptor;
  lease: string;
  labels?: Labels;
  /** Tries in all, each resuming where the last stopped (default 5). */
  attempts?: number;
  signal?: AbortSignal;
  /** Bytes held so far (including resumed ones) out of the blob's size. */
  onBytes?: (current: number, total: number) => void;
  /** About to wait this many seconds before trying again. */
  onRetry?: (seconds: number) => void;
}

/** The ingest ref of a pulled blob: the same for every pull, which is what makes resuming work. */
export function pullIngestRef(digest: string): string {
  return `pull-${digest}`;
}

export async function fetchBlob(content: ContentStore, opts: FetchBlobOptions): Promise<void> {
  const attempts = opts.attempts ?? DEFAULT_BLOB_ATTEMPTS;
  for (let attempt = 1; ; attempt++) {
    try {
      await ingestOnce(content, opts);
      return;
    } catch (err) {
      if (attempt >= attempts || !isTransient(err) || opts.signal?.aborted) throw err;
      // dockerd waits 5, 10, 15 s; a shorter ramp suits loopback and LAN registries as well.
      const seconds = attempt;
      opts.onRetry?.(seconds);
      await sleep(seconds * 1000, undefined, opts.signal ? { signal: opts.signal } : {});
    }
  }
}

/** The server would not resume: drop the partial bytes and start over (with its full answer, if it sent one). */
class RangeRefused extends Error {
  constructor(readonly full: RegistryResponse | undefined) {
    super('the registry did not resume the download');
  }
}

async function ingestOnce(content: ContentStore, opts: FetchBlobOptions): Promise<void> {
  const ref = pullIngestRef(opts.descriptor.digest);
  const expected = { digest: opts.descriptor.digest, size: opts.descriptor.size };
  const ingestOpts = { lease: opts.lease, wait: true, ...(opts.labels ? { labels: opts.labels } : {}), ...(opts.signal ? { signal: opts.signal } : {}) };
  const source = async (offset: number): Promise<AsyncIterable<Uint8Array>> => {
    // Every byte arrived before a crash stopped the commit: nothing to ask for, the commit verifies.
    if (offset === opts.descriptor.size) return (async function* () {})();
    const res = await openBlob(opts, offset);
    if (offset > 0 && res.status !== 206) throw new RangeRefused(res);
    return counted(res, offset, opts);
  };
  try {
    await content.ingestStream(ref, source, expected, ingestOpts);
  } catch (err) {
    if (!(err instanceof RangeRefused)) throw err;
    await content.abortIngest(ref).catch((e: unknown) => {
      if (!isBerthError(e, 'NotFound')) throw e;
    });
    const full = err.full;
    await content.ingestStream(ref, async (offset) => (full && offset === 0 ? counted(full, 0, opts) : source(offset)), expected, ingestOpts);
  }
}

/** GET the blob from the first session that has it; from `offset` with a Range request. */
async function openBlob(opts: FetchBlobOptions, offset: number): Promise<RegistryResponse> {
  const { digest, size } = opts.descriptor;
  const last = opts.sessions.length - 1;
  for (const [i, session] of opts.sessions.entries()) {
    try {
      const res = await session.request({
        method: 'GET',
        path: `/v2/${opts.ref.path}/blobs/${digest}`,
        headers: offset > 0 ? { range: `bytes=${offset}-` } : {},
        scopes: pullScopes(opts.ref),
        ...(opts.signal ? { signal: opts.signal } : {}),
      });
      if (res.status === 200) return res;
      if (res.status === 206 && offset > 0) {
        if (rangeMatches(header(res, 'content-range'), offset, size)) return res;
        res.discard();
        throw new RangeRefused(undefined);
      }
      // 416: the server will not serve that range (a partial it does not agree with); start over.
      if (res.status === 416 && offset > 0) {
        res.discard();
        throw new RangeRefused(undefined);
      }
      throw await unexpectedResponse('GET', res);
    } catch (err) {
      if (err instanceof RangeRefused || !session.endpoint.mirror || i === last || isAbort(err)) throw err;
    }
  }
  throw unavailable(`no endpoint has blob ${digest}`); // not reached: the last session throws
}

/** "bytes <offset>-<size-1>/<size or *>": exactly the rest of this blob. */
export function rangeMatches(contentRange: string | undefined, offset: number, size: number): boolean {
  const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(contentRange?.trim() ?? '');
  if (!m) return false;
  return Number(m[1]) === offset && Number(m[2]) === size - 1 && (m[3] === '*' || Number(m[3]) === size);
}

/**
 * The body's bytes, reported as they pass. A body that ends short is an error here, not at
 * commit: a commit would discard the ingest as corrupt, and the bytes so far are good.
 */
async function* counted(res: RegistryResponse, offset: number, opts: FetchBlobOptions): AsyncGenerator<Uint8Array> {
  const total = opts.descriptor.size;
  const body: Readable = res.body;
  let current = offset;
  try {
    for await (const chunk of body) {
      current += (chunk as Buffer).length;
      opts.onBytes?.(Math.min(current, total), total);
      yield chunk as Buffer;
    }
  } catch (err) {
    // An aborted request shows up as a reset connection; report it as the abort it is.
    if (opts.signal?.aborted) throw abortReason(opts.signal);
    throw isBerthError(err) || isAbort(err) ? err : unavailable(`downloading ${opts.descriptor.digest}: ${(err as Error).message} after ${current} of ${total} bytes`, err);
  } finally {
    if (!body.readableEnded) body.destroy();
  }
  if (current < total) throw unavailable(`downloading ${opts.descriptor.digest}: the connection closed after ${current} of ${total} bytes`);
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason instanceof Error ? signal.reason : new DOMException('This operation was aborted', 'AbortError');
}
