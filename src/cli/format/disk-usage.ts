// `docker system df` (docker/cli cli/command/formatter/disk_usage.go): the summary table
// (TYPE TOTAL ACTIVE SIZE RECLAIMABLE) and, with -v, one table per kind.
import type { ContainerSummary, DiskUsage, ImageSummary } from '../../oci/engine-api.js';
import { familiarName, parseReference } from '../../images/reference.js';
import { ContainerContext, containerHeader } from './container.js';
import {
  HeaderMap, RAW_FORMAT_KEY, TABLE_FORMAT_KEY, executeFormat, finalFormat, formatRows, isTableFormat, parseFormat,
} from './formatter.js';
import { ImageContext, imageHeader } from './image.js';
import { FormatContext } from './template.js';
import { goTimeString } from './time.js';
import { humanDuration, humanSize, humanSizeWithPrecision, truncateId } from '../../util/units.js';

const DEFAULT_DISK_USAGE_TABLE_FORMAT = 'table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}';
const IMAGE_TABLE = 'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}\t{{.SharedSize}}\t{{.UniqueSize}}\t{{.Containers}}';
const CONTAINER_TABLE = 'table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.LocalVolumes}}\t{{.Size}}\t{{.RunningFor}}\t{{.Status}}\t{{.Names}}';
const VOLUME_TABLE = 'table {{.Name}}\t{{.Links}}\t{{.Size}}';
const BUILD_CACHE_TABLE = 'table {{.ID}}\t{{.CacheType}}\t{{.Size}}\t{{.CreatedSince}}\t{{.LastUsedSince}}\t{{.UsageCount}}\t{{.Shared}}';

/** A volume as /system/df lists it. */
export interface DfVolume {
  Name: string;
  Driver?: string;
  Mountpoint?: string;
  Scope?: string;
  Labels?: Record<string, string> | null;
  UsageData?: { Size: number; RefCount: number } | null;
}

/** A build cache record as /system/df lists it. */
export interface DfBuildCache {
  ID: string;
  Parent?: string;
  Parents?: string[] | null;
  Type: string;
  Description?: string;
  InUse: boolean;
  Shared: boolean;
  Size: number;
  CreatedAt: string;
  LastUsedAt?: string | null;
  UsageCount: number;
}

const percentOf = (part: number, total: number): string => `${humanSize(part)} (${Math.trunc((part * 100) / total)}%)`;

const isActiveContainer = (c: ContainerSummary): boolean => c.State === 'running' || c.State === 'paused' || c.State === 'restarting';

abstract class SummaryContext extends FormatContext {
  protected jsonFields(): string[] {
    return ['Active', 'Reclaimable', 'Size', 'TotalCount', 'Type'];
  }
  abstract Type(): string;
  abstract TotalCount(): string;
  abstract Active(): string;
  abstract Size(): string;
  abstract Reclaimable(): string;
}

class ImagesSummary extends SummaryContext {
  readonly goType = '*formatter.diskUsageImagesContext';
  constructor(private readonly totalSize: number, private readonly images: ImageSummary[]) {
    super();
  }
  Type(): string {
    return 'Images';
  }
  TotalCount(): string {
    return String(this.images.length);
  }
  Active(): string {
    return String(this.images.filter((i) => i.Containers > 0).length);
  }
  Size(): string {
    return humanSize(this.totalSize);
  }
  Reclaimable(): string {
    let used = 0;
    for (const i of this.images) {
      if (i.Containers !== 0 && i.Size !== -1 && i.SharedSize !== -1) used += i.Size - i.SharedSize;
    }
    const reclaimable = this.totalSize - used;
    return this.totalSize > 0 ? percentOf(reclaimable, this.totalSize) : humanSize(reclaimable);
  }
}

class ContainersSummary extends SummaryContext {
  readonly goType = '*formatter.diskUsageContainersContext';
  constructor(private readonly containers: ContainerSummary[]) {
    super();
  }
  Type(): string {
    return 'Containers';
  }
  TotalCount(): string {
    return String(this.containers.length);
  }
  Active(): string {
    return String(this.containers.filter(isActiveContainer).length);
  }
  Size(): string {
    return humanSize(this.containers.reduce((sum, c) => sum + (c.SizeRw ?? 0), 0));
  }
  Reclaimable(): string {
    let reclaimable = 0;
    let total = 0;
    for (const c of this.containers) {
      if (!isActiveContainer(c)) reclaimable += c.SizeRw ?? 0;
      total += c.SizeRw ?? 0;
    }
    return total > 0 ? percentOf(reclaimable, total) : humanSize(reclaimable);
  }
}

