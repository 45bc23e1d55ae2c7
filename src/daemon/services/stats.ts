// docker stats: one sample of a container's resource use in Docker's JSON shape
// (api/types/container.StatsResponse), mapped from the cgroup as moby's daemon/stats_unix.go
// maps containerd's cgroup v1 and v2 metrics, plus the host's CPU time from /proc/stat
// (getSystemCPUUsage) and the init's network namespace counters (/proc/<pid>/net/dev).
// Values stay below 2^64 in JSON: a Go client cannot decode 18446744073709552000 into uint64,
// so "unlimited" sentinels are replaced (memory: the host's MemTotal) or left out.
import { readFileSync, readlinkSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { BlkioEntry, ContainerStats, CpuStats, NetworkStats } from '../../oci/engine-api.js';
import type { CgroupManager, CgroupStats } from '../../runtime/cgroups/index.js';
import type { BlkioEntry as CgroupBlkioEntry } from '../../runtime/cgroups/stats.js';

export interface StatsInput {
  id: string;
  /** As Docker shows it: with the leading "/" ("/web"). */
  name: string;
  cgroup: CgroupManager;
  /** The container's init, seen from the host: its network namespace is the container's. */
  pid: number;
}

/** Go's zero time.Time, which Docker prints for a missing "preread". */
const ZERO_TIME = '0001-01-01T00:00:00Z';
const CLOCK_TICKS_PER_SECOND = 100;
const NS_PER_SECOND = 1e9;

// The memory.stat keys Docker reports (moby statsV1 / statsV2); missing ones are 0.
const V1_MEMORY_KEYS = [
  'cache', 'rss', 'rss_huge', 'mapped_file', 'dirty', 'writeback', 'pgpgin', 'pgpgout', 'pgfault', 'pgmajfault',
  'inactive_anon', 'active_anon', 'inactive_file', 'active_file', 'unevictable', 'hierarchical_memory_limit',
  'hierarchical_memsw_limit', 'total_cache', 'total_rss', 'total_rss_huge', 'total_mapped_file', 'total_dirty',
  'total_writeback', 'total_pgpgin', 'total_pgpgout', 'total_pgfault', 'total_pgmajfault', 'total_inactive_anon',
  'total_active_anon', 'total_inactive_file', 'total_active_file', 'total_unevictable',
];
const V2_MEMORY_KEYS = [
  'anon', 'file', 'kernel_stack', 'slab', 'sock', 'shmem', 'file_mapped', 'file_dirty', 'file_writeback', 'anon_thp',
  'inactive_anon', 'active_anon', 'inactive_file', 'active_file', 'unevictable', 'slab_reclaimable',
  'slab_unreclaimable', 'pgfault', 'pgmajfault', 'workingset_refault', 'workingset_activate',
  'workingset_nodereclaim', 'pgrefill', 'pgscan', 'pgsteal', 'pgactivate', 'pgdeactivate', 'pglazyfree',
  'pglazyfreed', 'thp_fault_alloc', 'thp_collapse_alloc',
];

export function zeroCpuStats(): CpuStats {
  return {
    cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 },
    throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 },
  };
}

function nullBlkio(): ContainerStats['blkio_stats'] {
  return {
    io_service_bytes_recursive: null,
    io_serviced_recursive: null,
    io_queue_recursive: null,
    io_service_time_recursive: null,
    io_wait_time_recursive: null,
    io_merged_recursive: null,
    io_time_recursive: null,
    sectors_recursive: null,
  };
}

/** What Docker sends for a container that is not running: only its id and name. */
export function emptyStats(id: string, name: string): ContainerStats {
  return {
    read: ZERO_TIME,
    preread: ZERO_TIME,
    pids_stats: {},
    blkio_stats: nullBlkio(),
    num_procs: 0,
    storage_stats: {},
    cpu_stats: zeroCpuStats(),
    precpu_stats: zeroCpuStats(),
    memory_stats: {},
    name,
    id,
  };
}

/** The host's CPU time in nanoseconds and its CPU count, from /proc/stat (moby readSystemCPUUsage). */
export function parseProcStat(text: string): { systemUsage: number; onlineCpus: number } {
  let systemUsage = 0;
  let onlineCpus = 0;
  for (const line of text.split('\n')) {
    if (line.length < 4 || !line.startsWith('cpu')) break; // the cpu lines come first
    if (line[3] === ' ') {
      const ticks = line.trim().split(/\s+/).slice(1, 8).reduce((sum, v) => sum + Number(v), 0);
      systemUsage = (ticks * NS_PER_SECOND) / CLOCK_TICKS_PER_SECOND;
    } else if (line[3]! >= '0' && line[3]! <= '9') {
      onlineCpus++;
    }
  }
  return { systemUsage, onlineCpus };
}

