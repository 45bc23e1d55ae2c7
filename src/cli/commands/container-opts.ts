// The container flags of `run` and `create` and their translation into the Engine API's
// create request, as docker/cli's cli/command/container/opts.go (addFlags, parse) does it.
import { readFileSync } from 'node:fs';
import { resolve as resolvePath, isAbsolute, posix } from 'node:path';
import type { ContainerCreateRequest, DeviceMapping, EndpointSettings, HealthConfig, HostConfig, MountSpec, PortBinding, RestartPolicy, Ulimit } from '../../oci/engine-api.js';
import type { FlagSpec, FlagValues } from '../command.js';
import { ramInBytes } from '../flags.js';
import { readEnvFiles, readLabelFiles, validateEnv, kvToMap } from './kv-files.js';

const f = (name: string, type: FlagSpec['type'], usage: string, extra: Partial<FlagSpec> = {}): FlagSpec => ({ name, type, usage, ...extra });

/** docker's addFlags(), the part berth implements. */
export const CONTAINER_FLAGS: FlagSpec[] = [
  f('add-host', 'list', 'Add a custom host-to-IP mapping (host:ip)'),
  f('annotation', 'map', 'Add an annotation to the container (passed through to the OCI runtime)'),
  f('attach', 'list', 'Attach to STDIN, STDOUT or STDERR', { short: 'a' }),
  f('blkio-weight', 'int', 'Block IO (relative weight), between 10 and 1000, or 0 to disable (default 0)', { valueName: 'uint16' }),
  f('cap-add', 'list', 'Add Linux capabilities'),
  f('cap-drop', 'list', 'Drop Linux capabilities'),
  f('cgroup-parent', 'string', 'Optional parent cgroup for the container'),
  f('cgroupns', 'string', "Cgroup namespace to use (host|private)\n'host':    Run the container in the Docker host's cgroup namespace\n'private': Run the container in its own private cgroup namespace\n'':        Use the cgroup namespace as configured by the\n           default-cgroupns-mode option on the daemon (default)"),
  f('cidfile', 'string', 'Write the container ID to the file'),
  f('cpu-period', 'int', 'Limit CPU CFS (Completely Fair Scheduler) period'),
  f('cpu-quota', 'int', 'Limit CPU CFS (Completely Fair Scheduler) quota'),
  f('cpu-rt-period', 'int', 'Limit CPU real-time period in microseconds'),
  f('cpu-rt-runtime', 'int', 'Limit CPU real-time runtime in microseconds'),
  f('cpu-shares', 'int', 'CPU shares (relative weight)', { short: 'c' }),
  f('cpus', 'string', 'Number of CPUs', { valueName: 'decimal' }),
  f('cpuset-cpus', 'string', 'CPUs in which to allow execution (0-3, 0,1)'),
  f('cpuset-mems', 'string', 'MEMs in which to allow execution (0-3, 0,1)'),
  f('device', 'list', 'Add a host device to the container'),
  f('device-cgroup-rule', 'list', 'Add a rule to the cgroup allowed devices list'),
  f('dns', 'list', 'Set custom DNS servers'),
  f('dns-option', 'list', 'Set DNS options'),
  f('dns-opt', 'list', 'Set DNS options', { hidden: true }),
  f('dns-search', 'list', 'Set custom DNS search domains'),
  f('domainname', 'string', 'Container NIS domain name'),
  f('entrypoint', 'string', 'Overwrite the default ENTRYPOINT of the image'),
  f('env', 'list', 'Set environment variables', { short: 'e' }),
  f('env-file', 'list', 'Read in a file of environment variables'),
  f('expose', 'list', 'Expose a port or a range of ports'),
  f('group-add', 'list', 'Add additional groups to join'),
  f('health-cmd', 'string', 'Command to run to check health'),
  f('health-interval', 'duration', 'Time between running the check (ms|s|m|h) (default 0s)'),
  f('health-retries', 'int', 'Consecutive failures needed to report unhealthy'),
  f('health-start-interval', 'duration', 'Time between running the check during the start period (ms|s|m|h) (default 0s)'),
  f('health-start-period', 'duration', 'Start period for the container to initialize before starting health-retries countdown (ms|s|m|h) (default 0s)'),
  f('health-timeout', 'duration', 'Maximum time to allow one check to run (ms|s|m|h) (default 0s)'),
  f('hostname', 'string', 'Container host name', { short: 'h' }),
  f('init', 'bool', 'Run an init inside the container that forwards signals and reaps processes'),
  f('interactive', 'bool', 'Keep STDIN open even if not attached', { short: 'i' }),
  f('ip', 'string', 'IPv4 address (e.g., 172.30.100.104)'),
  f('ip6', 'string', 'IPv6 address (e.g., 2001:db8::33)'),
  f('ipc', 'string', 'IPC mode to use'),
  f('isolation', 'string', 'Container isolation technology', { hidden: true }),
  f('label', 'list', 'Set meta data on a container', { short: 'l' }),
  f('label-file', 'list', 'Read in a line delimited file of labels'),
  f('link', 'list', 'Add link to another container', { hidden: true }),
  f('link-local-ip', 'list', 'Container IPv4/IPv6 link-local addresses'),
  f('log-driver', 'string', 'Logging driver for the container'),
  f('log-opt', 'list', 'Log driver options'),
  f('mac-address', 'string', 'Container MAC address (e.g., 92:d0:c6:0a:29:33)'),
  f('memory', 'bytes', 'Memory limit', { short: 'm' }),
  f('memory-reservation', 'bytes', 'Memory soft limit'),
  f('memory-swap', 'string', "Swap limit equal to memory plus swap: '-1' to enable unlimited swap", { valueName: 'bytes' }),
  f('memory-swappiness', 'int', 'Tune container memory swappiness (0 to 100)', { default: -1 }),
  f('mount', 'list', 'Attach a filesystem mount to the container', { valueName: 'mount' }),
  f('net', 'list', 'Connect a container to a network', { hidden: true, valueName: 'network' }),
  f('net-alias', 'list', 'Add network-scoped alias for the container', { hidden: true }),
  f('network', 'list', 'Connect a container to a network', { valueName: 'network' }),
  f('network-alias', 'list', 'Add network-scoped alias for the container'),
  f('no-healthcheck', 'bool', 'Disable any container-specified HEALTHCHECK'),
  f('oom-kill-disable', 'bool', 'Disable OOM Killer'),
  f('oom-score-adj', 'int', "Tune host's OOM preferences (-1000 to 1000)"),
  f('pid', 'string', 'PID namespace to use'),
  f('pids-limit', 'int', 'Tune container pids limit (set -1 for unlimited)'),
  f('privileged', 'bool', 'Give extended privileges to this container'),
  f('publish', 'list', "Publish a container's port(s) to the host", { short: 'p' }),
  f('publish-all', 'bool', 'Publish all exposed ports to random ports', { short: 'P' }),
  f('read-only', 'bool', "Mount the container's root filesystem as read only"),
  f('restart', 'string', 'Restart policy to apply when a container exits', { default: 'no' }),
  f('rm', 'bool', 'Automatically remove the container and its associated anonymous volumes when it exits'),
  f('runtime', 'string', 'Runtime to use for this container'),
  f('security-opt', 'list', 'Security Options'),
  f('shm-size', 'bytes', 'Size of /dev/shm'),
  f('stop-signal', 'string', 'Signal to stop the container'),
  f('stop-timeout', 'int', 'Timeout (in seconds) to stop a container'),
  f('storage-opt', 'list', 'Storage driver options for the container'),
  f('sysctl', 'map', 'Sysctl options'),
  f('tmpfs', 'list', 'Mount a tmpfs directory'),
  f('tty', 'bool', 'Allocate a pseudo-TTY', { short: 't' }),
  f('ulimit', 'list', 'Ulimit options', { valueName: 'ulimit' }),
  f('user', 'string', 'Username or UID (format: <name|uid>[:<group|gid>])', { short: 'u' }),
  f('userns', 'string', 'User namespace to use'),
  f('uts', 'string', 'UTS namespace to use'),
  f('volume', 'list', 'Bind mount a volume', { short: 'v' }),
  f('volume-driver', 'string', 'Optional volume driver for the container'),
  f('volumes-from', 'list', 'Mount volumes from the specified container(s)'),
  f('workdir', 'string', 'Working directory inside the container', { short: 'w' }),
];

