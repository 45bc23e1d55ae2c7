// The layer benchmark: berth's layer apply against GNU tar on one large real-world layer
// (a debootstrap --variant=minbase bookworm rootfs, scripts/bench/make-rootfs.sh), in one
// run, and — with --docker — berth's image load against `docker load` of the same image.
// Method and results: docs/benchmarks.md, "Layers".
//
//   node dist/bench/layers.js [--iterations N] [--warmup N] [--tmpfs | --ext4] [--docker]
//                             [--formats plain,gzip] [--only berth|tar] [--no-verify] [--rm-each] [--data DIR]
//
// - berth apply: applyLayer({ path }, dir, { style: 'overlay' }) into the upper dir of a fresh
//   overlay snapshot (OverlaySnapshotter.prepare → writableDir), timed in-process around the
//   call: the daemon is long-running, so Node start-up is not counted; a warm-up runs first.
// - GNU tar: `tar -xf L -C D` (`tar -xzf` for the gzip layer), timed from spawn to exit.
// - berth and tar alternate within each iteration (who goes first alternates too); every run
//   gets a fresh target and a `sync` first. Page caches are never dropped: the layer file stays
//   cached for both. After the warm-up the two trees are compared entry by entry.
// - Targets: by default on the data dir's filesystem (/var/tmp), all kept until the end (see
//   removesEach() for why); --tmpfs: a private 2 GiB tmpfs (no disk writeback in the figures);
//   --ext4: a private journaled ext4 on a loop device. With either, the previous target is
//   removed before each run.
// - --docker: a private dockerd (its own data/exec root, pidfile and socket, no bridge, no
//   iptables, no ip_forward change) times `docker load -i` of a docker-archive of the same
//   layer against berth's loadImages() into an ImageStore.
//
// Everything lives in one directory under the data dir (and the tmpfs/ext4 mounted inside it);
// it is unmounted and removed, and each dockerd stopped by its pid, on success, failure, Ctrl-C
// or SIGTERM. Timings are printed, never asserted.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  createReadStream, existsSync, linkSync, lstatSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, readlinkSync,
  renameSync, rmSync, statSync, unlinkSync, writeFileSync, closeSync,
} from 'node:fs';
import { connect } from 'node:net';
import { cpus, release, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { applyLayer, UNPACK_PATH, type ApplyResult } from '../src/images/layer/apply.js';
import { OverlaySnapshotter } from '../src/snapshots/overlay.js';
import { writableDir } from '../src/snapshots/snapshotter.js';
import { gitState, installSignalHandlers, isAborted, pidAlive, stats } from './common.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const IMAGE_REF = 'berth-bench/bookworm-minbase:latest';

// ---------------------------------------------------------------- options

type Format = 'plain' | 'gzip';

interface Options {
  iterations: number;
  warmup: number;
  /** disk: the data dir's filesystem; tmpfs: a private tmpfs; ext4: a private journaled ext4 on a loop device. */
  target: 'disk' | 'tmpfs' | 'ext4';
  docker: boolean;
  formats: Format[];
  only?: 'berth' | 'tar';
  verify: boolean;
  data: string;
  /** Remove the previous target before each run (always on tmpfs); else keep them all until the end. */
  rmEach: boolean;
}

const USAGE = `usage: node dist/bench/layers.js [options]
  --iterations N       timed runs of each line (default 5)
  --warmup N           untimed runs of each line first (default 1)
  --tmpfs              targets on a private tmpfs (size 2g) instead of the data dir's filesystem
  --ext4               targets on a private ext4 (with a journal, like a usual Docker host) made in
                       a sparse 8 GiB file in the work dir and loop-mounted
  --docker             also time \`docker load\` (private dockerd) against berth's loadImages()
  --formats LIST       plain,gzip (default both)
  --only berth|tar     run one side only (for profiling)
  --no-verify          skip the berth-vs-tar tree comparison after the warm-up
  --rm-each            on disk, rm -rf the previous target before each run instead of keeping
                       every target until the end (with --tmpfs/--ext4 this is always done). On a
                       journal-less ext4 (this host's /) a tree deleted in the last minutes makes
                       the next extraction 5-10x slower (ext4 recently_deleted()), for both sides
  --data DIR           where the layers are cached and the work dir goes
                       (default $BERTH_BENCH_DIR or /var/tmp/berth-bench)
The layers come from: sudo bash scripts/bench/make-rootfs.sh
`;

function parseOptions(argv: string[]): Options {
  const o: Options = {
    iterations: 5, warmup: 1, target: 'disk', docker: false, formats: ['plain', 'gzip'], verify: true, rmEach: false,
    data: process.env.BERTH_BENCH_DIR ?? '/var/tmp/berth-bench',
  };
  const fail = (msg: string): never => {
    process.stderr.write(`bench: ${msg}\n${USAGE}`);
    process.exit(2);
  };
  const num = (flag: string, v: string | undefined, min: number): number => {
    const n = Number(v);
    return v === undefined || !Number.isInteger(n) || n < min ? fail(`${flag} needs an integer ≥ ${min}`) : n;
  };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i]!.split('=', 2) as [string, string | undefined];
    const value = (): string | undefined => inline ?? argv[++i];
    switch (flag) {
      case '--iterations': case '-n': o.iterations = num(flag, value(), 1); break;
      case '--warmup': o.warmup = num(flag, value(), 0); break;
      case '--tmpfs': o.target = 'tmpfs'; break;
      case '--ext4': o.target = 'ext4'; break;
      case '--docker': o.docker = true; break;
      case '--formats': {
        const list = (value() ?? '').split(',').filter(Boolean);
        if (!list.length || list.some((f) => f !== 'plain' && f !== 'gzip')) fail('--formats takes plain, gzip or plain,gzip');
        o.formats = list as Format[];
        break;
      }
      case '--only': {
        const v = value();
        if (v !== 'berth' && v !== 'tar') fail('--only takes berth or tar');
        o.only = v as 'berth' | 'tar';
        break;
      }
      case '--no-verify': o.verify = false; break;
      case '--rm-each': o.rmEach = true; break;
      case '--data': o.data = resolve(value() ?? fail('--data needs a directory')); break;
      case '--help': case '-h': process.stdout.write(USAGE); process.exit(0); break;
      default: fail(`unknown argument ${argv[i]}`);
    }
  }
  return o;
}

