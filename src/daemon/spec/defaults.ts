// The defaults Docker writes into a new container's Config and HostConfig at create (so inspect shows
// them): moby daemon/container.go newContainer, daemon/daemon_unix.go adaptContainerSettings,
// daemon/create_unix.go and daemon/create.go.
import type { ContainerConfig, HostConfig } from '../../oci/engine-api.js';
import { DEFAULT_MASKED_PATHS, DEFAULT_READONLY_PATHS } from './paths.js';
import type { SpecHost } from './types.js';

/** moby daemon/config DefaultShmSize: 64 MiB. */
export const DEFAULT_SHM_SIZE = 64 * 1024 * 1024;

export interface DaemonContainerDefaults {
  shmSize?: number;
  /** daemon.json "default-ipc-mode" ("private" unless set). */
  ipcMode?: string;
  /** daemon.json "default-cgroupns-mode". */
  cgroupnsMode?: 'private' | 'host';
}

/** Hostname: the first 12 characters of the id, or the host's name with --network host. */
export function applyConfigDefaults(config: ContainerConfig, id: string, hostConfig: HostConfig, host: SpecHost): ContainerConfig {
  if (config.Hostname) return config;
  const hostname = hostConfig.NetworkMode === 'host' ? host.hostname : id.slice(0, 12);
  return { ...config, Hostname: hostname };
}

export function applyHostConfigDefaults(hc: HostConfig, host: SpecHost, daemon: DaemonContainerDefaults = {}): HostConfig {
  const out: HostConfig = structuredClone(hc);
  if (!out.NetworkMode) out.NetworkMode = 'default';
  if ((out.Memory ?? 0) > 0 && !out.MemorySwap) out.MemorySwap = (out.Memory ?? 0) * 2;
  if (out.MemorySwappiness === -1) out.MemorySwappiness = null;
  if (!out.ShmSize) out.ShmSize = daemon.shmSize ?? DEFAULT_SHM_SIZE;
  if (!out.IpcMode) out.IpcMode = daemon.ipcMode ?? 'private';
  if (!out.CgroupnsMode) out.CgroupnsMode = defaultCgroupnsMode(out, host, daemon);
  if (out.OomKillDisable === undefined || out.OomKillDisable === null) out.OomKillDisable = false;
  if (!out.Privileged) {
    out.MaskedPaths ??= defaultMaskedPaths(host);
    out.ReadonlyPaths ??= [...DEFAULT_READONLY_PATHS];
  }
  return out;
}

/** cgroup v2: private (even privileged); v1 and hybrid hosts (like this one): host. */
function defaultCgroupnsMode(hc: HostConfig, host: SpecHost, daemon: DaemonContainerDefaults): 'private' | 'host' {
  if (hc.Privileged && !host.cgroupUnified) return 'host';
  return daemon.cgroupnsMode ?? (host.cgroupUnified ? 'private' : 'host');
}

export function defaultMaskedPaths(host: SpecHost): string[] {
  return [...DEFAULT_MASKED_PATHS, ...host.thermalThrottlePaths];
}
