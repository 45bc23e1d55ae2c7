// berthd's configuration: command-line flags over /etc/berth/daemon.json, with Docker's
// names for both (dockerd --help, daemon.json reference). A key given both ways is an
// error, as dockerd makes it.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Ulimit } from '../oci/engine-api.js';
import { errnoCode, invalidArgument } from '../util/errors.js';

export const DEFAULT_CONFIG_FILE = '/etc/berth/daemon.json';
export const DEFAULT_SOCKET = 'unix:///run/berth/berth.sock';

export interface DaemonConfig {
  hosts: string[];
  dataRoot: string;
  execRoot: string;
  logLevel: 'debug' | 'info' | 'warn' | 'error' | 'fatal';
  storageDriver?: 'overlay' | 'native';
  logDriver: 'json-file' | 'local' | 'none';
  logOpts: Record<string, string>;
  defaultUlimits: Ulimit[];
  insecureRegistries: string[];
  registryMirrors: string[];
  mirrorsByHost: Record<string, string[]>;
  /** tcp listeners: TLS is required unless tls is explicitly false. */
  tls?: boolean;
  tlsVerify: boolean;
  tlsCaCert?: string;
  tlsCert?: string;
  tlsKey?: string;
  group: string;
  /** Cgroup parent of containers ("/berth/<id>"). */
  cgroupParent: string;
  configFile: string;
  network: NetworkDaemonConfig;
}

/** dockerd's bridge-driver settings (bridge, bip, default-address-pools, icc, iptables, ip-forward, mtu). */
export interface NetworkDaemonConfig {
  /** The default bridge network's interface; "none": no default bridge network. */
  bridge: string;
  /** The default bridge's gateway address and prefix ("172.17.0.1/16"); chosen from the pools when unset. */
  bip?: string;
  pools: { base: string; size: number }[];
  icc: boolean;
  /** Manage firewall rules (NAT, published ports, isolation). */
  iptables: boolean;
  ipForward: boolean;
  mtu?: number;
  /** berth's nftables table / iptables chain prefix, so daemons side by side keep apart. */
  firewallName: string;
}

interface OptionDef {
  flag: string;
  short?: string;
  json: string;
  kind: 'string' | 'bool' | 'list' | 'map';
}

const OPTIONS: OptionDef[] = [
  { flag: 'host', short: 'H', json: 'hosts', kind: 'list' },
  { flag: 'data-root', json: 'data-root', kind: 'string' },
  { flag: 'exec-root', json: 'exec-root', kind: 'string' },
  { flag: 'log-level', short: 'l', json: 'log-level', kind: 'string' },
  { flag: 'storage-driver', short: 's', json: 'storage-driver', kind: 'string' },
  { flag: 'log-driver', json: 'log-driver', kind: 'string' },
  { flag: 'log-opt', json: 'log-opts', kind: 'map' },
  { flag: 'default-ulimit', json: 'default-ulimits', kind: 'map' },
  { flag: 'insecure-registry', json: 'insecure-registries', kind: 'list' },
  { flag: 'registry-mirror', json: 'registry-mirrors', kind: 'list' },
  { flag: 'tls', json: 'tls', kind: 'bool' },
  { flag: 'tlsverify', json: 'tlsverify', kind: 'bool' },
  { flag: 'tlscacert', json: 'tlscacert', kind: 'string' },
  { flag: 'tlscert', json: 'tlscert', kind: 'string' },
  { flag: 'tlskey', json: 'tlskey', kind: 'string' },
  { flag: 'group', short: 'G', json: 'group', kind: 'string' },
  { flag: 'cgroup-parent', json: 'cgroup-parent', kind: 'string' },
  { flag: 'debug', short: 'D', json: 'debug', kind: 'bool' },
  { flag: 'bridge', short: 'b', json: 'bridge', kind: 'string' },
  { flag: 'bip', json: 'bip', kind: 'string' },
  { flag: 'default-address-pool', json: 'default-address-pools', kind: 'list' },
  { flag: 'icc', json: 'icc', kind: 'bool' },
  { flag: 'iptables', json: 'iptables', kind: 'bool' },
  { flag: 'ip-forward', json: 'ip-forward', kind: 'bool' },
  { flag: 'mtu', json: 'mtu', kind: 'string' },
  { flag: 'firewall-name', json: 'firewall-name', kind: 'string' },
];

