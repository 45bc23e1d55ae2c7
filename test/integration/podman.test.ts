// podman drives berth-runtime: `podman --runtime <repo>/bin/berth-runtime.js ...`, in a private
// podman environment (scripts/podman/env.sh), asserting what a podman user sees. Every check
// runs against runc first, as a baseline that tells a berth failure from a host or podman
// problem: a baseline failure is reported as a TODO (it does not fail the run), a berth-runtime
// failure fails the test and says how the baseline fared.
import { test, before, after, type TestContext } from 'node:test';
import { strict as assert } from 'node:assert';
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = findRoot();
const ENV_SH = path.join(root, 'scripts', 'podman', 'env.sh');
const BERTH = path.join(root, 'bin', 'berth-runtime.js');
const RUNC = ['/usr/sbin/runc', '/usr/bin/runc'].find((p) => fs.existsSync(p));
const IMAGE = 'localhost/berth-busybox:latest';
/** Reads 100 MiB into the shell's memory: far past a 32 MiB limit. */
const ALLOC_100M = 'x=$(head -c 104857600 /dev/zero | tr "\\0" a); echo survived ${#x}';

function findRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(path.join(dir, 'bin', 'berth-runtime.js'))) return dir;
    const up = path.dirname(dir);
    if (up === dir) throw new Error('cannot find the berth repository root');
    dir = up;
  }
}

function have(cmd: string, args: string[] = ['--version']): boolean {
  try {
    execFileSync(cmd, args, { stdio: 'ignore', timeout: 20000 });
    return true;
  } catch {
    return false;
  }
}

function skipReason(): string | undefined {
  if (process.platform !== 'linux') return 'podman tests need Linux';
  if (process.getuid?.() !== 0) return 'podman tests need root';
  if (!have('podman')) return 'podman is not installed (apt-get install podman)';
  if (!have('conmon')) return 'conmon is not installed';
  if (!fs.existsSync('/bin/busybox')) return '/bin/busybox is missing (apt-get install busybox-static)';
  if (!fs.existsSync(path.join(root, 'dist', 'src', 'runtime-cli', 'main.js'))) return 'berth is not built (npx tsc)';
  if (!fs.existsSync(path.join(root, 'build', 'native', 'berth-shim'))) return 'the shim is not built (make -C native)';
  return undefined;
}
const SKIP = skipReason();

interface Runtime {
  name: string;
  path: string;
  baseline: boolean;
}
const RUNTIMES: Runtime[] = [
  ...(RUNC ? [{ name: 'runc', path: RUNC, baseline: true }] : []),
  { name: 'berth-runtime', path: BERTH, baseline: false },
];

let dir = '';
let podmanEnv: NodeJS.ProcessEnv = {};
let podmanFlags: string[] = [];

before(() => {
  if (SKIP) return;
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-podman-'));
  execFileSync('bash', [ENV_SH, 'setup', dir], { stdio: ['ignore', 'inherit', 'inherit'], timeout: 120000 });
  podmanEnv = { ...process.env };
  for (const line of execFileSync('bash', [ENV_SH, 'env', dir], { encoding: 'utf8' }).split('\n')) {
    const m = /^export ([A-Z_]+)='(.*)'$/.exec(line);
    if (m) podmanEnv[m[1]!] = m[2]!;
  }
  podmanFlags = execFileSync('bash', [ENV_SH, 'podman-flags', dir], { encoding: 'utf8' }).split('\n').filter(Boolean);
});

after(() => {
  if (SKIP || !dir) return;
  // Removes every container, unmounts and deletes the directory; fails if mounts are left.
  execFileSync('bash', [ENV_SH, 'teardown', dir], { stdio: ['ignore', 'inherit', 'inherit'], timeout: 120000 });
  const left = fs.readFileSync('/proc/mounts', 'utf8').split('\n').filter((l) => l.split(' ')[1]?.startsWith(dir + '/'));
  assert.deepEqual(left, [], 'mounts left behind');
  assert.equal(fs.existsSync(dir), false, `${dir} was not removed`);
});

interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

function run(cmd: string, args: string[], opts: { cwd?: string; timeoutMs?: number; input?: string } = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: podmanEnv, stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    if (opts.input !== undefined) child.stdin!.end(opts.input);
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, opts.timeoutMs ?? 60000);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, timedOut });
    });
  });
}

