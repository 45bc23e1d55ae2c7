// Unpack an image's layers into committed snapshots named by chain ID, so images that
// share a base share its snapshots. A layer is applied into a fresh active snapshot and
// committed only when both its digests verified; a failure removes the partial snapshot.
import { randomBytes } from 'node:crypto';
import type { ContentStore } from '../content/store.js';
import { chainIds, type Manifest } from '../oci/image-spec.js';
import { writableDir, type Snapshotter } from '../snapshots/snapshotter.js';
import type { Digest } from '../util/digest.js';
import { isBerthError } from '../util/errors.js';
import { applyLayer } from './layer/apply.js';

export const LAYER_SIZE_LABEL = 'berth.layer.size';

/**
 * Told when a layer that is not yet unpacked starts (current 0) and when it is done (current =
 * total, the blob's size in bytes); layers berth already has are not reported, as in dockerd.
 */
export type LayerProgress = (layer: { index: number; diffId: Digest; current: number; total: number }) => void;

export interface UnpackResult {
  chainId: Digest | undefined;
  /** Unpacked (tar) bytes of all layers. */
  size: number;
}

async function committedSize(snapshots: Snapshotter, key: string): Promise<number | undefined> {
  try {
    const info = await snapshots.stat(key);
    return info.kind === 'committed' ? Number(info.labels[LAYER_SIZE_LABEL] ?? 0) : undefined;
  } catch (err) {
    if (isBerthError(err, 'NotFound')) return undefined;
    throw err;
  }
}

async function unpackLayer(
  content: ContentStore,
  snapshots: Snapshotter,
  manifest: Manifest,
  diffIds: readonly Digest[],
  chains: readonly Digest[],
  i: number,
): Promise<number> {
  const layer = manifest.layers[i]!;
  const key = `extract-${randomBytes(6).toString('hex')}-${chains[i]}`;
  const mounts = await snapshots.prepare(key, i > 0 ? chains[i - 1] : undefined);
  try {
    const target = writableDir(mounts);
    const result = await applyLayer({ path: content.blobPath(layer.digest) }, target.dir, {
      style: target.style,
      label: `layer ${i + 1}/${manifest.layers.length} (${layer.digest})`,
      expectedDigest: layer.digest as Digest,
      expectedDiffId: diffIds[i]!,
    });
    await snapshots.commit(chains[i]!, key, { labels: { [LAYER_SIZE_LABEL]: String(result.size) } });
    return result.size;
  } catch (err) {
    await snapshots.remove(key).catch(() => undefined);
    // Another unpack of the same chain committed first: theirs is as good as ours.
    const size = isBerthError(err, 'Conflict') ? await committedSize(snapshots, chains[i]!) : undefined;
    if (size === undefined) throw err;
    return size;
  }
}

export async function unpackImage(content: ContentStore, snapshots: Snapshotter, manifest: Manifest, diffIds: readonly Digest[], onLayer?: LayerProgress): Promise<UnpackResult> {
  const chains = chainIds(diffIds);
  let size = 0;
  for (let i = 0; i < chains.length; i++) {
    const have = await committedSize(snapshots, chains[i]!);
    if (have !== undefined) {
      size += have;
      continue;
    }
    const report = (current: number): void => onLayer?.({ index: i, diffId: diffIds[i]!, current, total: manifest.layers[i]!.size });
    report(0);
    size += await unpackLayer(content, snapshots, manifest, diffIds, chains, i);
    report(manifest.layers[i]!.size);
  }
  return { chainId: chains[chains.length - 1], size };
}
