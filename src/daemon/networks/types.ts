// What a container record keeps about its networks (moby keeps the same in config.v2.json's
// NetworkSettings): per network, the user's settings and, while it runs, its endpoint.
import type { PublishedPort } from './ports.js';

export interface ContainerEndpoint {
  /** --network-alias / connect --alias. */
  Aliases: string[];
  /** --ip / connect --ip. */
  IPAMConfig?: { IPv4Address?: string };
  // While the container runs:
  EndpointID?: string;
  IPAddress?: string;
  IPPrefixLen?: number;
  /** "" on an --internal network (no default route). */
  Gateway?: string;
  MacAddress?: string;
  /** The veth's host end, and its name inside the container. */
  HostIf?: string;
  IfName?: string;
}

/** The network state a container record carries (absent for host, none and container: modes). */
export interface ContainerNetworking {
  /** By network ID. */
  Networks?: Record<string, ContainerEndpoint>;
  /** The network namespace berthd made for the running container. */
  NetnsPath?: string;
  /** Its published ports while it runs. */
  PublishedPorts?: PublishedPort[];
}

/** The names the embedded DNS answers for a container's endpoint (moby: name, aliases, short ID), as inspect shows them. */
export function endpointDnsNames(rec: { ID: string; Name: string }, ep: ContainerEndpoint): string[] {
  return [rec.Name.slice(1), ...ep.Aliases, rec.ID.slice(0, 12)];
}
