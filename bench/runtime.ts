// The runtime benchmark: berth-runtime against runc (and crun when the host lets
// it run) on one busybox bundle, in one run, with reference lines that show what
// the numbers are made of. Method and results: docs/benchmarks.md.
//
//   node dist/bench/runtime.js [--iterations N] [--warmup N] [--no-strace] [--no-rss]
//                              [--timeout S] [--budget S] [--json FILE]
//
// Sections:
//   1. `run` end to end (spawn → exit) for each runtime, with `node -e 0`,
//      `berth-runtime --version` and unshare(1) as references.
//   2. Spawn → the container's execve, measured by bench/spawn-timer.c and the
//      bench/stamp.c payload (no tracing), plus an strace cross-check.
//   3. Idle resident memory of berth-shim (monitor and wait mode), of the
//      processes that stay behind a foreground `run`, and of conmon if podman is here.
//
// Everything it creates lives under one temp dir and one container-id prefix; it
// deletes every container (`<runtime> --root R delete --force id`), removes
// leftover cgroups and mounts and the temp dir on success, failure, Ctrl-C or
// SIGTERM. Timings are reported, never asserted.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, rmdirSync,
  statSync, writeFileSync,
} from 'node:fs';
import { cpus, loadavg, release, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gitState, installSignalHandlers, isAborted, pidAlive, stats } from './common.js';

// ---------------------------------------------------------------- options

interface Options {
  iterations: number;
  warmup: number;
  straceIterations: number;
  rss: boolean;
  timeoutS: number;
  budgetS: number;
  json?: string;
}

const USAGE = `usage: node dist/bench/runtime.js [options]
  --iterations N          timed runs per line (default 30)
  --warmup N              untimed runs before them (default 2)
  --strace-iterations N   runs for the strace cross-check (default 5; 0 or --no-strace: skip)
  --no-rss                skip the memory section
  --timeout S             kill any single command after S seconds (default 30)
  --budget S              stop starting new runs after S seconds in all (default 1200)
  --json FILE             also write the raw samples and results as JSON
`;

function parseOptions(argv: string[]): Options {
  const o: Options = { iterations: 30, warmup: 2, straceIterations: 5, rss: true, timeoutS: 30, budgetS: 1200 };
  const num = (flag: string, v: string | undefined, min: number): number => {
    const n = Number(v);
    if (v === undefined || !Number.isInteger(n) || n < min) {
      process.stderr.write(`bench: ${flag} needs an integer ≥ ${min}\n${USAGE}`);
      process.exit(2);
    }
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i]!.split('=', 2) as [string, string | undefined];
    const value = (): string | undefined => inline ?? argv[++i];
    switch (flag) {
      case '--iterations': case '-n': o.iterations = num(flag, value(), 1); break;
      case '--warmup': o.warmup = num(flag, value(), 0); break;
      case '--strace-iterations': o.straceIterations = num(flag, value(), 0); break;
      case '--no-strace': o.straceIterations = 0; break;
      case '--no-rss': o.rss = false; break;
      case '--timeout': o.timeoutS = num(flag, value(), 1); break;
      case '--budget': o.budgetS = num(flag, value(), 10); break;
      case '--json': o.json = value(); break;
      case '--help': case '-h': process.stdout.write(USAGE); process.exit(0); break;
      default:
        process.stderr.write(`bench: unknown argument ${argv[i]}\n${USAGE}`);
        process.exit(2);
    }
  }
  return o;
}

// ---------------------------------------------------------------- paths

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BERTH_RUNTIME = join(REPO, 'bin', 'berth-runtime.js');
const BERTH_SHIM = process.env.BERTH_SHIM ?? join(REPO, 'build', 'native', 'berth-shim');
const BENCH_SRC = join(REPO, 'bench');
const NODE = process.execPath;
const ID_PREFIX = `bb${process.pid}`;

function which(name: string, extra: string[] = []): string | undefined {
  const dirs = [...extra, ...(process.env.PATH ?? '').split(':'), '/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];
  for (const d of dirs) {
    const p = join(d, name);
    try {
      if (statSync(p).isFile()) return p;
    } catch {
      // not here
    }
  }
  return undefined;
}

// ---------------------------------------------------------------- child processes and cleanup

const live = new Set<ChildProcess>();
let tmp = '';
/** Runtime roots we made: anything inside them is ours to delete. */
const roots: { name: string; bin: string[]; root: string }[] = [];
const notes: string[] = [];

class Aborted extends Error {}

interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/** Run a command to completion (bounded by timeoutMs), capturing its output. */
function run(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs: number; stdin?: 'ignore' }): Promise<Result> {
  if (isAborted()) return Promise.reject(new Aborted('aborted'));
  return new Promise((resolvePromise, reject) => {
    // detached: a Ctrl-C reaches only the benchmark, which then stops and cleans up in order.
    const child = spawn(cmd, args, { env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    live.add(child);
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    let settled = false;
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        child.kill('SIGKILL');
      } catch {
        // gone
      }
    }, opts.timeoutMs);
    const finish = (code: number | null, signal: NodeJS.Signals | null): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      live.delete(child);
      resolvePromise({ code, signal, stdout, stderr, timedOut });
    };
    child.on('error', (err) => {
      clearTimeout(timer);
      live.delete(child);
      if (!settled) {
        settled = true;
        reject(err);
      }
    });
    child.on('close', finish);
    // Something the command left running may hold its stdout/stderr: don't wait for it.
    child.on('exit', (code, signal) => {
      setTimeout(() => {
        child.stdout!.destroy();
        child.stderr!.destroy();
        finish(code, signal);
      }, 2000).unref();
    });
  });
}

