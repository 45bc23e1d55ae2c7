// IPv4 address management for bridge networks: CIDR arithmetic, Docker's default address
// pools, subnet choice, user IPAM validation and per-endpoint address allocation.
// Everything here is pure except hostSubnets(), which asks `ip` what the host already uses.
// Addresses are handled as uint32 numbers (held in JS numbers, always >>> 0).
import { invalidArgument, conflict, unavailable } from '../util/errors.js';
import { runIpJson, type HostNetnsOptions } from './host-run.js';

export interface Cidr {
  /** The address as written (host bits may be set: 172.18.0.5 in 172.18.0.5/16). */
  address: string;
  prefix: number;
}

export interface AddressPool {
  /** The range the pool is carved from, e.g. '192.168.0.0/16'. */
  base: string;
  /** Prefix length of each subnet handed out, e.g. 20. */
  size: number;
}

/** Docker's local-scope default address pools (libnetwork ipamutils), in preference order. */
export const DEFAULT_ADDRESS_POOLS: readonly AddressPool[] = [
  { base: '172.17.0.0/16', size: 16 },
  ...Array.from({ length: 14 }, (_, i) => ({ base: `172.${18 + i}.0.0/16`, size: 16 })),
  { base: '192.168.0.0/16', size: 20 },
];

/** An inclusive range of uint32 addresses. */
interface Span {
  first: number;
  last: number;
}

const OCTET = /^(0|[1-9][0-9]{0,2})$/;
const PREFIX = /^(0|[1-9][0-9]?)$/;

/** Dotted-quad IPv4 → uint32, or undefined when it is not one. */
export function tryParseIpv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    // Leading zeros are rejected as Go's net.ParseIP does (they could be read as octal).
    if (!OCTET.test(part)) return undefined;
    const octet = Number(part);
    if (octet > 255) return undefined;
    value = value * 256 + octet;
  }
  return value;
}

/** Dotted-quad IPv4 → uint32. */
export function ipv4ToUint32(text: string): number {
  const value = tryParseIpv4(text);
  if (value === undefined) throw invalidArgument(`invalid IPv4 address: ${text}`);
  return value;
}

/** uint32 → dotted-quad IPv4. */
export function uint32ToIpv4(value: number): string {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw invalidArgument(`not an IPv4 address value: ${value}`);
  }
  return [value >>> 24, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff].join('.');
}

export function parseCidr(text: string): Cidr {
  const slash = text.indexOf('/');
  const address = slash < 0 ? '' : text.slice(0, slash);
  const prefixText = slash < 0 ? '' : text.slice(slash + 1);
  if (tryParseIpv4(address) === undefined || !PREFIX.test(prefixText) || Number(prefixText) > 32) {
    throw invalidArgument(`invalid CIDR address: ${text}`);
  }
  return { address, prefix: Number(prefixText) };
}

/** Number of addresses in a block of this prefix length (2^32 for /0, so not a uint32). */
function blockSize(prefix: number): number {
  return 2 ** (32 - prefix);
}

function spanOf(cidr: string): Span {
  const { address, prefix } = parseCidr(cidr);
  const size = blockSize(prefix);
  const first = Math.floor(ipv4ToUint32(address) / size) * size;
  return { first, last: first + size - 1 };
}

/** The network and broadcast addresses of a CIDR, as uint32s. */
export function cidrBounds(cidr: string): { network: number; broadcast: number } {
  const { first, last } = spanOf(cidr);
  return { network: first, broadcast: last };
}

/** The canonical network of a CIDR: '172.18.0.5/16' → '172.18.0.0/16'. */
export function networkOf(cidr: string): string {
  return `${uint32ToIpv4(spanOf(cidr).first)}/${parseCidr(cidr).prefix}`;
}

export function contains(cidr: string, ip: string): boolean {
  const { first, last } = spanOf(cidr);
  const value = ipv4ToUint32(ip);
  return value >= first && value <= last;
}

export function overlaps(cidrA: string, cidrB: string): boolean {
  const a = spanOf(cidrA);
  const b = spanOf(cidrB);
  return a.first <= b.last && b.first <= a.last;
}