/** Flags `run` and `create` have besides the container's own. */
export const CREATE_FLAGS: FlagSpec[] = [
  f('name', 'string', 'Assign a name to the container'),
  f('platform', 'string', 'Set platform if server is multi-platform capable'),
  f('pull', 'string', 'Pull image before creating ("always", "missing", "never")', { default: 'missing' }),
  f('quiet', 'bool', 'Suppress the pull output', { short: 'q' }),
  f('help', 'bool', 'Print usage'),
];

/** The create request plus what the CLI itself needs from the flags. */
export interface ContainerRequest {
  body: ContainerCreateRequest;
  /** Streams named with -a (lower case). */
  attach: string[];
}

type Values = FlagValues;

const str = (v: Values, k: string): string => (typeof v[k] === 'string' ? (v[k] as string) : '');
const num = (v: Values, k: string): number => (typeof v[k] === 'number' ? (v[k] as number) : 0);
const bool = (v: Values, k: string): boolean => v[k] === true;
const list = (v: Values, k: string): string[] => (Array.isArray(v[k]) ? (v[k] as string[]) : []);

export class OptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OptionError';
  }
}

/**
 * docker's parse(): flags + IMAGE + args → the body of POST /containers/create.
 * `changed` tells flags given explicitly from defaults (--init, --stop-timeout, --entrypoint="").
 */
