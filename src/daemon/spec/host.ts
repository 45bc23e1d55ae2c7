// Reads the host facts the spec builder depends on, once, so that building is testable with a plain object.
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism, hostname, release } from 'node:os';

import { readHostFacts } from '../../sys/host.js';
import type { SpecHost } from './types.js';

// moby daemon/oci_linux.go withCommonOptions: added when the container gets its own network namespace.
const DOCKER_NET_SYSCTLS: Readonly<Record<string, string>> = {
  'net.ipv4.ping_group_range': '0 2147483647',
  'net.ipv4.ip_unprivileged_port_start': '0',
};

let cached: SpecHost | undefined;

export function readSpecHost(): SpecHost {
  if (cached) return cached;
  const facts = readHostFacts();
  const kernelRelease = release();
  cached = {
    arch: facts.arch,
    kernelRelease,
    lastCap: facts.lastCap,
    cgroupUnified: existsSync('/sys/fs/cgroup/cgroup.controllers'),
    hostname: hostname(),
    cpuCount: availableParallelism(),
    cpusetCpus: firstReadable(['/sys/fs/cgroup/cpuset/cpuset.cpus', '/sys/fs/cgroup/cpuset.cpus.effective', '/sys/devices/system/cpu/online']) ?? '0',
    cpusetMems: firstReadable(['/sys/fs/cgroup/cpuset/cpuset.mems', '/sys/fs/cgroup/cpuset.mems.effective', '/sys/devices/system/node/online']) ?? '0',
    recursiveReadOnly: kernelAtLeast(kernelRelease, 5, 12),
    defaultNetSysctls: Object.fromEntries(Object.entries(DOCKER_NET_SYSCTLS).filter(([key]) => sysctlExists(key))),
    thermalThrottlePaths: thermalThrottlePaths(),
  };
  return cached;
}

function firstReadable(paths: string[]): string | undefined {
  for (const path of paths) {
    try {
      const text = readFileSync(path, 'utf8').trim();
      if (text !== '') return text;
    } catch {
      // try the next source
    }
  }
  return undefined;
}

function sysctlExists(key: string): boolean {
  return existsSync(`/proc/sys/${key.replace(/\./g, '/')}`);
}

export function kernelAtLeast(releaseText: string, major: number, minor: number): boolean {
  const m = /^(\d+)\.(\d+)/.exec(releaseText);
  if (!m) return false;
  const [k, j] = [Number(m[1]), Number(m[2])];
  return k > major || (k === major && j >= minor);
}

// moby oci/defaults.go (v28.5.2) masks each possible CPU's thermal_throttle directory that exists.
function thermalThrottlePaths(): string[] {
  const possible = firstReadable(['/sys/devices/system/cpu/possible']) ?? '';
  return expandCpuList(possible)
    .map((cpu) => `/sys/devices/system/cpu/cpu${cpu}/thermal_throttle`)
    .filter((path) => existsSync(path));
}

/** "0-3,6" → [0,1,2,3,6]; bounded, since the text comes from the kernel. */
function expandCpuList(list: string): number[] {
  const out: number[] = [];
  for (const part of list.split(',').filter((p) => p !== '')) {
    const [lo, hi = lo] = part.split('-').map(Number);
    if (lo === undefined || hi === undefined || !Number.isInteger(lo) || !Number.isInteger(hi)) continue;
    for (let cpu = lo; cpu <= hi && out.length < 8192; cpu++) out.push(cpu);
  }
  return out;
}
