// Stats from cgroup v1 controller directories (opencontainers/cgroups fs/*.go GetStats).

import { internal } from '../../util/errors.js';
import { readOptional } from './files.js';
import {
  emptyMemory, hugepageSizes, numberFile, parseCpuList, parseKeyValues, parseNumber, requiredNumber,
  type BlkioEntry, type BlkioKey, type BlkioStats, type CgroupStats, type MemoryEntry,
} from './stats.js';

const NS_PER_TICK = 1e9 / 100; // USER_HZ is 100 on Linux

export function v1CpuacctStats(dir: string, s: CgroupStats): void {
  const stat = readOptional(dir, 'cpuacct.stat');
  if (stat === undefined) return;
  const kv = parseKeyValues(dir, 'cpuacct.stat', stat);
  s.cpu.usage.user = (kv['user'] ?? 0) * NS_PER_TICK;
  s.cpu.usage.kernel = (kv['system'] ?? 0) * NS_PER_TICK;
  s.cpu.usage.total = requiredNumber(dir, 'cpuacct.usage');
  s.cpu.usage.percpu = (readOptional(dir, 'cpuacct.usage_percpu') ?? '').trim().split(/\s+/).filter(Boolean).map(Number);
  const all = readOptional(dir, 'cpuacct.usage_all');
  if (all !== undefined) {
    const kernel: number[] = [];
    const user: number[] = [];
    for (const line of all.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 3) continue;
      user.push(Number(f[1]));
      kernel.push(Number(f[2]));
    }
    s.cpu.usage.percpu_kernel = kernel;
    s.cpu.usage.percpu_user = user;
  }
}

export function v1CpuStats(dir: string, s: CgroupStats): void {
  const text = readOptional(dir, 'cpu.stat');
  if (text === undefined) return;
  const kv = parseKeyValues(dir, 'cpu.stat', text);
  s.cpu.throttling.periods = kv['nr_periods'] ?? 0;
  s.cpu.throttling.throttledPeriods = kv['nr_throttled'] ?? 0;
  s.cpu.throttling.throttledTime = kv['throttled_time'] ?? 0;
}

export function v1CpusetStats(dir: string, prefix: string, s: CgroupStats): void {
  const cpus = readOptional(dir, `${prefix}cpus`);
  if (cpus !== undefined) s.cpuset.cpus = parseCpuList(cpus);
  const mems = readOptional(dir, `${prefix}mems`);
  if (mems !== undefined) s.cpuset.mems = parseCpuList(mems);
  const fields = [
    'cpu_exclusive', 'mem_hardwall', 'mem_exclusive', 'memory_migrate', 'memory_spread_page',
    'memory_spread_slab', 'memory_pressure', 'sched_load_balance',
  ] as const;
  for (const f of fields) s.cpuset[f] = numberFile(dir, `${prefix}${f}`) ?? 0;
  const level = readOptional(dir, `${prefix}sched_relax_domain_level`);
  if (level !== undefined) s.cpuset.sched_relax_domain_level = Number(level.trim());
}

/** memory.<name>.{usage,max_usage,failcnt,limit}_in_bytes; optional parts (memsw, kmem) may be absent. */
function v1MemoryEntry(dir: string, name: string): MemoryEntry {
  const base = name === '' ? 'memory' : `memory.${name}`;
  const usage = numberFile(dir, `${base}.usage_in_bytes`);
  if (usage === undefined) {
    if (name === '') throw internal(`cgroup: cannot read ${dir}/memory.usage_in_bytes: No such file or directory`);
    return emptyMemory();
  }
  return {
    usage,
    max: numberFile(dir, `${base}.max_usage_in_bytes`) ?? 0,
    failcnt: numberFile(dir, `${base}.failcnt`) ?? 0,
    limit: numberFile(dir, `${base}.limit_in_bytes`) ?? 0,
  };
}

export function v1MemoryStats(dir: string, s: CgroupStats): void {
  const stat = readOptional(dir, 'memory.stat');
  if (stat === undefined) return;
  s.memory.raw = parseKeyValues(dir, 'memory.stat', stat);
  s.memory.cache = s.memory.raw['cache'] ?? 0;
  s.memory.usage = v1MemoryEntry(dir, '');
  s.memory.swap = v1MemoryEntry(dir, 'memsw');
  s.memory.kernel = v1MemoryEntry(dir, 'kmem');
  s.memory.kernelTCP = v1MemoryEntry(dir, 'kmem.tcp');
}

