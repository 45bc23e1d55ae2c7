// The image store: images are manifests in the content store, unpacked into snapshots
// by chain ID, with Docker's references pointing at them (ImageIndex). The daemon wires
// one ImageStore per data root; the CLI and API reach it only through the daemon.
import { join } from 'node:path';
import { ContentStore, GC_REF_CONTENT_PREFIX } from '../content/store.js';
import {
  MAX_MANIFEST_SIZE,
  chainIds,
  isConfigType,
  isIndexType,
  layerCompression,
  parseImageConfig,
  parseManifest,
  type Descriptor,
  type ImageConfig,
  type Manifest,
} from '../oci/image-spec.js';
import { NativeSnapshotter } from '../snapshots/native.js';
import { OverlaySnapshotter, overlaySupported } from '../snapshots/overlay.js';
import type { Mount, Snapshotter } from '../snapshots/snapshotter.js';
import type { Digest } from '../util/digest.js';
import { conflict, invalidArgument, isBerthError, notFound } from '../util/errors.js';
import { RwLock } from '../util/rwlock.js';
import { randomBytes } from 'node:crypto';
import { ImageIndex, type IndexFile } from './records.js';
import { isFullId, looksLikeIdPrefix, parseReference, withDefaultTag } from './reference.js';
import { unpackImage, type LayerProgress } from './unpack.js';

/** Configs are small JSON documents; anything bigger is hostile. */
export const MAX_CONFIG_SIZE = 8 * 1024 * 1024;

export interface ImageStoreOptions {
  /** The data root (e.g. /var/lib/berth): content/, snapshots/<driver>/, images/ live under it. */
  root: string;
  /** Default: overlay when the root's filesystem supports it, else native. */
  snapshotter?: 'overlay' | 'native';
}

export interface ImageRecord {
  id: Digest;
  manifest: Descriptor;
  index?: Descriptor;
  repoTags: string[];
  repoDigests: string[];
  /** When berth first had this image. */
  added: string;
  lastTagTime?: string;
  size: number;
}

export interface AddImageOptions {
  refs?: string[];
  index?: Descriptor;
  /** Layer by layer, as they are unpacked (`docker load`'s "Loading layer"). */
  onLayer?: LayerProgress;
}

/** Parsed manifests and configs kept in memory (a few KiB each). */
const PARSED_BLOB_CACHE_SIZE = 128;

export class ImageStore {
  readonly root: string;
  readonly content: ContentStore;
  readonly snapshots: Snapshotter;
  readonly index: ImageIndex;
  /** Unpack-and-record (shared) against garbage collection (exclusive): gc never sees an image half added. */
  private readonly gcLock = new RwLock();
  private readonly parsedBlobs = new Map<string, unknown>();

  private constructor(root: string, content: ContentStore, snapshots: Snapshotter) {
    this.root = root;
    this.content = content;
    this.snapshots = snapshots;
    this.index = new ImageIndex(join(root, 'images'));
  }

  static async open(opts: ImageStoreOptions): Promise<ImageStore> {
    const content = new ContentStore(join(opts.root, 'content'));
    await content.init();
    // Ingests nobody holds for a day are leftovers of killed imports and loads (pulls resume sooner).
    await content.cleanIngests(24 * 3600_000);
    const driver = opts.snapshotter ?? ((await overlaySupported(join(opts.root, 'snapshots'))) === true ? 'overlay' : 'native');
    const dir = join(opts.root, 'snapshots', driver);
    const snapshots = driver === 'overlay' ? await OverlaySnapshotter.open(dir) : await NativeSnapshotter.open(dir);
    return new ImageStore(opts.root, content, snapshots);
  }

  async close(): Promise<void> {
    await this.snapshots.close();
  }

  // ---- reading ----

  async manifestOf(img: { manifest: Descriptor }): Promise<Manifest> {
    const { digest, mediaType } = img.manifest;
    return this.parsedBlob(`${digest} ${mediaType}`, async () => parseManifest(await this.content.readBlob(digest, MAX_MANIFEST_SIZE), mediaType));
  }

  async configOf(img: { manifest: Descriptor }): Promise<ImageConfig> {
    const manifest = await this.manifestOf(img);
    const digest = manifest.config.digest;
    return this.parsedBlob(digest, async () => parseImageConfig(await this.content.readBlob(digest, MAX_CONFIG_SIZE)));
  }

