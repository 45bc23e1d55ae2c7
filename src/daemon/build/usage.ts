// The build cache as `docker system df` shows it (moby's types.BuildCache records).
import type { BuildCache } from '../../build/cache.js';

export interface BuildCacheRecord {
  ID: string;
  Parent: string;
  Parents: string[];
  Type: string;
  Description: string;
  InUse: boolean;
  Shared: boolean;
  Size: number;
  CreatedAt: string;
  LastUsedAt: string;
  UsageCount: number;
}

/** The ID of a cache record as the API shows it: 25 characters, as BuildKit's are. */
export function cacheRecordId(key: string): string {
  return key.slice(0, 25);
}

export function buildCacheUsage(cache: BuildCache): BuildCacheRecord[] {
  // A layer two entries share (the same step reached twice) counts once, as shared.
  const seen = new Map<string, number>();
  for (const e of cache.list()) for (const l of e.layers) seen.set(l.digest, (seen.get(l.digest) ?? 0) + 1);
  return cache.list().map((e) => ({
    ID: cacheRecordId(e.id),
    Parent: e.parent ? cacheRecordId(e.parent) : '',
    Parents: e.parent ? [cacheRecordId(e.parent)] : [],
    Type: 'regular',
    Description: e.description,
    InUse: false,
    Shared: e.layers.length > 0 && (seen.get(e.layers.at(-1)!.digest) ?? 0) > 1,
    Size: e.size,
    CreatedAt: e.created,
    LastUsedAt: e.lastUsed,
    UsageCount: e.usageCount,
  }));
}
