// `docker rmi` and `docker image prune` semantics over the image store.
import type { Digest } from '../util/digest.js';
import { conflict } from '../util/errors.js';
import { familiarString, parseReference } from './reference.js';
import { normalizedTag, type ImageRecord, type ImageStore } from './store.js';

/** Who uses an image: a container ID (and whether it runs), or undefined. */
export type InUse = (imageId: Digest) => { container: string; running: boolean } | undefined;

export interface RemoveOptions {
  force?: boolean;
  /** Keep the image when its last tag goes (docker rmi --no-prune keeps parents; berth has none). */
  noPrune?: boolean;
  inUse?: InUse;
}

export type DeleteResponseItem = { Untagged: string } | { Deleted: string };

const short = (id: string): string => id.slice(7, 19);
const familiar = (ref: string): string => familiarString(parseReference(ref));

function isReferenceTo(img: ImageRecord, nameOrId: string): string | undefined {
  try {
    const ref = normalizedTag(nameOrId);
    return img.repoTags.includes(ref) || img.repoDigests.includes(ref) ? ref : undefined;
  } catch {
    return undefined;
  }
}

/** Remove a reference or an image, as `docker rmi` does; returns Docker's response items. */
export async function removeImage(store: ImageStore, nameOrId: string, opts: RemoveOptions = {}): Promise<DeleteResponseItem[]> {
  const img = await store.resolve(nameOrId);
  const user = opts.inUse?.(img.id);
  const ref = isReferenceTo(img, nameOrId);
  const refs = [...img.repoTags, ...img.repoDigests];
  if (ref && (refs.length > 1 || user)) {
    if (user && refs.length === 1 && !opts.force) {
      throw conflict(`conflict: unable to remove repository reference "${nameOrId}" (must force) - container ${short(`sha256:${user.container}`)} is using its referenced image ${short(img.id)}`);
    }
    await store.untag(ref);
    return [{ Untagged: familiar(ref) }];
  }
  if (user && (user.running || !opts.force)) {
    const how = user.running ? 'cannot be forced) - image is being used by running' : 'must be forced) - image is being used by stopped';
    throw conflict(`conflict: unable to delete ${short(img.id)} (${how} container ${user.container.slice(0, 12)}`);
  }
  if (!ref && refs.length > 1 && !opts.force) {
    throw conflict(`conflict: unable to delete ${short(img.id)} (must be forced) - image is referenced in multiple repositories`);
  }
  const out: DeleteResponseItem[] = refs.map((r) => ({ Untagged: familiar(r) }));
  for (const r of refs) await store.untag(r);
  if (opts.noPrune && refs.length > 0) return out;
  await store.deleteImage(img.id);
  out.push({ Deleted: img.id });
  return out;
}

export interface PruneResult {
  ImagesDeleted: DeleteResponseItem[];
  SpaceReclaimed: number;
}

/** Dangling images (no tags), or with all: every image no container uses. */
export async function pruneImages(store: ImageStore, opts: { all?: boolean; inUse?: InUse; keep?: (img: ImageRecord) => boolean } = {}): Promise<PruneResult> {
  const out: PruneResult = { ImagesDeleted: [], SpaceReclaimed: 0 };
  for (const img of store.list()) {
    const dangling = img.repoTags.length === 0;
    if ((!dangling && !opts.all) || opts.inUse?.(img.id) || opts.keep?.(img) === false) continue;
    for (const r of [...img.repoTags, ...img.repoDigests]) {
      await store.untag(r);
      out.ImagesDeleted.push({ Untagged: familiar(r) });
    }
    await store.deleteImage(img.id);
    out.ImagesDeleted.push({ Deleted: img.id });
    out.SpaceReclaimed += img.size;
  }
  return out;
}
