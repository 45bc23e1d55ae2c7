// The OCI resources were designed for cgroup v1; these are runc's conversions
// to v2 values (opencontainers/cgroups utils.go) and the value checks both
// versions share.

import { invalidArgument } from '../../util/errors.js';

/**
 * cpu.shares [2, 262144] (default 1024) → cpu.weight [1, 10000] (default 100),
 * runc's ConvertCPUSharesToCgroupV2Value: a quadratic in log2(shares) through
 * (2,1), (1024,100) and (262144,10000). 0 means unset.
 */
export function cpuSharesToWeight(shares: number): number {
  if (shares === 0) return 0;
  if (shares <= 2) return 1;
  if (shares >= 262144) return 10000;
  const l = Math.log2(shares);
  const exponent = (l * l + 125 * l) / 612.0 - 7.0 / 34.0;
  return Math.ceil(Math.pow(10, exponent));
}

/** blkio.weight [10, 1000] → io.weight [1, 10000], linearly (runc's ConvertBlkIOToIOWeightValue). 0 means unset. */
export function blkioWeightToIoWeight(weight: number): number {
  if (weight === 0) return 0;
  // Below 10 only BFQ's own range allows; runc's unsigned maths would wrap, clamp instead.
  return Math.max(1, 1 + Math.floor(((weight - 10) * 9999) / 990));
}

/**
 * OCI memory.swap is memory+swap (v1 memsw); v2's memory.swap.max is swap
 * alone, so subtract (runc's ConvertMemorySwapToCgroupV2Value). -1 is
 * unlimited, 0 unset.
 */
export function memorySwapToV2(swap: number, memory: number): number {
  if (memory === -1 && swap === 0) return -1; // "unlimited memory" also lifts swap, as v1 does
  if (swap === -1 || swap === 0) return swap;
  if (memory === -1) return swap;
  if (memory === 0) throw invalidArgument('cgroup: memory.swap: unable to set swap limit without memory limit');
  if (memory < 0) throw invalidArgument(`cgroup: memory.limit: invalid memory value: ${memory}`);
  if (swap < memory) {
    throw invalidArgument(`cgroup: memory.swap: memory+swap limit (${swap}) should be >= memory limit (${memory})`);
  }
  return swap - memory;
}

/** v2 files ending .max/.low/.high: -1 is "max", 0 is "leave alone" (empty). */
export function v2LimitString(value: number): string {
  if (value === 0) return '';
  if (value === -1) return 'max';
  return String(value);
}

/** pids.max text for an OCI limit (runc ≥ 1.2): negative → max, 0 → 1 (as systemd's TasksMax=0 cannot be expressed). */
export function pidsMaxString(limit: number): string {
  if (limit > 0) return String(limit);
  if (limit === 0) return '1';
  return 'max';
}

/** Reject what JSON could carry but no cgroup file accepts (fractions, NaN, beyond 2^63). */
export function checkInteger(what: string, value: number | undefined | null, min = Number.MIN_SAFE_INTEGER): void {
  if (value === undefined || value === null) return;
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw invalidArgument(`cgroup: ${what}: ${JSON.stringify(value)} is not an integer`);
  }
  if (value < min) throw invalidArgument(`cgroup: ${what}: ${value} is below the minimum ${min}`);
}
