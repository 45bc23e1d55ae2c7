// Bridges and veth pairs for bridge networks, with few processes: ensureBridge is one query
// and one `ip -batch -`; attachEndpoint is one `ip link add` and one batch in the host
// namespace, and one batch in the container's.
// Every function takes `{ netns }`, the namespace that plays the host (see host-run.ts).
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { runTool } from '../util/host-tool.js';
import { conflict, invalidArgument } from '../util/errors.js';
import { contains, networkOf, parseCidr } from './ipam.js';
import {
  failedBatchLine,
  inNetns,
  isMissingDevice,
  runIp,
  runIpBatch,
  runIpJson,
  type HostNetnsOptions,
} from './host-run.js';

export type { HostNetnsOptions } from './host-run.js';

/** What `ip -j -d addr show` says about a link (the fields berth reads). */
export interface LinkDetails {
  ifname: string;
  mtu: number;
  address: string;
  flags: string[];
  master?: string;
  linkinfo?: {
    info_kind?: string;
    info_slave_kind?: string;
    info_slave_data?: { hairpin?: boolean };
  };
  addr_info?: { family: string; local: string; prefixlen: number }[];
}

/** IFNAMSIZ is 16 with the NUL: 15 characters at most. */
const IFNAME_MAX = 15;
// Narrower than what the kernel accepts (anything but '/', ':' and blanks), so names are
// safe on an `ip -batch` line and in sysctl paths.
const IFNAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i;

function checkIfName(name: string, what: string): void {
  if (name.length > IFNAME_MAX) {
    throw invalidArgument(`${what} name ${JSON.stringify(name)} is too long: at most ${IFNAME_MAX} characters`);
  }
  if (!IFNAME.test(name)) {
    throw invalidArgument(`invalid ${what} name ${JSON.stringify(name)}: use letters, digits, '_', '.' and '-'`);
  }
}

function checkMtu(mtu: number | undefined): void {
  if (mtu !== undefined && (!Number.isInteger(mtu) || mtu < 68 || mtu > 65535)) {
    throw invalidArgument(`invalid MTU ${mtu}: must be between 68 and 65535`);
  }
}

function checkMac(mac: string): void {
  // The low bit of the first byte marks multicast, which an interface cannot have.
  if (!MAC.test(mac) || (parseInt(mac.slice(0, 2), 16) & 1) === 1) {
    throw invalidArgument(`invalid MAC address ${JSON.stringify(mac)}: want a unicast address like 02:42:ac:11:00:02`);
  }
}

function mtuArg(mtu: number | undefined): string {
  return mtu === undefined ? '' : ` mtu ${mtu}`;
}

/** A random locally administered unicast MAC. */
function randomMac(): string {
  const bytes = randomBytes(6);
  bytes[0] = (bytes[0]! & 0xfe) | 0x02;
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join(':');
}

/** The link and its addresses, or undefined when there is no such link. */
export async function showLink(name: string, opts: HostNetnsOptions = {}): Promise<LinkDetails | undefined> {
  checkIfName(name, 'interface');
  try {
    const [link] = await runIpJson<LinkDetails>(['-d', 'addr', 'show', 'dev', name], opts);
    return link;
  } catch (err) {
    if (isMissingDevice(err)) return undefined;
    throw err;
  }
}

async function deleteLink(name: string, opts: HostNetnsOptions): Promise<void> {
  try {
    await runIpBatch([`link del ${name}`], opts);
  } catch (err) {
    if (!isMissingDevice(err)) throw err;
  }
}

export interface BridgeSpec {
  name: string;
  /** The gateway address with the subnet's prefix, e.g. '172.18.0.1/16'. */
  address: string;
  mtu?: number;
}

