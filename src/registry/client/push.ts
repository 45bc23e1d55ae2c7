// `docker push`: every blob the registry lacks goes up (mounted from another repository of
// the same registry when berth knows one that has it), then the manifest — the stored bytes
// exactly, so its digest is the one berth has — and, for an image pulled as an index whose
// every platform is here, the index. Progress is Docker's JSON messages.
import { setTimeout as sleep } from 'node:timers/promises';
import type { ContentStore } from '../../content/store.js';
import { MAX_CONFIG_SIZE, type ImageRecord, type ImageStore } from '../../images/store.js';
import { parseReference, withDefaultTag, type Reference } from '../../images/reference.js';
import { MAX_MANIFEST_SIZE, isIndexType, parseImageConfig, parseIndex, parseManifest, type Descriptor } from '../../oci/image-spec.js';
import type { Digest } from '../../util/digest.js';
import { invalidArgument, isBerthError, notFound, unavailable } from '../../util/errors.js';
import { pushScopes } from './blob-upload.js';
import { isTransient, unexpectedResponse } from './errors.js';
import { Limiter, runAll } from './limit.js';
import { ProgressThrottle, pushMessages, safeListener, shortId, type ProgressListener } from './progress.js';
import { header } from './resolve.js';
import { pushBlob, type BlobPushContext } from './push-blob.js';
import type { RegistryResolver, RegistrySession } from './types.js';

/** dockerd's max-concurrent-uploads. */
export const DEFAULT_PUSH_CONCURRENCY = 5;
/** Tries per blob (dockerd: 5); each starts over, since uploads are not resumed. */
const DEFAULT_PUSH_ATTEMPTS = 3;

export interface PushOptions {
  /** Blobs uploaded at once (default 5). */
  concurrency?: number;
  onProgress?: ProgressListener;
  /** Upload in PATCH chunks of this size; by default only blobs over CHUNKED_UPLOAD_THRESHOLD are chunked. */
  chunkSize?: number;
  signal?: AbortSignal;
  /** Tries per blob (default 3). */
  attempts?: number;
}

export interface PushResult {
  tag: string;
  /** Digest of the manifest (or index) the tag now names. */
  digest: Digest;
  /** Its size in bytes. */
  size: number;
  mediaType: string;
}

/** One manifest to push with its blobs; `diffIds` name the layers in progress as dockerd names them. */
interface ManifestPlan {
  descriptor: Descriptor;
  bytes: Buffer;
  config: Descriptor;
  layers: Descriptor[];
  diffIds: Digest[];
}

interface PushPlan {
  manifests: ManifestPlan[];
  /** Set when the whole index goes up: the children by digest, then the index by tag. */
  index?: { descriptor: Descriptor; bytes: Buffer };
}

export async function push(store: ImageStore, resolver: RegistryResolver, refString: string, opts: PushOptions = {}): Promise<PushResult> {
  const ref = withDefaultTag(parseReference(refString));
  if (ref.digest !== undefined || ref.tag === undefined) throw invalidArgument(`cannot push a digest reference: ${refString}`);
  const tag = ref.tag;
  const limiter = new Limiter(opts.concurrency ?? DEFAULT_PUSH_CONCURRENCY); // a bad concurrency fails before any work
  const emit = safeListener(opts.onProgress);
  // dockerd names the repository before it looks for the image.
  emit(pushMessages.refersTo(ref.name));
  const plan = await planPush(store, await localImage(store, ref));
  const endpoint = resolver.endpoints(ref.domain, 'push')[0];
  if (!endpoint) throw unavailable(`no endpoint to push to ${ref.domain}`);
  const ctx: PushContext = { content: store.content, session: resolver.session(ref.domain, endpoint), ref, opts, emit };
  // Configs first and one at a time: small, and the first request learns the registry's auth
  // (and scheme) once, instead of every parallel layer upload meeting the same 401.
  for (const m of plan.manifests) await pushConfig(ctx, m.config);
  await pushLayers(ctx, plan, limiter);
  for (const m of plan.manifests) await putManifest(ctx, plan.index ? m.descriptor.digest : tag, m);
  if (plan.index) await putManifest(ctx, tag, plan.index);
  const { digest, size, mediaType } = (plan.index ?? plan.manifests[0]!).descriptor;
  emit(pushMessages.digest(tag, digest, size));
  emit(pushMessages.aux(tag, digest, size));
  return { tag, digest, size, mediaType };
}

/** What every step of one push works with. */
interface PushContext {
  content: ContentStore;
  session: RegistrySession;
  /** The repository pushed to. */
  ref: Reference;
  opts: PushOptions;
  emit: ProgressListener;
}

async function localImage(store: ImageStore, ref: Reference): Promise<ImageRecord> {
  try {
    return await store.resolve(ref.toString());
  } catch (err) {
    if (isBerthError(err, 'NotFound')) throw notFound(`An image does not exist locally with the tag: ${ref.name}`, err);
    throw err;
  }
}

/** What to push: the whole index when every platform it lists is here, else the image's own manifest. */
async function planPush(store: ImageStore, img: ImageRecord): Promise<PushPlan> {
  const own = await planManifest(store.content, img.manifest);
  if (!own) throw notFound(`image ${img.id}: its manifest, config or a layer is missing from the content store`);
  if (!img.index || !isIndexType(img.index.mediaType) || !(await store.content.has(img.index.digest))) return { manifests: [own] };
  const bytes = await store.content.readBlob(img.index.digest, MAX_MANIFEST_SIZE);
  const children: ManifestPlan[] = [];
  for (const child of parseIndex(bytes, img.index.mediaType).manifests) {
    const planned = await planManifest(store.content, child).catch(() => undefined);
    if (!planned) return { manifests: [own] };
    children.push(planned);
  }
  return { manifests: children, index: { descriptor: img.index, bytes } };
}

