// `docker container prune`: remove every stopped container (filters: until, label).
import type { ContainerPruneResponse, Filters } from '../../oci/engine-api.js';
import type { ImageStore } from '../../images/store.js';
import { invalidArgument } from '../../util/errors.js';
import type { ContainerManager } from './manager.js';
import { labelMatches } from '../../util/labels.js';

export async function pruneContainers(manager: ContainerManager, images: ImageStore, filters: Filters): Promise<ContainerPruneResponse> {
  for (const key of Object.keys(filters)) if (key !== 'until' && key !== 'label' && key !== 'label!') throw invalidArgument(`invalid filter '${key}'`);
  const until = filters.until?.[0] !== undefined ? untilTime(filters.until[0]) : undefined;
  const deleted: string[] = [];
  let reclaimed = 0;
  for (const rec of manager.store.all()) {
    if (rec.State.Running || rec.State.Paused || rec.State.Restarting || manager.isRemoving(rec.ID)) continue;
    if (until !== undefined && Date.parse(rec.Created) >= until) continue;
    const labels = rec.Config.Labels ?? {};
    if (!(filters.label ?? []).every((l) => labelMatches(labels, l))) continue;
    if ((filters['label!'] ?? []).some((l) => labelMatches(labels, l))) continue;
    const usage = await images.snapshots.usage(rec.SnapshotKey).catch(() => ({ size: 0 }));
    try {
      await manager.remove(rec.ID, { force: false });
      deleted.push(rec.ID);
      reclaimed += usage.size;
    } catch {
      // started or removed meanwhile: not ours to prune
    }
  }
  return { ContainersDeleted: deleted.length > 0 ? deleted : null, SpaceReclaimed: reclaimed };
}

/** "until": a Unix timestamp, an RFC 3339 date, or a duration before now ("24h"). */
export function untilTime(value: string): number {
  if (/^\d+(\.\d+)?$/.test(value)) return Number(value) * 1000;
  const d = /^(\d+)(s|m|h)$/.exec(value);
  if (d) return Date.now() - Number(d[1]) * { s: 1000, m: 60_000, h: 3_600_000 }[d[2] as 's' | 'm' | 'h'];
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw invalidArgument(`invalid filter 'until=${value}'`);
  return t;
}
