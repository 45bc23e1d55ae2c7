// The build benchmark (issue 7): berthd's classic builder beside a private dockerd's (Debian
// docker.io 20.10, with --docker), in one run, both driven by the same docker CLI with
// DOCKER_BUILDKIT=0; `berth build` against berthd is timed too, for information.
//
//   node dist/bench/build.js [--docker] [--iterations N] [--warmup N] [--context-mib N] [--only two-stage,context] [--data DIR]
//
// 1. A two-stage busybox build: COPY of a few source files and a RUN in the first stage,
//    COPY --from and a RUN in the second. Cold (`--no-cache`) and fully cached (the same
//    build again), CLI spawn → exit, the daemons taking turns, each run on idle CPUs.
// 2. A build whose context is --context-mib MiB (default 200) of files (200 × 1 MiB of
//    random bytes in a tree): `FROM busybox` + `COPY . /ctx`, --no-cache: the context upload,
//    the builder's COPY and the layer commit. Reported in ms and MB/s of context.
//
// Both daemons run without a bridge or firewall rules (RUN needs no network here): berthd with
// {"bridge":"none","iptables":false}, dockerd with --bridge=none --iptables=false. The image:
// /bin/busybox with its applets, docker import'ed into each. Everything lives in one
// build-* directory under --data (default /var/tmp/berth-bench); daemons are stopped by pid,
// mounts unmounted and the directory removed on success, failure or a signal. Timings are
// printed, never asserted.
import { mkdirSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { cpus, release, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BERTH_JS, startBerthd } from './berthd.js';
import {
  addNote, checkAborted, fmtMs, gitState, loadAverage1, pairedRatio, parseFlags,
  run, runBenchMain, stats, timedChild, uptime, waitForQuietCpu, type Stats,
} from './common.js';
import { benchDaemon, DaemonBenchWork, BUSYBOX, DOCKER_CLI, dockerArgv, importImage, makeBusyboxTar, makeClientEnv, type BenchDaemon } from './daemon-parts.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const IMAGE = 'busybox';
const TARGET = { cold: 0.5, cached: 0.5 };

type Part = 'two-stage' | 'context';

interface Options {
  docker: boolean;
  iterations: number;
  warmup: number;
  contextMiB: number;
  only: Part[];
  data: string;
}

const USAGE = 'usage: node dist/bench/build.js [--docker] [--iterations N] [--warmup N] [--context-mib N] [--only two-stage,context] [--data DIR]';

function parseOptions(argv: string[]): Options {
  const o: Options = { docker: false, iterations: 10, warmup: 2, contextMiB: 200, only: ['two-stage', 'context'], data: '/var/tmp/berth-bench' };
  parseFlags(argv, USAGE, (flag, v) => {
    if (flag === '--docker') o.docker = true;
    else if (flag === '--iterations') o.iterations = v.int(1);
    else if (flag === '--warmup') o.warmup = v.int(0);
    else if (flag === '--context-mib') o.contextMiB = v.int(1);
    else if (flag === '--only') o.only = v.list(['two-stage', 'context']) as Part[];
    else if (flag === '--data') o.data = v.path();
    else return false;
    return true;
  });
  return o;
}

const bench = new DaemonBenchWork();
const notes = bench.notes;

// ---------------------------------------------------------------- contexts

const TWO_STAGE = `FROM ${IMAGE} AS build
COPY src/ /src/
RUN cat /src/*.txt > /out.txt && wc -c /out.txt
FROM ${IMAGE}
COPY --from=build /out.txt /app/out.txt
RUN ls -l /app
CMD ["cat", "/app/out.txt"]
`;

function twoStageContext(dir: string): string {
  mkdirSync(join(dir, 'src'), { recursive: true });
  writeFileSync(join(dir, 'Dockerfile'), TWO_STAGE);
  for (let i = 0; i < 8; i++) writeFileSync(join(dir, 'src', `part${i}.txt`), `part ${i}: ${randomBytes(512).toString('hex')}\n`);
  return dir;
}

function bigContext(dir: string, mib: number): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'Dockerfile'), `FROM ${IMAGE}\nCOPY . /ctx\n`);
  for (let i = 0; i < mib; i++) {
    const sub = join(dir, `d${i % 10}`, `e${i % 7}`);
    mkdirSync(sub, { recursive: true });
    writeFileSync(join(sub, `f${i}.bin`), randomBytes(1024 * 1024));
  }
  return dir;
}