export function buildCreateRequest(
  v: Values,
  changed: ReadonlySet<string>,
  image: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  consoleSize: [number, number],
): ContainerRequest {
  const attach = list(v, 'attach').map(validateAttach);
  let attachStdin = attach.includes('stdin');
  let attachStdout = attach.includes('stdout');
  let attachStderr = attach.includes('stderr');
  if (bool(v, 'interactive')) attachStdin = true;
  if (attach.length === 0) {
    attachStdout = true;
    attachStderr = true;
  }
  const swappiness = typeof v['memory-swappiness'] === 'number' ? (v['memory-swappiness'] as number) : -1;
  if (swappiness !== -1 && (swappiness < 0 || swappiness > 100)) throw new OptionError(`invalid value: ${swappiness}. Valid memory swappiness range is 0-100`);

  const { binds, volumes } = parseVolumes(list(v, 'volume'));
  const tmpfs: Record<string, string> = {};
  for (const t of list(v, 'tmpfs')) {
    const colon = t.indexOf(':');
    tmpfs[colon >= 0 ? t.slice(0, colon) : t] = colon >= 0 ? t.slice(colon + 1) : '';
  }
  let entrypoint: string[] | null = null;
  if (str(v, 'entrypoint') !== '') entrypoint = [str(v, 'entrypoint')];
  else if (changed.has('entrypoint')) entrypoint = [''];

  const { exposed, bindings } = parsePorts(list(v, 'publish'), list(v, 'expose'));
  const devices = list(v, 'device').map(parseDevice);
  for (const rule of list(v, 'device-cgroup-rule')) {
    if (!/^[acb] ([0-9]+|\*):([0-9]+|\*) [rwm]{1,3}$/.test(rule)) throw new OptionError(`invalid device cgroup format '${rule}'`);
  }
  let envList: string[];
  let labels: string[];
  try {
    envList = [...readEnvFiles(list(v, 'env-file'), env), ...list(v, 'env').map((e) => validateEnv(e, env))];
  } catch (err) {
    throw new OptionError(`--env-file: ${(err as Error).message}`);
  }
  try {
    labels = [...readLabelFiles(list(v, 'label-file')), ...list(v, 'label')];
  } catch (err) {
    throw new OptionError(`--label-file: ${(err as Error).message}`);
  }
  const pidMode = checkMode(str(v, 'pid'), '--pid: invalid PID mode', ['', 'host'], true);
  const utsMode = checkMode(str(v, 'uts'), '--uts: invalid UTS mode', ['', 'host'], false);
  const usernsMode = checkMode(str(v, 'userns'), '--userns: invalid USER mode', ['', 'host'], false);
  const cgroupnsMode = checkMode(str(v, 'cgroupns'), '--cgroupns: invalid CGROUP mode', ['', 'host', 'private'], false);
  const restartPolicy = parseRestartPolicy(str(v, 'restart'));
  const logDriver = str(v, 'log-driver');
  const logOpts = list(v, 'log-opt');
  if (logDriver === 'none' && logOpts.length > 0) throw new OptionError(`invalid logging opts for driver ${logDriver}`);
  const { securityOpts, maskedPaths, readonlyPaths } = parseSecurityOpts(list(v, 'security-opt'));
  const storageOpt = parseStorageOpts(list(v, 'storage-opt'));
  const healthcheck = parseHealth(v);
  const sysctls = parseSysctls(list(v, 'sysctl'));
  const networking = parseNetworkFlags(v);

  const autoRemove = bool(v, 'rm');
  if (autoRemove && restartPolicy.Name !== '' && restartPolicy.Name !== 'no') {
    throw new OptionError('conflicting options: cannot specify both --restart and --rm');
  }
  const openStdin = bool(v, 'interactive');
  const body: ContainerCreateRequest = {
    Hostname: str(v, 'hostname'),
    Domainname: str(v, 'domainname'),
    User: str(v, 'user'),
    AttachStdin: attachStdin,
    AttachStdout: attachStdout,
    AttachStderr: attachStderr,
    ExposedPorts: exposed,
    Tty: bool(v, 'tty'),
    OpenStdin: openStdin,
    // When allocating stdin in attached mode, close stdin at client disconnect.
    StdinOnce: openStdin && attachStdin,
    Env: envList,
    Cmd: args.length > 0 ? args : null,
    Image: image,
    Volumes: volumes,
    WorkingDir: str(v, 'workdir'),
    Entrypoint: entrypoint,
    Labels: kvToMap(labels),
    StopSignal: str(v, 'stop-signal') || undefined,
    ...(healthcheck ? { Healthcheck: healthcheck } : {}),
    ...(changed.has('stop-timeout') ? { StopTimeout: num(v, 'stop-timeout') } : {}),
    HostConfig: {
      Binds: binds,
      ContainerIDFile: str(v, 'cidfile'),
      OomScoreAdj: num(v, 'oom-score-adj'),
      AutoRemove: autoRemove,
      Privileged: bool(v, 'privileged'),
      PortBindings: bindings,
      Links: list(v, 'link'),
      PublishAllPorts: bool(v, 'publish-all'),
      Dns: list(v, 'dns'),
      DnsSearch: list(v, 'dns-search'),
      DnsOptions: [...list(v, 'dns-option'), ...list(v, 'dns-opt')],
      ExtraHosts: list(v, 'add-host'),
      VolumesFrom: list(v, 'volumes-from'),
      IpcMode: str(v, 'ipc'),
      NetworkMode: networking.mode,
      PidMode: pidMode,
      UTSMode: utsMode,
      UsernsMode: usernsMode,
      CgroupnsMode: cgroupnsMode as HostConfig['CgroupnsMode'],
      CapAdd: list(v, 'cap-add'),
      CapDrop: list(v, 'cap-drop'),
      GroupAdd: list(v, 'group-add'),
      RestartPolicy: restartPolicy,
      SecurityOpt: securityOpts,
      StorageOpt: storageOpt,
      ReadonlyRootfs: bool(v, 'read-only'),
      LogConfig: { Type: logDriver, Config: kvToMap(logOpts) },
      VolumeDriver: str(v, 'volume-driver'),
      Isolation: str(v, 'isolation'),
      ShmSize: num(v, 'shm-size'),
      Tmpfs: tmpfs,
      Sysctls: sysctls,
      Runtime: str(v, 'runtime'),
      Mounts: list(v, 'mount').map(parseMount),
      ...(maskedPaths ? { MaskedPaths: maskedPaths, ReadonlyPaths: readonlyPaths } : {}),
      Annotations: kvToMap(list(v, 'annotation')),
      ...(changed.has('init') ? { Init: bool(v, 'init') } : {}),
      // Resources
      CgroupParent: str(v, 'cgroup-parent'),
      Memory: num(v, 'memory'),
      MemoryReservation: num(v, 'memory-reservation'),
      MemorySwap: parseMemorySwap(str(v, 'memory-swap')),
      MemorySwappiness: swappiness,
      OomKillDisable: bool(v, 'oom-kill-disable'),
      NanoCpus: parseNanoCpus(str(v, 'cpus')),
      CpuShares: num(v, 'cpu-shares'),
      CpuPeriod: num(v, 'cpu-period'),
      CpuQuota: num(v, 'cpu-quota'),
      CpuRealtimePeriod: num(v, 'cpu-rt-period'),
      CpuRealtimeRuntime: num(v, 'cpu-rt-runtime'),
      CpusetCpus: str(v, 'cpuset-cpus'),
      CpusetMems: str(v, 'cpuset-mems'),
      PidsLimit: num(v, 'pids-limit'),
      BlkioWeight: num(v, 'blkio-weight'),
      Ulimits: parseUlimits(list(v, 'ulimit')),
      DeviceCgroupRules: list(v, 'device-cgroup-rule'),
      Devices: devices,
    },
    NetworkingConfig: { EndpointsConfig: networking.endpoints },
  };
  // Not in HostConfig's type yet: docker sends the terminal's size so the tty starts right.
  (body.HostConfig as HostConfig & { ConsoleSize?: [number, number] }).ConsoleSize = consoleSize;
  return { body, attach };
}

