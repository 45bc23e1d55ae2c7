// `docker ps` rows (docker/cli cli/command/formatter/container.go): the ContainerContext
// methods a --format template can use, the default table, and DisplayablePorts.
import type { ContainerSummary, Port } from '../../oci/engine-api.js';
import { familiarName, parseReference } from '../../images/reference.js';
import { DEFAULT_QUIET_FORMAT, HeaderMap, RAW_FORMAT_KEY, TABLE_FORMAT_KEY } from './formatter.js';
import { FormatContext } from './template.js';
import { goTimeString } from './time.js';
import { ellipsis, goQuote, humanSizeWithPrecision, timeAgo, truncateId } from '../../util/units.js';

export const DEFAULT_CONTAINER_TABLE_FORMAT = 'table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}';

export const CONTAINER_HEADERS: Record<string, string> = {
  ID: 'CONTAINER ID',
  Names: 'NAMES',
  Image: 'IMAGE',
  Command: 'COMMAND',
  CreatedAt: 'CREATED AT',
  RunningFor: 'CREATED',
  Ports: 'PORTS',
  State: 'STATE',
  Status: 'STATUS',
  Size: 'SIZE',
  Labels: 'LABELS',
  Mounts: 'MOUNTS',
  LocalVolumes: 'LOCAL VOLUMES',
  Networks: 'NETWORKS',
  Platform: 'PLATFORM',
};

export const containerHeader = (): HeaderMap => new HeaderMap(CONTAINER_HEADERS);

/** formatter.NewContainerFormat: the template for a --format value (or its absence). */
export function containerFormat(source: string, quiet: boolean, size: boolean): string {
  if (source === TABLE_FORMAT_KEY || source === '') {
    if (quiet) return DEFAULT_QUIET_FORMAT;
    return DEFAULT_CONTAINER_TABLE_FORMAT + (size ? '\\t{{.Size}}' : '');
  }
  if (source === RAW_FORMAT_KEY) {
    if (quiet) return 'container_id: {{.ID}}';
    return (
      'container_id: {{.ID}}\nimage: {{.Image}}\ncommand: {{.Command}}\ncreated_at: {{.CreatedAt}}\n' +
      'state: {{- pad .State 1 0}}\nstatus: {{- pad .Status 1 0}}\nnames: {{.Names}}\nlabels: {{- pad .Labels 1 0}}\n' +
      'ports: {{- pad .Ports 1 0}}\n' +
      (size ? 'size: {{.Size}}\\n' : '')
    );
  }
  return quiet ? DEFAULT_QUIET_FORMAT : source;
}

export class ContainerContext extends FormatContext {
  readonly goType = '*formatter.ContainerContext';
  /** Set when a template asked for .Size (docker then lists with size=true). */
  sizeUsed = false;

  constructor(
    private readonly c: ContainerSummary,
    private readonly trunc: boolean,
    private readonly nowMs: number = Date.now(),
  ) {
    super();
  }

  protected jsonFields(): string[] {
    return ['Command', 'CreatedAt', 'ID', 'Image', 'Labels', 'LocalVolumes', 'Mounts', 'Names', 'Networks', 'Platform', 'Ports', 'RunningFor', 'Size', 'State', 'Status'];
  }

  ID(): string {
    return this.trunc ? truncateId(this.c.Id) : this.c.Id;
  }

  /** Names without their "/" prefix; when truncating, only the first name without a "/" (not link names). */
  Names(): string {
    let names = (this.c.Names ?? []).map((n) => n.slice(1));
    if (this.trunc) {
      const plain = names.find((n) => n.split('/').length === 1);
      if (plain !== undefined) names = [plain];
    }
    return names.join(',');
  }

  Image(): string {
    const image = this.c.Image;
    if (!image) return '<no image>';
    if (this.trunc) {
      if (truncateId(this.c.ImageID ?? '') === truncateId(image)) return truncateId(image);
      try {
        const ref = parseReference(image);
        // Drop a digest: the tag (if any) is what fits in the column.
        if (ref.tag !== undefined) return `${familiarName(ref)}:${ref.tag}`;
        return familiarName(ref);
      } catch {
        return image;
      }
    }
    return image;
  }

