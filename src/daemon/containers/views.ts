// A container record as the Engine API shows it: inspect (GET /containers/{id}/json) and the
// list entries (GET /containers/json) with Docker's filters.
import type {
  ContainerInspect, ContainerSummary, EndpointSettings, Filters, NetworkSettings, Port, PortBinding,
} from '../../oci/engine-api.js';
import { endpointDnsNames, type ContainerEndpoint } from '../networks/types.js';
import { containerStatusText } from '../../util/units.js';
import { invalidArgument } from '../../util/errors.js';
import type { ContainerRecord } from './store.js';
import { nameFilter } from './name-filter.js';
import { mountPointsView } from './volumes.js';
import { labelMatches } from '../../util/labels.js';

const LIST_FILTERS = new Set(['id', 'name', 'label', 'status', 'exited', 'ancestor', 'before', 'since', 'health', 'volume', 'network', 'is-task', 'expose', 'publish']);
const STATUSES = new Set(['created', 'restarting', 'running', 'removing', 'paused', 'exited', 'dead']);

export function networkMode(rec: ContainerRecord): string {
  const mode = rec.HostConfig.NetworkMode;
  return mode === undefined || mode === '' || mode === 'default' ? 'bridge' : mode;
}

/** Network names by ID, for the views (the records keep IDs). */
export type NetworkNames = (id: string) => string | undefined;

const EMPTY_ENDPOINT: EndpointSettings = {
  IPAMConfig: null, Links: null, Aliases: null, MacAddress: '', DriverOpts: null, NetworkID: '', EndpointID: '', Gateway: '',
  IPAddress: '', IPPrefixLen: 0, IPv6Gateway: '', GlobalIPv6Address: '', GlobalIPv6PrefixLen: 0, DNSNames: null,
};

function endpointView(rec: ContainerRecord, netId: string, ep: ContainerEndpoint): EndpointSettings {
  const running = ep.IPAddress !== undefined;
  return {
    ...EMPTY_ENDPOINT, IPAMConfig: ep.IPAMConfig ?? null, Aliases: ep.Aliases.length > 0 ? ep.Aliases : null, NetworkID: netId,
    MacAddress: ep.MacAddress ?? '', EndpointID: ep.EndpointID ?? '', Gateway: ep.Gateway ?? '', IPAddress: ep.IPAddress ?? '',
    IPPrefixLen: ep.IPPrefixLen ?? 0, DNSNames: running ? endpointDnsNames(rec, ep) : null,
  };
}

function networkSettings(rec: ContainerRecord, names: NetworkNames): NetworkSettings {
  const mode = networkMode(rec);
  const sandbox = rec.State.Running && mode !== 'host' ? rec.NetnsPath ?? `/proc/${rec.State.Pid}/ns/net` : '';
  const networks: Record<string, EndpointSettings> = {};
  for (const [netId, ep] of Object.entries(rec.Networks ?? {})) networks[names(netId) ?? netId] = endpointView(rec, netId, ep);
  if (!rec.Networks) networks[mode] = { ...EMPTY_ENDPOINT };
  // Docker fills the top-level fields from the default bridge network only.
  const bridge = networks['bridge'] ?? EMPTY_ENDPOINT;
  return {
    Bridge: '', SandboxID: rec.NetnsPath ? rec.ID : '', HairpinMode: false, LinkLocalIPv6Address: '', LinkLocalIPv6PrefixLen: 0,
    Ports: portsMap(rec), SandboxKey: sandbox, SecondaryIPAddresses: null, SecondaryIPv6Addresses: null,
    EndpointID: bridge.EndpointID ?? '', Gateway: bridge.Gateway ?? '', GlobalIPv6Address: '', GlobalIPv6PrefixLen: 0,
    IPAddress: bridge.IPAddress ?? '', IPPrefixLen: bridge.IPPrefixLen ?? 0, IPv6Gateway: '', MacAddress: bridge.MacAddress ?? '',
    Networks: networks,
  };
}

/** Exposed ports: null, or the host addresses they are published on while the container runs. */
function portsMap(rec: ContainerRecord): Record<string, PortBinding[] | null> {
  const out: Record<string, PortBinding[] | null> = {};
  for (const port of Object.keys(rec.Config.ExposedPorts ?? {})) out[port] = null;
  for (const p of rec.PublishedPorts ?? []) {
    const key = `${p.containerPort}/${p.proto}`;
    (out[key] ??= []).push({ HostIp: p.hostIp || '0.0.0.0', HostPort: String(p.hostPort) });
  }
  return out;
}

