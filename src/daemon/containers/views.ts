// A container record as the Engine API shows it: inspect (GET /containers/{id}/json) and the
// list entries (GET /containers/json) with Docker's filters.
import type {
  ContainerInspect, ContainerSummary, Filters, NetworkSettings, Port,
} from '../../oci/engine-api.js';
import { containerStatusText } from '../../util/units.js';
import { invalidArgument } from '../../util/errors.js';
import type { ContainerRecord } from './store.js';
import { nameFilter } from './name-filter.js';
import { mountPointsView } from './volumes.js';

const LIST_FILTERS = new Set(['id', 'name', 'label', 'status', 'exited', 'ancestor', 'before', 'since', 'health', 'volume', 'network', 'is-task', 'expose', 'publish']);
const STATUSES = new Set(['created', 'restarting', 'running', 'removing', 'paused', 'exited', 'dead']);

export function networkMode(rec: ContainerRecord): string {
  const mode = rec.HostConfig.NetworkMode;
  return mode === undefined || mode === '' || mode === 'default' ? 'bridge' : mode;
}

function networkSettings(rec: ContainerRecord): NetworkSettings {
  const mode = networkMode(rec);
  const sandbox = rec.State.Running && mode !== 'host' ? `/proc/${rec.State.Pid}/ns/net` : '';
  return {
    Bridge: '', SandboxID: '', HairpinMode: false, LinkLocalIPv6Address: '', LinkLocalIPv6PrefixLen: 0,
    Ports: portsMap(rec), SandboxKey: sandbox, SecondaryIPAddresses: null, SecondaryIPv6Addresses: null,
    EndpointID: '', Gateway: '', GlobalIPv6Address: '', GlobalIPv6PrefixLen: 0, IPAddress: '', IPPrefixLen: 0,
    IPv6Gateway: '', MacAddress: '',
    Networks: { [mode]: { Aliases: null, NetworkID: '', EndpointID: '', Gateway: '', IPAddress: '', IPPrefixLen: 0, IPv6Gateway: '', GlobalIPv6Address: '', GlobalIPv6PrefixLen: 0, MacAddress: '', DriverOpts: null } },
  };
}

/** Exposed ports, unpublished until the networks issue brings port publishing. */
function portsMap(rec: ContainerRecord): Record<string, null> {
  const out: Record<string, null> = {};
  for (const port of Object.keys(rec.Config.ExposedPorts ?? {})) out[port] = null;
  return out;
}

export function inspectView(rec: ContainerRecord, execIds: string[]): ContainerInspect {
  return {
    Id: rec.ID, Created: rec.Created, Path: rec.Path, Args: rec.Args, State: rec.State, Image: rec.Image,
    ResolvConfPath: rec.ResolvConfPath, HostnamePath: rec.HostnamePath, HostsPath: rec.HostsPath, LogPath: rec.LogPath,
    Name: rec.Name, RestartCount: rec.RestartCount, Driver: rec.Driver, Platform: 'linux', MountLabel: '', ProcessLabel: '',
    AppArmorProfile: '', ExecIDs: execIds.length > 0 ? execIds : null, HostConfig: rec.HostConfig,
    GraphDriver: { Name: rec.Driver, Data: null }, Mounts: mountPointsView(rec), Config: rec.Config,
    NetworkSettings: networkSettings(rec),
  };
}

function commandLine(rec: ContainerRecord): string {
  return [rec.Path, ...rec.Args].map((a) => (/\s/.test(a) ? JSON.stringify(a) : a)).join(' ');
}

function listPorts(rec: ContainerRecord): Port[] {
  return Object.keys(rec.Config.ExposedPorts ?? {}).map((p) => {
    const [num, proto] = p.split('/');
    return { PrivatePort: Number(num), Type: (proto ?? 'tcp') as Port['Type'] };
  });
}

export function summaryView(rec: ContainerRecord, removing: boolean): ContainerSummary {
  return {
    Id: rec.ID, Names: [rec.Name], Image: rec.ImageRef, ImageID: rec.Image, Command: commandLine(rec),
    Created: Math.floor(Date.parse(rec.Created) / 1000), Ports: listPorts(rec), Labels: rec.Config.Labels ?? {},
    State: removing ? 'removing' : rec.State.Status,
    Status: containerStatusText({ ...rec.State, RemovalInProgress: removing }),
    HostConfig: { NetworkMode: networkMode(rec) },
    NetworkSettings: { Networks: networkSettings(rec).Networks }, Mounts: mountPointsView(rec),
  };
}

/** Docker's /containers/json filters over records sorted newest first. */
export function filterContainers(recs: ContainerRecord[], filters: Filters, all: boolean, find: (ref: string) => ContainerRecord | undefined, imageMatches: (rec: ContainerRecord, ref: string) => boolean): ContainerRecord[] {
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
      any('network', (v) => networkMode(rec) === v) &&
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

function labelMatches(labels: Record<string, string>, filter: string): boolean {
  const eq = filter.indexOf('=');
  if (eq < 0) return filter in labels;
  return labels[filter.slice(0, eq)] === filter.slice(eq + 1);
}
