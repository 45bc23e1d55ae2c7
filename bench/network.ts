// The network benchmark (issue 6): berthd with its bridge networking beside a private dockerd
// (Debian docker.io 20.10, with --docker) with its own, in one run, both driven by the same
// docker CLI (/usr/bin/docker, API 1.41).
//
//   node dist/bench/network.js [--docker] [--iterations N] [--warmup N] [--rounds N] [--parallel N]
//                              [--transfers N] [--mib N] [--only run,parallel,tcp] [--data DIR]
//
// 1. `docker run --rm --pull never busybox true` on the default bridge (no --network),
//    CLI spawn → exit, against berthd and dockerd; the same with `--network none` beside it,
//    so the bridge's own cost shows. The lines take turns (the order rotates), each run
//    starting on idle CPUs; warm-up runs first. berthd runs at --log-level debug, and its
//    `started <id>: mount …, spec …, create …, start …` lines are collected per line (the
//    network namespace, veth and address are made in "spec").
// 2. 20 (--parallel) `docker run -d --pull never busybox sleep 300` at once on the default
//    bridge, then one `docker rm -f` of all 20: wall time from the first spawn to rm's exit, per
//    round; the daemons alternate, each round starting on idle CPUs (bench/daemon-parts.ts).
// 3. TCP throughput from the host into a container: one container per daemon runs
//    `nc -ll -p 5001 -e dd of=/dev/null bs=1M` (a sink per connection), published on
//    127.0.0.1 and on the host's own address; the bench process itself sends --mib MiB of
//    zeros (1 MiB writes) and times connect → the sink's close, through 127.0.0.1 (dockerd
//    20.10: its userland docker-proxy; berthd: kernel DNAT), through the host address (both:
//    kernel DNAT from the OUTPUT hook) and straight to the container's address (no NAT: the
//    baseline). Every transfer starts on idle CPUs; CPU time of the whole machine per GiB
//    (/proc/stat) is reported beside MB/s.
//
// Network set-up: berthd gets a bridge, firewall-name and address pool of its own (10.40-89.x,
// outside test/helpers/berthd.ts's 10.100-249.x) and ip-forward false; dockerd gets docker0
// (which must not exist yet) with --bip 172.30.254.1/24, iptables on, --ip-forward=false (no
// FORWARD policy change), userland proxy on (its default). Host traffic goes only to loopback,
// the host's address and the containers. Before dockerd starts, the iptables filter/nat rules,
// nft tables, links and sysctls are snapshotted (bench/docker-firewall.ts) and afterwards what
// dockerd added is removed; berthd's bridges (<data-root>/networks/*.json) and its nft table
// are deleted. Both daemons are stopped by pid, their containers killed, mounts unmounted and
// the run directory removed, on success, failure, Ctrl-C or SIGTERM. Timings are printed,
// never asserted.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { cpus, release, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { randomBytes, randomInt } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startBerthd, stopBerthd } from './berthd.js';
import {
  addNote, checkAborted, cpuJiffies, fmtMs, gitState, loadAverage1, pairedRatio, parseFlags, readFileSafe,
  run, runBenchMain, stats, timedChild, uptime, waitForQuietCpu, type Stats,
} from './common.js';
import {
  benchDaemon, BUSYBOX, DaemonBenchWork, DOCKER_CLI, dockerArgv, firstLine, importImage, makeBusyboxTar, makeClientEnv, parallelRound, type BenchDaemon, type ParallelLine,
} from './daemon-parts.js';
import { links, restoreFirewall, snapshotFirewall, type FirewallSnapshot } from './docker-firewall.js';
import { stopDockerd } from './dockerd.js';
import { engineRequest } from './engine.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const IMAGE = 'busybox:latest';
const LOAD_WARN = 2.5;
const TARGET = { run: 0.25, parallel: 0.25, tcp: 1 };
const DOCKER_BRIDGE = 'docker0';
const DOCKER_BIP = '172.30.254.1/24';
const DOCKER_SUBNET_PREFIX = '172.30.254.';
const SINK_PORT = 5001;

// ---------------------------------------------------------------- options

type Part = 'run' | 'parallel' | 'tcp';
const PARTS: readonly Part[] = ['run', 'parallel', 'tcp'];

interface Options {
  docker: boolean;
  iterations: number;
  warmup: number;
  rounds: number;
  parallel: number;
  transfers: number;
  mib: number;
  only: Part[];
  data: string;
}

const USAGE = `usage: node dist/bench/network.js [options]
  --docker            also measure a private dockerd (Debian docker.io) with its bridge beside berthd: the ratios
  --iterations N      timed \`run --rm … true\` per line (default 10)
  --warmup N          untimed ones per line first, and untimed transfers per path (default 1)
  --rounds N          timed rounds of parallel run -d + rm -f per daemon (default 5)
  --parallel N        containers per round (default 20)
  --transfers N       timed TCP transfers per path and daemon (default 5)
  --mib N             MiB sent per transfer (default 1024)
  --only LIST         parts to run: run,parallel,tcp (default all)
  --data DIR          where the work dir goes (default $BERTH_BENCH_DIR or /var/tmp/berth-bench)
Needs root, /bin/busybox (busybox-static), /usr/bin/docker (docker.io), ip, nft, iptables;
--docker needs dockerd and no docker0 bridge on the host.
`;

