// `berth network create|ls|inspect|rm|prune|connect|disconnect` (docker/cli cli/command/network,
// as of docker 28.2): the same flags, output, error texts and exit statuses.
import { isIP } from 'node:net';
import type { EngineClient } from '../../client/index.js';
import type { EndpointSettings, Filters, NetworkCreateRequest, NetworkIPAM, NetworkIPAMConfig } from '../../oci/engine-api.js';
import { isBerthError } from '../../util/errors.js';
import type { CommandContext, CommandDef, FlagValues } from '../command.js';
import { StatusError } from '../command.js';
import { FlagError } from '../flags.js';
import { TABLE_FORMAT_KEY, formatRows } from '../format/formatter.js';
import { naturalCompare } from '../format/natural-sort.js';
import { NetworkContext, networkFormat, networkHeader } from '../format/network.js';
import { runInspect } from './inspect.js';
import { kvToMap } from './kv-files.js';
import { INSPECT_FORMAT_HELP, boolFlag, confirm, filterFlag, formatFlag, listFlag, parseFilters, stringFlag } from './read-support.js';

// ---------------------------------------------------------------- flag values

/** A flag value refused as pflag refuses it: `invalid argument "v" for "--flag" flag: why` (exit 125). */
function badFlag(ctx: CommandContext, value: string, flag: string, why: string): FlagError {
  const hint = ctx.path ? `\nSee '${ctx.path} --help'.` : '';
  return new FlagError(`invalid argument "${value}" for "${flag}" flag: ${why}${hint}`);
}

/**
 * encoding/csv's Read of one line, as pflag's StringSlice and docker's --network syntax split a
 * value: commas separate fields, a field in double quotes may hold commas, "" is a quote.
 */
