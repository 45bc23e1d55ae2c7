// The daemon benchmark (issue 5, "Done means" 5): berthd beside a private dockerd (Debian
// docker.io 20.10, with --docker), in one run, both driven by the same docker CLI
// (/usr/bin/docker, API 1.41), and berthd also by the berth CLI.
//
//   node dist/bench/daemon.js [--docker] [--iterations N] [--warmup N] [--rounds N] [--parallel N]
//                             [--ps-containers N] [--ps-runs N] [--create-concurrency N] [--only run,parallel,ps]
//                             [--settle S] [--data DIR]
//
// 1. `docker run --rm --network none busybox true`, timed from the CLI's spawn to its exit,
//    against berthd and dockerd; and `berth run --rm --network none busybox true` (node
//    bin/berth.js, Node's start-up included) against berthd. They take turns in every
//    iteration (the order rotates), each starting on idle CPUs; warm-up runs first.
// 2. 20 (--parallel) `docker run -d --network none busybox sleep 60` at once, then one
//    `docker rm -f` of all 20: wall time from the first spawn to rm's exit, per round; the
//    daemons alternate, and each round waits for the CPUs to be idle before it starts. A round with a failed command is not timed (its failures are reported)
//    and whatever it left is removed through the API.
// 3. Idle RSS (VmRSS from /proc/<pid>/status of the daemon and its child processes: berthd;
//    dockerd + its containerd) after start-up and after parts 1-2, each after --settle seconds
//    of quiet; and, for information, with the --ps-containers created containers.
// 4. `docker ps -a` (and `berth ps -a`) with 1000 created, never started containers (made with
//    `POST /containers/create` over the socket, 8 in flight — that time is reported too), a
//    few runs each, alternating; each output is checked to list them all.
//
// The image: /bin/busybox (busybox-static) with its applets as symlinks, tarred and
// `docker import`ed into both daemons as busybox:latest; no registry. Everything lives in one
// run-* directory under the data dir, the daemons' exec roots on a tmpfs mounted in it (where
// /run would hold them by default); both daemons are stopped by pid (berthd's containers,
// which outlive it on purpose, are then killed through berth-runtime), mounts unmounted and the
// directory removed on success, failure, Ctrl-C or SIGTERM. Timings are printed, never asserted.
import { existsSync, readdirSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { DaemonBenchWork, BUSYBOX, DOCKER_CLI, dockerArgv, firstLine, importImage, makeBusyboxTar, makeClientEnv, parallelRound, type BenchDaemon, type ParallelLine } from './daemon-parts.js';
import { BERTH_JS, startBerthd, stopBerthd, type BerthdState } from './berthd.js';
import {
  addNote, checkAborted, fmtMs, gitState, loadAverage1, waitForQuietCpu, pairedRatio, parseFlags, readFileSafe, run,
  runBenchMain, stats, timedChild, uptime, type Stats, type TimedResult,
} from './common.js';
import { stopDockerd, type DockerdState } from './dockerd.js';
import { createContainers, engineRequest, removeContainers } from './engine.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const IMAGE = 'busybox';
/** The client both daemons are driven with: Debian docker.io's, API 1.41 like the dockerd. */
const LOAD_WARN = 2.5;
const TARGET = { run: 0.25, parallel: 0.25, rssMiB: 60 };

// ---------------------------------------------------------------- options

type Part = 'run' | 'parallel' | 'ps';
const PARTS: readonly Part[] = ['run', 'parallel', 'ps'];

interface Options {
  docker: boolean;
  iterations: number;
  warmup: number;
  rounds: number;
  parallel: number;
  psContainers: number;
  psRuns: number;
  createConcurrency: number;
  only: Part[];
  settleS: number;
  data: string;
}

const USAGE = `usage: node dist/bench/daemon.js [options]
  --docker            also measure a private dockerd (Debian docker.io) beside berthd: the ratios
  --iterations N      timed \`run --rm … true\` per line (default 10)
  --warmup N          untimed ones per line first (default 1)
  --rounds N          timed rounds of parallel run -d + rm -f per daemon (default 5)
  --parallel N        containers per round (default 20)
  --ps-containers N   created containers for \`ps -a\` (default 1000)
  --ps-runs N         timed \`ps -a\` per line (default 5, after 1 untimed)
  --create-concurrency N  API requests in flight while creating them (default 8)
  --only LIST         parts to run: run,parallel,ps (default all; RSS is always read)
  --settle S          seconds of quiet before each RSS reading (default 3)
  --data DIR          where the work dir goes (default $BERTH_BENCH_DIR or /var/tmp/berth-bench)
Needs root, /bin/busybox (busybox-static) and /usr/bin/docker (docker.io); --docker needs dockerd.
`;

function parseOptions(argv: string[]): Options {
  const o: Options = {
    docker: false, iterations: 10, warmup: 1, rounds: 5, parallel: 20, psContainers: 1000, psRuns: 5, createConcurrency: 8,
    only: [...PARTS], settleS: 3, data: process.env.BERTH_BENCH_DIR ?? '/var/tmp/berth-bench',
  };
  parseFlags(argv, USAGE, (flag, v) => {
    switch (flag) {
      case '--docker': o.docker = true; break;
      case '--iterations': case '-n': o.iterations = v.int(1); break;
      case '--warmup': o.warmup = v.int(0); break;
      case '--rounds': o.rounds = v.int(1); break;
      case '--parallel': o.parallel = v.int(1); break;
      case '--ps-containers': o.psContainers = v.int(1); break;
      case '--ps-runs': o.psRuns = v.int(1); break;
      case '--create-concurrency': o.createConcurrency = v.int(1); break;
      case '--only': o.only = v.list(PARTS); break;
      case '--settle': o.settleS = v.int(0); break;
      case '--data': o.data = v.path(); break;
      default: return false;
    }
    return true;
  });
  return o;
}

// ---------------------------------------------------------------- state and clean-up

const bench = new DaemonBenchWork();
const notes = bench.notes;

const sleep = (ms: number): Promise<void> => new Promise((res) => setTimeout(res, ms));

// ---------------------------------------------------------------- the daemons and the clients

/** One daemon under test, as the parts see it. */
interface Daemon extends BenchDaemon {
  /** Processes that belong to it besides its own tree (dockerd: a containerd that is not its child). */
  extraPids: () => number[];
}

function berthDaemon(b: BerthdState): Daemon {
  return { name: 'berthd', socket: b.socket, host: b.host, pid: b.pid, extraPids: () => [] };
}

function dockerDaemon(d: DockerdState): Daemon {
  const containerdPidFile = join(d.execRoot, 'containerd', 'containerd.pid');
  return {
    name: 'dockerd', socket: d.socket, host: d.host, pid: d.pid,
    extraPids: () => {
      const pid = Number.parseInt(readFileSafe(containerdPidFile), 10);
      return Number.isInteger(pid) ? [pid] : [];
    },
  };
}

let clientEnv: NodeJS.ProcessEnv = process.env;

const berthArgv = (d: Daemon, args: string[]): string[] => [process.execPath, BERTH_JS, '-H', d.host, ...args];

function timed(argv: string[], keepStdout = false, timeoutS = 300): Promise<TimedResult> {
  return timedChild(argv, timeoutS, { keepStdout, env: clientEnv });
}

// ---------------------------------------------------------------- the image

// ---------------------------------------------------------------- RSS

interface RssReading {
  kib: number;
  /** "berthd 61.2", "dockerd 80.1 + containerd 40.3" (MiB). */
  parts: string;
}

function rssKib(pid: number): number {
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSafe(`/proc/${pid}/status`));
  return m ? Number(m[1]) : 0;
}