function podman(rt: Runtime, args: string[], opts: { cwd?: string; timeoutMs?: number; input?: string } = {}): Promise<Result> {
  return run('podman', [...podmanFlags, '--runtime', rt.path, ...args], opts);
}

function show(what: string, r: Result): string {
  return `${what}: exit ${r.code}${r.signal ? ` (signal ${r.signal})` : ''}${r.timedOut ? ' (timed out)' : ''}\n--- stdout\n${r.stdout}--- stderr\n${r.stderr}`;
}

function expectExit(r: Result, code: number, what: string): void {
  assert.equal(r.code, code, show(what, r));
}

function uniqueName(rt: Runtime, what: string): string {
  return `${rt.name}-${what}-${randomBytes(3).toString('hex')}`;
}

async function inspect(rt: Runtime, name: string, format: string): Promise<string> {
  const r = await podman(rt, ['inspect', '--format', format, name]);
  expectExit(r, 0, `podman inspect ${name}`);
  return r.stdout.trim();
}

async function removeContainer(rt: Runtime, name: string): Promise<void> {
  await podman(rt, ['rm', '-f', '-t', '0', name]);
}

function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Results of the baseline, by check: to say in a berth-runtime failure how runc fared. */
const baselineResult = new Map<string, string>();

/** One check, run against each runtime: the baseline first. */
function check(
  name: string,
  body: (t: TestContext, rt: Runtime) => Promise<void>,
  opts: { skip?: string; berthTodo?: string } = {},
): void {
  for (const rt of RUNTIMES) {
    const title = rt.baseline ? `podman + ${rt.name} (baseline): ${name}` : `podman + ${rt.name}: ${name}`;
    // berthTodo: a known berth-runtime bug, reported (TODO) until it is fixed, without failing the run.
    const todo = !rt.baseline && opts.berthTodo ? opts.berthTodo : false;
    test(title, { skip: SKIP ?? opts.skip ?? false, todo, timeout: 90000 }, async (t) => {
      if (rt.baseline) {
        try {
          await body(t, rt);
          baselineResult.set(name, 'passed');
        } catch (err) {
          const msg = err instanceof Error ? err.message : String(err);
          baselineResult.set(name, `failed: ${msg.split('\n')[0]}`);
          t.diagnostic(msg);
          t.todo(`the runc baseline fails here too: ${msg.split('\n')[0]}`);
        }
        return;
      }
      try {
        await body(t, rt);
      } catch (err) {
        const base = baselineResult.get(name) ?? (RUNC ? 'not run' : 'runc is not installed');
        if (err instanceof Error) {
          const note = `(runc baseline for this check: ${base})`;
          err.stack = err.stack?.replace(err.message, `${err.message}\n${note}`);
          err.message += `\n${note}`;
        }
        throw err;
      }
    });
  }
}

check('run prints the output and propagates the exit code', async (_t, rt) => {
  const hello = await podman(rt, ['run', '--rm', IMAGE, 'echo', 'hello']);
  expectExit(hello, 0, 'podman run --rm echo hello');
  assert.equal(hello.stdout, 'hello\n', show('podman run --rm echo hello', hello));

  const three = await podman(rt, ['run', '--rm', IMAGE, 'sh', '-c', 'echo out; echo err >&2; exit 3']);
  expectExit(three, 3, "podman run --rm sh -c 'exit 3'");
  assert.equal(three.stdout, 'out\n', show('stdout of sh -c', three));
  assert.match(three.stderr, /^err$/m, show('stderr of sh -c', three));

  const missing = await podman(rt, ['run', '--rm', IMAGE, '/no/such/program']);
  expectExit(missing, 127, 'podman run --rm /no/such/program');

  const piped = await podman(rt, ['run', '--rm', '-i', IMAGE, 'tr', 'a-z', 'A-Z'], { input: 'piped through\n' });
  expectExit(piped, 0, 'podman run -i tr');
  assert.equal(piped.stdout, 'PIPED THROUGH\n', show('podman run -i tr', piped));
});