export function readCsv(value: string): string[] {
  const out: string[] = [];
  let i = 0;
  const column = (): number => i + 1;
  for (;;) {
    let field = '';
    if (value[i] === '"') {
      i++;
      for (;;) {
        if (i >= value.length) throw new Error(`parse error on line 1, column ${column()}: extraneous or missing " in quoted-field`);
        const c = value[i]!;
        if (c === '"') {
          if (value[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          if (i < value.length && value[i] !== ',') throw new Error(`parse error on line 1, column ${column()}: extraneous or missing " in quoted-field`);
          break;
        }
        field += c;
        i++;
      }
    } else {
      while (i < value.length && value[i] !== ',') {
        if (value[i] === '"') throw new Error(`parse error on line 1, column ${column()}: bare " in non-quoted-field`);
        field += value[i];
        i++;
      }
    }
    out.push(field);
    if (i >= value.length) return out;
    i++; // the comma
  }
}

/** pflag's StringSlice: every occurrence read as CSV, "" adding nothing. */
function sliceFlag(ctx: CommandContext, flags: FlagValues, name: string): string[] {
  const out: string[] = [];
  for (const v of listFlag(flags[name])) {
    if (v === '') continue;
    try {
      out.push(...readCsv(v));
    } catch (err) {
      throw badFlag(ctx, v, `--${name}`, (err as Error).message);
    }
  }
  return out;
}

/** opts.ValidateLabel. */
function validateLabels(ctx: CommandContext, labels: string[]): string[] {
  for (const label of labels) {
    const key = label.split('=')[0]!.replace(/^[ \t]+/, '');
    if (key === '') throw badFlag(ctx, label, '--label', `invalid label '${label}': empty name`);
    if (/[ \t]/.test(key)) throw badFlag(ctx, label, '--label', `label '${key}' contains whitespaces`);
  }
  return labels;
}

/** opts.ParseLink's checks (ValidateLink). */
export function linkError(link: string): string | undefined {
  if (link === '') return 'empty string specified for links';
  if (link.split(':').length > 2) return `bad format for links: ${link}`;
  return undefined;
}

// ---------------------------------------------------------------- addresses (Go's net package)

interface Ip {
  /** 4 bytes for IPv4 (and IPv4-mapped IPv6, as Go's To4), else 16. */
  bytes: number[];
}

interface IpNet {
  ip: number[];
  mask: number[];
}

function parseIPv4(s: string): number[] | undefined {
  if (isIP(s) !== 4) return undefined;
  return s.split('.').map(Number);
}

function parseIPv6(s: string): number[] | undefined {
  if (s.includes('%') || isIP(s) !== 6) return undefined;
  let text = s;
  const lastColon = text.lastIndexOf(':');
  const last = text.slice(lastColon + 1);
  if (last.includes('.')) {
    // An embedded IPv4 address is the last two groups.
    const v4 = parseIPv4(last);
    if (!v4) return undefined;
    text = `${text.slice(0, lastColon + 1)}${((v4[0]! << 8) | v4[1]!).toString(16)}:${((v4[2]! << 8) | v4[3]!).toString(16)}`;
  }
  const words = (part: string): number[] => (part === '' ? [] : part.split(':').map((w) => parseInt(w, 16)));
  const gap = text.indexOf('::');
  const left = words(gap >= 0 ? text.slice(0, gap) : text);
  const right = gap >= 0 ? words(text.slice(gap + 2)) : [];
  const groups = gap >= 0 ? [...left, ...new Array<number>(Math.max(0, 8 - left.length - right.length)).fill(0), ...right] : left;
  if (groups.length !== 8 || groups.some((g) => Number.isNaN(g))) return undefined;
  return groups.flatMap((g) => [g >> 8, g & 0xff]);
}

/** net.ParseIP: undefined where Go returns nil. */
function parseIP(s: string): Ip | undefined {
  const v4 = parseIPv4(s);
  if (v4) return { bytes: v4 };
  const v6 = parseIPv6(s);
  if (!v6) return undefined;
  const mapped = v6.slice(0, 10).every((b) => b === 0) && v6[10] === 0xff && v6[11] === 0xff;
  return { bytes: mapped ? v6.slice(12) : v6 };
}

/** net.ParseCIDR: the network (address masked) and its mask; Go's ParseError text otherwise. */
function parseCIDR(s: string): IpNet {
  const bad = new Error(`invalid CIDR address: ${s}`);
  const slash = s.indexOf('/');
  if (slash < 0) throw bad;
  const addr = s.slice(0, slash);
  const bits = s.slice(slash + 1);
  const v4 = parseIPv4(addr);
  const bytes = v4 ?? parseIPv6(addr);
  if (!bytes || !/^\d{1,3}$/.test(bits)) throw bad;
  const len = Number(bits);
  if (len > bytes.length * 8) throw bad;
  const mask = bytes.map((_, i) => {
    const n = Math.max(0, Math.min(8, len - i * 8));
    return (0xff << (8 - n)) & 0xff;
  });
  return { ip: bytes.map((b, i) => b & mask[i]!), mask };
}

function contains(n: IpNet, ip: Ip | undefined): boolean {
  if (!ip || ip.bytes.length !== n.ip.length) return false;
  return ip.bytes.every((b, i) => (b & n.mask[i]!) === n.ip[i]);
}

/** create.go's subnetMatches: does `data` (an address, or a CIDR's address) lie in `subnet`? */
function subnetMatches(subnet: string, data: string): boolean {
  let net: IpNet;
  try {
    net = parseCIDR(subnet);
  } catch (err) {
    throw new Error(`invalid subnet: ${(err as Error).message}`);
  }
  if (data.includes('/')) {
    parseCIDR(data);
    const addr = data.slice(0, data.indexOf('/'));
    return contains(net, parseIP(addr));
  }
  return contains(net, parseIP(data));
}

export interface IpamOptions {
  driver: string;
  subnets: string[];
  ipRanges: string[];
  gateways: string[];
  /** --aux-address name=address, in the order given. */
  auxAddresses: [string, string][];
  driverOpts: Record<string, string>;
}

/**
 * createIPAMConfig: subnets, ranges, gateways and auxiliary addresses grouped per subnet, with
 * docker's errors. The configs come in the order of the subnets (docker's come from a Go map).
 */
export function createIpamConfig(o: IpamOptions): NetworkIPAM {
  if (o.subnets.length < o.ipRanges.length || o.subnets.length < o.gateways.length) {
    throw new Error('every ip-range or gateway must have a corresponding subnet');
  }
  const data = new Map<string, NetworkIPAMConfig & { AuxiliaryAddresses: Record<string, string> }>();
  for (const s of o.subnets) {
    for (const k of data.keys()) {
      if (subnetMatches(s, k) || subnetMatches(k, s)) throw new Error('multiple overlapping subnet configuration is not supported');
    }
    data.set(s, { Subnet: s, AuxiliaryAddresses: {} });
  }
  for (const r of o.ipRanges) {
    let match = false;
    for (const s of o.subnets) {
      parseCIDR(r);
      if (!subnetMatches(s, r)) continue;
      const d = data.get(s)!;
      if (d.IPRange) throw new Error(`cannot configure multiple ranges (${r}, ${d.IPRange}) on the same subnet (${s})`);
      d.IPRange = r;
      match = true;
    }
    if (!match) throw new Error(`no matching subnet for range ${r}`);
  }
  for (const g of o.gateways) {
    let match = false;
    for (const s of o.subnets) {
      if (!subnetMatches(s, g)) continue;
      const d = data.get(s)!;
      if (d.Gateway) throw new Error(`cannot configure multiple gateways (${g}, ${d.Gateway}) for the same subnet (${s})`);
      d.Gateway = g;
      match = true;
    }
    if (!match) throw new Error(`no matching subnet for gateway ${g}`);
  }
  for (const [key, aa] of o.auxAddresses) {
    let match = false;
    for (const s of o.subnets) {
      if (!subnetMatches(s, aa)) continue;
      data.get(s)!.AuxiliaryAddresses[key] = aa;
      match = true;
    }
    if (!match) throw new Error(`no matching subnet for aux-address ${aa}`);
  }
  const config: NetworkIPAMConfig[] = [...data.values()].map(({ AuxiliaryAddresses, ...rest }) =>
    Object.keys(AuxiliaryAddresses).length > 0 ? { ...rest, AuxiliaryAddresses } : rest);
  return { Driver: o.driver, Options: o.driverOpts, Config: config };
}

/** MapOpts without a validator: "k=v" (or "k", an empty value); a later key replaces, keeping its place. */
function mapPairs(items: string[]): [string, string][] {
  const m = new Map<string, string>();
  for (const item of items) {
    const eq = item.indexOf('=');
    m.set(eq >= 0 ? item.slice(0, eq) : item, eq >= 0 ? item.slice(eq + 1) : '');
  }
  return [...m.entries()];
}

// ---------------------------------------------------------------- commands

export const networkCreateCommand: CommandDef = {
  name: 'network create',
  usage: 'docker network create [OPTIONS] NETWORK',
  summary: 'Create a network',
  minArgs: 1,
  maxArgs: 1,
  flags: [
    { name: 'attachable', type: 'bool', usage: 'Enable manual container attachment' },
    { name: 'aux-address', type: 'list', valueName: 'map', usage: 'Auxiliary IPv4 or IPv6 addresses used by Network driver' },
    { name: 'config-from', type: 'string', usage: 'The network from which to copy the configuration' },
    { name: 'config-only', type: 'bool', usage: 'Create a configuration only network' },
    { name: 'driver', short: 'd', type: 'string', usage: 'Driver to manage the Network', default: 'bridge' },
    { name: 'gateway', type: 'list', valueName: 'strings', usage: 'IPv4 or IPv6 Gateway for the master subnet' },
    { name: 'ingress', type: 'bool', usage: 'Create swarm routing-mesh network' },
    { name: 'internal', type: 'bool', usage: 'Restrict external access to the network' },
    { name: 'ip-range', type: 'list', valueName: 'strings', usage: 'Allocate container ip from a sub-range' },
    { name: 'ipam-driver', type: 'string', usage: 'IP Address Management Driver', default: 'default' },
    { name: 'ipam-opt', type: 'list', valueName: 'map', usage: 'Set IPAM driver specific options' },
    { name: 'ipv4', type: 'bool', usage: 'Enable or disable IPv4 address assignment', default: true },
    { name: 'ipv6', type: 'bool', usage: 'Enable or disable IPv6 address assignment' },
    { name: 'label', type: 'list', usage: 'Set metadata on a network' },
    { name: 'opt', short: 'o', type: 'list', valueName: 'map', usage: 'Set driver specific options' },
    { name: 'scope', type: 'string', usage: "Control the network's scope" },
    { name: 'subnet', type: 'list', valueName: 'strings', usage: 'Subnet in CIDR format that represents a network segment' },
  ],
  async run(ctx, args, flags) {
    const labels = validateLabels(ctx, listFlag(flags['label']));
    const subnets = sliceFlag(ctx, flags, 'subnet');
    const ipRanges = sliceFlag(ctx, flags, 'ip-range');
    const gateways = sliceFlag(ctx, flags, 'gateway');
    let ipam: NetworkIPAM;
    try {
      ipam = createIpamConfig({
        driver: stringFlag(flags['ipam-driver']),
        subnets,
        ipRanges,
        gateways,
        auxAddresses: mapPairs(listFlag(flags['aux-address'])),
        driverOpts: Object.fromEntries(mapPairs(listFlag(flags['ipam-opt']))),
      });
    } catch (err) {
      throw new StatusError(1, (err as Error).message);
    }
    const changed = ctx.changed ?? new Set<string>();
    const configFrom = stringFlag(flags['config-from']);
    const req: NetworkCreateRequest = {
      Name: args[0]!,
      Driver: stringFlag(flags['driver']),
      Scope: stringFlag(flags['scope']),
      ...(changed.has('ipv4') ? { EnableIPv4: boolFlag(flags['ipv4']) } : {}),
      ...(changed.has('ipv6') ? { EnableIPv6: boolFlag(flags['ipv6']) } : {}),
      IPAM: ipam,
      Internal: boolFlag(flags['internal']),
      Attachable: boolFlag(flags['attachable']),
      Ingress: boolFlag(flags['ingress']),
      ConfigOnly: boolFlag(flags['config-only']),
      ...(configFrom !== '' ? { ConfigFrom: { Network: configFrom } } : {}),
      Options: Object.fromEntries(mapPairs(listFlag(flags['opt']))),
      Labels: kvToMap(labels),
    };
    const client = await ctx.client();
    const resp = await client.createNetwork(req);
    ctx.stdout.write(`${resp.Id}\n`);
    return 0;
  },
};

export const networkListCommand: CommandDef = {
  name: 'network ls',
  aliases: ['network list'],
  usage: 'docker network ls [OPTIONS]',
  summary: 'List networks',
  maxArgs: 0,
  flags: [
    filterFlag('Provide filter values (e.g. "driver=bridge")'),
    formatFlag(),
    { name: 'no-trunc', type: 'bool', usage: 'Do not truncate the output' },
    { name: 'quiet', short: 'q', type: 'bool', usage: 'Only display network IDs' },
  ],
  async run(ctx, _args, flags) {
    const filters = parseFilters(listFlag(flags['filter']));
    const client = await ctx.client();
    const networks = [...((await client.listNetworks(filters)) ?? [])].sort((a, b) => naturalCompare(a.Name, b.Name));
    const format = networkFormat(stringFlag(flags['format']) || TABLE_FORMAT_KEY, boolFlag(flags['quiet']));
    const trunc = !boolFlag(flags['no-trunc']);
    ctx.stdout.write(formatRows(format, networks.map((n) => new NetworkContext(n, trunc)), networkHeader()));
    return 0;
  },
};

export const networkInspectCommand: CommandDef = {
  name: 'network inspect',
  usage: 'docker network inspect [OPTIONS] NETWORK [NETWORK...]',
  summary: 'Display detailed information on one or more networks',
  minArgs: 1,
  flags: [
    { name: 'format', short: 'f', type: 'string', usage: INSPECT_FORMAT_HELP },
    { name: 'verbose', short: 'v', type: 'bool', usage: 'Verbose output for diagnostics' },
  ],
  async run(ctx, args, flags) {
    const client = await ctx.client();
    const verbose = boolFlag(flags['verbose']);
    return runInspect(ctx, args, stringFlag(flags['format']), async (name) => ({ raw: await client.inspectNetworkRaw(name, { verbose }) }));
  },
};

const INGRESS_WARNING =
  'WARNING! Before removing the routing-mesh network, make sure all the nodes in your swarm run the same docker engine version. ' +
  'Otherwise, removal may not be effective and functionality of newly create ingress networks will be impaired.\nAre you sure you want to continue?';

const isNotFound = (err: unknown): boolean => isBerthError(err, 'NotFound');

export const networkRemoveCommand: CommandDef = {
  name: 'network rm',
  aliases: ['network remove'],
  usage: 'docker network rm NETWORK [NETWORK...]',
  summary: 'Remove one or more networks',
  minArgs: 1,
  flags: [{ name: 'force', short: 'f', type: 'bool', usage: 'Do not error if the network does not exist' }],
  async run(ctx, args, flags) {
    const client = await ctx.client();
    const force = boolFlag(flags['force']);
    let status = 0;
    for (const name of args) {
      const nw = await client.inspectNetwork(name).catch(() => undefined);
      if (nw?.Ingress && !(await confirm(ctx, INGRESS_WARNING))) continue;
      try {
        await client.removeNetwork(name);
      } catch (err) {
        if (force && isNotFound(err)) continue;
        ctx.stderr.write(`${(err as Error).message}\n`);
        status = 1;
        continue;
      }
      ctx.stdout.write(`${name}\n`);
    }
    if (status !== 0) throw new StatusError(status, `exit status ${status}`);
    return 0;
  },
};

const PRUNE_WARNING = 'WARNING! This will remove all custom networks not used by at least one container.\nAre you sure you want to continue?';

export const networkPruneCommand: CommandDef = {
  name: 'network prune',
  usage: 'docker network prune [OPTIONS]',
  summary: 'Remove all unused networks',
  maxArgs: 0,
  flags: [
    filterFlag('Provide filter values (e.g. "until=<timestamp>")', ''),
    { name: 'force', short: 'f', type: 'bool', usage: 'Do not prompt for confirmation' },
  ],
  async run(ctx, _args, flags) {
    const filters = parseFilters(listFlag(flags['filter']), '--filter');
    if (!boolFlag(flags['force']) && !(await confirm(ctx, PRUNE_WARNING))) return 0;
    const { output } = await pruneNetworks(await ctx.client(), filters);
    if (output !== '') ctx.stdout.write(output + '\n');
    return 0;
  },
};

/** Also `system prune` (network.RunPrune): networks free no space of their own. */
export async function pruneNetworks(client: EngineClient, filters: Filters): Promise<{ spaceReclaimed: number; output: string }> {
  const report = await client.pruneNetworks(filters);
  const deleted = report.NetworksDeleted ?? [];
  if (deleted.length === 0) return { spaceReclaimed: 0, output: '' };
  return { spaceReclaimed: 0, output: 'Deleted Networks:\n' + deleted.map((n) => n + '\n').join('') };
}

/** connect.go's convertDriverOpt. */
function convertDriverOpt(items: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of items) {
    const eq = item.indexOf('=');
    const key = (eq >= 0 ? item.slice(0, eq) : item).trim();
    if (eq < 0 || key === '') throw new Error('invalid key/value pair format in driver options');
    out[key] = item.slice(eq + 1).trim();
  }
  return out;
}

export const networkConnectCommand: CommandDef = {
  name: 'network connect',
  usage: 'docker network connect [OPTIONS] NETWORK CONTAINER',
  summary: 'Connect a container to a network',
  minArgs: 2,
  maxArgs: 2,
  flags: [
    { name: 'alias', type: 'list', valueName: 'strings', usage: 'Add network-scoped alias for the container' },
    { name: 'driver-opt', type: 'list', valueName: 'strings', usage: 'driver options for the network' },
    { name: 'gw-priority', type: 'int', usage: 'Highest gw-priority provides the default gateway. Accepts positive and negative values.' },
    { name: 'ip', type: 'string', usage: 'IPv4 address (e.g., "172.30.100.104")' },
    { name: 'ip6', type: 'string', usage: 'IPv6 address (e.g., "2001:db8::33")' },
    { name: 'link', type: 'list', usage: 'Add link to another container' },
    { name: 'link-local-ip', type: 'list', valueName: 'strings', usage: 'Add a link-local address for the container' },
  ],
  async run(ctx, args, flags) {
    const links = listFlag(flags['link']);
    for (const link of links) {
      const why = linkError(link);
      if (why) throw badFlag(ctx, link, '--link', why);
    }
    const aliases = sliceFlag(ctx, flags, 'alias');
    const linkLocalIps = sliceFlag(ctx, flags, 'link-local-ip');
    let driverOpts: Record<string, string>;
    try {
      driverOpts = convertDriverOpt(sliceFlag(ctx, flags, 'driver-opt'));
    } catch (err) {
      if (err instanceof FlagError) throw err;
      throw new StatusError(1, (err as Error).message);
    }
    const endpoint: EndpointSettings & { GwPriority: number } = {
      IPAMConfig: { IPv4Address: stringFlag(flags['ip']), IPv6Address: stringFlag(flags['ip6']), LinkLocalIPs: linkLocalIps },
      Links: links.length > 0 ? links : null,
      Aliases: aliases,
      DriverOpts: driverOpts,
      GwPriority: typeof flags['gw-priority'] === 'number' ? flags['gw-priority'] : 0,
    };
    const client = await ctx.client();
    await client.connectNetwork(args[0]!, { Container: args[1]!, EndpointConfig: endpoint });
    return 0;
  },
};

export const networkDisconnectCommand: CommandDef = {
  name: 'network disconnect',
  usage: 'docker network disconnect [OPTIONS] NETWORK CONTAINER',
  summary: 'Disconnect a container from a network',
  minArgs: 2,
  maxArgs: 2,
  flags: [{ name: 'force', short: 'f', type: 'bool', usage: 'Force the container to disconnect from a network' }],
  async run(ctx, args, flags) {
    const client = await ctx.client();
    await client.disconnectNetwork(args[0]!, { Container: args[1]!, Force: boolFlag(flags['force']) });
    return 0;
  },
};
