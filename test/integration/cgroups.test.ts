// Real cgroups on this host (root only): create a cgroup with limits under
// an absolute berth-test-<random> path, read the kernel's values back, move a
// `sleep` into it, freeze/thaw, stats, kill and destroy. Every cgroup made
// here is removed in t.after, even when an assertion fails; nothing else is
// touched (absolute paths, so not below the test runner's own cgroups).

import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { isBerthError } from '../../src/util/errors.js';
import { openCgroupManager, type CgroupManager } from '../../src/runtime/cgroups/index.js';

function skipReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (creates cgroups)';
  let mountinfo = '';
  try {
    mountinfo = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return 'no /proc/self/mountinfo';
  }
  if (!/ - cgroup2? /.test(mountinfo)) return 'no cgroup filesystem mounted';
  return undefined;
}

const skip = skipReason();

function sleepProcess(t: TestContext): ChildProcess {
  const child = spawn('sleep', ['300'], { stdio: 'ignore' });
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return child;
}

/** A manager for a fresh berth-test-<random> cgroup, destroyed after the test whatever happens. */
function testCgroup(t: TestContext): CgroupManager {
  const m = openCgroupManager({ id: 'it', cgroupsPath: `/berth-test-${randomBytes(4).toString('hex')}` });
  t.after(async () => {
    // Processes must be gone (and reaped) before rmdir succeeds; give them a moment.
    for (let attempt = 0; ; attempt++) {
      try {
        if (m.exists()) m.killAll('SIGKILL');
      } catch {
        /* best effort */
      }
      await new Promise((r) => setTimeout(r, 50 * (attempt + 1)));
      try {
        m.destroy();
        return;
      } catch (err) {
        if (attempt >= 5) throw err;
      }
    }
  });
  return m;
}

const waitExit = (child: ChildProcess): Promise<NodeJS.Signals | null> =>
  new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.signalCode);
    else child.once('exit', (_code, signal) => resolve(signal));
  });

const read = (dir: string | undefined, file: string): string => readFileSync(join(dir ?? '/nonexistent', file), 'utf8').trim();

test('real cgroup: limits, join, freeze/thaw, stats, kill, destroy', { skip }, async (t) => {
  const m = testCgroup(t);
  const result = m.create({
    memory: { limit: 64 * 1024 * 1024 },
    pids: { limit: 32 },
    cpu: { shares: 512, quota: 20000, period: 100000 },
    devices: [
      { allow: false, access: 'rwm' },
      { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },
      { allow: true, type: 'c', major: 136, access: 'rwm' },
    ],
  });
  assert.ok(m.exists());
  const p = m.paths();
  if (m.version === 1) {
    assert.equal(read(p['memory'], 'memory.limit_in_bytes'), String(64 * 1024 * 1024));
    assert.equal(read(p['pids'], 'pids.max'), '32');
    assert.equal(read(p['cpu'], 'cpu.shares'), '512');
    assert.equal(read(p['cpu'], 'cpu.cfs_quota_us'), '20000');
    assert.equal(read(p['cpu'], 'cpu.cfs_period_us'), '100000');
    assert.deepEqual(read(p['devices'], 'devices.list').split('\n').sort(), ['c 1:3 rwm', 'c 136:* rwm'].sort());
    assert.equal(result.deviceProgram, undefined);
  } else {
    const dir = p[''];
    assert.equal(read(dir, 'memory.max'), String(64 * 1024 * 1024));
    assert.equal(read(dir, 'pids.max'), '32');
    assert.equal(read(dir, 'cpu.weight'), '59');
    assert.equal(read(dir, 'cpu.max'), '20000 100000');
    assert.ok(result.deviceProgram && result.deviceProgram.insns.length > 0);
  }

  // Join: what the shim does with "0" from inside, done here with the child's pid.
  const child = sleepProcess(t);
  await new Promise((r) => child.once('spawn', r));
  const pid = child.pid as number;
  for (const f of m.procsFiles()) writeFileSync(f, String(pid));
  const own = readFileSync(`/proc/${pid}/cgroup`, 'utf8');
  const leaf = (Object.values(p)[0] ?? '').split('/').pop() as string;
  assert.ok(own.includes(leaf), own);
  assert.deepEqual(m.pids(), [pid]);

  const s = m.stats();
  assert.ok(s.pids.current >= 1, JSON.stringify(s.pids));
  assert.equal(s.pids.limit, 32);
  assert.equal(s.memory.usage.limit, 64 * 1024 * 1024);

  m.freeze();
  assert.equal(m.isFrozen(), true);
  if (m.version === 1) assert.equal(read(p['freezer'], 'freezer.state'), 'FROZEN');
  else assert.equal(read(p[''], 'cgroup.freeze'), '1');
  assert.match(readFileSync(`/proc/${pid}/status`, 'utf8'), /State:\s+[DS]/);
  m.thaw();
  assert.equal(m.isFrozen(), false);
  if (m.version === 1) assert.equal(read(p['freezer'], 'freezer.state'), 'THAWED');

  // update touches only what it is given.
  m.update({ pids: { limit: 64 } });
  assert.equal(m.stats().pids.limit, 64);

  m.killAll('SIGKILL');
  assert.equal(await waitExit(child), 'SIGKILL');
  for (let i = 0; i < 100 && m.pids().length > 0; i++) await new Promise((r) => setTimeout(r, 10));

  m.destroy();
  for (const dir of Object.values(p)) assert.equal(existsSync(dir), false, dir);
  assert.equal(m.exists(), false);
});

