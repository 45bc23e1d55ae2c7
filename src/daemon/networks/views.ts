// Networks as the Engine API shows them (GET /networks, /networks/{id}) and Docker's list and
// prune filters.
import type { Filters, NetworkResource } from '../../oci/engine-api.js';
import { invalidArgument } from '../../util/errors.js';
import { PREDEFINED, type NetworkRecord } from '../../network/store.js';
import type { ContainerRecord } from '../containers/store.js';
import type { ContainerEndpoint } from './types.js';
import { labelMatches } from '../../util/labels.js';
import { untilFilter } from '../images/filters.js';

const LIST_FILTERS = ['dangling', 'driver', 'id', 'label', 'name', 'scope', 'type'];

export function networkView(net: NetworkRecord, endpoints: { rec: ContainerRecord; ep: ContainerEndpoint }[]): NetworkResource {
  const containers: NetworkResource['Containers'] = {};
  for (const { rec, ep } of endpoints) {
    containers[rec.ID] = { Name: rec.Name.slice(1), EndpointID: ep.EndpointID ?? '', MacAddress: ep.MacAddress ?? '', IPv4Address: `${ep.IPAddress}/${ep.IPPrefixLen}`, IPv6Address: '' };
  }
  return {
    Name: net.Name, Id: net.Id, Created: net.Created, Scope: 'local', Driver: net.Driver, EnableIPv4: true, EnableIPv6: false,
    IPAM: { Driver: net.IPAM.Driver, Options: Object.keys(net.IPAM.Options).length > 0 ? net.IPAM.Options : null, Config: net.IPAM.Config },
    Internal: net.Internal, Attachable: net.Attachable, Ingress: false, ConfigFrom: { Network: '' }, ConfigOnly: false,
    Containers: containers, Options: net.Options, Labels: net.Labels,
  };
}

/**
 * moby's network filters. `allowed` narrows the keys (prune takes label, label! and until);
 * `dangling` says whether no container uses a network.
 */
export function filterNetworks(nets: NetworkRecord[], filters: Filters, dangling: (net: NetworkRecord) => boolean, allowed: readonly string[] = LIST_FILTERS): NetworkRecord[] {
  for (const key of Object.keys(filters)) if (!allowed.includes(key) && key !== 'type') throw invalidArgument(`invalid filter '${key}'`);
  const any = (key: string, test: (v: string) => boolean): boolean => !filters[key]?.length || filters[key]!.some(test);
  for (const t of filters['type'] ?? []) if (t !== 'custom' && t !== 'builtin') throw invalidArgument(`invalid filter: 'type'='${t}'`);
  const until = untilFilter(filters);
  return nets.filter((net) => {
    const builtin = PREDEFINED.has(net.Name);
    if (!any('type', (t) => (t === 'builtin') === builtin)) return false;
    if (!any('driver', (d) => d === net.Driver)) return false;
    if (!any('id', (id) => net.Id.startsWith(id))) return false;
    if (!any('name', (n) => net.Name.includes(n))) return false;
    if (!any('scope', (sc) => sc === 'local')) return false;
    if (!(filters['label'] ?? []).every((l) => labelMatches(net.Labels, l))) return false;
    if ((filters['label!'] ?? []).some((l) => labelMatches(net.Labels, l))) return false;
    if (until !== undefined && Date.parse(net.Created) >= until) return false;
    if (!any('dangling', (v) => parseBool(v, 'dangling') === (dangling(net) && !builtin))) return false;
    return true;
  });
}

function parseBool(v: string, key: string): boolean {
  if (['true', '1'].includes(v.toLowerCase())) return true;
  if (['false', '0'].includes(v.toLowerCase())) return false;
  throw invalidArgument(`invalid filter '${key}=${v}'`);
}
