// `docker rmi` and `docker image prune` as dockerd decides them (daemon/images/
// image_delete.go, image_prune.go): which references go, when the image goes with them,
// which conflicts a force overrides, and the Untagged/Deleted records in Docker's order —
// the image's ID, then the chain ID of every layer that went with it.
import { LAYER_SIZE_LABEL } from '../../images/unpack.js';
import { familiarString, looksLikeIdPrefix, parseReference } from '../../images/reference.js';
import { normalizedTag, type ImageRecord, type ImageStore } from '../../images/store.js';
import type { Filters, ImageDeleteResponseItem, ImagePruneResponse } from '../../oci/engine-api.js';
import type { Digest } from '../../util/digest.js';
import { conflict, isBerthError, type BerthError } from '../../util/errors.js';
import { truncateId } from '../../util/units.js';
import type { ImageEvents } from './events.js';
import { PRUNE_FILTERS, checkFilterNames, danglingFilter, pruneLabelsMatch, untilFilter } from './filters.js';

/** Who uses an image: a container ID (a running one, when there is one) and whether it runs. */
export type InUse = (imageId: string) => { container: string; running: boolean } | undefined;

export interface DeleteContext {
  store: ImageStore;
  events: ImageEvents;
  inUse: InUse;
}

const familiar = (ref: string): string => familiarString(parseReference(ref));
const isCanonical = (ref: string): boolean => ref.includes('@');
const repositoryOf = (ref: string): string => parseReference(ref).name;
const refsOf = (img: ImageRecord): string[] => [...img.repoTags, ...img.repoDigests];

/** isImageIDPrefix: the user named the image by (a prefix of) its ID, not by a reference. */
function namesById(id: string, nameOrId: string): boolean {
  return looksLikeIdPrefix(nameOrId) && (id.startsWith(nameOrId) || id.slice(7).startsWith(nameOrId));
}

/** All references are of one repository, with at most one tag among them (dockerd's isSingleReference). */
function isSingleReference(refs: string[]): boolean {
  if (refs.length <= 1) return refs.length === 1;
  const tags = refs.filter((r) => !isCanonical(r));
  if (tags.length > 1) return false;
  const canonicalRepos = new Set(refs.filter(isCanonical).map(repositoryOf));
  return canonicalRepos.size === 1 && canonicalRepos.has(repositoryOf(tags[0] ?? refs[0]!));
}

interface Mask {
  running: boolean;
  references: boolean;
  stopped: boolean;
}

interface DeleteConflict {
  error: BerthError;
  /** A container uses the image (as opposed to references holding it). */
  used: boolean;
}

function checkConflict(ctx: DeleteContext, id: Digest, refs: string[], mask: Mask): DeleteConflict | undefined {
  const make = (hard: boolean, message: string, used: boolean): DeleteConflict => ({
    error: conflict(`conflict: unable to delete ${truncateId(id)} (${hard ? 'cannot be forced' : 'must be forced'}) - ${message}`),
    used,
  });
  const user = ctx.inUse(id);
  if (mask.running && user?.running) return make(true, `image is being used by running container ${truncateId(user.container)}`, true);
  if (mask.references && refs.length > 0) return make(false, 'image is referenced in multiple repositories', false);
  if (mask.stopped && user && !user.running) return make(false, `image is being used by stopped container ${truncateId(user.container)}`, true);
  return undefined;
}

async function untag(ctx: DeleteContext, id: Digest, ref: string, records: ImageDeleteResponseItem[], logEvent = true): Promise<void> {
  await ctx.store.untag(ref);
  records.push({ Untagged: familiar(ref) });
  if (logEvent) await ctx.events.log('untag', id, id);
}

/** `DELETE /images/{name}`: Docker's records, or a Conflict worded as dockerd words it. */
export async function deleteImage(ctx: DeleteContext, nameOrId: string, force: boolean): Promise<ImageDeleteResponseItem[]> {
  const img = await ctx.store.resolve(nameOrId);
  const id = img.id;
  let refs = refsOf(img);
  const records: ImageDeleteResponseItem[] = [];
  let removedRepositoryRef = false;
  if (!namesById(id, nameOrId)) {
    const user = ctx.inUse(id);
    if (!force && isSingleReference(refs) && user) {
      // Untagging would leave the container's image dangling: only on purpose.
      throw conflict(`conflict: unable to remove repository reference "${nameOrId}" (must force) - container ${truncateId(user.container)} is using its referenced image ${truncateId(id)}`);
    }
    const ref = normalizedTag(nameOrId);
    await untag(ctx, id, ref, records);
    refs = refs.filter((r) => r !== ref);
    if (!isCanonical(ref)) refs = await dropOrphanDigests(ctx, id, ref, refs, records);
    if (refs.length > 0) return records;
    removedRepositoryRef = true;
  } else if (isSingleReference(refs)) {
    const found = checkConflict(ctx, id, refs, { running: true, references: false, stopped: !force });
    if (found) throw found.error;
    for (const ref of refs) await untag(ctx, id, ref, records);
  }
  await deleteUnlessUsed(ctx, id, records, force, removedRepositoryRef);
  return records;
}

