// Pieces the benchmarks that drive berthd and dockerd (bench/daemon.ts, network.ts, build.ts)
// share: their work folder and its clean-up, the busybox image for `docker import`, the
// clients' environment, and one round of N parallel `docker run -d` followed by one `docker rm -f`.
import { copyFileSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { stopAllBerthds } from './berthd.js';
import { cgroupParents, checkAborted, cpuJiffies, fmtMs, killLiveChildren, mountPrivateTarget, removeNewCgroupParents, removeWork, run, timedChild, type TimedResult } from './common.js';
import { ensureDockerd, startDockerd, stopAllDockerds, type DockerdState } from './dockerd.js';
import { listAllContainers, removeContainers } from './engine.js';

export const BUSYBOX = '/bin/busybox';
/** The client both daemons are driven with: Debian docker.io's, API 1.41 like the dockerd. */
export const DOCKER_CLI = '/usr/bin/docker';

/** One daemon under test, as the parts see it. */
export interface BenchDaemon {
  name: 'berthd' | 'dockerd';
  socket: string;
  host: string;
  pid: number;
}

/**
 * A bench run's work folder under the data dir, with the daemons' exec roots on a tmpfs (as
 * /run holds them by default: file creation there costs a twentieth of what it costs on this
 * disk's ext4), and the clean-up that stops every daemon and removes what they made — only
 * the cgroup parents that were not there before.
 */
export class DaemonBenchWork {
  readonly notes: string[] = [];
  private work: string | undefined;
  private execBase: string | undefined;
  private execMount: string | undefined;
  private cgroupsBefore: Map<string, Set<string>> | undefined;
  private cleaning: Promise<void> | undefined;

  /** `beforeRemove` runs once the daemons are stopped, while their data roots still exist. */
  constructor(private readonly hooks: { beforeRemove?: () => void; afterRemove?: () => void } = {}) {}

  /** Makes the folder and the exec-root tmpfs; returns both. */
  create(data: string, prefix: string): { work: string; execBase: string } {
    mkdirSync(data, { recursive: true });
    const work = (this.work = mkdtempSync(join(data, prefix)));
    const execBase = (this.execBase = mountPrivateTarget(work, 'tmpfs', (dir) => (this.execMount = dir), '256m'));
    this.cgroupsBefore = new Map(['berth', 'docker'].map((name) => [name, cgroupParents(name)]));
    return { work, execBase };
  }

  /**
   * A private dockerd in the work folder (after `create`), or why there is none: `--docker`
   * not given, docker.io not installable, `beforeStart` (run once dockerd is installed)
   * named a reason, or the daemon failed to start.
   */
  async startDockerd(
    wanted: boolean, opts: { networkArgs?: string[]; beforeStart?: () => string | undefined } = {},
  ): Promise<{ dockerd?: DockerdState; note?: string }> {
    if (!wanted) return { note: 'not measured (add --docker)' };
    const found = ensureDockerd(this.notes);
    if (!found.dockerd) return { note: `not measured: ${found.why}` };
    const refused = opts.beforeStart?.();
    if (refused) return { note: `not measured: ${refused}` };
    const dir = join(this.work!, 'dockerd');
    try {
      return { dockerd: await startDockerd(found.dockerd, DOCKER_CLI, dir, join(dir, 'docker.sock'), this.notes, join(this.execBase!, 'dockerd'), opts.networkArgs) };
    } catch (err) {
      checkAborted();
      return { note: `not measured: ${(err as Error).message}` };
    }
  }

  readonly cleanup = (): Promise<void> => {
    this.cleaning ??= (async () => {
      killLiveChildren();
      await stopAllBerthds(this.notes);
      await stopAllDockerds(this.notes);
      this.hooks.beforeRemove?.();
      for (const [name, before] of this.cgroupsBefore ?? []) removeNewCgroupParents(name, before, this.notes);
      if (this.work) removeWork(this.work, this.execMount, this.notes);
      this.hooks.afterRemove?.();
    })();
    return this.cleaning;
  };
}

/** A daemon's pid and addresses, as the parts see them. */
export function benchDaemon(name: BenchDaemon['name'], d: { socket: string; host: string; pid: number }): BenchDaemon {
  return { name, socket: d.socket, host: d.host, pid: d.pid };
}

/** The clients' environment: a config dir of their own (no ~/.docker), no inherited daemon address. */
export function makeClientEnv(dir: string): NodeJS.ProcessEnv {
  mkdirSync(dir, { recursive: true });
  const env: NodeJS.ProcessEnv = { ...process.env, DOCKER_CONFIG: dir, BERTH_NO_AUTOSTART: '1' };
  for (const k of ['DOCKER_HOST', 'DOCKER_CONTEXT', 'DOCKER_API_VERSION', 'BERTH_HOST']) delete env[k];
  return env;
}

export const dockerArgv = (d: BenchDaemon, args: string[]): string[] => [DOCKER_CLI, '-H', d.host, ...args];

export const firstLine = (r: { status: number | null; stderr: string; stdout: string }): string =>
  `exit ${r.status ?? 'signal'}: ${(r.stderr || r.stdout).trim().split('\n')[0]?.slice(0, 200) ?? ''}`;

/** busybox-static and its applets as symlinks in /bin, plus passwd/group: a tar for `docker import`. */
export function makeBusyboxTar(dir: string): string {
  const rootfs = join(dir, 'rootfs');
  for (const d of ['bin', 'etc', 'tmp', 'proc', 'sys', 'dev']) mkdirSync(join(rootfs, d), { recursive: true });
  copyFileSync(BUSYBOX, join(rootfs, 'bin/busybox'));
  const applets = run([BUSYBOX, '--list']).stdout.split('\n').filter((a) => a && a !== 'busybox');
  for (const a of applets) symlinkSync('busybox', join(rootfs, 'bin', a));
  writeFileSync(join(rootfs, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n');
  writeFileSync(join(rootfs, 'etc/group'), 'root:x:0:\nnobody:x:65534:\n');
  const tar = join(dir, 'busybox.tar');
  const r = run(['tar', '--numeric-owner', '--owner=0', '--group=0', '-C', rootfs, '-cf', tar, '.']);
  if (r.status !== 0) throw new Error(`tar of the busybox rootfs: ${r.stderr.trim()}`);
  return tar;
}

/** `docker import tar image` into d, through the docker CLI. */
export function importImage(d: BenchDaemon, tar: string, image: string, env: NodeJS.ProcessEnv): void {
  const r = run(dockerArgv(d, ['import', tar, image]), { env });
  if (r.status !== 0) throw new Error(`docker import into ${d.name}: ${firstLine(r)}`);
}

export interface ParallelLine {
  daemon: BenchDaemon;
  total: number[];
  runPhase: number[];
  rmPhase: number[];
  /** Busy CPU seconds of the whole machine during the timed part (USER_HZ 100). */
  cpuSeconds: number[];
  failures: string[];
}

/**
 * n × `docker run -d <runArgs>` at once, then one `docker rm -f` of them; anything left
 * afterwards is removed through the API (untimed). A round with a failure is not timed.
 * Returns the line to print.
 */
export async function parallelRound(l: ParallelLine, n: number, runArgs: string[], env: NodeJS.ProcessEnv): Promise<string> {
  const d = l.daemon;
  const timed = (argv: string[]): Promise<TimedResult> => timedChild(argv, 300, { keepStdout: true, env });
  const cpu0 = cpuJiffies().busy;
  const t0 = performance.now();
  const runs = await Promise.all(Array.from({ length: n }, () => timed(dockerArgv(d, ['run', '-d', ...runArgs]))));
  const t1 = performance.now();
  const ids = runs.filter((r) => r.status === 0).map((r) => r.stdout.trim()).filter(Boolean);
  const failed = runs.filter((r) => r.status !== 0);
  const rm = ids.length ? await timed(dockerArgv(d, ['rm', '-f', ...ids])) : undefined;
  const t2 = performance.now();
  const cpu = (cpuJiffies().busy - cpu0) / 100;
  let left: string[] = [];
  let tidyError: string | undefined;
  try {
    left = await listAllContainers(d.socket);
    if (left.length) await removeContainers(d.socket, left, 8);
  } catch (err) {
    checkAborted();
    tidyError = (err as Error).message;
  }
  let wrong: string | undefined;
  if (failed.length) wrong = `${failed.length}/${n} run -d failed (${firstLine(failed[0]!)})`;
  else if (rm && rm.status !== 0) wrong = `rm -f failed (${firstLine(rm)})`;
  else if (left.length) wrong = `${left.length} container(s) still listed after rm -f`;
  else if (tidyError) wrong = `listing/removing what was left: ${tidyError}`;
  if (wrong) {
    l.failures.push(wrong);
    return `${d.name} FAILED: ${wrong}`;
  }
  l.total.push(t2 - t0);
  l.runPhase.push(t1 - t0);
  l.rmPhase.push(t2 - t1);
  l.cpuSeconds.push(cpu);
  return `${d.name} ${fmtMs(t2 - t0)} ms (run -d ${fmtMs(t1 - t0)}, rm -f ${fmtMs(t2 - t1)}; machine CPU ${cpu.toFixed(2)} s)`;
}
