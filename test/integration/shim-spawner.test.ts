// berthd's shim spawner (`berth-shim --spawner`): monitored containers made through it work
// like spawned ones, errors still name their cause, and a dead spawner is replaced by plain
// spawning rather than failing containers.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Runtime, type MonitorExit } from '../../src/runtime/container.js';
import { SHIM_PATH } from '../../src/runtime/shim.js';
import { ShimSpawner } from '../../src/runtime/shim-spawner.js';
import { skipUnlessRoot, useRuntimeFixture } from '../helpers/runtime.js';

async function waitFor<T>(what: string, probe: () => T | undefined, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('berth-shim --spawner', { skip: skipUnlessRoot }, () => {
  const fixture = useRuntimeFixture();
  let spawner: ShimSpawner;
  let runtime: Runtime;
  const socketPath = (): string => join(fixture().dir, 'spawner.sock');

  before(async () => {
    spawner = (await ShimSpawner.start(SHIM_PATH, socketPath()))!;
    assert.ok(spawner, 'the socket path fits');
    runtime = new Runtime({ root: fixture().root, spawner, warn: () => undefined });
  });
  after(() => spawner?.close());

  async function runMonitored(id: string, args: string[]): Promise<{ exit: MonitorExit; log: string; forkedBySpawner: boolean }> {
    const fx = fixture();
    const logPath = join(fx.dir, `${id}.log`);
    const bundle = fx.bundle((s) => (s.process!.args = args));
    const created = await runtime.create(id, {
      bundle, mode: 'monitor', startImmediately: true,
      monitor: { logPath, logMaxSize: 1 << 20, logMaxFiles: 1, stdin: false, stdinOnce: false },
    });
    const exitFile = join(fx.root, id, 'exit');
    const exit = await waitFor('the exit file', () => (existsSync(exitFile) ? (JSON.parse(readFileSync(exitFile, 'utf8')) as MonitorExit) : undefined));
    const log = readFileSync(logPath, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { log: string }).log).join('');
    await runtime.delete(id, true);
    return { exit, log, forkedBySpawner: created.session.child === undefined };
  }

  test('a monitored container made through the spawner runs, logs and reports its exit code', async () => {
    const r = await runMonitored(fixture().id('spawned'), ['sh', '-c', 'echo hello from a spawned shim; exit 7']);
    assert.equal(r.forkedBySpawner, true);
    assert.equal(r.exit.exitCode, 7);
    assert.equal(r.log, 'hello from a spawned shim\n');
  });

  test('several at once each get their own socket and program', async () => {
    const ids = [1, 2, 3, 4, 5, 6].map((n) => fixture().id(`many${n}`));
    const results = await Promise.all(ids.map((id, n) => runMonitored(id, ['sh', '-c', `echo ${n}; exit ${n}`])));
    assert.deepEqual(results.map((r) => [r.exit.exitCode, r.log]), [0, 1, 2, 3, 4, 5].map((n) => [n, `${n}\n`]));
  });

  test('a setup error comes back through the connected socket and names its cause', async () => {
    const fx = fixture();
    const id = fx.id('missing');
    const bundle = fx.bundle((s) => (s.process!.args = ['/no/such/program']));
    await assert.rejects(
      runtime.create(id, { bundle, mode: 'monitor', startImmediately: true, monitor: { logMaxSize: 1 << 20, logMaxFiles: 1, stdin: false, stdinOnce: false } }),
      /\/no\/such\/program/,
    );
  });

  test('a shim that cannot read its program fails at once instead of waiting for a connection', async () => {
    const shim = spawner.spawn(join(fixture().dir, 'no-such-program'));
    await assert.rejects(shim.socket, /could not read its program .*no-such-program/);
    assert.equal(await shim.exited, 121);
  });

  test('when the spawner dies, containers are spawned by the caller instead', async () => {
    const pid = spawner.pid!;
    process.kill(pid, 'SIGKILL');
    await waitFor('the spawner to be seen dead', () => (spawner.alive ? undefined : true));
    assert.throws(() => spawner.spawn('/nothing'), /shim spawner exited \(SIGKILL\)/);
    assert.equal(existsSync(socketPath()), false, 'its socket is removed');
    const r = await runMonitored(fixture().id('fallback'), ['sh', '-c', 'echo spawned directly']);
    assert.equal(r.forkedBySpawner, false);
    assert.equal(r.log, 'spawned directly\n');
  });

  test('close() stops the spawner process', async () => {
    const other = (await ShimSpawner.start(SHIM_PATH, join(fixture().dir, 'other.sock')))!;
    const pid = other.pid!;
    assert.ok(processExists(pid));
    other.close();
    await waitFor('the spawner to exit', () => (processExists(pid) ? undefined : true));
    assert.equal(existsSync(join(fixture().dir, 'other.sock')), false);
  });
});
