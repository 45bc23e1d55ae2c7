// `docker pull`: resolve, store the index, manifest and config, download the layers the
// store lacks (a few at a time, each resumable and verified on the stream), then unpack
// and record the image — all under one content lease, so gc cannot take a blob between
// its download and the image that references it. Progress is Docker's JSON messages.
import type { ContentStore } from '../../content/store.js';
import { MAX_CONFIG_SIZE, type ImageStore, type ImageRecord } from '../../images/store.js';
import { familiarString, parseDockerRef, type Reference } from '../../images/reference.js';
import type { Descriptor, Platform } from '../../oci/image-spec.js';
import type { Digest } from '../../util/digest.js';
import { invalidArgument, isBerthError } from '../../util/errors.js';
import { fetchBlob, type FetchBlobOptions } from './fetch-blob.js';
import { Limiter, runAll } from './limit.js';
import { ProgressThrottle, pullMessages, safeListener, shortId, type ProgressListener } from './progress.js';
import { resolve, type EndpointFallback, type Resolved } from './resolve.js';
import { addSourceRepository, sourceLabels } from './source-label.js';
import type { RegistryResolver } from './types.js';

export const DEFAULT_PULL_CONCURRENCY = 3;

export interface PullOptions {
  /** Default: the host's platform. */
  platform?: Platform;
  /** Layers downloaded at once (dockerd's max-concurrent-downloads, default 3). */
  concurrency?: number;
  onProgress?: ProgressListener;
  signal?: AbortSignal;
  /** Tries per blob within this pull (default 5); each resumes where the last stopped. */
  attempts?: number;
}

export interface PullResult {
  /** The image ID (config digest). */
  id: Digest;
  /** The digest `docker pull` prints: the index's when the reference names one, else the manifest's. */
  digest: Digest;
  /** The normalised reference recorded: name:tag, or name@digest for a pull by digest. */
  ref: string;
  image: ImageRecord;
  /** Whether anything changed: a layer downloaded or the reference moved ("Downloaded newer image"). */
  updated: boolean;
  /** Mirrors given up on before an endpoint answered. */
  fallbacks: EndpointFallback[];
}

export async function pull(store: ImageStore, resolver: RegistryResolver, refString: string, opts: PullOptions = {}): Promise<PullResult> {
  const ref = parseDockerRef(refString);
  const limiter = new Limiter(opts.concurrency ?? DEFAULT_PULL_CONCURRENCY); // a bad concurrency fails before any work
  const emit = safeListener(opts.onProgress);
  // dockerd names the repository by its path on the registry: "library/busybox", "src/app".
  emit(pullMessages.pullingFrom(ref.path, ref.digest ?? ref.tag ?? ''));
  const resolved = await resolve(resolver, ref, { ...(opts.platform ? { platform: opts.platform } : {}), ...(opts.signal ? { signal: opts.signal } : {}) });
  const before = await currentImageId(store, ref);
  const refs = ref.digest ? [ref.toString()] : [ref.toString(), `${ref.name}@${resolved.root.digest}`];
  const { image, downloaded } = await store.withLease(async (lease) => {
    const ctx: PullContext = { content: store.content, r: resolved, lease, opts, emit };
    await storeDocuments(ctx);
    await fetchConfig(ctx);
    const downloaded = await fetchLayers(ctx, limiter);
    const index = resolved.index?.descriptor;
    const image = await store.addImage(resolved.manifest.descriptor, { refs, ...(index ? { index } : {}) });
    // Unpacking is one step of the image store; its progress can only be reported once it is done.
    for (const layer of downloaded) {
      emit(pullMessages.extracting(shortId(layer.digest), layer.size, layer.size));
      emit(pullMessages.pullComplete(shortId(layer.digest)));
    }
    return { image, downloaded };
  });
  const updated = downloaded.length > 0 || before !== image.id;
  emit(pullMessages.digest(resolved.root.digest));
  emit(updated ? pullMessages.downloadedNewer(familiarString(ref)) : pullMessages.upToDate(familiarString(ref)));
  return { id: image.id, digest: resolved.root.digest, ref: ref.toString(), image, updated, fallbacks: resolved.fallbacks };
}

/** What every step of one pull works with. */
interface PullContext {
  content: ContentStore;
  r: Resolved;
  /** The lease that keeps everything written from gc until the image is recorded. */
  lease: string;
  opts: PullOptions;
  emit: ProgressListener;
}

