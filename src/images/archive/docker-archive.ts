// The docker-archive format (`docker save` before 25, skopeo's docker-archive:, and the
// manifest.json half of Docker ≥ 25's output): manifest.json lists, per image, a config
// file, its tags and one uncompressed tar per layer. berth stores such an image as a
// Docker schema2 manifest it writes itself, with layers whose digests are the diff IDs.
import { randomBytes } from 'node:crypto';
import type { ContentStore } from '../../content/store.js';
import { MediaTypes, parseImageConfig, type Descriptor, type ImageConfig, type Manifest } from '../../oci/image-spec.js';
import type { Digest } from '../../util/digest.js';
import { invalidArgument } from '../../util/errors.js';
import { decompress, peekCompression } from '../layer/compression.js';
import { loadTag, parseJsonDocument, readDocument, within, type LoadPlan } from './load-plan.js';
import { referencedName, showName } from './members.js';
import type { ArchiveLimits, StagedArchive, StagedFile } from './stage.js';

interface ManifestItem {
  Config: string;
  RepoTags: string[];
  Layers: string[];
}

/** Images one manifest.json may list; each needs work, so a hostile list is cut short. */
const MAX_ITEMS = 10_000;

export async function planDockerArchive(content: ContentStore, staged: StagedArchive, lease: string, limits: ArchiveLimits): Promise<LoadPlan[]> {
  const items = parseArchiveManifest(staged.meta.get('manifest.json')!);
  const plans: LoadPlan[] = [];
  for (const [i, item] of items.entries()) plans.push(await planItem(content, staged, item, `manifest.json[${i}]`, lease, limits));
  return plans;
}

export function parseArchiveManifest(bytes: Buffer): ManifestItem[] {
  const doc = parseJsonDocument(bytes, 'manifest.json');
  if (!Array.isArray(doc)) throw invalidArgument('manifest.json: want a JSON array of images');
  if (doc.length > MAX_ITEMS) throw invalidArgument(`manifest.json lists ${doc.length} images, more than ${MAX_ITEMS}`);
  return doc.map((v, i) => parseItem(v, `manifest.json[${i}]`));
}

function parseItem(v: unknown, where: string): ManifestItem {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw invalidArgument(`${where}: want an object`);
  const o = v as Record<string, unknown>;
  if (typeof o['Config'] !== 'string') throw invalidArgument(`${where}.Config: want a string (the config file's path)`);
  // Docker writes null for an untagged image.
  const tags = o['RepoTags'] ?? [];
  return { Config: o['Config'], RepoTags: stringList(tags, `${where}.RepoTags`), Layers: stringList(o['Layers'], `${where}.Layers`) };
}

function stringList(v: unknown, where: string): string[] {
  if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) throw invalidArgument(`${where}: want an array of strings`);
  return v as string[];
}

async function planItem(content: ContentStore, staged: StagedArchive, item: ManifestItem, where: string, lease: string, limits: ArchiveLimits): Promise<LoadPlan> {
  const configFile = staged.file(referencedName(item.Config, `${where}.Config`), `${where}.Config`);
  const configDesc: Descriptor = { mediaType: MediaTypes.dockerConfig, digest: configFile.digest, size: configFile.size };
  const config = await readConfig(content, configDesc, `${where}.Config`, limits);
  const diffIds = config.rootfs.diff_ids;
  if (item.Layers.length !== diffIds.length) {
    throw invalidArgument(`${where}: ${item.Layers.length} layers listed but the image config has ${diffIds.length} diff_ids`);
  }
  const layers: Descriptor[] = [];
  for (const [i, path] of item.Layers.entries()) {
    const at = `${where}.Layers[${i}]`;
    layers.push(await uncompressedLayer(content, staged.file(referencedName(path, at), at), diffIds[i]!, `${at} ${showName(path)}`, lease));
  }
  const refs = item.RepoTags.map((t, i) => loadTag(t, `${where}.RepoTags[${i}]`));
  return { where, manifest: await writeManifest(content, configDesc, layers, lease), refs };
}

async function readConfig(content: ContentStore, desc: Descriptor, where: string, limits: ArchiveLimits): Promise<ImageConfig> {
  const bytes = await readDocument(content, desc, where, limits.maxJsonBytes);
  try {
    return parseImageConfig(bytes);
  } catch (err) {
    throw within(where, err);
  }
}

/**
 * The layer as the uncompressed tar whose digest is its diff ID. Docker's own archives
 * hold exactly that; a compressed layer.tar (some tools write one, Docker accepts it) is
 * decompressed into the content store and must hash to the diff ID.
 */
async function uncompressedLayer(content: ContentStore, file: StagedFile, diffId: Digest, where: string, lease: string): Promise<Descriptor> {
  const layer = (size: number): Descriptor => ({ mediaType: MediaTypes.dockerLayer, digest: diffId, size });
  if (file.digest === diffId) return layer(file.size);
  const have = await content.info(diffId);
  if (have) return layer(have.size); // the config names the content; the store already has it, verified
  const blob = await content.createReadStream(file.digest);
  const ref = `archive-load-${randomBytes(8).toString('hex')}`;
  let kind = 'none';
  try {
    const peeked = await peekCompression(blob as AsyncIterable<Buffer>);
    kind = peeked.kind;
    if (kind === 'none') throw invalidArgument(`hashes to ${file.digest}, but the image config's diff_id is ${diffId}`);
    return layer((await content.ingestStream(ref, decompress(peeked.stream, peeked.kind), { digest: diffId }, { lease })).size);
  } catch (err) {
    await content.abortIngest(ref).catch(() => undefined);
    throw within(kind === 'none' ? where : `${where} (${kind}-compressed)`, err);
  } finally {
    blob.destroy(); // an early stop (bad data) leaves it open otherwise
  }
}

async function writeManifest(content: ContentStore, config: Descriptor, layers: Descriptor[], lease: string): Promise<Descriptor> {
  const manifest: Manifest = { schemaVersion: 2, mediaType: MediaTypes.dockerManifest, config, layers };
  const bytes = Buffer.from(JSON.stringify(manifest));
  const digest = await content.writeBlob(bytes, undefined, undefined, { lease });
  return { mediaType: MediaTypes.dockerManifest, digest, size: bytes.length };
}