/** blkio stat lines: "8:0 Read 1282048", "8:0 6792", a final "Total N". */
export function parseBlkioStat(dir: string, file: string, text: string): BlkioEntry[] {
  const out: BlkioEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/[ :]/).filter(Boolean);
    if (f.length === 0 || (f.length === 2 && f[0] === 'Total')) continue;
    if (f.length < 3) throw internal(`cgroup: cannot parse ${dir}/${file}: malformed line ${JSON.stringify(line)}`);
    const hasOp = f.length === 4;
    out.push({
      major: Number(f[0]),
      minor: Number(f[1]),
      op: hasOp ? (f[2] as string) : '',
      value: parseNumber(dir, file, (hasOp ? f[3] : f[2]) as string),
    });
  }
  return out;
}

/** runc tries these groups in order and uses the first whose first file exists and is non-empty. */
const BLKIO_GROUPS: [string, BlkioKey][][] = [
  [
    ['blkio.bfq.sectors_recursive', 'sectorsRecursive'],
    ['blkio.bfq.io_service_time_recursive', 'ioServiceTimeRecursive'],
    ['blkio.bfq.io_wait_time_recursive', 'ioWaitTimeRecursive'],
    ['blkio.bfq.io_merged_recursive', 'ioMergedRecursive'],
    ['blkio.bfq.io_queued_recursive', 'ioQueueRecursive'],
    ['blkio.bfq.time_recursive', 'ioTimeRecursive'],
    ['blkio.bfq.io_serviced_recursive', 'ioServicedRecursive'],
    ['blkio.bfq.io_service_bytes_recursive', 'ioServiceBytesRecursive'],
  ],
  [
    ['blkio.bfq.io_serviced_recursive', 'ioServicedRecursive'],
    ['blkio.bfq.io_service_bytes_recursive', 'ioServiceBytesRecursive'],
  ],
  [
    ['blkio.sectors_recursive', 'sectorsRecursive'],
    ['blkio.io_service_time_recursive', 'ioServiceTimeRecursive'],
    ['blkio.io_wait_time_recursive', 'ioWaitTimeRecursive'],
    ['blkio.io_merged_recursive', 'ioMergedRecursive'],
    ['blkio.io_queued_recursive', 'ioQueueRecursive'],
    ['blkio.time_recursive', 'ioTimeRecursive'],
    ['blkio.io_serviced_recursive', 'ioServicedRecursive'],
    ['blkio.io_service_bytes_recursive', 'ioServiceBytesRecursive'],
  ],
  [
    ['blkio.throttle.io_serviced_recursive', 'ioServicedRecursive'],
    ['blkio.throttle.io_service_bytes_recursive', 'ioServiceBytesRecursive'],
  ],
  [
    ['blkio.throttle.io_serviced', 'ioServicedRecursive'],
    ['blkio.throttle.io_service_bytes', 'ioServiceBytesRecursive'],
  ],
];

export function v1BlkioStats(dir: string, s: CgroupStats): void {
  for (const group of BLKIO_GROUPS) {
    const first = group[0] as [string, BlkioKey];
    const text = readOptional(dir, first[0]);
    if (text === undefined || parseBlkioStat(dir, first[0], text).length === 0) continue;
    const blkio: BlkioStats = {};
    for (const [file, key] of group) {
      const t = readOptional(dir, file);
      if (t !== undefined) blkio[key] = parseBlkioStat(dir, file, t);
    }
    s.blkio = blkio;
    return;
  }
}

export function v1HugetlbStats(dir: string, s: CgroupStats): void {
  for (const size of hugepageSizes(dir, 'limit_in_bytes')) {
    const rsvd = readOptional(dir, `hugetlb.${size}.rsvd.usage_in_bytes`) !== undefined ? '.rsvd' : '';
    const p = `hugetlb.${size}${rsvd}`;
    s.hugetlb[size] = {
      usage: requiredNumber(dir, `${p}.usage_in_bytes`),
      max: requiredNumber(dir, `${p}.max_usage_in_bytes`),
      failcnt: requiredNumber(dir, `${p}.failcnt`),
    };
  }
}
