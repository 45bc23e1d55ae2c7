// docker stats on a real cgroup (root): a process with a memory and pids limit in a
// berth-test-<random> cgroup, in a network namespace with a veth pair (eth0, eth1); the sample
// shows its limits, usage and interface as Docker would. Cgroup and process are removed
// after the test whatever happens.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { openCgroupManager } from '../../src/runtime/cgroups/index.js';
import { sampleStats } from '../../src/daemon/services/stats.js';
import { isRoot } from '../helpers/runtime.js';

test('a sample of a real cgroup and network namespace', { skip: isRoot ? false : 'needs root (cgroups, netns)' }, async (t) => {
  const cgroup = openCgroupManager({ id: 'stats', cgroupsPath: `/berth-test-${randomBytes(4).toString('hex')}` });
  cgroup.create({ memory: { limit: 64 * 1024 * 1024 }, pids: { limit: 50 }, devices: [{ allow: true, access: 'rwm' }] });
  // A new network namespace with two interfaces beside lo; the shell becomes the "init" (sleep).
  const init = spawn('unshare', ['-n', 'sh', '-c', 'ip link add eth0 type veth peer name eth1 && echo ready && read go && exec sleep 300'], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  t.after(async () => {
    init.kill('SIGKILL');
    for (let attempt = 0; ; attempt++) {
      try {
        cgroup.destroy();
        return;
      } catch (err) {
        if (attempt > 20) throw err;
        await sleep(50);
      }
    }
  });
  await new Promise<void>((resolve, reject) => {
    init.stdout!.once('data', () => resolve());
    init.once('exit', (code) => reject(new Error(`the test's init exited with ${code}`)));
  });
  for (const f of cgroup.procsFiles()) writeFileSync(f, String(init.pid));
  // v1 keeps memory charged where it was first used: let the init start sleep inside the cgroup.
  init.stdin!.write('go\n');
  while (readFileSync(`/proc/${init.pid}/comm`, 'utf8').trim() !== 'sleep') await sleep(5);

  const first = sampleStats({ id: 'id1', name: '/stats', cgroup, pid: init.pid! });
  const second = sampleStats({ id: 'id1', name: '/stats', cgroup, pid: init.pid! }, first);
  assert.equal(second.memory_stats.limit, 64 * 1024 * 1024);
  assert.ok(second.memory_stats.usage! > 0, 'memory in use');
  assert.ok(second.memory_stats.stats && ('total_inactive_file' in second.memory_stats.stats || 'inactive_file' in second.memory_stats.stats));
  assert.deepEqual(second.pids_stats, { current: 1, limit: 50 });
  assert.ok(second.cpu_stats.cpu_usage.total_usage > 0, 'the init used some CPU');
  assert.equal(second.cpu_stats.online_cpus, cpus().length);
  assert.ok(second.cpu_stats.system_cpu_usage! >= first.cpu_stats.system_cpu_usage!);
  assert.deepEqual(second.precpu_stats, first.cpu_stats);
  assert.deepEqual(Object.keys(second.networks ?? {}).sort(), ['eth0', 'eth1'], 'the container\'s interfaces, without lo');
});
