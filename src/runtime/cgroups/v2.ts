// cgroup v2 (unified hierarchy): one directory. Controllers must be enabled
// in every ancestor's cgroup.subtree_control before the leaf gets their
// files; device rules are an eBPF program the shim attaches (Node cannot call
// bpf()), so create/update hand it back instead of applying it.

import { existsSync, mkdirSync } from 'node:fs';
import { posix } from 'node:path';
import type { LinuxResources } from '../../oci/runtime-spec.js';
import { errnoCode, internal, invalidArgument, notFound, unavailable } from '../../util/errors.js';
import { memorySwapToV2 } from './convert.js';
import type { CgroupMount } from './detect.js';
import { deviceFilterProgram } from './devices-bpf.js';
import { readOptional, removeCgroupDir, sleepMs, strerror, tryWriteFile, writeFile, removeCreatedDirs } from './files.js';
import { killAllProcesses, readAllPids } from './procs.js';
import * as st from './stats-v2.js';
import { emptyStats } from './stats.js';
import type { CgroupApplyResult, CgroupManager, CgroupStats, OomWatchPaths } from './types.js';
import {
  noteV2Network, setV2Cpu, setV2Cpuset, setV2Io, setV2Memory, setV2Pids, setV2Unified,
} from './v2-resources.js';
import { setHugetlb, setRdma } from './shared-resources.js';
import { validateResources } from './validate.js';
import { controllerMissing, wantedV2 } from './wanted.js';

/** Controllers that cannot live in a threaded subtree (cgroups(7): cpu, perf_event and pids are threaded). */
const DOMAIN_CONTROLLERS = new Set(['memory', 'io', 'hugetlb', 'cpuset', 'rdma', 'misc']);

const words = (text: string | undefined): Set<string> => new Set((text ?? '').split(/\s+/).filter(Boolean));

export class V2Manager implements CgroupManager {
  readonly version = 2 as const;

  constructor(
    private readonly mount: CgroupMount,
    private readonly dir: string,
  ) {}

  paths(): Record<string, string> {
    return { '': this.dir };
  }

  exists(): boolean {
    return existsSync(this.dir);
  }

  create(resources: LinuxResources = {}): CgroupApplyResult {
    this.check(resources);
    const created: string[] = [];
    try {
      this.makePath(resources, created);
      this.checkControllers(resources);
      return this.set(resources, resources.devices ?? []);
    } catch (err) {
      removeCreatedDirs(created); // leave nothing half-made behind
      throw err;
    }
  }

  update(resources: LinuxResources): CgroupApplyResult {
    if (!this.exists()) throw notFound(`cgroup: ${this.dir} does not exist; cannot update it`);
    this.check(resources);
    this.checkControllers(resources);
    return this.set(resources, resources.devices);
  }

  private check(r: LinuxResources): void {
    validateResources(r);
    if (r.memory) memorySwapToV2(r.memory.swap ?? 0, r.memory.limit ?? 0); // throws on impossible combinations
  }

  /**
   * mkdir each level below the mount, enabling every controller the root
   * offers in each ancestor's subtree_control (runc's CreateCgroupPath). A
   * level with processes in it ("domain invalid") can only become threaded,
   * which domain controllers cannot use.
   */
  private makePath(r: LinuxResources, created: string[]): void {
    const available = [...words(readOptional(this.mount.mountpoint, 'cgroup.controllers'))];
    const enable = available.map((c) => `+${c}`).join(' ');
    const parts = posix.relative(this.mount.mountpoint, this.dir).split('/');
    const domainWanted = [...wantedV2(r).keys()].some((c) => DOMAIN_CONTROLLERS.has(c));
    let cur = this.mount.mountpoint;
    for (let i = 0; i <= parts.length; i++) {
      if (i > 0) {
        cur = posix.join(cur, parts[i - 1] as string);
        try {
          mkdirSync(cur, 0o755);
          created.push(cur);
        } catch (err) {
          if (errnoCode(err) !== 'EEXIST') throw internal(`cgroup: cannot create ${cur}: ${strerror(err)}`, err);
        }
        this.checkType(cur, domainWanted);
      }
      if (i < parts.length && enable !== '') this.enableControllers(cur, enable);
    }
  }

  private checkType(dir: string, domainWanted: boolean): void {
    const type = readOptional(dir, 'cgroup.type')?.trim();
    if (type === 'domain invalid') {
      if (domainWanted) throw invalidArgument(`cgroup: cannot use ${dir} with domain controllers: it is in an invalid state (processes in an inner cgroup)`);
      writeFile(dir, 'cgroup.type', 'threaded');
    } else if ((type === 'threaded' || type === 'domain threaded') && domainWanted) {
      throw invalidArgument(`cgroup: cannot use ${dir} with domain controllers: it is in ${type} mode`);
    }
  }

