// `docker load`: images from a tar archive in either format Docker reads — the OCI image
// layout (index.json) or docker-archive (manifest.json) — or both at once, as Docker ≥ 25
// writes; then index.json wins, as in Docker. The archive may itself be gzip/zstd
// compressed. Order: stage every member (blobs verified as they arrive), plan each image,
// verify every plan, and only then register; so a hostile or broken archive is refused
// with a message naming the problem and leaves no image behind.
import { randomBytes } from 'node:crypto';
import type { Digest } from '../../util/digest.js';
import { invalidArgument, isBerthError } from '../../util/errors.js';
import { decompress, peekCompression } from '../layer/compression.js';
import { familiarString, parseReference } from '../reference.js';
import type { ImageStore } from '../store.js';
import type { LayerProgress } from '../unpack.js';
import { planDockerArchive } from './docker-archive.js';
import type { LoadPlan } from './load-plan.js';
import { checkLayoutFile, parseLayoutIndex, planOciLayout } from './oci-layout.js';
import { DEFAULT_ARCHIVE_LIMITS, stageArchive, type ArchiveLimits, type StagedArchive } from './stage.js';
import { verifyPlan } from './verify.js';

export type LoadLimits = ArchiveLimits;

export interface LoadOptions {
  limits?: Partial<LoadLimits>;
  /** Each layer unpacked, at its start and end ("Loading layer" in `docker load`). */
  onLayer?: LayerProgress;
}

export interface LoadedImage {
  id: Digest;
  /** Normalised tags, e.g. docker.io/library/busybox:latest. */
  refs: string[];
}

export interface LoadResult {
  images: LoadedImage[];
  /** What `docker load` prints: "Loaded image: busybox:latest", "Loaded image ID: sha256:…". */
  messages: string[];
}

/** A load that dies without cleaning up leaves a lease; gc drops it after this long. */
const LEASE_TTL_MS = 24 * 3600 * 1000;

export async function loadImages(store: ImageStore, source: AsyncIterable<Buffer>, opts: LoadOptions = {}): Promise<LoadResult> {
  const limits = { ...DEFAULT_ARCHIVE_LIMITS, ...opts.limits };
  const lease = `archive-load-${randomBytes(8).toString('hex')}`;
  await store.content.createLease(lease, { expiresAt: new Date(Date.now() + LEASE_TTL_MS) });
  try {
    const { kind, stream } = await peekCompression(source);
    const staged = await stageArchive(store.content, decompress(stream, kind), { lease, limits });
    const plans = mergePlans(await planImages(store, staged, lease, limits));
    if (plans.length === 0) throw invalidArgument('the archive holds no image for this platform');
    const ids: Digest[] = [];
    for (const plan of plans) ids.push(await verifyPlan(store.content, plan, limits.maxJsonBytes));
    return await register(store, plans, ids, opts.onLayer);
  } catch (err) {
    // A refused archive is not read to its end; let its producer (a file, a request body) go.
    (source as { destroy?: () => void }).destroy?.();
    throw err;
  } finally {
    // The images reference their blobs now (or there are none to keep): the lease has done its job.
    await store.content.deleteLease(lease).catch(() => undefined);
  }
}

async function planImages(store: ImageStore, staged: StagedArchive, lease: string, limits: LoadLimits): Promise<LoadPlan[]> {
  const indexBytes = staged.meta.get('index.json');
  const hasManifestJson = staged.meta.has('manifest.json');
  if (indexBytes !== undefined) {
    const index = parseLayoutIndex(indexBytes);
    // An empty index beside a manifest.json describes nothing; the manifest.json does.
    if (index.manifests.length > 0 || !hasManifestJson) {
      checkLayoutFile(staged.meta.get('oci-layout'));
      return planOciLayout(store.content, index);
    }
  }
  if (hasManifestJson) return planDockerArchive(store.content, staged, lease, limits);
  if (staged.meta.has('repositories')) {
    throw invalidArgument('the archive has no manifest.json: the pre-1.10 docker save format is not supported');
  }
  throw invalidArgument('not an image archive: it has neither index.json (OCI layout) nor manifest.json (docker save)');
}

/** One plan per manifest: an image listed under several names is registered once with all of them. */
function mergePlans(plans: LoadPlan[]): LoadPlan[] {
  const byDigest = new Map<string, LoadPlan>();
  for (const plan of plans) {
    const seen = byDigest.get(plan.manifest.digest);
    if (seen) seen.refs = [...new Set([...seen.refs, ...plan.refs])];
    else byDigest.set(plan.manifest.digest, { ...plan, refs: [...new Set(plan.refs)] });
  }
  return [...byDigest.values()];
}

async function register(store: ImageStore, plans: LoadPlan[], ids: Digest[], onLayer: LayerProgress | undefined): Promise<LoadResult> {
  const result: LoadResult = { images: [], messages: [] };
  for (const [i, plan] of plans.entries()) {
    for (const ref of plan.refs) {
      const previous = await previousImage(store, ref);
      if (previous !== undefined && previous !== ids[i]) {
        result.messages.push(`The image ${familiar(ref)} already exists, renaming the old one with ID ${previous} to empty string`);
      }
    }
    const record = await store.addImage(plan.manifest, { refs: plan.refs, onLayer, ...(plan.index ? { index: plan.index } : {}) });
    result.images.push({ id: record.id, refs: plan.refs });
    if (plan.refs.length === 0) result.messages.push(`Loaded image ID: ${record.id}`);
    for (const ref of plan.refs) result.messages.push(`Loaded image: ${familiar(ref)}`);
  }
  return result;
}

async function previousImage(store: ImageStore, ref: string): Promise<Digest | undefined> {
  try {
    return (await store.resolve(ref)).id;
  } catch (err) {
    if (isBerthError(err, 'NotFound')) return undefined;
    throw err;
  }
}

function familiar(ref: string): string {
  return familiarString(parseReference(ref));
}