/** One --network value (opts.NetworkAttachmentOpts). */
interface NetworkAttachment {
  target: string;
  aliases: string[];
  driverOpts?: Record<string, string>;
  links: string[];
  ipv4: string;
  ipv6: string;
  linkLocalIps: string[];
  mac: string;
  gwPriority: number;
}

/** encoding/csv's Read of one line: commas separate fields, double quotes may hold commas ("" is a quote). */
function readCsvLine(value: string): string[] {
  const out: string[] = [];
  let i = 0;
  for (;;) {
    let field = '';
    if (value[i] === '"') {
      i++;
      for (;;) {
        if (i >= value.length) throw new Error(`parse error on line 1, column ${i + 1}: extraneous or missing " in quoted-field`);
        if (value[i] === '"' && value[i + 1] === '"') {
          field += '"';
          i += 2;
        } else if (value[i] === '"') {
          i++;
          if (i < value.length && value[i] !== ',') throw new Error(`parse error on line 1, column ${i + 1}: extraneous or missing " in quoted-field`);
          break;
        } else field += value[i++];
      }
    } else {
      while (i < value.length && value[i] !== ',') {
        if (value[i] === '"') throw new Error(`parse error on line 1, column ${i + 1}: bare " in non-quoted-field`);
        field += value[i++];
      }
    }
    out.push(field);
    if (i >= value.length) return out;
    i++;
  }
}

/**
 * opts.NetworkOpt.Set: a plain network name, or (when the value has any "word=word") docker's
 * advanced syntax name=NET,alias=A,ip=…,ip6=…,mac-address=…,link-local-ip=…,driver-opt=k=v,gw-priority=N.
 * Like docker, it lower-cases the whole field, values included.
 */
export function parseNetworkOpt(value: string): NetworkAttachment {
  const n: NetworkAttachment = { target: '', aliases: [], links: [], ipv4: '', ipv6: '', linkLocalIps: [], mac: '', gwPriority: 0 };
  const bad = (why: string): OptionError => new OptionError(`invalid argument "${value}" for "--network" flag: ${why}`);
  if (!/\w+=\w+(,\w+=\w+)*/.test(value)) {
    n.target = value;
    return n;
  }
  let fields: string[];
  try {
    fields = readCsvLine(value);
  } catch (err) {
    throw bad((err as Error).message);
  }
  for (const field of fields) {
    const lower = field.toLowerCase();
    const eq = lower.indexOf('=');
    if (eq <= 0) throw bad(`invalid field ${field}`);
    const key = lower.slice(0, eq).trim();
    const val = lower.slice(eq + 1).trim();
    switch (key) {
      case 'name':
        n.target = val;
        break;
      case 'alias':
        n.aliases.push(val);
        break;
      case 'ip':
        n.ipv4 = val;
        break;
      case 'ip6':
        n.ipv6 = val;
        break;
      case 'mac-address':
        n.mac = val;
        break;
      case 'link-local-ip':
        n.linkLocalIps.push(val);
        break;
      case 'driver-opt': {
        const e = val.indexOf('=');
        if (e <= 0) throw bad('invalid key value pair format in driver options');
        (n.driverOpts ??= {})[val.slice(0, e).trim()] = val.slice(e + 1).trim();
        break;
      }
      case 'gw-priority':
        if (!/^[+-]?\d+$/.test(val)) throw bad(`invalid gw-priority (${val}): invalid syntax`);
        n.gwPriority = Number(val);
        break;
      default:
        throw bad(`invalid field key ${key}`);
    }
  }
  if (n.target === '') throw bad('network name/id is not specified');
  return n;
}

/** container.NetworkMode.IsUserDefined. */
const isUserDefined = (mode: string): boolean =>
  !['default', 'bridge', 'host', 'none'].includes(mode) && !(mode.includes(':') && mode.slice(0, mode.indexOf(':')) === 'container');

/** net.ParseMAC: 6, 8 or 20 bytes as xx:xx…, xx-xx… or xxxx.xxxx…. */
function validMac(s: string): boolean {
  const t = s.trim();
  const groups = (sep: string, width: number): boolean => {
    const parts = t.split(sep);
    const re = new RegExp(`^[0-9a-fA-F]{${width}}$`);
    return parts.every((p) => re.test(p)) && [6, 8, 20].includes((parts.length * width) / 2);
  };
  return groups(':', 2) || groups('-', 2) || groups('.', 4);
}

/**
 * docker's parseNetworkOpts: the --network attachments (the first one also takes --network-alias,
 * --link (user-defined networks only), --ip, --ip6, --mac-address and --link-local-ip) as
 * EndpointsConfig, and the NetworkMode (the first network, or "default"). Without --network
 * the endpoint is keyed "default" (sent even when empty, as docker does).
 */
