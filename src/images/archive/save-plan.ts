// What `docker save` writes, decided before a byte is streamed: Docker ≥ 25's layout,
// which is an OCI image layout and a docker-archive in one tar.
//   OCI side:     oci-layout, index.json (one descriptor per saved name), and the
//                 manifest, config and layer blobs exactly as stored.
//   docker side:  manifest.json and repositories, whose layers must be uncompressed tars
//                 named by their diff IDs (docker load and skopeo check that). A layer
//                 stored compressed gets an extra, uncompressed blob; an uncompressed one
//                 (berth's import and commit store them so) is shared by both sides.
import type { ContentStore } from '../../content/store.js';
import { MediaTypes, type Descriptor } from '../../oci/image-spec.js';
import { digestHex, parseDigest, type Digest } from '../../util/digest.js';
import { invalidArgument } from '../../util/errors.js';
import { familiarName, familiarString, parseReference, withDefaultTag, type Reference } from '../reference.js';
import type { ImageRecord, ImageStore } from '../store.js';
import { ANNOTATION_IMAGE_NAME, ANNOTATION_REF_NAME } from './oci-layout.js';

/** A blob as stored, or the uncompressed form of a stored compressed layer. */
export type BlobSource = { kind: 'stored'; digest: Digest } | { kind: 'uncompressed'; digest: Digest; from: Digest };

export interface SavePlan {
  /** Every blob once, keyed by digest. */
  blobs: Map<Digest, BlobSource>;
  /** The top-level files, in name order: index.json, manifest.json, oci-layout, repositories. */
  files: Array<{ name: string; data: Buffer }>;
}

interface Selected {
  record: ImageRecord;
  /** The tags asked for (as Docker: only tags named, or every tag of a repository named without one). */
  refs: Reference[];
}

interface ArchiveItem {
  Config: string;
  RepoTags: string[];
  Layers: string[];
}

export async function planSave(store: ImageStore, names: string[]): Promise<SavePlan> {
  if (names.length === 0) throw invalidArgument('save: name at least one image');
  const blobs = new Map<Digest, BlobSource>();
  const descriptors: Descriptor[] = [];
  const items: ArchiveItem[] = [];
  const repositories: Record<string, Record<string, string>> = {};
  for (const { record, refs } of await selectImages(store, names)) {
    const manifest = await store.manifestOf(record);
    const diffIds = (await store.configOf(record)).rootfs.diff_ids;
    if (diffIds.length !== manifest.layers.length) {
      throw invalidArgument(`image ${record.id}: ${manifest.layers.length} layers but ${diffIds.length} diff_ids in its config`);
    }
    for (const d of [record.manifest.digest, manifest.config.digest, ...manifest.layers.map((l) => l.digest)]) addBlob(blobs, { kind: 'stored', digest: d });
    for (const [i, diffId] of diffIds.entries()) addBlob(blobs, await uncompressedSource(store.content, manifest.layers[i]!.digest, diffId));
    descriptors.push(...indexDescriptors(record.manifest, refs));
    items.push({ Config: blobPath(manifest.config.digest), RepoTags: refs.map(familiarString), Layers: diffIds.map(blobPath) });
    const top = diffIds[diffIds.length - 1];
    for (const ref of refs) if (top) (repositories[familiarName(ref)] ??= {})[ref.tag!] = digestHex(top);
  }
  const files = [
    { name: 'index.json', data: json({ schemaVersion: 2, mediaType: MediaTypes.ociIndex, manifests: descriptors }) },
    { name: 'manifest.json', data: json(items) },
    { name: 'oci-layout', data: json({ imageLayoutVersion: '1.0.0' }) },
  ];
  if (Object.keys(repositories).length > 0) files.push({ name: 'repositories', data: json(repositories) });
  return { blobs, files };
}

/** The archive path of a blob: blobs/<alg>/<hex>. */
export function blobPath(digest: Digest): string {
  const { algorithm, hex } = parseDigest(digest);
  return `blobs/${algorithm}/${hex}`;
}

function json(v: unknown): Buffer {
  return Buffer.from(JSON.stringify(v));
}

/** A stored blob wins over decompressing one into the same digest. */
function addBlob(blobs: Map<Digest, BlobSource>, src: BlobSource): void {
  const have = blobs.get(src.digest);
  if (have === undefined || (have.kind === 'uncompressed' && src.kind === 'stored')) blobs.set(src.digest, src);
}

async function uncompressedSource(content: ContentStore, layer: Digest, diffId: Digest): Promise<BlobSource> {
  if (layer === diffId || (await content.has(diffId))) return { kind: 'stored', digest: diffId };
  return { kind: 'uncompressed', digest: diffId, from: layer };
}

/** Docker ≥ 25: one descriptor per tag, annotated with the full name and the tag; an untagged image gets a bare one. */
function indexDescriptors(manifest: Descriptor, refs: Reference[]): Descriptor[] {
  const bare: Descriptor = { mediaType: manifest.mediaType, digest: manifest.digest, size: manifest.size };
  if (refs.length === 0) return [bare];
  return refs.map((ref) => ({ ...bare, annotations: { [ANNOTATION_IMAGE_NAME]: ref.toString(), [ANNOTATION_REF_NAME]: ref.tag! } }));
}

/** The images names lead to, each once (in the order first named), with the tags to save. */
async function selectImages(store: ImageStore, names: string[]): Promise<Selected[]> {
  const byId = new Map<Digest, Selected>();
  for (const name of names) {
    for (const { record, ref } of await imagesFor(store, name)) {
      const sel = byId.get(record.id) ?? { record, refs: [] };
      byId.set(record.id, sel);
      if (ref && !sel.refs.some((r) => r.toString() === ref.toString())) sel.refs.push(ref);
    }
  }
  return [...byId.values()];
}

async function imagesFor(store: ImageStore, name: string): Promise<Array<{ record: ImageRecord; ref?: Reference }>> {
  const ref = tryReference(name);
  if (ref && ref.tag === undefined && ref.digest === undefined) {
    // Docker: a repository named without a tag saves every tag of that repository.
    const tagged = store
      .list()
      .flatMap((record) => record.repoTags.map((t) => ({ record, ref: parseReference(t) })))
      .filter((t) => t.ref.name === ref.name)
      .sort((a, b) => (a.ref.toString() < b.ref.toString() ? -1 : 1));
    if (tagged.length > 0) return tagged;
  }
  const record = await store.resolve(name);
  // Only a tag the image really has is saved: a name that resolved as an ID prefix or a
  // digest reference gives no tag (Docker puts digests in neither RepoTags nor index.json).
  const tag = ref && ref.digest === undefined ? withDefaultTag(ref) : undefined;
  return [{ record, ...(tag && record.repoTags.includes(tag.toString()) ? { ref: tag } : {}) }];
}

function tryReference(name: string): Reference | undefined {
  try {
    return parseReference(name);
  } catch {
    return undefined; // an ID ("sha256:…", 64 hex) or not a name at all: resolve() decides
  }
}
