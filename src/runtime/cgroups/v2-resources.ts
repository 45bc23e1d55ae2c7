// Writing LinuxResources into a cgroup v2 directory, following
// opencontainers/cgroups fs2/*.go, with runc's v1→v2 conversions.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { LinuxResources } from '../../oci/runtime-spec.js';
import { invalidArgument } from '../../util/errors.js';
import { blkioWeightToIoWeight, cpuSharesToWeight, memorySwapToV2, pidsMaxString, v2LimitString } from './convert.js';
import { parseUintValue, readOptional, tryWriteFile, writeFile, writeFileByLine } from './files.js';

export function setV2Pids(dir: string, r: LinuxResources): void {
  if (r.pids && r.pids.limit !== undefined && r.pids.limit !== null) writeFile(dir, 'pids.max', pidsMaxString(r.pids.limit));
}

/** memory.checkBeforeUpdate: refuse limits at or below what the cgroup already uses (best effort, like runc). */
function checkMemoryUsage(dir: string, r: LinuxResources): void {
  const m = r.memory;
  if (!m?.checkBeforeUpdate) return;
  const cur = readOptional(dir, 'memory.current');
  if (cur === undefined) return;
  const usage = parseUintValue(cur);
  if ((m.swap ?? 0) > 0 && (m.swap ?? 0) <= usage) {
    throw invalidArgument(`cgroup: memory.swap: rejecting memory+swap limit ${m.swap} <= usage ${usage}`);
  }
  if ((m.limit ?? 0) > 0 && (m.limit ?? 0) <= usage) {
    throw invalidArgument(`cgroup: memory.limit: rejecting memory limit ${m.limit} <= usage ${usage}`);
  }
}

export function setV2Memory(dir: string, r: LinuxResources, notes: string[]): void {
  const m = r.memory;
  if (!m) return;
  if (m.kernel !== undefined || m.kernelTCP !== undefined) {
    notes.push('linux.resources.memory.kernel/kernelTCP are ignored (no such limits on cgroup v2)');
  }
  if (m.swappiness !== undefined && m.swappiness !== null && m.swappiness !== -1) {
    notes.push('linux.resources.memory.swappiness is ignored on cgroup v2 (no per-cgroup swappiness)');
  }
  if (m.disableOOMKiller === true) notes.push('linux.resources.memory.disableOOMKiller is ignored on cgroup v2');
  const limit = m.limit ?? 0;
  const swapIn = m.swap ?? 0;
  const reservation = m.reservation ?? 0;
  if (limit === 0 && swapIn === 0 && reservation === 0) return;
  checkMemoryUsage(dir, r);
  const swap = memorySwapToV2(swapIn, limit);
  let swapStr = v2LimitString(swap);
  if (swapStr === '' && swap === 0 && swapIn > 0) swapStr = '0'; // memory == memory+swap: no swap at all
  if (swapStr !== '') {
    const failed = tryWriteFile(dir, 'memory.swap.max', swapStr);
    // Without swap accounting the file is absent; "max" or "0" then already hold.
    const absent = failed !== undefined && !existsSync(join(dir, 'memory.swap.max'));
    if (failed && !(absent && (swapStr === 'max' || swapStr === '0'))) throw failed.error;
  }
  const max = v2LimitString(limit);
  if (max !== '') writeFile(dir, 'memory.max', max);
  const low = v2LimitString(reservation);
  if (low !== '') writeFile(dir, 'memory.low', low);
}

/**
 * Weight: BFQ's io.bfq.weight takes the v1 value as is; otherwise io.weight
 * takes the converted one. Per-device weights go to io.bfq.weight when BFQ
 * has them (runc), else to io.weight as "MAJ:MIN W" (runc drops them there).
 */