/** /proc/<pid>/net/dev → Docker's per-interface counters, loopback left out. */
export function parseNetDev(text: string): Record<string, NetworkStats> {
  const out: Record<string, NetworkStats> = {};
  for (const line of text.split('\n').slice(2)) {
    const colon = line.indexOf(':');
    if (colon === -1) continue;
    const name = line.slice(0, colon).trim();
    const f = line.slice(colon + 1).trim().split(/\s+/).map(Number);
    if (name === 'lo' || f.length < 16) continue;
    out[name] = {
      rx_bytes: f[0]!, rx_packets: f[1]!, rx_errors: f[2]!, rx_dropped: f[3]!,
      tx_bytes: f[8]!, tx_packets: f[9]!, tx_errors: f[10]!, tx_dropped: f[11]!,
    };
  }
  return out;
}

/** The init's interfaces; none when it shares the host's network namespace (--network host). */
function networkStats(pid: number): Record<string, NetworkStats> | undefined {
  try {
    if (readlinkSync(`/proc/${pid}/ns/net`) === readlinkSync('/proc/self/ns/net')) return undefined;
    const nets = parseNetDev(readFileSync(`/proc/${pid}/net/dev`, 'utf8'));
    return Object.keys(nets).length ? nets : undefined;
  } catch {
    return undefined; // the init is gone: the sample is taken as the container stops
  }
}