function parseOptions(argv: string[]): Options {
  const o: Options = {
    docker: false, iterations: 10, warmup: 1, rounds: 5, parallel: 20, transfers: 5, mib: 1024, only: [...PARTS],
    data: process.env.BERTH_BENCH_DIR ?? '/var/tmp/berth-bench',
  };
  parseFlags(argv, USAGE, (flag, v) => {
    switch (flag) {
      case '--docker': o.docker = true; break;
      case '--iterations': case '-n': o.iterations = v.int(1); break;
      case '--warmup': o.warmup = v.int(0); break;
      case '--rounds': o.rounds = v.int(1); break;
      case '--parallel': o.parallel = v.int(1); break;
      case '--transfers': o.transfers = v.int(1); break;
      case '--mib': o.mib = v.int(1); break;
      case '--only': o.only = v.list(PARTS); break;
      case '--data': o.data = v.path(); break;
      default: return false;
    }
    return true;
  });
  return o;
}

// ---------------------------------------------------------------- state and clean-up

/** berthd's network settings, for removing what it made. */
let berthNet: { bridge: string; firewallName: string; dataRoot: string } | undefined;
let firewallBefore: FirewallSnapshot | undefined;

/** berthd's bridges (records in <data-root>/networks, and its default one) and its nft table. */
function removeBerthNetworking(n: { bridge: string; firewallName: string; dataRoot: string }): void {
  const bridges = new Set<string>([n.bridge]);
  const dir = join(n.dataRoot, 'networks');
  for (const file of existsSync(dir) ? readdirSync(dir) : []) {
    try {
      const b = (JSON.parse(readFileSync(join(dir, file), 'utf8')) as { bridge?: string }).bridge;
      if (b) bridges.add(b);
    } catch {
      // not a network record
    }
  }
  const present = links();
  const removed: string[] = [];
  for (const b of bridges) {
    if (!present.has(b)) continue;
    const r = spawnSync('ip', ['link', 'del', b], { encoding: 'utf8' });
    if (r.status === 0) removed.push(`bridge ${b}`);
    else notes.push(`ip link del ${b}: ${r.stderr.trim()}`);
  }
  const t = spawnSync('nft', ['list', 'table', 'ip', n.firewallName], { encoding: 'utf8' });
  if (t.status === 0) {
    const r = spawnSync('nft', ['delete', 'table', 'ip', n.firewallName], { encoding: 'utf8' });
    if (r.status === 0) removed.push(`nft table ip ${n.firewallName}`);
    else notes.push(`nft delete table ip ${n.firewallName}: ${r.stderr.trim()}`);
  }
  if (removed.length) notes.push(`berthd's network set-up removed: ${removed.join(', ')}`);
}

const bench = new DaemonBenchWork({
  // Its bridges are read from its data root: before that goes.
  beforeRemove: () => berthNet && removeBerthNetworking(berthNet),
  afterRemove: () => firewallBefore && restoreFirewall(firewallBefore, DOCKER_BRIDGE, DOCKER_SUBNET_PREFIX, notes),
});
const notes = bench.notes;

let clientEnv: NodeJS.ProcessEnv = process.env;

// ---------------------------------------------------------------- berthd's debug log

interface StartTimes {
  mount: number[];
  spec: number[];
  create: number[];
  start: number[];
  /** "POST /containers/{id}/start" → the durations berthd's API log gave it (ms). */
  api: Map<string, number[]>;
}

const STARTED = /started ([0-9a-f]{12}): mount ([\d.]+)ms, spec ([\d.]+)ms, create ([\d.]+)ms, start ([\d.]+)ms/g;
/** The API server's debug line per request: `GET /v1.41/containers/json 200 1.2ms`. */
const REQUEST = /msg="(GET|HEAD|POST|PUT|DELETE) (\/[^ ?"]*)\S* (\d{3}) ([\d.]+)ms"/g;

const normalisePath = (path: string): string => path.replace(/^\/v[\d.]+/, '').replace(/\/[0-9a-f]{64}(?=\/|$)/, '/{id}');

/** Reads berthd's log from where the last call stopped. */
class LogReader {
  private offset = 0;
  constructor(private readonly path: string) {}
  /** The `started` lines since the last call, added to into. */
  collect(into: StartTimes): number {
    const text = readFileSafe(this.path);
    const fresh = text.slice(this.offset);
    this.offset = text.length;
    let n = 0;
    for (const m of fresh.matchAll(STARTED)) {
      into.mount.push(Number(m[2]));
      into.spec.push(Number(m[3]));
      into.create.push(Number(m[4]));
      into.start.push(Number(m[5]));
      n++;
    }
    for (const m of fresh.matchAll(REQUEST)) {
      const key = `${m[1]} ${normalisePath(m[2]!)}`;
      if (!into.api.has(key)) into.api.set(key, []);
      into.api.get(key)!.push(Number(m[4]));
    }
    return n;
  }
}