/** The image the reference names locally now, to tell "Downloaded newer image" from "Image is up to date". */
async function currentImageId(store: ImageStore, ref: Reference): Promise<Digest | undefined> {
  try {
    return (await store.resolve(ref.toString())).id;
  } catch (err) {
    if (isBerthError(err, 'NotFound')) return undefined;
    throw err;
  }
}

/** The index (if any) and the manifest, as the very bytes resolve() verified. */
async function storeDocuments({ content, r, lease }: PullContext): Promise<void> {
  for (const doc of [r.index, r.manifest]) {
    if (!doc) continue;
    const { digest, size } = doc.descriptor;
    const labels = await sourceLabels(content, digest, r.ref.domain, r.ref.path);
    await content.writeBlob(doc.bytes, { digest, size }, labels, { lease });
  }
}

async function fetchConfig(ctx: PullContext): Promise<void> {
  const config = ctx.r.manifest.document.config;
  // A config is a small JSON document; a registry offering gigabytes is not to be believed.
  if (config.size > MAX_CONFIG_SIZE) throw invalidArgument(`image config ${config.digest} is ${config.size} bytes, more than the ${MAX_CONFIG_SIZE} allowed`);
  await fetchOne(ctx, config);
}

type FetchHooks = Partial<Pick<FetchBlobOptions, 'onBytes' | 'onRetry' | 'signal'>>;

/** One blob into the store unless it is there already (then it only joins the lease and learns its source). */
async function fetchOne({ content, r, lease, opts }: PullContext, desc: Descriptor, hooks: FetchHooks = {}): Promise<void> {
  if (await content.has(desc.digest)) {
    await content.addLeaseResource(lease, desc.digest);
    await addSourceRepository(content, desc.digest, r.ref.domain, r.ref.path);
    return;
  }
  const labels = await sourceLabels(content, desc.digest, r.ref.domain, r.ref.path);
  const signal = hooks.signal ?? opts.signal;
  await fetchBlob(content, {
    sessions: r.sessions,
    ref: r.ref,
    descriptor: desc,
    lease,
    labels,
    ...(opts.attempts !== undefined ? { attempts: opts.attempts } : {}),
    ...(signal ? { signal } : {}),
    ...(hooks.onBytes ? { onBytes: hooks.onBytes } : {}),
    ...(hooks.onRetry ? { onRetry: hooks.onRetry } : {}),
  });
}

/** Download the missing layers, as many at once as the limiter allows; returns those downloaded, bottom first. */
async function fetchLayers(ctx: PullContext, limiter: Limiter): Promise<Descriptor[]> {
  const { content, emit } = ctx;
  // One transfer per blob, even when a manifest lists the same layer twice.
  const layers = [...new Map(ctx.r.manifest.document.layers.map((l) => [l.digest, l])).values()];
  const missing: Descriptor[] = [];
  for (const layer of layers) {
    if (await content.has(layer.digest)) {
      emit(pullMessages.alreadyExists(shortId(layer.digest)));
      await fetchOne(ctx, layer); // leases it and records the source
    } else {
      emit(pullMessages.pullingFsLayer(shortId(layer.digest)));
      missing.push(layer);
    }
  }
  const tasks = missing.map((layer) => (signal: AbortSignal) =>
    limiter.run(() => downloadLayer(ctx, layer, signal), () => emit(pullMessages.waiting(shortId(layer.digest)))),
  );
  await runAll(tasks, ctx.opts.signal);
  return missing;
}

async function downloadLayer(ctx: PullContext, layer: Descriptor, signal: AbortSignal): Promise<void> {
  const id = shortId(layer.digest);
  const throttle = new ProgressThrottle();
  await fetchOne(ctx, layer, {
    signal,
    onBytes: (current, total) => {
      if (throttle.shouldEmit(current, total)) ctx.emit(pullMessages.downloading(id, current, total));
    },
    onRetry: (seconds) => ctx.emit(pullMessages.retrying(id, seconds)),
  });
  // The content store checked size and digest on the stream and at commit: that was Docker's "Verifying Checksum".
  ctx.emit(pullMessages.verifying(id));
  ctx.emit(pullMessages.downloadComplete(id));
}