// ---------------------------------------------------------------- lines

interface Line {
  label: string;
  argv: string[];
  env: NodeJS.ProcessEnv;
  samples: number[];
  failures: string[];
}

/** Warm-up, then iterations; the lines take turns, the order rotating, each on idle CPUs. */
async function runLines(lines: Line[], warmup: number, iterations: number, title: string): Promise<void> {
  process.stderr.write(`${title}\n`);
  for (let i = 0; i < warmup + iterations; i++) {
    const order = lines.map((_, k) => lines[(k + i) % lines.length]!);
    const parts: string[] = [];
    for (const l of order) {
      checkAborted();
      await waitForQuietCpu();
      const r = await timedChild(l.argv, 600, { env: l.env });
      if (r.status !== 0) {
        l.failures.push(r.stderr.split('\n').slice(-3).join(' | '));
        parts.push(`${l.label} FAILED`);
        continue;
      }
      if (i >= warmup) l.samples.push(r.ms);
      parts.push(`${l.label} ${fmtMs(r.ms)}`);
    }
    process.stderr.write(`  ${i < warmup ? 'warm-up' : `iteration ${i - warmup + 1}/${iterations}`}: ${parts.join(', ')} ms   (load ${loadAverage1().toFixed(2)})\n`);
  }
}

function row(cells: string[], widths: number[]): string {
  return cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' ');
}

const W = [44, 9, 9, 9, 9, 4, 11];

function statLine(l: Line, s: Stats | undefined, extra = ''): string {
  if (!s) return row([l.label, '-', '-', '-', '-', '0', `FAILED: ${l.failures[0] ?? 'no samples'}`], W);
  return row([l.label, fmtMs(s.median), fmtMs(s.p90), fmtMs(s.min), fmtMs(s.max), String(s.n), extra], W);
}

// ---------------------------------------------------------------- main

