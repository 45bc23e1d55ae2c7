// The registry benchmark: berth's pull against `docker pull`, and `berth registry serve`
// against Docker's registry (distribution 2.8), on one real-world image, in one run.
// Method and results: docs/benchmarks.md, "Registry".
//
//   node dist/bench/registry.js [--iterations N] [--warmup N] [--docker] [--rounds N] [--round-warmup N] [--clients N]
//                               [--only pull|serve] [--tmpfs] [--rm-each] [--data DIR]
//
// The image: the debootstrap --variant=minbase bookworm rootfs of scripts/bench/make-rootfs.sh
// as one gzip layer (the cached .tar.gz, 93 MB; 201 MiB of tar), in an OCI layout built by hand
// and cached beside it. skopeo pushes it into a private docker-registry (and, for part 2, into
// `berth registry serve`), both on 127.0.0.1 ports of their own.
//
// 1. Pull, end to end (manifest → image unpacked and recorded, ready to run), cold every time:
//    - berth: the client's pull() into an ImageStore (overlay snapshotter) in a fresh data root,
//      with a fresh resolver, in-process, timed around the call (the daemon is long-running: no
//      Node start-up counted);
//    - docker (--docker): `docker pull` against a private dockerd, timed from spawn to exit.
//      Between pulls either the daemon is replaced by one with a new data root (default on the
//      data dir's disk), or (--tmpfs, --rm-each) `docker rmi` + `docker image prune -af`, with a
//      check that no layer is left.
//    They alternate (who goes first alternates too); `sync` before each; caches never dropped.
// 2. Serving: N (8) concurrent clients, each a full protocol-level pull over one keep-alive
//    connection (GET manifest with the manifest Accept header, GET config, GET layer; bytes
//    discarded by curl -o /dev/null) against each server in turn, for a few rounds. Reported:
//    wall time per round, aggregate MB/s, and the CPU the server and the clients used.
//
// Everything lives in one run-* directory under the data dir (a private tmpfs inside it with
// --tmpfs); the registries, the dockerd and any child are stopped by pid, mounts unmounted and
// the directory removed on success, failure, Ctrl-C or SIGTERM. Timings are printed, never asserted.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream, existsSync, linkSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { createServer } from 'node:net';
import { cpus, release, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  Aborted, checkAborted, fmtMs, fsType, gitState, installSignalHandlers, isAborted, killLiveChildren, loadAverage1, minbaseImageConfig,
  mountPrivateTarget, readFileSafe, removeWork, run, sha256File, stats, sync, tail, timedChild, uptime, waitGone, type Stats,
} from './common.js';
import { dockerCli, ensureDockerd, startDockerd, stopAllDockerds, stopDockerd, type DockerdState } from './dockerd.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const REPOSITORY = 'bench/minbase';
const TAG = 'latest';
const MEDIA = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
};
/** What docker and containerd send when pulling. */
const MANIFEST_ACCEPT = [MEDIA.ociManifest, MEDIA.ociIndex, MEDIA.dockerManifest, MEDIA.dockerList].join(', ');
const LOAD_WARN = 2.5;

// ---------------------------------------------------------------- options

interface Options {
  iterations: number;
  warmup: number;
  docker: boolean;
  rounds: number;
  roundWarmup: number;
  clients: number;
  only?: 'pull' | 'serve';
  tmpfs: boolean;
  rmEach: boolean;
  data: string;
}

const USAGE = `usage: node dist/bench/registry.js [options]
  --iterations N     timed pulls of each side (default 5)
  --warmup N         untimed pulls of each side first (default 1)
  --docker           also time \`docker pull\` (a private dockerd) against berth's pull
  --rounds N         timed rounds of concurrent pulls per server (default 5)
  --round-warmup N   untimed rounds per server first (default 1)
  --clients N        concurrent clients per round (default 8)
  --only pull|serve  run one part only
  --tmpfs            everything (registries' storage, stores, dockerd) on a private 4 GiB tmpfs
  --rm-each          on disk, remove the previous berth store and \`docker rmi\` + \`docker image
                     prune -af\` between pulls (one dockerd) instead of a new data root each time
                     and nothing deleted until the end. On a journal-less ext4 (this host's /) a
                     tree deleted in the last minutes makes the next extraction 5-10x slower
                     (ext4 recently_deleted()), for both sides; with --tmpfs this is always done
  --data DIR         where the layer is cached and the work dir goes
                     (default $BERTH_BENCH_DIR or /var/tmp/berth-bench)
Needs root, skopeo, docker-registry and curl. The layer comes from: sudo bash scripts/bench/make-rootfs.sh
`;