  /** All at once, else one by one: some may be refused (delegation), which the availability check then reports. */
  private enableControllers(dir: string, enable: string): void {
    if (tryWriteFile(dir, 'cgroup.subtree_control', enable) === undefined) return;
    for (const c of enable.split(' ')) tryWriteFile(dir, 'cgroup.subtree_control', c);
  }

  /** Every requested limit needs its controller in the leaf's cgroup.controllers. */
  private checkControllers(r: LinuxResources): void {
    const text = readOptional(this.dir, 'cgroup.controllers');
    if (text === undefined) return; // the writes will say what is missing
    const have = words(text);
    for (const [ctrl, field] of wantedV2(r)) {
      if (!have.has(ctrl)) throw controllerMissing(ctrl, field, `not available in ${this.dir} (cgroup.controllers: ${[...have].join(' ') || 'none'})`);
    }
  }

  private set(r: LinuxResources, devices: LinuxResources['devices']): CgroupApplyResult {
    const notes: string[] = [];
    setV2Pids(this.dir, r);
    setV2Memory(this.dir, r, notes);
    setV2Io(this.dir, r, notes);
    setV2Cpu(this.dir, r, notes);
    setV2Cpuset(this.dir, r);
    setHugetlb(this.dir, r, '.max');
    setRdma(this.dir, r);
    noteV2Network(r, notes);
    const controllers = readOptional(this.dir, 'cgroup.controllers');
    setV2Unified(this.dir, r, controllers === undefined ? undefined : words(controllers));
    const result: CgroupApplyResult = { notes };
    if (devices) result.deviceProgram = { cgroupDir: this.dir, insns: deviceFilterProgram(devices) };
    return result;
  }

  procsFiles(): string[] {
    return [posix.join(this.dir, 'cgroup.procs')];
  }

  freeze(): void {
    this.setFreeze('1');
    // cgroup.freeze is a request; cgroup.events says when every task has stopped.
    for (let i = 0; i < 1000; i++) {
      const events = readOptional(this.dir, 'cgroup.events');
      if (events === undefined) throw unavailable(`cgroup: cannot freeze ${this.dir}: no cgroup.events (kernel older than 5.2?)`);
      if (/^frozen 1$/m.test(events)) return;
      sleepMs(10);
    }
    this.setFreeze('0');
    throw internal(`cgroup: timed out after 10s waiting for ${this.dir} to freeze`);
  }

  thaw(): void {
    this.setFreeze('0');
  }

  private setFreeze(v: '0' | '1'): void {
    if (!existsSync(posix.join(this.dir, 'cgroup.freeze'))) {
      if (v === '0') return; // nothing can be frozen without the file
      throw unavailable(`cgroup: cannot freeze ${this.dir}: no cgroup.freeze (the v2 freezer needs Linux 5.2)`);
    }
    writeFile(this.dir, 'cgroup.freeze', v);
  }

  isFrozen(): boolean {
    return readOptional(this.dir, 'cgroup.freeze')?.trim() === '1';
  }

  pids(): number[] {
    return readAllPids(this.dir);
  }

  stats(): CgroupStats {
    const s = emptyStats();
    if (!existsSync(this.dir)) return s;
    st.v2PidsStats(this.dir, s);
    st.v2MemoryStats(this.dir, s);
    st.v2IoStats(this.dir, s);
    st.v2CpuStats(this.dir, s);
    st.v2HugetlbStats(this.dir, s);
    return s;
  }

  destroy(): void {
    removeCgroupDir(this.dir);
  }

  /** SIGKILL goes through cgroup.kill where the kernel has it (5.14): no race with forks at all. */
  killAll(signal: NodeJS.Signals | number = 'SIGKILL'): void {
    if ((signal === 'SIGKILL' || signal === 9) && existsSync(posix.join(this.dir, 'cgroup.kill'))) {
      writeFile(this.dir, 'cgroup.kill', '1');
      return;
    }
    const canFreeze = existsSync(posix.join(this.dir, 'cgroup.freeze'));
    killAllProcesses(() => this.pids(), signal, canFreeze ? () => this.freeze() : undefined, canFreeze ? () => this.thaw() : undefined);
  }

  oomWatchPaths(): OomWatchPaths {
    return { v2Dir: this.dir };
  }

}
