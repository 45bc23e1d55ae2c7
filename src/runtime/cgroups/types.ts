// The role interface the runtime uses for a container's cgroup, and the
// shapes it returns. Two implementations: V1Manager (legacy and hybrid hosts,
// one directory per mounted controller) and V2Manager (unified hierarchy, one
// directory). openCgroupManager() in index.ts picks one by reading the host's
// mount table.

import type { LinuxResources } from '../../oci/runtime-spec.js';
import type { CgroupStats } from './stats.js';

export type { CgroupStats } from './stats.js';

export interface CgroupManagerOptions {
  /** Container id; names the cgroup when cgroupsPath is not given (runc's default). */
  id: string;
  /**
   * linux.cgroupsPath from the spec, with runc's cgroupfs-driver meaning:
   * absolute → below each hierarchy's root; relative → below the cgroup this
   * process is in (v2: its parent, as runc does); missing → the id, relative.
   */
  cgroupsPath?: string;
  /** Where cgroup hierarchies are mounted. Default /sys/fs/cgroup. */
  root?: string;
  /** Text of /proc/self/mountinfo (tests pass a fake). */
  mountinfo?: string;
  /** Text of /proc/self/cgroup (tests pass a fake). */
  selfCgroup?: string;
  /** The systemd driver is not implemented; true is rejected. */
  systemd?: boolean;
  /**
   * Directories recorded by an earlier process (CgroupManager.paths()), so a
   * later `delete`/`pause` finds the same cgroup even if it runs in another
   * cgroup itself. Keys as paths() returns them.
   */
  paths?: Record<string, string>;
}

/** A BPF_PROG_TYPE_CGROUP_DEVICE program the caller must attach (Node cannot call bpf()). */
export interface DeviceProgram {
  /** The cgroup v2 directory to attach it to (open it O_DIRECTORY and pass the fd). */
  cgroupDir: string;
  /** struct bpf_insn[], 8 bytes each, little-endian; pass to cgroup_bpf_attach_devices(). */
  insns: Buffer;
}

export interface CgroupApplyResult {
  /** v2 only: the device filter still to be attached by the shim. */
  deviceProgram?: DeviceProgram;
  /** Settings that were accepted but cannot take effect on this host (runc ignores them too). */
  notes: string[];
}

export interface OomWatchPaths {
  /** v1: the memory cgroup directory (memory.oom_control, cgroup.event_control). */
  v1MemoryDir?: string;
  /** v2: the cgroup directory (memory.events). */
  v2Dir?: string;
}

export interface CgroupManager {
  readonly version: 1 | 2;
  /** Resolved directories: v1 keyed by hierarchy ('cpu', 'memory', 'name=systemd', '' for the hybrid cgroup2); v2 has one key ''. */
  paths(): Record<string, string>;
  /** Whether the container's cgroup directory exists. */
  exists(): boolean;
  /** Make the directories and apply every resource. devices undefined means deny all (fail closed). */
  create(resources?: LinuxResources): CgroupApplyResult;
  /** Apply changed resources to an existing cgroup; devices undefined leaves device rules alone. */
  update(resources: LinuxResources): CgroupApplyResult;
  /** cgroup.procs files the container's init writes "0" into, in join order. */
  procsFiles(): string[];
  freeze(): void;
  thaw(): void;
  isFrozen(): boolean;
  /** Every process in the cgroup and its descendants. */
  pids(): number[];
  /** What runc's `events --stats` prints in `data`. */
  stats(): CgroupStats;
  /** Remove the container's directories (and any sub-cgroups); ENOENT is fine. */
  destroy(): void;
  /** Signal every process in the cgroup (freezing around it so none escapes by forking). */
  killAll(signal?: NodeJS.Signals | number): void;
  oomWatchPaths(): OomWatchPaths;
}
