// What the benchmarks share: Ctrl-C that cleans up, order statistics, where the figures came
// from (commit, dirty tree), and the process, mount and file helpers of layers.ts and registry.ts.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, rmdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

let aborted = false;

/** Whether SIGINT/SIGTERM/SIGHUP arrived; long loops check it and stop. */
export function isAborted(): boolean {
  return aborted;
}

/** On the first signal: cleanup, then report, then exit 130 (SIGINT) or 143; later signals only say so. */
export function installSignalHandlers(cleanup: () => Promise<void>, report: () => void): void {
  const onSignal = (sig: NodeJS.Signals): void => {
    if (aborted) {
      process.stderr.write(`\nbench: ${sig} again; still cleaning up\n`);
      return;
    }
    aborted = true;
    process.stderr.write(`\nbench: ${sig}: stopping and cleaning up…\n`);
    void cleanup().finally(() => {
      report();
      process.exit(sig === 'SIGINT' ? 130 : 143);
    });
  };
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, onSignal);
}

export interface Stats {
  n: number;
  median: number;
  p90: number;
  mean: number;
  min: number;
  max: number;
}

function quantile(sorted: number[], q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

export function stats(samples: number[]): Stats | undefined {
  if (!samples.length) return undefined;
  const s = [...samples].sort((a, b) => a - b);
  return {
    n: s.length, median: quantile(s, 0.5), p90: quantile(s, 0.9), mean: s.reduce((a, b) => a + b, 0) / s.length,
    min: s[0]!, max: s[s.length - 1]!,
  };
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** "<short hash>" plus " (uncommitted changes)" when tracked files differ from it. */
export function gitState(repo: string): string {
  const r = spawnSync('git', ['-C', repo, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' });
  const head = r.status === 0 ? r.stdout.trim() : 'no commit';
  const d = spawnSync('git', ['-C', repo, 'status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8' });
  return head + (d.status === 0 && d.stdout.trim() ? ' (uncommitted changes)' : '');
}

// ---------------------------------------------------------------- shared by layers.ts and registry.ts

/** Thrown by checkAborted() once a signal arrived; the benchmarks let it unwind to their clean-up. */
export class Aborted extends Error {}

export function checkAborted(): void {
  if (aborted) throw new Aborted('aborted');
}

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** A command run to completion (stdin closed), with a timeout (default 120 s). */
export function run(argv: string[], opts: { timeoutS?: number; env?: NodeJS.ProcessEnv } = {}): RunResult {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout: (opts.timeoutS ?? 120) * 1000, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] });
  return { status: r.status, stdout: r.stdout ?? '', stderr: (r.stderr ?? '') + (r.error ? String(r.error) : '') };
}

export function which(cmd: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/sbin'])) {
    const p = join(dir, cmd);
    if (dir && existsSync(p)) return p;
  }
  return undefined;
}

export function sync(): void {
  spawnSync('sync');
}

/** Children that a clean-up must kill (timedChild registers its own). */
export const liveChildren = new Set<ChildProcess>();