function parseOptions(argv: string[]): Options {
  const o: Options = {
    iterations: 5, warmup: 1, docker: false, rounds: 5, roundWarmup: 1, clients: 8, tmpfs: false, rmEach: false,
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
      case '--docker': o.docker = true; break;
      case '--rounds': o.rounds = num(flag, value(), 1); break;
      case '--round-warmup': o.roundWarmup = num(flag, value(), 0); break;
      case '--clients': o.clients = num(flag, value(), 1); break;
      case '--only': {
        const v = value();
        if (v !== 'pull' && v !== 'serve') fail('--only takes pull or serve');
        o.only = v as 'pull' | 'serve';
        break;
      }
      case '--tmpfs': o.tmpfs = true; break;
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
let work: string | undefined;
let privateMount: string | undefined;
const services = new Set<Service>();
const openStores = new Set<StoreLike>();
let cleanupPromise: Promise<void> | undefined;

function cleanup(): Promise<void> {
  cleanupPromise ??= (async () => {
    killLiveChildren();
    for (const s of [...services]) await stopService(s).catch((err: Error) => notes.push(`stopping ${s.name}: ${err.message}`));
    await stopAllDockerds(notes);
    for (const s of [...openStores]) await s.close().catch(() => undefined);
    if (work) removeWork(work, privateMount, notes);
  })();
  return cleanupPromise;
}

function printNotes(): void {
  if (notes.length) process.stderr.write(`\nnotes:\n${notes.map((n) => `  - ${n}`).join('\n')}\n`);
}

function note(s: string): void {
  if (!notes.includes(s)) notes.push(s);
}

// ---------------------------------------------------------------- the image (OCI layout)

interface Blob {
  mediaType: string;
  digest: string;
  size: number;
}

interface Fixture {
  /** The OCI layout directory, for skopeo's oci:DIR:latest. */
  dir: string;
  manifest: Blob;
  config: Blob;
  layer: Blob;
  diffId: string;
  tarBytes: number;
}

/** The minbase rootfs as a one-layer gzip image in an OCI layout, built once and cached beside the layer. */
async function ociFixture(o: Options, tarPath: string, gzPath: string): Promise<Fixture> {
  const [diffHex, gzHex] = await Promise.all([sha256File(tarPath), sha256File(gzPath)]);
  const cfg = minbaseImageConfig(diffHex);
  const config: Blob = { mediaType: MEDIA.ociConfig, digest: `sha256:${cfg.hex}`, size: Buffer.byteLength(cfg.json) };
  const layer: Blob = { mediaType: MEDIA.ociLayerGzip, digest: `sha256:${gzHex}`, size: statSync(gzPath).size };
  const manifestJson = JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.ociManifest, config, layers: [layer] });
  const manifestHex = createHash('sha256').update(manifestJson).digest('hex');
  const manifest: Blob = { mediaType: MEDIA.ociManifest, digest: `sha256:${manifestHex}`, size: Buffer.byteLength(manifestJson) };
  const fixture = { manifest, config, layer, diffId: `sha256:${diffHex}`, tarBytes: statSync(tarPath).size };
  const dir = join(o.data, `bookworm-minbase.oci-${manifestHex.slice(0, 12)}`);
  if (existsSync(join(dir, 'index.json'))) return { dir, ...fixture };
  const staging = mkdtempSync(join(o.data, 'oci-layout.'));
  try {
    const blobs = join(staging, 'blobs', 'sha256');
    mkdirSync(blobs, { recursive: true });
    linkSync(gzPath, join(blobs, gzHex)); // same directory, same filesystem: no copy
    writeFileSync(join(blobs, cfg.hex), cfg.json);
    writeFileSync(join(blobs, manifestHex), manifestJson);
    writeFileSync(join(staging, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    writeFileSync(join(staging, 'index.json'), JSON.stringify({
      schemaVersion: 2, mediaType: MEDIA.ociIndex,
      manifests: [{ ...manifest, annotations: { 'org.opencontainers.image.ref.name': TAG } }],
    }));
    renameSync(staging, dir);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  return { dir, ...fixture };
}

// ---------------------------------------------------------------- services (registries)

interface Service {
  name: string;
  child: ChildProcess;
  pid: number;
  port: number;
  logPath: string;
}

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.on('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => res(port));
    });
  });
}

/** GET http://127.0.0.1:port/path: status, headers and body (bodies here are small). */
function httpRequest(port: number, path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((res, rej) => {
    const req = httpGet({ host: '127.0.0.1', port, path, headers, agent: false }, (r) => {
      const chunks: Buffer[] = [];
      r.on('data', (c: Buffer) => chunks.push(c));
      r.on('end', () => res({ status: r.statusCode ?? 0, headers: r.headers, body: Buffer.concat(chunks) }));
      r.on('error', rej);
    });
    req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
    req.on('error', rej);
  });
}

async function stopService(s: Service): Promise<void> {
  if (!services.delete(s)) return;
  if (s.child.exitCode !== null || s.child.signalCode !== null) return;
  process.kill(s.pid, 'SIGTERM');
  if (!(await waitGone(s.pid, 10_000))) {
    notes.push(`${s.name} (${s.pid}) ignored SIGTERM for 10 s: SIGKILL`);
    process.kill(s.pid, 'SIGKILL');
    await waitGone(s.pid, 5_000);
  }
}

