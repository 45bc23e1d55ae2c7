// Fixtures for the end-to-end tests (issue 5, "Done means" 1 and 2): Debian's
// docker-registry on a free loopback port, a busybox image made from the host's static
// busybox and pushed there with skopeo, a runner for a Docker client binary aimed at a
// berthd (one-shot, streaming, and through a pseudo-terminal with `script`) that
// remembers the containers and images a test made so they can be removed even when the
// test fails, and polling for a condition with a deadline.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { MediaTypes, hostPlatform } from '../../src/oci/image-spec.js';
import { digestOf } from '../../src/util/digest.js';
import { Layout, freePort, tarDir, waitForHttp } from './registry-fixtures.js';
import { BUSYBOX, isRoot, makeRootfs } from './runtime.js';

export const DOCKER_20 = '/usr/bin/docker';
export const DOCKER_28 = '/usr/local/bin/docker';
export const REGISTRY_BIN = '/usr/bin/docker-registry';
export const SCRIPT_BIN = '/usr/bin/script';

const hasCommand = (cmd: string, arg: string): boolean => spawnSync(cmd, [arg]).status === 0;

/** Why the end-to-end suites cannot run here (false when they can). */
export function e2eSkipReason(): string | false {
  if (!isRoot) return 'needs root';
  if (!existsSync(BUSYBOX)) return 'needs /bin/busybox (busybox-static)';
  if (!existsSync(REGISTRY_BIN)) return 'needs docker-registry';
  if (!hasCommand('skopeo', '--version')) return 'needs skopeo';
  return false;
}

// ---- the registry and the image in it --------------------------------------------------

export interface LocalRegistry {
  /** 127.0.0.1:PORT */
  host: string;
  stop(): Promise<void>;
}

/** docker-registry (distribution 2.8) serving from dir on a free loopback port. */
export async function startLocalRegistry(dir: string): Promise<LocalRegistry> {
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const config = join(dir, 'registry.yml');
  const lines = ['version: 0.1', 'log:', '  level: error', 'storage:', '  filesystem:', `    rootdirectory: ${join(dir, 'data')}`, '  delete:', '    enabled: true', 'http:', `  addr: ${host}`, ''];
  writeFileSync(config, lines.join('\n'));
  // distribution logs every 404 at level error; its output is noise here.
  const child = spawn(REGISTRY_BIN, ['serve', config], { stdio: 'ignore' });
  const stop = (): Promise<void> => stopChild(child);
  try {
    await waitForHttp(port);
  } catch (err) {
    await stop();
    throw err;
  }
  return { host, stop };
}

function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

export interface BusyboxImage {
  /** The rootfs (busybox, its applets, /etc/passwd with root and nobody) as a plain tar. */
  rootfsTar: string;
  /** Digest of the manifest in the registry. */
  manifestDigest: string;
  /** The image ID a Docker daemon shows after pulling it. */
  imageId: string;
}

export interface PushBusyboxOptions {
  /**
   * Give the config a history entry for its layer, as images built by docker have (the
   * default). Without it the config is still valid OCI: history is optional.
   */
  history?: boolean;
}