export function parseNetworkFlags(v: Values): { mode: string; endpoints: Record<string, EndpointSettings> } {
  const aliases = [...list(v, 'network-alias'), ...list(v, 'net-alias')];
  const links = list(v, 'link');
  const ipv4 = str(v, 'ip');
  const ipv6 = str(v, 'ip6');
  const mac = str(v, 'mac-address');
  const linkLocalIps = list(v, 'link-local-ip');
  const nets = [...list(v, 'network'), ...list(v, 'net')].map(parseNetworkOpt);
  if (mac !== '' && !validMac(mac)) throw new OptionError(`${mac} is not a valid mac address`);

  const apply = (n: NetworkAttachment): void => {
    if (n.aliases.length > 0 && aliases.length > 0) throw new OptionError('conflicting options: cannot specify both --network-alias and per-network alias');
    if (n.links.length > 0 && links.length > 0) throw new OptionError('conflicting options: cannot specify both --link and per-network links');
    if (n.ipv4 !== '' && ipv4 !== '') throw new OptionError('conflicting options: cannot specify both --ip and per-network IPv4 address');
    if (n.ipv6 !== '' && ipv6 !== '') throw new OptionError('conflicting options: cannot specify both --ip6 and per-network IPv6 address');
    if (n.mac !== '' && mac !== '') throw new OptionError('conflicting options: cannot specify both --mac-address and per-network MAC address');
    if (n.linkLocalIps.length > 0 && linkLocalIps.length > 0) {
      throw new OptionError('conflicting options: cannot specify both --link-local-ip and per-network link-local IP addresses');
    }
    if (aliases.length > 0) n.aliases = [...aliases];
    // For a user-defined network --link is an endpoint option (an alias); on the default bridge, a legacy link.
    if (isUserDefined(n.target) && links.length > 0) n.links = [...links];
    if (ipv4 !== '') n.ipv4 = ipv4;
    if (ipv6 !== '') n.ipv6 = ipv6;
    if (mac !== '') n.mac = mac;
    if (linkLocalIps.length > 0) n.linkLocalIps = [...linkLocalIps];
  };

  const endpoint = (n: NetworkAttachment): EndpointSettings => {
    if (n.target.trim() === '') throw new OptionError('no name set for network');
    if (!isUserDefined(n.target)) {
      if (n.aliases.length > 0) throw new OptionError('network-scoped aliases are only supported for user-defined networks');
      if (n.links.length > 0) throw new OptionError('links are only supported for user-defined networks');
    }
    const ep: EndpointSettings & { GwPriority?: number } = {};
    if (n.gwPriority !== 0) ep.GwPriority = n.gwPriority;
    if (n.aliases.length > 0) ep.Aliases = [...n.aliases];
    if (n.driverOpts && Object.keys(n.driverOpts).length > 0) ep.DriverOpts = n.driverOpts;
    if (n.links.length > 0) ep.Links = n.links;
    if (n.ipv4 !== '' || n.ipv6 !== '' || n.linkLocalIps.length > 0) {
      ep.IPAMConfig = { IPv4Address: n.ipv4, IPv6Address: n.ipv6, LinkLocalIPs: n.linkLocalIps.length > 0 ? n.linkLocalIps : null };
    }
    if (n.mac !== '') {
      if (!validMac(n.mac)) throw new OptionError(`${n.mac} is not a valid mac address`);
      ep.MacAddress = n.mac;
    }
    return ep;
  };

  const endpoints: Record<string, EndpointSettings> = {};
  if (nets.length === 0) {
    const n: NetworkAttachment = { target: 'default', aliases: [], links: [], ipv4: '', ipv6: '', linkLocalIps: [], mac: '', gwPriority: 0 };
    apply(n);
    endpoints['default'] = endpoint(n);
    return { mode: 'default', endpoints };
  }
  let userDefined = false;
  let other = false;
  nets.forEach((n, i) => {
    if (isUserDefined(n.target)) userDefined = true;
    else other = true;
    if (i === 0) apply(n);
    const ep = endpoint(n);
    if (n.target in endpoints) throw new OptionError(`network "${n.target}" is specified multiple times`);
    // A single network without options of its own: no endpoint config (the daemon makes one).
    if (i === 0 && nets.length === 1 && Object.keys(ep).length === 0) return;
    endpoints[n.target] = ep;
  });
  if (userDefined && other) throw new OptionError('conflicting options: cannot attach both user-defined and non-user-defined network-modes');
  return { mode: nets[0]!.target, endpoints };
}

function validateAttach(s: string): string {
  const lower = s.toLowerCase();
  if (['stdin', 'stdout', 'stderr'].includes(lower)) return lower;
  throw new OptionError('valid streams are STDIN, STDOUT and STDERR');
}

function checkMode(mode: string, error: string, plain: string[], containerAllowed: boolean): string {
  if (plain.includes(mode)) return mode;
  if (containerAllowed && /^container:.+/.test(mode)) return mode;
  throw new OptionError(error);
}

/** -v: SRC:DST[:MODE] binds (relative "./x" sources made absolute); DST alone is an anonymous volume. */
export function parseVolumes(specs: string[]): { binds: string[]; volumes: Record<string, Record<string, never>> } {
  const binds: string[] = [];
  const volumes: Record<string, Record<string, never>> = {};
  for (const spec of specs) {
    const parts = spec.split(':');
    if (parts.some((p) => p === '')) throw new OptionError(`invalid spec: ${spec}: empty section between colons`);
    if (parts.length > 3) throw new OptionError(`invalid spec: ${spec}: too many colons`);
    if (parts.length === 1) {
      volumes[spec] = {};
      continue;
    }
    let host = parts[0]!;
    if (!isAbsolute(host) && host.startsWith('.')) host = resolvePath(host);
    binds.push([host, ...parts.slice(1)].join(':'));
  }
  return { binds, volumes };
}