// ---------------------------------------------------------------- state and clean-up

const notes: string[] = [];
const live = new Set<ChildProcess>();
let work: string | undefined; // everything this run creates, under the data dir
let privateMount: string | undefined; // the tmpfs or loop-mounted ext4 of --tmpfs / --ext4
let snapshotter: OverlaySnapshotter | undefined;
let berthStore: StoreLike | undefined;
let dockerd: DockerdState | undefined;
let cleanupPromise: Promise<void> | undefined;

interface DockerdState {
  child: ChildProcess;
  pid: number;
  execRoot: string;
  socket: string;
  /** /etc/docker/key.json did not exist before this dockerd (20.10 writes its trust key there). */
  keyJsonWasAbsent: boolean;
}

class Aborted extends Error {}

function cleanup(): Promise<void> {
  cleanupPromise ??= (async () => {
    for (const child of live) {
      if (child.pid !== undefined) {
        try {
          process.kill(child.pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
    }
    if (dockerd) await stopDockerd(dockerd).catch((err: Error) => notes.push(`stopping dockerd: ${err.message}`));
    if (berthStore) await berthStore.close?.().catch(() => undefined);
    if (snapshotter) await snapshotter.close().catch(() => undefined);
    if (work) {
      const under = mountsUnder(work);
      for (const m of under) {
        const r = spawnSync('umount', ['-l', m], { encoding: 'utf8' });
        if (r.status !== 0 && m !== privateMount) notes.push(`umount ${m}: ${r.stderr.trim()}`);
        else if (m !== privateMount) notes.push(`clean-up: unmounted leftover ${m}`);
      }
      const r = spawnSync('rm', ['-rf', '--one-file-system', work], { encoding: 'utf8' });
      if (r.status !== 0) notes.push(`rm -rf ${work}: ${r.stderr.trim()}`);
    }
  })();
  return cleanupPromise;
}

/** Mount points at or under dir, deepest first. */
function mountsUnder(dir: string): string[] {
  const out: string[] = [];
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const mp = line.split(' ')[4];
    if (!mp) continue;
    const path = mp.replace(/\\(\d{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
    if (path === dir || path.startsWith(dir + '/')) out.push(path);
  }
  return out.sort((a, b) => b.length - a.length);
}

function printNotes(): void {
  if (notes.length) process.stderr.write(`\nnotes:\n${notes.map((n) => `  - ${n}`).join('\n')}\n`);
}

function checkAborted(): void {
  if (isAborted()) throw new Aborted('aborted');
}

// ---------------------------------------------------------------- helpers

function run(argv: string[], opts: { timeoutS?: number; env?: NodeJS.ProcessEnv } = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout: (opts.timeoutS ?? 120) * 1000, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] });
  return { status: r.status, stdout: r.stdout ?? '', stderr: (r.stderr ?? '') + (r.error ? String(r.error) : '') };
}

function which(cmd: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/sbin'])) {
    const p = join(dir, cmd);
    if (dir && existsSync(p)) return p;
  }
  return undefined;
}

function sync(): void {
  spawnSync('sync');
}

/** A child process, timed from just before spawn to its exit (ms). */
function timedChild(argv: string[], timeoutS = 600): Promise<{ ms: number; status: number | null; stderr: string }> {
  return new Promise((resolvePromise) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
    live.add(child);
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutS * 1000);
    let t1 = 0n;
    child.on('exit', () => (t1 = process.hrtime.bigint()));
    child.on('error', (err) => (stderr += String(err)));
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      live.delete(child);
      if (t1 === 0n) t1 = process.hrtime.bigint();
      resolvePromise({ ms: Number(t1 - t0) / 1e6, status: signal ? null : code, stderr: stderr.trim() });
    });
  });
}

const fmtMs = (ms: number | undefined): string => (ms === undefined ? '-' : ms >= 100 ? ms.toFixed(0) : ms.toFixed(1));
const mbps = (bytes: number, ms: number | undefined): number | undefined => (ms === undefined ? undefined : bytes / 1e6 / (ms / 1000));