/** A one-layer busybox image (Cmd /bin/sh) pushed with skopeo as each of `repoTags` (e.g. e2e/busybox:v20). */
export function pushBusybox(work: string, registryHost: string, repoTags: string[], opts: PushBusyboxOptions = {}): BusyboxImage {
  const variant = opts.history === false ? 'nohistory' : 'history';
  const rootfsTar = join(work, 'busybox-rootfs.tar');
  if (!existsSync(rootfsTar)) writeFileSync(rootfsTar, tarDir(work, makeRootfs(join(work, 'busybox-src'))));
  const layer = readFileSync(rootfsTar);
  const layout = new Layout(join(work, `busybox-oci-${variant}`));
  const layerDescriptor = layout.put(gzipSync(layer), MediaTypes.ociLayerGzip);
  const platform = hostPlatform();
  const created = '2024-01-01T00:00:00Z';
  const config = layout.put(Buffer.from(JSON.stringify({
    created,
    architecture: platform.architecture,
    os: platform.os,
    config: { Env: ['PATH=/bin'], Cmd: ['/bin/sh'] },
    rootfs: { type: 'layers', diff_ids: [digestOf(layer)] },
    ...(opts.history === false ? {} : { history: [{ created, created_by: '/bin/busybox --install -s /bin' }, { created, created_by: 'CMD ["/bin/sh"]', empty_layer: true }] }),
  })), MediaTypes.ociConfig);
  const manifest = layout.put(Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaTypes.ociManifest, config, layers: [layerDescriptor] })), MediaTypes.ociManifest);
  layout.writeIndex([['busybox', manifest]]);
  for (const repoTag of repoTags) {
    const r = spawnSync('skopeo', ['--insecure-policy', '--tmpdir', work, 'copy', '--dest-tls-verify=false', `oci:${layout.dir}:busybox`, `docker://${registryHost}/${repoTag}`], { encoding: 'utf8', timeout: 120_000 });
    assert.equal(r.status, 0, `skopeo copy to ${registryHost}/${repoTag}: ${r.stderr}`);
  }
  return { rootfsTar, manifestDigest: manifest.digest, imageId: config.digest };
}

// ---- running a Docker client -------------------------------------------------------------

export interface CliResult {
  code: number;
  out: string;
  err: string;
}

export interface RunOptions {
  input?: string | Buffer;
  timeoutMs?: number;
}