async function main(o: Options): Promise<number> {
  const { work, execBase } = bench.create(o.data, 'build-');
  const clientEnv = makeClientEnv(join(work, 'client-config'));
  const classic = { ...clientEnv, DOCKER_BUILDKIT: '0' };
  const tar = makeBusyboxTar(join(work, 'image'));

  const berthConfig = { bridge: 'none', iptables: false };
  const berthd = await startBerthd(join(work, 'berthd'), notes, join(execBase, 'berthd'), berthConfig);
  const b = benchDaemon('berthd', berthd);
  const { dockerd, note: dockerNote } = await bench.startDockerd(o.docker);
  const dk = dockerd ? benchDaemon('dockerd', dockerd) : undefined;
  const header = [
    `berth build benchmark — ${new Date().toISOString()}`,
    `machine: ${cpus().length} CPU (${cpus()[0]?.model.trim() ?? '?'}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Linux ${release()}, node ${process.version}`,
    `berth: ${gitState(REPO)}; berthd daemon.json ${JSON.stringify(berthConfig)}`,
    `dockerd: ${dk ? run([DOCKER_CLI, '-H', dk.host, 'version', '--format', '{{.Server.Version}}']).stdout.trim() + ', classic builder (DOCKER_BUILDKIT=0), overlay2, no bridge' : dockerNote}`,
    `client: ${DOCKER_CLI} ${run([DOCKER_CLI, '--version']).stdout.trim()}; berth CLI: node ${BERTH_JS}`,
    `image: ${IMAGE} = ${BUSYBOX} + applets, docker import'ed into each daemon`,
    `uptime at start: ${uptime()}`,
  ];
  process.stderr.write(`${header.join('\n')}\n\n`);
  for (const d of dk ? [b, dk] : [b]) importImage(d, tar, IMAGE, clientEnv);

  const out: string[] = [...header, ''];
  const json: Record<string, unknown> = { bench: 'build', date: new Date().toISOString(), commit: gitState(REPO) };
  const mk = (label: string, d: BenchDaemon | 'berth-cli', args: string[]): Line => ({
    label,
    argv: d === 'berth-cli' ? [process.execPath, BERTH_JS, '-H', b.host, ...args] : dockerArgv(d, args),
    env: classic, samples: [], failures: [],
  });

  if (o.only.includes('two-stage')) {
    const ctx = twoStageContext(join(work, 'two-stage'));
    const cold = ['build', '--no-cache', '-q', '-t', 'bench:two', ctx];
    const cached = ['build', '-q', '-t', 'bench:two', ctx];
    const coldLines = [mk('berthd (docker CLI)', b, cold), ...(dk ? [mk('dockerd (docker CLI)', dk, cold)] : []), mk('berthd (berth CLI)', 'berth-cli', cold)];
    await runLines(coldLines, o.warmup, o.iterations, 'two-stage build, --no-cache:');
    const cachedLines = [mk('berthd (docker CLI)', b, cached), ...(dk ? [mk('dockerd (docker CLI)', dk, cached)] : []), mk('berthd (berth CLI)', 'berth-cli', cached)];
    await runLines(cachedLines, o.warmup, o.iterations, 'two-stage build, fully cached:');
    for (const [name, lines] of [['cold (--no-cache)', coldLines], ['fully cached', cachedLines]] as const) {
      const sb = stats(lines[0]!.samples);
      const sd = dk ? stats(lines[1]!.samples) : undefined;
      const ratio = sb && sd ? sb.median / sd.median : undefined;
      const target = name.startsWith('cold') ? TARGET.cold : TARGET.cached;
      out.push(`1. two-stage busybox build (COPY, RUN; COPY --from, RUN), ${name}   [target: ≤ ${target}x dockerd's]`);
      out.push(row(['', 'median ms', 'p90', 'min', 'max', 'n', 'vs dockerd'], W));
      for (const l of lines) {
        const s = stats(l.samples);
        out.push(statLine(l, s, l === lines[0] && ratio !== undefined ? `${ratio.toFixed(2)}x` : l.label.startsWith('dockerd') ? '1.00x' : ''));
      }
      if (ratio !== undefined) out.push(`berthd/dockerd: ${ratio.toFixed(2)}x (median of per-iteration ratios ${pairedRatio(lines[0]!.samples, lines[1]!.samples)}) — ${ratio <= target ? 'target met' : 'target NOT met'}`);
      out.push('');
      json[name.startsWith('cold') ? 'cold' : 'cached'] = { berthd: sb?.median ?? null, dockerd: sd?.median ?? null, ratio: ratio ?? null, berthCli: stats(lines.at(-1)!.samples)?.median ?? null };
    }
  }

  if (o.only.includes('context')) {
    const ctx = bigContext(join(work, 'big'), o.contextMiB);
    const args = ['build', '--no-cache', '-q', '-t', 'bench:big', ctx];
    const lines = [mk('berthd (docker CLI)', b, args), ...(dk ? [mk('dockerd (docker CLI)', dk, args)] : []), mk('berthd (berth CLI)', 'berth-cli', args)];
    await runLines(lines, 1, Math.max(3, Math.ceil(o.iterations / 2)), `${o.contextMiB} MiB context, FROM + COPY . /ctx, --no-cache:`);
    const sb = stats(lines[0]!.samples);
    const sd = dk ? stats(lines[1]!.samples) : undefined;
    const ratio = sb && sd ? sb.median / sd.median : undefined;
    const bytes = o.contextMiB * 1024 * 1024;
    out.push(`2. ${o.contextMiB} MiB context (${o.contextMiB} files of 1 MiB), FROM + COPY . /ctx, --no-cache: context upload, COPY and commit`);
    out.push(row(['', 'median ms', 'p90', 'min', 'max', 'n', 'MB/s'], W));
    for (const l of lines) {
      const s = stats(l.samples);
      out.push(statLine(l, s, s ? (bytes / 1e6 / (s.median / 1000)).toFixed(0) : ''));
    }
    if (ratio !== undefined) out.push(`berthd/dockerd: ${ratio.toFixed(2)}x the time (median of per-iteration ratios ${pairedRatio(lines[0]!.samples, lines[1]!.samples)})`);
    out.push('');
    json['context'] = { mib: o.contextMiB, berthd: sb?.median ?? null, dockerd: sd?.median ?? null, ratio: ratio ?? null };
  }

  out.push(`uptime at end: ${uptime()}`);
  process.stdout.write(`\n${out.join('\n')}\n${JSON.stringify(json)}\n`);
  return 0;
}

const options = parseOptions(process.argv.slice(2));
if (loadAverage1() > 2.5) addNote(notes, `the 1-minute load average was ${loadAverage1().toFixed(2)} at the start: other work shares the CPUs, figures are noisy`);
await runBenchMain({ rootNeededFor: 'berthd and dockerd run build containers', cleanup: bench.cleanup, notes }, () => main(options));