class VolumesSummary extends SummaryContext {
  readonly goType = '*formatter.diskUsageVolumesContext';
  constructor(private readonly volumes: DfVolume[]) {
    super();
  }
  Type(): string {
    return 'Local Volumes';
  }
  TotalCount(): string {
    return String(this.volumes.length);
  }
  Active(): string {
    return String(this.volumes.filter((v) => (v.UsageData?.RefCount ?? 0) > 0).length);
  }
  Size(): string {
    return humanSize(this.volumes.reduce((sum, v) => sum + (v.UsageData && v.UsageData.Size !== -1 ? v.UsageData.Size : 0), 0));
  }
  Reclaimable(): string {
    let reclaimable = 0;
    let total = 0;
    for (const v of this.volumes) {
      const size = v.UsageData?.Size ?? -1;
      if (size === -1) continue;
      if ((v.UsageData?.RefCount ?? 0) === 0) reclaimable += size;
      total += size;
    }
    return total > 0 ? percentOf(reclaimable, total) : humanSize(reclaimable);
  }
}

class BuildCacheSummary extends SummaryContext {
  readonly goType = '*formatter.diskUsageBuilderContext';
  constructor(private readonly builderSize: number, private readonly records: DfBuildCache[]) {
    super();
  }
  Type(): string {
    return 'Build Cache';
  }
  TotalCount(): string {
    return String(this.records.length);
  }
  Active(): string {
    return String(this.records.filter((r) => r.InUse).length);
  }
  Size(): string {
    return humanSize(this.builderSize);
  }
  Reclaimable(): string {
    const inUse = this.records.filter((r) => r.InUse && !r.Shared).reduce((sum, r) => sum + r.Size, 0);
    return humanSize(this.builderSize - inUse);
  }
}

export class VolumeContext extends FormatContext {
  readonly goType = '*formatter.volumeContext';
  constructor(private readonly v: DfVolume) {
    super();
  }
  protected jsonFields(): string[] {
    return ['Driver', 'Labels', 'Links', 'Mountpoint', 'Name', 'Scope', 'Size'];
  }
  Name(): string {
    return this.v.Name;
  }
  Driver(): string {
    return this.v.Driver ?? '';
  }
  Scope(): string {
    return this.v.Scope ?? '';
  }
  Mountpoint(): string {
    return this.v.Mountpoint ?? '';
  }
  Labels(): string {
    return Object.entries(this.v.Labels ?? {}).map(([k, v]) => `${k}=${v}`).join(',');
  }
  Links(): string {
    return this.v.UsageData ? String(this.v.UsageData.RefCount) : 'N/A';
  }
  Size(): string {
    return this.v.UsageData ? humanSize(this.v.UsageData.Size) : 'N/A';
  }
}

export class BuildCacheContext extends FormatContext {
  readonly goType = '*formatter.buildCacheContext';
  constructor(private readonly v: DfBuildCache, private readonly trunc: boolean, private readonly nowMs = Date.now()) {
    super();
  }
  protected jsonFields(): string[] {
    return ['CacheType', 'CreatedAt', 'CreatedSince', 'Description', 'ID', 'InUse', 'LastUsedAt', 'LastUsedSince', 'Parent', 'Shared', 'Size', 'UsageCount'];
  }
  ID(): string {
    const id = this.trunc ? truncateId(this.v.ID) : this.v.ID;
    return this.v.InUse ? id + '*' : id;
  }
  Parent(): string {
    const parent = this.v.Parents?.length ? this.v.Parents.join(', ') : this.v.Parent ?? '';
    return this.trunc ? truncateId(parent) : parent;
  }
  CacheType(): string {
    return this.v.Type;
  }
  Description(): string {
    return this.v.Description ?? '';
  }
  Size(): string {
    return humanSizeWithPrecision(this.v.Size, 3);
  }
  CreatedAt(): string {
    return goTimeString(Math.trunc(Date.parse(this.v.CreatedAt) / 1000));
  }
  CreatedSince(): string {
    return `${humanDuration(this.nowMs - Date.parse(this.v.CreatedAt))} ago`;
  }
  LastUsedAt(): string {
    return this.v.LastUsedAt ? goTimeString(Math.trunc(Date.parse(this.v.LastUsedAt) / 1000)) : '';
  }
  LastUsedSince(): string {
    return this.v.LastUsedAt ? `${humanDuration(this.nowMs - Date.parse(this.v.LastUsedAt))} ago` : '';
  }
  UsageCount(): string {
    return String(this.v.UsageCount);
  }
  InUse(): string {
    return String(this.v.InUse);
  }
  Shared(): string {
    return String(this.v.Shared);
  }
}

