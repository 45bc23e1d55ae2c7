// cgroup v1 (legacy and hybrid hosts): one directory per mounted hierarchy.
// Controllers that share a mount (e.g. "cpu,cpuacct") share a directory.
// Named hierarchies (name=systemd, misc) and the hybrid host's controller-less
// cgroup2 are joined but never configured, as runc does; failures there are
// ignored.

import { existsSync, mkdirSync } from 'node:fs';
import { posix } from 'node:path';
import type { LinuxResources } from '../../oci/runtime-spec.js';
import { errnoCode, internal, invalidArgument, notFound, unavailable } from '../../util/errors.js';
import type { CgroupMount, HostLayout } from './detect.js';
import { readOptional, readRequired, removeCgroupDir, sleepMs, strerror, writeFile, removeCreatedDirs } from './files.js';
import { hybridDir, v1Dir } from './paths.js';
import { killAllProcesses, readAllPids } from './procs.js';
import * as st from './stats-v1.js';
import { emptyStats, pidsStats } from './stats.js';
import type { CgroupApplyResult, CgroupManager, CgroupStats, OomWatchPaths } from './types.js';
import {
  setV1Blkio, setV1Cpu, setV1Cpuset, setV1Devices, setV1Memory, setV1Network, setV1Pids,
} from './v1-resources.js';
import { setHugetlb, setRdma } from './shared-resources.js';
import { validateResources } from './validate.js';
import { controllerMissing, wantedV1 } from './wanted.js';

/** Hierarchies in runc's order (fs.go subsystems); the container joins them in this order. */
const V1_ORDER = [
  'cpuset', 'devices', 'memory', 'cpu', 'cpuacct', 'pids', 'blkio', 'hugetlb', 'net_cls', 'net_prio',
  'perf_event', 'freezer', 'rdma', 'name=systemd', 'misc',
];
/** Joined, never configured; a failure to create them is not fatal. */
const JOIN_ONLY = new Set(['name=systemd', 'misc', '']);

/** Directory per hierarchy for a container, in join order ('' = the hybrid cgroup2). */
export function resolveV1Dirs(layout: HostLayout, inner: string, self: Map<string, string>): Map<string, string> {
  if (!layout.v1.has('devices')) {
    // runc treats this as fatal too: no device isolation, no container.
    throw unavailable('cgroup: the v1 devices controller is not mounted; refusing to create a container cgroup without device isolation');
  }
  const dirs = new Map<string, string>();
  for (const name of V1_ORDER) {
    const mount = layout.v1.get(name);
    if (mount) dirs.set(name, v1Dir(mount, name, inner, self));
  }
  if (layout.mode === 'hybrid' && layout.unified) dirs.set('', hybridDir(layout.unified, inner, self));
  return dirs;
}

export class V1Manager implements CgroupManager {
  readonly version = 1 as const;

  constructor(
    private readonly layout: HostLayout,
    private readonly dirs: Map<string, string>,
  ) {}

  paths(): Record<string, string> {
    return Object.fromEntries(this.dirs);
  }

  exists(): boolean {
    const d = this.dirs.get('devices');
    return d !== undefined && existsSync(d);
  }

  /** Each directory once, in join order, with the first hierarchy name that uses it. */
  private uniqueDirs(): [string, string][] {
    const seen = new Set<string>();
    const out: [string, string][] = [];
    for (const [name, dir] of this.dirs) {
      if (seen.has(dir)) continue;
      seen.add(dir);
      out.push([name, dir]);
    }
    return out;
  }

  private mountOf(name: string): CgroupMount | undefined {
    return name === '' ? this.layout.unified : this.layout.v1.get(name);
  }

  private cpusetPrefix(): string {
    return this.layout.v1.get('cpuset')?.noprefix ? '' : 'cpuset.';
  }