/** A manifest with its config and layers, or undefined when any of them is not in the store. */
async function planManifest(content: ContentStore, desc: Descriptor): Promise<ManifestPlan | undefined> {
  if (!(await content.has(desc.digest))) return undefined;
  const bytes = await content.readBlob(desc.digest, MAX_MANIFEST_SIZE);
  const manifest = parseManifest(bytes, desc.mediaType);
  if (!(await content.has(manifest.config.digest))) return undefined;
  for (const l of manifest.layers) if (!isForeign(l) && !(await content.has(l.digest))) return undefined;
  const config = parseImageConfig(await content.readBlob(manifest.config.digest, MAX_CONFIG_SIZE));
  const diffIds = config.rootfs.diff_ids as Digest[];
  return { descriptor: { mediaType: desc.mediaType, digest: desc.digest, size: desc.size }, bytes, config: manifest.config, layers: manifest.layers, diffIds };
}

/** Every layer of every manifest, once, as many at once as the limiter allows. */
async function pushLayers(ctx: PushContext, plan: PushPlan, limiter: Limiter): Promise<void> {
  const layers = new Map<string, { desc: Descriptor; id: string }>();
  for (const m of plan.manifests) {
    m.layers.forEach((desc, i) => {
      // dockerd never pushes foreign layers: they are fetched from their URLs, not the registry.
      if (isForeign(desc)) return;
      // dockerd names a pushed layer by its diff ID (the layer store's key), not its blob digest.
      layers.set(desc.digest, { desc, id: shortId(m.diffIds[i] ?? desc.digest) });
    });
  }
  for (const { id } of layers.values()) ctx.emit(pushMessages.preparing(id));
  const tasks = [...layers.values()].map(({ desc, id }) => (signal: AbortSignal) =>
    limiter.run(() => pushLayer(ctx, desc, id, signal), () => ctx.emit(pushMessages.waiting(id))),
  );
  await runAll(tasks, ctx.opts.signal);
}

function isForeign(desc: Descriptor): boolean {
  return (desc.urls?.length ?? 0) > 0 && (desc.mediaType.includes('.foreign.') || desc.mediaType.includes('.nondistributable.'));
}

async function pushLayer(ctx: PushContext, desc: Descriptor, id: string, signal: AbortSignal): Promise<void> {
  const { emit, opts } = ctx;
  const throttle = new ProgressThrottle();
  const blobCtx: BlobPushContext = { content: ctx.content, session: ctx.session, ref: ctx.ref, signal, ...(opts.chunkSize !== undefined ? { chunkSize: opts.chunkSize } : {}) };
  const outcome = await withRetries(opts, signal, (seconds) => emit(pushMessages.retrying(id, seconds)), () =>
    pushBlob(blobCtx, desc, (sent, total) => {
      if (throttle.shouldEmit(sent, total)) emit(pushMessages.pushing(id, sent, total));
    }),
  );
  if (outcome.kind === 'exists') emit(pushMessages.alreadyExists(id));
  else if (outcome.kind === 'mounted') emit(pushMessages.mountedFrom(id, outcome.from));
  else emit(pushMessages.pushed(id));
}

/** The config goes up like a layer but silently, as in dockerd. */
async function pushConfig(ctx: PushContext, desc: Descriptor): Promise<void> {
  const { opts } = ctx;
  const blobCtx: BlobPushContext = { content: ctx.content, session: ctx.session, ref: ctx.ref, ...(opts.signal ? { signal: opts.signal } : {}), ...(opts.chunkSize !== undefined ? { chunkSize: opts.chunkSize } : {}) };
  await withRetries(opts, opts.signal, () => undefined, () => pushBlob(blobCtx, desc));
}

async function withRetries<T>(opts: PushOptions, signal: AbortSignal | undefined, onRetry: (seconds: number) => void, fn: () => Promise<T>): Promise<T> {
  const attempts = opts.attempts ?? DEFAULT_PUSH_ATTEMPTS;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (attempt >= attempts || !isTransient(err) || signal?.aborted) throw err;
      onRetry(attempt);
      await sleep(attempt * 1000, undefined, signal ? { signal } : {});
    }
  }
}

/** PUT the manifest's stored bytes under `reference` and hold the registry to their digest. */
async function putManifest({ session, ref, opts }: PushContext, reference: string, m: { descriptor: Descriptor; bytes: Buffer }): Promise<void> {
  const signal = opts.signal;
  const res = await session.request({
    method: 'PUT',
    path: `/v2/${ref.path}/manifests/${reference}`,
    headers: { 'content-type': m.descriptor.mediaType },
    body: m.bytes,
    scopes: pushScopes(ref),
    ...(signal ? { signal } : {}),
  });
  if (res.status !== 201) throw await unexpectedResponse('PUT', res);
  res.discard();
  const claimed = header(res, 'docker-content-digest');
  if (claimed !== undefined && claimed !== m.descriptor.digest) {
    throw invalidArgument(`the registry stored manifest ${m.descriptor.digest} as ${claimed}`);
  }
}
