// The inputs of the spec builder: what berthd knows about a container when it starts it.
import type { ContainerConfig, HostConfig, Ulimit } from '../../oci/engine-api.js';
import type { LinuxSeccomp } from '../../oci/runtime-spec.js';
import type { HostArch } from '../../runtime/seccomp/index.js';
import type { UserMount } from './binds.js';

/** The identity `resolveUser` found in the container's /etc/passwd and /etc/group. */
export interface ResolvedUser {
  uid: number;
  gid: number;
  /** The primary gid first, then the user's supplementary groups, then HostConfig.GroupAdd (as moby's getUser). */
  additionalGids: number[];
  /** The passwd home directory ("/" when the user has no entry, as runc's default). */
  home: string;
}

/** Facts about the machine that change what Docker puts in a spec; `readSpecHost()` reads them. */
export interface SpecHost {
  arch: HostArch;
  kernelRelease: string;
  /** Highest capability number the kernel knows (/proc/sys/kernel/cap_last_cap). */
  lastCap: number;
  /** Pure cgroup v2 host (Docker then defaults to a private cgroup namespace). */
  cgroupUnified: boolean;
  /** The host's hostname (the container's with --network host). */
  hostname: string;
  /** CPUs this process may run on (Go's runtime.NumCPU). */
  cpuCount: number;
  /** The cpuset lists available to containers, e.g. "0-1" and "0". */
  cpusetCpus: string;
  cpusetMems: string;
  /** Kernel >= 5.12 (mount_setattr): read-only binds become recursively read-only ("rro"), as moby does. */
  recursiveReadOnly: boolean;
  /** Docker's default network sysctls that exist on this kernel (net.ipv4.ping_group_range, ...). */
  defaultNetSysctls: Record<string, string>;
  /** /sys/devices/system/cpu/cpuN/thermal_throttle paths present here (masked as moby does). */
  thermalThrottlePaths: string[];
}

/** Namespaces of other containers (HostConfig modes "container:<id>"), resolved by the caller. */
export interface JoinedNamespaces {
  /** /proc/<pid>/ns/net of the container named in NetworkMode. */
  network?: string;
  ipc?: string;
  pid?: string;
}

/** The daemon-written files bound over the image's /etc/hostname, /etc/hosts, /etc/resolv.conf. */
export interface NetworkFiles {
  hostname?: string;
  hosts?: string;
  resolvConf?: string;
}

export interface SpecInput {
  id: string;
  /** The merged Config (mergeImageConfig), with Hostname already defaulted (applyConfigDefaults). */
  config: ContainerConfig;
  /** The HostConfig after applyHostConfigDefaults. */
  hostConfig: HostConfig & { ConsoleSize?: [number, number] | null };
  /** Absolute path of the mounted root filesystem. */
  rootfs: string;
  user: ResolvedUser;
  /** The daemon's cgroup parent; default "/berth" (cgroupsPath "/berth/<id>"). HostConfig.CgroupParent wins. */
  cgroupParent?: string;
  networkFiles?: NetworkFiles;
  /** The user's mounts with volumes resolved to host paths (from the container's record); parsed from hostConfig when absent. */
  mounts?: readonly UserMount[];
  /** Host path of berth-init, bound read-only at /sbin/docker-init when Init is on. */
  initPath?: string;
  /** The daemon's `--init` default, used when HostConfig.Init is null. */
  initByDefault?: boolean;
  /** daemon.json "default-ulimits"; HostConfig.Ulimits of the same name win. */
  defaultUlimits?: Ulimit[];
  /** daemon.json "no-new-privileges". */
  noNewPrivilegesByDefault?: boolean;
  joined?: JoinedNamespaces;
  /** Host path of the shm of a "shareable" container (IpcMode shareable or container:<id>), bound at /dev/shm. */
  shmPath?: string;
  /** Resolves the default seccomp profile for the container's bounding capabilities (default: moby's default.json). */
  defaultSeccomp?: (capabilities: string[]) => LinuxSeccomp;
  host?: SpecHost;
}
