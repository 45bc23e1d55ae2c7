// Request bodies decoded the way Go's encoding/json decodes them into moby's types:
// wrong JSON types are refused with Go's message naming the field
// ("json: cannot unmarshal number into Go struct field ContainerConfig.Cmd of type []string"),
// field names match case-insensitively and come out in their canonical spelling, a
// StrSlice takes a lone string, null leaves a field unset, unknown fields pass through.
import { invalidArgument } from '../util/errors.js';

export type GoType =
  | { kind: 'string' }
  | { kind: 'bool' }
  | { kind: 'int'; name: IntName }
  | { kind: 'strslice' }
  | { kind: 'empty' }
  | { kind: 'any' }
  | { kind: 'array'; of: GoType; length?: number }
  | { kind: 'map'; of: GoType }
  | { kind: 'struct'; name: string; fields: Readonly<Record<string, GoType>> };

type IntName = 'int' | 'int64' | 'uint16' | 'uint32' | 'uint64';

const INT_RANGE: Readonly<Record<IntName, [number, number]>> = {
  int: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  int64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  uint16: [0, 0xffff],
  uint32: [0, 0xffffffff],
  uint64: [0, Number.MAX_SAFE_INTEGER],
};

function typeName(t: GoType): string {
  switch (t.kind) {
    case 'string':
    case 'bool':
      return t.kind;
    case 'int':
      return t.name;
    case 'strslice':
      return '[]string';
    case 'empty':
      return 'struct {}';
    case 'any':
      return 'interface {}';
    case 'array':
      return `${t.length !== undefined ? `[${t.length}]` : '[]'}${typeName(t.of)}`;
    case 'map':
      return `map[string]${typeName(t.of)}`;
    case 'struct':
      return t.name;
  }
}

function jsonKind(value: unknown): string {
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'boolean') return 'bool';
  return typeof value === 'object' ? 'object' : typeof value;
}

function mismatch(value: unknown, t: GoType, path: string[], detail = false): Error {
  const what = detail ? `${jsonKind(value)} ${String(value)}` : jsonKind(value);
  const where = path.length > 1 ? `Go struct field ${path.join('.')}` : `Go value`;
  return invalidArgument(`json: cannot unmarshal ${what} into ${where} of type ${path.length > 1 ? typeName(t) : path[0]}`);
}

function decodeStruct(value: object, t: Extract<GoType, { kind: 'struct' }>, path: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const lowerNames = new Map(Object.keys(t.fields).map((name) => [name.toLowerCase(), name]));
  for (const [key, fieldValue] of Object.entries(value)) {
    const canonical = key in t.fields ? key : lowerNames.get(key.toLowerCase());
    if (canonical === undefined) {
      out[key] = fieldValue;
      continue;
    }
    out[canonical] = walk(fieldValue, t.fields[canonical]!, [...path, canonical]);
  }
  return out;
}

function walk(value: unknown, t: GoType, path: string[]): unknown {
  if (value === null || t.kind === 'any') return value;
  switch (t.kind) {
    case 'string':
      if (typeof value !== 'string') throw mismatch(value, t, path);
      return value;
    case 'bool':
      if (typeof value !== 'boolean') throw mismatch(value, t, path);
      return value;
    case 'int': {
      if (typeof value !== 'number') throw mismatch(value, t, path);
      const [min, max] = INT_RANGE[t.name];
      if (!Number.isInteger(value) || value < min || value > max) throw mismatch(value, t, path, true);
      return value;
    }
    case 'strslice':
      if (typeof value === 'string') return [value];
      return walk(value, { kind: 'array', of: { kind: 'string' } }, path);
    case 'empty':
      if (typeof value !== 'object' || Array.isArray(value)) throw mismatch(value, t, path);
      return {};
    case 'array':
      if (!Array.isArray(value)) throw mismatch(value, t, path);
      if (t.length !== undefined && value.length > t.length) {
        throw invalidArgument(`json: cannot unmarshal array of ${value.length} elements into Go struct field ${path.join('.')} of type ${typeName(t)}`);
      }
      return value.map((item) => walk(item, t.of, path));
    case 'map':
      if (typeof value !== 'object' || Array.isArray(value)) throw mismatch(value, t, path);
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v, t.of, path)]));
    case 'struct':
      if (typeof value !== 'object' || Array.isArray(value)) throw mismatch(value, t, path);
      return decodeStruct(value, t, path);
  }
}

/**
 * Checks and normalises a parsed JSON body against a Go struct type. Top-level null is
 * returned as undefined (Go leaves the target untouched).
 */