export function setV2Io(dir: string, r: LinuxResources, notes: string[]): void {
  const b = r.blockIO;
  if (!b) return;
  if (b.leafWeight) notes.push('linux.resources.blockIO.leafWeight is ignored on cgroup v2');
  const bfqText = readOptional(dir, 'io.bfq.weight');
  const bfq = bfqText !== undefined;
  if (b.weight) {
    if (bfq) writeFile(dir, 'io.bfq.weight', String(b.weight));
    else writeFile(dir, 'io.weight', String(blkioWeightToIoWeight(b.weight)));
  }
  // io.bfq.weight reads "default 100" when it supports per-device lines, a bare number when not.
  const bfqPerDevice = bfq && !/^\s*\d+\s*$/.test(bfqText);
  for (const wd of b.weightDevice ?? []) {
    if (!wd.weight) continue;
    if (bfqPerDevice) writeFile(dir, 'io.bfq.weight', `${wd.major}:${wd.minor} ${wd.weight}`);
    else if (!bfq) writeFile(dir, 'io.weight', `${wd.major}:${wd.minor} ${blkioWeightToIoWeight(wd.weight)}`);
    else notes.push(`linux.resources.blockIO.weightDevice ${wd.major}:${wd.minor} is ignored: this BFQ has no per-device weights`);
  }
  const throttles = [
    ['throttleReadBpsDevice', 'rbps'],
    ['throttleWriteBpsDevice', 'wbps'],
    ['throttleReadIOPSDevice', 'riops'],
    ['throttleWriteIOPSDevice', 'wiops'],
  ] as const;
  for (const [field, key] of throttles) {
    for (const td of b[field] ?? []) writeFile(dir, 'io.max', `${td.major}:${td.minor} ${key}=${td.rate}`);
  }
}

/** The current "quota period" of cpu.max, so a partial update keeps the half it does not mention. */
function currentCpuMax(dir: string): [string, string] {
  const [quota, period] = (readOptional(dir, 'cpu.max') ?? '').trim().split(/\s+/);
  return [quota || 'max', period || '100000'];
}

export function setV2Cpu(dir: string, r: LinuxResources, notes: string[]): void {
  const c = r.cpu;
  if (!c) return;
  if (c.realtimeRuntime || c.realtimePeriod) {
    notes.push('linux.resources.cpu.realtimeRuntime/realtimePeriod are ignored on cgroup v2 (no RT group scheduling)');
  }
  if (c.idle !== undefined && c.idle !== null) writeFile(dir, 'cpu.idle', String(c.idle));
  const weight = cpuSharesToWeight(c.shares ?? 0);
  if (weight !== 0) writeFile(dir, 'cpu.weight', String(weight));
  const quota = c.quota ?? 0;
  // A larger burst can be refused against the old quota; then retry after cpu.max.
  let burst = '';
  if (c.burst !== undefined && c.burst !== null) {
    burst = String(c.burst);
    const failed = tryWriteFile(dir, 'cpu.max.burst', burst);
    if (failed === undefined) burst = '';
    else if (failed.code !== 'EINVAL' || quota === 0) throw failed.error;
  }
  if (quota !== 0 || c.period) {
    const [curQuota, curPeriod] = currentCpuMax(dir);
    const q = quota > 0 ? String(quota) : quota === -1 ? 'max' : curQuota;
    const p = c.period ? String(c.period) : curPeriod;
    writeFile(dir, 'cpu.max', `${q} ${p}`);
    if (burst !== '') writeFile(dir, 'cpu.max.burst', burst);
  }
}

export function setV2Cpuset(dir: string, r: LinuxResources): void {
  if (r.cpu?.cpus) writeFile(dir, 'cpuset.cpus', r.cpu.cpus);
  if (r.cpu?.mems) writeFile(dir, 'cpuset.mems', r.cpu.mems);
}

export function noteV2Network(r: LinuxResources, notes: string[]): void {
  if (r.network?.classID || (r.network?.priorities ?? []).length > 0) {
    notes.push('linux.resources.network is ignored on cgroup v2 (no net_cls/net_prio controllers; runc ignores it too)');
  }
}

/** unified: raw v2 files, written last so they override the converted values. Multi-line values go line by line. */
export function setV2Unified(dir: string, r: LinuxResources, controllers: Set<string> | undefined): void {
  for (const [key, value] of Object.entries(r.unified ?? {})) {
    const ctrl = key.slice(0, key.indexOf('.'));
    if (controllers && ctrl !== 'cgroup' && !controllers.has(ctrl) && !existsSync(join(dir, key))) {
      throw invalidArgument(`cgroup: linux.resources.unified: ${JSON.stringify(key)} can't be set: controller ${JSON.stringify(ctrl)} not available in ${dir}`);
    }
    writeFileByLine(dir, key, value);
  }
}