function fsType(path: string): string {
  const r = run(['findmnt', '-n', '-o', 'FSTYPE', '-T', path]);
  return r.status === 0 ? r.stdout.trim() : '?';
}

function uptime(): string {
  return run(['uptime']).stdout.trim();
}

async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 })) h.update(chunk as Buffer);
  return h.digest('hex');
}

// ---------------------------------------------------------------- tree comparison

/** path → what both extractions must agree on (type, mode, owner, size, mtime, link target, nlink, rdev). */
function describeTree(root: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (rel: string): void => {
    for (const d of readdirSync(join(root, rel), { withFileTypes: true })) {
      const p = rel ? `${rel}/${d.name}` : d.name;
      const st = lstatSync(join(root, p), { bigint: true });
      const mode = Number(st.mode);
      const type = st.isFile() ? 'f' : st.isDirectory() ? 'd' : st.isSymbolicLink() ? 'l' : st.isCharacterDevice() ? 'c' : st.isBlockDevice() ? 'b' : st.isFIFO() ? 'p' : '?';
      const parts = [type, (mode & 0o7777).toString(8), `${st.uid}:${st.gid}`, `mtime=${st.mtimeNs}`];
      if (type === 'f') parts.push(`size=${st.size}`, `nlink=${st.nlink}`);
      if (type === 'l') parts.push(`-> ${readlinkSync(join(root, p))}`);
      if (type === 'c' || type === 'b') parts.push(`rdev=${st.rdev}`);
      out.set(p, parts.join(' '));
      if (type === 'd') walk(p);
    }
  };
  walk('');
  return out;
}

function compareTrees(berthDir: string, tarDir: string, label: string): void {
  const a = describeTree(berthDir);
  const b = describeTree(tarDir);
  const diffs: string[] = [];
  for (const [p, v] of b) {
    const w = a.get(p);
    if (w === undefined) diffs.push(`${p}: missing in berth's tree`);
    else if (w !== v) diffs.push(`${p}: berth [${w}] vs tar [${v}]`);
  }
  for (const p of a.keys()) if (!b.has(p)) diffs.push(`${p}: only in berth's tree`);
  if (diffs.length === 0) notes.push(`verify (${label}): berth's tree and GNU tar's agree on all ${b.size} entries (type, mode, owner, size, mtime, link, nlink, rdev)`);
  else notes.push(`verify (${label}): ${diffs.length} differences between berth's and GNU tar's trees, e.g. ${diffs.slice(0, 5).join('; ')}`);
}

// ---------------------------------------------------------------- apply: berth vs GNU tar

/**
 * Whether each run removes the previous target. Not by default on the data dir's filesystem:
 * this host's / is ext4 without a journal, where the inode allocator skips every inode deleted
 * in the last minutes one by one (ext4 recently_deleted()), which made a GNU tar extraction
 * right after an rm -rf of the previous tree 5-10x slower (0.5 s → 4-8 s).
 */
function removesEach(o: Options): boolean {
  return o.rmEach || o.target !== 'disk';
}

interface Layer {
  format: Format;
  path: string;
  fileBytes: number;
}

interface ApplyLines {
  berth: number[];
  tar: number[];
  berthResult?: ApplyResult;
  tarError?: string;
}