/** --mount type=bind|volume|tmpfs,source=…,target=…,readonly,… (docker's opts.MountOpt). */
export function parseMount(spec: string): MountSpec {
  const m: MountSpec = { Type: 'volume', Target: '' };
  let readOnly = false;
  const fields = splitCsv(spec);
  for (const field of fields) {
    const eq = field.indexOf('=');
    const key = (eq >= 0 ? field.slice(0, eq) : field).trim().toLowerCase();
    const value = eq >= 0 ? field.slice(eq + 1) : undefined;
    if (value === undefined && !['readonly', 'ro', 'volume-nocopy', 'bind-nonrecursive'].includes(key)) {
      throw new OptionError(`invalid argument "${spec}" for "--mount" flag: invalid field '${field}' must be a key=value pair`);
    }
    const flagValue = (): boolean => {
      if (value === undefined) return true;
      const b = ['1', 't', 'true', 'True', 'TRUE'].includes(value) ? true : ['0', 'f', 'false', 'False', 'FALSE'].includes(value) ? false : undefined;
      if (b === undefined) throw new OptionError(`invalid argument "${spec}" for "--mount" flag: invalid value for ${key}: ${value}`);
      return b;
    };
    switch (key) {
      case 'type':
        if (!['bind', 'volume', 'tmpfs', 'npipe', 'cluster'].includes(value!)) throw new OptionError(`invalid argument "${spec}" for "--mount" flag: invalid mount type "${value}"`);
        m.Type = value as MountSpec['Type'];
        break;
      case 'source':
      case 'src':
        m.Source = value!;
        break;
      case 'target':
      case 'dst':
      case 'destination':
        m.Target = value!;
        break;
      case 'readonly':
      case 'ro':
        readOnly = flagValue();
        break;
      case 'consistency':
        m.Consistency = value!;
        break;
      case 'bind-propagation':
        m.BindOptions = { ...m.BindOptions, Propagation: value!.toLowerCase() };
        break;
      case 'bind-nonrecursive':
        m.BindOptions = { ...m.BindOptions, NonRecursive: flagValue() };
        break;
      case 'volume-nocopy':
        m.VolumeOptions = { ...m.VolumeOptions, NoCopy: flagValue() };
        break;
      case 'volume-driver':
        m.VolumeOptions = { ...m.VolumeOptions, DriverConfig: { ...m.VolumeOptions?.DriverConfig, Name: value! } };
        break;
      case 'volume-label': {
        const [k, ...rest] = value!.split('=');
        m.VolumeOptions = { ...m.VolumeOptions, Labels: { ...m.VolumeOptions?.Labels, [k!]: rest.join('=') } };
        break;
      }
      case 'volume-opt': {
        const [k, ...rest] = value!.split('=');
        const dc = m.VolumeOptions?.DriverConfig ?? {};
        m.VolumeOptions = { ...m.VolumeOptions, DriverConfig: { ...dc, Options: { ...dc.Options, [k!]: rest.join('=') } } };
        break;
      }
      case 'tmpfs-size':
        try {
          m.TmpfsOptions = { ...m.TmpfsOptions, SizeBytes: ramInBytes(value!) };
        } catch {
          throw new OptionError(`invalid argument "${spec}" for "--mount" flag: invalid value for ${key}: ${value}`);
        }
        break;
      case 'tmpfs-mode': {
        const mode = parseInt(value!, 8);
        if (!/^[0-7]+$/.test(value!)) throw new OptionError(`invalid argument "${spec}" for "--mount" flag: invalid value for ${key}: ${value}`);
        m.TmpfsOptions = { ...m.TmpfsOptions, Mode: mode };
        break;
      }
      default:
        throw new OptionError(`invalid argument "${spec}" for "--mount" flag: unexpected key '${key}' in '${field}'`);
    }
  }
  if (!m.Target) throw new OptionError(`invalid argument "${spec}" for "--mount" flag: target is required`);
  if (readOnly) m.ReadOnly = true;
  if (m.Type === 'bind' && m.Source && !isAbsolute(m.Source) && m.Source.startsWith('.')) m.Source = resolvePath(m.Source);
  return m;
}

