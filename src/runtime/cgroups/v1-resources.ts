// Writing LinuxResources into cgroup v1 controller directories, one function
// per controller, following opencontainers/cgroups fs/*.go (the order of
// writes matters to the kernel; the comments say where).

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { LinuxResources } from '../../oci/runtime-spec.js';
import { internal, invalidArgument } from '../../util/errors.js';
import { pidsMaxString } from './convert.js';
import { DeviceEmulator, normalizeDeviceRules, ruleString } from './devices-rules.js';
import { onRealCgroupfs, parseUintValue, readOptional, tryWriteFile, writeFile } from './files.js';

export function setV1Memory(dir: string, r: LinuxResources, notes: string[]): void {
  const m = r.memory;
  if (!m) return;
  if (m.kernel !== undefined || m.kernelTCP !== undefined) {
    notes.push('linux.resources.memory.kernel/kernelTCP are ignored (kernel memory limits are deprecated; runc ignores them too)');
  }
  setMemoryAndSwap(dir, m.limit ?? 0, m.swap ?? 0);
  if (m.reservation) writeFile(dir, 'memory.soft_limit_in_bytes', String(m.reservation));
  if (m.disableOOMKiller === true) writeFile(dir, 'memory.oom_control', '1');
  if (m.swappiness !== undefined && m.swappiness !== null && m.swappiness !== -1) {
    writeFile(dir, 'memory.swappiness', String(m.swappiness));
  }
}

function setMemoryLimit(dir: string, value: number): void {
  if (value === 0) return;
  const failed = tryWriteFile(dir, 'memory.limit_in_bytes', String(value));
  if (failed === undefined) return;
  if (failed.code === 'EBUSY') {
    // The kernel refuses a limit below current usage; say what the usage is.
    const usage = readOptional(dir, 'memory.usage_in_bytes')?.trim() ?? '?';
    const peak = readOptional(dir, 'memory.max_usage_in_bytes')?.trim() ?? '?';
    throw invalidArgument(
      `cgroup: memory.limit_in_bytes: cannot set ${value}: Device or resource busy (current usage ${usage}, peak usage ${peak}; ${dir})`,
    );
  }
  throw failed.error;
}

function setSwapLimit(dir: string, value: number): void {
  if (value !== 0) writeFile(dir, 'memory.memsw.limit_in_bytes', String(value));
}

/**
 * memsw must stay >= memory at every step, so when both change the order
 * depends on the current limit (runc's setMemoryAndSwap): raising → swap
 * first, lowering → memory first.
 */
function setMemoryAndSwap(dir: string, memory: number, swapIn: number): void {
  let swap = swapIn;
  // "Unlimited memory" with swap unset lifts the swap limit too, when swap accounting exists.
  if (memory === -1 && swap === 0 && existsSync(join(dir, 'memory.memsw.limit_in_bytes'))) swap = -1;
  if (memory !== 0 && swap !== 0) {
    const cur = readOptional(dir, 'memory.limit_in_bytes');
    const curLimit = cur === undefined ? Infinity : parseUintValue(cur);
    if (swap === -1 || curLimit < swap) {
      setSwapLimit(dir, swap);
      setMemoryLimit(dir, memory);
      return;
    }
  }
  setMemoryLimit(dir, memory);
  setSwapLimit(dir, swap);
}

export function setV1Cpu(dir: string, r: LinuxResources): void {
  const c = r.cpu;
  if (!c) return;
  if (c.shares) {
    writeFile(dir, 'cpu.shares', String(c.shares));
    // The kernel clamps shares silently; read back and say so.
    const got = readOptional(dir, 'cpu.shares');
    const read = got === undefined ? c.shares : Number(got.trim());
    if (c.shares > read) throw invalidArgument(`cgroup: cpu.shares: cannot set ${c.shares}: the maximum allowed cpu-shares is ${read}`);
    if (c.shares < read) throw invalidArgument(`cgroup: cpu.shares: cannot set ${c.shares}: the minimum allowed cpu-shares is ${read}`);
  }
  const quota = c.quota ?? 0;
  // A new period or burst can be rejected (EINVAL) against the old quota; retry after the quota is set.
  let period = '';
  if (c.period) {
    period = String(c.period);
    const failed = tryWriteFile(dir, 'cpu.cfs_period_us', period);
    if (failed === undefined) period = '';
    else if (failed.code !== 'EINVAL' || quota === 0) throw failed.error;
  }
  let burst = '';
  if (c.burst !== undefined && c.burst !== null) {
    burst = String(c.burst);
    const failed = tryWriteFile(dir, 'cpu.cfs_burst_us', burst);
    if (failed === undefined) burst = '';
    else if (!existsSync(join(dir, 'cpu.cfs_burst_us'))) burst = ''; // older kernel: no burst knob, runc ignores it
    else if (failed.code !== 'EINVAL' || quota === 0) throw failed.error;
  }
  if (quota !== 0) {
    writeFile(dir, 'cpu.cfs_quota_us', String(quota));
    if (period !== '') writeFile(dir, 'cpu.cfs_period_us', period);
    if (burst !== '') writeFile(dir, 'cpu.cfs_burst_us', burst);
  }
  if (c.idle !== undefined && c.idle !== null) writeFile(dir, 'cpu.idle', String(c.idle));
  setV1RtSched(dir, r);
}