test('real cgroup: the kernel refusing a value gives a typed error naming file and value', { skip }, (t) => {
  const m = testCgroup(t);
  m.create({});
  if (m.version === 1) {
    // The kernel clamps cpu.shares to at least 2; runc reports it, so do we.
    assert.throws(
      () => m.update({ cpu: { shares: 1 } }),
      (err: unknown) => isBerthError(err, 'InvalidArgument') && /cpu\.shares: cannot set 1: the minimum allowed cpu-shares is 2/.test(err.message),
    );
    // The kernel rejects a period below 1ms with EINVAL.
    assert.throws(
      () => m.update({ cpu: { period: 10 } }),
      (err: unknown) => isBerthError(err, 'InvalidArgument') && /^cgroup: cpu\.cfs_period_us: cannot set 10: Invalid argument/.test(err.message),
    );
  } else {
    assert.throws(
      () => m.update({ cpu: { quota: 10, period: 10 } }),
      (err: unknown) => isBerthError(err, 'InvalidArgument') && /^cgroup: cpu\.max: cannot set 10 10: Invalid argument/.test(err.message),
    );
  }
});

test('real cgroup v1: a memory limit below usage says what the usage is', { skip }, async (t) => {
  const m = testCgroup(t);
  if (m.version !== 1) {
    t.skip('v1 only (v2 memory.max accepts any value and reclaims or OOM-kills instead)');
    return;
  }
  m.create({});
  // A process that holds 50 MB charged to the cgroup: it joins every hierarchy (as the shim
  // does, so killAll finds it) before it allocates.
  const join = m.procsFiles().map((f) => `echo $$ > ${f}`).join('; ');
  const child = spawn('sh', ['-c', `${join}; exec "${process.execPath}" -e "globalThis.b = Buffer.alloc(50e6, 1); console.log('ready'); setInterval(() => {}, 1000)"`], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  await new Promise((r) => child.stdout?.once('data', r));
  let err: unknown;
  try {
    m.update({ memory: { limit: 4096 } });
  } catch (e) {
    err = e;
  }
  if (err === undefined) {
    t.skip('the kernel could reclaim 50 MB (swap?), so no EBUSY to check');
    return;
  }
  assert.ok(isBerthError(err, 'InvalidArgument'), String(err));
  assert.match(err.message, /^cgroup: memory\.limit_in_bytes: cannot set 4096: Device or resource busy \(current usage \d+, peak usage \d+; /);
});