/** Debian's docker-registry (distribution 2.8) with filesystem storage under dir, on a free loopback port. */
async function startDockerRegistry(dir: string): Promise<Service> {
  const bin = existsSync('/usr/bin/docker-registry') ? '/usr/bin/docker-registry' : undefined;
  if (!bin) throw new Error('/usr/bin/docker-registry is missing (apt-get install docker-registry)');
  mkdirSync(join(dir, 'storage'), { recursive: true });
  const port = await freePort();
  const configPath = join(dir, 'config.yml');
  writeFileSync(configPath, [
    'version: 0.1',
    'log:',
    '  level: warn',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${join(dir, 'storage')}`,
    '  delete:',
    '    enabled: true',
    '  cache:',
    '    blobdescriptor: inmemory', // as the config Debian and the registry image ship
    'http:',
    `  addr: 127.0.0.1:${port}`,
    '',
  ].join('\n'));
  const logPath = join(dir, 'registry.log');
  const log = createWriteStream(logPath);
  const child = spawn(bin, ['serve', configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.pipe(log);
  child.stderr!.pipe(log);
  const s: Service = { name: 'docker-registry', child, pid: child.pid!, port, logPath };
  services.add(s);
  await waitReady(s, async () => (await httpRequest(port, '/v2/').catch(() => undefined))?.status === 200);
  return s;
}

/**
 * `node bin/berth.js registry serve --addr 127.0.0.1:0 --root DIR`; the port comes from the
 * "listening on" line it prints on stderr.
 */
async function startBerthRegistry(dir: string): Promise<Service> {
  mkdirSync(dir, { recursive: true });
  const logPath = join(dir, 'serve.log');
  const log = createWriteStream(logPath);
  const child = spawn(process.execPath, [join(REPO, 'bin/berth.js'), 'registry', 'serve', '--addr', '127.0.0.1:0', '--root', join(dir, 'root')], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.pipe(log);
  let port = 0;
  let seen = '';
  child.stderr!.on('data', (c: Buffer) => {
    log.write(c);
    if (port) return;
    seen += c.toString('utf8');
    const m = /listening on\s+(?:https?:\/\/)?(?:\[[^\]]*\]|[\w.-]+)?:(\d+)/i.exec(seen);
    if (m) port = Number(m[1]);
  });
  const s: Service = { name: 'berth registry serve', child, pid: child.pid!, port: 0, logPath };
  services.add(s);
  await waitReady(s, async () => {
    if (!port) return false;
    s.port = port;
    return (await httpRequest(port, '/v2/').catch(() => undefined))?.status === 200;
  });
  return s;
}

async function waitReady(s: Service, ready: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  let exited: string | undefined;
  s.child.on('exit', (code, signal) => (exited = signal ?? `status ${code}`));
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      checkAborted();
      if (exited) throw new Error(`${s.name} exited (${exited}) before answering: ${tail(s.logPath)}`);
      if (await ready()) return;
      if (Date.now() > deadline) throw new Error(`${s.name} did not answer on /v2/ within ${timeoutMs / 1000} s: ${tail(s.logPath)}`);
      await new Promise((res) => setTimeout(res, 100));
    }
  } catch (err) {
    await stopService(s);
    throw err;
  }
}

/** skopeo copy of the OCI layout into a registry (plain HTTP, no policy); its wall time in ms. */
async function skopeoPush(fixture: Fixture, port: number, tmp: string): Promise<number> {
  const dest = `docker://127.0.0.1:${port}/${REPOSITORY}:${TAG}`;
  const r = await timedChild(
    ['skopeo', '--insecure-policy', 'copy', '--quiet', '--dest-tls-verify=false', `oci:${fixture.dir}:${TAG}`, dest],
    600, { env: { ...process.env, TMPDIR: tmp } },
  );
  if (r.status !== 0) throw new Error(`skopeo copy to ${dest} failed: ${r.stderr.split('\n').slice(-2).join(' ')}`);
  return r.ms;
}

/** What the server answers for the tag: the manifest must be the fixture's, byte for byte. */
async function checkServed(s: Service, fixture: Fixture): Promise<void> {
  const m = await httpRequest(s.port, `/v2/${REPOSITORY}/manifests/${TAG}`, { Accept: MANIFEST_ACCEPT });
  const digest = `sha256:${createHash('sha256').update(m.body).digest('hex')}`;
  if (m.status !== 200) throw new Error(`${s.name}: GET manifest: HTTP ${m.status} ${m.body.toString('utf8').slice(0, 200)}`);
  if (digest !== fixture.manifest.digest) throw new Error(`${s.name} serves manifest ${digest}, the fixture's is ${fixture.manifest.digest} (skopeo converted it?)`);
}

// ---------------------------------------------------------------- berth: store and pull

/** What this benchmark needs of src/images/store.ts. */
interface StoreLike {
  close(): Promise<void>;
  resolve(nameOrId: string): Promise<{ id: string }>;
  prepareRootfs(key: string, img: { id: string }): Promise<unknown[]>;
}
interface StoreModule {
  ImageStore: { open(opts: { root: string; snapshotter?: 'overlay' | 'native' }): Promise<StoreLike> };
}

interface BerthPull {
  /**
   * One cold pull of ref into store, returning when the image is unpacked and recorded; with
   * the ms from the call to the layer's "Download complete" progress message.
   */
  pull(store: StoreLike, ref: string): Promise<{ downloadMs?: number }>;
  /** Drop keep-alive connections, so the next pull starts cold. */
  reset(): void;
}

/**
 * The registry client's pull (dist/src/registry/client/pull.js) with a new resolver
 * (createResolver, dist/src/registry/client/session.js) for every pull. The one place that
 * knows the client's exported names.
 */
async function loadBerthPull(): Promise<BerthPull> {
  const pullJs = join(REPO, 'dist/src/registry/client/pull.js');
  const sessionJs = join(REPO, 'dist/src/registry/client/session.js');
  const httpJs = join(REPO, 'dist/src/registry/client/http.js');
  if (!existsSync(pullJs)) throw new Error('src/registry/client/pull.ts is not built yet (dist/src/registry/client/pull.js missing)');
  const pullMod = (await import(pathToFileURL(pullJs).href)) as Record<string, unknown>;
  const session = (await import(pathToFileURL(sessionJs).href)) as { createResolver(opts?: object): unknown };
  const http = (await import(pathToFileURL(httpJs).href)) as { closeIdleConnections?(): void };
  const pull = pullMod.pull as ((store: unknown, resolver: unknown, ref: string, opts?: object) => Promise<unknown>) | undefined;
  if (typeof pull !== 'function') throw new Error(`dist/src/registry/client/pull.js exports no pull() (it has: ${Object.keys(pullMod).join(', ')})`);
  return {
    async pull(store, ref) {
      const t0 = performance.now();
      let downloadMs: number | undefined;
      const onProgress = (m: { status?: string }): void => {
        if (m.status === 'Download complete') downloadMs = performance.now() - t0;
      };
      await pull(store, session.createResolver(), ref, { onProgress });
      return { downloadMs };
    },
    reset: () => http.closeIdleConnections?.(),
  };
}

// ---------------------------------------------------------------- part 1: pull

interface PullLines {
  berth: number[];
  docker: number[];
  /** Time to the layer's "Download complete" (the rest is unpacking and recording). */
  berthDownload: number[];
  dockerDownload: number[];
  berthNote?: string;
  dockerNote?: string;
  dockerVersion?: string;
  method?: string;
}

async function pullSection(o: Options, base: string, fixture: Fixture, registry: Service): Promise<PullLines> {
  const out: PullLines = { berth: [], docker: [], berthDownload: [], dockerDownload: [] };
  const ref = `127.0.0.1:${registry.port}/${REPOSITORY}:${TAG}`;
  const fresh = !o.rmEach && !o.tmpfs;
  out.method = fresh
    ? 'berth: a new data root per pull; docker: a new dockerd data root per pull (start/stop untimed); nothing deleted until the end'
    : 'berth: a new data root per pull, the previous one removed first; docker: one dockerd, `docker rmi` + `docker image prune -af` after each pull (untimed), no layer left';

  // berth's side
  let berth: BerthPull | undefined;
  let storeMod: StoreModule | undefined;
  try {
    storeMod = (await import(pathToFileURL(join(REPO, 'dist/src/images/store.js')).href)) as StoreModule;
    berth = await loadBerthPull();
  } catch (err) {
    out.berthNote = `berth pull not available: ${(err as Error).message.split('\n')[0]}`;
  }
  const berthRoots: string[] = [];
  const berthOnce = async (): Promise<{ ms: number; downloadMs?: number }> => {
    if (!fresh) while (berthRoots.length) rmSync(berthRoots.pop()!, { recursive: true, force: true });
    const root = join(base, `berth-pull-${berthRoots.length + out.berth.length}-${Date.now()}`);
    berthRoots.push(root);
    const store = await storeMod!.ImageStore.open({ root, snapshotter: 'overlay' });
    openStores.add(store);
    try {
      sync();
      const t0 = performance.now();
      const { downloadMs } = await berth!.pull(store, ref);
      const ms = performance.now() - t0;
      berth!.reset();
      // Ready to run: recorded under the reference with the fixture's ID, and a container rootfs can be prepared on it.
      const img = await store.resolve(ref);
      if (img.id !== fixture.config.digest) throw new Error(`pulled image ID ${img.id}, expected ${fixture.config.digest}`);
      const mounts = await store.prepareRootfs('bench-check', img);
      if (!mounts.length) throw new Error('prepareRootfs on the pulled image returned no mount');
      return { ms, downloadMs };
    } finally {
      openStores.delete(store);
      await store.close();
    }
  };

  // docker's side
  let dockerd: DockerdState | undefined;
  let dockerdPath: string | undefined;
  let docker: string | undefined;
  let daemons = 0;
  const socket = join(o.data, 'docker-pull.sock'); // a short path: sockets have a 108-byte limit
  if (o.docker) {
    const found = ensureDockerd(notes);
    if (!found.dockerd || !found.docker) out.dockerNote = `docker not measured: ${found.why}`;
    else {
      dockerdPath = found.dockerd;
      docker = found.docker;
      try {
        dockerd = await startDockerd(dockerdPath, docker, join(base, `docker-${daemons++}`), socket, notes);
        const info = dockerCli(dockerd, ['info', '--format', '{{.ServerVersion}} {{.Driver}} cgroup {{.CgroupVersion}}/{{.CgroupDriver}}']);
        out.dockerVersion = info.stdout.trim();
        if (!/overlay2/.test(info.stdout)) note(`docker: storage driver is not overlay2: ${info.stdout.trim()}`);
      } catch (err) {
        if (err instanceof Aborted) throw err;
        out.dockerNote = `docker not measured: ${(err as Error).message}`;
      }
    }
  } else out.dockerNote = 'not measured (add --docker)';

  const dockerOnce = async (): Promise<{ ms: number; downloadMs?: number }> => {
    dockerd ??= await startDockerd(dockerdPath!, docker!, join(base, `docker-${daemons++}`), socket, notes);
    const d = dockerd;
    sync();
    // Not -q: without a terminal the CLI prints one line per status ("<id>: Download complete", …).
    let downloadMs: number | undefined;
    const r = await timedChild([d.docker, '-H', d.host, 'pull', ref], 600, {
      onLine: (line, ms) => {
        if (/: Download complete$/.test(line)) downloadMs = ms;
      },
    });
    if (r.status !== 0) throw new Error(`docker pull failed: ${r.stderr.split('\n')[0]}`);
    const id = dockerCli(d, ['image', 'inspect', '--format', '{{.Id}}', ref]).stdout.trim();
    if (id !== fixture.config.digest) throw new Error(`docker pulled image ID ${id}, expected ${fixture.config.digest}`);
    if (fresh) {
      await stopDockerd(d, notes);
      dockerd = undefined;
    } else {
      const rmi = dockerCli(d, ['rmi', ref]);
      if (rmi.status !== 0) throw new Error(`docker rmi: ${rmi.stderr.trim()}`);
      dockerCli(d, ['image', 'prune', '-af']);
      // The next pull must fetch and extract again: no layer may be left.
      const layerdb = join(d.dataRoot, 'image/overlay2/layerdb/sha256');
      const left = [...(existsSync(layerdb) ? readdirSync(layerdb) : []), ...readdirSync(join(d.dataRoot, 'overlay2')).filter((n) => n !== 'l')];
      if (left.length) throw new Error(`docker rmi + image prune -af left ${left.length} layer(s) in ${d.dataRoot}`);
    }
    return { ms: r.ms, downloadMs };
  };

  for (let i = 0; i < o.warmup + o.iterations; i++) {
    const timed = i >= o.warmup;
    const order: Array<'berth' | 'docker'> = i % 2 === 0 ? ['berth', 'docker'] : ['docker', 'berth'];
    const shown: string[] = [];
    for (const who of order) {
      checkAborted();
      if (who === 'berth' && berth && !out.berthNote) {
        try {
          const { ms, downloadMs } = await berthOnce();
          if (timed) out.berth.push(ms);
          if (timed && downloadMs !== undefined) out.berthDownload.push(downloadMs);
          shown.push(`berth ${fmtMs(ms)} ms (download ${fmtMs(downloadMs)})`);
        } catch (err) {
          if (err instanceof Aborted || isAborted()) throw new Aborted('aborted');
          out.berthNote = `berth pull failed: ${(err as Error).message.split('\n')[0]}`;
          shown.push('berth failed');
        }
      }
      if (who === 'docker' && docker && !out.dockerNote) {
        try {
          const { ms, downloadMs } = await dockerOnce();
          if (timed) out.docker.push(ms);
          if (timed && downloadMs !== undefined) out.dockerDownload.push(downloadMs);
          shown.push(`docker ${fmtMs(ms)} ms (download ${fmtMs(downloadMs)})`);
        } catch (err) {
          if (err instanceof Aborted || isAborted()) throw new Aborted('aborted');
          out.dockerNote = `docker failed: ${(err as Error).message.split('\n')[0]}`;
          shown.push('docker failed');
        }
      }
    }
    checkAborted();
    if (!shown.length) break;
    process.stderr.write(`  ${timed ? `iteration ${i - o.warmup + 1}/${o.iterations}` : 'warm-up'} pull: ${shown.join(', ')}   (load ${loadAverage1().toFixed(2)})\n`);
  }
  if (dockerd) await stopDockerd(dockerd, notes);
  return out;
}

// ---------------------------------------------------------------- part 2: serving

interface RoundSample {
  ms: number;
  bytes: number;
  /** CPU seconds of the server process during the round. */
  serverCpu: number;
  /** CPU seconds of all clients (reaped children). */
  clientCpu: number;
  /** Share of the machine's CPU time that was busy during the round. */
  busy: number;
}

interface ServeLine {
  name: string;
  push?: number;
  rounds: RoundSample[];
  note?: string;
}

const TICK = 100; // USER_HZ

/** utime+stime (and cutime+cstime) of a process, in seconds. */
function procCpu(pid: number | 'self'): { self: number; children: number } {
  const f = readFileSafe(`/proc/${pid}/stat`).split(') ')[1]?.split(' ') ?? [];
  // after "pid (comm) ": state=0 … utime=11 stime=12 cutime=13 cstime=14
  const n = (i: number): number => Number(f[i] ?? 0);
  return { self: (n(11) + n(12)) / TICK, children: (n(13) + n(14)) / TICK };
}

function cpuTimes(): { idle: number; total: number } {
  const cpu = readFileSafe('/proc/stat').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = cpu.reduce((a, b) => a + b, 0);
  return { idle: (cpu[3] ?? 0) + (cpu[4] ?? 0), total };
}

/** One round: N curl processes at once, each GET manifest, config and layer over one connection. */
async function round(s: Service, fixture: Fixture, clients: number): Promise<RoundSample> {
  const base = `http://127.0.0.1:${s.port}/v2/${REPOSITORY}`;
  const urls = [`${base}/manifests/${TAG}`, `${base}/blobs/${fixture.config.digest}`, `${base}/blobs/${fixture.layer.digest}`];
  const expected = [fixture.manifest.size, fixture.config.size, fixture.layer.size];
  const argv = ['curl', '-sS', '--noproxy', '*', '-L', '--http1.1', '-H', `Accept: ${MANIFEST_ACCEPT}`, '-w', '%{http_code} %{size_download}\\n'];
  for (const u of urls) argv.push('-o', '/dev/null', u);
  const cpu0 = procCpu('self').children;
  const srv0 = procCpu(s.pid).self;
  const sys0 = cpuTimes();
  const t0 = performance.now();
  const results = await Promise.all(Array.from({ length: clients }, () => timedChild(argv, 300, { keepStdout: true })));
  const ms = performance.now() - t0;
  const sys1 = cpuTimes();
  const srv1 = procCpu(s.pid).self;
  const cpu1 = procCpu('self').children;
  let bytes = 0;
  for (const r of results) {
    const lines = r.stdout.trim().split('\n');
    lines.forEach((l, i) => {
      const [code, size] = l.split(' ');
      if (code !== '200' || Number(size) !== expected[i]) throw new Error(`${s.name}: GET ${urls[i]}: HTTP ${code}, ${size} bytes (expected 200, ${expected[i]})${r.stderr ? `: ${r.stderr}` : ''}`);
      bytes += Number(size);
    });
    if (r.status !== 0 || lines.length !== urls.length) throw new Error(`${s.name}: curl exit ${r.status}: ${r.stderr || r.stdout}`);
  }
  const dTotal = sys1.total - sys0.total;
  return { ms, bytes, serverCpu: srv1 - srv0, clientCpu: cpu1 - cpu0, busy: dTotal > 0 ? 1 - (sys1.idle - sys0.idle) / dTotal : 0 };
}

async function serveSection(o: Options, lines: ServeLine[], servers: Service[], fixture: Fixture): Promise<void> {
  for (let i = 0; i < o.roundWarmup + o.rounds; i++) {
    const timed = i >= o.roundWarmup;
    const order = i % 2 === 0 ? servers : [...servers].reverse();
    const shown: string[] = [];
    for (const s of order) {
      checkAborted();
      const line = lines.find((l) => l.name === s.name)!;
      if (line.note) continue;
      try {
        const r = await round(s, fixture, o.clients);
        if (timed) line.rounds.push(r);
        shown.push(`${s.name} ${fmtMs(r.ms)} ms (${(r.bytes / 1e6 / (r.ms / 1000)).toFixed(0)} MB/s, server ${r.serverCpu.toFixed(2)} s CPU, clients ${r.clientCpu.toFixed(2)} s)`);
      } catch (err) {
        if (err instanceof Aborted || isAborted()) throw new Aborted('aborted');
        line.note = `failed: ${(err as Error).message.split('\n')[0]}`;
        shown.push(`${s.name} failed`);
      }
    }
    checkAborted();
    if (!shown.length) break;
    process.stderr.write(`  ${timed ? `round ${i - o.roundWarmup + 1}/${o.rounds}` : 'warm-up round'}: ${shown.join('; ')}   (load ${loadAverage1().toFixed(2)})\n`);
  }
}

// ---------------------------------------------------------------- report

function row(cells: string[], widths: number[]): string {
  return cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
}

const PW = [36, 9, 8, 8, 8, 7, 3, 12];
const PULL_HEAD = row(['', 'median ms', 'p90', 'min', 'max', 'MB/s', 'n', 'berth/docker'], PW);

function pullLine(label: string, s: Stats | undefined, bytes: number, ratio = '', error?: string): string {
  if (!s) return `${label.padEnd(PW[0]!)}  ${error ?? 'not measured'}`;
  return row([label, fmtMs(s.median), fmtMs(s.p90), fmtMs(s.min), fmtMs(s.max), (bytes / 1e6 / (s.median / 1000)).toFixed(0), String(s.n), ratio], PW);
}

const SW = [24, 9, 8, 8, 8, 10, 11, 5, 3, 10];
const SERVE_HEAD = row(['', 'median ms', 'p90', 'min', 'MB/s', 'server CPU', 'clients CPU', 'busy', 'n', 'berth/reg'], SW);

function serveLine(l: ServeLine, ratio: string): string {
  const s = stats(l.rounds.map((r) => r.ms));
  if (!s) return `${l.name.padEnd(SW[0]!)}  ${l.note ?? 'not measured'}`;
  const med = (xs: number[]): number => stats(xs)!.median;
  const bytes = l.rounds[0]!.bytes;
  return row([
    l.name, fmtMs(s.median), fmtMs(s.p90), fmtMs(s.min), (bytes / 1e6 / (s.median / 1000)).toFixed(0),
    `${med(l.rounds.map((r) => r.serverCpu)).toFixed(2)} s`, `${med(l.rounds.map((r) => r.clientCpu)).toFixed(2)} s`,
    `${(med(l.rounds.map((r) => r.busy)) * 100).toFixed(0)}%`, String(s.n), ratio,
  ], SW);
}

/**
 * The median of a[i]/b[i] with its range: each pair ran back to back (same iteration or round),
 * so it shares the machine's conditions, which moves under other people's work.
 */
function pairedRatio(a: number[], b: number[]): string | undefined {
  const n = Math.min(a.length, b.length);
  if (!n) return undefined;
  const s = stats(Array.from({ length: n }, (_, i) => a[i]! / b[i]!))!;
  return `${s.median.toFixed(2)}x (${s.min.toFixed(2)}–${s.max.toFixed(2)})`;
}

// ---------------------------------------------------------------- main

async function main(): Promise<number> {
  const o = parseOptions(process.argv.slice(2));
  if (process.getuid?.() !== 0) {
    process.stderr.write('bench: needs root (overlay snapshots, device nodes, dockerd, tmpfs)\n');
    return 2;
  }
  installSignalHandlers(cleanup, printNotes);
  const tarPath = join(o.data, 'bookworm-minbase.tar');
  const gzPath = join(o.data, 'bookworm-minbase.tar.gz');
  if (!existsSync(tarPath) || !existsSync(gzPath)) {
    process.stderr.write(`bench: ${tarPath}(.gz) missing: run  sudo bash scripts/bench/make-rootfs.sh  first\n`);
    return 2;
  }
  for (const tool of ['skopeo', 'curl']) {
    if (run(['sh', '-c', `command -v ${tool}`]).status !== 0) {
      process.stderr.write(`bench: ${tool} is missing (apt-get install ${tool})\n`);
      return 2;
    }
  }
  const loadAtStart = loadAverage1();
  if (loadAtStart > LOAD_WARN) note(`the 1-minute load average was ${loadAtStart.toFixed(2)} at the start (> ${LOAD_WARN}): other work shares the CPUs, figures are noisy`);

  const fixture = await ociFixture(o, tarPath, gzPath);
  work = mkdtempSync(join(o.data, 'run-'));
  const base = o.tmpfs ? mountPrivateTarget(work, 'tmpfs', (dir) => (privateMount = dir), '4g') : work;
  const tmp = join(base, 'tmp');
  mkdirSync(tmp);

  const header = [
    `berth registry benchmark — ${new Date().toISOString()}`,
    `machine: ${cpus().length} CPU (${cpus()[0]?.model.trim() ?? '?'}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Linux ${release()}, node ${process.version}`,
    `berth: ${gitState(REPO)}`,
    `image: ${fixture.dir} (OCI layout, cached): 1 gzip layer ${fixture.layer.size} bytes (${fixture.tarBytes} bytes of tar), config ${fixture.config.digest.slice(0, 19)}…, manifest ${fixture.manifest.digest.slice(0, 19)}…`,
    `work: ${base} (${o.tmpfs ? 'private tmpfs, size=4g' : fsType(base)}); layer file on ${fsType(tarPath)}`,
    `uptime at start: ${uptime()}`,
  ];
  process.stderr.write(header.join('\n') + '\n\n');

  // The source registry: docker-registry, with the image pushed by skopeo.
  const pushes: Array<[string, number]> = [];
  const registry = await startDockerRegistry(join(base, 'docker-registry'));
  const regVersion = run(['/usr/bin/docker-registry', '--version']).stdout.trim();
  pushes.push(['docker-registry', await skopeoPush(fixture, registry.port, tmp)]);
  await checkServed(registry, fixture);
  process.stderr.write(`docker-registry (${regVersion}) on 127.0.0.1:${registry.port}: pushed in ${fmtMs(pushes[0]![1])} ms\n`);

  let pulls: PullLines | undefined;
  if (o.only !== 'serve') {
    process.stderr.write(`\npull: berth pull${o.docker ? ' vs docker pull' : ''} of 127.0.0.1:${registry.port}/${REPOSITORY}:${TAG}\n`);
    pulls = await pullSection(o, base, fixture, registry);
  }

  const serve: ServeLine[] = [];
  if (o.only !== 'pull') {
    process.stderr.write(`\nserve: ${o.clients} concurrent clients (curl: GET manifest, config, layer on one connection, bytes discarded)\n`);
    const servers: Service[] = [];
    let berthLine: ServeLine = { name: 'berth registry serve', rounds: [] };
    try {
      const b = await startBerthRegistry(join(base, 'berth-registry'));
      berthLine.push = await skopeoPush(fixture, b.port, tmp);
      await checkServed(b, fixture);
      process.stderr.write(`berth registry serve on 127.0.0.1:${b.port}: pushed in ${fmtMs(berthLine.push)} ms\n`);
      servers.push(b);
    } catch (err) {
      if (err instanceof Aborted || isAborted()) throw new Aborted('aborted');
      berthLine = { ...berthLine, note: `not measured: ${(err as Error).message.split('\n')[0]}` };
    }
    const regLine: ServeLine = { name: 'docker-registry', rounds: [], push: pushes[0]![1] };
    servers.push(registry);
    serve.push(berthLine, regLine);
    await serveSection(o, serve, servers, fixture);
  }

  // ---- the table
  const out: string[] = [...header, ''];
  out.push(`source registry: docker-registry (${regVersion}), filesystem storage under the work dir; pushed with skopeo copy oci:… docker://…`);
  if (pulls) {
    const b = stats(pulls.berth);
    const d = stats(pulls.docker);
    const ratio = b && d ? b.median / d.median : undefined;
    out.push('');
    out.push(`1. Pull one image, cold, end to end (manifest → unpacked and recorded)   [target: berth ≤ 0.5x docker's time]`);
    if (pulls.dockerVersion) out.push(`docker: private dockerd ${pulls.dockerVersion}`);
    out.push(`method: ${o.warmup} warm-up + ${o.iterations} iterations, berth and docker alternate; ${pulls.method}; sync before each; caches not dropped; MB/s = 10^6 bytes of gzip layer`);
    out.push(PULL_HEAD);
    out.push(pullLine('berth pull (in-process, overlay)', b, fixture.layer.size, ratio === undefined ? '' : `${ratio.toFixed(2)}x`, pulls.berthNote));
    out.push(pullLine('docker pull (CLI spawn → exit)', d, fixture.layer.size, d ? '1.00x' : '', pulls.dockerNote));
    if (ratio !== undefined) {
      const paired = pairedRatio(pulls.berth, pulls.docker);
      out.push(`berth/docker pull time: ${ratio.toFixed(2)}x (p90: ${(b!.p90 / d!.p90).toFixed(2)}x${paired ? `; median of the per-iteration ratios: ${paired}` : ''}) — ${ratio <= 0.5 ? 'target met' : 'target not met'}`);
    }
    const phases = (who: string, total: number[], download: number[]): string | undefined => {
      const t = stats(total);
      const dl = stats(download);
      return t && dl ? `${who} ${fmtMs(dl.median)} ms to "Download complete", then ${fmtMs(t.median - dl.median)} ms to unpack and record` : undefined;
    };
    const ph = [phases('berth', pulls.berth, pulls.berthDownload), phases('docker', pulls.docker, pulls.dockerDownload)].filter(Boolean);
    if (ph.length) out.push(`phases (medians): ${ph.join('; ')}`);
  }
  if (serve.length) {
    const [bl, rl] = serve as [ServeLine, ServeLine];
    const bs = stats(bl.rounds.map((r) => r.ms));
    const rs = stats(rl.rounds.map((r) => r.ms));
    const ratio = bs && rs ? rs.median / bs.median : undefined; // same bytes: throughput ratio = inverse time ratio
    out.push('');
    out.push(`2. Serve: ${o.clients} concurrent full pulls per round (${fixture.manifest.size + fixture.config.size + fixture.layer.size} bytes each)   [target: berth ≥ 1x docker-registry's throughput]`);
    out.push(`method: ${o.roundWarmup} warm-up + ${o.rounds} rounds per server, alternating; a round = ${o.clients} curl processes at once, each GET manifest (Accept: the four manifest types), config, layer on one keep-alive connection, -o /dev/null; time = first spawn to last exit; CPU = the server's and the clients' CPU seconds in the round; busy = share of all ${cpus().length} CPUs busy`);
    out.push(SERVE_HEAD);
    out.push(serveLine(bl, ratio === undefined ? '' : `${ratio.toFixed(2)}x`));
    out.push(serveLine(rl, rs ? '1.00x' : ''));
    if (ratio !== undefined) {
      const paired = pairedRatio(rl.rounds.map((r) => r.ms), bl.rounds.map((r) => r.ms));
      out.push(`berth/docker-registry throughput: ${ratio.toFixed(2)}x (median of the per-round ratios: ${paired ?? '-'}) — ${ratio >= 1 ? 'target met' : 'target not met'}`);
    }
    out.push(`push (skopeo copy, one sample each): ${serve.filter((l) => l.push !== undefined).map((l) => `${l.name} ${fmtMs(l.push)} ms`).join(', ')}`);
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