/** Realtime budget: period and runtime depend on each other, so a rejected period is retried after the runtime. */
export function setV1RtSched(dir: string, r: LinuxResources): void {
  const rtPeriod = r.cpu?.realtimePeriod ?? 0;
  const rtRuntime = r.cpu?.realtimeRuntime ?? 0;
  let period = '';
  if (rtPeriod !== 0) {
    period = String(rtPeriod);
    const failed = tryWriteFile(dir, 'cpu.rt_period_us', period);
    if (failed === undefined) period = '';
    else if (failed.code !== 'EINVAL' || rtRuntime === 0) throw failed.error;
  }
  if (rtRuntime !== 0) {
    writeFile(dir, 'cpu.rt_runtime_us', String(rtRuntime));
    if (period !== '') writeFile(dir, 'cpu.rt_period_us', period);
  }
}

export function setV1Cpuset(dir: string, prefix: string, r: LinuxResources): void {
  if (r.cpu?.cpus) writeFile(dir, `${prefix}cpus`, r.cpu.cpus);
  if (r.cpu?.mems) writeFile(dir, `${prefix}mems`, r.cpu.mems);
}

export function setV1Pids(dir: string, r: LinuxResources): void {
  if (r.pids && r.pids.limit !== undefined && r.pids.limit !== null) writeFile(dir, 'pids.max', pidsMaxString(r.pids.limit));
}

export function setV1Blkio(dir: string, r: LinuxResources): void {
  const b = r.blockIO;
  if (!b) return;
  // CFQ had blkio.weight; with BFQ the knobs are blkio.bfq.weight (runc picks the same way).
  const cfq = existsSync(join(dir, 'blkio.weight'));
  const weightFile = cfq ? 'blkio.weight' : 'blkio.bfq.weight';
  const weightDeviceFile = cfq ? 'blkio.weight_device' : 'blkio.bfq.weight_device';
  if (b.weight) writeFile(dir, weightFile, String(b.weight));
  if (b.leafWeight) writeFile(dir, 'blkio.leaf_weight', String(b.leafWeight));
  for (const wd of b.weightDevice ?? []) {
    if (wd.weight) writeFile(dir, weightDeviceFile, `${wd.major}:${wd.minor} ${wd.weight}`);
    if (wd.leafWeight) writeFile(dir, 'blkio.leaf_weight_device', `${wd.major}:${wd.minor} ${wd.leafWeight}`);
  }
  const throttles = [
    ['throttleReadBpsDevice', 'blkio.throttle.read_bps_device'],
    ['throttleWriteBpsDevice', 'blkio.throttle.write_bps_device'],
    ['throttleReadIOPSDevice', 'blkio.throttle.read_iops_device'],
    ['throttleWriteIOPSDevice', 'blkio.throttle.write_iops_device'],
  ] as const;
  for (const [field, file] of throttles) {
    for (const td of b[field] ?? []) writeFile(dir, file, `${td.major}:${td.minor} ${td.rate}`);
  }
}

export function setV1Network(dirs: Map<string, string>, r: LinuxResources): void {
  const classID = r.network?.classID;
  const netCls = dirs.get('net_cls');
  if (classID && netCls) writeFile(netCls, 'net_cls.classid', String(classID));
  const netPrio = dirs.get('net_prio');
  for (const p of r.network?.priorities ?? []) if (netPrio) writeFile(netPrio, 'net_prio.ifpriomap', `${p.name} ${p.priority}`);
}

/**
 * Device rules: compute the fewest devices.allow/devices.deny writes from the
 * current devices.list to the target (a fresh cgroup inherits allow-all, so
 * that is "a *:* rwm" to devices.deny, then each allow line), then check the
 * kernel ended up where we meant.
 */
export function setV1Devices(dir: string, rules: NonNullable<LinuxResources['devices']>): void {
  const target = DeviceEmulator.fromRules(normalizeDeviceRules(rules));
  const current = DeviceEmulator.fromList(readOptional(dir, 'devices.list') ?? 'a *:* rwm\n');
  for (const rule of current.transition(target)) {
    writeFile(dir, rule.allow ? 'devices.allow' : 'devices.deny', ruleString(rule));
  }
  // Only the kernel keeps devices.list in step with the writes; a fake cgroupfs cannot be checked.
  if (!onRealCgroupfs(dir)) return;
  const list = readOptional(dir, 'devices.list');
  if (list === undefined) throw internal(`cgroup: cannot read ${dir}/devices.list after setting device rules`);
  const after = DeviceEmulator.fromList(list);
  if (!target.defaultAllow && !after.equals(target)) {
    throw internal(`cgroup: devices.list in ${dir} does not match the requested device rules after writing them`);
  }
  if (target.defaultAllow !== after.defaultAllow) {
    throw internal(`cgroup: devices cgroup ${dir} is not in the requested ${target.defaultAllow ? 'allow' : 'deny'}-by-default mode`);
  }
}