export function inspectView(rec: ContainerRecord, execIds: string[], names: NetworkNames = () => undefined): ContainerInspect {
  return {
    Id: rec.ID, Created: rec.Created, Path: rec.Path, Args: rec.Args, State: rec.State, Image: rec.Image,
    ResolvConfPath: rec.ResolvConfPath, HostnamePath: rec.HostnamePath, HostsPath: rec.HostsPath, LogPath: rec.LogPath,
    Name: rec.Name, RestartCount: rec.RestartCount, Driver: rec.Driver, Platform: 'linux', MountLabel: '', ProcessLabel: '',
    AppArmorProfile: '', ExecIDs: execIds.length > 0 ? execIds : null, HostConfig: rec.HostConfig,
    GraphDriver: { Name: rec.Driver, Data: null }, Mounts: mountPointsView(rec), Config: rec.Config,
    NetworkSettings: networkSettings(rec, names),
  };
}

function commandLine(rec: ContainerRecord): string {
  return [rec.Path, ...rec.Args].map((a) => (/\s/.test(a) ? JSON.stringify(a) : a)).join(' ');
}

function listPorts(rec: ContainerRecord): Port[] {
  const published = rec.PublishedPorts ?? [];
  const out: Port[] = published.map((p) => ({ IP: p.hostIp || '0.0.0.0', PrivatePort: p.containerPort, PublicPort: p.hostPort, Type: p.proto }));
  for (const key of Object.keys(rec.Config.ExposedPorts ?? {})) {
    const [num, proto = 'tcp'] = key.split('/');
    if (!published.some((p) => p.containerPort === Number(num) && p.proto === proto)) out.push({ PrivatePort: Number(num), Type: proto as Port['Type'] });
  }
  return out;
}

export function summaryView(rec: ContainerRecord, removing: boolean, names: NetworkNames = () => undefined): ContainerSummary {
  return {
    Id: rec.ID, Names: [rec.Name], Image: rec.ImageRef, ImageID: rec.Image, Command: commandLine(rec),
    Created: Math.floor(Date.parse(rec.Created) / 1000), Ports: listPorts(rec), Labels: rec.Config.Labels ?? {},
    State: removing ? 'removing' : rec.State.Status,
    Status: containerStatusText({ ...rec.State, RemovalInProgress: removing }),
    HostConfig: { NetworkMode: networkMode(rec) },
    NetworkSettings: { Networks: networkSettings(rec, names).Networks }, Mounts: mountPointsView(rec),
  };
}

/** Docker's /containers/json filters over records sorted newest first. */
export function filterContainers(recs: ContainerRecord[], filters: Filters, all: boolean, find: (ref: string) => ContainerRecord | undefined, imageMatches: (rec: ContainerRecord, ref: string) => boolean, names: NetworkNames = () => undefined): ContainerRecord[] {
  for (const key of Object.keys(filters)) if (!LIST_FILTERS.has(key)) throw invalidArgument(`invalid filter '${key}'`);
  for (const s of filters.status ?? []) {
    if (!STATUSES.has(s)) throw invalidArgument(`invalid filter 'status=${s}'`);
  }
  const before = bound(filters.before, find);
  const since = bound(filters.since, find);
  const any = (key: string, test: (v: string) => boolean): boolean => {
    const values = filters[key];
    return values === undefined || values.length === 0 || values.some(test);
  };
  const nameTests = (filters.name ?? []).map(nameFilter);
  const showAll = all || (filters.status?.length ?? 0) > 0 || (filters.exited?.length ?? 0) > 0;
  return recs.filter((rec) => {
    if (!showAll && !rec.State.Running && !rec.State.Paused && !rec.State.Restarting) return false;
    const created = Date.parse(rec.Created);
    if (before && created >= Date.parse(before.Created)) return false;
    if (since && created <= Date.parse(since.Created)) return false;
    return (
      any('id', (v) => rec.ID.startsWith(v)) &&
      (nameTests.length === 0 || nameTests.some((test) => test(rec.Name.slice(1)) || test(rec.Name))) &&
      any('status', (v) => v === rec.State.Status) &&
      any('exited', (v) => !rec.State.Running && rec.State.Status === 'exited' && Number(v) === rec.State.ExitCode) &&
      any('label', (v) => labelMatches(rec.Config.Labels ?? {}, v)) &&
      any('ancestor', (v) => imageMatches(rec, v)) &&
      any('health', (v) => (rec.State.Health?.Status ?? 'none') === v) &&
      any('network', (v) => networkMode(rec) === v || Object.keys(rec.Networks ?? {}).some((id) => id.startsWith(v) || names(id) === v)) &&
      any('volume', (v) => mountPointsView(rec).some((m) => m.Name === v || m.Destination === v)) &&
      any('is-task', (v) => v === 'false')
    );
  });
}

function bound(values: string[] | undefined, find: (ref: string) => ContainerRecord | undefined): ContainerRecord | undefined {
  if (!values || values.length === 0) return undefined;
  const rec = find(values[0]!);
  if (!rec) throw invalidArgument(`No such container: ${values[0]}`);
  return rec;
}