export function killLiveChildren(): void {
  for (const child of liveChildren) {
    if (child.pid === undefined) continue;
    try {
      process.kill(child.pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
}

export interface TimedResult {
  ms: number;
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * A child process, timed from just before spawn to its exit (ms). stdout is kept only with
 * keepStdout; onLine is told each line of it with the ms since the spawn when it arrived.
 */
export function timedChild(
  argv: string[], timeoutS = 600,
  opts: { keepStdout?: boolean; env?: NodeJS.ProcessEnv; onLine?: (line: string, ms: number) => void } = {},
): Promise<TimedResult> {
  return new Promise((resolvePromise) => {
    const t0 = process.hrtime.bigint();
    const piped = opts.keepStdout || opts.onLine !== undefined;
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', piped ? 'pipe' : 'ignore', 'pipe'], env: opts.env });
    liveChildren.add(child);
    let stderr = '';
    let stdout = '';
    let partial = '';
    child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.stdout?.setEncoding('utf8').on('data', (s: string) => {
      stdout += s;
      if (!opts.onLine) return;
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      const lines = (partial + s).split('\n');
      partial = lines.pop()!;
      for (const l of lines) opts.onLine(l, ms);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutS * 1000);
    let t1 = 0n;
    child.on('exit', () => (t1 = process.hrtime.bigint()));
    child.on('error', (err) => (stderr += String(err)));
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      liveChildren.delete(child);
      if (t1 === 0n) t1 = process.hrtime.bigint();
      resolvePromise({ ms: Number(t1 - t0) / 1e6, status: signal ? null : code, stdout, stderr: stderr.trim() });
    });
  });
}

export const fmtMs = (ms: number | undefined): string => (ms === undefined ? '-' : ms >= 100 ? ms.toFixed(0) : ms.toFixed(1));

/** Mount points at or under dir, deepest first. */
export function mountsUnder(dir: string): string[] {
  const out: string[] = [];
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const mp = line.split(' ')[4];
    if (!mp) continue;
    const path = mp.replace(/\\(\d{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
    if (path === dir || path.startsWith(dir + '/')) out.push(path);
  }
  return out.sort((a, b) => b.length - a.length);
}

/**
 * The end of a run: unmount everything at or under work (lazily, deepest first), then
 * rm -rf --one-file-system it. What went wrong, and leftovers other than the run's own
 * private mount, go to notes.
 */
export function removeWork(work: string, privateMount: string | undefined, notes: string[]): void {
  for (const m of mountsUnder(work)) {
    const r = spawnSync('umount', ['-l', m], { encoding: 'utf8' });
    if (r.status !== 0 && m !== privateMount) notes.push(`umount ${m}: ${r.stderr.trim()}`);
    else if (m !== privateMount) notes.push(`clean-up: unmounted leftover ${m}`);
  }
  const r = spawnSync('rm', ['-rf', '--one-file-system', work], { encoding: 'utf8' });
  if (r.status !== 0) notes.push(`rm -rf ${work}: ${r.stderr.trim()}`);
}

/**
 * A private filesystem for the targets, mounted at <work>/<kind>: a tmpfs of tmpfsSize, or an
 * ext4 with a journal (like a usual Docker host) in an 8 GiB sparse file, loop-mounted (the loop
 * device goes with the unmount). onMounted is told the mount point as soon as it exists, so a
 * clean-up that runs meanwhile unmounts it.
 */
export function mountPrivateTarget(work: string, kind: 'tmpfs' | 'ext4', onMounted: (dir: string) => void, tmpfsSize = '2g'): string {
  const base = join(work, kind);
  mkdirSync(base);
  if (kind === 'tmpfs') {
    const r = run(['mount', '-t', 'tmpfs', '-o', `size=${tmpfsSize},mode=0755`, 'berth-bench', base]);
    if (r.status !== 0) throw new Error(`mounting the tmpfs: ${r.stderr.trim()}`);
    onMounted(base);
  } else {
    const img = join(work, 'ext4.img');
    for (const argv of [
      ['truncate', '-s', '8G', img],
      ['mkfs.ext4', '-q', '-F', '-L', 'berth-bench', '-E', 'lazy_itable_init=0,lazy_journal_init=0', img],
      ['mount', '-o', 'loop', img, base], // autoclear: the loop device goes with the unmount
    ]) {
      const r = run(argv, { timeoutS: 300 });
      if (r.status !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr.trim()}`);
      if (argv[0] === 'mount') onMounted(base);
    }
  }
  run(['mount', '--make-private', base]);
  return base;
}

export function fsType(path: string): string {
  const r = run(['findmnt', '-n', '-o', 'FSTYPE', '-T', path]);
  return r.status === 0 ? r.stdout.trim() : '?';
}

export function uptime(): string {
  return run(['uptime']).stdout.trim();
}

/** The 1-minute load average. */
export function loadAverage1(): number {
  return Number.parseFloat(readFileSafe('/proc/loadavg').split(' ')[0] ?? '') || 0;
}

/** Busy and total jiffies of all CPUs so far (/proc/stat's "cpu" line; iowait counts as idle). */
export function cpuJiffies(): { busy: number; total: number } {
  const fields = (readFileSafe('/proc/stat').split('\n')[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
  const total = fields.reduce((a, b) => a + (Number.isFinite(b) ? b : 0), 0);
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
  return { busy: total - idle, total };
}

/**
 * Wait until the CPUs are nearly idle (under `busyFraction` over a 200 ms window), at most
 * `maxMs`: what one daemon leaves running in the background after a round (shim exits, the
 * kernel's cgroup teardown) must not be timed as the next round's. Returns the wait in ms.
 */
export async function waitForQuietCpu(busyFraction = 0.15, maxMs = 10_000): Promise<number> {
  const started = performance.now();
  let before = cpuJiffies();
  while (performance.now() - started < maxMs) {
    await new Promise((res) => setTimeout(res, 200));
    const now = cpuJiffies();
    const total = now.total - before.total;
    if (total > 0 && (now.busy - before.busy) / total < busyFraction) break;
    before = now;
  }
  return performance.now() - started;
}

export async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 })) h.update(chunk as Buffer);
  return h.digest('hex');
}

export function readFileSafe(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** The last lines of a log file, joined with " | ". */
export function tail(path: string, lines = 6): string {
  try {
    return readFileSync(path, 'utf8').trim().split('\n').slice(-lines).join(' | ');
  } catch {
    return '(no log)';
  }
}

/** Waits until pid is gone or a zombie; false after ms. */
export async function waitGone(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (!pidAlive(pid) || readFileSafe(`/proc/${pid}/stat`).split(') ')[1]?.startsWith('Z')) return true;
    await new Promise((res) => setTimeout(res, 100));
  }
  return !pidAlive(pid);
}

/**
 * The image config both layers.ts (docker-archive) and registry.ts (OCI layout) give the one
 * minbase layer: the same bytes, so the same image ID in both.
 */
export function minbaseImageConfig(diffHex: string): { json: string; hex: string } {
  const config = {
    architecture: 'amd64',
    os: 'linux',
    created: '2025-05-20T00:00:00Z',
    config: { Cmd: ['/bin/bash'], Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'] },
    rootfs: { type: 'layers', diff_ids: [`sha256:${diffHex}`] },
    history: [{ created: '2025-05-20T00:00:00Z', created_by: 'debootstrap --variant=minbase bookworm (scripts/bench/make-rootfs.sh)' }],
  };
  const json = JSON.stringify(config);
  return { json, hex: createHash('sha256').update(json).digest('hex') };
}

// ---------------------------------------------------------------- command line and main(), shared

/** A flag's value as its handler wants it; a missing or bad one prints the usage and exits 2. */
export interface FlagValue {
  /** An integer ≥ min. */
  int(min: number): number;
  string(): string;
  /** A path, made absolute. */
  path(): string;
  choice<C extends string>(choices: readonly C[]): C;
  /** A comma-separated list, each item one of choices. */
  list<C extends string>(choices: readonly C[]): C[];
}

/** Prints msg and the usage to stderr, exits 2. */
export function usageError(usage: string, msg: string): never {
  process.stderr.write(`bench: ${msg}\n${usage}`);
  process.exit(2);
}

/**
 * The benchmarks' command line: `--flag value` or `--flag=value`; --help/-h prints the usage
 * and exits 0. onFlag is told each flag and returns false for one it does not know (usage, exit 2);
 * boolean flags simply do not read their value.
 */
export function parseFlags(argv: string[], usage: string, onFlag: (flag: string, value: FlagValue) => boolean): void {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') {
      process.stdout.write(usage);
      process.exit(0);
    }
    const eq = arg.indexOf('=');
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const inline = eq > 0 ? arg.slice(eq + 1) : undefined;
    let read = false;
    const raw = (): string => {
      read = true;
      const v = inline ?? argv[++i];
      return v === undefined ? usageError(usage, `${flag} needs a value`) : v;
    };
    const value: FlagValue = {
      int(min) {
        const v = raw();
        const n = Number(v);
        return Number.isInteger(n) && n >= min ? n : usageError(usage, `${flag} needs an integer ≥ ${min}, not ${JSON.stringify(v)}`);
      },
      string: raw,
      path: () => resolve(raw()),
      choice(choices) {
        const v = raw();
        return (choices as readonly string[]).includes(v) ? (v as (typeof choices)[number]) : usageError(usage, `${flag} takes ${choices.join(', ')}, not ${JSON.stringify(v)}`);
      },
      list(choices) {
        const items = raw().split(',').filter(Boolean);
        const bad = items.filter((v) => !(choices as readonly string[]).includes(v));
        if (!items.length || bad.length) usageError(usage, `${flag} takes a comma-separated list of ${choices.join(', ')}${bad.length ? `, not ${bad.join(',')}` : ''}`);
        return items as Array<(typeof choices)[number]>;
      },
    };
    if (!onFlag(flag, value)) usageError(usage, `unknown argument ${arg}`);
    if (inline !== undefined && !read) usageError(usage, `${flag} takes no value`);
  }
}

/** Adds a note once. */
export function addNote(notes: string[], note: string): void {
  if (!notes.includes(note)) notes.push(note);
}

export function printNotes(notes: string[]): void {
  if (notes.length) process.stderr.write(`\nnotes:\n${notes.map((n) => `  - ${n}`).join('\n')}\n`);
}

export interface BenchMainOptions {
  /** What root is needed for, said when the benchmark is not run as root. */
  rootNeededFor: string;
  /** Stops and removes everything the benchmark started; may run twice (make it idempotent). */
  cleanup: () => Promise<void>;
  /** Printed to stderr at the very end, whatever happened. */
  notes: string[];
}

/**
 * The benchmarks' main() around body: the root check (exit 2), Ctrl-C/SIGTERM/SIGHUP that clean
 * up (exit 130/143), an error's stack on stderr (exit 1), then the clean-up and the notes, then
 * exit with body's code. Parse the options before, so that --help works without root.
 */
export async function runBenchMain(opts: BenchMainOptions, body: () => Promise<number>): Promise<void> {
  if (process.getuid?.() !== 0) {
    process.stderr.write(`bench: needs root (${opts.rootNeededFor})\n`);
    process.exit(2);
  }
  installSignalHandlers(opts.cleanup, () => printNotes(opts.notes));
  let exitCode = 1;
  try {
    exitCode = await body();
  } catch (err) {
    // After a signal, what broke is the clean-up pulling things away: not worth a stack.
    if (!(err instanceof Aborted) && !isAborted()) process.stderr.write(`bench: ${(err as Error).stack ?? String(err)}\n`);
  } finally {
    await opts.cleanup();
    if (!isAborted()) printNotes(opts.notes);
  }
  // After a signal its handler reports and exits (with 130/143) once its own clean-up is done.
  if (!isAborted()) process.exit(exitCode);
}

/**
 * The median of a[i]/b[i] with its range, "0.21x (0.18–0.30)": each pair ran back to back, so
 * it shares the machine's conditions, which move under other people's work.
 */
export function pairedRatio(a: number[], b: number[]): string | undefined {
  const n = Math.min(a.length, b.length);
  if (!n) return undefined;
  const s = stats(Array.from({ length: n }, (_, i) => a[i]! / b[i]!))!;
  return `${s.median.toFixed(2)}x (${s.min.toFixed(2)}–${s.max.toFixed(2)})`;
}

// ---------------------------------------------------------------- cgroup parents a daemon leaves behind

const CGROUP_ROOT = '/sys/fs/cgroup';

/** Every `<hierarchy>/<name>` cgroup directory that exists now (v1 hierarchies and the v2 one). */
export function cgroupParents(name: string): Set<string> {
  const out = new Set<string>();
  let hierarchies: string[] = [];
  try {
    hierarchies = readdirSync(CGROUP_ROOT);
  } catch {
    return out;
  }
  for (const h of ['', ...hierarchies]) {
    const dir = join(CGROUP_ROOT, h, name);
    if (existsSync(join(dir, 'cgroup.procs'))) out.add(realpathSync(dir)); // cpu -> cpu,cpuacct: once
  }
  return out;
}

/**
 * rmdir of the `<hierarchy>/<name>` parents a daemon of this run created (dockerd makes
 * /docker, berthd /berth, and neither removes them): only those absent in `before` and empty
 * (rmdir of a cgroup fails while it has children or tasks, so one in use by another daemon stays).
 */
export function removeNewCgroupParents(name: string, before: Set<string>, notes: string[]): void {
  const removed: string[] = [];
  for (const dir of cgroupParents(name)) {
    if (before.has(dir)) continue;
    try {
      rmdirSync(dir);
      removed.push(dir);
    } catch (err) {
      notes.push(`cgroup ${dir} (made during this run) not removed: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
  }
  if (removed.length) notes.push(`removed the ${removed.length} empty "${name}" cgroup parent(s) made during this run`);
}
