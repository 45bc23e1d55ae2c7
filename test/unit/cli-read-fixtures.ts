// Engine API answers shaped like dockerd's, for the read-only command tests (and for
// test/unit/cli-read-docker-golden.json, recorded from docker 28.2.2 against the same answers). Times are
// relative to `now` (seconds) so "5 minutes ago" is stable within a test.
import type { ContainerInspect, ContainerStats, ContainerSummary, DiskUsage, ImageHistoryItem, ImageSummary, SystemInfo, VersionResponse } from '../../src/oci/engine-api.js';

export const ID1 = 'f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2';
export const ID2 = '0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c';
export const IMG1 = 'sha256:9f8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a0';
export const IMG2 = 'sha256:1234567890abcdef1234567890abcdef1234567890abcdef1234567890abcdef';

export function containers(now: number): ContainerSummary[] {
  return [
    {
      Id: ID1, Names: ['/web', '/other/link'], Image: 'nginx:1.25', ImageID: IMG1, Command: 'nginx -g \'daemon off;\' --with-a-long-tail',
      Created: now - 300, Ports: [
        { IP: '0.0.0.0', PrivatePort: 80, PublicPort: 8080, Type: 'tcp' },
        { IP: '::', PrivatePort: 80, PublicPort: 8080, Type: 'tcp' },
        { PrivatePort: 443, Type: 'tcp' }, { PrivatePort: 444, Type: 'tcp' }, { PrivatePort: 53, Type: 'udp' },
      ],
      SizeRw: 1234, SizeRootFs: 187654321,
      Labels: { 'com.example.team': 'web', 'com.docker.compose.project': 'shop' }, State: 'running', Status: 'Up 5 minutes (healthy)',
      HostConfig: { NetworkMode: 'bridge' }, NetworkSettings: { Networks: { bridge: {} } },
      Mounts: [{ Type: 'volume', Name: 'a-very-long-volume-name-here', Source: '/var/lib/x', Destination: '/data', Driver: 'local', Mode: '', RW: true, Propagation: '' }],
    },
    {
      Id: ID2, Names: ['/quiet_turing'], Image: IMG2.slice(7), ImageID: IMG2, Command: 'sh', Created: now - 3 * 86400,
      Ports: [], Labels: {}, State: 'exited', Status: 'Exited (0) 2 days ago', HostConfig: { NetworkMode: 'none' },
      NetworkSettings: { Networks: { none: {} } }, Mounts: [],
    },
  ];
}

export function images(now: number): ImageSummary[] {
  return [
    {
      Id: IMG1, ParentId: '', RepoTags: ['nginx:1.25', 'nginx:latest'],
      RepoDigests: ['nginx@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'],
      Created: now - 86400 * 20, Size: 187654321, SharedSize: -1, Labels: {}, Containers: -1,
    },
    { Id: IMG2, ParentId: '', RepoTags: [], RepoDigests: [], Created: now - 7200, Size: 4_860_000, SharedSize: -1, Labels: {}, Containers: -1 },
  ];
}

export function history(now: number): ImageHistoryItem[] {
  return [
    { Id: IMG1, Created: now - 86400 * 20, CreatedBy: '/bin/sh -c #(nop)  CMD ["nginx" "-g" "daemon off;"]', Tags: ['nginx:1.25'], Size: 0, Comment: '' },
    { Id: '<missing>', Created: now - 86400 * 21, CreatedBy: '/bin/sh -c apt-get update\t&& apt-get install -y nginx', Tags: null, Size: 58_123_456, Comment: 'buildkit.dockerfile.v0' },
    { Id: '<missing>', Created: 0, CreatedBy: '', Tags: null, Size: 77_800_000, Comment: '' },
  ];
}

export const version: VersionResponse = {
  Platform: { Name: 'berth' },
  Components: [{ Name: 'Engine', Version: '0.1.0', Details: { ApiVersion: '1.47', MinAPIVersion: '1.41', GitCommit: 'berth', GoVersion: 'v20.19.0', Os: 'linux', Arch: 'amd64', KernelVersion: '6.1.0', BuildTime: '2025-01-02T03:04:05.000000000+00:00', Experimental: 'false' } }],
  Version: '0.1.0', ApiVersion: '1.47', MinAPIVersion: '1.41', GitCommit: 'berth', GoVersion: 'v20.19.0', Os: 'linux', Arch: 'amd64', KernelVersion: '6.1.0', BuildTime: '2025-01-02T03:04:05.000000000+00:00',
};

