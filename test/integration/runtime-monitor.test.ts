// berth's monitor mode end to end through berth-runtime: the container outlives
// whoever started it, and the shim's control socket and exit file work.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { RUNTIME, useRuntimeFixture, skipUnlessRoot } from '../helpers/runtime.js';

async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, ms = 10000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

function control(socket: string, line: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = connect(socket, () => c.write(line + '\n'));
    let reply = '';
    c.on('data', (d) => {
      reply += d.toString();
      if (reply.includes('\n')) {
        c.end();
        resolve(reply.trim());
      }
    });
    c.on('error', reject);
  });
}

describe('berth-runtime --monitor', { skip: skipUnlessRoot }, () => {
  const fixture = useRuntimeFixture();

  test('the container keeps running when berth-runtime is killed with SIGKILL, and its exit is recorded', async () => {
    const fx = fixture();
    const id = fx.id('survivor');
    const log = join(fx.dir, `${id}.log`);
    const bundle = fx.bundle((s) => (s.process!.args = ['sh', '-c', 'echo started; trap "echo bye; exit 3" TERM; while :; do sleep 0.1; done']));
    const starter = spawn(process.execPath, [RUNTIME, '--root', fx.root, 'run', '--monitor', '--keep', '--log-path', log, '--bundle', bundle, id], { stdio: 'ignore' });
    await waitFor('the container to run', async () => {
      const r = await fx.run(['state', id]);
      return r.code === 0 && JSON.parse(r.stdout).status === 'running' ? true : undefined;
    });
    starter.kill('SIGKILL');
    await new Promise((r) => starter.on('exit', r));
    await new Promise((r) => setTimeout(r, 300));
    const state = JSON.parse((await fx.run(['state', id])).stdout) as { status: string; pid: number };
    assert.equal(state.status, 'running', 'the container survived its starter');
    const dir = join(fx.root, id);
    assert.ok(Number(readFileSync(join(dir, 'shim.pid'), 'utf8')) > 1);
    assert.equal(await control(join(dir, 'ctl.sock'), 'kill 15'), 'ok');
    const exit = await waitFor('the exit file', () => (existsSync(join(dir, 'exit')) ? JSON.parse(readFileSync(join(dir, 'exit'), 'utf8')) as { exitCode: number } : undefined));
    assert.equal(exit.exitCode, 3);
    const lines = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { log: string; stream: string });
    assert.deepEqual(lines.map((l) => l.log), ['started\n', 'bye\n']);
    assert.equal((await fx.run(['state', id])).stdout.includes('"stopped"'), true);
    assert.equal((await fx.run(['delete', id])).code, 0);
  });

  test('with a terminal the monitor holds the pty master: one stream, the configured size', async () => {
    const fx = fixture();
    const id = fx.id('tty');
    const log = join(fx.dir, `${id}.log`);
    const bundle = fx.bundle((s) => {
      s.process!.terminal = true;
      s.process!.consoleSize = { height: 24, width: 80 };
      s.process!.args = ['sh', '-c', 'tty; stty size'];
    });
    const r = await fx.run(['run', '--monitor', '--log-path', log, '--bundle', bundle, id]);
    assert.equal(r.code, 0, r.stderr);
    const lines = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { log: string; stream: string });
    assert.match(lines[0]!.log, /^\/dev\/(pts\/\d+|console)\r\n$/);
    assert.equal(lines[1]!.log, '24 80\r\n');
    assert.ok(lines.every((l) => l.stream === 'stdout'));
  });

  test('update changes the limits of a running container', async () => {
    const fx = fixture();
    const id = fx.id('upd');
    assert.equal((await fx.run(['run', '-d', '--bundle', fx.bundle((s) => (s.process!.args = ['sleep', '30'])), id])).code, 0);
    const r = await fx.run(['update', '--pids-limit', '42', '--memory', String(96 * 1024 * 1024), id]);
    assert.equal(r.code, 0, r.stderr);
    const inside = await fx.run(['exec', id, 'cat', '/sys/fs/cgroup/pids/pids.max', '/sys/fs/cgroup/memory/memory.limit_in_bytes']);
    assert.equal(inside.stdout, `42\n${96 * 1024 * 1024}\n`);
    const stats = JSON.parse((await fx.run(['events', '--stats', id])).stdout) as { type: string; data: { pids: { limit: number } } };
    assert.equal(stats.type, 'stats');
    assert.equal(stats.data.pids.limit, 42);
    await fx.run(['delete', '--force', id]);
  });

  test('a time namespace shifts the container\'s boot clock', async () => {
    const fx = fixture();
    const r = await fx.runArgs(['cat', '/proc/uptime'], (s) => {
      s.linux!.namespaces!.push({ type: 'time' });
      s.linux!.timeOffsets = { boottime: { secs: 86400 * 1000 } };
    });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(Number(r.stdout.split(' ')[0]) > 86400 * 1000, `uptime ${r.stdout}`);
  });

  test('--no-pivot enters the rootfs with MS_MOVE + chroot and the container still works', async () => {
    const fx = fixture();
    const bundle = fx.bundle((s) => (s.process!.args = ['sh', '-c', 'echo $$; ls /bin/busybox']));
    const r = await fx.run(['run', '--no-pivot', '--bundle', bundle, fx.id()]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '1\n/bin/busybox\n');
  });
});