/** Whether `inner` lies entirely inside `outer`. */
function covers(outer: string, inner: string): boolean {
  const o = spanOf(outer);
  const i = spanOf(inner);
  return o.first <= i.first && i.last <= o.last;
}

/**
 * /31 and /32 have no network or broadcast address (RFC 3021): every address is a host.
 * Returns the addresses that can never be handed out in a subnet.
 */
function edgeAddresses(subnet: string): number[] {
  if (parseCidr(subnet).prefix >= 31) return [];
  const { first, last } = spanOf(subnet);
  return [first, last];
}

function validatePool(pool: AddressPool): Span {
  const base = parseCidr(pool.base).prefix;
  if (!Number.isInteger(pool.size) || pool.size < base || pool.size > 32) {
    throw invalidArgument(`invalid address pool ${pool.base}: size ${pool.size} must be between ${base} and 32`);
  }
  return spanOf(pool.base);
}

/** The first subnet of `size` in `pool` that overlaps nothing in `taken`, or undefined. */
function firstFreeSubnet(pool: Span, size: number, taken: readonly Span[]): number | undefined {
  const block = blockSize(size);
  let start = pool.first;
  while (start + block - 1 <= pool.last) {
    const end = start + block - 1;
    const clash = taken.find((t) => t.first <= end && start <= t.last);
    if (!clash) return start;
    // Jump past the whole clashing subnet instead of stepping block by block: a taken /8
    // inside a pool of /24s would otherwise cost 65536 iterations.
    start = Math.max(start + block, Math.ceil((clash.last + 1) / block) * block);
  }
  return undefined;
}

/**
 * The first subnet from the pools (in order) that overlaps none of `taken` — the subnets
 * of the host's routes and addresses plus those of existing networks.
 */
export function chooseSubnet(pools: readonly AddressPool[], taken: readonly string[]): string {
  const takenSpans = taken.map(spanOf);
  for (const pool of pools) {
    const start = firstFreeSubnet(validatePool(pool), pool.size, takenSpans);
    if (start !== undefined) return `${uint32ToIpv4(start)}/${pool.size}`;
  }
  throw unavailable(
    'could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network',
  );
}

/** First host address of a subnet: the gateway Docker picks when none is given. */
export function defaultGateway(subnet: string): string {
  const { first } = spanOf(subnet);
  const prefix = parseCidr(subnet).prefix;
  return uint32ToIpv4(prefix >= 31 ? first : first + 1);
}

export interface IpamInput {
  subnet: string;
  gateway?: string;
  ipRange?: string;
}

export interface IpamConfig {
  /** Canonical network, e.g. '172.18.0.0/16'. */
  subnet: string;
  gateway: string;
  /** Canonical sub-range that dynamic addresses come from, when one was given. */
  ipRange?: string;
}

function parseIpv4Argument(what: string, text: string): number {
  const value = tryParseIpv4(text);
  if (value === undefined) throw invalidArgument(`invalid ${what}: ${text} is not an IPv4 address`);
  return value;
}

/**
 * Validates user IPAM settings (`--subnet/--gateway/--ip-range`) and fills in the default
 * gateway. The subnet and range are returned in canonical form.
 */
export function validateNetworkIpam(input: IpamInput): IpamConfig {
  const subnet = networkOf(input.subnet);
  const config: IpamConfig = { subnet, gateway: defaultGateway(subnet) };
  if (input.gateway !== undefined && input.gateway !== '') {
    const gw = parseIpv4Argument('gateway', input.gateway);
    if (!contains(subnet, input.gateway)) throw invalidArgument(`no matching subnet for gateway ${input.gateway}`);
    if (edgeAddresses(subnet).includes(gw)) {
      throw invalidArgument(`invalid gateway ${input.gateway}: it is the network or broadcast address of ${subnet}`);
    }
    config.gateway = input.gateway;
  }
  if (input.ipRange !== undefined && input.ipRange !== '') {
    const range = networkOf(input.ipRange);
    if (!covers(subnet, range)) throw invalidArgument(`no matching subnet for range ${input.ipRange}`);
    config.ipRange = range;
  }
  return config;
}