  create(resources: LinuxResources = {}): CgroupApplyResult {
    this.check(resources);
    const created: string[] = [];
    try {
      for (const [name, dir] of this.uniqueDirs()) this.makeDir(name, dir, resources, created);
      return this.set(resources, resources.devices ?? []);
    } catch (err) {
      removeCreatedDirs(created); // leave nothing half-made behind
      throw err;
    }
  }

  update(resources: LinuxResources): CgroupApplyResult {
    if (!this.exists()) throw notFound(`cgroup: ${this.dirs.get('devices')} does not exist; cannot update it`);
    this.check(resources);
    return this.set(resources, resources.devices);
  }

  private check(r: LinuxResources): void {
    validateResources(r);
    if (Object.keys(r.unified ?? {}).length > 0) {
      throw invalidArgument('cgroup: linux.resources.unified cannot be used on cgroup v1 (this host does not use the unified hierarchy)');
    }
    for (const [ctrl, field] of wantedV1(r)) {
      if (!this.dirs.has(ctrl)) throw controllerMissing(ctrl, field, 'not mounted on this host');
    }
  }

  /** mkdir -p, remembering what was new; cpuset levels get cpus/mems before anything joins them. */
  private makeDir(name: string, dir: string, r: LinuxResources, created: string[]): void {
    const mount = this.mountOf(name);
    if (!mount) throw internal(`cgroup: no mount for the ${name} hierarchy`);
    const rel = posix.relative(mount.mountpoint, dir).split('/');
    let cur = mount.mountpoint;
    for (const part of rel) {
      const parent = cur;
      cur = posix.join(cur, part);
      try {
        mkdirSync(cur, 0o755);
        created.push(cur);
      } catch (err) {
        if (errnoCode(err) !== 'EEXIST') {
          if (JOIN_ONLY.has(name)) return;
          throw internal(`cgroup: cannot create ${cur}: ${strerror(err)}`, err);
        }
      }
      if (name === 'cpuset') this.cpusetInit(parent, cur, cur === dir ? r : {});
    }
  }

  /**
   * A cpuset with empty cpus or mems cannot take tasks: each new level copies
   * its parent's (runc's cpusetEnsureParent), unless the spec gives the leaf
   * its own, which set() writes next.
   */
  private cpusetInit(parent: string, dir: string, r: LinuxResources): void {
    const p = this.cpusetPrefix();
    const fromSpec = { cpus: r.cpu?.cpus, mems: r.cpu?.mems };
    for (const f of ['cpus', 'mems'] as const) {
      if (fromSpec[f]) continue;
      const cur = readOptional(dir, `${p}${f}`) ?? '';
      if (cur.trim() === '') writeFile(dir, `${p}${f}`, readRequired(parent, `${p}${f}`).trim());
    }
  }

  private set(r: LinuxResources, devices: LinuxResources['devices']): CgroupApplyResult {
    const notes: string[] = [];
    const d = (name: string): string | undefined => this.dirs.get(name);
    const cpuset = d('cpuset');
    if (cpuset) setV1Cpuset(cpuset, this.cpusetPrefix(), r);
    const dev = d('devices');
    if (dev && devices) setV1Devices(dev, devices);
    const memory = d('memory');
    if (memory) setV1Memory(memory, r, notes);
    const cpu = d('cpu');
    if (cpu) setV1Cpu(cpu, r);
    const pids = d('pids');
    if (pids) setV1Pids(pids, r);
    const blkio = d('blkio');
    if (blkio) setV1Blkio(blkio, r);
    const hugetlb = d('hugetlb');
    if (hugetlb) setHugetlb(hugetlb, r, '.limit_in_bytes');
    setV1Network(this.dirs, r);
    const rdma = d('rdma');
    if (rdma) setRdma(rdma, r);
    return { notes };
  }

  procsFiles(): string[] {
    return this.uniqueDirs()
      .filter(([name, dir]) => !JOIN_ONLY.has(name) || existsSync(dir))
      .map(([, dir]) => posix.join(dir, 'cgroup.procs'));
  }

