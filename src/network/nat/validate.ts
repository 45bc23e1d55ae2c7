// Validation of a FirewallState before any of it is written into an nft script or an
// iptables-restore file: everything is checked against strict patterns and re-rendered from
// parsed numbers, so nothing a caller passes can inject rules, comments or wildcards.
import { conflict, invalidArgument } from '../../util/errors.js';
import type { FirewallNetwork, FirewallState, PortMapping } from './types.js';
import { tryParseIpv4, uint32ToIpv4 } from '../ipam.js';

/** A state whose every field is known to be safe to print into a ruleset. */
export interface ValidState {
  networks: ValidNetwork[];
  ports: ValidPort[];
  ipForward: boolean;
}

export interface ValidNetwork extends FirewallNetwork {
  /** Subnet in canonical form: network address (host bits cleared) / prefix length. */
  subnet: string;
}

export interface ValidPort extends PortMapping {
  /** '' for every host address, else a canonical dotted quad. */
  hostIp: string;
}

// Kernel interface names are at most 15 bytes and may not contain '/', ':' or whitespace;
// berth is stricter still, so '*' / '+' (nft and iptables wildcards), quotes and backslashes
// never reach a rule.
const INTERFACE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$/;
// Leaves room for the longest suffix ('-POSTROUTING') within iptables' 28-character chain names.
const BACKEND_NAME = /^[A-Za-z][A-Za-z0-9_]{0,15}$/;

export function validateBackendName(name: string): string {
  if (!BACKEND_NAME.test(name)) {
    throw invalidArgument(`firewall name ${JSON.stringify(name)} must be a letter followed by up to 15 letters, digits or '_'`);
  }
  return name;
}

export function validateInterfaceName(name: string): string {
  if (!INTERFACE_NAME.test(name)) throw invalidArgument(`invalid bridge interface name ${JSON.stringify(name)}`);
  return name;
}

function requireIPv4(text: string, what: string): number {
  const value = tryParseIpv4(text);
  if (value === undefined) throw invalidArgument(`${what} ${JSON.stringify(text)} is not an IPv4 address`);
  return value;
}

interface ParsedSubnet {
  network: number;
  prefix: number;
}

function parseSubnet(text: string): ParsedSubnet {
  const match = /^([0-9.]+)\/(0|[1-9][0-9]?)$/.exec(text);
  const address = match ? tryParseIpv4(match[1]!) : undefined;
  const prefix = match ? Number(match[2]) : NaN;
  if (address === undefined || !(prefix <= 32)) throw invalidArgument(`subnet ${JSON.stringify(text)} is not an IPv4 CIDR`);
  const size = 2 ** (32 - prefix);
  return { network: address - (address % size), prefix };
}

function subnetContains(subnet: ParsedSubnet, address: number): boolean {
  const size = 2 ** (32 - subnet.prefix);
  return address - (address % size) === subnet.network;
}

function requirePort(port: number, what: string): number {
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw invalidArgument(`${what} ${String(port)} is not a port in 1-65535`);
  return port;
}

function validateNetwork(net: FirewallNetwork): { valid: ValidNetwork; parsed: ParsedSubnet } {
  validateInterfaceName(net.bridge);
  const parsed = parseSubnet(net.subnet);
  const subnet = `${uint32ToIpv4(parsed.network)}/${parsed.prefix}`;
  return { valid: { bridge: net.bridge, subnet, internal: net.internal === true, icc: net.icc === true }, parsed };
}

function canonicalHostIp(hostIp: string): string {
  if (hostIp === '' || hostIp === '0.0.0.0') return '';
  // IPv6 publishing (e.g. '::') is not handled: both backends manage IPv4 tables only.
  return uint32ToIpv4(requireIPv4(hostIp, 'host IP'));
}

function validatePort(port: PortMapping, subnets: ReadonlyMap<string, ParsedSubnet>): ValidPort {
  if (port.proto !== 'tcp' && port.proto !== 'udp') throw invalidArgument(`protocol ${JSON.stringify(port.proto)} is not tcp or udp`);
  const subnet = subnets.get(validateInterfaceName(port.bridge));
  if (!subnet) throw invalidArgument(`port mapping names bridge ${port.bridge}, which is not one of the networks`);
  const containerAddress = requireIPv4(port.containerIp, 'container IP');
  if (!subnetContains(subnet, containerAddress)) {
    throw invalidArgument(`container IP ${port.containerIp} is not in the subnet of bridge ${port.bridge}`);
  }
  return {
    proto: port.proto,
    hostIp: canonicalHostIp(port.hostIp),
    hostPort: requirePort(port.hostPort, 'host port'),
    containerIp: uint32ToIpv4(containerAddress),
    containerPort: requirePort(port.containerPort, 'container port'),
    bridge: port.bridge,
  };
}

/** Two mappings on the same protocol and host port clash when their host addresses overlap. */
function rejectClashingPorts(ports: readonly ValidPort[]): void {
  const seen: ValidPort[] = [];
  for (const port of ports) {
    const clash = seen.find(
      (other) =>
        other.proto === port.proto &&
        other.hostPort === port.hostPort &&
        (other.hostIp === '' || port.hostIp === '' || other.hostIp === port.hostIp),
    );
    if (clash) {
      throw conflict(`host port ${port.proto} ${port.hostIp || '0.0.0.0'}:${port.hostPort} is published twice`);
    }
    seen.push(port);
  }
}

/** Checks and canonicalises a whole state; throws InvalidArgument / Conflict on the first problem. */
export function validateState(state: FirewallState): ValidState {
  const subnets = new Map<string, ParsedSubnet>();
  const networks: ValidNetwork[] = [];
  for (const net of state.networks) {
    const { valid, parsed } = validateNetwork(net);
    if (subnets.has(valid.bridge)) throw conflict(`bridge ${valid.bridge} is listed twice`);
    subnets.set(valid.bridge, parsed);
    networks.push(valid);
  }
  const ports = state.ports.map((port) => validatePort(port, subnets));
  rejectClashingPorts(ports);
  return { networks, ports, ipForward: state.ipForward ?? true };
}

/** True when the mapping is reachable on 127.0.0.1 (or another loopback address). */
export function publishedOnLoopback(port: ValidPort): boolean {
  return port.hostIp === '' || port.hostIp.startsWith('127.');
}