/** pid and every process below it (parent links from /proc/<pid>/stat). */
function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const ppid = Number(readFileSafe(`/proc/${name}/stat`).split(') ')[1]?.split(' ')[1]);
    if (!Number.isInteger(ppid)) continue;
    if (!children.has(ppid)) children.set(ppid, []);
    children.get(ppid)!.push(Number(name));
  }
  const out: number[] = [];
  const todo = [pid];
  while (todo.length) {
    const p = todo.pop()!;
    out.push(p);
    todo.push(...(children.get(p) ?? []));
  }
  return out;
}

function readRss(d: Daemon): RssReading {
  const pids = [...new Set([...processTree(d.pid), ...d.extraPids().flatMap(processTree)])];
  const byName = new Map<string, number>();
  let kib = 0;
  for (const pid of pids) {
    const k = rssKib(pid);
    if (!k) continue;
    kib += k;
    const name = pid === d.pid ? d.name : readFileSafe(`/proc/${pid}/comm`).trim() || String(pid);
    byName.set(name, (byName.get(name) ?? 0) + k);
  }
  return { kib, parts: [...byName].map(([n, k]) => `${n} ${(k / 1024).toFixed(1)}`).join(' + ') };
}

const mib = (kib: number | undefined): string => (kib === undefined ? '-' : (kib / 1024).toFixed(1));

