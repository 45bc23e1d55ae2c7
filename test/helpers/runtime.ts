// Fixtures for runtime tests: a busybox rootfs, bundles made from berth's default
// spec, and a berth-runtime runner with its own --root, all cleaned up by the test.
import { spawn, spawnSync, type StdioOptions } from 'node:child_process';
import { after, before } from 'node:test';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Spec } from '../../src/oci/runtime-spec.js';
import { defaultSpec } from '../../src/runtime-cli/default-spec.js';

export const REPO = fileURLToPath(new URL('../../../', import.meta.url));
export const RUNTIME = join(REPO, 'bin/berth-runtime.js');
export const PAYLOADS = join(REPO, 'build/native/payloads');
export const BUSYBOX = '/bin/busybox';

export const isRoot = process.getuid?.() === 0;
export const skipUnlessRoot = isRoot && existsSync(BUSYBOX) ? false : 'needs root and /bin/busybox (busybox-static)';

/** A rootfs with a static busybox and its applets, plus the test payloads in /bin. */
export function makeRootfs(dir: string): string {
  const rootfs = join(dir, 'rootfs');
  for (const d of ['bin', 'proc', 'sys', 'dev', 'etc', 'tmp']) mkdirSync(join(rootfs, d), { recursive: true });
  copyFileSync(BUSYBOX, join(rootfs, 'bin/busybox'));
  const applets = spawnSync(BUSYBOX, ['--list'], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
  for (const a of applets) if (a !== 'busybox') symlinkSync('busybox', join(rootfs, 'bin', a));
  for (const p of existsSync(PAYLOADS) ? readdirSync(PAYLOADS) : []) copyFileSync(join(PAYLOADS, p), join(rootfs, 'bin', p));
  writeFileSync(join(rootfs, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n');
  writeFileSync(join(rootfs, 'etc/group'), 'root:x:0:\ntty:x:5:\nnobody:x:65534:\n');
  return rootfs;
}

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** A temporary world for one test file: rootfs, runtime root, bundles; dispose() removes it all. */
export class RuntimeFixture {
  // 0755: a user-namespaced container's root (an unprivileged host uid) must reach the rootfs.
  readonly dir = chmodded(mkdtempSync(join(tmpdir(), 'berth-rt-')), 0o755);
  readonly root = join(this.dir, 'state');
  readonly rootfs = makeRootfs(this.dir);
  private n = 0;

  /** A bundle whose config is berth's default spec (no terminal), changed by edit. */
  bundle(edit: (spec: Spec) => void = () => undefined): string {
    const bundle = join(this.dir, `bundle-${++this.n}`);
    mkdirSync(bundle);
    const spec = defaultSpec();
    spec.root = { path: this.rootfs, readonly: false };
    spec.process!.terminal = false;
    edit(spec);
    writeFileSync(join(bundle, 'config.json'), JSON.stringify(spec, null, 2));
    return bundle;
  }

  id(prefix = 'c'): string {
    return `${prefix}-${process.pid}-${++this.n}`;
  }

  run(args: string[], opts: { stdio?: StdioOptions; input?: string | null; timeoutMs?: number } = {}): Promise<Result> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [RUNTIME, '--root', this.root, ...args], { stdio: opts.stdio ?? ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
      // input null: leave stdin open (the caller's process reads it until we exit).
      if (opts.input !== null) child.stdin?.end(opts.input ?? '');
      const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30000);
      child.on('error', reject);
      // A created (or detached) container keeps our stdio pipes open, as runc's do:
      // the answer is complete when berth-runtime exits and its own output is read.
      child.on('exit', (code, signal) => {
        clearTimeout(timer);
        const done = (): void => resolve({ code: code ?? 128 + (signal === 'SIGKILL' ? 9 : 15), stdout, stderr });
        let open = [child.stdout, child.stderr].filter((s) => s && !s.readableEnded).length;
        if (open === 0) return done();
        const grace = setTimeout(done, 200);
        for (const s of [child.stdout, child.stderr]) {
          s?.on('end', () => {
            if (--open === 0) {
              clearTimeout(grace);
              done();
            }
          });
        }
      });
    });
  }

  /** `run` a one-shot container from an edited default spec with these args. */
  async runArgs(args: string[], edit: (spec: Spec) => void = () => undefined): Promise<Result> {
    const bundle = this.bundle((s) => {
      s.process!.args = args;
      edit(s);
    });
    return this.run(['run', '--bundle', bundle, this.id()]);
  }

  /** Remove every container left under this root, then the whole directory. */
  async dispose(): Promise<void> {
    const list = await this.run(['list', '-q']);
    for (const id of list.stdout.split('\n').filter(Boolean)) await this.run(['delete', '--force', id]);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function chmodded(path: string, mode: number): string {
  chmodSync(path, mode);
  return path;
}

/**
 * A RuntimeFixture for the enclosing describe(): made before its tests, disposed
 * after them (even when they fail). Read it through the returned getter.
 */
export function useRuntimeFixture(): () => RuntimeFixture {
  let fx: RuntimeFixture | undefined;
  before(() => {
    fx = new RuntimeFixture();
  });
  after(() => fx?.dispose());
  return () => {
    if (!fx) throw new Error('the runtime fixture is used before its before() hook ran');
    return fx;
  };
}