async function applySection(o: Options, layers: Layer[], base: string, tarBytes: number): Promise<Map<Format, ApplyLines>> {
  snapshotter = await OverlaySnapshotter.open(join(base, 'snapshots'));
  const tarRoot = join(base, 'tar');
  mkdirSync(tarRoot);
  const lines = new Map<Format, ApplyLines>(layers.map((l) => [l.format, { berth: [], tar: [] }]));
  const rmEach = removesEach(o);
  const keys: string[] = [];
  const tarDirs: string[] = [];
  let n = 0;

  const berthOnce = async (layer: Layer): Promise<{ ms: number; dir: string; result: ApplyResult }> => {
    if (rmEach) while (keys.length) await snapshotter!.remove(keys.pop()!);
    const key = `bench-${layer.format}-${++n}`;
    const { dir, style } = writableDir(await snapshotter!.prepare(key));
    keys.push(key);
    sync();
    const t0 = performance.now();
    const result = await applyLayer({ path: layer.path }, dir, { style, label: `${layer.format} layer` });
    const ms = performance.now() - t0;
    if (result.size !== tarBytes) throw new Error(`berth apply read ${result.size} tar bytes, the tar has ${tarBytes}`);
    return { ms, dir, result };
  };

  const tarOnce = async (layer: Layer): Promise<{ ms: number; dir: string; error?: string }> => {
    if (rmEach) while (tarDirs.length) rmSync(tarDirs.pop()!, { recursive: true, force: true });
    const dir = join(tarRoot, `${layer.format}-${++n}`);
    mkdirSync(dir);
    tarDirs.push(dir);
    sync();
    const r = await timedChild(['tar', layer.format === 'gzip' ? '-xzf' : '-xf', layer.path, '-C', dir]);
    return { ms: r.ms, dir, error: r.status === 0 ? undefined : `tar exit ${r.status}: ${r.stderr.split('\n')[0]}` };
  };

  const total = o.warmup + o.iterations;
  for (let i = 0; i < total; i++) {
    const timed = i >= o.warmup;
    for (const layer of layers) {
      checkAborted();
      const l = lines.get(layer.format)!;
      const order: Array<'berth' | 'tar'> = (i + (layer.format === 'gzip' ? 1 : 0)) % 2 === 0 ? ['berth', 'tar'] : ['tar', 'berth'];
      let berthDir: string | undefined;
      let tarDir: string | undefined;
      const shown: string[] = [];
      for (const who of order) {
        if (o.only && o.only !== who) continue;
        if (who === 'berth') {
          const r = await berthOnce(layer);
          berthDir = r.dir;
          l.berthResult = r.result;
          if (timed) l.berth.push(r.ms);
          shown.push(`berth ${fmtMs(r.ms)} ms`);
        } else {
          const r = await tarOnce(layer);
          tarDir = r.dir;
          if (r.error) {
            l.tarError = r.error;
            shown.push(`tar failed (${r.error})`);
          } else {
            if (timed) l.tar.push(r.ms);
            shown.push(`tar ${fmtMs(r.ms)} ms`);
          }
        }
      }
      checkAborted();
      process.stderr.write(`  ${timed ? `iteration ${i - o.warmup + 1}/${o.iterations}` : 'warm-up'} ${layer.format}: ${shown.join(', ')}\n`);
      if (o.verify && i === 0 && berthDir && tarDir) compareTrees(berthDir, tarDir, layer.format);
    }
  }
  // Free the space (the tmpfs) for what follows.
  while (keys.length) await snapshotter.remove(keys.pop()!);
  while (tarDirs.length) rmSync(tarDirs.pop()!, { recursive: true, force: true });
  sync();
  await snapshotter.close();
  snapshotter = undefined;
  return lines;
}

// ---------------------------------------------------------------- load: berth vs docker

/** What this benchmark needs of src/images/store.ts (written against this signature). */
interface StoreLike {
  /** The brief's signature; the store as written has removeImage(store, …) in src/images/remove.ts instead. */
  remove?(nameOrId: string, opts: { force: boolean }): Promise<unknown>;
  close?(): Promise<void>;
  list?(): unknown[];
  content?: { has(digest: string): Promise<boolean> };
  snapshots?: { walk(fn: (info: { key: string }) => void | Promise<void>): Promise<void> };
}
interface StoreModule {
  ImageStore: { open(opts: { root: string; snapshotter?: 'overlay' | 'native' }): Promise<StoreLike> };
}
interface RemoveModule {
  removeImage(store: StoreLike, nameOrId: string, opts: { force: boolean }): Promise<unknown>;
}
interface LoadModule {
  loadImages(store: StoreLike, source: AsyncIterable<Buffer>): Promise<{ images: unknown[]; messages: string[] }>;
}

