// The OCI image layout (oci-layout, index.json, blobs/), as skopeo's oci:/oci-archive:,
// buildkit and Docker ≥ 25 write it. index.json may name manifests or (nested) indexes;
// from an index the host's platform is chosen. An image's name comes from containerd's
// annotation (the full reference) or, failing that, from org.opencontainers.image.ref.name
// when it holds a whole reference (skopeo writes "busybox:1" there; a bare tag names no
// repository, so such an image loads untagged).
import type { ContentStore } from '../../content/store.js';
import {
  MAX_MANIFEST_SIZE,
  hostPlatform,
  isIndexType,
  isManifestType,
  parseIndex,
  selectManifest,
  type Descriptor,
  type Index,
} from '../../oci/image-spec.js';
import { invalidArgument } from '../../util/errors.js';
import { loadTag, parseJsonDocument, readDocument, within, type LoadPlan } from './load-plan.js';

export const ANNOTATION_IMAGE_NAME = 'io.containerd.image.name';
export const ANNOTATION_REF_NAME = 'org.opencontainers.image.ref.name';

/** Indexes inside indexes followed before giving up. */
const MAX_INDEX_DEPTH = 4;

export function parseLayoutIndex(bytes: Buffer): Index {
  try {
    return parseIndex(bytes);
  } catch (err) {
    throw within('index.json', err);
  }
}

export function checkLayoutFile(bytes: Buffer | undefined): void {
  if (bytes === undefined) return; // Docker tolerates its absence when index.json is there; so do we
  const doc = parseJsonDocument(bytes, 'oci-layout');
  const version = (doc as { imageLayoutVersion?: unknown } | null)?.imageLayoutVersion;
  if (typeof version !== 'string' || !/^1\.\d+\.\d+$/.test(version)) {
    throw invalidArgument(`oci-layout: unsupported imageLayoutVersion ${JSON.stringify(version ?? null)}, want 1.x.y`);
  }
}

export async function planOciLayout(content: ContentStore, index: Index): Promise<LoadPlan[]> {
  const plans: LoadPlan[] = [];
  for (const [i, desc] of index.manifests.entries()) {
    const where = `index.json manifests[${i}]`;
    const picked = await pickManifest(content, desc, where, 0);
    if (picked === undefined) continue; // not an image: an artifact, a signature
    const ref = imageName(desc, where);
    plans.push({ where, ...picked, refs: ref === undefined ? [] : [ref] });
  }
  return plans;
}

function imageName(desc: Descriptor, where: string): string | undefined {
  const full = desc.annotations?.[ANNOTATION_IMAGE_NAME];
  if (full) return loadTag(full, `${where} annotation ${ANNOTATION_IMAGE_NAME}`);
  const refName = desc.annotations?.[ANNOTATION_REF_NAME];
  if (refName && /[:/]/.test(refName)) return loadTag(refName, `${where} annotation ${ANNOTATION_REF_NAME}`);
  return undefined;
}

/** The manifest a descriptor leads to on this host, with the outermost index it was chosen from. */
async function pickManifest(
  content: ContentStore,
  desc: Descriptor,
  where: string,
  depth: number,
): Promise<{ manifest: Descriptor; index?: Descriptor } | undefined> {
  // The record keeps the descriptor; the layout's annotations (its names) are not the image's.
  if (isManifestType(desc.mediaType)) return { manifest: { mediaType: desc.mediaType, digest: desc.digest, size: desc.size } };
  if (!isIndexType(desc.mediaType)) return undefined;
  if (depth >= MAX_INDEX_DEPTH) throw invalidArgument(`${where}: indexes nested more than ${MAX_INDEX_DEPTH} deep`);
  const bytes = await readDocument(content, desc, where, MAX_MANIFEST_SIZE);
  let chosen: Descriptor;
  try {
    const nested = parseIndex(bytes, desc.mediaType);
    const only = nested.manifests.length === 1 ? nested.manifests[0] : undefined;
    // A one-entry index without a platform says nothing to choose by: take the entry.
    chosen = only && only.platform === undefined ? only : selectManifest(nested, hostPlatform());
  } catch (err) {
    throw within(`${where} (index ${desc.digest})`, err);
  }
  const inner = await pickManifest(content, chosen, `${where} → ${chosen.digest}`, depth + 1);
  return inner && { manifest: inner.manifest, index: { mediaType: desc.mediaType, digest: desc.digest, size: desc.size } };
}