function splitCsv(s: string): string[] {
  // encoding/csv: fields may be quoted ("a,b"), doubled quotes escape a quote.
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (quoted) {
      if (c === '"' && s[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

/** nat.ParsePortSpecs for -p and the --expose list: ExposedPorts and PortBindings. */
export function parsePorts(publish: string[], expose: string[]): { exposed: Record<string, Record<string, never>>; bindings: Record<string, PortBinding[]> } {
  const exposed: Record<string, Record<string, never>> = {};
  const bindings: Record<string, PortBinding[]> = {};
  for (const raw of publish) {
    for (const spec of convertPublish(raw)) {
      const { ip, hostPort, containerPort, proto } = splitPortSpec(spec);
      const [cStart, cEnd] = portRange(containerPort, `invalid containerPort: ${containerPort}`);
      let hStart = 0;
      let hEnd = 0;
      if (hostPort) [hStart, hEnd] = portRange(hostPort, `invalid hostPort: ${hostPort}`);
      if (hostPort && hEnd - hStart !== cEnd - cStart && hStart !== hEnd) {
        throw new OptionError(`invalid ranges specified for container and host Ports: ${containerPort} and ${hostPort}`);
      }
      for (let p = cStart; p <= cEnd; p++) {
        const key = `${p}/${proto}`;
        exposed[key] = {};
        let hp = hostPort;
        if (hostPort && hEnd !== hStart && cEnd !== cStart) hp = String(hStart + (p - cStart));
        (bindings[key] ??= []).push({ HostIp: ip, HostPort: hp });
      }
    }
  }
  for (const e of expose) {
    const slash = e.indexOf('/');
    const proto = slash >= 0 ? e.slice(slash + 1) : 'tcp';
    const ports = slash >= 0 ? e.slice(0, slash) : e;
    let start: number;
    let end: number;
    try {
      [start, end] = portRange(ports, `invalid range format for --expose: ${e}`);
    } catch {
      throw new OptionError(`invalid range format for --expose: ${e}, error: invalid start port '${ports}': invalid syntax`);
    }
    for (let p = start; p <= end; p++) exposed[`${p}/${proto}`] = {};
  }
  return { exposed, bindings };
}

/** The long form published=8080,target=80,protocol=udp → 8080:80/udp. */
function convertPublish(raw: string): string[] {
  if (!raw.includes('=')) return [raw];
  const params: Record<string, string> = { protocol: 'tcp' };
  for (const p of raw.split(',')) {
    const eq = p.indexOf('=');
    if (eq <= 0) throw new OptionError(`invalid publish opts format (should be name=value but got '${p}')`);
    params[p.slice(0, eq)] = p.slice(eq + 1);
  }
  return [`${params.published ?? ''}:${params.target ?? ''}/${params.protocol}`];
}

function splitPortSpec(spec: string): { ip: string; hostPort: string; containerPort: string; proto: string } {
  let rest = spec;
  let proto = 'tcp';
  const slash = rest.lastIndexOf('/');
  if (slash >= 0) {
    proto = rest.slice(slash + 1).toLowerCase();
    rest = rest.slice(0, slash);
    if (!['tcp', 'udp', 'sctp'].includes(proto)) throw new OptionError(`invalid proto: ${proto}`);
  }
  let ip = '';
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    if (close < 0) throw new OptionError(`invalid IP address: ${rest}`);
    ip = rest.slice(1, close);
    rest = rest.slice(close + 1).replace(/^:/, '');
    const parts = rest.split(':');
    return { ip, hostPort: parts.length > 1 ? parts[0]! : '', containerPort: parts[parts.length - 1]!, proto };
  }
  const parts = rest.split(':');
  if (parts.length === 1) return { ip, hostPort: '', containerPort: parts[0]!, proto };
  if (parts.length === 2) return { ip, hostPort: parts[0]!, containerPort: parts[1]!, proto };
  const containerPort = parts.pop()!;
  const hostPort = parts.pop()!;
  ip = parts.join(':');
  return { ip, hostPort, containerPort, proto };
}

function portRange(s: string, error: string): [number, number] {
  const m = /^(\d+)(?:-(\d+))?$/.exec(s);
  if (!m) throw new OptionError(error);
  const start = Number(m[1]);
  const end = m[2] ? Number(m[2]) : start;
  if (start > 65535 || end > 65535 || end < start) throw new OptionError(error);
  return [start, end];
}

/** parseLinuxDevice: /dev/src[:/dst][:rwm]. */
export function parseDevice(spec: string): DeviceMapping {
  const validMode = (m: string): boolean => /^[rwm]{1,3}$/.test(m) && new Set(m).size === m.length;
  const parts = spec.split(':');
  if (parts.length > 3 || parts[0] === '') throw new OptionError(`bad format for path: ${spec}`);
  let dst = '';
  let perms = 'rwm';
  if (parts.length === 3) {
    if (!validMode(parts[2]!)) throw new OptionError(`bad mode specified: ${parts[2]}`);
    dst = parts[1]!;
    perms = parts[2]!;
  } else if (parts.length === 2) {
    if (validMode(parts[1]!)) perms = parts[1]!;
    else dst = parts[1]!;
  }
  const src = parts[0]!;
  if (!dst) dst = src;
  if (!posix.isAbsolute(dst)) throw new OptionError(`${dst} is not an absolute path`);
  return { PathOnHost: src, PathInContainer: posix.normalize(dst), CgroupPermissions: perms };
}

/** opts.ParseRestartPolicy. */
export function parseRestartPolicy(policy: string): RestartPolicy {
  if (policy === '') return {};
  const colon = policy.indexOf(':');
  const name = colon >= 0 ? policy.slice(0, colon) : policy;
  const count = colon >= 0 ? policy.slice(colon + 1) : '';
  if (colon >= 0 && name === '') throw new OptionError('invalid restart policy format: no policy provided before colon');
  const p: RestartPolicy = { Name: name };
  if (count !== '') {
    if (!/^[+-]?\d+$/.test(count)) throw new OptionError('invalid restart policy format: maximum retry count must be an integer');
    p.MaximumRetryCount = Number(count);
  }
  return p;
}

/** parseSecurityOpts + parseSystemPaths: seccomp=FILE sends the (compacted) profile itself. */
export function parseSecurityOpts(opts: string[]): { securityOpts: string[]; maskedPaths?: string[]; readonlyPaths?: string[] } {
  const out: string[] = [];
  let unconfinedPaths = false;
  for (const opt of opts) {
    if (opt === 'systempaths=unconfined') {
      unconfinedPaths = true;
      continue;
    }
    let sep = opt.indexOf('=');
    if (sep < 0 && opt !== 'no-new-privileges') sep = opt.indexOf(':');
    const key = sep >= 0 ? opt.slice(0, sep) : opt;
    const value = sep >= 0 ? opt.slice(sep + 1) : '';
    if ((sep < 0 || value === '') && key !== 'no-new-privileges') throw new OptionError(`invalid --security-opt: ${JSON.stringify(opt)}`);
    if (key === 'seccomp' && value !== 'builtin' && value !== 'unconfined') {
      let text: string;
      try {
        text = readFileSync(value, 'utf8');
      } catch (err) {
        throw new OptionError(`opening seccomp profile (${value}) failed: ${(err as Error).message}`);
      }
      try {
        out.push(`seccomp=${JSON.stringify(JSON.parse(text))}`);
      } catch (err) {
        throw new OptionError(`compacting json for seccomp profile (${value}) failed: ${(err as Error).message}`);
      }
      continue;
    }
    out.push(opt);
  }
  return unconfinedPaths ? { securityOpts: out, maskedPaths: [], readonlyPaths: [] } : { securityOpts: out };
}

function parseStorageOpts(opts: string[]): Record<string, string> {
  const m: Record<string, string> = {};
  for (const o of opts) {
    const eq = o.indexOf('=');
    if (eq < 0) throw new OptionError('invalid storage option');
    m[o.slice(0, eq)] = o.slice(eq + 1);
  }
  return m;
}

const ns = (ms: number): number => Math.round(ms * 1e6);

function parseHealth(v: Values): HealthConfig | undefined {
  const cmd = str(v, 'health-cmd');
  const interval = num(v, 'health-interval');
  const timeout = num(v, 'health-timeout');
  const startPeriod = num(v, 'health-start-period');
  const startInterval = num(v, 'health-start-interval');
  const retries = num(v, 'health-retries');
  const hasHealthSettings = cmd !== '' || interval !== 0 || timeout !== 0 || startPeriod !== 0 || retries !== 0 || startInterval !== 0;
  if (bool(v, 'no-healthcheck')) {
    if (hasHealthSettings) throw new OptionError('--no-healthcheck conflicts with --health-* options');
    return { Test: ['NONE'] };
  }
  if (!hasHealthSettings) return undefined;
  if (interval < 0) throw new OptionError('--health-interval cannot be negative');
  if (timeout < 0) throw new OptionError('--health-timeout cannot be negative');
  if (retries < 0) throw new OptionError('--health-retries cannot be negative');
  if (startPeriod < 0) throw new OptionError('--health-start-period cannot be negative');
  if (startInterval < 0) throw new OptionError('--health-start-interval cannot be negative');
  const h: HealthConfig = { Interval: ns(interval), Timeout: ns(timeout), StartPeriod: ns(startPeriod), StartInterval: ns(startInterval), Retries: retries };
  if (cmd !== '') h.Test = ['CMD-SHELL', cmd];
  return h;
}

const SYSCTLS = new Set(['kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni', 'kernel.sem', 'kernel.shmall', 'kernel.shmmax', 'kernel.shmmni', 'kernel.shm_rmid_forced']);

/** opts.ValidateSysctl: IPC sysctls and the net./fs.mqueue. namespaces only. */
function parseSysctls(items: string[]): Record<string, string> {
  const m: Record<string, string> = {};
  for (const item of items) {
    const eq = item.indexOf('=');
    const key = item.slice(0, eq);
    if (eq < 0 || !(SYSCTLS.has(key) || key.startsWith('net.') || key.startsWith('fs.mqueue.'))) {
      throw new OptionError(`invalid argument "${item}" for "--sysctl" flag: sysctl '${item}' is not allowed`);
    }
    m[key] = item.slice(eq + 1);
  }
  return m;
}

const ULIMITS = new Set(['core', 'cpu', 'data', 'fsize', 'locks', 'memlock', 'msgqueue', 'nice', 'nofile', 'nproc', 'rss', 'rtprio', 'rttime', 'sigpending', 'stack']);

/** go-units ParseUlimit: name=soft[:hard]; the last setting of a name wins. */
export function parseUlimits(items: string[]): Ulimit[] {
  const byName = new Map<string, Ulimit>();
  for (const item of items) {
    const bad = (why: string): OptionError => new OptionError(`invalid argument "${item}" for "--ulimit" flag: ${why}`);
    const eq = item.indexOf('=');
    if (eq < 0) throw bad(`invalid ulimit argument: ${item}`);
    const name = item.slice(0, eq);
    if (!ULIMITS.has(name)) throw bad(`invalid ulimit type: ${name}`);
    const limits = item.slice(eq + 1).split(':');
    if (limits.length > 2 || limits.some((l) => !/^-?\d+$/.test(l))) throw bad(`invalid ulimit argument: ${item}`);
    const soft = Number(limits[0]);
    const hard = limits.length > 1 ? Number(limits[1]) : soft;
    if (soft > hard && hard !== -1) throw bad(`ulimit soft limit must be less than or equal to hard limit: ${soft} > ${hard}`);
    byName.set(name, { Name: name, Soft: soft, Hard: hard });
  }
  return [...byName.values()];
}

/** opts.MemSwapBytes: "-1" for unlimited, otherwise a RAM size. */
export function parseMemorySwap(s: string): number {
  if (s === '') return 0;
  if (s === '-1') return -1;
  try {
    return ramInBytes(s);
  } catch (err) {
    throw new OptionError(`invalid argument "${s}" for "--memory-swap" flag: ${(err as Error).message}`);
  }
}

/** opts.NanoCPUs: a decimal number of CPUs, in units of 1e-9 CPUs. */
export function parseNanoCpus(s: string): number {
  if (s === '') return 0;
  const m = /^(\d*)(?:\.(\d*))?$/.exec(s);
  if (!m || (m[1] === '' && !m[2])) throw new OptionError(`invalid argument "${s}" for "--cpus" flag: failed to parse ${s} as a rational number`);
  const frac = m[2] ?? '';
  if (frac.replace(/0+$/, '').length > 9) throw new OptionError(`invalid argument "${s}" for "--cpus" flag: value is too precise`);
  return Number(m[1] || '0') * 1e9 + Number((frac + '000000000').slice(0, 9));
}