/** The last tag of a repository went: its digest references go too (they name nothing a user asked for). */
async function dropOrphanDigests(ctx: DeleteContext, id: Digest, removed: string, refs: string[], records: ImageDeleteResponseItem[]): Promise<string[]> {
  const repo = repositoryOf(removed);
  if (refs.some((r) => !isCanonical(r) && repositoryOf(r) === repo)) return refs;
  const remaining: string[] = [];
  for (const r of refs) {
    if (isCanonical(r) && repositoryOf(r) === repo) await untag(ctx, id, r, records, false);
    else remaining.push(r);
  }
  return remaining;
}

/**
 * dockerd's imageDeleteHelper. `quiet`: the user removed the last reference, and a container
 * still using the now dangling image is no error — the image simply stays.
 */
async function deleteUnlessUsed(ctx: DeleteContext, id: Digest, records: ImageDeleteResponseItem[], force: boolean, quiet: boolean): Promise<void> {
  const refs = refsOf(await ctx.store.resolve(id));
  const found = checkConflict(ctx, id, refs, { running: true, references: !force, stopped: !force });
  if (found) {
    if (quiet && (refs.length > 0 || found.used)) return;
    throw found.error;
  }
  for (const ref of refs) await untag(ctx, id, ref, records);
  await ctx.store.index.update((idx) => {
    delete idx.images[id];
    for (const map of [idx.tags, idx.digests]) for (const [k, v] of Object.entries(map)) if (v === id) delete map[k];
  });
  const gc = await ctx.store.collectGarbage();
  await ctx.events.log('delete', id, id);
  records.push({ Deleted: id });
  for (const chainId of gc.snapshots) records.push({ Deleted: chainId });
}

/**
 * `POST /images/prune`: dangling images (no tag), or with dangling=false every image, that
 * match the until/label filters; an image a container uses is skipped, as any image whose
 * removal meets a conflict. SpaceReclaimed: the sizes of the layers that went.
 */
export async function pruneImages(ctx: DeleteContext, filters: Filters): Promise<ImagePruneResponse> {
  checkFilterNames(filters, PRUNE_FILTERS);
  const danglingOnly = danglingFilter(filters) ?? true;
  const until = untilFilter(filters);
  const sizes = await layerSizes(ctx.store);
  const deleted: ImageDeleteResponseItem[] = [];
  for (const img of ctx.store.list()) {
    if (danglingOnly && img.repoTags.length > 0) continue;
    const config = await ctx.store.configOf(img);
    if (until !== undefined && (config.created === undefined || Date.parse(config.created) > until)) continue;
    if (!pruneLabelsMatch(config.config?.Labels ?? {}, filters)) continue;
    const refs = refsOf(img);
    // By reference, one after another, so the last one removes the image; an untagged image by ID.
    for (const target of refs.length > 0 ? refs : [img.id.slice(7)]) {
      try {
        deleted.push(...(await deleteImage(ctx, target, false)));
      } catch (err) {
        if (!isBerthError(err)) throw err;
        // dockerd skips what it cannot delete (a container uses it, it went meanwhile).
      }
    }
  }
  const reclaimed = deleted.reduce((n, d) => n + (d.Deleted ? (sizes.get(d.Deleted) ?? 0) : 0), 0);
  ctx.events.pruned(reclaimed);
  return { ImagesDeleted: deleted.length > 0 ? deleted : null, SpaceReclaimed: reclaimed };
}

/** Unpacked size of every committed layer snapshot, by chain ID. */
async function layerSizes(store: ImageStore): Promise<Map<string, number>> {
  const sizes = new Map<string, number>();
  await store.snapshots.walk((info) => {
    if (info.kind === 'committed') sizes.set(info.key, Number(info.labels[LAYER_SIZE_LABEL] ?? 0));
  });
  return sizes;
}