export function decodeGoJson<T>(value: unknown, type: Extract<GoType, { kind: 'struct' }>): T | undefined {
  if (value === null || value === undefined) return undefined;
  return walk(value, type, [type.name]) as T;
}

// ---- moby's types, as far as the API reads them ----

const S: GoType = { kind: 'string' };
const B: GoType = { kind: 'bool' };
const INT: GoType = { kind: 'int', name: 'int' };
const I64: GoType = { kind: 'int', name: 'int64' };
const U16: GoType = { kind: 'int', name: 'uint16' };
const U32: GoType = { kind: 'int', name: 'uint32' };
const U64: GoType = { kind: 'int', name: 'uint64' };
const STRS: GoType = { kind: 'array', of: S };
const STRSLICE: GoType = { kind: 'strslice' };
const STRMAP: GoType = { kind: 'map', of: S };
const SET: GoType = { kind: 'map', of: { kind: 'empty' } };
const struct = (name: string, fields: Record<string, GoType>): Extract<GoType, { kind: 'struct' }> => ({ kind: 'struct', name, fields });
const arrayOf = (of: GoType): GoType => ({ kind: 'array', of });

const HEALTH_CONFIG = struct('HealthConfig', {
  Test: STRS, Interval: I64, Timeout: I64, StartPeriod: I64, StartInterval: I64, Retries: INT,
});

const CONFIG_FIELDS: Record<string, GoType> = {
  Hostname: S, Domainname: S, User: S, AttachStdin: B, AttachStdout: B, AttachStderr: B,
  ExposedPorts: SET, Tty: B, OpenStdin: B, StdinOnce: B, Env: STRS, Cmd: STRSLICE,
  Healthcheck: HEALTH_CONFIG, ArgsEscaped: B, Image: S, Volumes: SET, WorkingDir: S,
  Entrypoint: STRSLICE, NetworkDisabled: B, MacAddress: S, OnBuild: STRS, Labels: STRMAP,
  StopSignal: S, StopTimeout: INT, Shell: STRSLICE,
};

const THROTTLE_DEVICE = arrayOf(struct('ThrottleDevice', { Path: S, Rate: U64 }));

const RESOURCES_FIELDS: Record<string, GoType> = {
  CpuShares: I64, Memory: I64, NanoCpus: I64, CgroupParent: S, BlkioWeight: U16,
  BlkioWeightDevice: arrayOf(struct('WeightDevice', { Path: S, Weight: U16 })),
  BlkioDeviceReadBps: THROTTLE_DEVICE, BlkioDeviceWriteBps: THROTTLE_DEVICE,
  BlkioDeviceReadIOps: THROTTLE_DEVICE, BlkioDeviceWriteIOps: THROTTLE_DEVICE,
  CpuPeriod: I64, CpuQuota: I64, CpuRealtimePeriod: I64, CpuRealtimeRuntime: I64,
  CpusetCpus: S, CpusetMems: S,
  Devices: arrayOf(struct('DeviceMapping', { PathOnHost: S, PathInContainer: S, CgroupPermissions: S })),
  DeviceCgroupRules: STRS,
  DeviceRequests: arrayOf(struct('DeviceRequest', {
    Driver: S, Count: INT, DeviceIDs: STRS, Capabilities: arrayOf(STRS), Options: STRMAP,
  })),
  KernelMemory: I64, KernelMemoryTCP: I64, MemoryReservation: I64, MemorySwap: I64,
  MemorySwappiness: I64, OomKillDisable: B, PidsLimit: I64,
  Ulimits: arrayOf(struct('Ulimit', { Name: S, Hard: I64, Soft: I64 })),
  CpuCount: I64, CpuPercent: I64, IOMaximumIOps: U64, IOMaximumBandwidth: U64,
};

const MOUNT = struct('Mount', {
  Type: S, Source: S, Target: S, ReadOnly: B, Consistency: S,
  BindOptions: struct('BindOptions', {
    Propagation: S, NonRecursive: B, CreateMountpoint: B, ReadOnlyNonRecursive: B, ReadOnlyForceRecursive: B,
  }),
  VolumeOptions: struct('VolumeOptions', {
    NoCopy: B, Labels: STRMAP, Subpath: S, DriverConfig: struct('Driver', { Name: S, Options: STRMAP }),
  }),
  TmpfsOptions: struct('TmpfsOptions', { SizeBytes: I64, Mode: U32, Options: arrayOf(STRS) }),
});

