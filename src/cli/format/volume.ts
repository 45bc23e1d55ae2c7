// `docker volume ls` rows (docker/cli cli/command/formatter/volume.go).
import type { Volume } from '../../oci/engine-api.js';
import { humanSize } from '../../util/units.js';
import { DEFAULT_QUIET_FORMAT, HeaderMap, TABLE_FORMAT_KEY } from './formatter.js';
import { FormatContext } from './template.js';

const DEFAULT_VOLUME_TABLE_FORMAT = 'table {{.Driver}}\t{{.Name}}';
const DEFAULT_VOLUME_QUIET_FORMAT = '{{.Name}}';

export const volumeHeader = (): HeaderMap => new HeaderMap({
  Name: 'VOLUME NAME', Driver: 'DRIVER', Scope: 'SCOPE', Mountpoint: 'MOUNTPOINT', Labels: 'LABELS', Links: 'LINKS',
  Size: 'SIZE', Group: 'GROUP', Availability: 'AVAILABILITY', Status: 'STATUS',
});

/** formatter.NewVolumeFormat. */
export function volumeFormat(source: string, quiet: boolean): string {
  if (source === TABLE_FORMAT_KEY) return quiet ? DEFAULT_VOLUME_QUIET_FORMAT : DEFAULT_VOLUME_TABLE_FORMAT;
  if (source === 'raw') return quiet ? 'name: {{.Name}}' : 'name: {{.Name}}\ndriver: {{.Driver}}\n';
  return source === DEFAULT_QUIET_FORMAT ? DEFAULT_VOLUME_QUIET_FORMAT : source;
}

export class VolumeContext extends FormatContext {
  readonly goType = '*formatter.volumeContext';

  constructor(private readonly v: Volume) {
    super();
  }

  protected jsonFields(): string[] {
    return ['Availability', 'Driver', 'Group', 'Labels', 'Links', 'Mountpoint', 'Name', 'Scope', 'Size', 'Status'];
  }

  Name(): string {
    return this.v.Name;
  }

  Driver(): string {
    return this.v.Driver;
  }

  Scope(): string {
    return this.v.Scope;
  }

  Mountpoint(): string {
    return this.v.Mountpoint;
  }

  Labels(): string {
    return Object.entries(this.v.Labels ?? {}).map(([k, v]) => `${k}=${v}`).sort().join(',');
  }

  Label(name: string): string {
    return this.v.Labels?.[name] ?? '';
  }

  Links(): string {
    return this.v.UsageData ? String(this.v.UsageData.RefCount) : 'N/A';
  }

  Size(): string {
    return this.v.UsageData ? humanSize(this.v.UsageData.Size) : 'N/A';
  }

  /** Group, Availability and Status describe cluster volumes, which berth does not have. */
  Group(): string {
    return 'N/A';
  }

  Availability(): string {
    return 'N/A';
  }

  Status(): string {
    return 'N/A';
  }
}
