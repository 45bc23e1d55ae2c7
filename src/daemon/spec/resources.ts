// Resource limits: moby's create-time checks (daemon/daemon_unix.go verifyPlatformContainerResources,
// daemon/internal/runconfig validateResources) and their OCI form (getMemoryResources, getCPUResources,
// getPidsLimit, WithResources).
import type { Resources } from '../../oci/engine-api.js';
import type { LinuxCPU, LinuxMemory, LinuxResources } from '../../oci/runtime-spec.js';
import { invalidArgument } from '../../util/errors.js';
import type { SpecHost } from './types.js';

/** moby linuxMinMemory: 6 MiB, room for a container to start at all. */
const MIN_MEMORY = 6 * 1024 * 1024;
/** The CFS period NanoCpus is expressed in: 100 ms, in µs. */
const NANO_CPUS_PERIOD = 100_000;
/** sysinfo defaultMaxCPUs: bounds cpuset lists (CVE-2018-20699). */
const MAX_CPUSET_ENTRY = 8192;

export function validateResources(r: Resources, host: SpecHost): string[] {
  const warnings: string[] = [];
  checkMemory(r);
  if (r.OomKillDisable && !r.Memory) {
    warnings.push('OOM killer is disabled for the container, but no memory limit is set, this can result in the system running out of resources.');
  }
  if (r.KernelMemory) {
    warnings.push('Specifying a kernel memory limit is deprecated and will be removed in a future release. The limit is ignored.');
  }
  checkCpu(r, host);
  checkCpuset(r.CpusetCpus, host.cpusetCpus, 'cpus', 'CPUs');
  checkCpuset(r.CpusetMems, host.cpusetMems, 'mems', 'memory nodes');
  if (r.BlkioWeight && (r.BlkioWeight < 10 || r.BlkioWeight > 1000)) throw invalidArgument('Range of blkio weight is from 10 to 1000');
  if (r.PidsLimit !== undefined && r.PidsLimit !== null && !Number.isSafeInteger(r.PidsLimit)) {
    throw invalidArgument(`invalid PidsLimit: ${r.PidsLimit}`);
  }
  return warnings;
}

function checkMemory(r: Resources): void {
  const memory = r.Memory ?? 0;
  const swap = r.MemorySwap ?? 0;
  if (memory < 0 || (memory !== 0 && memory < MIN_MEMORY)) throw invalidArgument('Minimum memory limit allowed is 6MB');
  if (memory > 0 && swap > 0 && swap < memory) {
    throw invalidArgument('Minimum memoryswap limit should be larger than memory limit, see usage');
  }
  if (memory === 0 && swap > 0) throw invalidArgument('You should always set the Memory limit when using Memoryswap limit, see usage');
  const swappiness = r.MemorySwappiness;
  if (swappiness !== undefined && swappiness !== null && swappiness !== -1 && (swappiness < 0 || swappiness > 100)) {
    throw invalidArgument(`Invalid value: ${swappiness}, valid memory swappiness range is 0-100`);
  }
  const reservation = r.MemoryReservation ?? 0;
  if (reservation > 0 && reservation < MIN_MEMORY) throw invalidArgument('Minimum memory reservation allowed is 6MB');
  if (memory > 0 && reservation > 0 && memory < reservation) {
    throw invalidArgument('Minimum memory limit can not be less than memory reservation limit, see usage');
  }
}

function checkCpu(r: Resources, host: SpecHost): void {
  const nano = r.NanoCpus ?? 0;
  if (nano > 0 && (r.CpuPeriod ?? 0) > 0) throw invalidArgument('Conflicting options: Nano CPUs and CPU Period cannot both be set');
  if (nano > 0 && (r.CpuQuota ?? 0) > 0) throw invalidArgument('Conflicting options: Nano CPUs and CPU Quota cannot both be set');
  if (nano < 0 || nano > host.cpuCount * 1e9) {
    // moby's wording since Docker 27 (20.10 capitalised "Range").
    throw invalidArgument(`range of CPUs is from 0.01 to ${host.cpuCount}.00, as there are only ${host.cpuCount} CPUs available`);
  }
  const period = r.CpuPeriod ?? 0;
  if (period !== 0 && (period < 1000 || period > 1_000_000)) {
    throw invalidArgument('CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)');
  }
  if ((r.CpuQuota ?? 0) > 0 && (r.CpuQuota ?? 0) < 1000) throw invalidArgument('CPU cfs quota can not be less than 1ms (i.e. 1000)');
  if ((r.CpuShares ?? 0) < 0) throw invalidArgument(`invalid CPU shares (${r.CpuShares}): value must be a positive integer`);
  const rtPeriod = r.CpuRealtimePeriod ?? 0;
  const rtRuntime = r.CpuRealtimeRuntime ?? 0;
  if (rtPeriod !== 0 && rtRuntime !== 0 && rtRuntime > rtPeriod) {
    throw invalidArgument('cpu real-time runtime cannot be higher than cpu real-time period');
  }
}

