// Stats from a cgroup v2 directory (opencontainers/cgroups fs2/*.go), in the
// v1-shaped structure runc keeps for compatibility.

import { MAX_UINT64, readOptional } from './files.js';
import {
  emptyMemory, hugepageSizes, numberFile, parseKeyValues, parseNumber, pidsStats, psiFile, requiredNumber,
  type BlkioKey, type BlkioStats, type CgroupStats, type MemoryEntry,
} from './stats.js';

export function v2CpuStats(dir: string, s: CgroupStats): void {
  const text = readOptional(dir, 'cpu.stat');
  if (text !== undefined) {
    const kv = parseKeyValues(dir, 'cpu.stat', text);
    s.cpu.usage.total = (kv['usage_usec'] ?? 0) * 1000;
    s.cpu.usage.user = (kv['user_usec'] ?? 0) * 1000;
    s.cpu.usage.kernel = (kv['system_usec'] ?? 0) * 1000;
    s.cpu.throttling.periods = kv['nr_periods'] ?? 0;
    s.cpu.throttling.throttledPeriods = kv['nr_throttled'] ?? 0;
    s.cpu.throttling.throttledTime = (kv['throttled_usec'] ?? 0) * 1000;
  }
  const psi = psiFile(dir, 'cpu.pressure');
  if (psi) s.cpu.psi = psi;
}

function v2MemoryEntry(dir: string, name: string): MemoryEntry | undefined {
  const base = name === '' ? 'memory' : `memory.${name}`;
  const usage = numberFile(dir, `${base}.current`);
  if (usage === undefined) return undefined;
  return { usage, limit: requiredNumber(dir, `${base}.max`), max: numberFile(dir, `${base}.peak`) ?? 0, failcnt: 0 };
}

export function v2MemoryStats(dir: string, s: CgroupStats): void {
  const stat = readOptional(dir, 'memory.stat');
  if (stat !== undefined) {
    s.memory.raw = parseKeyValues(dir, 'memory.stat', stat);
    s.memory.cache = s.memory.raw['file'] ?? 0;
  }
  const usage = v2MemoryEntry(dir, '');
  if (usage) {
    s.memory.usage = usage;
    // v1 reported swap as memory+swap; runc keeps that meaning on v2.
    const swapOnly = v2MemoryEntry(dir, 'swap') ?? emptyMemory();
    s.memory.swap = {
      usage: swapOnly.usage + usage.usage,
      limit: swapOnly.limit === MAX_UINT64 ? MAX_UINT64 : swapOnly.limit + usage.limit,
      max: 0,
      failcnt: 0,
    };
  }
  const psi = psiFile(dir, 'memory.pressure');
  if (psi) s.memory.psi = psi;
}

export function v2PidsStats(dir: string, s: CgroupStats): void {
  if (readOptional(dir, 'pids.current') !== undefined) {
    pidsStats(dir, s);
    return;
  }
  // No pids controller: count cgroup.procs lines, as runc does.
  const procs = readOptional(dir, 'cgroup.procs') ?? '';
  s.pids.current = procs.split('\n').filter((l) => l.trim() !== '').length;
  s.pids.limit = 0;
}

const IO_STAT_OPS: Record<string, [BlkioKey, string]> = {
  rbytes: ['ioServiceBytesRecursive', 'Read'],
  wbytes: ['ioServiceBytesRecursive', 'Write'],
  rios: ['ioServicedRecursive', 'Read'],
  wios: ['ioServicedRecursive', 'Write'],
};

/** io.stat: "8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0". */
export function v2IoStats(dir: string, s: CgroupStats): void {
  const text = readOptional(dir, 'io.stat');
  if (text !== undefined) {
    const blkio: BlkioStats = {};
    for (const line of text.split('\n')) {
      const [dev, ...items] = line.trim().split(/\s+/);
      const mm = /^(\d+):(\d+)$/.exec(dev ?? '');
      if (!mm) continue;
      for (const item of items) {
        const [k, v] = item.split('=');
        const target = IO_STAT_OPS[k ?? ''];
        if (!target || v === undefined) continue;
        const [key, op] = target;
        (blkio[key] ??= []).push({ major: Number(mm[1]), minor: Number(mm[2]), op, value: parseNumber(dir, 'io.stat', v) });
      }
    }
    s.blkio = blkio;
  }
  const psi = psiFile(dir, 'io.pressure');
  if (psi) s.blkio.psi = psi;
}

export function v2HugetlbStats(dir: string, s: CgroupStats): void {
  for (const size of hugepageSizes(dir, 'max')) {
    const rsvd = readOptional(dir, `hugetlb.${size}.rsvd.current`) !== undefined ? '.rsvd' : '';
    const events = readOptional(dir, `hugetlb.${size}.events`);
    s.hugetlb[size] = {
      usage: requiredNumber(dir, `hugetlb.${size}${rsvd}.current`),
      max: 0,
      failcnt: events === undefined ? 0 : (parseKeyValues(dir, `hugetlb.${size}.events`, events)['max'] ?? 0),
    };
  }
}