function ipv4Addresses(link: LinkDetails | undefined): string[] {
  return (link?.addr_info ?? []).filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`);
}

/**
 * Makes the bridge exist with exactly this IPv4 address, the MTU and up. Other IPv4
 * addresses on it are stale (an older configuration) and removed, as Docker does.
 */
export async function ensureBridge(spec: BridgeSpec, opts: HostNetnsOptions = {}): Promise<{ created: boolean }> {
  checkIfName(spec.name, 'bridge');
  checkMtu(spec.mtu);
  const { address, prefix } = parseCidr(spec.address);
  const wanted = `${address}/${prefix}`;
  const existing = await showLink(spec.name, opts);
  if (existing && existing.linkinfo?.info_kind !== 'bridge') {
    throw conflict(`cannot use ${spec.name} as a bridge: an interface of type ${existing.linkinfo?.info_kind ?? 'unknown'} has that name`);
  }
  const present = ipv4Addresses(existing);
  const commands: string[] = [];
  // A fixed MAC: otherwise the bridge takes its lowest port's, which changes as containers
  // come and go and leaves stale gateway entries in their ARP caches.
  if (!existing) commands.push(`link add ${spec.name} address ${randomMac()} type bridge`);
  for (const stale of present.filter((a) => a !== wanted)) commands.push(`addr del ${stale} dev ${spec.name}`);
  if (!present.includes(wanted)) commands.push(`addr add ${wanted} brd + dev ${spec.name}`);
  commands.push(`link set ${spec.name}${mtuArg(spec.mtu)} up`);
  try {
    await runIpBatch(commands, opts);
  } catch (err) {
    // Unless creating it is what failed (someone else made it meanwhile), the new bridge is
    // ours to remove; ip may exit without naming the failed line, so that case removes too.
    if (!existing && failedBatchLine(err) !== 1) await deleteLink(spec.name, opts).catch(() => undefined);
    throw err;
  }
  return { created: !existing };
}

/** Deletes the bridge; a missing one is fine. */
export async function removeBridge(name: string, opts: HostNetnsOptions = {}): Promise<void> {
  checkIfName(name, 'bridge');
  await deleteLink(name, opts);
}

export interface EndpointSpec {
  bridge: string;
  /** The container's network namespace file. */
  netnsPath: string;
  /** Host end of the veth pair, e.g. 'veth1a2b3c4'. */
  hostIf: string;
  /** Name inside the container, e.g. 'eth0'. */
  containerIf: string;
  /** The container's address with the subnet's prefix, e.g. '172.18.0.2/16'. */
  address: string;
  /** Default route; left out on --internal networks, which get none. */
  gateway?: string;
  mac: string;
  mtu?: number;
  /** Lets a container reach itself through the bridge (needed with userland-proxy off). */
  hairpin?: boolean;
}

function checkEndpoint(spec: EndpointSpec): void {
  checkIfName(spec.bridge, 'bridge');
  checkIfName(spec.hostIf, 'host interface');
  checkIfName(spec.containerIf, 'container interface');
  if (!spec.netnsPath.startsWith('/')) throw invalidArgument(`network namespace path must be absolute: ${spec.netnsPath}`);
  checkMac(spec.mac);
  checkMtu(spec.mtu);
  parseCidr(spec.address);
  if (spec.gateway !== undefined && !contains(networkOf(spec.address), spec.gateway)) {
    throw invalidArgument(`gateway ${spec.gateway} is not in the endpoint's subnet ${networkOf(spec.address)}`);
  }
}

/** The veth pair, made in one netlink request, so it either fully exists or not at all. */
function createPairArgs(spec: EndpointSpec): string[] {
  const mtu = spec.mtu === undefined ? [] : ['mtu', String(spec.mtu)];
  // The peer is created directly in the container's namespace under its final name and
  // MAC, so it never appears in the host namespace and needs no rename. iproute2 takes a
  // `netns` value containing '/' as a path rather than a name under /run/netns.
  return ['link', 'add', spec.hostIf, ...mtu, 'type', 'veth', 'peer', 'name', spec.containerIf, 'address', spec.mac, ...mtu, 'netns', spec.netnsPath];
}

function hostSideCommands(spec: EndpointSpec): string[] {
  const commands = [`link set ${spec.hostIf} master ${spec.bridge}`];
  if (spec.hairpin) commands.push(`link set ${spec.hostIf} type bridge_slave hairpin on`);
  commands.push(`link set ${spec.hostIf} up`);
  return commands;
}

function containerSideCommands(spec: EndpointSpec): string[] {
  const commands = [`addr add ${spec.address} brd + dev ${spec.containerIf}`, `link set ${spec.containerIf} up`];
  if (spec.gateway !== undefined) commands.push(`route add default via ${spec.gateway} dev ${spec.containerIf}`);
  return commands;
}

/**
 * The same endpoint made from inside a namespace being created (createNetns's `inside`
 * lines): the pair is added there with its host end sent to `hostNetns` (a path to the
 * host's namespace), so namespace, pair and addresses take one process; hostEndCommands
 * then put the host end on the bridge. Saves two processes on the first endpoint of a start.
 */