  /**
   * A blob as parsed once: content is immutable under its digest, and every container create
   * reads its image's manifest and config. Callers get their own copy to change.
   */
  private async parsedBlob<T>(key: string, parse: () => Promise<T>): Promise<T> {
    let value = this.parsedBlobs.get(key) as T | undefined;
    if (value === undefined) {
      value = await parse();
      if (this.parsedBlobs.size >= PARSED_BLOB_CACHE_SIZE) this.parsedBlobs.delete(this.parsedBlobs.keys().next().value!);
      this.parsedBlobs.set(key, value);
    }
    return structuredClone(value);
  }

  /** The chain IDs of the image's layers, bottom first: the names of its layer snapshots. */
  async chainIdsOf(img: { manifest: Descriptor }): Promise<Digest[]> {
    return chainIds((await this.configOf(img)).rootfs.diff_ids as Digest[]);
  }

  /** The chain ID of the image's top layer: the snapshot a container starts from (undefined: no layers). */
  async topChainId(img: { manifest: Descriptor }): Promise<Digest | undefined> {
    return (await this.chainIdsOf(img)).at(-1);
  }

  list(): ImageRecord[] {
    return recordsOf(this.index.read());
  }

  /**
   * An image by reference ("busybox", "localhost:5000/x:1", "name@sha256:…"), full ID
   * ("sha256:…" or 64 hex) or unique short ID prefix — the lookups Docker does, in its order.
   */
  async resolve(nameOrId: string): Promise<ImageRecord> {
    const idx = this.index.read();
    const id = lookup(idx, nameOrId);
    const record = id && recordsOf(idx).find((r) => r.id === id);
    if (!record) throw notFound(`No such image: ${nameOrId}`);
    return record;
  }

  // ---- writing ----

  /**
   * Make the manifest (already in content with its config and layers) an image: verify,
   * unpack, record, tag. Returns the record. Idempotent for an image berth already has.
   */
  addImage(manifestDesc: Descriptor, opts: AddImageOptions = {}): Promise<ImageRecord> {
    return this.gcLock.read(() => this.addImageLocked(manifestDesc, opts));
  }

  /** Run fn with a content lease, so gc keeps what fn writes until it is recorded as an image. */
  async withLease<T>(fn: (lease: string) => Promise<T>): Promise<T> {
    const id = `write-${Date.now()}-${randomBytes(6).toString('hex')}`;
    await this.content.createLease(id, { expiresAt: new Date(Date.now() + 24 * 3600_000) });
    let result: T;
    try {
      result = await fn(id);
    } catch (err) {
      // The first failure is the one to report; a lease left behind expires and gc ignores it then.
      await this.content.deleteLease(id).catch(() => undefined);
      throw err;
    }
    await this.content.deleteLease(id);
    return result;
  }

  private async addImageLocked(manifestDesc: Descriptor, opts: AddImageOptions): Promise<ImageRecord> {
    const manifest = await this.manifestOf({ manifest: manifestDesc });
    if (!isConfigType(manifest.config.mediaType)) throw invalidArgument(`manifest ${manifestDesc.digest}: config has an unknown media type "${manifest.config.mediaType}"`);
    manifest.layers.forEach((l, i) => {
      try {
        layerCompression(l.mediaType);
      } catch (err) {
        throw invalidArgument(`manifest ${manifestDesc.digest}: layer ${i + 1}: ${(err as Error).message}`, err);
      }
    });
    const config = parseImageConfig(await this.content.readBlob(manifest.config.digest, MAX_CONFIG_SIZE));
    const diffIds = config.rootfs.diff_ids as Digest[];
    if (diffIds.length !== manifest.layers.length) {
      throw invalidArgument(`image ${manifest.config.digest}: ${manifest.layers.length} layers but ${diffIds.length} diff IDs in its config`);
    }
    for (const [i, layer] of manifest.layers.entries()) {
      const info = await this.content.info(layer.digest);
      if (!info) throw notFound(`image ${manifest.config.digest}: layer ${i + 1} (${layer.digest}) is missing`);
      if (info.size !== layer.size) {
        throw invalidArgument(`image ${manifest.config.digest}: layer ${i + 1} (${layer.digest}): size mismatch: the manifest says ${layer.size} bytes, the blob has ${info.size}`);
      }
    }
    const refs = (opts.refs ?? []).map((r) => normalizedTag(r));
    await this.protect(manifestDesc, manifest, opts.index);
    const { size } = await unpackImage(this.content, this.snapshots, manifest, diffIds, opts.onLayer);
    const id = manifest.config.digest as Digest;
    const now = new Date().toISOString();
    await this.index.update((idx) => {
      const old = idx.images[id];
      const stored = { manifest: manifestDesc, added: old?.added ?? now, size, lastTagTime: refs.length ? now : old?.lastTagTime };
      idx.images[id] = opts.index ? { ...stored, index: opts.index } : stored;
      for (const ref of refs) {
        if (ref.includes('@')) idx.digests[ref] = id;
        else idx.tags[ref] = id;
      }
    });
    return this.resolve(id);
  }