// ---------------------------------------------------------------- lines of samples

interface Line {
  label: string;
  daemon: Daemon;
  argv: string[];
  samples: number[];
  failures: string[];
  /** Why it was not measured. */
  skipped?: string;
}

/**
 * Runs each line `warmup + iterations` times, taking turns (the order rotates every iteration).
 * A line whose warm-up fails is skipped with that reason; later failures are counted, not timed.
 * check (optional) says what is wrong with a successful run's output.
 */
async function alternate(lines: Line[], warmup: number, iterations: number, what: string, check?: (l: Line, r: TimedResult) => string | undefined): Promise<void> {
  for (let i = 0; i < warmup + iterations; i++) {
    const isTimed = i >= warmup;
    const order = lines.map((_, k) => lines[(k + i) % lines.length]!);
    const shown: string[] = [];
    for (const l of order) {
      checkAborted();
      if (l.skipped) continue;
      await waitForQuietCpu();
      const r = await timed(l.argv, check !== undefined);
      const wrong = r.status !== 0 ? firstLine(r) : check?.(l, r);
      if (wrong) {
        if (!isTimed || (!l.samples.length && l.failures.length >= 2)) l.skipped = `failed: ${wrong}`;
        else l.failures.push(wrong);
        shown.push(`${l.label} FAILED`);
        continue;
      }
      if (isTimed) l.samples.push(r.ms);
      shown.push(`${l.label} ${fmtMs(r.ms)}`);
    }
    if (!shown.length) break;
    process.stderr.write(`  ${isTimed ? `${what} ${i - warmup + 1}/${iterations}` : 'warm-up'}: ${shown.join(', ')} ms   (load ${loadAverage1().toFixed(2)})\n`);
  }
}

// ---------------------------------------------------------------- part 2: parallel run -d, then rm -f

async function parallelPart(o: Options, daemons: Daemon[]): Promise<ParallelLine[]> {
  const lines = daemons.map((daemon): ParallelLine => ({ daemon, total: [], runPhase: [], rmPhase: [], cpuSeconds: [], failures: [] }));
  for (let i = 0; i < o.rounds; i++) {
    const order = i % 2 === 0 ? lines : [...lines].reverse();
    const shown: string[] = [];
    for (const l of order) {
      checkAborted();
      // Each round starts on an idle machine: the last one's background clean-up is not timed.
      await waitForQuietCpu();
      shown.push(await parallelRound(l, o.parallel, ['--network', 'none', IMAGE, 'sleep', '60'], clientEnv));
    }
    process.stderr.write(`  round ${i + 1}/${o.rounds}: ${shown.join('; ')}   (load ${loadAverage1().toFixed(2)})\n`);
  }
  return lines;
}

// ---------------------------------------------------------------- part 4: ps -a with many containers

