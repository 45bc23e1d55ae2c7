// Entry point: pick the CgroupManager for this host and the container's path.
//
//   const cg = openCgroupManager({ id, cgroupsPath: spec.linux?.cgroupsPath });
//   const { deviceProgram, notes } = cg.create(spec.linux?.resources);
//   // shim: write "0" to each of cg.procsFiles() from the container's init,
//   //       and attach deviceProgram (v2) with cgroup_bpf_attach_devices().
//   ...
//   cg.destroy();
//
// The version is decided by /proc/self/mountinfo: a cgroup2 mount at the root
// (default /sys/fs/cgroup) is a unified host (V2Manager); otherwise the v1
// controller mounts below the root are used (V1Manager), joining a hybrid
// host's controller-less cgroup2 too, as runc does.

import { invalidArgument } from '../../util/errors.js';
import { detectLayout, parseSelfCgroup, readMountinfo, readSelfCgroup, type HostLayout } from './detect.js';
import { checkSavedPath, innerPath, v2Dir } from './paths.js';
import type { CgroupManager, CgroupManagerOptions } from './types.js';
import { resolveV1Dirs, V1Manager } from './v1.js';
import { V2Manager } from './v2.js';

export type {
  CgroupApplyResult, CgroupManager, CgroupManagerOptions, CgroupStats, DeviceProgram, OomWatchPaths,
} from './types.js';
export type { BlkioEntry, CpuUsage, HugetlbEntry, MemoryEntry, PsiStats } from './stats.js';
export { deviceFilterProgram } from './devices-bpf.js';
export { cpuSharesToWeight, blkioWeightToIoWeight, memorySwapToV2 } from './convert.js';
export { detectLayout, type HostLayout } from './detect.js';
export { V1Manager } from './v1.js';
export { V2Manager } from './v2.js';

const DEFAULT_ROOT = '/sys/fs/cgroup';

function fromSavedPaths(layout: HostLayout, saved: Record<string, string>): CgroupManager {
  const mounts = [...layout.v1.values(), ...(layout.unified ? [layout.unified] : [])];
  for (const dir of Object.values(saved)) checkSavedPath(dir, mounts);
  if (layout.mode === 'unified' && layout.unified) {
    const dir = saved[''];
    if (dir === undefined || Object.keys(saved).length !== 1) {
      throw invalidArgument('cgroup: saved cgroup paths are from a cgroup v1 host, but this host uses cgroup v2');
    }
    return new V2Manager(layout.unified, dir);
  }
  if (saved['devices'] === undefined) throw invalidArgument('cgroup: saved cgroup paths have no devices cgroup (from a cgroup v2 host?)');
  return new V1Manager(layout, new Map(Object.entries(saved)));
}

/** The CgroupManager for a container on this host (see CgroupManagerOptions for the path rules). */
export function openCgroupManager(opts: CgroupManagerOptions): CgroupManager {
  if (opts.systemd) throw invalidArgument('cgroup: systemd cgroup driver is not supported; use cgroupfs');
  const root = opts.root ?? DEFAULT_ROOT;
  const layout = opts.mountinfo === undefined ? hostLayout(root) : detectLayout(opts.mountinfo, root);
  if (opts.paths) return fromSavedPaths(layout, opts.paths);
  const inner = innerPath(opts.id, opts.cgroupsPath);
  // Only relative paths depend on where this process sits.
  const self = parseSelfCgroup(opts.selfCgroup ?? (inner.startsWith('/') ? '' : readSelfCgroup()));
  if (layout.mode === 'unified' && layout.unified) return new V2Manager(layout.unified, v2Dir(layout.unified, inner, self));
  return new V1Manager(layout, resolveV1Dirs(layout, inner, self));
}

// A daemon opens a manager for every container it starts or stops. Its mount table grows with
// each running container (rootfs, netns), so reading it each time costs more the busier the
// daemon is, while the cgroup mounts it is read for do not change under a running daemon: the
// layout is read once per process and root.
const layouts = new Map<string, HostLayout>();

/** This host's cgroup layout under root (default /sys/fs/cgroup), read once per process. */
export function hostLayout(root = DEFAULT_ROOT): HostLayout {
  let layout = layouts.get(root);
  if (!layout) {
    layout = detectLayout(readMountinfo(), root);
    layouts.set(root, layout);
  }
  return layout;
}

/** The same as openCgroupManager (both names are in use in the design notes). */
export const cgroupManagerFor = openCgroupManager;