  Command(): string {
    const command = this.c.Command ?? '';
    return goQuote(this.trunc ? ellipsis(command, 20) : command);
  }

  CreatedAt(): string {
    return goTimeString(this.c.Created);
  }

  RunningFor(): string {
    return timeAgo(this.c.Created, this.nowMs);
  }

  /** The image manifest's platform; berth's list does not carry it, as docker before API 1.48. */
  Platform(): null {
    return null;
  }

  Ports(): string {
    return displayablePorts(this.c.Ports ?? []);
  }

  State(): string {
    return this.c.State;
  }

  Status(): string {
    return this.c.Status;
  }

  Size(): string {
    this.sizeUsed = true;
    const rw = humanSizeWithPrecision(this.c.SizeRw ?? 0, 3);
    const rootFs = this.c.SizeRootFs ?? 0;
    return rootFs > 0 ? `${rw} (virtual ${humanSizeWithPrecision(rootFs, 3)})` : rw;
  }

  Labels(): string {
    const labels = this.c.Labels;
    if (!labels) return '';
    return Object.entries(labels)
      .map(([k, v]) => `${k}=${v}`)
      .sort()
      .join(',');
  }

  Label(name: string): string {
    return this.c.Labels?.[name] ?? '';
  }

  Mounts(): string {
    return (this.c.Mounts ?? [])
      .map((m) => {
        const name = m.Name ? m.Name : m.Source;
        return this.trunc ? ellipsis(name, 15) : name;
      })
      .join(',');
  }

  LocalVolumes(): string {
    return String((this.c.Mounts ?? []).filter((m) => m.Driver === 'local').length);
  }

  Networks(): string {
    return Object.keys(this.c.NetworkSettings?.Networks ?? {}).join(',');
  }
}

function comparePorts(a: Port, b: Port): number {
  if (a.PrivatePort !== b.PrivatePort) return a.PrivatePort - b.PrivatePort;
  const ipA = a.IP ?? '';
  const ipB = b.IP ?? '';
  if (ipA !== ipB) return ipA < ipB ? -1 : 1;
  const pubA = a.PublicPort ?? 0;
  const pubB = b.PublicPort ?? 0;
  if (pubA !== pubB) return pubA - pubB;
  return a.Type < b.Type ? -1 : a.Type > b.Type ? 1 : 0;
}

/** net.JoinHostPort: IPv6 hosts in brackets. */
export function joinHostPort(host: string, port: string | number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

function formGroup(key: string, first: number, last: number): string {
  const parts = key.split('/');
  let type = parts[0] as string;
  let ip = '';
  if (parts.length > 1) {
    ip = parts[0] as string;
    type = parts[1] as string;
  }
  let group = String(first);
  if (first !== last) group = `${group}-${last}`;
  if (ip !== '') group = `${joinHostPort(ip, group)}->${group}`;
  return `${group}/${type}`;
}

/** formatter.DisplayablePorts: "0.0.0.0:8080->80/tcp, 9000-9001/tcp", ranges grouped. */
export function displayablePorts(ports: Port[]): string {
  const sorted = [...ports].sort(comparePorts);
  const groups = new Map<string, { first: number; last: number }>();
  const result: string[] = [];
  const hostMappings: string[] = [];
  for (const port of sorted) {
    const current = port.PrivatePort;
    let key: string = port.Type;
    if (port.IP) {
      if (port.PublicPort !== current) {
        hostMappings.push(`${joinHostPort(port.IP, port.PublicPort ?? 0)}->${port.PrivatePort}/${port.Type}`);
        continue;
      }
      key = `${port.IP}/${port.Type}`;
    }
    const group = groups.get(key);
    if (!group) {
      groups.set(key, { first: current, last: current });
      continue;
    }
    if (current === group.last + 1) {
      group.last = current;
      continue;
    }
    result.push(formGroup(key, group.first, group.last));
    // Go replaces the map entry; the key keeps its first-insertion place.
    groups.set(key, { first: current, last: current });
  }
  for (const [key, g] of groups) result.push(formGroup(key, g.first, g.last));
  return [...result, ...hostMappings].join(', ');
}