const newStartTimes = (): StartTimes => ({ mount: [], spec: [], create: [], start: [], api: new Map() });

/** "POST /containers/create 3.1, … ms" (medians), the requests in the order first seen. */
function apiLine(t: StartTimes): string | undefined {
  if (!t.api.size) return undefined;
  return [...t.api].map(([k, v]) => `${k} ${fmtMs(stats(v)!.median)}`).join(', ') + ' ms (medians)';
}

function startTimesLine(t: StartTimes): string | undefined {
  if (!t.mount.length) return undefined;
  const med = (xs: number[]): string => fmtMs(stats(xs)!.median);
  return `mount ${med(t.mount)}, spec ${med(t.spec)} (network attach), create ${med(t.create)}, start ${med(t.start)} ms (medians of ${t.mount.length})`;
}

// ---------------------------------------------------------------- part 1: run --rm … true

interface Line {
  label: string;
  daemon: BenchDaemon;
  argv: string[];
  samples: number[];
  failures: string[];
  skipped?: string;
  berthTimes: StartTimes;
}

async function runPart(lines: Line[], warmup: number, iterations: number, log: LogReader): Promise<void> {
  for (let i = 0; i < warmup + iterations; i++) {
    const isTimed = i >= warmup;
    const order = lines.map((_, k) => lines[(k + i) % lines.length]!);
    const shown: string[] = [];
    for (const l of order) {
      checkAborted();
      if (l.skipped) continue;
      await waitForQuietCpu();
      log.collect(newStartTimes()); // skip what came before
      const r = await timedChild(l.argv, 300, { env: clientEnv });
      if (r.status !== 0) {
        const wrong = firstLine(r);
        if (!isTimed || (!l.samples.length && l.failures.length >= 2)) l.skipped = `failed: ${wrong}`;
        else l.failures.push(wrong);
        shown.push(`${l.label} FAILED`);
        continue;
      }
      if (isTimed) {
        l.samples.push(r.ms);
        if (l.daemon.name === 'berthd') log.collect(l.berthTimes);
      }
      shown.push(`${l.label} ${fmtMs(r.ms)}`);
    }
    if (!shown.length) break;
    process.stderr.write(`  ${isTimed ? `iteration ${i - warmup + 1}/${iterations}` : 'warm-up'}: ${shown.join(', ')} ms   (load ${loadAverage1().toFixed(2)})\n`);
  }
}

// ---------------------------------------------------------------- part 2: parallel run -d, then rm -f

/** veth interfaces on the host: each running container on a bridge has one, for either daemon. */
function vethCount(): number {
  return run(['ip', '-o', 'link', 'show', 'type', 'veth']).stdout.split('\n').filter(Boolean).length;
}

/**
 * Waits (≤ 30 s) until the veths of the previous round are gone: a namespace's veths go when
 * the kernel has torn it down, work the daemon that removed the containers does not wait for
 * and that would otherwise be timed in the other daemon's round.
 */
async function waitForTeardown(baseline: number): Promise<void> {
  const deadline = performance.now() + 30_000;
  while (vethCount() > baseline && performance.now() < deadline) await new Promise((res) => setTimeout(res, 100));
}

async function parallelPart(o: Options, daemons: BenchDaemon[], log: LogReader, berthTimes: StartTimes): Promise<ParallelLine[]> {
  const lines = daemons.map((daemon): ParallelLine => ({ daemon, total: [], runPhase: [], rmPhase: [], cpuSeconds: [], failures: [] }));
  const runArgs = ['--pull', 'never', IMAGE, 'sleep', '300'];
  const baseline = vethCount();
  for (let i = 0; i < o.rounds; i++) {
    const order = i % 2 === 0 ? lines : [...lines].reverse();
    const shown: string[] = [];
    for (const l of order) {
      checkAborted();
      await waitForTeardown(baseline);
      await waitForQuietCpu();
      log.collect(newStartTimes());
      const before = l.failures.length;
      shown.push(await parallelRound(l, o.parallel, runArgs, clientEnv));
      if (l.daemon.name === 'berthd' && l.failures.length === before) log.collect(berthTimes);
    }
    process.stderr.write(`  round ${i + 1}/${o.rounds}: ${shown.join('; ')}   (load ${loadAverage1().toFixed(2)})\n`);
  }
  return lines;
}

// ---------------------------------------------------------------- part 3: TCP throughput

interface Sink {
  daemon: BenchDaemon;
  id: string;
  ip: string;
  loPort: number;
  hostPort: number;
}