interface PsPart {
  lines: Line[];
  /** ms to create the containers through the API, per daemon. */
  create: Map<string, number>;
  createFailures: Map<string, string>;
  rssWithContainers: Map<string, RssReading>;
}

async function psPart(o: Options, daemons: Daemon[]): Promise<PsPart> {
  const create = new Map<string, number>();
  const createFailures = new Map<string, string>();
  const rssWithContainers = new Map<string, RssReading>();
  const body = { Image: IMAGE, Cmd: ['true'], HostConfig: { NetworkMode: 'none' } };
  const made = new Map<string, string[]>();
  for (const d of daemons) {
    const t0 = performance.now();
    try {
      let sent = 0;
      const progress = (): void => {
        checkAborted();
        if (++sent % 250 === 0 && sent < o.psContainers) process.stderr.write(`  ${d.name}: ${sent}/${o.psContainers} create requests sent…\n`);
      };
      const ids = await createContainers(d.socket, body, o.psContainers, o.createConcurrency, progress);
      create.set(d.name, performance.now() - t0);
      made.set(d.name, ids);
      process.stderr.write(`  ${d.name}: created ${ids.length} containers through the API in ${fmtMs(performance.now() - t0)} ms (${o.createConcurrency} in flight)\n`);
    } catch (err) {
      checkAborted();
      createFailures.set(d.name, (err as Error).message);
      process.stderr.write(`  ${d.name}: creating the containers failed: ${(err as Error).message}\n`);
    }
  }
  const lines: Line[] = [];
  for (const d of daemons) {
    const skipped = createFailures.get(d.name);
    lines.push({ label: `docker ps -a → ${d.name}`, daemon: d, argv: dockerArgv(d, ['ps', '-a']), samples: [], failures: [], skipped });
    if (d.name === 'berthd') lines.push({ label: 'berth ps -a → berthd', daemon: d, argv: berthArgv(d, ['ps', '-a']), samples: [], failures: [], skipped });
  }
  // Every run must list them all: a header and one line per container.
  const check = (_l: Line, r: TimedResult): string | undefined => {
    const rows = r.stdout.split('\n').filter(Boolean).length - 1;
    return rows === o.psContainers ? undefined : `listed ${rows} containers, not ${o.psContainers}`;
  };
  await alternate(lines, 1, o.psRuns, 'ps -a', check);
  if (o.settleS) await sleep(o.settleS * 1000);
  for (const d of daemons) if (made.has(d.name)) rssWithContainers.set(d.name, readRss(d));
  for (const d of daemons) {
    const ids = made.get(d.name);
    if (!ids) continue;
    const t0 = performance.now();
    try {
      await removeContainers(d.socket, ids, o.createConcurrency);
      process.stderr.write(`  ${d.name}: removed them in ${fmtMs(performance.now() - t0)} ms\n`);
    } catch (err) {
      checkAborted();
      addNote(notes, `${d.name}: removing the ${ids.length} created containers failed (the daemon's clean-up will do): ${(err as Error).message}`);
    }
  }
  return { lines, create, createFailures, rssWithContainers };
}

// ---------------------------------------------------------------- report

function row(cells: string[], widths: number[]): string {
  return cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
}

const W = [34, 9, 8, 8, 8, 3, 14];
const HEAD = row(['', 'median ms', 'p90', 'min', 'max', 'n', 'vs dockerd'], W);

function statLine(label: string, s: Stats | undefined, ratio: string, why?: string, failures: string[] = []): string {
  const failed = failures.length ? `   (${failures.length} failed: ${failures[0]})` : '';
  if (!s) return `${label.padEnd(W[0]!)}  ${why ?? 'not measured'}${failed}`;
  return row([label, fmtMs(s.median), fmtMs(s.p90), fmtMs(s.min), fmtMs(s.max), String(s.n), ratio], W) + failed;
}

/** "0.21x" of a's median over b's, or ''. */
function ratioOf(a: Stats | undefined, b: Stats | undefined): number | undefined {
  return a && b ? a.median / b.median : undefined;
}