/** A docker-archive (`docker save` format) of the layer, built by hand once and cached. */
async function dockerArchive(o: Options, tarPath: string): Promise<{ path: string; diffId: string; configDigest: string }> {
  const diffHex = await sha256File(tarPath);
  const config = {
    architecture: 'amd64',
    os: 'linux',
    created: '2025-05-20T00:00:00Z',
    config: { Cmd: ['/bin/bash'], Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'] },
    rootfs: { type: 'layers', diff_ids: [`sha256:${diffHex}`] },
    history: [{ created: '2025-05-20T00:00:00Z', created_by: 'debootstrap --variant=minbase bookworm (scripts/bench/make-rootfs.sh)' }],
  };
  const configJson = JSON.stringify(config);
  const configHex = createHash('sha256').update(configJson).digest('hex');
  const out = join(o.data, `bookworm-minbase.docker-${configHex.slice(0, 12)}.tar`);
  if (existsSync(out)) return { path: out, diffId: `sha256:${diffHex}`, configDigest: `sha256:${configHex}` };
  const staging = mkdtempSync(join(o.data, 'docker-archive.'));
  try {
    mkdirSync(join(staging, diffHex));
    linkSync(tarPath, join(staging, diffHex, 'layer.tar')); // same directory, same filesystem: no copy
    writeFileSync(join(staging, `${configHex}.json`), configJson);
    writeFileSync(join(staging, 'manifest.json'), JSON.stringify([{ Config: `${configHex}.json`, RepoTags: [IMAGE_REF], Layers: [`${diffHex}/layer.tar`] }]));
    const r = run(['tar', '--numeric-owner', '--owner=0', '--group=0', '-cf', `${out}.tmp`, '-C', staging, 'manifest.json', `${configHex}.json`, `${diffHex}/layer.tar`], { timeoutS: 600 });
    if (r.status !== 0) throw new Error(`writing the docker-archive: ${r.stderr.trim()}`);
    renameSync(`${out}.tmp`, out);
  } finally {
    rmSync(staging, { recursive: true, force: true });
    rmSync(`${out}.tmp`, { force: true });
  }
  return { path: out, diffId: `sha256:${diffHex}`, configDigest: `sha256:${configHex}` };
}

function ensureDockerd(): { dockerd?: string; docker?: string; why?: string } {
  let dockerdPath = which('dockerd');
  if (!dockerdPath) {
    process.stderr.write('docker: dockerd is not installed; apt-get install -y docker.io …\n');
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    let r = run(['apt-get', 'install', '-y', '-qq', 'docker.io'], { timeoutS: 900, env });
    if (r.status !== 0) {
      run(['apt-get', 'update', '-qq'], { timeoutS: 600, env });
      r = run(['apt-get', 'install', '-y', '-qq', 'docker.io'], { timeoutS: 900, env });
    }
    dockerdPath = which('dockerd');
    if (!dockerdPath) return { why: `apt-get install docker.io failed: ${(r.stderr.trim().split('\n').pop() ?? '').slice(0, 300)}` };
    notes.push('docker: installed docker.io from Debian (its service was not started: policy-rc.d, no init system)');
  }
  // The client from the same package as the daemon, when there is one.
  const docker = existsSync('/usr/bin/docker') ? '/usr/bin/docker' : which('docker');
  if (!docker) return { why: 'no docker client' };
  return { dockerd: dockerdPath, docker };
}

function socketAnswers(path: string): Promise<boolean> {
  return new Promise((res) => {
    const s = connect(path);
    s.on('connect', () => {
      s.destroy();
      res(true);
    });
    s.on('error', () => res(false));
  });
}

async function startDockerd(dockerdPath: string, docker: string, dir: string, socket: string): Promise<DockerdState> {
  if (existsSync(socket)) {
    if (await socketAnswers(socket)) throw new Error(`${socket} is in use by another daemon; not touching it`);
    unlinkSync(socket); // a stale socket of an earlier, killed run
  }
  const dataRoot = join(dir, 'data');
  const execRoot = join(dir, 'exec');
  for (const d of [dir, dataRoot, execRoot]) mkdirSync(d, { recursive: true });
  const configFile = join(dir, 'daemon.json');
  writeFileSync(configFile, '{}\n');
  const logPath = join(dir, 'dockerd.log');
  const log = openSync(logPath, 'a');
  const keyJsonWasAbsent = !existsSync('/etc/docker/key.json');
  const argv = [
    '--data-root', dataRoot, '--exec-root', execRoot, '--pidfile', join(dir, 'docker.pid'),
    '-H', `unix://${socket}`, '--config-file', configFile,
    '--bridge=none', '--iptables=false', '--ip6tables=false', '--ip-forward=false', '--ip-masq=false',
    '--storage-driver=overlay2', '--log-level=warn',
  ];
  const child = spawn(dockerdPath, argv, { stdio: ['ignore', log, log] });
  closeSync(log);
  live.add(child);
  const state: DockerdState = { child, pid: child.pid!, execRoot, socket, keyJsonWasAbsent };
  dockerd = state;
  let exited: string | undefined;
  child.on('exit', (code, signal) => {
    live.delete(child);
    exited = `dockerd exited (${signal ?? `status ${code}`})`;
  });
  const deadline = Date.now() + 90_000;
  for (;;) {
    checkAborted();
    if (exited) throw new Error(`${exited} before answering: ${tail(logPath)}`);
    const r = run([docker, '-H', `unix://${socket}`, 'version', '--format', '{{.Server.Version}}'], { timeoutS: 10 });
    if (r.status === 0) break;
    if (Date.now() > deadline) throw new Error(`dockerd did not answer within 90 s: ${tail(logPath)}`);
    await new Promise((res) => setTimeout(res, 500));
  }
  return state;
}

function tail(path: string, lines = 6): string {
  try {
    return readFileSync(path, 'utf8').trim().split('\n').slice(-lines).join(' | ');
  } catch {
    return '(no log)';
  }
}

async function waitGone(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (!pidAlive(pid) || readFileSafe(`/proc/${pid}/stat`).split(') ')[1]?.startsWith('Z')) return true;
    await new Promise((res) => setTimeout(res, 100));
  }
  return !pidAlive(pid);
}