type PathKind = 'loopback' | 'host' | 'direct';
const PATH_KINDS: readonly PathKind[] = ['loopback', 'host', 'direct'];

interface TcpLine {
  daemon: BenchDaemon;
  kind: PathKind;
  target: { host: string; port: number };
  label: string;
  /** MB/s (10^6 bytes). */
  mbps: number[];
  /** CPU seconds of the whole machine per GiB sent. */
  cpuPerGiB: number[];
  failures: string[];
  skipped?: string;
}

/** Connects, writes `bytes` of zeros in 1 MiB writes, ends, and resolves when the peer closed too. */
function sendZeros(host: string, port: number, bytes: number, timeoutMs: number): Promise<{ ms: number } | { error: string }> {
  return new Promise((res) => {
    const chunk = Buffer.alloc(1 << 20);
    const t0 = performance.now();
    let sent = 0;
    let error: string | undefined;
    const s = connect({ host, port, noDelay: false });
    const timer = setTimeout(() => s.destroy(new Error(`no end within ${timeoutMs / 1000} s (${(sent / 2 ** 20).toFixed(0)} MiB written)`)), timeoutMs);
    const pump = (): void => {
      while (sent < bytes) {
        const n = Math.min(chunk.length, bytes - sent);
        sent += n;
        if (!s.write(n === chunk.length ? chunk : chunk.subarray(0, n))) {
          s.once('drain', pump);
          return;
        }
      }
      s.end();
    };
    s.on('connect', pump);
    s.on('data', () => undefined); // the sink sends nothing; drain whatever comes
    s.on('error', (err) => (error ??= err.message));
    s.on('close', () => {
      clearTimeout(timer);
      res(error ? { error } : { ms: performance.now() - t0 });
    });
  });
}

/** A TCP connect to host:port that succeeds (then closed), retried for up to ms. */
async function waitListening(host: string, port: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    checkAborted();
    const ok = await new Promise<boolean>((res) => {
      const s = connect({ host, port });
      s.on('connect', () => {
        s.end();
        res(true);
      });
      s.on('error', () => res(false));
    });
    if (ok) return true;
    await new Promise((res) => setTimeout(res, 100));
  }
  return false;
}

async function startSink(d: BenchDaemon, hostIp: string, loPort: number, hostPort: number): Promise<Sink> {
  const args = [
    'run', '-d', '--pull', 'never', '-p', `127.0.0.1:${loPort}:${SINK_PORT}`, '-p', `${hostIp}:${hostPort}:${SINK_PORT}`,
    IMAGE, 'nc', '-ll', '-p', String(SINK_PORT), '-e', 'dd', 'of=/dev/null', 'bs=1M',
  ];
  const r = run(dockerArgv(d, args), { env: clientEnv });
  if (r.status !== 0) throw new Error(`docker run of the sink on ${d.name}: ${firstLine(r)}`);
  const id = r.stdout.trim();
  const inspect = await engineRequest(d.socket, 'GET', `/containers/${id}/json`);
  const ns = (JSON.parse(inspect.body) as { NetworkSettings?: { IPAddress?: string; Networks?: Record<string, { IPAddress?: string }> } }).NetworkSettings;
  const ip = ns?.Networks?.bridge?.IPAddress || ns?.IPAddress || '';
  if (!ip) throw new Error(`${d.name}: the sink container ${id.slice(0, 12)} has no bridge address`);
  if (!(await waitListening(ip, SINK_PORT, 10_000))) throw new Error(`${d.name}: the sink at ${ip}:${SINK_PORT} does not answer`);
  return { daemon: d, id, ip, loPort, hostPort };
}

/** The host's first global IPv4 address (what the default route leaves from). */
function hostAddress(): string {
  // A route lookup only: nothing is sent.
  const m = /\bsrc (\d+\.\d+\.\d+\.\d+)/.exec(run(['ip', '-4', '-o', 'route', 'get', '1.1.1.1']).stdout);
  if (m) return m[1]!;
  const a = /inet (\d+\.\d+\.\d+\.\d+)\/\d+ .*scope global/.exec(run(['ip', '-4', '-o', 'addr', 'show', 'scope', 'global']).stdout);
  if (!a) throw new Error('no global IPv4 address on this host');
  return a[1]!;
}

/** A TCP port on the host nothing listens on (not proof against a race; the daemons report a conflict). */
function freePorts(count: number): number[] {
  const used = new Set(run(['ss', '-Htan']).stdout.split('\n').map((l) => Number(l.trim().split(/\s+/)[3]?.split(':').pop())));
  const out: number[] = [];
  let p = 20000 + randomInt(20000);
  while (out.length < count) {
    if (!used.has(p)) out.push(p);
    p++;
  }
  return out;
}