type Raw = Record<string, string | boolean | string[] | Record<string, string> | unknown[]>;

export const USAGE = `Usage:	berthd [OPTIONS]

A self-sufficient runtime for containers (the berth daemon, Docker Engine API ${'1.41-1.47'})

Options:
      --config-file string          Daemon configuration file (default "${DEFAULT_CONFIG_FILE}")
      --data-root string            Root directory of persistent berth state (default "/var/lib/berth")
      --exec-root string            Root directory for execution state files (default "/run/berth")
  -H, --host list                   Daemon socket(s) to connect to (default ${DEFAULT_SOCKET})
  -l, --log-level string            Set the logging level ("debug"|"info"|"warn"|"error"|"fatal") (default "info")
  -D, --debug                       Enable debug mode
  -s, --storage-driver string       Storage driver to use (overlay, native)
      --log-driver string           Default driver for container logs (default "json-file")
      --log-opt map                 Default log driver options for containers (default max-size=20m, max-file=5)
      --default-ulimit ulimit       Default ulimits for containers (name=soft:hard)
      --insecure-registry list      Enable insecure registry communication
      --registry-mirror list        Preferred registry mirror
      --tls                         Use TLS; implied by --tlsverify (tcp hosts need it unless --tls=false)
      --tlsverify                   Use TLS and verify the remote
      --tlscacert string            Trust certs signed only by this CA
      --tlscert string              Path to TLS certificate file
      --tlskey string               Path to TLS key file
  -G, --group string                Group for the unix socket (default "docker")
      --cgroup-parent string        Parent cgroup for all containers (default "berth")
  -b, --bridge string               Attach containers to a network bridge (default "berth0"; "none" for no default bridge network)
      --bip string                  Specify the default bridge's IP address and prefix (e.g. 172.17.0.1/16)
      --default-address-pool list   Default address pools for node specific local networks (base=CIDR,size=N)
      --icc                         Enable inter-container communication on the default bridge (default true)
      --iptables                    Enable addition of firewall rules (nftables, or iptables) (default true)
      --ip-forward                  Enable net.ipv4.ip_forward (default true)
      --mtu int                     Set the containers network MTU
      --firewall-name string        Name of berth's nftables table / iptables chain prefix (default "berth")
  -v, --version                     Print version information and quit
`;

/** Parse argv (without node and script) and the config file into a DaemonConfig. */
export function loadDaemonConfig(argv: string[]): DaemonConfig {
  const { flags, configFile } = parseFlags(argv);
  const file = readConfigFile(configFile, flags.has('config-file'));
  const both = [...flags.keys()].filter((k) => k !== 'config-file' && OPTIONS.some((o) => o.flag === k && o.json in file));
  if (both.length > 0) {
    const list = both.map((k) => `${OPTIONS.find((o) => o.flag === k)!.json}: (from flag: ${JSON.stringify(flags.get(k))}, from file: ${JSON.stringify(file[OPTIONS.find((o) => o.flag === k)!.json])})`);
    throw invalidArgument(`the following directives are specified both as a flag and in the configuration file: ${list.join(', ')}`);
  }
  const raw: Raw = { ...file };
  for (const [k, v] of flags) {
    const def = OPTIONS.find((o) => o.flag === k);
    if (def) raw[def.json] = v;
  }
  return toConfig(raw, configFile);
}