export interface AllocationRequest {
  subnet: string;
  /** Dynamic addresses come from here (inside the subnet); static ones may be anywhere in the subnet. */
  ipRange?: string;
  gateway: string;
  /** Addresses already given to endpoints of this network. */
  used: ReadonlySet<string>;
  /** A static address (`--ip`). */
  preferred?: string;
}

function checkPreferred(req: AllocationRequest, preferred: string): string {
  const value = parseIpv4Argument('IP address', preferred);
  // As in Docker, --ip-range only limits dynamic allocation: a static address may be
  // anywhere in the subnet (Docker's docs suggest putting static ones outside the range).
  if (!contains(req.subnet, preferred)) {
    throw invalidArgument(`invalid address ${preferred}: it does not belong to any of this network's subnets`);
  }
  if (edgeAddresses(req.subnet).includes(value)) {
    throw invalidArgument(`invalid address ${preferred}: it is the network or broadcast address of ${networkOf(req.subnet)}`);
  }
  if (ipv4ToUint32(req.gateway) === value) throw conflict(`Address already in use: ${preferred} is the network's gateway`);
  if (req.used.has(uint32ToIpv4(value))) throw conflict('Address already in use');
  return uint32ToIpv4(value);
}

/**
 * The lowest free address in [span.first, span.last] given the addresses that are not free.
 * Sorting the exclusions makes this O(u log u) in their number, whatever the span's size.
 */
function lowestFree(span: Span, excluded: readonly number[]): number | undefined {
  let candidate = span.first;
  for (const value of [...excluded].sort((a, b) => a - b)) {
    if (value < candidate) continue;
    if (value > candidate) break;
    candidate = value + 1;
  }
  return candidate <= span.last ? candidate : undefined;
}

/** Picks an endpoint address: the static one after checks, or the lowest free one. */
export function allocateAddress(req: AllocationRequest): string {
  if (req.preferred !== undefined && req.preferred !== '') return checkPreferred(req, req.preferred);
  // Only the subnet's own network/broadcast are reserved, not the range's (as Docker does).
  const excluded = [...edgeAddresses(req.subnet), ipv4ToUint32(req.gateway)];
  for (const ip of req.used) excluded.push(ipv4ToUint32(ip));
  const span = spanOf(req.ipRange ?? req.subnet);
  const free = lowestFree(span, excluded);
  if (free === undefined) throw unavailable("no available IPv4 addresses on this network's address pools");
  return uint32ToIpv4(free);
}

/** Docker's container MAC: 02:42 followed by the four bytes of the IPv4 address. */
export function macFromIp(ip: string): string {
  const value = ipv4ToUint32(ip);
  const bytes = [value >>> 24, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff];
  return ['02', '42', ...bytes.map((b) => b.toString(16).padStart(2, '0'))].join(':');
}

interface IpRoute {
  dst?: string;
}

interface IpAddrLink {
  addr_info?: { family?: string; local?: string; prefixlen?: number }[];
}

/** A route's destination as a CIDR ('10.0.0.1' is a host route), or undefined for default routes. */
function routeSubnet(dst: string | undefined): string | undefined {
  if (dst === undefined || dst === 'default') return undefined;
  const cidr = dst.includes('/') ? dst : `${dst}/32`;
  if (parseCidr(cidr).prefix === 0) return undefined;
  return networkOf(cidr);
}

/**
 * The IPv4 subnets the host already uses (routes in every table, and the subnets of its
 * addresses), so a new bridge subnet can avoid them. Default routes are left out.
 */
export async function hostSubnets(opts: HostNetnsOptions = {}): Promise<string[]> {
  const [routes, links] = await Promise.all([
    runIpJson<IpRoute>(['-4', 'route', 'show', 'table', 'all'], opts),
    runIpJson<IpAddrLink>(['-4', 'addr', 'show'], opts),
  ]);
  const found = new Set<string>();
  for (const route of routes) {
    const subnet = routeSubnet(route.dst);
    if (subnet !== undefined) found.add(subnet);
  }
  for (const link of links) {
    for (const a of link.addr_info ?? []) {
      if (a.family === 'inet' && a.local !== undefined && a.prefixlen !== undefined) {
        found.add(networkOf(`${a.local}/${a.prefixlen}`));
      }
    }
  }
  return [...found];
}
