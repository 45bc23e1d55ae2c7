// Live restore (issue 5, "Done means" 3): 20 containers — some with a tty, some logging
// fast, some exiting while the daemon is down, some with restart policies — survive a
// SIGKILL of berthd. After the restart every running container still runs (same pid) with
// unbroken logs, the exited ones show their real exit codes, restart policies are applied,
// and after removal nothing is left: no mount, cgroup or shim.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { startBerthd, type Berthd } from '../helpers/berthd.js';
import { isRoot, makeRootfs } from '../helpers/runtime.js';

const DOCKER = '/usr/bin/docker';
const skip = !isRoot ? 'needs root' : !existsSync(DOCKER) ? 'needs the docker CLI (docker.io)' : !existsSync('/bin/busybox') ? 'needs busybox-static' : false;

let d: Berthd;
const docker = (...args: string[]): { code: number; out: string; err: string } => {
  const r = spawnSync(DOCKER, args, { env: d.env(), encoding: 'utf8', timeout: 60_000, maxBuffer: 64 * 1024 * 1024 });
  return { code: r.status ?? -1, out: r.stdout.trim(), err: r.stderr.trim() };
};
const ok = (...args: string[]): string => {
  const r = docker(...args);
  assert.equal(r.code, 0, `docker ${args.join(' ')}: ${r.err}`);
  return r.out;
};
const inspect = (name: string, format: string): string => ok('inspect', '-f', format, name);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The mounts, cgroup directories and shims that belong to this daemon's roots. */
function leftovers(root: string, ids: string[]): string[] {
  const out: string[] = [];
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const point = line.split(' ')[4] ?? '';
    if (point.startsWith(`${root}/`) && point.includes('/containers/')) out.push(`mount ${point}`);
  }
  for (const id of ids) {
    for (const ctl of existsSync('/sys/fs/cgroup') ? readdirSync('/sys/fs/cgroup') : []) {
      if (existsSync(join('/sys/fs/cgroup', ctl, 'berth', id))) out.push(`cgroup ${ctl}/berth/${id}`);
    }
  }
  const runtime = join(root, 'exec', 'runtime');
  for (const id of existsSync(runtime) ? readdirSync(runtime) : []) out.push(`runtime state ${id}`);
  return out;
}

describe('berthd live restore', { skip, timeout: 300_000 }, () => {
  before(async () => {
    d = await startBerthd();
    const work = mkdtempSync(join(d.root, 'img-'));
    const rootfs = makeRootfs(work);
    const tar = join(work, 'rootfs.tar');
    assert.equal(spawnSync('tar', ['-C', rootfs, '-cf', tar, '.']).status, 0);
    ok('import', '-c', 'CMD ["sh"]', tar, 'busybox:latest');
    rmSync(work, { recursive: true, force: true });
  });
  after(async () => {
    await d?.cleanup();
  });

  it('keeps containers running across a SIGKILL of berthd and picks up what happened meanwhile', async () => {
    const sleepers = Array.from({ length: 8 }, (_, i) => `sleeper${i}`);
    const loggers = Array.from({ length: 4 }, (_, i) => `logger${i}`);
    const ttys = Array.from({ length: 3 }, (_, i) => `tty${i}`);
    const exiters = Array.from({ length: 3 }, (_, i) => `exiter${i}`);
    const restarters = ['restarter0', 'restarter1'];
    for (const n of sleepers) ok('run', '-d', '--name', n, '--network', 'none', 'busybox', 'sleep', '600');
    // Each logger counts as fast as it can; gaps or repeats in the log would show a broken stream.
    for (const n of loggers) ok('run', '-d', '--name', n, '--network', 'none', 'busybox', 'sh', '-c', 'i=0; while [ $i -lt 200000 ]; do echo $i; i=$((i+1)); done; sleep 600');
    for (const n of ttys) ok('run', '-d', '-t', '-i', '--name', n, '--network', 'none', 'busybox', 'sh');
    for (const [i, n] of exiters.entries()) ok('run', '-d', '--name', n, '--network', 'none', 'busybox', 'sh', '-c', `sleep 3; exit ${10 + i}`);
    for (const n of restarters) ok('run', '-d', '--name', n, '--restart', 'on-failure:5', '--network', 'none', 'busybox', 'sh', '-c', 'sleep 3; exit 1');
    const all = [...sleepers, ...loggers, ...ttys, ...exiters, ...restarters];
    assert.equal(all.length, 20);
    const pids = new Map(all.map((n) => [n, inspect(n, '{{.State.Pid}}')]));
    const ids = all.map((n) => inspect(n, '{{.Id}}'));

    await d.kill();
    await sleep(5000); // exiters and restarters exit while nobody watches
    for (const n of [...sleepers, ...loggers, ...ttys]) {
      assert.ok(existsSync(`/proc/${pids.get(n)}`), `${n} (pid ${pids.get(n)}) died with the daemon`);
    }
    await d.start();

    for (const n of [...sleepers, ...loggers, ...ttys]) {
      assert.equal(inspect(n, '{{.State.Running}} {{.State.Pid}}'), `true ${pids.get(n)}`, n);
    }
    for (const [i, n] of exiters.entries()) {
      assert.equal(inspect(n, '{{.State.Status}} {{.State.ExitCode}}'), `exited ${10 + i}`, n);
    }
    // on-failure: exited with 1 while the daemon was down, restarted once it came back.
    for (const n of restarters) {
      const deadline = Date.now() + 20_000;
      while (Number(inspect(n, '{{.RestartCount}}')) < 1 && Date.now() < deadline) await sleep(200);
      assert.ok(Number(inspect(n, '{{.RestartCount}}')) >= 1, `${n} was not restarted`);
    }
    // The loggers' output went on while berthd was away: every number once, in order.
    for (const n of loggers) {
      const deadline = Date.now() + 60_000;
      let lines: string[] = [];
      while (Date.now() < deadline) {
        lines = ok('logs', '--tail', '1', n).split('\n');
        if (lines.at(-1) === '199999') break;
        await sleep(500);
      }
      const all = ok('logs', n).split('\n');
      assert.equal(all.length, 200000, `${n}: ${all.length} lines`);
      for (let i = 0; i < all.length; i += 9973) assert.equal(all[i], String(i), `${n} line ${i}`);
      assert.equal(all.at(-1), '199999');
    }
    // A tty container still answers on its terminal after the restart.
    const exec = docker('exec', ttys[0]!, 'echo', 'still here');
    assert.equal(exec.out, 'still here');

    ok('rm', '-f', ...all);
    await sleep(500);
    assert.deepEqual(leftovers(d.root, ids), []);
    for (const n of all) assert.ok(!existsSync(`/proc/${pids.get(n)}`) || readFileSync(`/proc/${pids.get(n)}/stat`, 'utf8').includes(') Z'), `${n} still runs`);
  });

  it('shuts down gracefully on SIGTERM and leaves containers running', async () => {
    ok('run', '-d', '--name', 'survivor', '--network', 'none', 'busybox', 'sleep', '600');
    const pid = inspect('survivor', '{{.State.Pid}}');
    await d.stop();
    assert.match(d.log(), /shutdown complete/);
    assert.ok(existsSync(`/proc/${pid}`));
    await d.start();
    assert.equal(inspect('survivor', '{{.State.Running}} {{.State.Pid}}'), `true ${pid}`);
    ok('rm', '-f', 'survivor');
  });
});