const volumeHeader = (): HeaderMap => new HeaderMap({ Name: 'VOLUME NAME', Links: 'LINKS', Size: 'SIZE', Driver: 'DRIVER', Scope: 'SCOPE', Mountpoint: 'MOUNTPOINT', Labels: 'LABELS' });
const buildCacheHeader = (): HeaderMap =>
  new HeaderMap({ ID: 'CACHE ID', Parent: 'PARENT', CacheType: 'CACHE TYPE', Size: 'SIZE', CreatedSince: 'CREATED', LastUsedSince: 'LAST USED', UsageCount: 'USAGE', InUse: 'IN USE', Shared: 'SHARED', Description: 'DESCRIPTION' });

function lastUsed(r: DfBuildCache): number | undefined {
  return r.LastUsedAt ? Date.parse(r.LastUsedAt) : undefined;
}

/** buildCacheSort: never-used first, then by last use, ties by ID. */
function sortBuildCache(records: DfBuildCache[]): DfBuildCache[] {
  return [...records].sort((a, b) => {
    const la = lastUsed(a);
    const lb = lastUsed(b);
    if (la === undefined && lb === undefined) return a.ID < b.ID ? -1 : a.ID > b.ID ? 1 : 0;
    if (la === undefined) return -1;
    if (lb === undefined) return 1;
    if (la === lb) return a.ID < b.ID ? -1 : a.ID > b.ID ? 1 : 0;
    return la - lb;
  });
}

/** formatter.NewDiskUsageFormat for the non-verbose forms ("table", "raw", custom). */
function summaryFormat(source: string): string {
  if (source === TABLE_FORMAT_KEY) return DEFAULT_DISK_USAGE_TABLE_FORMAT;
  if (source === RAW_FORMAT_KEY) return 'type: {{.Type}}\ntotal: {{.TotalCount}}\nactive: {{.Active}}\nsize: {{.Size}}\nreclaimable: {{.Reclaimable}}\n';
  return source;
}

/** The text `system df [-v] [--format …]` prints. */
export function renderDiskUsage(du: DiskUsage, opts: { format: string; verbose: boolean; nowMs?: number }): string {
  const volumes = (du.Volumes ?? []) as DfVolume[];
  const buildCache = (du.BuildCache ?? []) as DfBuildCache[];
  const images = du.Images ?? [];
  const containers = du.Containers ?? [];
  const builderSize = buildCache.filter((b) => !b.Shared).reduce((sum, b) => sum + b.Size, 0);
  if (!opts.verbose) {
    const rows = [
      new ImagesSummary(du.LayersSize, images),
      new ContainersSummary(containers),
      new VolumesSummary(volumes),
      new BuildCacheSummary(builderSize, buildCache),
    ];
    return formatRows(summaryFormat(opts.format),
      rows, new HeaderMap({ Type: 'TYPE', TotalCount: 'TOTAL', Active: 'ACTIVE', Size: 'SIZE', Reclaimable: 'RECLAIMABLE' }));
  }
  const trunc = isTableFormat(opts.format);
  const imageRows = images.map((i) => {
    let repo = '<none>';
    let tag = '<none>';
    const first = i.RepoTags?.[0];
    if (first !== undefined && first !== '<none>:<none>') {
      try {
        const ref = parseReference(first);
        if (ref.tag !== undefined) {
          repo = familiarName(ref);
          tag = ref.tag;
        }
      } catch {
        // docker skips the image's name when it does not parse
      }
    }
    return new ImageContext(i, repo, tag, '', trunc, opts.nowMs);
  });
  const containerRows = containers.map((c) => new ContainerContext({ ...c, SizeRootFs: 0 }, trunc, opts.nowMs));
  const volumeRows = volumes.map((v) => new VolumeContext(v));
  const cacheRows = sortBuildCache(buildCache).map((b) => new BuildCacheContext(b, trunc, opts.nowMs));
  if (opts.format === TABLE_FORMAT_KEY) {
    return (
      'Images space usage:\n\n' +
      formatRows(IMAGE_TABLE, imageRows, imageHeader()) +
      '\nContainers space usage:\n\n' +
      formatRows(CONTAINER_TABLE, containerRows, containerHeader()) +
      '\nLocal Volumes space usage:\n\n' +
      formatRows(VOLUME_TABLE, volumeRows, volumeHeader()) +
      `\nBuild cache usage: ${humanSize(builderSize)}\n\n` +
      formatRows(BUILD_CACHE_TABLE, cacheRows, buildCacheHeader())
    );
  }
  const tmpl = parseFormat(finalFormat(opts.format));
  return executeFormat(tmpl, { Images: imageRows, Containers: containerRows, Volumes: volumeRows, BuildCache: cacheRows });
}
