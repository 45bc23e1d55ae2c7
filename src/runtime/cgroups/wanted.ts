// Which controllers a LinuxResources actually asks something of. A limit
// whose controller is absent is an error naming the controller (runc fails
// the same way, e.g. "cannot set hugetlb limit"); a section that is present
// but sets nothing (all zero / unset) asks nothing, as in runc.

import type { LinuxResources } from '../../oci/runtime-spec.js';
import { invalidArgument, type BerthError } from '../../util/errors.js';

const nz = (v: number | undefined | null): boolean => v !== undefined && v !== null && v !== 0;
const some = (a: unknown[] | undefined): boolean => a !== undefined && a.length > 0;

/** Controller name → the spec field that needs it (for the error message). v1 names; v2 maps blkio→io and folds net_cls/net_prio away (see wantedV2). */
export function wantedV1(r: LinuxResources): Map<string, string> {
  const w = new Map<string, string>();
  const m = r.memory;
  if (m && (nz(m.limit) || nz(m.reservation) || nz(m.swap) || (m.swappiness !== undefined && m.swappiness !== null && m.swappiness !== -1) || m.disableOOMKiller === true)) {
    w.set('memory', 'linux.resources.memory');
  }
  const c = r.cpu;
  if (c && (nz(c.shares) || nz(c.quota) || nz(c.period) || c.burst !== undefined || nz(c.realtimeRuntime) || nz(c.realtimePeriod) || c.idle !== undefined)) {
    w.set('cpu', 'linux.resources.cpu');
  }
  if (c && ((c.cpus ?? '') !== '' || (c.mems ?? '') !== '')) w.set('cpuset', 'linux.resources.cpu.cpus/mems');
  if (r.pids && r.pids.limit !== undefined && r.pids.limit !== null) w.set('pids', 'linux.resources.pids');
  const b = r.blockIO;
  if (
    b &&
    (nz(b.weight) || nz(b.leafWeight) || some(b.weightDevice) || some(b.throttleReadBpsDevice) ||
      some(b.throttleWriteBpsDevice) || some(b.throttleReadIOPSDevice) || some(b.throttleWriteIOPSDevice))
  ) {
    w.set('blkio', 'linux.resources.blockIO');
  }
  if (some(r.hugepageLimits)) w.set('hugetlb', 'linux.resources.hugepageLimits');
  if (nz(r.network?.classID)) w.set('net_cls', 'linux.resources.network.classID');
  if (some(r.network?.priorities)) w.set('net_prio', 'linux.resources.network.priorities');
  if (Object.keys(r.rdma ?? {}).length > 0) w.set('rdma', 'linux.resources.rdma');
  return w;
}

/** v2 controllers (those listed in cgroup.controllers; devices and freezer are built in). */
export function wantedV2(r: LinuxResources): Map<string, string> {
  const w = new Map<string, string>();
  for (const [ctrl, field] of wantedV1(r)) {
    if (ctrl === 'blkio') w.set('io', field);
    else if (ctrl === 'net_cls' || ctrl === 'net_prio') continue; // no v2 equivalent; runc ignores them there
    else if (ctrl === 'memory' && !(nz(r.memory?.limit) || nz(r.memory?.reservation) || nz(r.memory?.swap))) continue;
    else if (ctrl === 'cpu' && !(nz(r.cpu?.shares) || nz(r.cpu?.quota) || nz(r.cpu?.period) || r.cpu?.burst !== undefined || r.cpu?.idle !== undefined)) continue;
    else w.set(ctrl, field);
  }
  return w;
}

export function controllerMissing(ctrl: string, field: string, where: string): BerthError {
  return invalidArgument(`cgroup: ${field} needs the ${ctrl} controller, which is ${where}`);
}