const fmtRatio = (r: number | undefined): string => (r === undefined ? '' : `${r.toFixed(2)}x`);
const verdict = (r: number | undefined, target: number): string => (r === undefined ? '' : r <= target ? 'target met' : 'target NOT met');

interface JsonStats {
  median: number;
  p90: number;
  min: number;
  max: number;
  n: number;
  failures?: number;
}

function jsonStats(s: Stats | undefined, failures: number): JsonStats | null {
  if (!s) return null;
  const r = (x: number): number => Math.round(x * 10) / 10;
  return { median: r(s.median), p90: r(s.p90), min: r(s.min), max: r(s.max), n: s.n, ...(failures ? { failures } : {}) };
}

const round2 = (x: number | undefined): number | null => (x === undefined ? null : Math.round(x * 100) / 100);

// ---------------------------------------------------------------- main

async function main(o: Options): Promise<number> {
  if (!existsSync(BUSYBOX)) throw new Error(`${BUSYBOX} is missing (apt-get install busybox-static)`);
  if (!existsSync(DOCKER_CLI)) throw new Error(`${DOCKER_CLI} is missing (apt-get install docker.io): both daemons are driven with it`);
  const loadAtStart = loadAverage1();
  if (loadAtStart > LOAD_WARN) addNote(notes, `the 1-minute load average was ${loadAtStart.toFixed(2)} at the start (> ${LOAD_WARN}): other work shares the CPUs, figures are noisy`);
  const { work, execBase } = bench.create(o.data, 'daemon-');
  clientEnv = makeClientEnv(join(work, 'client-config'));
  const tar = makeBusyboxTar(join(work, 'image'));

  // berthd
  // As dockerd here (--bridge=none --iptables=false): these runs use --network none, and the
  // daemon leaves no bridge or firewall table behind.
  const berthConfig = { bridge: 'none', iptables: false };
  const berthd = await startBerthd(join(work, 'berthd'), notes, join(execBase, 'berthd'), berthConfig);
  const b = berthDaemon(berthd);
  const berthVersion = (await engineRequest(b.socket, 'GET', '/version')).body;
  const berthVersionLine = (() => {
    try {
      const v = JSON.parse(berthVersion) as { Version?: string; ApiVersion?: string };
      return `${v.Version ?? '?'} (API ${v.ApiVersion ?? '?'})`;
    } catch {
      return '?';
    }
  })();

  // dockerd
  const { dockerd, note: dockerNote } = await bench.startDockerd(o.docker);
  let dockerVersion = '';
  if (dockerd) {
    dockerVersion = run([DOCKER_CLI, '-H', dockerd.host, 'info', '--format', '{{.ServerVersion}}, {{.Driver}}, cgroup {{.CgroupVersion}}/{{.CgroupDriver}}'], { env: clientEnv }).stdout.trim();
    if (!readFileSafe(join(dockerd.execRoot, 'containerd', 'containerd.pid'))) addNote(notes, 'docker: dockerd runs no containerd of its own (a system containerd?): its RSS is not counted');
  }
  const dk = dockerd ? dockerDaemon(dockerd) : undefined;
  const daemons = dk ? [b, dk] : [b];

  const header = [
    `berth daemon benchmark — ${new Date().toISOString()}`,
    `machine: ${cpus().length} CPU (${cpus()[0]?.model.trim() ?? '?'}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Linux ${release()}, node ${process.version}`,
    `berth: ${gitState(REPO)}; berthd ${berthVersionLine}, ${berthd.dir} (daemon.json ${JSON.stringify(berthConfig)})`,
    `dockerd: ${dk ? `${dockerVersion}, private (bench/dockerd.ts: no bridge, no iptables)` : dockerNote}`,
    `client: ${DOCKER_CLI} ${run([DOCKER_CLI, '--version']).stdout.trim()}; berth CLI: node ${BERTH_JS}`,
    `image: ${IMAGE}:latest = ${BUSYBOX} (${run([BUSYBOX]).stdout.split('\n')[0]?.replace(/ multi-call binary.*/, '').trim() ?? ''}) + applet symlinks, docker import'ed into each daemon`,
    `uptime at start: ${uptime()}`,
  ];
  process.stderr.write(header.join('\n') + '\n\n');

  // RSS after start-up: before anything else talks to the daemons.
  if (o.settleS) await sleep(o.settleS * 1000);
  const rssStart = new Map(daemons.map((d) => [d.name, readRss(d)]));

  for (const d of daemons) importImage(d, tar, `${IMAGE}:latest`, clientEnv);

  // part 1: run --rm … true
  let runLines: Line[] = [];
  if (o.only.includes('run')) {
    process.stderr.write(`run --rm --network none ${IMAGE} true (${o.warmup} warm-up + ${o.iterations} each, taking turns):\n`);
    const runArgs = ['run', '--rm', '--network', 'none', IMAGE, 'true'];
    runLines = [
      { label: 'docker CLI → berthd', daemon: b, argv: dockerArgv(b, runArgs), samples: [], failures: [] },
      ...(dk ? [{ label: 'docker CLI → dockerd', daemon: dk, argv: dockerArgv(dk, runArgs), samples: [], failures: [] }] : []),
      { label: 'berth CLI → berthd', daemon: b, argv: berthArgv(b, runArgs), samples: [], failures: [] },
    ];
    await alternate(runLines, o.warmup, o.iterations, 'iteration');
  }

  // part 2: parallel run -d, then rm -f
  let parLines: ParallelLine[] = [];
  if (o.only.includes('parallel')) {
    process.stderr.write(`\n${o.parallel} parallel run -d --network none ${IMAGE} sleep 60, then rm -f of all (${o.rounds} rounds, alternating):\n`);
    parLines = await parallelPart(o, daemons);
  }

  // part 3: RSS after the runs
  if (o.settleS) await sleep(o.settleS * 1000);
  const rssAfter = new Map(daemons.map((d) => [d.name, readRss(d)]));

  // part 4: ps -a with many containers
  let ps: PsPart | undefined;
  if (o.only.includes('ps')) {
    process.stderr.write(`\nps -a with ${o.psContainers} created containers (1 warm-up + ${o.psRuns} each, taking turns):\n`);
    ps = await psPart(o, daemons);
  }

  // ---- the table
  const out: string[] = [...header, ''];
  const json: Record<string, unknown> = {
    bench: 'daemon', date: new Date().toISOString(), commit: gitState(REPO), loadAtStart, dockerd: dk ? dockerVersion : null,
  };
  const targets: Record<string, boolean | null> = {};
  if (runLines.length) {
    const [onBerth, onDocker, berthCli] = [runLines[0]!, runLines.find((l) => l.daemon.name === 'dockerd'), runLines[runLines.length - 1]!];
    const sB = stats(onBerth.samples);
    const sD = onDocker ? stats(onDocker.samples) : undefined;
    const sC = stats(berthCli.samples);
    const r = ratioOf(sB, sD);
    const rCli = ratioOf(sC, sD);
    out.push(`1. run --rm --network none ${IMAGE} true, CLI spawn → exit   [target: ≤ ${TARGET.run}x dockerd's time]`);
    out.push(`method: ${o.warmup} warm-up + ${o.iterations} iterations per line, lines take turns (order rotates)`);
    out.push(HEAD);
    out.push(statLine(onBerth.label, sB, fmtRatio(r), onBerth.skipped, onBerth.failures));
    out.push(onDocker ? statLine(onDocker.label, sD, sD ? '1.00x' : '', onDocker.skipped, onDocker.failures) : statLine('docker CLI → dockerd', undefined, '', dockerNote));
    out.push(statLine(berthCli.label, sC, fmtRatio(rCli), berthCli.skipped ? `skipped: ${berthCli.skipped}` : undefined, berthCli.failures));
    if (r !== undefined) out.push(`berthd/dockerd (docker CLI): ${fmtRatio(r)} (p90 ${fmtRatio(sB!.p90 / sD!.p90)}; median of per-iteration ratios ${pairedRatio(onBerth.samples, onDocker!.samples)}) — ${verdict(r, TARGET.run)}`);
    if (rCli !== undefined) out.push(`berth CLI → berthd / docker CLI → dockerd: ${fmtRatio(rCli)} (p90 ${fmtRatio(sC!.p90 / sD!.p90)}) — ${verdict(rCli, TARGET.run)}`);
    targets.run = r === undefined ? null : r <= TARGET.run;
    targets.runBerthCli = rCli === undefined ? null : rCli <= TARGET.run;
    json.run = {
      dockerCliBerthd: jsonStats(sB, onBerth.failures.length), dockerCliDockerd: onDocker ? jsonStats(sD, onDocker.failures.length) : null,
      berthCliBerthd: jsonStats(sC, berthCli.failures.length), berthCliSkipped: berthCli.skipped ?? null,
      ratio: round2(r), ratioP90: round2(sB && sD ? sB.p90 / sD.p90 : undefined), ratioBerthCli: round2(rCli),
    };
    out.push('');
  }
  if (parLines.length) {
    const [pb, pd] = [parLines[0]!, parLines[1]];
    const sB = stats(pb.total);
    const sD = pd ? stats(pd.total) : undefined;
    const r = ratioOf(sB, sD);
    out.push(`2. ${o.parallel} parallel \`docker run -d --network none ${IMAGE} sleep 60\`, then \`docker rm -f\` of all; wall time   [target: ≤ ${TARGET.parallel}x dockerd's]`);
    out.push(`method: ${o.rounds} round(s) per daemon, alternating; time = first spawn → rm's exit; a round with a failure is not timed`);
    out.push(HEAD);
    for (const l of parLines) {
      const s = stats(l.total);
      out.push(statLine(l.daemon.name, s, l.daemon.name === 'dockerd' ? (s ? '1.00x' : '') : fmtRatio(r), undefined, l.failures));
      const rp = stats(l.runPhase);
      const mp = stats(l.rmPhase);
      const cs = stats(l.cpuSeconds);
      if (rp && mp) out.push(`  ${l.daemon.name} phases (medians): run -d ×${o.parallel} ${fmtMs(rp.median)} ms, rm -f ${fmtMs(mp.median)} ms; busy CPU of the machine ${cs ? cs.median.toFixed(2) : '?'} s per round`);
    }
    if (!pd) out.push(statLine('dockerd', undefined, '', dockerNote));
    if (r !== undefined) out.push(`berthd/dockerd: ${fmtRatio(r)} (median of per-round ratios ${pairedRatio(pb.total, pd!.total)}) — ${verdict(r, TARGET.parallel)}`);
    targets.parallel = r === undefined ? null : r <= TARGET.parallel;
    json.parallel = {
      containers: o.parallel, berthd: jsonStats(sB, pb.failures.length), dockerd: pd ? jsonStats(sD, pd.failures.length) : null, ratio: round2(r),
      berthdFailures: pb.failures, dockerdFailures: pd?.failures ?? [],
    };
    out.push('');
  }
  {
    out.push(`3. idle RSS (VmRSS of the daemon and its child processes, MiB, after ${o.settleS} s of quiet)   [target: berthd ≤ ${TARGET.rssMiB} MiB]`);
    const RW = [10, 16, 16, 24];
    out.push(row(['', 'after start-up', 'after the runs', ...(ps ? [`with ${o.psContainers} created`] : [])], RW));
    for (const d of daemons) {
      const s = rssStart.get(d.name)!;
      const a = rssAfter.get(d.name)!;
      const w = ps?.rssWithContainers.get(d.name);
      out.push(row([d.name, mib(s.kib), mib(a.kib), ...(ps ? [mib(w?.kib)] : [])], RW) + `   (after the runs: ${a.parts})`);
    }
    if (!dk) out.push(`dockerd     ${dockerNote}`);
    const worst = Math.max(rssStart.get('berthd')!.kib, rssAfter.get('berthd')!.kib) / 1024;
    out.push(`berthd: ${worst.toFixed(1)} MiB at most — ${worst <= TARGET.rssMiB ? 'target met' : 'target NOT met'}${dk ? `; berthd/docker after the runs: ${fmtRatio(rssAfter.get('berthd')!.kib / rssAfter.get('dockerd')!.kib)}` : ''}`);
    targets.rss = worst <= TARGET.rssMiB;
    const jr = (m: Map<string, RssReading> | undefined, name: string): number | null => {
      const v = m?.get(name);
      return v ? Math.round((v.kib / 1024) * 10) / 10 : null;
    };
    json.rssMiB = {
      berthdStart: jr(rssStart, 'berthd'), berthdAfterRuns: jr(rssAfter, 'berthd'), berthdWithCreated: jr(ps?.rssWithContainers, 'berthd'),
      dockerStart: jr(rssStart, 'dockerd'), dockerAfterRuns: jr(rssAfter, 'dockerd'), dockerWithCreated: jr(ps?.rssWithContainers, 'dockerd'),
    };
    out.push('');
  }
  if (ps) {
    const [lb, lc, ld] = [ps.lines.find((l) => l.label.startsWith('docker ps -a → berthd'))!, ps.lines.find((l) => l.label.startsWith('berth'))!, ps.lines.find((l) => l.daemon.name === 'dockerd')];
    const sB = stats(lb.samples);
    const sC = stats(lc.samples);
    const sD = ld ? stats(ld.samples) : undefined;
    const r = ratioOf(sB, sD);
    out.push(`4. ps -a with ${o.psContainers} created (not started) containers, CLI spawn → exit (output piped, checked to list them all)`);
    out.push(`method: containers made with POST /containers/create, ${o.createConcurrency} in flight; 1 warm-up + ${o.psRuns} runs per line, taking turns`);
    out.push(HEAD);
    out.push(statLine(lb.label, sB, fmtRatio(r), lb.skipped, lb.failures));
    out.push(ld ? statLine(ld.label, sD, sD ? '1.00x' : '', ld.skipped, ld.failures) : statLine('docker ps -a → dockerd', undefined, '', dockerNote));
    out.push(statLine(lc.label, sC, fmtRatio(ratioOf(sC, sD)), lc.skipped, lc.failures));
    if (r !== undefined) out.push(`berthd/dockerd (docker CLI): ${fmtRatio(r)} (median of per-run ratios ${pairedRatio(lb.samples, ld!.samples)})`);
    out.push(`creating ${o.psContainers} through the API: ${daemons.map((d) => `${d.name} ${ps!.create.has(d.name) ? `${fmtMs(ps!.create.get(d.name))} ms` : `failed: ${ps!.createFailures.get(d.name)}`}`).join(', ')}`);
    json.ps = {
      containers: o.psContainers, dockerCliBerthd: jsonStats(sB, lb.failures.length), dockerCliDockerd: ld ? jsonStats(sD, ld.failures.length) : null,
      berthCliBerthd: jsonStats(sC, lc.failures.length), ratio: round2(r),
      createMs: Object.fromEntries([...ps.create].map(([k, v]) => [k, Math.round(v)])),
    };
    out.push('');
  }
  json.targets = targets;
  out.push(`uptime at end: ${uptime()}`);
  process.stdout.write('\n' + out.join('\n') + '\n' + JSON.stringify(json) + '\n');

  await stopBerthd(berthd, notes);
  if (dockerd) await stopDockerd(dockerd, notes);
  return 0;
}

const options = parseOptions(process.argv.slice(2));
await runBenchMain({ rootNeededFor: 'berthd and dockerd run containers', cleanup: bench.cleanup, notes }, () => main(options));