function memTotal(): number {
  const m = /^MemTotal:\s+(\d+) kB/m.exec(readFileSync('/proc/meminfo', 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

function pick(raw: Record<string, number>, keys: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of keys) out[k] = raw[k] ?? 0;
  return out;
}

/** v2 failcnt is memory.events' "oom" count (moby statsV2). */
function oomEvents(cgroup: CgroupManager): number {
  try {
    const m = /^oom (\d+)$/m.exec(readFileSync(`${cgroup.paths()['']}/memory.events`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

function memoryStats(cgroup: CgroupManager, s: CgroupStats): ContainerStats['memory_stats'] {
  const v1 = cgroup.version === 1;
  const out: ContainerStats['memory_stats'] = { stats: pick(s.memory.raw, v1 ? V1_MEMORY_KEYS : V2_MEMORY_KEYS) };
  const host = memTotal();
  // Without a limit the cgroup says 2^63-4096 (v1) or "max" (v2): Docker shows the host's memory.
  const limit = host > 0 && s.memory.usage.limit > host ? host : s.memory.usage.limit;
  const failcnt = v1 ? s.memory.usage.failcnt : oomEvents(cgroup);
  if (s.memory.usage.usage) out.usage = s.memory.usage.usage;
  if (v1 && s.memory.usage.max) out.max_usage = s.memory.usage.max;
  if (limit) out.limit = limit;
  if (failcnt) out.failcnt = failcnt;
  return out;
}

const copyEntries = (list: CgroupBlkioEntry[] | undefined): BlkioEntry[] => (list ?? []).map((e) => ({ ...e }));

function blkioStats(cgroup: CgroupManager, s: CgroupStats): ContainerStats['blkio_stats'] {
  if (cgroup.version === 1) {
    return {
      io_service_bytes_recursive: copyEntries(s.blkio.ioServiceBytesRecursive),
      io_serviced_recursive: copyEntries(s.blkio.ioServicedRecursive),
      io_queue_recursive: copyEntries(s.blkio.ioQueueRecursive),
      io_service_time_recursive: copyEntries(s.blkio.ioServiceTimeRecursive),
      io_wait_time_recursive: copyEntries(s.blkio.ioWaitTimeRecursive),
      io_merged_recursive: copyEntries(s.blkio.ioMergedRecursive),
      io_time_recursive: copyEntries(s.blkio.ioTimeRecursive),
      sectors_recursive: copyEntries(s.blkio.sectorsRecursive),
    };
  }
  // v2: only bytes, as "read"/"write" per device (moby statsV2); the rest is unsupported.
  const bytes = (s.blkio.ioServiceBytesRecursive ?? []).map((e) => ({ ...e, op: e.op.toLowerCase() }));
  return { ...nullBlkio(), io_service_bytes_recursive: bytes.length ? bytes : null };
}

function cpuStats(cgroup: CgroupManager, s: CgroupStats, host: { systemUsage: number; onlineCpus: number }): CpuStats {
  const usage: CpuStats['cpu_usage'] = {
    total_usage: s.cpu.usage.total,
    usage_in_kernelmode: s.cpu.usage.kernel,
    usage_in_usermode: s.cpu.usage.user,
  };
  // v2 has no per-CPU usage (moby: "PercpuUsage is not supported").
  if (cgroup.version === 1 && s.cpu.usage.percpu?.length) usage.percpu_usage = s.cpu.usage.percpu;
  const out: CpuStats = {
    cpu_usage: usage,
    throttling_data: {
      periods: s.cpu.throttling.periods,
      throttled_periods: s.cpu.throttling.throttledPeriods,
      throttled_time: s.cpu.throttling.throttledTime,
    },
  };
  if (host.systemUsage) out.system_cpu_usage = host.systemUsage;
  if (host.onlineCpus) out.online_cpus = host.onlineCpus;
  return out;
}

/** Go's time.Now() as JSON: RFC 3339 with the sub-second digits it has. */
function now(): string {
  return new Date().toISOString();
}

/** One sample; `previous` (the sample before) fills preread and precpu_stats. */
export function sampleStats(input: StatsInput, previous?: ContainerStats): ContainerStats {
  const s = input.cgroup.stats();
  // Read close to the cgroup's numbers, so the CPU percentage is not skewed (moby does the same).
  const host = parseProcStat(readFileSync('/proc/stat', 'utf8'));
  const pids: ContainerStats['pids_stats'] = {};
  if (s.pids.current) pids.current = s.pids.current;
  if (s.pids.limit) pids.limit = s.pids.limit;
  const stats: ContainerStats = {
    read: now(),
    preread: previous?.read ?? ZERO_TIME,
    pids_stats: pids,
    blkio_stats: blkioStats(input.cgroup, s),
    num_procs: 0,
    storage_stats: {},
    cpu_stats: cpuStats(input.cgroup, s, host),
    precpu_stats: previous?.cpu_stats ?? zeroCpuStats(),
    memory_stats: memoryStats(input.cgroup, s),
    name: input.name,
    id: input.id,
  };
  const networks = networkStats(input.pid);
  if (networks) stats.networks = networks;
  return stats;
}

export interface StatsSource {
  id: string;
  name: string;
  /** The running container's cgroup and init, or undefined while it is not running. */
  current(): Omit<StatsInput, 'id' | 'name'> | undefined;
}

export interface StatsStreamOptions {
  /** Keep sending, one sample per interval, until aborted. */
  stream: boolean;
  /** Without stream: one sample at once, its precpu_stats empty (else two samples, an interval apart). */
  oneShot: boolean;
  intervalMs?: number;
}

function sampleOrEmpty(source: StatsSource, previous?: ContainerStats): ContainerStats {
  const target = source.current();
  if (!target) return emptyStats(source.id, source.name);
  try {
    return sampleStats({ id: source.id, name: source.name, ...target }, previous);
  } catch (err) {
    // The container stopped while its cgroup was read: Docker sends the empty sample then.
    if (!source.current()) return emptyStats(source.id, source.name);
    throw err;
  }
}

/** Waits one interval; false when aborted meanwhile. */
async function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  try {
    await sleep(ms, undefined, { signal });
    return true;
  } catch {
    return false;
  }
}

/** GET /containers/{id}/stats, after moby's ContainerStats: the samples to send, in order. */
export async function* streamStats(source: StatsSource, opts: StatsStreamOptions, signal: AbortSignal): AsyncGenerator<ContainerStats> {
  const interval = opts.intervalMs ?? 1000;
  if (!opts.stream) {
    if (!source.current() || opts.oneShot) {
      yield sampleOrEmpty(source);
      return;
    }
    const first = sampleOrEmpty(source);
    if (!(await pause(interval, signal))) return;
    yield sampleOrEmpty(source, first);
    return;
  }
  let previous: ContainerStats | undefined;
  while (!signal.aborted) {
    const sample = sampleOrEmpty(source, previous);
    yield sample;
    previous = sample.read === ZERO_TIME ? undefined : sample;
    if (!(await pause(interval, signal))) return;
  }
}