  private freezerDir(what: string): string {
    const dir = this.dirs.get('freezer');
    if (!dir) throw unavailable(`cgroup: cannot ${what}: the freezer controller is not mounted on this host`);
    return dir;
  }

  /**
   * v1 freezing can stall in FREEZING while tasks fork; runc's recipe: retry
   * up to 1000 times, thawing and sleeping now and then, and thaw again if it
   * never settles (a half-frozen container is the worst outcome).
   */
  freeze(): void {
    const dir = this.freezerDir('freeze');
    for (let i = 0; i < 1000; i++) {
      if (i % 50 === 49) {
        writeFile(dir, 'freezer.state', 'THAWED');
        sleepMs(10);
      }
      writeFile(dir, 'freezer.state', 'FROZEN');
      const state = readRequired(dir, 'freezer.state').trim();
      if (state === 'FROZEN') return;
      if (state !== 'FREEZING') {
        writeFile(dir, 'freezer.state', 'THAWED');
        throw internal(`cgroup: unexpected freezer.state ${JSON.stringify(state)} while freezing ${dir}`);
      }
    }
    writeFile(dir, 'freezer.state', 'THAWED');
    throw internal(`cgroup: unable to freeze ${dir}: processes kept appearing`);
  }

  thaw(): void {
    writeFile(this.freezerDir('thaw'), 'freezer.state', 'THAWED');
  }

  /** Frozen by itself (freezer.self_freezing), not merely inside a frozen parent — runc's notion of "paused". */
  isFrozen(): boolean {
    const dir = this.dirs.get('freezer');
    if (!dir) return false;
    // FREEZING is passing; wait for a stable answer, but not forever.
    for (let i = 0; i < 5000; i++) {
      const state = readOptional(dir, 'freezer.state')?.trim();
      if (state === undefined || state === 'THAWED') return false;
      if (state === 'FREEZING') {
        sleepMs(1);
        continue;
      }
      const self = readOptional(dir, 'freezer.self_freezing');
      return self === undefined ? true : self.trim() === '1';
    }
    throw internal(`cgroup: ${dir} is stuck in FREEZING`);
  }

  pids(): number[] {
    const dir = this.dirs.get('devices') ?? this.uniqueDirs()[0]?.[1];
    return dir ? readAllPids(dir) : [];
  }

  stats(): CgroupStats {
    const s = emptyStats();
    const d = (name: string): string | undefined => {
      const dir = this.dirs.get(name);
      return dir && existsSync(dir) ? dir : undefined;
    };
    const cpuacct = d('cpuacct');
    if (cpuacct) st.v1CpuacctStats(cpuacct, s);
    const cpu = d('cpu');
    if (cpu) st.v1CpuStats(cpu, s);
    const cpuset = d('cpuset');
    if (cpuset) st.v1CpusetStats(cpuset, this.cpusetPrefix(), s);
    const memory = d('memory');
    if (memory) st.v1MemoryStats(memory, s);
    const pids = d('pids');
    if (pids) pidsStats(pids, s);
    const blkio = d('blkio');
    if (blkio) st.v1BlkioStats(blkio, s);
    const hugetlb = d('hugetlb');
    if (hugetlb) st.v1HugetlbStats(hugetlb, s);
    return s;
  }

  destroy(): void {
    const failures: string[] = [];
    for (const [, dir] of this.uniqueDirs()) {
      try {
        removeCgroupDir(dir);
      } catch (err) {
        failures.push((err as Error).message);
      }
    }
    if (failures.length > 0) throw internal(failures.join('; '));
  }

  killAll(signal: NodeJS.Signals | number = 'SIGKILL'): void {
    const frozen = this.dirs.has('freezer');
    killAllProcesses(() => this.pids(), signal, frozen ? () => this.freeze() : undefined, frozen ? () => this.thaw() : undefined);
  }

  oomWatchPaths(): OomWatchPaths {
    const memory = this.dirs.get('memory');
    return memory ? { v1MemoryDir: memory } : {};
  }
}