/** Start a long-running command (memory section); the caller ends it. */
function startLong(cmd: string, args: string[], env?: NodeJS.ProcessEnv): ChildProcess {
  if (isAborted()) throw new Aborted('aborted');
  const child = spawn(cmd, args, { env: env ?? process.env, stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  live.add(child);
  child.on('exit', () => live.delete(child));
  child.on('error', () => live.delete(child));
  return child;
}

function waitExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((r) => {
    const t = setTimeout(() => r(false), ms);
    child.once('exit', () => {
      clearTimeout(t);
      r(true);
    });
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Remove a container if it is still there (its state dir in our private root). */
async function deleteIfPresent(rt: { bin: string[]; root: string }, id: string): Promise<boolean> {
  if (!existsSync(join(rt.root, id))) return false;
  const [cmd, ...pre] = rt.bin;
  // Not through run(): cleanup must work after an abort too.
  spawnSync(cmd!, [...pre, '--root', rt.root, 'delete', '--force', id], { stdio: 'ignore', timeout: 20000 });
  return true;
}

let cleanupPromise: Promise<void> | undefined;

function cleanup(): Promise<void> {
  cleanupPromise ??= (async () => {
    for (const child of live) {
      try {
        child.kill('SIGKILL');
      } catch {
        // gone
      }
    }
    // Every container in our roots is ours: delete them all.
    for (const rt of roots) {
      let ids: string[] = [];
      try {
        ids = readdirSync(rt.root);
      } catch {
        continue;
      }
      for (const id of ids) {
        if (await deleteIfPresent(rt, id)) notes.push(`cleanup: deleted leftover ${rt.name} container ${id}`);
      }
    }
    podmanCleanup?.();
    for (const pid of extraPids) if (pidAlive(pid)) killPid(pid);
    // Anything still running with our temp dir on its command line is a runtime we started.
    if (tmp) {
      const stray = processesMentioning(tmp);
      for (const pid of stray) killPid(pid);
      if (stray.length) notes.push(`cleanup: killed ${stray.length} stray process(es) still using ${tmp}`);
    }
    const cg = sweepCgroups();
    if (cg.length) notes.push(`cleanup: removed ${cg.length} leftover cgroup dir(s): ${cg.slice(0, 4).join(', ')}${cg.length > 4 ? ' …' : ''}`);
    if (tmp) {
      const mounts = sweepMounts(tmp);
      if (mounts.length) notes.push(`cleanup: unmounted ${mounts.length} leftover mount(s) under ${tmp}`);
      try {
        rmSync(tmp, { recursive: true, force: true, maxRetries: 3 });
      } catch (err) {
        notes.push(`cleanup: could not remove ${tmp}: ${(err as Error).message}`);
      }
    }
  })();
  return cleanupPromise;
}

/** Processes we started outside run()/startLong() bookkeeping (detached monitors). */
const extraPids = new Set<number>();
let podmanCleanup: (() => void) | undefined;

/** Processes whose command line names a path of ours (started by us, directly or not). */
function processesMentioning(path: string): number[] {
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${e}/cmdline`, 'utf8').includes(path)) out.push(Number(e));
    } catch {
      // gone
    }
  }
  return out;
}

function killPid(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // gone
  }
}

function cgroupMounts(): string[] {
  const out: string[] = [];
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const [pre, post] = line.split(' - ');
    if (!pre || !post) continue;
    const fstype = post.split(' ')[0];
    if (fstype === 'cgroup' || fstype === 'cgroup2') out.push(unescapeMount(pre.split(' ')[4]!));
  }
  return out;
}

function unescapeMount(p: string): string {
  return p.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** rmdir every cgroup directory named with our container-id prefix (depth ≤ 5). */
function sweepCgroups(): string[] {
  const removed: string[] = [];
  const walk = (dir: string, depth: number): void => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (!e.isDirectory()) continue;
      const p = join(dir, e.name);
      if (e.name.startsWith(ID_PREFIX)) {
        removeCgroupTree(p, removed);
      } else if (depth < 5) walk(p, depth + 1);
    }
  };
  for (const m of cgroupMounts()) walk(m, 0);
  return removed;
}

function removeCgroupTree(dir: string, removed: string[]): void {
  try {
    for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) removeCgroupTree(join(dir, e.name), removed);
    // Processes still inside (a runtime failed to kill them) are ours: they run our bundle.
    try {
      for (const pid of readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)) killPid(Number(pid));
    } catch {
      // no procs file
    }
    for (let i = 0; i < 20; i++) {
      try {
        rmdirSync(dir);
        removed.push(dir);
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EBUSY') return;
        spawnSync('sleep', ['0.05']);
      }
    }
  } catch {
    // already gone
  }
}

function sweepMounts(under: string): string[] {
  const points = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => unescapeMount(l.split(' ')[4] ?? ''))
    .filter((p) => p === under || p.startsWith(under + '/'))
    .sort((a, b) => b.length - a.length);
  for (const p of points) spawnSync('umount', ['-l', p], { stdio: 'ignore', timeout: 10000 });
  return points;
}

function printNotes(): void {
  if (notes.length) process.stdout.write('\nnotes:\n' + notes.map((n) => `  - ${n}`).join('\n') + '\n');
  notes.length = 0;
}

// ---------------------------------------------------------------- statistics

function fmt(ms: number | undefined, digits = 1): string {
  if (ms === undefined || Number.isNaN(ms)) return '-';
  return ms >= 100 ? ms.toFixed(0) : ms.toFixed(digits);
}

function ratio(a: number | undefined, b: number | undefined): string {
  if (a === undefined || b === undefined || b === 0) return '-';
  return `${(a / b).toFixed(2)}x`;
}

// ---------------------------------------------------------------- timing helper (bench/spawn-timer.c)

interface Timed {
  t0: bigint;
  end: bigint;
  status: number;
  timedOut: boolean;
  stamps: Record<string, bigint>;
  stderr: string;
}

let timerBin: string | undefined;
let stampBin: string | undefined;

function buildHelpers(): string[] {
  const problems: string[] = [];
  const cc = process.env.CC ?? which('cc') ?? which('gcc');
  if (!cc) return ['no C compiler (cc): spawn→execve timing is skipped and `run` is timed from Node'];
  const out = join(tmp, 'helpers');
  mkdirSync(out, { recursive: true });
  const build = (name: string, args: string[]): string | undefined => {
    const bin = join(out, name);
    const r = spawnSync(cc, [...args, '-o', bin, join(BENCH_SRC, `${name}.c`)], { encoding: 'utf8', timeout: 60000 });
    if (r.status !== 0) {
      problems.push(`building bench/${name}.c failed: ${(r.stderr || r.error?.message || '').trim().split('\n')[0]}`);
      return undefined;
    }
    return bin;
  };
  timerBin = build('spawn-timer', ['-O2', '-std=gnu11', '-Wall', '-D_GNU_SOURCE']);
  stampBin = process.arch === 'x64'
    ? build('stamp', ['-O2', '-static', '-nostdlib', '-fno-stack-protector', '-fno-builtin', '-fno-asynchronous-unwind-tables'])
    : build('stamp', ['-O2', '-static']);
  return problems;
}

/** Time a command with spawn-timer (CLOCK_MONOTONIC around fork/exec…wait), or from Node without it. */
async function timeCmd(argv: string[], env: NodeJS.ProcessEnv | undefined, o: Options): Promise<Timed> {
  if (!timerBin) {
    const t0 = process.hrtime.bigint();
    const r = await run(argv[0]!, argv.slice(1), { env, timeoutMs: o.timeoutS * 1000 });
    const end = process.hrtime.bigint();
    return { t0, end, status: r.code ?? 128, timedOut: r.timedOut, stamps: {}, stderr: r.stderr };
  }
  const r = await run(timerBin, ['exec', '--timeout', String(o.timeoutS), '--', ...argv], { env, timeoutMs: (o.timeoutS + 10) * 1000 });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  const field = (name: string): bigint | undefined => {
    const m = new RegExp(`"${name}":(\\d+)`).exec(line);
    return m ? BigInt(m[1]!) : undefined;
  };
  const t0 = field('t0');
  const end = field('end');
  if (t0 === undefined || end === undefined) {
    // Recorded as a failed sample, not fatal: one bad run must not end the benchmark.
    return { t0: 0n, end: 0n, status: 255, timedOut: r.timedOut, stamps: {}, stderr: `spawn-timer gave no result: ${r.stderr.trim()}` };
  }
  const stamps: Record<string, bigint> = {};
  const body = /"stamps":\{([^}]*)\}/.exec(line)?.[1] ?? '';
  for (const m of body.matchAll(/"([A-Z_]+)":(\d+)/g)) stamps[m[1]!] = BigInt(m[2]!);
  const status = Number(/"status":(-?\d+)/.exec(line)?.[1] ?? 255);
  return { t0, end, status, timedOut: /"timedOut":true/.test(line), stamps, stderr: r.stderr };
}

const ms = (a: bigint | undefined, b: bigint | undefined): number | undefined =>
  a === undefined || b === undefined ? undefined : Number(b - a) / 1e6;

// ---------------------------------------------------------------- the bundle

interface Bundles {
  rootfs: string;
  true: string;
  stamp: string;
  sleep: string;
  /** runc spec as generated, only terminal/args/root changed (for the ambient probe). */
  pristine: string;
}

function makeBundles(runc: string): Bundles {
  const rootfs = join(tmp, 'rootfs');
  for (const d of ['bin', 'sbin', 'usr/bin', 'usr/sbin', 'proc', 'dev', 'sys', 'tmp', 'etc']) mkdirSync(join(rootfs, d), { recursive: true });
  const busybox = which('busybox', ['/bin']);
  if (!busybox) throw new Error('busybox not found (apt-get install busybox-static)');
  copyFileSync(busybox, join(rootfs, 'bin', 'busybox'));
  chmodSync(join(rootfs, 'bin', 'busybox'), 0o755);
  // In a chroot, /proc/self/exe is /bin/busybox, so the links point inside the rootfs.
  const inst = spawnSync('chroot', [rootfs, '/bin/busybox', '--install', '-s'], { encoding: 'utf8', timeout: 30000 });
  if (inst.status !== 0) throw new Error(`busybox --install -s failed: ${inst.stderr}`);
  if (stampBin) copyFileSync(stampBin, join(rootfs, 'stamp'));
  const make = (name: string, args: string[], dropAmbient: boolean): string => {
    const dir = join(tmp, `bundle-${name}`);
    mkdirSync(dir);
    const r = spawnSync(runc, ['spec', '--bundle', dir], { encoding: 'utf8', timeout: 10000 });
    if (r.status !== 0) throw new Error(`runc spec failed: ${r.stderr}`);
    const spec = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as {
      root: { path: string }; process: { terminal?: boolean; args: string[]; capabilities?: Record<string, string[]> };
    };
    spec.root.path = rootfs;
    spec.process.terminal = false;
    spec.process.args = args;
    if (dropAmbient && spec.process.capabilities) delete spec.process.capabilities.ambient;
    writeFileSync(join(dir, 'config.json'), JSON.stringify(spec, null, 2));
    return dir;
  };
  return {
    rootfs,
    true: make('true', ['/bin/true'], true),
    stamp: make('stamp', ['/stamp'], true),
    sleep: make('sleep', ['/bin/sleep', '60'], true),
    pristine: make('pristine', ['/bin/true'], false),
  };
}

// ---------------------------------------------------------------- runtimes

interface Runtime {
  name: string;
  bin: string[];
  root: string;
  works: boolean;
  refused?: string;
}

let idCounter = 0;
function newId(tag: string): string {
  return `${ID_PREFIX}-${tag}-${++idCounter}`;
}

function makeRuntime(name: string, bin: string[]): Runtime {
  const root = join(tmp, `root-${name}`);
  mkdirSync(root, { recursive: true });
  const rt = { name, bin, root, works: false };
  roots.push(rt);
  return rt;
}

function runArgs(rt: Runtime, bundle: string, id: string, extra: string[] = []): string[] {
  return [...rt.bin, '--root', rt.root, 'run', ...extra, '--bundle', bundle, id];
}

function firstLine(text: string): string {
  const lines = text.trim().split('\n').map((l) => l.trim()).filter(Boolean);
  const line = lines.find((l) => /error|fail|not supported|denied|refus/i.test(l)) ?? lines[0] ?? '';
  return line.replace(/^time="[^"]*"\s+level=\w+\s+msg=/, '').slice(0, 200);
}

async function probe(rt: Runtime, bundle: string, o: Options): Promise<void> {
  const id = newId(`${rt.name}-probe`);
  const t = await timeCmd(runArgs(rt, bundle, id), undefined, o);
  await deleteIfPresent(rt, id);
  if (t.status === 0 && !t.timedOut) rt.works = true;
  else rt.refused = t.timedOut ? 'timed out' : firstLine(t.stderr) || `exit status ${t.status}`;
}

// ---------------------------------------------------------------- section 1: run end to end

interface Line {
  label: string;
  samples: number[];
  failures: number;
  firstError?: string;
  note?: string;
}

function line(label: string, note?: string): Line {
  return { label, samples: [], failures: 0, note };
}

/** Set during warm-up iterations: nothing is recorded. */
let warming = false;

function record(l: Line, value: number | undefined, t: Timed, anyStatus = false): void {
  if (warming) return;
  if ((t.status === 0 || anyStatus) && !t.timedOut && value !== undefined) l.samples.push(value);
  else {
    l.failures++;
    l.firstError ??= t.timedOut ? 'timed out' : firstLine(t.stderr) || `exit status ${t.status}`;
  }
}

const started = Date.now();
function overBudget(o: Options): boolean {
  return Date.now() - started > o.budgetS * 1000;
}

interface Step {
  go: () => Promise<void>;
}

/** Run each step once per iteration, rotating their order so none always goes first. */
async function interleave(steps: Step[], iterations: number, warmup: number, o: Options, label: string): Promise<number> {
  let done = 0;
  for (let i = 0; i < warmup + iterations; i++) {
    if (overBudget(o)) {
      notes.push(`${label}: stopped after ${done} of ${iterations} iterations (time budget ${o.budgetS}s)`);
      break;
    }
    const timed = i >= warmup;
    warming = !timed;
    try {
      for (let k = 0; k < steps.length; k++) await steps[(i + k) % steps.length]!.go();
    } finally {
      warming = false;
    }
    if (timed) done++;
    process.stderr.write(`\r${label}: ${timed ? `${done}/${iterations}` : `warm-up ${i + 1}/${warmup}`}   `);
  }
  process.stderr.write('\n');
  return done;
}

async function timedRun(rt: Runtime, bundle: string, l: Line, o: Options, extra: string[] = [], env?: NodeJS.ProcessEnv): Promise<Timed> {
  const id = newId(rt.name);
  const t = await timeCmd(runArgs(rt, bundle, id, extra), env, o);
  if (await deleteIfPresent(rt, id)) notes.push(`${rt.name} run left container ${id} behind (deleted)`);
  record(l, ms(t.t0, t.end), t);
  return t;
}

// ---------------------------------------------------------------- section 3: memory

interface Mem {
  label: string;
  pid?: number;
  rssKiB?: number;
  hwmKiB?: number;
  pssKiB?: number;
  privateKiB?: number;
  error?: string;
  note?: string;
}

function readMem(label: string, pid: number, note?: string): Mem {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (text: string, key: string): number | undefined => {
      const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text);
      return m ? Number(m[1]) : undefined;
    };
    let pss: number | undefined;
    let priv: number | undefined;
    try {
      const roll = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
      pss = kib(roll, 'Pss');
      priv = (kib(roll, 'Private_Clean') ?? 0) + (kib(roll, 'Private_Dirty') ?? 0);
    } catch {
      // no smaps_rollup
    }
    return { label, pid, rssKiB: kib(status, 'VmRSS'), hwmKiB: kib(status, 'VmHWM'), pssKiB: pss, privateKiB: priv, note };
  } catch (err) {
    return { label, pid, error: (err as Error).message };
  }
}

function childrenOf(pid: number): number[] {
  const out: number[] = [];
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        out.push(...readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number));
      } catch {
        // thread gone
      }
    }
  } catch {
    // process gone
  }
  return out;
}

function exeOf(pid: number): string {
  try {
    return readlinkSync(`/proc/${pid}/exe`);
  } catch {
    return '';
  }
}

async function until<T>(ms: number, f: () => T | undefined): Promise<T | undefined> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v !== undefined) return v;
    if (Date.now() > deadline || isAborted()) return undefined;
    await sleep(20);
  }
}

const SETTLE_MS = 500;

async function memMonitor(berth: Runtime, b: Bundles, o: Options): Promise<Mem> {
  const label = 'berth-shim, monitor mode (run -d --monitor)';
  const id = newId('mon');
  let pid: number | undefined;
  try {
    const r = await run(NODE, [BERTH_RUNTIME, '--root', berth.root, 'run', '-d', '--monitor', '--bundle', b.sleep, id], { timeoutMs: o.timeoutS * 1000 });
    if (r.code !== 0) return { label, error: firstLine(r.stderr) || `exit status ${r.code}` };
    pid = await until(5000, () => {
      try {
        const n = Number(readFileSync(join(berth.root, id, 'shim.pid'), 'utf8').trim());
        return n > 0 ? n : undefined;
      } catch {
        return undefined;
      }
    });
    if (!pid) return { label, error: 'no shim.pid in the container state dir' };
    extraPids.add(pid);
    await sleep(SETTLE_MS);
    return readMem(label, pid, exeOf(pid));
  } finally {
    await deleteIfPresent(berth, id);
    const monitor = pid;
    if (monitor && !(await until(5000, () => (pidAlive(monitor) ? undefined : true)))) {
      notes.push(`berth-shim monitor (pid ${monitor}) was still alive 5 s after delete --force; killed it`);
      killPid(monitor);
    }
  }
}

/** A foreground `run` of sleep: the parent(s) that stay resident while it runs. */
async function memForeground(rt: Runtime, b: Bundles, o: Options): Promise<Mem[]> {
  const id = newId(`${rt.name}-fg`);
  const child = startLong(rt.bin[0]!, [...rt.bin.slice(1), '--root', rt.root, 'run', '--bundle', b.sleep, id]);
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const pid = child.pid!;
  const out: Mem[] = [];
  try {
    // Wait for the container: its state dir and a sleeping process under the runtime.
    const shim = await until(o.timeoutS * 1000, () => {
      if (child.exitCode !== null) return -1;
      const kids = childrenOf(pid);
      if (rt.name === 'berth') {
        const s = kids.find((k) => /berth-shim/.test(exeOf(k)));
        return s !== undefined && childrenOf(s).length ? s : undefined;
      }
      return kids.length && existsSync(join(rt.root, id)) ? 0 : undefined;
    });
    if (shim === undefined || shim < 0) {
      out.push({ label: `${rt.name} run (foreground)`, error: firstLine(stderr) || 'container did not start' });
      return out;
    }
    await sleep(SETTLE_MS);
    if (rt.name === 'berth') {
      out.push(readMem('berth-shim, wait mode (under foreground run)', shim, exeOf(shim)));
      out.push(readMem('berth-runtime run: node, parent of the shim', pid));
    } else {
      out.push(readMem(`${rt.name} run: ${rt.name} itself (foreground parent)`, pid));
    }
    return out;
  } finally {
    await deleteIfPresent(rt, id);
    if (!(await waitExit(child, 10000))) {
      child.kill('SIGKILL');
      notes.push(`${rt.name} run (foreground) did not exit 10 s after delete --force; killed it`);
    }
    await deleteIfPresent(rt, id);
  }
}

async function memConmon(b: Bundles, runc: string): Promise<Mem> {
  const label = 'conmon (podman 4 + runc), for comparison';
  const podman = which('podman');
  if (!podman || !which('conmon', ['/usr/libexec/podman', '/usr/bin'])) return { label, error: 'podman/conmon not installed' };
  const dir = join(tmp, 'podman');
  mkdirSync(join(dir, 'tmp'), { recursive: true });
  // File locks: the host's shm lock segment may belong to another podman with other settings.
  writeFileSync(join(dir, 'containers.conf'), '[engine]\nlock_type = "file"\nevents_logger = "none"\ncgroup_manager = "cgroupfs"\n');
  const env = { ...process.env, CONTAINERS_CONF: join(dir, 'containers.conf') };
  // vfs: the overlay driver would bind-mount its storage dir onto itself.
  const base = ['--root', join(dir, 'storage'), '--runroot', join(dir, 'run'), '--tmpdir', join(dir, 'tmp'), '--runtime', runc,
    '--storage-driver', 'vfs'];
  const name = newId('podman');
  podmanCleanup = (): void => {
    spawnSync(podman, [...base, 'rm', '-f', '-t', '0', name], { env, stdio: 'ignore', timeout: 30000 });
    // conmon runs `podman container cleanup` (its --exit-command) in the background: let it finish.
    const deadline = Date.now() + 15000;
    while (processesMentioning(dir).length && Date.now() < deadline) spawnSync('sleep', ['0.1']);
    for (const pid of processesMentioning(dir)) killPid(pid);
  };
  try {
    const r = await run(podman, [...base, 'run', '-d', '--name', name, '--network', 'none', '--ulimit', 'nofile=1024:1024',
      '--ulimit', 'nproc=1024:1024', '--rootfs', b.rootfs, '/bin/sleep', '60'], { env, timeoutMs: 60000 });
    if (r.code !== 0) return { label, error: firstLine(r.stderr) || `podman run: exit status ${r.code}` };
    const i = await run(podman, [...base, 'inspect', '--format', '{{.State.ConmonPid}}', name], { env, timeoutMs: 30000 });
    const pid = Number(i.stdout.trim());
    if (!(pid > 0)) return { label, error: 'podman inspect gave no conmon pid' };
    await sleep(SETTLE_MS);
    return readMem(label, pid);
  } catch (err) {
    return { label, error: (err as Error).message };
  } finally {
    podmanCleanup();
    podmanCleanup = undefined;
  }
}

// ---------------------------------------------------------------- strace cross-check

async function straceCheck(berth: Runtime, b: Bundles, o: Options): Promise<Line> {
  const l = line('strace -f: execve(berth-shim) → execve(/bin/true)', 'cross-check only: strace stops every clone and exec it follows');
  const strace = which('strace');
  if (!strace) {
    l.firstError = 'strace not installed';
    return l;
  }
  for (let i = 0; i < o.straceIterations && !overBudget(o); i++) {
    const id = newId('strace');
    const out = join(tmp, `strace-${i}.txt`);
    const argv = [strace, '-f', '-qq', '-ttt', '--seccomp-bpf', '-e', 'trace=execve,execveat,clone,clone3,fork,vfork', '-o', out,
      ...runArgs(berth, b.true, id)];
    const t = await timeCmd(argv, undefined, o);
    await deleteIfPresent(berth, id);
    let value: number | undefined;
    try {
      const text = readFileSync(out, 'utf8').split('\n');
      const at = (re: RegExp, from = 0): [number, number] | undefined => {
        for (let k = from; k < text.length; k++) {
          if (re.test(text[k]!)) return [k, Number(text[k]!.split(/\s+/)[1])];
        }
        return undefined;
      };
      const shim = at(/execve\("[^"]*berth-shim"/);
      const payload = shim && at(/execve\("\/bin\/true"/, shim[0]);
      if (shim && payload) value = (payload[1] - shim[1]) * 1000;
    } catch {
      // no trace file
    }
    record(l, value, t);
  }
  return l;
}

// ---------------------------------------------------------------- output

function tableRow(cells: string[], widths: number[]): string {
  return cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
}

function timingTable(lines: Line[], base?: { line: Line; name: string }): string {
  const widths = [62, 7, 7, 7, 7, 3, ...(base ? [10] : [])];
  const out = [tableRow(['', 'median', 'p90', 'mean', 'min', 'n', ...(base ? [`/${base.name}`] : [])], widths)];
  const b = base && stats(base.line.samples);
  for (const l of lines) {
    const s = stats(l.samples);
    if (!s) {
      out.push(`${l.label.padEnd(widths[0]!)}  ${l.firstError ?? 'no samples'}`);
      continue;
    }
    const cells = [l.label, fmt(s.median), fmt(s.p90), fmt(s.mean), fmt(s.min), String(s.n)];
    if (base) cells.push(l === base.line ? '1.00x' : ratio(s.median, b?.median));
    out.push(tableRow(cells, widths));
    if (l.note) out.push(`${''.padEnd(widths[0]!)}  (${l.note})`);
    if (l.failures) out.push(`${''.padEnd(widths[0]!)}  (${l.failures} failed: ${l.firstError})`);
  }
  return out.join('\n');
}

function memTable(mems: Mem[]): string {
  const widths = [52, 9, 9, 9, 9];
  const kib = (v: number | undefined): string => (v === undefined ? '-' : v >= 4096 ? `${(v / 1024).toFixed(1)} MiB` : `${v} KiB`);
  const out = [tableRow(['', 'VmRSS', 'VmHWM', 'Pss', 'Private'], widths)];
  for (const m of mems) {
    if (m.error) out.push(`${m.label.padEnd(widths[0]!)}  not measured: ${m.error}`);
    else out.push(tableRow([m.label, kib(m.rssKiB), kib(m.hwmKiB), kib(m.pssKiB), kib(m.privateKiB)], widths));
  }
  return out.join('\n');
}

function versionOf(argv: string[]): string {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout: 10000 });
  return (r.stdout || r.stderr || '').trim().split('\n')[0] ?? '';
}

// ---------------------------------------------------------------- main

async function main(): Promise<number> {
  const o = parseOptions(process.argv.slice(2));
  if (process.getuid?.() !== 0) {
    process.stderr.write('bench: needs root (the runtimes create namespaces, cgroups and mounts)\n');
    return 2;
  }
  installSignalHandlers(cleanup, printNotes);
  const runc = which('runc', ['/usr/sbin']);
  if (!runc) {
    process.stderr.write('bench: runc not found\n');
    return 2;
  }
  if (!existsSync(BERTH_SHIM)) {
    process.stderr.write(`bench: ${BERTH_SHIM} is missing: run make -C native\n`);
    return 2;
  }
  tmp = mkdtempSync(join(tmpdir(), 'berth-bench-'));
  for (const p of buildHelpers()) notes.push(p);
  const b = makeBundles(runc);

  const berth = makeRuntime('berth', [NODE, BERTH_RUNTIME]);
  const runcRt = makeRuntime('runc', [runc]);
  const crunPath = which('crun');
  const crun = crunPath ? makeRuntime('crun', [crunPath]) : undefined;

  // The unmodified `runc spec` asks for ambient capabilities without inheritable ones.
  const pristine = line('pristine');
  const pr = await timedRun(berth, b.pristine, pristine, o);
  const ambientNote = pr.status === 0
    ? undefined
    : `berth-runtime fails the unmodified \`runc spec\` config (${firstLine(pr.stderr)}); runc ignores the failed ambient raise, so the bundles drop process.capabilities.ambient (runc's containers end up with CapAmb=0 either way)`;
  if (ambientNote) notes.push(ambientNote);

  for (const rt of [berth, runcRt, ...(crun ? [crun] : [])]) await probe(rt, b.true, o);
  if (!berth.works) throw new Error(`berth-runtime cannot run the bundle: ${berth.refused}`);
  if (!runcRt.works) throw new Error(`runc cannot run the bundle: ${runcRt.refused}`);

  const header = [
    `berth runtime benchmark — ${new Date().toISOString()}`,
    `machine: ${cpus().length} CPU (${cpus()[0]?.model.trim() ?? '?'}), Linux ${release()}, node ${process.version}`,
    `berth: ${gitState(REPO)}; shim ${BERTH_SHIM}`,
    `runc: ${versionOf([runc, '--version'])}; crun: ${crunPath ? versionOf([crunPath, '--version']) : 'not installed'}`,
    `bundle: busybox rootfs (busybox --install -s), \`runc spec\` with terminal=false, root.path absolute, args ["/bin/true"]`,
    `load average at start: ${loadavg().map((x) => x.toFixed(2)).join(' ')} (the figures are only as quiet as the machine)`,
    `timing: ${timerBin ? 'bench/spawn-timer (CLOCK_MONOTONIC before fork … after waitpid)' : 'Node hrtime around spawn'}; ${o.iterations} iterations after ${o.warmup} warm-up, interleaved`,
  ];
  process.stderr.write(header.join('\n') + '\n\n');

  // 1. run, end to end
  const L = {
    berth: line('berth-runtime run'),
    runc: line('runc run'),
    crun: line('crun run'),
    node: line('reference: node -e 0'),
    version: line('reference: berth-runtime --version (Node + module load)'),
    unshare: line('reference: unshare --pid --fork --mount --uts --ipc --net /bin/true'),
  };
  const steps1: Step[] = [
    { go: async () => void (await timedRun(berth, b.true, L.berth, o)) },
    { go: async () => void (await timedRun(runcRt, b.true, L.runc, o)) },
    { go: async () => record(L.node, ...timedPair(await timeCmd([NODE, '-e', '0'], undefined, o))) },
    { go: async () => record(L.version, ...timedPair(await timeCmd([NODE, BERTH_RUNTIME, '--version'], undefined, o))) },
    {
      go: async () => record(L.unshare, ...timedPair(await timeCmd(['unshare', '--pid', '--fork', '--mount', '--uts', '--ipc', '--net', '/bin/true'], undefined, o))),
    },
  ];
  if (crun?.works) steps1.push({ go: async () => void (await timedRun(crun, b.true, L.crun, o)) });
  else if (crun) L.crun.firstError = `refused on this host (${crun.refused})`;
  else L.crun.firstError = 'not installed';
  await interleave(steps1, o.iterations, o.warmup, o, '1. run end to end');

  // 2. spawn → container execve
  const S = {
    shim: line('berth-shim: fork → container execve   [target ≤ 5 ms]'),
    shimReady: line('  fork → READY message at the caller'),
    shimNoCg: line('berth-shim, cgroup joins removed (diagnostic): fork → execve'),
    shimExec: line('berth-shim --version: fork → exit (exec only)'),
    shimSealed: line('berth-shim 99: fork → exit (exec + sealed re-exec, bad fd)'),
    berthAll: line('berth-runtime run: spawn → container execve'),
    berthToShim: line('  spawn → shim process started (Node, plan, cgroups, spawn)'),
    berthProg: line('  shim process started → program received'),
    berthTotal: line('berth-runtime run (stamp payload, via the proxy): spawn → exit'),
    runc: line('runc run: spawn → container execve'),
    runcTotal: line('runc run (stamp payload): spawn → exit'),
    crun: line('crun run: spawn → container execve'),
    unshare: line('unshare --pid --fork --mount --uts --ipc --net: spawn → execve'),
    bare: line('fork + execve of the payload alone'),
  };
  let strace: Line | undefined;
  if (timerBin && stampBin) {
    const proxyEnv = { ...process.env, BERTH_SHIM: timerBin, BENCH_REAL_SHIM: BERTH_SHIM, BENCH_STAMP_FD: '3' };
    const steps2: Step[] = [
      {
        go: async () => {
          const t = await timedRun(berth, b.stamp, S.berthTotal, o, ['--preserve-fds', '1'], proxyEnv);
          const st = t.stamps;
          record(S.shim, ms(st.SHIMFORK, st.PAYLOAD), t);
          record(S.shimReady, ms(st.SHIMFORK, st.SHIMREDY), t);
          record(S.berthAll, ms(t.t0, st.PAYLOAD), t);
          record(S.berthToShim, ms(t.t0, st.PROXYRUN), t);
          record(S.berthProg, ms(st.PROXYRUN, st.PROGRCVD), t);
        },
      },
      {
        go: async () => {
          const scratch = line('scratch');
          const t = await timedRun(berth, b.stamp, scratch, o, ['--preserve-fds', '1'], { ...proxyEnv, BENCH_DROP_OPS: '20,25' });
          record(S.shimNoCg, ms(t.stamps.SHIMFORK, t.stamps.PAYLOAD), t);
        },
      },
      {
        go: async () => {
          const t = await timeCmd([BERTH_SHIM, '--version'], undefined, o);
          record(S.shimExec, ms(t.t0, t.end), t);
          const u = await timeCmd([BERTH_SHIM, '99'], undefined, o);
          record(S.shimSealed, ms(u.t0, u.end), u, true);
        },
      },
      {
        go: async () => {
          const t = await timedRun(runcRt, b.stamp, S.runcTotal, o, ['--preserve-fds', '1']);
          record(S.runc, ms(t.t0, t.stamps.PAYLOAD), t);
        },
      },
      {
        go: async () => {
          const t = await timeCmd(['unshare', '--pid', '--fork', '--mount', '--uts', '--ipc', '--net', stampBin!], undefined, o);
          record(S.unshare, ms(t.t0, t.stamps.PAYLOAD), t);
        },
      },
      {
        go: async () => {
          const t = await timeCmd([stampBin!], undefined, o);
          record(S.bare, ms(t.t0, t.stamps.PAYLOAD), t);
        },
      },
    ];
    if (crun?.works) {
      const crunTotal = line('crun total');
      steps2.push({
        go: async () => {
          const t = await timedRun(crun, b.stamp, crunTotal, o, ['--preserve-fds', '1']);
          record(S.crun, ms(t.t0, t.stamps.PAYLOAD), t);
        },
      });
    } else S.crun.firstError = crun ? `refused on this host (${crun.refused})` : 'not installed';
    await interleave(steps2, o.iterations, o.warmup, o, '2. spawn → execve');
    if (o.straceIterations > 0) strace = await straceCheck(berth, b, o);
  }

  // 3. memory
  const mems: Mem[] = [];
  if (o.rss) {
    process.stderr.write('3. memory…\n');
    mems.push(await memMonitor(berth, b, o));
    mems.push(...(await memForeground(berth, b, o)));
    mems.push(...(await memForeground(runcRt, b, o)));
    mems.push(await memConmon(b, runc));
  }

  // report
  const berthS = stats(L.berth.samples);
  const runcS = stats(L.runc.samples);
  const nodeS = stats(L.node.samples);
  const versionS = stats(L.version.samples);
  const out: string[] = [...header, ''];
  out.push('1. `run` end to end: spawn of the runtime → its exit, container /bin/true (ms)');
  out.push(timingTable([L.berth, L.runc, L.crun, L.node, L.version, L.unshare], { line: L.runc, name: 'runc' }));
  out.push('');
  out.push(`berth/runc: median ${ratio(berthS?.median, runcS?.median)}, p90 ${ratio(berthS?.p90, runcS?.p90)}, mean ${ratio(berthS?.mean, runcS?.mean)}`);
  if (berthS && nodeS && versionS) {
    out.push(`berth-runtime run median ${fmt(berthS.median)} ms = node start-up ${fmt(nodeS.median)} + module load ${fmt(versionS.median - nodeS.median)} + the rest ${fmt(berthS.median - versionS.median)} (plan, cgroups, shim, container, delete)`);
  }
  if (timerBin && stampBin) {
    out.push('');
    out.push('2. spawn → the container\'s execve (ms): /stamp payload stamps CLOCK_MONOTONIC on its first instruction');
    out.push(timingTable([S.shim, S.shimReady, S.shimNoCg, S.shimExec, S.shimSealed, S.berthAll, S.berthToShim, S.berthProg, S.berthTotal,
      S.runc, S.runcTotal, S.crun, S.unshare, S.bare, ...(strace ? [strace] : [])]));
    const shimS = stats(S.shim.samples);
    const unshareS = stats(S.unshare.samples);
    const berthExecS = stats(S.berthAll.samples);
    const runcExecS = stats(S.runc.samples);
    out.push('');
    out.push(`berth-shim/unshare (median): ${ratio(shimS?.median, unshareS?.median)}; berth-runtime/runc, spawn → execve (median): ${ratio(berthExecS?.median, runcExecS?.median)}`);
  }
  if (mems.length) {
    out.push('');
    out.push(`3. resident memory, ${SETTLE_MS} ms after the container (busybox sleep) started   [target: berth-shim ≤ 1 MiB]`);
    out.push(memTable(mems));
  }
  out.push('');
  out.push(`load average at end: ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  const report = out.join('\n');
  process.stdout.write('\n' + report + '\n');
  if (o.json) {
    const all = { header, run: L, exec: S, strace, memory: mems, notes };
    writeFileSync(o.json, JSON.stringify(all, (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2));
  }
  return 0;
}

function timedPair(t: Timed): [number | undefined, Timed] {
  return [ms(t.t0, t.end), t];
}

let exitCode = 1;
try {
  exitCode = await main();
} catch (err) {
  if (!(err instanceof Aborted)) process.stderr.write(`bench: ${(err as Error).stack ?? err}\n`);
} finally {
  await cleanup();
  printNotes();
}
if (!isAborted()) process.exit(exitCode);