check(
  'run -it gives the container a terminal',
  async (_t, rt) => {
    const name = uniqueName(rt, 'tty');
    const cmd = ['podman', ...podmanFlags, '--runtime', rt.path, 'run', '-it', '--rm', '--name', name, IMAGE, 'sh'].map(shellQuote).join(' ');
    // script(1) gives podman a real pty as its terminal; we type into it once sh prompts.
    const child = spawn('script', ['-qfec', cmd, '/dev/null'], { env: podmanEnv, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let typed = false;
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    const typeWhenPrompted = (): void => {
      if (!typed && /# $/.test(out.replace(/\x1b\[[0-9;]*[a-zA-Z]/g, ''))) {
        typed = true;
        // $((6*7)) so that the echo of what we type cannot be taken for the answer
        child.stdin!.write('tty; test -t 0 && echo stdin-$((6*7)); test -t 1 && echo stdout-$((6*7)); exit 4\n');
      }
    };
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      typeWhenPrompted();
    });
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30000);
    const code = await exited;
    clearTimeout(timer);
    child.stdin!.destroy();
    await removeContainer(rt, name);
    const clean = out.replace(/\r/g, '');
    assert.ok(typed, `sh never prompted:\n${clean}`);
    assert.match(clean, /^(\/dev\/pts\/\d+|\/dev\/console)$/m, `tty did not name a terminal:\n${clean}`);
    assert.match(clean, /^stdin-42$/m, `test -t 0 failed:\n${clean}`);
    assert.match(clean, /^stdout-42$/m, `test -t 1 failed:\n${clean}`);
    assert.equal(code, 4, `exit status of podman run -it (through script):\n${clean}`);
  },
  { skip: have('script', ['--version']) ? undefined : 'script(1) from bsdutils is not installed' },
);

check('run -d, exec, stop, ps -a', async (_t, rt) => {
  const name = uniqueName(rt, 'detach');
  try {
    const started = await podman(rt, ['run', '-d', '--name', name, IMAGE, 'sh', '-c', 'trap "exit 7" TERM; while :; do sleep 0.1; done']);
    expectExit(started, 0, 'podman run -d');
    assert.match(started.stdout.trim(), /^[0-9a-f]{64}$/, show('podman run -d prints the id', started));

    const running = await podman(rt, ['ps', '--filter', `name=^${name}$`, '--format', '{{.Names}} {{.Status}}']);
    expectExit(running, 0, 'podman ps');
    assert.match(running.stdout, new RegExp(`^${name} Up `, 'm'), show('podman ps shows it Up', running));

    const cmdline = await podman(rt, ['exec', name, 'cat', '/proc/1/cmdline']);
    expectExit(cmdline, 0, 'podman exec cat /proc/1/cmdline');
    assert.equal(cmdline.stdout.split('\0')[0], 'sh', show('pid 1 of the container', cmdline));
    assert.ok(cmdline.stdout.includes('trap "exit 7" TERM'), show('pid 1 of the container', cmdline));

    const env = await podman(rt, ['exec', '-e', 'GREETING=hi', '-w', '/tmp', '-u', '65534', name, 'sh', '-c', 'echo $GREETING $(pwd) $(id -u)']);
    expectExit(env, 0, 'podman exec -e -w -u');
    assert.equal(env.stdout, 'hi /tmp 65534\n', show('podman exec -e -w -u', env));

    const five = await podman(rt, ['exec', name, 'sh', '-c', 'exit 5']);
    expectExit(five, 5, "podman exec sh -c 'exit 5'");

    const stop = await podman(rt, ['stop', '-t', '3', name]);
    expectExit(stop, 0, 'podman stop -t 3');
    // The trap ran: SIGTERM reached pid 1 (runtime kill), before any SIGKILL.
    assert.equal(await inspect(rt, name, '{{.State.Status}} {{.State.ExitCode}}'), 'exited 7');
    const ps = await podman(rt, ['ps', '-a', '--filter', `name=^${name}$`, '--format', '{{.Names}} {{.Status}}']);
    expectExit(ps, 0, 'podman ps -a');
    assert.match(ps.stdout, new RegExp(`^${name} Exited \\(7\\) `, 'm'), show('podman ps -a shows it exited', ps));
  } finally {
    await removeContainer(rt, name);
  }
});