  /** gc references: manifest → config and layers, so content gc keeps what images need. */
  private async protect(manifestDesc: Descriptor, manifest: Manifest, index?: Descriptor): Promise<void> {
    const labels: Record<string, string> = { [`${GC_REF_CONTENT_PREFIX}.config`]: manifest.config.digest };
    manifest.layers.forEach((l, i) => (labels[`${GC_REF_CONTENT_PREFIX}.l.${i}`] = l.digest));
    await this.content.setLabels(manifestDesc.digest, labels);
    if (index && isIndexType(index.mediaType)) {
      await this.content.setLabels(index.digest, { [`${GC_REF_CONTENT_PREFIX}.m.0`]: manifestDesc.digest });
    }
  }

  /** `docker tag source target`. */
  async tag(source: string, target: string): Promise<ImageRecord> {
    const img = await this.resolve(source);
    const ref = normalizedTag(target);
    if (ref.includes('@')) throw invalidArgument(`refusing to create a tag with a digest reference: ${target}`);
    await this.index.update((idx) => {
      idx.tags[ref] = img.id;
      idx.images[img.id]!.lastTagTime = new Date().toISOString();
    });
    return this.resolve(img.id);
  }

  /** Remove one reference; returns whether it existed. */
  async untag(ref: string): Promise<boolean> {
    const key = normalizedTag(ref);
    return this.index.update((idx) => {
      const had = key in idx.tags || key in idx.digests;
      delete idx.tags[key];
      delete idx.digests[key];
      return had;
    });
  }

  /** A new active snapshot for a container's rootfs, on top of the image. */
  async prepareRootfs(key: string, img: ImageRecord): Promise<Mount[]> {
    return this.snapshots.prepare(key, await this.topChainId(img));
  }

  /**
   * Drop the image record, then everything only it used: snapshots no image needs, and
   * content no image references (content gc from the remaining images' manifests).
   */
  async deleteImage(id: Digest): Promise<void> {
    await this.index.update((idx) => {
      delete idx.images[id];
      for (const map of [idx.tags, idx.digests]) for (const [k, v] of Object.entries(map)) if (v === id) delete map[k];
    });
    await this.collectGarbage();
  }

  /**
   * What garbage collection keeps besides the images' content: blobs and committed layer
   * snapshots (chain IDs) someone else holds on to — the build cache.
   */
  keep: () => Promise<{ blobs: Iterable<string>; chains: Iterable<string> }> = async () => ({ blobs: [], chains: [] });

  /** Remove snapshots and blobs that no image (and no container snapshot) needs. */
  collectGarbage(): Promise<{ snapshots: string[]; blobs: Digest[]; bytes: number }> {
    return this.gcLock.write(() => this.collectGarbageLocked());
  }

  private async collectGarbageLocked(): Promise<{ snapshots: string[]; blobs: Digest[]; bytes: number }> {
    const images = this.list();
    const needed = new Set<string>();
    for (const img of images) for (const c of await this.chainIdsOf(img)) needed.add(c);
    const kept = await this.keep();
    for (const c of kept.chains) needed.add(c);
    const removed = await this.removeUnusedSnapshots(needed);
    const roots: string[] = images.flatMap((i) => (i.index ? [i.manifest.digest, i.index.digest] : [i.manifest.digest]));
    roots.push(...kept.blobs);
    const gc = await this.content.gc({ roots });
    return { snapshots: removed, blobs: gc.removed, bytes: gc.bytes };
  }

