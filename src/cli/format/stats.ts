// `docker stats` (docker/cli cli/command/container/stats_helpers.go and formatter_stats.go):
// the numbers computed from one stats sample, and the row contexts a --format uses.
import type { BlkioEntry, ContainerStats } from '../../oci/engine-api.js';
import { HeaderMap, TABLE_FORMAT_KEY } from './formatter.js';
import { formatF } from '../../util/numbers.js';
import { FormatContext } from './template.js';
import { bytesSize, humanSizeWithPrecision, truncateId } from '../../util/units.js';

const DEFAULT_STATS_TABLE_FORMAT = 'table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}';
const NO_VALUE = '--';

export const STATS_HEADERS: Record<string, string> = {
  Container: 'CONTAINER',
  Name: 'NAME',
  ID: 'CONTAINER ID',
  CPUPerc: 'CPU %',
  MemUsage: 'MEM USAGE / LIMIT',
  MemPerc: 'MEM %',
  NetIO: 'NET I/O',
  BlockIO: 'BLOCK I/O',
  PIDs: 'PIDS',
};

export const statsHeader = (): HeaderMap => new HeaderMap(STATS_HEADERS);

export const statsFormat = (source: string): string => (source === TABLE_FORMAT_KEY ? DEFAULT_STATS_TABLE_FORMAT : source);

/** One container's figures (docker's StatsEntry). */
export interface StatsEntry {
  /** What the user named (or the short ID when listing all). */
  container: string;
  name: string;
  id: string;
  cpuPercentage: number;
  memory: number;
  memoryLimit: number;
  memoryPercentage: number;
  networkRx: number;
  networkTx: number;
  blockRead: number;
  blockWrite: number;
  pidsCurrent: number;
  /** No valid sample (yet): the figures print as "--". */
  isInvalid: boolean;
}

export function emptyStatsEntry(container: string): StatsEntry {
  return {
    container, name: '', id: '', cpuPercentage: 0, memory: 0, memoryLimit: 0, memoryPercentage: 0,
    networkRx: 0, networkTx: 0, blockRead: 0, blockWrite: 0, pidsCurrent: 0, isInvalid: false,
  };
}

/** cpu delta / system delta × online CPUs × 100 (calculateCPUPercentUnix). */
export function cpuPercent(s: ContainerStats): number {
  const cpuDelta = s.cpu_stats.cpu_usage.total_usage - s.precpu_stats.cpu_usage.total_usage;
  const systemDelta = (s.cpu_stats.system_cpu_usage ?? 0) - (s.precpu_stats.system_cpu_usage ?? 0);
  let online = s.cpu_stats.online_cpus ?? 0;
  if (online === 0) online = s.cpu_stats.cpu_usage.percpu_usage?.length ?? 0;
  return systemDelta > 0 && cpuDelta > 0 ? (cpuDelta / systemDelta) * online * 100 : 0;
}

/** Memory usage without the page cache (v1: total_inactive_file, v2: inactive_file). */
export function memUsageNoCache(mem: ContainerStats['memory_stats']): number {
  const usage = mem.usage ?? 0;
  const stats = mem.stats ?? {};
  const v1 = stats['total_inactive_file'];
  if (v1 !== undefined && v1 < usage) return usage - v1;
  const v2 = stats['inactive_file'] ?? 0;
  if (v2 < usage) return usage - v2;
  return usage;
}

export function blockIO(entries: BlkioEntry[] | null | undefined): [read: number, write: number] {
  let read = 0;
  let write = 0;
  for (const e of entries ?? []) {
    const op = e.op[0];
    if (op === 'r' || op === 'R') read += e.value;
    else if (op === 'w' || op === 'W') write += e.value;
  }
  return [read, write];
}

/** The figures of one sample, as docker's collect() derives them. */
export function statsEntryFrom(container: string, s: ContainerStats): StatsEntry {
  const memory = memUsageNoCache(s.memory_stats);
  const memoryLimit = s.memory_stats.limit ?? 0;
  const [blockRead, blockWrite] = blockIO(s.blkio_stats?.io_service_bytes_recursive);
  let networkRx = 0;
  let networkTx = 0;
  for (const n of Object.values(s.networks ?? {})) {
    networkRx += n.rx_bytes;
    networkTx += n.tx_bytes;
  }
  return {
    container,
    name: s.name,
    id: s.id,
    cpuPercentage: cpuPercent(s),
    memory,
    memoryLimit,
    memoryPercentage: memoryLimit !== 0 ? (memory / memoryLimit) * 100 : 0,
    networkRx,
    networkTx,
    blockRead,
    blockWrite,
    pidsCurrent: s.pids_stats?.current ?? 0,
    isInvalid: false,
  };
}

const percentage = (v: number): string => formatF(v, 2) + '%';

export class StatsContext extends FormatContext {
  readonly goType = '*container.statsContext';

  constructor(
    private readonly s: StatsEntry,
    private readonly trunc: boolean,
  ) {
    super();
  }

  protected jsonFields(): string[] {
    return ['BlockIO', 'CPUPerc', 'Container', 'ID', 'MemPerc', 'MemUsage', 'Name', 'NetIO', 'PIDs'];
  }

  Container(): string {
    return this.s.container;
  }

  Name(): string {
    return this.s.name.length > 1 ? this.s.name.slice(1) : NO_VALUE;
  }

  ID(): string {
    return this.trunc ? truncateId(this.s.id) : this.s.id;
  }

  CPUPerc(): string {
    return this.s.isInvalid ? NO_VALUE : percentage(this.s.cpuPercentage);
  }

  MemUsage(): string {
    return this.s.isInvalid ? '-- / --' : `${bytesSize(this.s.memory)} / ${bytesSize(this.s.memoryLimit)}`;
  }

  MemPerc(): string {
    return this.s.isInvalid ? NO_VALUE : percentage(this.s.memoryPercentage);
  }

  NetIO(): string {
    return this.s.isInvalid ? NO_VALUE : `${humanSizeWithPrecision(this.s.networkRx, 3)} / ${humanSizeWithPrecision(this.s.networkTx, 3)}`;
  }

  BlockIO(): string {
    return this.s.isInvalid ? NO_VALUE : `${humanSizeWithPrecision(this.s.blockRead, 3)} / ${humanSizeWithPrecision(this.s.blockWrite, 3)}`;
  }

  PIDs(): string {
    return this.s.isInvalid ? NO_VALUE : String(this.s.pidsCurrent);
  }
}
