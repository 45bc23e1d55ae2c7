// Checks on LinuxResources made before anything is written, so a bad spec
// fails whole instead of leaving a half-configured cgroup, and so nothing
// from the spec can reach a file name it should not (hugepage sizes, unified
// keys and rdma devices become parts of paths or control-file lines).

import type { LinuxResources } from '../../oci/runtime-spec.js';
import { invalidArgument } from '../../util/errors.js';
import { checkInteger } from './convert.js';
import { DeviceEmulator, normalizeDeviceRules } from './devices-rules.js';

const P = 'linux.resources';

function checkMemory(r: LinuxResources): void {
  const m = r.memory;
  if (!m) return;
  for (const k of ['limit', 'reservation', 'swap', 'kernel', 'kernelTCP'] as const) checkInteger(`${P}.memory.${k}`, m[k], -1);
  checkInteger(`${P}.memory.swappiness`, m.swappiness, -1);
  if (m.swappiness !== undefined && m.swappiness !== null && m.swappiness > 100) {
    throw invalidArgument(`cgroup: ${P}.memory.swappiness: invalid value ${m.swappiness} (valid range is 0-100)`);
  }
}

const CPU_LIST = /^[0-9,\-\s]*$/;

function checkCpu(r: LinuxResources): void {
  const c = r.cpu;
  if (!c) return;
  checkInteger(`${P}.cpu.shares`, c.shares, 0);
  checkInteger(`${P}.cpu.quota`, c.quota, -1);
  checkInteger(`${P}.cpu.burst`, c.burst, 0);
  checkInteger(`${P}.cpu.period`, c.period, 0);
  checkInteger(`${P}.cpu.realtimeRuntime`, c.realtimeRuntime, -1);
  checkInteger(`${P}.cpu.realtimePeriod`, c.realtimePeriod, 0);
  checkInteger(`${P}.cpu.idle`, c.idle);
  for (const k of ['cpus', 'mems'] as const) {
    const v = c[k];
    if (v !== undefined && (typeof v !== 'string' || !CPU_LIST.test(v))) {
      throw invalidArgument(`cgroup: ${P}.cpu.${k}: ${JSON.stringify(v)} is not a list like "0-3,6"`);
    }
  }
}

function checkBlockIO(r: LinuxResources): void {
  const b = r.blockIO;
  if (!b) return;
  checkInteger(`${P}.blockIO.weight`, b.weight, 0);
  checkInteger(`${P}.blockIO.leafWeight`, b.leafWeight, 0);
  (b.weightDevice ?? []).forEach((d, i) => {
    const w = `${P}.blockIO.weightDevice[${i}]`;
    checkInteger(`${w}.major`, d.major, 0);
    checkInteger(`${w}.minor`, d.minor, 0);
    checkInteger(`${w}.weight`, d.weight, 0);
    checkInteger(`${w}.leafWeight`, d.leafWeight, 0);
  });
  const throttles = ['throttleReadBpsDevice', 'throttleWriteBpsDevice', 'throttleReadIOPSDevice', 'throttleWriteIOPSDevice'] as const;
  for (const t of throttles) {
    (b[t] ?? []).forEach((d, i) => {
      checkInteger(`${P}.blockIO.${t}[${i}].major`, d.major, 0);
      checkInteger(`${P}.blockIO.${t}[${i}].minor`, d.minor, 0);
      checkInteger(`${P}.blockIO.${t}[${i}].rate`, d.rate, 0);
    });
  }
}

function checkHugepages(r: LinuxResources): void {
  (r.hugepageLimits ?? []).forEach((h, i) => {
    if (typeof h.pageSize !== 'string' || !/^[0-9]+[KMG]B$/.test(h.pageSize)) {
      throw invalidArgument(`cgroup: ${P}.hugepageLimits[${i}].pageSize: ${JSON.stringify(h.pageSize)} is not a size like "2MB" or "1GB"`);
    }
    checkInteger(`${P}.hugepageLimits[${i}].limit`, h.limit, 0);
  });
}

const TOKEN = /^[A-Za-z0-9_.:@-]{1,64}$/;

function checkNetworkAndRdma(r: LinuxResources): void {
  const n = r.network;
  if (n) {
    checkInteger(`${P}.network.classID`, n.classID, 0);
    (n.priorities ?? []).forEach((p, i) => {
      if (typeof p.name !== 'string' || !TOKEN.test(p.name)) {
        throw invalidArgument(`cgroup: ${P}.network.priorities[${i}].name: ${JSON.stringify(p.name)} is not an interface name`);
      }
      checkInteger(`${P}.network.priorities[${i}].priority`, p.priority, 0);
    });
  }
  for (const [dev, v] of Object.entries(r.rdma ?? {})) {
    if (!TOKEN.test(dev)) throw invalidArgument(`cgroup: ${P}.rdma: ${JSON.stringify(dev)} is not a device name`);
    checkInteger(`${P}.rdma.${dev}.hcaHandles`, v.hcaHandles, 0);
    checkInteger(`${P}.rdma.${dev}.hcaObjects`, v.hcaObjects, 0);
  }
}

/** Unified keys are v2 file names: "controller.parameter", never a path (runc rejects slashes too). */
export function checkUnified(r: LinuxResources): void {
  for (const [k, v] of Object.entries(r.unified ?? {})) {
    if (k.includes('/')) throw invalidArgument(`cgroup: ${P}.unified: key ${JSON.stringify(k)} must be a file name (no slashes)`);
    if (!/^[a-z_]+\.[A-Za-z0-9_.]+$/.test(k)) {
      throw invalidArgument(`cgroup: ${P}.unified: key ${JSON.stringify(k)} must be in the form CONTROLLER.PARAMETER`);
    }
    if (typeof v !== 'string') throw invalidArgument(`cgroup: ${P}.unified.${k}: value must be a string`);
  }
}

/** Every check that does not depend on the cgroup version. */
export function validateResources(r: LinuxResources): void {
  checkMemory(r);
  checkCpu(r);
  if (r.pids) checkInteger(`${P}.pids.limit`, r.pids.limit);
  checkBlockIO(r);
  checkHugepages(r);
  checkNetworkAndRdma(r);
  checkUnified(r);
  // Running the rules through the emulator also catches wildcard hole-punching.
  if (r.devices) DeviceEmulator.fromRules(normalizeDeviceRules(r.devices));
}
