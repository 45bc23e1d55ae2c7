// `docker network ls` rows (docker/cli cli/command/network/formatter.go).
import type { NetworkResource } from '../../oci/engine-api.js';
import { truncateId } from '../../util/units.js';
import { DEFAULT_QUIET_FORMAT, HeaderMap, RAW_FORMAT_KEY, TABLE_FORMAT_KEY } from './formatter.js';
import { FormatContext } from './template.js';
import { goTimeString } from './time.js';

const DEFAULT_NETWORK_TABLE_FORMAT = 'table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}';

export const networkHeader = (): HeaderMap => new HeaderMap({
  ID: 'NETWORK ID', Name: 'NAME', Driver: 'DRIVER', Scope: 'SCOPE', IPv4: 'IPV4', IPv6: 'IPV6', Internal: 'INTERNAL',
  Labels: 'LABELS', CreatedAt: 'CREATED AT',
});

/** network.NewFormat. */
export function networkFormat(source: string, quiet: boolean): string {
  if (source === TABLE_FORMAT_KEY) return quiet ? DEFAULT_QUIET_FORMAT : DEFAULT_NETWORK_TABLE_FORMAT;
  if (source === RAW_FORMAT_KEY) {
    return quiet ? 'network_id: {{.ID}}' : 'network_id: {{.ID}}\\nname: {{.Name}}\\ndriver: {{.Driver}}\\nscope: {{.Scope}}\\n';
  }
  return source;
}

export class NetworkContext extends FormatContext {
  readonly goType = '*network.networkContext';

  constructor(private readonly n: NetworkResource, private readonly trunc: boolean) {
    super();
  }

  protected jsonFields(): string[] {
    return ['CreatedAt', 'Driver', 'ID', 'IPv4', 'IPv6', 'Internal', 'Labels', 'Name', 'Scope'];
  }

  ID(): string {
    return this.trunc ? truncateId(this.n.Id ?? '') : (this.n.Id ?? '');
  }

  Name(): string {
    return this.n.Name ?? '';
  }

  Driver(): string {
    return this.n.Driver ?? '';
  }

  Scope(): string {
    return this.n.Scope ?? '';
  }

  IPv4(): string {
    return String(this.n.EnableIPv4 === true);
  }

  IPv6(): string {
    return String(this.n.EnableIPv6 === true);
  }

  Internal(): string {
    return String(this.n.Internal === true);
  }

  /** docker joins the map in Go's random order; berth sorts, so the output is stable. */
  Labels(): string {
    return Object.entries(this.n.Labels ?? {}).map(([k, v]) => `${k}=${v}`).sort().join(',');
  }

  Label(name: string): string {
    return this.n.Labels?.[name] ?? '';
  }

  CreatedAt(): string {
    return goTimeOfRfc3339(this.n.Created ?? '');
  }
}

/**
 * time.Time.String() of a time Go decoded from RFC 3339 JSON: "2006-01-02 15:04:05.999999999 -0700 MST"
 * in the offset it was written with; "Z" reads as UTC, the local zone's offset as the local zone,
 * any other offset as a zone without a name ("+0200 +0200"). Unparseable text is the zero time.
 */
export function goTimeOfRfc3339(text: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?([Zz]|([+-])(\d{2}):(\d{2}))$/.exec(text);
  if (!m) return '0001-01-01 00:00:00 +0000 UTC';
  const [, y, mo, d, h, mi, s, frac = '', zone, sign, oh, om] = m as unknown as string[];
  const fraction = frac.slice(0, 9).replace(/0+$/, '');
  const wall = `${y}-${mo}-${d} ${h}:${mi}:${s}${fraction ? `.${fraction}` : ''}`;
  if (zone === 'Z' || zone === 'z') return `${wall} +0000 UTC`;
  const offset = (sign === '-' ? -1 : 1) * (Number(oh) * 60 + Number(om));
  const utcSeconds = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)) / 1000 - offset * 60;
  if (-new Date(utcSeconds * 1000).getTimezoneOffset() === offset) {
    // Go uses the Local location: its zone abbreviation (goTimeString prints that for whole seconds).
    const local = goTimeString(utcSeconds);
    return `${local.slice(0, 19)}${fraction ? `.${fraction}` : ''}${local.slice(19)}`;
  }
  return `${wall} ${sign}${oh}${om} ${sign}${oh}${om}`;
}