export function info(): SystemInfo {
  return {
    ID: 'ABCD:EFGH', Containers: 2, ContainersRunning: 1, ContainersPaused: 0, ContainersStopped: 1, Images: 2,
    Driver: 'overlay2', DriverStatus: [['Backing Filesystem', 'extfs'], ['Supports d_type', 'true']], DockerRootDir: '/var/lib/berth',
    SystemTime: '2025-01-02T03:04:05Z', LoggingDriver: 'json-file', CgroupDriver: 'cgroupfs', CgroupVersion: '1', NEventsListener: 0,
    KernelVersion: '6.1.0', OperatingSystem: 'Debian GNU/Linux 12 (bookworm)', OSVersion: '12', OSType: 'linux', Architecture: 'x86_64',
    NCPU: 2, MemTotal: 4_123_456_789, IndexServerAddress: 'https://index.docker.io/v1/',
    RegistryConfig: { InsecureRegistryCIDRs: ['127.0.0.0/8'], IndexConfigs: { 'docker.io': { Name: 'docker.io', Mirrors: [], Secure: true, Official: true } }, Mirrors: [] },
    Name: 'host1', Labels: [], ExperimentalBuild: false, ServerVersion: '0.1.0', Runtimes: { 'berth-runtime': { path: 'berth-runtime' } },
    DefaultRuntime: 'berth-runtime', LiveRestoreEnabled: true, Isolation: '', InitBinary: 'berth-init',
    SecurityOptions: ['name=seccomp,profile=builtin'], Warnings: ['WARNING: No swap limit support'], MemoryLimit: true, SwapLimit: false,
    CpuCfsPeriod: true, CpuCfsQuota: true, CPUShares: true, CPUSet: true, PidsLimit: true, IPv4Forwarding: true, Debug: false,
    NFd: 20, NGoroutines: 1, OomKillDisable: true, Plugins: { Volume: ['local'], Network: ['host', 'none'], Authorization: null, Log: ['json-file', 'local'] },
    Swarm: { LocalNodeState: 'inactive', NodeID: '', NodeAddr: '', ControlAvailable: false, Error: '', RemoteManagers: null },
    HttpProxy: '', HttpsProxy: '', NoProxy: '',
  };
}

export function diskUsage(now: number): DiskUsage {
  return {
    LayersSize: 192_514_321,
    Images: images(now).map((i, n) => ({ ...i, SharedSize: 0, Containers: n === 0 ? 1 : 0 })),
    Containers: containers(now).map((c) => ({ ...c, SizeRw: c.SizeRw ?? 0 })),
    Volumes: [],
    BuildCache: [],
  };
}

export function stats(id: string, name: string): ContainerStats {
  const empty = { io_service_bytes_recursive: null, io_serviced_recursive: null, io_queue_recursive: null, io_service_time_recursive: null, io_wait_time_recursive: null, io_merged_recursive: null, io_time_recursive: null, sectors_recursive: null };
  return {
    read: '2025-01-02T03:04:06Z', preread: '2025-01-02T03:04:05Z', name, id,
    pids_stats: { current: 3 },
    blkio_stats: { ...empty, io_service_bytes_recursive: [{ major: 8, minor: 0, op: 'Read', value: 4_096_000 }, { major: 8, minor: 0, op: 'Write', value: 12_288 }] },
    num_procs: 0, storage_stats: {},
    cpu_stats: { cpu_usage: { total_usage: 2_500_000_000, usage_in_kernelmode: 0, usage_in_usermode: 0 }, system_cpu_usage: 20_000_000_000, online_cpus: 2, throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 } },
    precpu_stats: { cpu_usage: { total_usage: 2_400_000_000, usage_in_kernelmode: 0, usage_in_usermode: 0 }, system_cpu_usage: 18_000_000_000, online_cpus: 2, throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 } },
    memory_stats: { usage: 10_485_760, limit: 4_123_456_789, stats: { total_inactive_file: 2_097_152 } },
    networks: { eth0: { rx_bytes: 1_234, rx_packets: 1, rx_errors: 0, rx_dropped: 0, tx_bytes: 5_678_901, tx_packets: 1, tx_errors: 0, tx_dropped: 0 } },
  };
}

export function inspectContainer(_now: number): Partial<ContainerInspect> & Record<string, unknown> {
  return {
    Id: ID1, Created: '2025-01-02T03:04:05.123456789Z', Path: 'nginx', Args: ['-g', 'daemon off;'],
    State: { Status: 'running', Running: true, Paused: false, Restarting: false, OOMKilled: false, Dead: false, Pid: 1234, ExitCode: 0, Error: '', StartedAt: '2025-01-02T03:04:05.123456789Z', FinishedAt: '0001-01-01T00:00:00Z' },
    Image: IMG1, Name: '/web', RestartCount: 0, Config: { Labels: { a: 'b' }, Env: ['PATH=/usr/bin'], Cmd: null, Entrypoint: ['nginx'] },
    HostConfig: { PortBindings: { '80/tcp': [{ HostIp: '', HostPort: '8080' }] } },
    NetworkSettings: { Ports: { '80/tcp': [{ HostIp: '0.0.0.0', HostPort: '8080' }, { HostIp: '::', HostPort: '8080' }], '443/tcp': null, '9/udp': [{ HostIp: '0.0.0.0', HostPort: '10009' }] }, Networks: {} } as unknown as ContainerInspect['NetworkSettings'],
    Mounts: [],
  };
}

export const EVENTS = [
  { status: 'start', id: ID1, from: 'nginx:1.25', Type: 'container', Action: 'start', Actor: { ID: ID1, Attributes: { name: 'web', image: 'nginx:1.25', 'com.example': 'a&b<c>' } }, scope: 'local', time: 1764000000, timeNano: 1764000000123456789 },
  { Type: 'image', Action: 'pull', Actor: { ID: 'busybox:latest', Attributes: { name: 'busybox' } }, scope: 'local', time: 1764000001, timeNano: 1764000001000000000 },
];