check('pause, unpause, restart, kill', async (_t, rt) => {
  const name = uniqueName(rt, 'life');
  try {
    expectExit(await podman(rt, ['run', '-d', '--name', name, IMAGE, 'sleep', '1000']), 0, 'podman run -d sleep');
    expectExit(await podman(rt, ['pause', name]), 0, 'podman pause');
    assert.equal(await inspect(rt, name, '{{.State.Status}}'), 'paused');
    expectExit(await podman(rt, ['unpause', name]), 0, 'podman unpause');
    assert.equal(await inspect(rt, name, '{{.State.Status}}'), 'running');
    const pid1 = await inspect(rt, name, '{{.State.Pid}}');
    expectExit(await podman(rt, ['restart', '-t', '0', name]), 0, 'podman restart');
    assert.equal(await inspect(rt, name, '{{.State.Status}}'), 'running');
    assert.notEqual(await inspect(rt, name, '{{.State.Pid}}'), pid1, 'restart started a new process');
    expectExit(await podman(rt, ['kill', name]), 0, 'podman kill');
    const waited = await podman(rt, ['wait', name]);
    expectExit(waited, 0, 'podman wait');
    assert.equal(waited.stdout.trim(), '137', show('podman wait after podman kill (SIGKILL)', waited));
  } finally {
    await removeContainer(rt, name);
  }
});

check('a memory limit OOM-kills: exit 137, OOMKilled', async (_t, rt) => {
  const plain = await podman(rt, ['run', '--rm', '--memory', '32m', '--memory-swap', '32m', IMAGE, 'sh', '-c', ALLOC_100M]);
  expectExit(plain, 137, 'podman run --memory 32m <allocate 100 MiB>');

  // podman 4.x reads OOMKilled from <bundle>/oom, but conmon 2.1 creates "oom" in its own
  // working directory (podman's) unless given --persist-dir, which podman only passes from
  // 5.0 on. So start the container from its bundle directory: then conmon's cgroup v1/v2
  // OOM watch is what decides OOMKilled, as in podman 5.
  const oomName = uniqueName(rt, 'oom');
  const okName = uniqueName(rt, 'nooom');
  try {
    for (const [name, script] of [
      [oomName, ALLOC_100M],
      [okName, 'echo fits'],
    ] as const) {
      expectExit(await podman(rt, ['create', '--name', name, '--memory', '32m', '--memory-swap', '32m', IMAGE, 'sh', '-c', script]), 0, 'podman create');
    }
    const oomDir = await inspect(rt, oomName, '{{.StaticDir}}');
    const started = await podman(rt, ['start', '--attach', oomName], { cwd: oomDir });
    expectExit(started, 137, 'podman start --attach <allocate 100 MiB>');
    assert.equal(await inspect(rt, oomName, '{{.State.ExitCode}} {{.State.OOMKilled}}'), '137 true');

    const okDir = await inspect(rt, okName, '{{.StaticDir}}');
    const fits = await podman(rt, ['start', '--attach', okName], { cwd: okDir });
    expectExit(fits, 0, 'podman start --attach echo fits');
    assert.equal(await inspect(rt, okName, '{{.State.ExitCode}} {{.State.OOMKilled}}'), '0 false');
  } finally {
    await removeContainer(rt, oomName);
    await removeContainer(rt, okName);
  }
});

check(
  'a bind mount with rshared propagation',
  async (_t, rt) => {
    const src = path.join(dir, 'tmp', `propagation-${rt.name}`);
    fs.mkdirSync(src, { recursive: true });
    fs.writeFileSync(path.join(src, 'f'), 'from the host\n');
    // podman sets linux.rootfsPropagation to "shared" for it, as Docker does.
    const r = await podman(rt, [
      'run', '--rm', '--mount', `type=bind,src=${src},dst=/m,bind-propagation=rshared`, IMAGE,
      'sh', '-c', 'cat /m/f; grep " /m " /proc/self/mountinfo',
    ]);
    expectExit(r, 0, 'podman run --mount ...,bind-propagation=rshared');
    assert.match(r.stdout, /^from the host$/m, show('the bind mount', r));
    assert.match(r.stdout, / \/m .* shared:\d+/, show('/m is a shared mount', r));
  }
);
