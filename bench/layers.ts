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
// - --docker: a private dockerd (bench/dockerd.ts: its own data/exec root, pidfile and socket,
//   no bridge, no iptables, no ip_forward change) times `docker load -i` of a docker-archive of
//   the same layer against berth's loadImages() into an ImageStore.
//
// Everything lives in one directory under the data dir (and the tmpfs/ext4 mounted inside it);
// it is unmounted and removed, and each dockerd stopped by its pid, on success, failure, Ctrl-C
// or SIGTERM. Timings are printed, never asserted.
import { createReadStream, existsSync, linkSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readlinkSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { applyLayer, type ApplyResult } from '../src/images/layer/apply.js';
import { UNPACK_PATH } from '../src/util/native-tools.js';
import { OverlaySnapshotter } from '../src/snapshots/overlay.js';
import { writableDir } from '../src/snapshots/snapshotter.js';
import {
  Aborted, checkAborted, fmtMs, fsType, gitState, installSignalHandlers, isAborted, killLiveChildren, minbaseImageConfig, mountPrivateTarget, removeWork, run, sha256File,
  stats, sync, timedChild, uptime,
} from './common.js';
import { ensureDockerd, startDockerd, stopAllDockerds, stopDockerd, type DockerdState } from './dockerd.js';

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
let work: string | undefined; // everything this run creates, under the data dir
let privateMount: string | undefined; // the tmpfs or loop-mounted ext4 of --tmpfs / --ext4
let snapshotter: OverlaySnapshotter | undefined;
let berthStore: StoreLike | undefined;
let dockerd: DockerdState | undefined;
let cleanupPromise: Promise<void> | undefined;

function cleanup(): Promise<void> {
  cleanupPromise ??= (async () => {
    killLiveChildren();
    dockerd = undefined;
    await stopAllDockerds(notes);
    if (berthStore) await berthStore.close?.().catch(() => undefined);
    if (snapshotter) await snapshotter.close().catch(() => undefined);
    if (work) removeWork(work, privateMount, notes);
  })();
  return cleanupPromise;
}

function printNotes(): void {
  if (notes.length) process.stderr.write(`\nnotes:\n${notes.map((n) => `  - ${n}`).join('\n')}\n`);
}

// ---------------------------------------------------------------- helpers

const mbps = (bytes: number, ms: number | undefined): number | undefined => (ms === undefined ? undefined : bytes / 1e6 / (ms / 1000));

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
  const { json: configJson, hex: configHex } = minbaseImageConfig(diffHex);
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
  const found = ensureDockerd(notes);
  if (!found.dockerd || !found.docker) out.dockerNote = `docker not measured: ${found.why}`;
  else {
    docker = found.docker;
    dockerdPath = found.dockerd;
    try {
      dockerd = await startDockerd(dockerdPath, docker, join(base, `docker-${daemons++}`), socket, notes);
      const info = run([docker, '-H', host, 'info', '--format', '{{.ServerVersion}} {{.Driver}} cgroup {{.CgroupVersion}}/{{.CgroupDriver}}']);
      out.dockerVersion = info.stdout.trim();
      if (!/overlay2/.test(info.stdout)) notes.push(`docker: storage driver is not overlay2: ${info.stdout.trim()}`);
    } catch (err) {
      out.dockerNote = `docker not measured: ${(err as Error).message}`;
      docker = undefined;
    }
  }

  let stores = 0;
  const openStore = async (): Promise<StoreLike> => storeMod!.ImageStore.open({ root: join(base, `berth-store-${stores++}`), snapshotter: 'overlay' });
  if (load && storeMod) berthStore = await openStore();

  const dockerOnce = async (): Promise<number | undefined> => {
    dockerd ??= await startDockerd(dockerdPath!, docker!, join(base, `docker-${daemons++}`), socket, notes);
    sync();
    const r = await timedChild([docker!, '-H', host, 'load', '-q', '-i', archive.path]);
    if (r.status !== 0) {
      out.dockerNote = `docker load failed: ${r.stderr.split('\n')[0]}`;
      return undefined;
    }
    if (fresh) {
      await stopDockerd(dockerd!, notes);
      dockerd = undefined;
    }
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
  if (dockerd) await stopDockerd(dockerd, notes);
  dockerd = undefined;
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
  const base = o.target === 'disk' ? work : mountPrivateTarget(work, o.target, (dir) => (privateMount = dir));

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