function parseFlags(argv: string[]): { flags: Map<string, string | boolean | string[] | Record<string, string>>; configFile: string } {
  const flags = new Map<string, string | boolean | string[] | Record<string, string>>();
  let configFile = DEFAULT_CONFIG_FILE;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const m = /^(?:--([a-z-]+)|-([A-Za-z]))(?:=(.*))?$/s.exec(arg);
    if (!m) throw invalidArgument(`berthd takes no arguments, got "${arg}"\nSee 'berthd --help'.`);
    const name = m[1] ?? OPTIONS.find((o) => o.short === m[2])?.flag;
    if (name === 'config-file') {
      configFile = m[3] ?? argv[++i] ?? '';
      flags.set('config-file', configFile);
      continue;
    }
    const def = OPTIONS.find((o) => o.flag === name);
    if (!def) throw invalidArgument(`unknown flag: ${arg}\nSee 'berthd --help'.`);
    if (def.kind === 'bool') {
      const v = m[3] ?? 'true';
      if (v !== 'true' && v !== 'false') throw invalidArgument(`invalid argument "${v}" for "--${def.flag}" flag: must be true or false`);
      flags.set(def.flag, v === 'true');
      continue;
    }
    const value = m[3] ?? argv[++i];
    if (value === undefined) throw invalidArgument(`flag needs an argument: ${arg}`);
    if (def.kind === 'string') flags.set(def.flag, value);
    else if (def.kind === 'list') flags.set(def.flag, [...((flags.get(def.flag) as string[] | undefined) ?? []), value]);
    else {
      const eq = value.indexOf('=');
      if (eq <= 0) throw invalidArgument(`invalid value "${value}" for --${def.flag}: want key=value`);
      flags.set(def.flag, { ...((flags.get(def.flag) as Record<string, string> | undefined) ?? {}), [value.slice(0, eq)]: value.slice(eq + 1) });
    }
  }
  return { flags, configFile };
}