/** Quote one word for sh. */
export function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`;
}

/**
 * A Docker client binary (the docker CLI, or berth's) aimed at one daemon. Containers and
 * images a test names through `container()`/`image()` are removed by `cleanup()`.
 */
export class DockerCli {
  private readonly containers = new Set<string>();
  private readonly images = new Set<string>();

  /**
   * @param env the environment aimed at the daemon (DOCKER_HOST, DOCKER_CONFIG, …)
   * @param diagnostics appended to failure messages (e.g. the tail of the daemon's log)
   */
  constructor(readonly bin: string, private readonly env: () => NodeJS.ProcessEnv, readonly diagnostics: () => string = () => '') {}

  run(args: string[], opts: RunOptions = {}): CliResult {
    const r = spawnSync(this.bin, args, {
      env: this.env(),
      encoding: 'utf8',
      input: opts.input ?? '',
      timeout: opts.timeoutMs ?? 30_000,
      // docker run forwards SIGTERM to the container instead of exiting.
      killSignal: 'SIGKILL',
      maxBuffer: 256 * 1024 * 1024,
    });
    const timedOut = r.error && (r.error as NodeJS.ErrnoException).code === 'ETIMEDOUT' ? ' (timed out, killed)' : '';
    return { code: r.status ?? -1, out: r.stdout ?? '', err: (r.stderr ?? '') + timedOut };
  }

  /** Run, assert exit code 0, return stdout. */
  ok(args: string[], opts: RunOptions = {}): string {
    const r = this.run(args, opts);
    assert.equal(r.code, 0, `${this.describe(args)} exited ${r.code}\nstdout: ${r.out}\nstderr: ${r.err}\n${this.diagnostics()}`);
    return r.out;
  }

  /** stdout split into lines, without the trailing empty one. */
  lines(args: string[], opts: RunOptions = {}): string[] {
    return this.ok(args, opts).split('\n').filter((l, i, all) => l !== '' || i < all.length - 1);
  }

  /** `docker inspect -f format target`, trimmed. */
  inspect(target: string, format: string): string {
    return this.ok(['inspect', '-f', format, target]).trim();
  }

  /** A long-running command (logs -f, attach, events) whose output the test watches. */
  spawn(args: string[]): Streaming {
    return new Streaming(spawn(this.bin, args, { env: this.env(), stdio: ['pipe', 'pipe', 'pipe'] }), this.describe(args), this.diagnostics);
  }

  /** A bash command line (with pipefail) in this client's environment, for pipes and redirections; build its words with describe(). */
  shell(line: string): CliResult {
    const r = spawnSync('bash', ['-o', 'pipefail', '-c', line], { env: this.env(), encoding: 'utf8', timeout: 60_000, killSignal: 'SIGKILL' });
    return { code: r.status ?? -1, out: r.stdout ?? '', err: r.stderr ?? '' };
  }

  /** The command inside a pseudo-terminal (util-linux `script`), for `run -it` and `attach`. */
  spawnInPty(args: string[]): Streaming {
    const command = [this.bin, ...args].map(shellQuote).join(' ');
    const child = spawn(SCRIPT_BIN, ['-qefc', command, '/dev/null'], { env: { ...this.env(), TERM: 'xterm' }, stdio: ['pipe', 'pipe', 'pipe'] });
    return new Streaming(child, `(pty) ${this.describe(args)}`, this.diagnostics);
  }

  /** Remember a container name for cleanup; returns it. */
  container(name: string): string {
    this.containers.add(name);
    return name;
  }

  /** Remember an image reference for cleanup; returns it. */
  image(ref: string): string {
    this.images.add(ref);
    return ref;
  }

  /** Remove every remembered container (forced) and image; errors for ones already gone are ignored. */
  cleanup(): void {
    if (this.containers.size > 0) this.run(['rm', '-f', ...this.containers]);
    this.containers.clear();
    for (const ref of this.images) this.run(['rmi', '-f', ref]);
    this.images.clear();
  }

  describe(args: string[]): string {
    return `${this.bin} ${args.map(shellQuote).join(' ')}`;
  }
}

/** A running client process: its output so far, waiting for text, typing, its exit. */
export class Streaming {
  stdout = '';
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(readonly child: ChildProcess, readonly what: string, private readonly diagnostics: () => string = () => '') {
    child.stdout!.setEncoding('utf8');
    child.stderr!.setEncoding('utf8');
    child.stdout!.on('data', (d: string) => (this.stdout += d));
    child.stderr!.on('data', (d: string) => (this.stderr += d));
    child.stdin!.on('error', () => undefined);
    this.exited = new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  }

  /** Wait until stdout (with \r\n turned into \n) matches; fails with what was seen. */
  async waitFor(pattern: RegExp, timeoutMs = 20_000): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = this.text().match(pattern);
      if (m) return m;
      if (this.child.exitCode !== null || this.child.signalCode !== null || Date.now() > deadline) {
        assert.fail(`${this.what}: no ${pattern} in its output (${this.child.exitCode !== null ? `exited ${this.child.exitCode}` : 'still running'})\nstdout: ${JSON.stringify(this.stdout)}\nstderr: ${this.stderr}\n${this.diagnostics()}`);
      }
      await sleep(50);
    }
  }

  /** stdout with terminal line ends made plain. */
  text(): string {
    return this.stdout.replaceAll('\r\n', '\n');
  }

  write(data: string): void {
    this.child.stdin!.write(data);
  }

  /** Wait for the exit; kill it (and fail) if it does not come in time. */
  async waitExit(timeoutMs = 30_000): Promise<number | null> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
    const result = await Promise.race([this.exited, timeout]);
    clearTimeout(timer);
    if (result === 'timeout') {
      this.kill();
      assert.fail(`${this.what} did not exit within ${timeoutMs} ms\nstdout: ${JSON.stringify(this.stdout)}\nstderr: ${this.stderr}\n${this.diagnostics()}`);
    }
    return result.code;
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
  }
}

// ---- time --------------------------------------------------------------------------------

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Call check until it returns something other than undefined; fail with `what` after the deadline. */
export async function poll<T>(what: string, check: () => T | undefined, timeoutMs = 20_000, lastSeen: () => string = () => ''): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}${lastSeen() ? `; last seen: ${lastSeen()}` : ''}`);
    await sleep(100);
  }
}

/** Whole seconds since the epoch, as `docker events --since/--until` take them. */
export function unixSeconds(offset = 0): string {
  return String(Math.floor(Date.now() / 1000) + offset);
}

/** The last lines of berthd's log, for failure messages. */
export function logTail(log: string, lines = 40): string {
  return log.split('\n').slice(-lines).join('\n');
}
