// `docker images` rows (docker/cli cli/command/formatter/image.go): one row per repository
// and tag (per digest with --digests), "<none>" for dangling images.
import type { ImageSummary } from '../../oci/engine-api.js';
import { familiarName, parseReference } from '../../images/reference.js';
import { DEFAULT_QUIET_FORMAT, HeaderMap, RAW_FORMAT_KEY, TABLE_FORMAT_KEY, isTableFormat } from './formatter.js';
import { FormatContext } from './template.js';
import { goTimeString } from './time.js';
import { humanSize, humanSizeWithPrecision, timeAgo, truncateId } from '../../util/units.js';

const DEFAULT_IMAGE_TABLE_FORMAT = 'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{if .CreatedSince }}{{.CreatedSince}}{{else}}N/A{{end}}\t{{.Size}}';
const DEFAULT_IMAGE_TABLE_FORMAT_WITH_DIGEST =
  'table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{if .CreatedSince }}{{.CreatedSince}}{{else}}N/A{{end}}\t{{.Size}}';

export const IMAGE_HEADERS: Record<string, string> = {
  ID: 'IMAGE ID',
  Repository: 'REPOSITORY',
  Tag: 'TAG',
  Digest: 'DIGEST',
  CreatedSince: 'CREATED',
  CreatedAt: 'CREATED AT',
  Size: 'SIZE',
  Containers: 'CONTAINERS',
  VirtualSize: 'SIZE',
  SharedSize: 'SHARED SIZE',
  UniqueSize: 'UNIQUE SIZE',
};

export const imageHeader = (): HeaderMap => new HeaderMap(IMAGE_HEADERS);

/** formatter.NewImageFormat. */
export function imageFormat(source: string, quiet: boolean, digest: boolean): string {
  if (source === TABLE_FORMAT_KEY) {
    if (quiet) return DEFAULT_QUIET_FORMAT;
    return digest ? DEFAULT_IMAGE_TABLE_FORMAT_WITH_DIGEST : DEFAULT_IMAGE_TABLE_FORMAT;
  }
  if (source === RAW_FORMAT_KEY) {
    if (quiet) return 'image_id: {{.ID}}';
    return digest
      ? 'repository: {{ .Repository }}\ntag: {{.Tag}}\ndigest: {{.Digest}}\nimage_id: {{.ID}}\ncreated_at: {{.CreatedAt}}\nvirtual_size: {{.Size}}\n'
      : 'repository: {{ .Repository }}\ntag: {{.Tag}}\nimage_id: {{.ID}}\ncreated_at: {{.CreatedAt}}\nvirtual_size: {{.Size}}\n';
  }
  if (isTableFormat(source) && digest && !source.includes('{{.Digest}}')) return source + '\t{{.Digest}}';
  return source;
}

export class ImageContext extends FormatContext {
  readonly goType = '*formatter.imageContext';

  constructor(
    private readonly i: ImageSummary,
    private readonly repo: string,
    private readonly tag: string,
    private readonly digest: string,
    private readonly trunc: boolean,
    private readonly nowMs: number = Date.now(),
  ) {
    super();
  }

  protected jsonFields(): string[] {
    return ['Containers', 'CreatedAt', 'CreatedSince', 'Digest', 'ID', 'Repository', 'SharedSize', 'Size', 'Tag', 'UniqueSize', 'VirtualSize'];
  }

  ID(): string {
    return this.trunc ? truncateId(this.i.Id) : this.i.Id;
  }

  Repository(): string {
    return this.repo;
  }

  Tag(): string {
    return this.tag;
  }

  Digest(): string {
    return this.digest;
  }

  CreatedSince(): string {
    return timeAgo(this.i.Created, this.nowMs);
  }

  CreatedAt(): string {
    return goTimeString(this.i.Created);
  }

  Size(): string {
    return humanSizeWithPrecision(this.i.Size, 3);
  }

  Containers(): string {
    return this.i.Containers === -1 ? 'N/A' : String(this.i.Containers);
  }

  VirtualSize(): string {
    return humanSize(this.i.Size);
  }

  SharedSize(): string {
    return this.i.SharedSize === -1 ? 'N/A' : humanSize(this.i.SharedSize);
  }

  UniqueSize(): string {
    return this.i.Size === -1 || this.i.SharedSize === -1 ? 'N/A' : humanSize(this.i.Size - this.i.SharedSize);
  }
}

function isDangling(img: ImageSummary): boolean {
  const tags = img.RepoTags ?? [];
  const digests = img.RepoDigests ?? [];
  if (tags.length === 0 && digests.length === 0) return true;
  return tags.length === 1 && tags[0] === '<none>:<none>' && digests.length === 1 && digests[0] === '<none>@<none>';
}

function pushTo(map: Map<string, string[]>, key: string, value: string): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** formatter.imageFormat: the rows for one image. `showDigests`: --digests; `needDigest`: digests also used by the format. */
export function imageRows(img: ImageSummary, opts: { trunc: boolean; showDigests: boolean; needDigest: boolean; nowMs?: number }): ImageContext[] {
  const make = (repo: string, tag: string, digest: string): ImageContext => new ImageContext(img, repo, tag, digest, opts.trunc, opts.nowMs);
  if (isDangling(img)) return [make('<none>', '<none>', '<none>')];
  const repoTags = new Map<string, string[]>();
  const repoDigests = new Map<string, string[]>();
  for (const text of img.RepoTags ?? []) {
    try {
      const ref = parseReference(text);
      if (ref.tag !== undefined) pushTo(repoTags, familiarName(ref), ref.tag);
    } catch {
      // docker skips references it cannot parse
    }
  }
  for (const text of img.RepoDigests ?? []) {
    try {
      const ref = parseReference(text);
      if (ref.digest !== undefined) pushTo(repoDigests, familiarName(ref), String(ref.digest));
    } catch {
      // skipped, as docker does
    }
  }
  const rows: ImageContext[] = [];
  for (const [repo, tags] of repoTags) {
    let digests = repoDigests.get(repo) ?? [];
    repoDigests.delete(repo);
    if (!opts.needDigest) digests = [];
    for (const tag of tags) {
      if (digests.length === 0) rows.push(make(repo, tag, '<none>'));
      else for (const d of digests) rows.push(make(repo, tag, d));
    }
  }
  for (const [repo, digests] of repoDigests) {
    if (opts.showDigests) for (const d of digests) rows.push(make(repo, '<none>', d));
    else rows.push(make(repo, '<none>', ''));
  }
  return rows;
}