function checkCpuset(requested: string | undefined, available: string, field: 'cpus' | 'mems', what: string): void {
  if (!requested) return;
  let wanted: Set<number>;
  try {
    wanted = parseCpusetList(requested);
  } catch (err) {
    throw invalidArgument(`Invalid value ${requested} for cpuset ${field}: ${(err as Error).message}`);
  }
  const have = parseCpusetList(available);
  if ([...wanted].some((n) => !have.has(n))) {
    throw invalidArgument(`Requested ${what} are not available - requested ${requested}, available: ${available}`);
  }
}

/** moby sysinfo parseUintList: "0-2,4" and the like, entries at most 8192. */
export function parseCpusetList(list: string): Set<number> {
  const out = new Set<number>();
  if (list === '') return out;
  const invalid = new Error(`invalid format: ${list}`);
  for (const part of list.split(',')) {
    const dash = part.indexOf('-');
    const [lo, hi] = dash < 0 ? [goAtoi(part), goAtoi(part)] : [goAtoi(part.slice(0, dash)), goAtoi(part.slice(dash + 1))];
    if (lo === undefined || hi === undefined || hi < lo) throw invalid;
    if (hi > MAX_CPUSET_ENTRY) throw new Error(`value of out range, maximum is ${MAX_CPUSET_ENTRY}`);
    for (let n = lo; n <= hi; n++) out.add(n);
  }
  return out;
}

function goAtoi(text: string): number | undefined {
  return /^[+-]?\d+$/.test(text) ? Number(text) : undefined;
}

/** The OCI resources (devices are added by the builder). */
export function buildResources(r: Resources): LinuxResources {
  const out: LinuxResources = {};
  const memory = memoryResources(r);
  if (memory) out.memory = memory;
  const cpu = cpuResources(r);
  if (cpu) out.cpu = cpu;
  if (r.BlkioWeight) out.blockIO = { weight: r.BlkioWeight };
  // The API allows 0 and negatives to mean "no limit"; runc wants -1 for it.
  if (r.PidsLimit !== undefined && r.PidsLimit !== null) out.pids = { limit: r.PidsLimit > 0 ? r.PidsLimit : -1 };
  return out;
}

function memoryResources(r: Resources): LinuxMemory | undefined {
  const m: LinuxMemory = {};
  if ((r.Memory ?? 0) > 0) m.limit = r.Memory;
  if ((r.MemoryReservation ?? 0) > 0) m.reservation = r.MemoryReservation;
  if ((r.MemorySwap ?? 0) > 0) m.swap = r.MemorySwap;
  if (r.MemorySwappiness !== undefined && r.MemorySwappiness !== null && r.MemorySwappiness !== -1) m.swappiness = r.MemorySwappiness;
  if (r.OomKillDisable !== undefined && r.OomKillDisable !== null) m.disableOOMKiller = r.OomKillDisable;
  return Object.keys(m).length > 0 ? m : undefined;
}

function cpuResources(r: Resources): LinuxCPU | undefined {
  const c: LinuxCPU = {};
  if (r.CpuShares) c.shares = r.CpuShares;
  if (r.CpusetCpus) c.cpus = r.CpusetCpus;
  if (r.CpusetMems) c.mems = r.CpusetMems;
  if ((r.NanoCpus ?? 0) > 0) {
    c.period = NANO_CPUS_PERIOD;
    c.quota = Math.floor(((r.NanoCpus ?? 0) * NANO_CPUS_PERIOD) / 1e9);
  }
  if (r.CpuPeriod) c.period = r.CpuPeriod;
  if (r.CpuQuota) c.quota = r.CpuQuota;
  if (r.CpuRealtimePeriod) c.realtimePeriod = r.CpuRealtimePeriod;
  if (r.CpuRealtimeRuntime) c.realtimeRuntime = r.CpuRealtimeRuntime;
  return Object.keys(c).length > 0 ? c : undefined;
}