async function tcpPart(o: Options, daemons: BenchDaemon[], hostIp: string): Promise<{ lines: TcpLine[]; sinks: Sink[] }> {
  const ports = freePorts(daemons.length * 2);
  const sinks: Sink[] = [];
  for (const [i, d] of daemons.entries()) sinks.push(await startSink(d, hostIp, ports[2 * i]!, ports[2 * i + 1]!));
  const lines: TcpLine[] = [];
  for (const kind of PATH_KINDS) {
    for (const s of sinks) {
      const target = kind === 'loopback' ? { host: '127.0.0.1', port: s.loPort } : kind === 'host' ? { host: hostIp, port: s.hostPort } : { host: s.ip, port: SINK_PORT };
      lines.push({ daemon: s.daemon, kind, target, label: `${s.daemon.name} ${kind}`, mbps: [], cpuPerGiB: [], failures: [] });
    }
  }
  for (const s of sinks) process.stderr.write(`  ${s.daemon.name}: sink ${s.id.slice(0, 12)} at ${s.ip}:${SINK_PORT}, published on 127.0.0.1:${s.loPort} and ${hostIp}:${s.hostPort}\n`);
  const bytes = o.mib * 2 ** 20;
  for (let i = 0; i < o.warmup + o.transfers; i++) {
    const isTimed = i >= o.warmup;
    const order = lines.map((_, k) => lines[(k + i) % lines.length]!);
    const shown: string[] = [];
    for (const l of order) {
      checkAborted();
      if (l.skipped) continue;
      await waitForQuietCpu();
      const j0 = cpuJiffies();
      const r = await sendZeros(l.target.host, l.target.port, bytes, 300_000);
      const j1 = cpuJiffies();
      if ('error' in r) {
        if (!isTimed || (!l.mbps.length && l.failures.length >= 2)) l.skipped = `failed: ${r.error}`;
        else l.failures.push(r.error);
        shown.push(`${l.label} FAILED (${r.error})`);
        continue;
      }
      const mbps = bytes / 1e6 / (r.ms / 1000);
      // jiffies are 1/100 s (USER_HZ); busy jiffies of all CPUs over the transfer
      const cpuS = (j1.busy - j0.busy) / 100;
      if (isTimed) {
        l.mbps.push(mbps);
        l.cpuPerGiB.push(cpuS / (bytes / 2 ** 30));
      }
      shown.push(`${l.label} ${mbps.toFixed(0)}`);
    }
    if (!shown.length) break;
    process.stderr.write(`  ${isTimed ? `transfer ${i - o.warmup + 1}/${o.transfers}` : 'warm-up'}: ${shown.join(', ')} MB/s   (load ${loadAverage1().toFixed(2)})\n`);
  }
  for (const s of sinks) {
    const r = run(dockerArgv(s.daemon, ['rm', '-f', s.id]), { env: clientEnv });
    if (r.status !== 0) addNote(notes, `${s.daemon.name}: rm -f of the sink: ${firstLine(r)}`);
  }
  return { lines, sinks };
}

// ---------------------------------------------------------------- report

function row(cells: string[], widths: number[]): string {
  return cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
}

const W = [40, 9, 8, 8, 8, 3, 11];
const HEAD = row(['', 'median ms', 'p90', 'min', 'max', 'n', 'vs dockerd'], W);

function statLine(label: string, s: Stats | undefined, ratio: string, why?: string, failures: string[] = []): string {
  const failed = failures.length ? `   (${failures.length} failed: ${failures[0]})` : '';
  if (!s) return `${label.padEnd(W[0]!)}  ${why ?? 'not measured'}${failed}`;
  return row([label, fmtMs(s.median), fmtMs(s.p90), fmtMs(s.min), fmtMs(s.max), String(s.n), ratio], W) + failed;
}

const ratioOf = (a: Stats | undefined, b: Stats | undefined): number | undefined => (a && b ? a.median / b.median : undefined);
const fmtRatio = (r: number | undefined): string => (r === undefined ? '' : `${r.toFixed(2)}x`);
const round1 = (x: number): number => Math.round(x * 10) / 10;
const round2 = (x: number | undefined): number | null => (x === undefined ? null : Math.round(x * 100) / 100);

function jsonStats(s: Stats | undefined, failures: number): Record<string, number> | null {
  if (!s) return null;
  return { median: round1(s.median), p90: round1(s.p90), min: round1(s.min), max: round1(s.max), n: s.n, ...(failures ? { failures } : {}) };
}

/** A free /16 in 10.40-89.x for berthd's pool (no route into it yet). */
function berthPool(): string {
  const routes = run(['ip', '-4', 'route', 'show']).stdout;
  for (let tries = 0; tries < 50; tries++) {
    const second = 40 + randomInt(50);
    if (!routes.includes(`10.${second}.`)) return `10.${second}.0.0/16`;
  }
  throw new Error('no free 10.40-89.0.0/16 pool for berthd');
}

// ---------------------------------------------------------------- main

