// What both backends derive from a validated state before printing rules: which mappings are
// live and which kernel switches the rules depend on.
import { publishedOnLoopback, type ValidNetwork, type ValidPort, type ValidState } from './validate.js';

/**
 * Mappings whose network can take traffic from outside. Docker ignores port publishing on
 * --internal networks, and so does berth: a DNAT into an internal bridge would let the host's
 * own connections in.
 */
export function livePorts(state: ValidState): ValidPort[] {
  const internal = new Set(state.networks.filter((net) => net.internal).map((net) => net.bridge));
  return state.ports.filter((port) => !internal.has(port.bridge));
}

export function networksWithPorts(state: ValidState): ValidNetwork[] {
  const bridges = new Set(livePorts(state).map((port) => port.bridge));
  return state.networks.filter((net) => bridges.has(net.bridge));
}

/** Bridges that receive DNATed connections made to 127.0.0.1 from the host itself. */
export function loopbackBridges(state: ValidState): string[] {
  return [...new Set(livePorts(state).filter(publishedOnLoopback).map((port) => port.bridge))];
}

/**
 * Sysctls (slash-separated so bridge names with dots stay one component) that must be 1.
 *
 * - net.ipv4.ip_forward: outbound NAT needs routing between the bridge and the uplink. Docker
 *   turns it on for the host too, and like Docker berth never turns it back off (other
 *   software may rely on it by then).
 * - route_localnet on a bridge: a connection to 127.0.0.1 DNATed to a container leaves through
 *   the bridge with a loopback source; without it the kernel drops it as a martian. It is
 *   left on when the mapping goes, as Docker does.
 */
export function requiredSysctls(state: ValidState): string[] {
  const keys: string[] = [];
  if (state.ipForward && state.networks.some((net) => !net.internal)) keys.push('net/ipv4/ip_forward');
  for (const bridge of loopbackBridges(state)) keys.push(`net/ipv4/conf/${bridge}/route_localnet`);
  return keys;
}