const HOST_CONFIG = struct('HostConfig', {
  ...RESOURCES_FIELDS,
  Binds: STRS, ContainerIDFile: S, LogConfig: struct('LogConfig', { Type: S, Config: STRMAP }),
  NetworkMode: S, PortBindings: { kind: 'map', of: arrayOf(struct('PortBinding', { HostIp: S, HostPort: S })) },
  RestartPolicy: struct('RestartPolicy', { Name: S, MaximumRetryCount: INT }),
  AutoRemove: B, VolumeDriver: S, VolumesFrom: STRS,
  ConsoleSize: { kind: 'array', of: { kind: 'int', name: 'uint64' }, length: 2 },
  Annotations: STRMAP, CapAdd: STRSLICE, CapDrop: STRSLICE, CgroupnsMode: S, Dns: STRS,
  DnsOptions: STRS, DnsSearch: STRS, ExtraHosts: STRS, GroupAdd: STRS, IpcMode: S, Cgroup: S,
  Links: STRS, OomScoreAdj: INT, PidMode: S, Privileged: B, PublishAllPorts: B,
  ReadonlyRootfs: B, SecurityOpt: STRS, StorageOpt: STRMAP, Tmpfs: STRMAP, UTSMode: S,
  UsernsMode: S, ShmSize: I64, Sysctls: STRMAP, Runtime: S, Isolation: S,
  Mounts: arrayOf(MOUNT), MaskedPaths: STRS, ReadonlyPaths: STRS, Init: B,
});

const ENDPOINT_SETTINGS = struct('EndpointSettings', {
  IPAMConfig: struct('EndpointIPAMConfig', { IPv4Address: S, IPv6Address: S, LinkLocalIPs: STRS }),
  Links: STRS, Aliases: STRS, MacAddress: S, DriverOpts: STRMAP, NetworkID: S, EndpointID: S,
  Gateway: S, IPAddress: S, IPPrefixLen: INT, IPv6Gateway: S, GlobalIPv6Address: S,
  GlobalIPv6PrefixLen: INT, DNSNames: STRS,
});

/** POST /containers/create: container.Config with HostConfig and NetworkingConfig. */
export const CREATE_REQUEST = struct('ContainerConfig', {
  ...CONFIG_FIELDS,
  HostConfig: HOST_CONFIG,
  NetworkingConfig: struct('NetworkingConfig', { EndpointsConfig: { kind: 'map', of: ENDPOINT_SETTINGS } }),
});

/** POST /commit body: a bare container.Config. */
export const COMMIT_CONFIG = struct('Config', CONFIG_FIELDS);

/** POST /containers/{id}/update */
export const UPDATE_REQUEST = struct('UpdateConfig', {
  ...RESOURCES_FIELDS,
  RestartPolicy: struct('RestartPolicy', { Name: S, MaximumRetryCount: INT }),
});

const CONSOLE_SIZE: GoType = { kind: 'array', of: { kind: 'int', name: 'uint64' }, length: 2 };

/** POST /containers/{id}/exec */
export const EXEC_CREATE_REQUEST = struct('ExecConfig', {
  User: S, Privileged: B, Tty: B, ConsoleSize: CONSOLE_SIZE, AttachStdin: B, AttachStderr: B,
  AttachStdout: B, DetachKeys: S, Env: STRS, WorkingDir: S, Cmd: STRSLICE,
});

/** POST /exec/{id}/start */
export const EXEC_START_REQUEST = struct('ExecStartCheck', { Detach: B, Tty: B, ConsoleSize: CONSOLE_SIZE });

export const VOLUME_CREATE_REQUEST = struct('CreateOptions', { Name: S, Driver: S, DriverOpts: STRMAP, Labels: STRMAP });

const IPAM_CONFIG = struct('IPAMConfig', { Subnet: S, IPRange: S, Gateway: S, AuxiliaryAddresses: STRMAP });
export const NETWORK_CREATE_REQUEST = struct('CreateRequest', {
  Name: S, CheckDuplicate: B, Driver: S, Scope: S, EnableIPv4: B, EnableIPv6: B, Internal: B, Attachable: B, Ingress: B, ConfigOnly: B,
  ConfigFrom: struct('ConfigReference', { Network: S }), Options: STRMAP, Labels: STRMAP,
  IPAM: struct('IPAM', { Driver: S, Options: STRMAP, Config: arrayOf(IPAM_CONFIG) }),
});
export const NETWORK_CONNECT_REQUEST = struct('ConnectOptions', { Container: S, EndpointConfig: ENDPOINT_SETTINGS });
export const NETWORK_DISCONNECT_REQUEST = struct('DisconnectOptions', { Container: S, Force: B });