export function endpointFromInside(spec: EndpointSpec, hostNetns: string): string[] {
  checkEndpoint(spec);
  // It becomes a word on an `ip -batch` line, which splits at blanks and cuts at '#'.
  if (!hostNetns.startsWith('/') || /[\s#]/.test(hostNetns)) throw invalidArgument(`host network namespace path must be absolute, without blanks or '#': ${hostNetns}`);
  const mtu = spec.mtu === undefined ? '' : ` mtu ${spec.mtu}`;
  return [`link add ${spec.containerIf} address ${spec.mac}${mtu} type veth peer name ${spec.hostIf}${mtu} netns ${hostNetns}`, ...containerSideCommands(spec)];
}

/** The `ip -batch` lines that put an endpoint's host end on its bridge and up. */
export function hostEndCommands(spec: EndpointSpec): string[] {
  checkEndpoint(spec);
  return hostSideCommands(spec);
}

/**
 * An endpoint for a namespace that already exists, as three commands for whoever runs them
 * (berth-shim for berthd): make the pair with its peer sent in, the host end, the inside.
 */
export function endpointCommands(spec: EndpointSpec): { argv: string[]; input: string }[] {
  checkEndpoint(spec);
  return [
    { argv: ['ip', ...createPairArgs(spec)], input: '' },
    { argv: ['ip', '-batch', '-'], input: hostSideCommands(spec).join('\n') + '\n' },
    { argv: ['nsenter', `--net=${spec.netnsPath}`, '--', 'ip', '-batch', '-'], input: containerSideCommands(spec).join('\n') + '\n' },
  ];
}

/**
 * Connects a container's namespace to a bridge with a veth pair and configures its side.
 * On failure whatever was made is removed (deleting the host end deletes the pair).
 */
export async function attachEndpoint(spec: EndpointSpec, opts: HostNetnsOptions = {}): Promise<void> {
  checkEndpoint(spec);
  // The pair gets a process of its own: if it fails, nothing of ours exists (the name may
  // belong to someone else). A batch cannot tell us that: ip exits mid-batch without saying
  // which line failed when, say, the bridge named by `master` does not exist.
  await runIp(createPairArgs(spec), opts);
  try {
    await runIpBatch(hostSideCommands(spec), opts);
    await runIpBatch(containerSideCommands(spec), { netns: spec.netnsPath });
  } catch (err) {
    await deleteLink(spec.hostIf, opts).catch(() => undefined);
    throw err;
  }
}

/** Deletes the host end of an endpoint's veth pair (and so the pair); a missing one is fine. */
export async function detachEndpoint(hostIf: string, opts: HostNetnsOptions = {}): Promise<void> {
  checkIfName(hostIf, 'host interface');
  await deleteLink(hostIf, opts);
}

/** Names of the links whose name starts with `prefix` (leftovers to reconcile at start). */
export async function listLinks(prefix: string, opts: HostNetnsOptions = {}): Promise<string[]> {
  const links = await runIpJson<{ ifname: string }>(['link', 'show'], opts);
  return links.map((l) => l.ifname).filter((name) => name.startsWith(prefix));
}

const NET_SYSCTL = /^\/proc\/sys\/net\/[A-Za-z0-9_.\-/]+$/;

function checkSysctlPath(path: string): void {
  if (!NET_SYSCTL.test(path) || path.split('/').some((part) => part === '..' || part === '.')) {
    throw invalidArgument(`not a network sysctl path: ${JSON.stringify(path)}`);
  }
}

/**
 * Writes a /proc/sys/net/… setting. Those files belong to the network namespace of the
 * process that opens them, so inside `netns` the write is done by a process there.
 */
export async function setSysctl(path: string, value: string, opts: HostNetnsOptions = {}): Promise<void> {
  checkSysctlPath(path);
  if (opts.netns === undefined) return writeFile(path, value);
  await runTool(inNetns(['tee', path], opts.netns), { input: value });
}

export async function readSysctl(path: string, opts: HostNetnsOptions = {}): Promise<string> {
  checkSysctlPath(path);
  if (opts.netns === undefined) return (await readFile(path, 'utf8')).trim();
  return (await runTool(inNetns(['cat', path], opts.netns))).stdout.trim();
}