function readConfigFile(path: string, explicit: boolean): Raw {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT' && !explicit) return {};
    throw invalidArgument(`unable to read the configuration file ${path}: ${(err as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw invalidArgument(`unable to configure the berth daemon with file ${path}: ${(err as Error).message}`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw invalidArgument(`${path}: want a JSON object`);
  const d = doc as Record<string, unknown>;
  const known = new Set([...OPTIONS.map((o) => o.json), 'registry-mirrors-by-host', 'live-restore']);
  const unknown = Object.keys(d).filter((k) => !known.has(k));
  if (unknown.length > 0) throw invalidArgument(`${path}: the following directives don't match any configuration option: ${unknown.join(', ')}`);
  return d as Raw;
}

function str(raw: Raw, key: string, fallback: string): string {
  const v = raw[key];
  if (v === undefined) return fallback;
  if (typeof v !== 'string') throw invalidArgument(`"${key}" must be a string`);
  return v;
}

function strList(raw: Raw, key: string): string[] {
  const v = raw[key];
  if (v === undefined) return [];
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw invalidArgument(`"${key}" must be a list of strings`);
  return v as string[];
}

function strMap(raw: Raw, key: string): Record<string, string> {
  const v = raw[key];
  if (v === undefined) return {};
  if (typeof v !== 'object' || Array.isArray(v) || !Object.values(v).every((x) => typeof x === 'string')) {
    throw invalidArgument(`"${key}" must map names to strings`);
  }
  return v as Record<string, string>;
}

function toConfig(raw: Raw, configFile: string): DaemonConfig {
  const level = raw.debug === true ? 'debug' : str(raw, 'log-level', 'info');
  if (!['debug', 'info', 'warn', 'error', 'fatal'].includes(level)) throw invalidArgument(`unable to parse logging level: ${level}`);
  const driver = raw['storage-driver'] === undefined ? undefined : str(raw, 'storage-driver', '');
  if (driver !== undefined && driver !== 'overlay' && driver !== 'overlay2' && driver !== 'native' && driver !== 'vfs') {
    throw invalidArgument(`storage driver "${driver}" is not supported (overlay, native)`);
  }
  const logDriver = str(raw, 'log-driver', 'json-file');
  if (logDriver !== 'json-file' && logDriver !== 'local' && logDriver !== 'none') throw invalidArgument(`log driver "${logDriver}" is not supported (json-file, local, none)`);
  const byHost = raw['registry-mirrors-by-host'];
  const tls = raw.tls === undefined ? undefined : raw.tls === true;
  const tlsVerify = raw.tlsverify === true;
  const hosts = strList(raw, 'hosts');
  return {
    hosts: hosts.length > 0 ? hosts : [DEFAULT_SOCKET],
    dataRoot: resolve(str(raw, 'data-root', '/var/lib/berth')),
    execRoot: resolve(str(raw, 'exec-root', '/run/berth')),
    logLevel: level as DaemonConfig['logLevel'],
    storageDriver: driver === undefined ? undefined : driver.startsWith('overlay') ? 'overlay' : 'native',
    logDriver,
    logOpts: strMap(raw, 'log-opts'),
    defaultUlimits: Object.entries(strMap(raw, 'default-ulimits')).map(([name, v]) => parseUlimit(name, v)),
    insecureRegistries: strList(raw, 'insecure-registries'),
    registryMirrors: strList(raw, 'registry-mirrors'),
    mirrorsByHost: (byHost ?? {}) as unknown as Record<string, string[]>,
    tls: tlsVerify ? true : tls,
    tlsVerify,
    tlsCaCert: raw.tlscacert as string | undefined,
    tlsCert: raw.tlscert as string | undefined,
    tlsKey: raw.tlskey as string | undefined,
    group: str(raw, 'group', 'docker'),
    cgroupParent: str(raw, 'cgroup-parent', 'berth'),
    configFile,
    network: networkConfig(raw),
  };
}

function bool(raw: Raw, key: string, fallback: boolean): boolean {
  const v = raw[key];
  if (v === undefined) return fallback;
  if (typeof v !== 'boolean') throw invalidArgument(`"${key}" must be true or false`);
  return v;
}

function networkConfig(raw: Raw): NetworkDaemonConfig {
  const mtuText = raw.mtu === undefined ? undefined : String(raw.mtu);
  const mtu = mtuText === undefined ? undefined : Number(mtuText);
  if (mtu !== undefined && (!Number.isInteger(mtu) || mtu < 68 || mtu > 65535)) throw invalidArgument(`invalid mtu: ${mtuText}`);
  const firewallName = str(raw, 'firewall-name', 'berth');
  if (!/^[A-Za-z][A-Za-z0-9_]{0,15}$/.test(firewallName)) throw invalidArgument(`invalid firewall-name "${firewallName}": letters, digits and _, at most 16`);
  const pools = raw['default-address-pools'];
  return {
    bridge: str(raw, 'bridge', 'berth0'),
    bip: raw.bip === undefined ? undefined : str(raw, 'bip', ''),
    pools: pools === undefined ? [] : (pools as unknown[]).map(parsePool),
    icc: bool(raw, 'icc', true),
    iptables: bool(raw, 'iptables', true),
    ipForward: bool(raw, 'ip-forward', true),
    mtu,
    firewallName,
  };
}

/** {"base": "10.10.0.0/16", "size": 24} in daemon.json, "base=10.10.0.0/16,size=24" as a flag. */
function parsePool(entry: unknown): { base: string; size: number } {
  let base: unknown;
  let size: unknown;
  if (typeof entry === 'string') {
    const fields = Object.fromEntries(entry.split(',').map((kv) => kv.split('=', 2) as [string, string]));
    base = fields['base'];
    size = fields['size'] === undefined ? undefined : Number(fields['size']);
  } else if (typeof entry === 'object' && entry !== null) {
    ({ base, size } = entry as { base?: unknown; size?: unknown });
  }
  if (typeof base !== 'string' || typeof size !== 'number' || !Number.isInteger(size) || size < 1 || size > 32) {
    throw invalidArgument(`invalid default-address-pools entry ${JSON.stringify(entry)}: want base (a CIDR) and size (1-32)`);
  }
  return { base, size };
}

/** "1024:2048" or "1024" (soft = hard), as dockerd's --default-ulimit nofile=1024:2048. */
export function parseUlimit(name: string, value: string): Ulimit {
  const m = /^(-?\d+)(?::(-?\d+))?$/.exec(value);
  if (!m) throw invalidArgument(`invalid ulimit argument: ${name}=${value}`);
  const soft = Number(m[1]);
  const hard = m[2] === undefined ? soft : Number(m[2]);
  if (soft > hard && hard !== -1) throw invalidArgument(`ulimit soft limit must be less than or equal to hard limit: ${soft} > ${hard}`);
  return { Name: name, Soft: soft, Hard: hard };
}
