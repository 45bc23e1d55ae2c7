// Writing a new image: a layer stream into content, then config and manifest (OCI media
// types, as Docker ≥ 25 writes them), then ImageStore.addImage. import, commit, the
// built-in hello-world and (later) the builder all end here.
import { Readable } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { MediaTypes, hostPlatform, type Descriptor, type HistoryEntry, type ImageConfig } from '../oci/image-spec.js';
import { Digester, type Digest } from '../util/digest.js';
import { decompress, peekCompression } from './layer/compression.js';
import type { ImageRecord, ImageStore } from './store.js';

export interface NewLayer {
  descriptor: Descriptor;
  diffId: Digest;
}

const LAYER_TYPES = { none: MediaTypes.ociLayer, gzip: MediaTypes.ociLayerGzip, zstd: MediaTypes.ociLayerZstd } as const;

/** Store a layer stream (tar, gzip or zstd) as a blob and learn its diff ID. */
export async function storeLayer(store: ImageStore, source: AsyncIterable<Buffer>, lease?: string): Promise<NewLayer> {
  const { kind, stream } = await peekCompression(source);
  const ref = `layer-${randomBytes(8).toString('hex')}`;
  const { digest, size } = await store.content.ingestStream(ref, Readable.from(stream), undefined, lease ? { lease } : {});
  let diffId = digest;
  if (kind !== 'none') {
    const d = new Digester();
    for await (const chunk of decompress(await store.content.createReadStream(digest), kind)) d.update(chunk);
    diffId = d.digest();
  }
  return { descriptor: { mediaType: LAYER_TYPES[kind], digest, size }, diffId };
}

export interface NewImage {
  /** Config to start from (a base image's, or an import's empty one). */
  base?: ImageConfig;
  baseLayers?: Descriptor[];
  layer?: NewLayer;
  /** Replaces base.config fields (already merged by the caller's --change handling). */
  config?: ImageConfig['config'];
  history: HistoryEntry;
  author?: string;
  created?: string;
  refs?: string[];
}

/**
 * The parent's history with one entry per layer: history is optional in OCI, so a parent may
 * list fewer layer entries than it has layers; the child must not (entries stand in for them).
 */
function baseHistory(base: ImageConfig): NonNullable<ImageConfig['history']> {
  const history = [...(base.history ?? [])];
  const missing = base.rootfs.diff_ids.length - history.filter((h) => h.empty_layer !== true).length;
  const stand = base.created ? { created: base.created } : {};
  return missing > 0 ? [...Array.from({ length: missing }, () => ({ ...stand })), ...history] : history;
}

function buildConfig(img: NewImage, created: string): ImageConfig {
  const platform = hostPlatform();
  const base: ImageConfig = img.base ?? { architecture: platform.architecture, os: platform.os, rootfs: { type: 'layers', diff_ids: [] } };
  const diffIds = [...base.rootfs.diff_ids, ...(img.layer ? [img.layer.diffId] : [])];
  const history = [...baseHistory(base), { ...img.history, created, ...(img.layer ? {} : { empty_layer: true }) }];
  const config: ImageConfig = { ...base, created, rootfs: { type: 'layers', diff_ids: diffIds }, history };
  if (img.author !== undefined) config.author = img.author;
  if (img.config !== undefined) config.config = img.config;
  if (platform.variant && !config.variant && config.architecture === platform.architecture) config.variant = platform.variant;
  return config;
}

/** Store a config (as given, byte for byte) and an OCI manifest over layers; the manifest's descriptor. */
export async function writeManifest(store: ImageStore, configBytes: Buffer, layers: Descriptor[], lease?: string): Promise<Descriptor> {
  const leased = lease ? { lease } : {};
  const configDigest = await store.content.writeBlob(configBytes, undefined, undefined, leased);
  const manifest = {
    schemaVersion: 2,
    mediaType: MediaTypes.ociManifest,
    config: { mediaType: MediaTypes.ociConfig, digest: configDigest, size: configBytes.length },
    layers,
  };
  const manifestBytes = Buffer.from(JSON.stringify(manifest));
  const manifestDigest = await store.content.writeBlob(manifestBytes, undefined, undefined, leased);
  return { mediaType: MediaTypes.ociManifest, digest: manifestDigest, size: manifestBytes.length };
}

/** Write config and manifest, then add the image. Pass the lease its layer was stored under. */
export async function createImage(store: ImageStore, img: NewImage, lease?: string): Promise<ImageRecord> {
  const configBytes = Buffer.from(JSON.stringify(buildConfig(img, img.created ?? new Date().toISOString())));
  const layers = [...(img.baseLayers ?? []), ...(img.layer ? [img.layer.descriptor] : [])];
  return store.addImage(await writeManifest(store, configBytes, layers, lease), { refs: img.refs ?? [] });
}