function readFileSafe(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** Stop the dockerd this run started (by its pid), then its managed containerd if it stayed. */
async function stopDockerd(d: DockerdState): Promise<void> {
  dockerd = undefined;
  const containerdPidFile = join(d.execRoot, 'containerd', 'containerd.pid');
  const containerdPid = Number.parseInt(readFileSafe(containerdPidFile), 10);
  if (d.child.exitCode === null && d.child.signalCode === null) {
    process.kill(d.pid, 'SIGTERM');
    if (!(await waitGone(d.pid, 30_000))) {
      notes.push(`dockerd ${d.pid} ignored SIGTERM for 30 s: SIGKILL`);
      process.kill(d.pid, 'SIGKILL');
      await waitGone(d.pid, 5_000);
    }
  }
  // The containerd dockerd manages is started with our exec root on its command line: ours.
  if (Number.isInteger(containerdPid) && pidAlive(containerdPid) && readFileSafe(`/proc/${containerdPid}/cmdline`).includes(d.execRoot)) {
    process.kill(containerdPid, 'SIGTERM');
    if (!(await waitGone(containerdPid, 10_000))) process.kill(containerdPid, 'SIGKILL');
    notes.push(`docker: stopped the managed containerd (${containerdPid}) that outlived dockerd`);
  }
  rmSync(d.socket, { force: true });
  if (d.keyJsonWasAbsent && existsSync('/etc/docker/key.json')) {
    rmSync('/etc/docker/key.json', { force: true });
    const note = 'docker: removed the /etc/docker/key.json (trust key) each dockerd of this run wrote';
    if (!notes.includes(note)) notes.push(note);
  }
}

interface LoadLines {
  docker: number[];
  berth: number[];
  dockerNote?: string;
  berthNote?: string;
  dockerVersion?: string;
  archiveBytes?: number;
  method?: string;
}

async function loadSection(o: Options, base: string, tarPath: string): Promise<LoadLines> {
  const out: LoadLines = { docker: [], berth: [] };
  const archive = await dockerArchive(o, tarPath);
  out.archiveBytes = statSync(archive.path).size;

  // berth's side: written against loadImages(store, AsyncIterable<Buffer>) and ImageStore.open().
  const storeJs = join(REPO, 'dist/src/images/store.js');
  const loadJs = join(REPO, 'dist/src/images/archive/load.js');
  const removeJs = join(REPO, 'dist/src/images/remove.js');
  let load: LoadModule | undefined;
  let storeMod: StoreModule | undefined;
  let removeMod: RemoveModule | undefined;
  if (!existsSync(loadJs) || !existsSync(storeJs)) {
    out.berthNote = `berth load not available yet (${existsSync(storeJs) ? '' : 'src/images/store.ts, '}${existsSync(loadJs) ? '' : 'src/images/archive/load.ts '}missing from dist)`;
  } else {
    try {
      storeMod = (await import(pathToFileURL(storeJs).href)) as StoreModule;
      load = (await import(pathToFileURL(loadJs).href)) as LoadModule;
      if (typeof load.loadImages !== 'function' || typeof storeMod.ImageStore?.open !== 'function') throw new Error('unexpected exports');
      if (existsSync(removeJs)) removeMod = (await import(pathToFileURL(removeJs).href)) as RemoveModule;
    } catch (err) {
      out.berthNote = `berth load not available yet (${(err as Error).message.split('\n')[0]})`;
      load = undefined;
    }
  }

  // Fresh roots: on disk, every load gets a new dockerd data root and a new berth store, and
  // nothing is deleted until the end (see --rm-each). On tmpfs (2 GiB) one daemon and one store
  // serve all loads, with `docker rmi -f` / removeImage(force) after each.
  const fresh = !removesEach(o);
  out.method = fresh
    ? 'every load into a new dockerd data root / a new berth store (dockerd start and stop untimed), nothing deleted until the end'
    : 'one dockerd and one berth store; `docker rmi -f` / removeImage(force) after each load (untimed)';
  const socket = join(o.data, 'docker.sock');
  const host = `unix://${socket}`;

  // docker's side.
  let docker: string | undefined;
  let dockerdPath: string | undefined;
  let daemons = 0;
  const found = ensureDockerd();
  if (!found.dockerd || !found.docker) out.dockerNote = `docker not measured: ${found.why}`;
  else {
    docker = found.docker;
    dockerdPath = found.dockerd;
    try {
      await startDockerd(dockerdPath, docker, join(base, `docker-${daemons++}`), socket);
      const info = run([docker, '-H', host, 'info', '--format', '{{.ServerVersion}} {{.Driver}} cgroup {{.CgroupVersion}}/{{.CgroupDriver}}']);
      out.dockerVersion = info.stdout.trim();
      if (!/overlay2/.test(info.stdout)) notes.push(`docker: storage driver is not overlay2: ${info.stdout.trim()}`);
    } catch (err) {
      out.dockerNote = `docker not measured: ${(err as Error).message}`;
      docker = undefined;
      if (dockerd) await stopDockerd(dockerd).catch(() => undefined);
    }
  }

  let stores = 0;
  const openStore = async (): Promise<StoreLike> => storeMod!.ImageStore.open({ root: join(base, `berth-store-${stores++}`), snapshotter: 'overlay' });
  if (load && storeMod) berthStore = await openStore();

  const dockerOnce = async (): Promise<number | undefined> => {
    if (!dockerd) await startDockerd(dockerdPath!, docker!, join(base, `docker-${daemons++}`), socket);
    sync();
    const r = await timedChild([docker!, '-H', host, 'load', '-q', '-i', archive.path]);
    if (r.status !== 0) {
      out.dockerNote = `docker load failed: ${r.stderr.split('\n')[0]}`;
      return undefined;
    }
    if (fresh) await stopDockerd(dockerd!);
    else {
      const rm = run([docker!, '-H', host, 'rmi', '-f', IMAGE_REF]);
      if (rm.status !== 0) notes.push(`docker rmi: ${rm.stderr.trim()}`);
    }
    return r.ms;
  };

  const berthOnce = async (): Promise<number | undefined> => {
    berthStore ??= await openStore();
    sync();
    const t0 = performance.now();
    const res = await load!.loadImages(berthStore, createReadStream(archive.path, { highWaterMark: 1024 * 1024 }));
    const ms = performance.now() - t0;
    if (!res.images.length) throw new Error(`berth load loaded no image: ${res.messages.join('; ')}`);
    const store = berthStore;
    if (fresh) {
      await store.close?.();
      berthStore = undefined;
      return ms;
    }
    if (typeof store.remove === 'function') await store.remove(IMAGE_REF, { force: true });
    else if (removeMod && typeof removeMod.removeImage === 'function') await removeMod.removeImage(store, IMAGE_REF, { force: true });
    else throw new Error('no way to remove an image: neither store.remove() nor removeImage() in src/images/remove.ts');
    // The next load must do all the work again: nothing of this image may stay behind.
    let kept = 0;
    await store.snapshots?.walk(() => void kept++);
    const blob = (await store.content?.has(archive.diffId)) ?? false;
    if (kept || blob) {
      notes.push(`berth load: removing the image (force) left ${kept} snapshot(s)${blob ? ' and the layer blob' : ''}; the next load gets a fresh store root`);
      await store.close?.();
      berthStore = undefined;
    }
    return ms;
  };

  for (let i = 0; i < o.warmup + o.iterations; i++) {
    const timed = i >= o.warmup;
    const order: Array<'docker' | 'berth'> = i % 2 === 0 ? ['berth', 'docker'] : ['docker', 'berth'];
    const shown: string[] = [];
    for (const who of order) {
      checkAborted();
      if (who === 'docker' && docker && !out.dockerNote) {
        try {
          const ms = await dockerOnce();
          if (ms !== undefined && timed) out.docker.push(ms);
          shown.push(`docker load ${fmtMs(ms)} ms`);
        } catch (err) {
          if (err instanceof Aborted) throw err;
          out.dockerNote = `docker failed: ${(err as Error).message.split('\n')[0]}`;
        }
      }
      if (who === 'berth' && load && storeMod && !out.berthNote) {
        try {
          const ms = await berthOnce();
          if (ms !== undefined && timed) out.berth.push(ms);
          shown.push(`berth load ${fmtMs(ms)} ms`);
        } catch (err) {
          out.berthNote = `berth load failed: ${(err as Error).message.split('\n')[0]}`;
          await berthStore?.close?.().catch(() => undefined);
          berthStore = undefined;
        }
      }
    }
    checkAborted();
    if (!shown.length) break;
    process.stderr.write(`  ${timed ? `iteration ${i - o.warmup + 1}/${o.iterations}` : 'warm-up'} load: ${shown.join(', ')}\n`);
  }
  if (dockerd) await stopDockerd(dockerd);
  if (berthStore) {
    await berthStore.close?.();
    berthStore = undefined;
  }
  return out;
}

// ---------------------------------------------------------------- report

function row(cells: string[], widths: number[]): string {
  return cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
}

const W = [34, 9, 8, 8, 8, 3, 10];
const HEAD = row(['', 'median ms', 'min', 'max', 'MB/s', 'n', 'ratio'], W);

function line(label: string, samples: number[], bytes: number, ratioText = '', error?: string): string {
  const s = stats(samples);
  if (!s) return `${label.padEnd(W[0]!)}  ${error ?? 'not measured'}`;
  const rate = mbps(bytes, s.median);
  return row([label, fmtMs(s.median), fmtMs(s.min), fmtMs(s.max), rate === undefined ? '-' : rate.toFixed(0), String(s.n), ratioText], W);
}

function throughputRatio(berth: number[], other: number[]): number | undefined {
  const b = stats(berth);
  const t = stats(other);
  return b && t ? t.median / b.median : undefined; // same bytes: throughput ratio = inverse time ratio
}

// ---------------------------------------------------------------- main

async function main(): Promise<number> {
  const o = parseOptions(process.argv.slice(2));
  if (process.getuid?.() !== 0) {
    process.stderr.write('bench: needs root (owners, device nodes, tmpfs, dockerd)\n');
    return 2;
  }
  installSignalHandlers(cleanup, printNotes);
  const tarPath = join(o.data, 'bookworm-minbase.tar');
  const gzPath = join(o.data, 'bookworm-minbase.tar.gz');
  if (!existsSync(tarPath) || !existsSync(gzPath)) {
    process.stderr.write(`bench: ${tarPath}(.gz) missing: run  sudo bash scripts/bench/make-rootfs.sh  first\n`);
    return 2;
  }
  if (!existsSync(UNPACK_PATH)) {
    process.stderr.write(`bench: ${UNPACK_PATH} is missing: run make -C native\n`);
    return 2;
  }
  const tarBytes = statSync(tarPath).size;
  const layers: Layer[] = o.formats.map((f) => ({ format: f, path: f === 'gzip' ? gzPath : tarPath, fileBytes: statSync(f === 'gzip' ? gzPath : tarPath).size }));

  work = mkdtempSync(join(o.data, 'run-'));
  let base = work;
  if (o.target === 'tmpfs') {
    base = join(work, 'tmpfs');
    mkdirSync(base);
    const r = run(['mount', '-t', 'tmpfs', '-o', 'size=2g,mode=0755', 'berth-bench', base]);
    if (r.status !== 0) throw new Error(`mounting the tmpfs: ${r.stderr.trim()}`);
    privateMount = base;
    run(['mount', '--make-private', base]);
  } else if (o.target === 'ext4') {
    base = join(work, 'ext4');
    mkdirSync(base);
    const img = join(work, 'ext4.img');
    for (const argv of [
      ['truncate', '-s', '8G', img],
      ['mkfs.ext4', '-q', '-F', '-L', 'berth-bench', '-E', 'lazy_itable_init=0,lazy_journal_init=0', img],
      ['mount', '-o', 'loop', img, base], // autoclear: the loop device goes with the unmount
    ]) {
      const r = run(argv, { timeoutS: 300 });
      if (r.status !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr.trim()}`);
      if (argv[0] === 'mount') privateMount = base;
    }
    run(['mount', '--make-private', base]);
  }


  const header = [
    `berth layer benchmark — ${new Date().toISOString()}`,
    `machine: ${cpus().length} CPU (${cpus()[0]?.model.trim() ?? '?'}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Linux ${release()}, node ${process.version}, ${run(['tar', '--version']).stdout.split('\n')[0]}`,
    `berth: ${gitState(REPO)}; unpacker ${UNPACK_PATH}`,
    `layer: ${tarPath}: ${tarBytes} bytes; gzip -6: ${statSync(gzPath).size} bytes; MB = 10^6 bytes of uncompressed tar`,
    `targets: ${o.target === 'tmpfs' ? 'private tmpfs (size=2g)' : o.target === 'ext4' ? `private ext4 with a journal (8 GiB sparse file on ${fsType(work)}, loop-mounted)` : `${base} (${fsType(base)}, same filesystem as the layer)`}; layer file on ${fsType(tarPath)}`,
    `uptime at start: ${uptime()}`,
    `method: ${o.iterations} iterations after ${o.warmup} warm-up; berth and tar alternate; a fresh target dir and sync before each run; ${removesEach(o) ? 'the previous target removed first' : 'targets kept until the end (no deletions during the runs)'}; caches not dropped`,
  ];
  process.stderr.write(header.join('\n') + '\n\n');

  const applyLines = await applySection(o, layers, base, tarBytes);
  let loads: LoadLines | undefined;
  if (o.docker) {
    process.stderr.write('\nload: docker load vs berth loadImages\n');
    loads = await loadSection(o, base, tarPath);
  }

  const out: string[] = [...header, ''];
  out.push(`Apply one layer into a fresh directory (${applyLines.get('plain')?.berthResult?.entries ?? applyLines.get('gzip')?.berthResult?.entries ?? '?'} entries)   [target: berth ≥ 0.8x GNU tar's throughput]`);
  out.push(HEAD);
  for (const layer of layers) {
    const l = applyLines.get(layer.format)!;
    const r = throughputRatio(l.berth, l.tar);
    const what = layer.format === 'gzip' ? 'gzip' : 'uncompressed';
    out.push(line(`berth apply (${what})`, l.berth, tarBytes, r === undefined ? '' : `${r.toFixed(2)}x`));
    out.push(line(`GNU tar ${layer.format === 'gzip' ? '-xzf' : '-xf'} (${what})`, l.tar, tarBytes, stats(l.tar) ? '1.00x' : '', l.tarError));
  }
  out.push('');
  for (const layer of layers) {
    const l = applyLines.get(layer.format)!;
    const r = throughputRatio(l.berth, l.tar);
    if (r !== undefined) out.push(`berth/tar throughput (${layer.format}): ${r.toFixed(2)}x — ${r >= 0.8 ? 'target met' : 'below the 0.8x target'}`);
  }
  if (loads) {
    out.push('');
    out.push(`Load one image (docker-archive of the same layer, ${loads.archiveBytes ?? '?'} bytes)   [target: berth faster than docker]`);
    if (loads.dockerVersion) out.push(`docker: private dockerd ${loads.dockerVersion}`);
    if (loads.method) out.push(`method: ${loads.method}; sync before each load`);
    out.push(HEAD);
    const r = throughputRatio(loads.berth, loads.docker);
    out.push(line('berth loadImages (in-process)', loads.berth, tarBytes, r === undefined ? '' : `${r.toFixed(2)}x`, loads.berthNote));
    out.push(line('docker load -i (CLI spawn → exit)', loads.docker, tarBytes, stats(loads.docker) ? '1.00x' : '', loads.dockerNote));
    if (r !== undefined) out.push(`berth/docker throughput: ${r.toFixed(2)}x — ${r > 1 ? 'target met' : 'target not met'}`);
  }
  out.push('');
  out.push(`uptime at end: ${uptime()}`);
  process.stdout.write('\n' + out.join('\n') + '\n');
  return 0;
}

let exitCode = 1;
try {
  exitCode = await main();
} catch (err) {
  if (!(err instanceof Aborted)) process.stderr.write(`bench: ${(err as Error).stack ?? String(err)}\n`);
} finally {
  await cleanup();
  printNotes();
}
if (!isAborted()) process.exit(exitCode);
