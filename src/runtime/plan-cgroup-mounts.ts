// A `cgroup`/`cgroup2` mount in the spec becomes what this host can show the
// container: the unified hierarchy itself, or on v1/hybrid hosts a tmpfs with one
// mount per hierarchy. With a cgroup namespace each is a fresh cgroup mount (its
// root is the container's cgroup); without one, the container's own directory is bound.
import { posix } from 'node:path';
import { MS } from './linux-constants.js';
import type { ParsedMountOptions } from './mount-options.js';
import { MountOpt, type ProgramOp } from './program.js';

export interface CgroupHierarchy {
  /** Directory name under the mount point ("memory", "cpu,cpuacct", "systemd", "unified"), "" for a unified host. */
  name: string;
  fstype: 'cgroup' | 'cgroup2';
  /** Mount options naming the hierarchy ("memory", "name=systemd"); empty for cgroup2. */
  controllers: string[];
  /** The container's cgroup directory on the host in this hierarchy. */
  hostDir: string;
}

const PER_MOUNT_FLAGS = MS.NOSUID | MS.NODEV | MS.NOEXEC | MS.RELATIME | MS.RDONLY;

function hierarchyOp(dest: string, h: CgroupHierarchy, flags: number, cgroupns: boolean): ProgramOp {
  const target = h.name ? posix.join(dest, h.name) : dest;
  if (cgroupns) {
    return {
      op: 'MOUNT',
      args: [h.fstype, target, h.fstype, flags, h.controllers.join(','), 0, 0, 0],
      what: `mounting the ${h.controllers.join(',') || 'cgroup2'} hierarchy on ${target}`,
    };
  }
  return {
    op: 'MOUNT',
    args: [h.hostDir, target, '', MS.BIND | MS.REC | flags, '', 0, MountOpt.BIND, 0],
    what: `binding the container's cgroup ${h.hostDir} on ${target}`,
  };
}

export function planCgroupMount(dest: string, opts: ParsedMountOptions, hierarchies: readonly CgroupHierarchy[], cgroupns: boolean): ProgramOp[] {
  const flags = opts.flags & PER_MOUNT_FLAGS;
  const unified = hierarchies.find((h) => h.name === '');
  if (unified) return [hierarchyOp(dest, unified, flags, cgroupns)];
  const tmpfsFlags = MS.NOSUID | MS.NODEV | MS.NOEXEC;
  const ops: ProgramOp[] = [
    { op: 'MOUNT', args: ['tmpfs', dest, 'tmpfs', tmpfsFlags, 'mode=755', 0, 0, 0], what: `mounting a tmpfs for cgroups on ${dest}` },
  ];
  for (const h of hierarchies) ops.push(hierarchyOp(dest, h, flags, cgroupns));
  for (const h of hierarchies) {
    // "cpu,cpuacct" is also reachable as "cpu" and "cpuacct", as on the host.
    if (!h.name.includes(',')) continue;
    for (const part of h.name.split(',')) {
      ops.push({ op: 'SYMLINK', args: [h.name, posix.join(dest, part)], what: `linking ${posix.join(dest, part)}` });
    }
  }
  if (opts.flags & MS.RDONLY) {
    ops.push({ op: 'MOUNT', args: ['', dest, '', MS.REMOUNT | MS.RDONLY | tmpfsFlags, '', 0, 0, 0], what: `making ${dest} read-only` });
  }
  return ops;
}
