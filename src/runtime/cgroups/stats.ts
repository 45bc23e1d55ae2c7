// Container resource usage in the shape runc's `events --stats` prints under
// "data" (runc types/events.go, filled as in events.go
// convertLibcontainerStats). The readers are in stats-v1.ts and stats-v2.ts,
// after opencontainers/cgroups fs/ and fs2/.
//
// Values are JS numbers: exact below 2^53; the "unlimited" sentinels
// (2^63-4096 on v1, 2^64-1 for "max") come out approximately.

import { readdirSync } from 'node:fs';
import { internal } from '../../util/errors.js';
import { parseUintValue, readOptional, readRequired } from './files.js';

export interface PsiData {
  avg10: number;
  avg60: number;
  avg300: number;
  total: number;
}

export interface PsiStats {
  some: PsiData;
  full: PsiData;
}

export interface CpuUsage {
  /** Nanoseconds. */
  total: number;
  percpu?: number[];
  percpu_kernel?: number[];
  percpu_user?: number[];
  kernel: number;
  user: number;
}

export interface CpuThrottling {
  periods: number;
  throttledPeriods: number;
  throttledTime: number;
}

export interface CpuSetStats {
  cpus?: number[];
  cpu_exclusive: number;
  mems?: number[];
  mem_hardwall: number;
  mem_exclusive: number;
  memory_migrate: number;
  memory_spread_page: number;
  memory_spread_slab: number;
  memory_pressure: number;
  sched_load_balance: number;
  sched_relax_domain_level: number;
}

export interface MemoryEntry {
  limit: number;
  usage: number;
  max: number;
  failcnt: number;
}

export interface BlkioEntry {
  major: number;
  minor: number;
  op: string;
  value: number;
}

export interface BlkioStats {
  ioServiceBytesRecursive?: BlkioEntry[];
  ioServicedRecursive?: BlkioEntry[];
  ioQueueRecursive?: BlkioEntry[];
  ioServiceTimeRecursive?: BlkioEntry[];
  ioWaitTimeRecursive?: BlkioEntry[];
  ioMergedRecursive?: BlkioEntry[];
  ioTimeRecursive?: BlkioEntry[];
  sectorsRecursive?: BlkioEntry[];
  psi?: PsiStats;
}

export interface HugetlbEntry {
  usage: number;
  max: number;
  failcnt: number;
}

export interface CgroupStats {
  cpu: { usage: CpuUsage; throttling: CpuThrottling; psi?: PsiStats };
  cpuset: CpuSetStats;
  memory: {
    cache: number;
    usage: MemoryEntry;
    swap: MemoryEntry;
    kernel: MemoryEntry;
    kernelTCP: MemoryEntry;
    raw: Record<string, number>;
    psi?: PsiStats;
  };
  pids: { current: number; limit: number };
  blkio: BlkioStats;
  hugetlb: Record<string, HugetlbEntry>;
}

export const emptyMemory = (): MemoryEntry => ({ limit: 0, usage: 0, max: 0, failcnt: 0 });

export function emptyStats(): CgroupStats {
  return {
    cpu: { usage: { total: 0, kernel: 0, user: 0 }, throttling: { periods: 0, throttledPeriods: 0, throttledTime: 0 } },
    cpuset: {
      cpu_exclusive: 0, mem_hardwall: 0, mem_exclusive: 0, memory_migrate: 0, memory_spread_page: 0,
      memory_spread_slab: 0, memory_pressure: 0, sched_load_balance: 0, sched_relax_domain_level: 0,
    },
    memory: { cache: 0, usage: emptyMemory(), swap: emptyMemory(), kernel: emptyMemory(), kernelTCP: emptyMemory(), raw: {} },
    pids: { current: 0, limit: 0 },
    blkio: {},
    hugetlb: {},
  };
}

// ---- parsers shared by stats-v1.ts and stats-v2.ts --------------------------

export function parseNumber(dir: string, file: string, text: string): number {
  try {
    return parseUintValue(text);
  } catch (err) {
    throw internal(`cgroup: cannot parse ${dir}/${file}: ${(err as Error).message}`, err);
  }
}

/** "key value" lines (cpu.stat, memory.stat, pids.events). */
export function parseKeyValues(dir: string, file: string, text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const sp = line.indexOf(' ');
    if (sp <= 0) throw internal(`cgroup: cannot parse ${dir}/${file}: line ${JSON.stringify(line)} is not "key value"`);
    out[line.slice(0, sp)] = parseNumber(dir, file, line.slice(sp + 1));
  }
  return out;
}

export function numberFile(dir: string, file: string): number | undefined {
  const text = readOptional(dir, file);
  return text === undefined ? undefined : parseNumber(dir, file, text);
}

export function requiredNumber(dir: string, file: string): number {
  return parseNumber(dir, file, readRequired(dir, file));
}

/** "0-3,5" → [0,1,2,3,5]. */
export function parseCpuList(text: string): number[] {
  const out: number[] = [];
  for (const part of text.trim().split(',')) {
    if (part === '') continue;
    const [from, to] = part.split('-').map(Number) as [number, number | undefined];
    for (let i = from; i <= (to ?? from); i++) out.push(i);
  }
  return out;
}

export function parsePsi(text: string): PsiStats {
  const psi: PsiStats = { some: { avg10: 0, avg60: 0, avg300: 0, total: 0 }, full: { avg10: 0, avg60: 0, avg300: 0, total: 0 } };
  for (const line of text.split('\n')) {
    const [kind, ...fields] = line.trim().split(/\s+/);
    if (kind !== 'some' && kind !== 'full') continue;
    for (const f of fields) {
      const [k, v] = f.split('=');
      if (k === 'avg10' || k === 'avg60' || k === 'avg300' || k === 'total') psi[kind][k] = Number(v);
    }
  }
  return psi;
}

export function psiFile(dir: string, file: string): PsiStats | undefined {
  const text = readOptional(dir, file);
  return text === undefined ? undefined : parsePsi(text);
}

/** Hugepage sizes with a control file in dir ("hugetlb.2MB.limit_in_bytes" → "2MB"); no /sys/kernel/mm needed. */
export function hugepageSizes(dir: string, suffix: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const sizes = new Set<string>();
  for (const n of names) {
    const m = /^hugetlb\.([^.]+)\.(.+)$/.exec(n);
    if (m && m[2] === suffix) sizes.add(m[1] as string);
  }
  return [...sizes].sort();
}

export type BlkioKey = Exclude<keyof BlkioStats, 'psi'>;

/** pids.current and pids.max (same files on v1 and v2). */
export function pidsStats(dir: string, s: CgroupStats): void {
  const current = numberFile(dir, 'pids.current');
  if (current === undefined) return;
  const max = readRequired(dir, 'pids.max').trim();
  s.pids.current = current;
  // runc reports "no limit" as 0.
  s.pids.limit = max === 'max' ? 0 : parseNumber(dir, 'pids.max', max);
}