async function main(o: Options): Promise<number> {
  if (!existsSync(BUSYBOX)) throw new Error(`${BUSYBOX} is missing (apt-get install busybox-static)`);
  if (!existsSync(DOCKER_CLI)) throw new Error(`${DOCKER_CLI} is missing (apt-get install docker.io): both daemons are driven with it`);
  const loadAtStart = loadAverage1();
  if (loadAtStart > LOAD_WARN) addNote(notes, `the 1-minute load average was ${loadAtStart.toFixed(2)} at the start (> ${LOAD_WARN}): other work shares the CPUs, figures are noisy`);
  const { work, execBase } = bench.create(o.data, 'network-');
  clientEnv = makeClientEnv(join(work, 'client-config'));
  const tar = makeBusyboxTar(join(work, 'image'));
  const hostIp = hostAddress();

  // berthd, with a bridge, firewall table and pool of its own
  const tag = randomBytes(3).toString('hex');
  const pool = berthPool();
  const berthConfig = {
    bridge: `bn${tag}`, 'firewall-name': `berth_n${tag}`, 'ip-forward': false, 'default-address-pools': [{ base: pool, size: 24 }], 'log-level': 'debug',
  };
  berthNet = { bridge: berthConfig.bridge, firewallName: berthConfig['firewall-name'], dataRoot: join(work, 'berthd', 'data') };
  const berthd = await startBerthd(join(work, 'berthd'), notes, join(execBase, 'berthd'), berthConfig);
  const b = benchDaemon('berthd', berthd);
  const log = new LogReader(berthd.logPath);
  const berthVersion = (() => {
    const v = run(dockerArgv(b, ['version', '--format', '{{.Server.Version}} (API {{.Server.APIVersion}})']), { env: clientEnv });
    return v.status === 0 ? v.stdout.trim() : '?';
  })();

  // dockerd, with docker0 on DOCKER_BIP and its iptables rules
  const { dockerd, note: dockerNote } = await bench.startDockerd(o.docker, {
    networkArgs: [`--bip=${DOCKER_BIP}`, '--iptables=true', '--ip6tables=false', '--ip-forward=false', '--ip-masq=true', '--userland-proxy=true'],
    beforeStart: () => {
      if (links().has(DOCKER_BRIDGE)) return `${DOCKER_BRIDGE} exists already (another dockerd?); not touching it`;
      if (run(['ip', '-4', 'route', 'show']).stdout.includes(DOCKER_SUBNET_PREFIX)) return `${DOCKER_BIP} is routed on this host already`;
      firewallBefore = snapshotFirewall();
      writeFileSync(join(work, 'firewall-before.txt'), firewallBefore.saved);
      return undefined;
    },
  });
  const dockerVersion = dockerd
    ? run([DOCKER_CLI, '-H', dockerd.host, 'info', '--format', '{{.ServerVersion}}, {{.Driver}}, cgroup {{.CgroupVersion}}/{{.CgroupDriver}}'], { env: clientEnv }).stdout.trim()
    : '';
  const dk = dockerd ? benchDaemon('dockerd', dockerd) : undefined;
  const daemons = dk ? [b, dk] : [b];

  const header = [
    `berth network benchmark — ${new Date().toISOString()}`,
    `machine: ${cpus().length} CPU (${cpus()[0]?.model.trim() ?? '?'}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Linux ${release()}, node ${process.version}`,
    `berth: ${gitState(REPO)}; berthd ${berthVersion}; bridge ${berthConfig.bridge}, pool ${pool}, nft table ip ${berthConfig['firewall-name']}, ip-forward false, log-level debug`,
    `dockerd: ${dk ? `${dockerVersion}; ${DOCKER_BRIDGE} ${DOCKER_BIP}, iptables, userland-proxy on, --ip-forward=false` : dockerNote}`,
    `client: ${DOCKER_CLI} ${run([DOCKER_CLI, '--version']).stdout.trim()}; image ${IMAGE} = ${BUSYBOX} + applet symlinks, docker import'ed into each daemon`,
    `host address: ${hostIp}`,
    `uptime at start: ${uptime()}`,
  ];
  process.stderr.write(header.join('\n') + '\n\n');
  for (const d of daemons) importImage(d, tar, IMAGE, clientEnv);

  // part 1
  let runLines: Line[] = [];
  if (o.only.includes('run')) {
    process.stderr.write(`run --rm ${IMAGE} true, default bridge and --network none (${o.warmup} warm-up + ${o.iterations} each, taking turns):\n`);
    const bridgeArgs = ['run', '--rm', '--pull', 'never', IMAGE, 'true'];
    const noneArgs = ['run', '--rm', '--pull', 'never', '--network', 'none', IMAGE, 'true'];
    const mk = (label: string, d: BenchDaemon, args: string[]): Line => ({ label, daemon: d, argv: dockerArgv(d, args), samples: [], failures: [], berthTimes: newStartTimes() });
    runLines = [
      mk('berthd bridge', b, bridgeArgs),
      ...(dk ? [mk('dockerd bridge', dk, bridgeArgs)] : []),
      mk('berthd none', b, noneArgs),
      ...(dk ? [mk('dockerd none', dk, noneArgs)] : []),
    ];
    await runPart(runLines, o.warmup, o.iterations, log);
  }

  // part 2
  let parLines: ParallelLine[] = [];
  const parBerthTimes = newStartTimes();
  if (o.only.includes('parallel')) {
    process.stderr.write(`\n${o.parallel} parallel run -d ${IMAGE} sleep 300 on the default bridge, then rm -f of all (${o.rounds} rounds, alternating):\n`);
    parLines = await parallelPart(o, daemons, log, parBerthTimes);
  }

  // part 3
  let tcp: { lines: TcpLine[]; sinks: Sink[] } | undefined;
  if (o.only.includes('tcp')) {
    process.stderr.write(`\nTCP host → container, ${o.mib} MiB per transfer (${o.warmup} warm-up + ${o.transfers} per path, taking turns):\n`);
    tcp = await tcpPart(o, daemons, hostIp);
  }

  // ---- the report
  const out: string[] = [...header, ''];
  const json: Record<string, unknown> = { bench: 'network', date: new Date().toISOString(), commit: gitState(REPO), loadAtStart, dockerd: dk ? dockerVersion : null };
  const targets: Record<string, boolean | null> = {};
  if (runLines.length) {
    const find = (label: string): Line | undefined => runLines.find((l) => l.label === label);
    const [bb, db, bn, dn] = ['berthd bridge', 'dockerd bridge', 'berthd none', 'dockerd none'].map(find);
    const [sBB, sDB, sBN, sDN] = [bb, db, bn, dn].map((l) => (l ? stats(l.samples) : undefined));
    const r = ratioOf(sBB, sDB);
    out.push(`1. docker run --rm --pull never ${IMAGE} true, CLI spawn → exit   [target: bridge ≤ ${TARGET.run}x dockerd's time]`);
    out.push(`method: ${o.warmup} warm-up + ${o.iterations} iterations per line, lines take turns (order rotates), each on idle CPUs`);
    out.push(HEAD);
    out.push(statLine('docker CLI → berthd, default bridge', sBB, fmtRatio(r), bb!.skipped, bb!.failures));
    out.push(db ? statLine('docker CLI → dockerd, default bridge', sDB, sDB ? '1.00x' : '', db.skipped, db.failures) : statLine('docker CLI → dockerd, default bridge', undefined, '', dockerNote));
    out.push(statLine('docker CLI → berthd, --network none', sBN, fmtRatio(ratioOf(sBN, sDN)), bn!.skipped, bn!.failures));
    if (dn) out.push(statLine('docker CLI → dockerd, --network none', sDN, sDN ? '1.00x' : '', dn.skipped, dn.failures));
    if (r !== undefined) out.push(`berthd/dockerd on the bridge: ${fmtRatio(r)} (p90 ${fmtRatio(sBB!.p90 / sDB!.p90)}; median of per-iteration ratios ${pairedRatio(bb!.samples, db!.samples)}) — ${r <= TARGET.run ? 'target met' : 'target NOT met'}`);
    if (sBB && sBN) out.push(`the bridge's cost (bridge − none, medians): berthd ${fmtMs(sBB.median - sBN.median)} ms${sDB && sDN ? `, dockerd ${fmtMs(sDB.median - sDN.median)} ms` : ''}`);
    for (const l of [bb, bn]) {
      const t = l && startTimesLine(l.berthTimes);
      if (t) out.push(`berthd's start steps, ${l!.label.replace('berthd ', '')}: ${t}`);
      const a = l && apiLine(l.berthTimes);
      if (a) out.push(`berthd's API requests, ${l!.label.replace('berthd ', '')}: ${a}`);
    }
    targets.run = r === undefined ? null : r <= TARGET.run;
    json.run = {
      berthdBridge: jsonStats(sBB, bb!.failures.length), dockerdBridge: jsonStats(sDB, db?.failures.length ?? 0),
      berthdNone: jsonStats(sBN, bn!.failures.length), dockerdNone: jsonStats(sDN, dn?.failures.length ?? 0),
      ratio: round2(r), ratioP90: round2(sBB && sDB ? sBB.p90 / sDB.p90 : undefined),
      berthdStartSteps: Object.fromEntries((['mount', 'spec', 'create', 'start'] as const).map((k) => [k, bb!.berthTimes[k].length ? round1(stats(bb!.berthTimes[k])!.median) : null])),
    };
    out.push('');
  }
  if (parLines.length) {
    const [pb, pd] = [parLines[0]!, parLines[1]];
    const sB = stats(pb.total);
    const sD = pd ? stats(pd.total) : undefined;
    const r = ratioOf(sB, sD);
    out.push(`2. ${o.parallel} parallel \`docker run -d --pull never ${IMAGE} sleep 300\` on the default bridge, then \`docker rm -f\` of all; wall time   [target: ≤ ${TARGET.parallel}x dockerd's]`);
    out.push(`method: ${o.rounds} round(s) per daemon, alternating, each on idle CPUs; time = first spawn → rm's exit; a round with a failure is not timed`);
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
    if (r !== undefined) out.push(`berthd/dockerd: ${fmtRatio(r)} (median of per-round ratios ${pairedRatio(pb.total, pd!.total)}) — ${r <= TARGET.parallel ? 'target met' : 'target NOT met'}`);
    const t = startTimesLine(parBerthTimes);
    if (t) out.push(`berthd's start steps under the parallel load: ${t}`);
    const a = apiLine(parBerthTimes);
    if (a) out.push(`berthd's API requests under the parallel load: ${a}`);
    targets.parallel = r === undefined ? null : r <= TARGET.parallel;
    json.parallel = {
      containers: o.parallel, berthd: jsonStats(sB, pb.failures.length), dockerd: pd ? jsonStats(sD, pd.failures.length) : null, ratio: round2(r),
      berthdRunPhase: stats(pb.runPhase) ? round1(stats(pb.runPhase)!.median) : null, dockerdRunPhase: pd && stats(pd.runPhase) ? round1(stats(pd.runPhase)!.median) : null,
      berthdFailures: pb.failures, dockerdFailures: pd?.failures ?? [],
    };
    out.push('');
  }
  if (tcp) {
    out.push(`3. TCP throughput host → container, ${o.mib} MiB of zeros per transfer (1 MiB writes from this process; sink: nc -ll -e dd of=/dev/null bs=1M)   [target: ≥ ${TARGET.tcp}x dockerd's through the published port]`);
    out.push(`method: ${o.warmup} warm-up + ${o.transfers} transfers per path and daemon, taking turns, each on idle CPUs; MB/s = 10^6 bytes/s, connect → the sink's close; CPU = busy seconds of all CPUs per GiB`);
    const TW = [44, 11, 8, 8, 3, 11, 10];
    out.push(row(['', 'median MB/s', 'min', 'max', 'n', 'CPU s/GiB', 'vs dockerd'], TW));
    const jt: Record<string, unknown> = {};
    for (const kind of PATH_KINDS) {
      const lb = tcp.lines.find((l) => l.kind === kind && l.daemon.name === 'berthd')!;
      const ld = tcp.lines.find((l) => l.kind === kind && l.daemon.name === 'dockerd');
      const how: Record<PathKind, [string, string]> = {
        loopback: ['published, 127.0.0.1 (berth: kernel DNAT)', 'published, 127.0.0.1 (docker: docker-proxy)'],
        host: [`published, ${hostIp} (kernel DNAT)`, `published, ${hostIp} (kernel DNAT)`],
        direct: ['container address (no NAT)', 'container address (no NAT)'],
      };
      const sB = stats(lb.mbps);
      const sD = ld ? stats(ld.mbps) : undefined;
      const r = ratioOf(sB, sD);
      const line = (l: TcpLine, label: string, s: Stats | undefined, ratio: string): string => {
        const failed = l.failures.length ? `   (${l.failures.length} failed: ${l.failures[0]})` : '';
        if (!s) return `${label.padEnd(TW[0]!)}  ${l.skipped ?? 'not measured'}${failed}`;
        const cpu = stats(l.cpuPerGiB)!;
        return row([label, s.median.toFixed(0), s.min.toFixed(0), s.max.toFixed(0), String(s.n), cpu.median.toFixed(2), ratio], TW) + failed;
      };
      out.push(line(lb, `berthd  ${how[kind][0]}`, sB, fmtRatio(r)));
      if (ld) out.push(line(ld, `dockerd ${how[kind][1]}`, sD, sD ? '1.00x' : ''));
      jt[kind] = {
        berthd: sB ? { median: Math.round(sB.median), min: Math.round(sB.min), max: Math.round(sB.max), n: sB.n, cpuSPerGiB: round2(stats(lb.cpuPerGiB)!.median) } : null,
        dockerd: sD && ld ? { median: Math.round(sD.median), min: Math.round(sD.min), max: Math.round(sD.max), n: sD.n, cpuSPerGiB: round2(stats(ld.cpuPerGiB)!.median) } : null,
        ratio: round2(r),
      };
      if (kind === 'loopback') {
        targets.tcp = r === undefined ? null : r >= TARGET.tcp;
        if (r !== undefined) out.push(`  published port on 127.0.0.1, berthd/dockerd: ${fmtRatio(r)} (per-transfer ratios ${pairedRatio(lb.mbps, ld!.mbps)}) — ${r >= TARGET.tcp ? 'target met' : 'target NOT met'}`);
      }
    }
    json.tcp = { mib: o.mib, ...jt };
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
await runBenchMain({ rootNeededFor: 'berthd and dockerd run containers and change the network set-up', cleanup: bench.cleanup, notes }, () => main(options));