  /** Committed layer snapshots (named sha256:…) that nothing needs, children before parents. */
  private async removeUnusedSnapshots(needed: Set<string>): Promise<string[]> {
    const removed: string[] = [];
    for (let progress = true; progress; ) {
      progress = false;
      const parents = new Set<string>();
      const candidates: string[] = [];
      await this.snapshots.walk((info) => {
        if (info.parent) parents.add(info.parent);
        if (info.kind === 'committed' && info.key.startsWith('sha256:') && !needed.has(info.key)) candidates.push(info.key);
      });
      for (const key of candidates.filter((k) => !parents.has(k))) {
        await this.snapshots.remove(key);
        removed.push(key);
        progress = true;
      }
    }
    return removed;
  }

  /** Problems in content, snapshots and image records, each "corrupt: …" or "leftover: …"; changes nothing. */
  async check(): Promise<string[]> {
    const problems: string[] = [];
    for (const p of await this.content.check()) {
      // Content's warnings and notes are leftovers of interrupted work (resumable ingests), not damage.
      problems.push(`${p.severity === 'error' ? 'corrupt' : 'leftover'}: content: ${p.path}: ${p.message}`);
    }
    for (const p of await this.snapshots.check()) problems.push(`snapshots: ${p}`);
    for (const img of this.list()) problems.push(...(await this.checkImage(img)));
    return problems;
  }

  private async checkImage(img: ImageRecord): Promise<string[]> {
    const where = `image ${img.id}`;
    try {
      const manifest = await this.manifestOf(img);
      const digests = [img.manifest.digest, manifest.config.digest, ...manifest.layers.map((l) => l.digest)];
      const out: string[] = [];
      for (const d of digests) {
        const v = await this.content.verify(d);
        if (!v.ok) out.push(`corrupt: ${where}: blob ${d}: ${v.problem ?? 'bad'}`);
      }
      for (const chain of await this.chainIdsOf(img)) {
        const info = await this.snapshots.stat(chain).catch(() => undefined);
        if (info?.kind !== 'committed') out.push(`corrupt: ${where}: layer snapshot ${chain} is missing`);
      }
      return out;
    } catch (err) {
      return [`corrupt: ${where}: ${(err as Error).message}`];
    }
  }
}

function recordsOf(idx: IndexFile): ImageRecord[] {
  return Object.entries(idx.images).map(([id, s]) => ({
    id: id as Digest,
    manifest: s.manifest,
    ...(s.index ? { index: s.index } : {}),
    repoTags: Object.keys(idx.tags).filter((k) => idx.tags[k] === id).sort(),
    repoDigests: Object.keys(idx.digests).filter((k) => idx.digests[k] === id).sort(),
    added: s.added,
    ...(s.lastTagTime ? { lastTagTime: s.lastTagTime } : {}),
    size: s.size ?? 0,
  }));
}

/** "busybox" → "docker.io/library/busybox:latest"; digests kept as name@digest. */
export function normalizedTag(ref: string): string {
  const r = parseReference(ref);
  if (r.digest) return `${r.name}@${r.digest}`;
  return withDefaultTag(r).toString();
}

function lookup(idx: IndexFile, s: string): Digest | undefined {
  const bare = s.startsWith('sha256:') ? s.slice(7) : s;
  if (isFullId(bare)) {
    const id = `sha256:${bare}` as Digest;
    if (idx.images[id]) return id;
  }
  const byRef = lookupRef(idx, s);
  if (byRef) return byRef;
  if (!looksLikeIdPrefix(s)) return undefined;
  const matches = Object.keys(idx.images).filter((id) => id.slice(7).startsWith(bare));
  if (matches.length > 1) throw conflict(`ambiguous image ID prefix ${s}: ${matches.length} images match`);
  return matches[0] as Digest | undefined;
}

function lookupRef(idx: IndexFile, s: string): Digest | undefined {
  try {
    const r = parseReference(s);
    if (r.digest) return idx.digests[`${r.name}@${r.digest}`] ?? (r.tag ? idx.tags[`${r.name}:${r.tag}`] : undefined);
    return idx.tags[withDefaultTag(r).toString()];
  } catch (err) {
    if (isBerthError(err, 'InvalidArgument')) return undefined;
    throw err;
  }
}
