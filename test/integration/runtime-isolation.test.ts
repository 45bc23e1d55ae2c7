// What a container gets: each isolation promise of issue 2, checked from inside.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { useRuntimeFixture, skipUnlessRoot } from '../helpers/runtime.js';
import { dockerDefaultProfile } from '../../src/runtime/seccomp/index.js';
import type { Spec } from '../../src/oci/runtime-spec.js';

describe('berth-runtime isolation', { skip: skipUnlessRoot }, () => {
  const fixture = useRuntimeFixture();

  test('the process is pid 1 of its own pid namespace', async () => {
    const fx = fixture();
    const r = await fx.runArgs(['sh', '-c', 'echo $$; ps -o pid | wc -l']);
    assert.equal(r.code, 0, r.stderr);
    const [pid, lines] = r.stdout.trim().split('\n');
    assert.equal(pid, '1');
    assert.ok(Number(lines) <= 4, `only the container's processes are visible: ${r.stdout}`);
  });

  test('the container has its own hostname and domainname', async () => {
    const fx = fixture();
    const r = await fx.runArgs(['sh', '-c', 'hostname; cat /proc/sys/kernel/domainname'], (s) => {
      s.hostname = 'isolated-box';
      s.domainname = 'example.test';
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'isolated-box\nexample.test\n');
    assert.notEqual(hostname(), 'isolated-box');
  });

  test('a new network namespace holds only lo', async () => {
    const fx = fixture();
    const r = await fx.runArgs(['ls', '/sys/class/net']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'lo');
  });

  test('exceeding the memory limit gets the process OOM-killed (137), and the monitor records it', async () => {
    const fx = fixture();
    const limit = 32 * 1024 * 1024;
    const hog = ['sh', '-c', 'x=$(head -c 200000000 /dev/zero | tr "\\000" a); echo survived'];
    const withLimit = (s: Spec): void => {
      s.process!.args = hog;
      s.linux!.resources = { ...s.linux!.resources, memory: { limit, swap: limit } };
    };
    const plain = await fx.run(['run', '--bundle', fx.bundle(withLimit), fx.id()]);
    assert.equal(plain.code, 137, `exit ${plain.code}: ${plain.stdout}${plain.stderr}`);
    assert.doesNotMatch(plain.stdout, /survived/);
    const id = fx.id('oom');
    const monitored = await fx.run(['run', '--monitor', '--keep', '--bundle', fx.bundle(withLimit), id]);
    assert.equal(monitored.code, 137);
    const exit = JSON.parse(readFileSync(join(fx.root, id, 'exit'), 'utf8')) as { oomKilled: boolean; signal: number };
    assert.equal(exit.oomKilled, true);
    assert.equal(exit.signal, 9);
    await fx.run(['delete', id]);
  });

  test('the pids limit stops fork bombs', async () => {
    const fx = fixture();
    const r = await fx.runArgs(['sh', '-c', 'for i in $(seq 30); do sleep 5 & done; wait'], (s) => {
      s.linux!.resources = { ...s.linux!.resources, pids: { limit: 10 } };
    });
    assert.match(r.stderr, /can't fork|Resource temporarily unavailable/);
  });

  test('a cpu quota throttles a busy loop', async () => {
    const fx = fixture();
    const r = await fx.runArgs(
      ['sh', '-c', 'cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us; timeout 1 sh -c "while :; do :; done"; grep nr_throttled /sys/fs/cgroup/cpu/cpu.stat'],
      (s) => {
        s.linux!.resources = { ...s.linux!.resources, cpu: { quota: 10000, period: 100000 } };
      },
    );
    const [quota, throttled] = r.stdout.trim().split('\n');
    assert.equal(quota, '10000', r.stderr);
    assert.ok(Number(throttled?.split(' ')[1]) > 0, `throttled: ${r.stdout}`);
  });

  test('a read-only root refuses writes', async () => {
    const fx = fixture();
    const r = await fx.runArgs(['sh', '-c', 'touch /newfile && echo wrote'], (s) => {
      s.root!.readonly = true;
    });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Read-only file system/);
    assert.doesNotMatch(r.stdout, /wrote/);
  });

  test('masked paths show nothing and read-only paths refuse writes', async () => {
    const fx = fixture();
    const r = await fx.runArgs(['sh', '-c', 'wc -c < /proc/timer_list; ls /sys/firmware | wc -l; echo 1 > /proc/sys/kernel/ctrl-alt-del && echo wrote']);
    const [timerList, firmware] = r.stdout.trim().split('\n');
    assert.equal(timerList, '0', r.stderr);
    assert.equal(firmware, '0');
    assert.match(r.stderr, /Read-only file system/);
  });

  test('capabilities are dropped to the configured sets', async () => {
    const fx = fixture();
    const r = await fx.runArgs(['grep', '^Cap', '/proc/self/status']);
    assert.equal(r.code, 0, r.stderr);
    const caps = Object.fromEntries(r.stdout.trim().split('\n').map((l) => l.split(/:\s+/) as [string, string]));
    // CAP_AUDIT_WRITE, CAP_KILL, CAP_NET_BIND_SERVICE
    assert.equal(caps.CapEff, '0000000020000420');
    assert.equal(caps.CapPrm, '0000000020000420');
    assert.equal(caps.CapBnd, '0000000020000420');
    assert.equal(caps.CapInh, '0000000000000000');
  });

  test("Docker's seccomp profile denies unshare, mount and keyctl with EPERM while ordinary calls work", async () => {
    const fx = fixture();
    const r = await fx.runArgs(['probe', 'syscalls'], (s) => {
      s.linux!.seccomp = dockerDefaultProfile({ capabilities: s.process!.capabilities!.bounding!, hostArch: process.arch === 'arm64' ? 'aarch64' : 'x86_64' });
      // Give the process CAP_SYS_ADMIN-free root: seccomp, not capabilities, must be what refuses.
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^getpid ok$/m);
    assert.match(r.stdout, /^unshare-user EPERM$/m);
    assert.match(r.stdout, /^mount EPERM$/m);
    assert.match(r.stdout, /^keyctl EPERM$/m);
    assert.match(r.stdout, /^clone-newns EPERM$/m);
  });

  test('a user namespace maps container root to an unprivileged host uid', async () => {
    const fx = fixture();
    const id = fx.id('userns');
    const bundle = fx.bundle((s) => {
      s.process!.args = ['sh', '-c', 'id -u; cat /proc/self/uid_map; sleep 10'];
      s.linux!.namespaces!.push({ type: 'user' });
      s.linux!.uidMappings = [{ containerID: 0, hostID: 200000, size: 65536 }];
      s.linux!.gidMappings = [{ containerID: 0, hostID: 200000, size: 65536 }];
    });
    const created = await fx.run(['create', '--bundle', bundle, id]);
    assert.equal(created.code, 0, created.stderr);
    const state = JSON.parse((await fx.run(['state', id])).stdout) as { pid: number };
    const status = readFileSync(`/proc/${state.pid}/status`, 'utf8');
    assert.match(status, /^Uid:\s+200000\s/m, 'on the host the init runs as uid 200000');
    await fx.run(['delete', '--force', id]);
    const r = await fx.runArgs(['sh', '-c', 'id -u; cat /proc/self/uid_map'], (s) => {
      s.linux!.namespaces!.push({ type: 'user' });
      s.linux!.uidMappings = [{ containerID: 0, hostID: 200000, size: 65536 }];
      s.linux!.gidMappings = [{ containerID: 0, hostID: 200000, size: 65536 }];
    });
    assert.equal(r.code, 0, r.stderr);
    const [uid, map] = r.stdout.trim().split('\n');
    assert.equal(uid, '0');
    assert.deepEqual(map?.trim().split(/\s+/), ['0', '200000', '65536']);
  });

  test('hooks run in the order the spec defines, with the state on stdin', async () => {
    const fx = fixture();
    const shared = join(fx.dir, 'hooks-shared');
    mkdirSync(shared);
    const log = join(shared, 'order');
    writeFileSync(log, '');
    const hostHook = (name: string) => ({ path: '/bin/sh', args: ['sh', '-c', `read -r state; echo "${name} $state" >> ${log}`] });
    const r = await fx.runArgs(['sh', '-c', 'echo process >> /shared/order'], (s) => {
      s.mounts!.push({ destination: '/shared', type: 'bind', source: shared, options: ['rbind', 'rw'] });
      s.hooks = {
        prestart: [hostHook('prestart')],
        createRuntime: [hostHook('createRuntime')],
        createContainer: [hostHook('createContainer')],
        // startContainer runs inside the container, after pivot: its paths are the container's.
        startContainer: [{ path: '/bin/sh', args: ['sh', '-c', 'read -r state; echo "startContainer $state" >> /shared/order'] }],
        poststart: [hostHook('poststart')],
        poststop: [hostHook('poststop')],
      };
    });
    assert.equal(r.code, 0, r.stderr);
    const lines = readFileSync(log, 'utf8').trim().split('\n');
    const names = lines.map((l) => l.split(' ')[0]);
    // poststart may run before or after the process itself; everything else is ordered.
    assert.deepEqual(names.filter((n) => n !== 'poststart'), ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'process', 'poststop']);
    assert.ok(names.includes('poststart'));
    const state = JSON.parse(lines[0]!.slice('prestart '.length)) as { id: string; pid: number; bundle: string };
    assert.ok(state.pid > 1);
    assert.match(state.id, /^c-/);
    // startContainer runs after pivot, inside the container: it still gets the host's pid.
    const started = JSON.parse(lines.find((l) => l.startsWith('startContainer '))!.slice('startContainer '.length)) as { pid: number };
    assert.equal(started.pid, state.pid);
  });

  test('each container joins a new session keyring named after it, unless --no-new-keyring', async () => {
    const fx = fixture();
    // /proc/keys lists every keyring root may view, other containers' too: look for our name.
    const unmasked = (s: Spec): void => {
      s.process!.args = ['grep', '-o', '_ses\\.[^:]*', '/proc/keys'];
      s.linux!.maskedPaths = s.linux!.maskedPaths!.filter((p) => p !== '/proc/keys');
    };
    const id = fx.id('keys');
    const own = await fx.run(['run', '--bundle', fx.bundle(unmasked), id]);
    assert.equal(own.code, 0, own.stderr);
    assert.ok(own.stdout.split('\n').includes(`_ses.${id}`), own.stdout);
    const sharedId = fx.id('keys');
    const shared = await fx.run(['run', '--no-new-keyring', '--bundle', fx.bundle(unmasked), sharedId]);
    assert.ok(!shared.stdout.split('\n').includes(`_ses.${sharedId}`), shared.stdout);
  });

  test('a hook that outlives its timeout fails the create and leaves nothing behind', async () => {
    const fx = fixture();
    const id = fx.id('slowhook');
    const bundle = fx.bundle((s) => (s.hooks = { createRuntime: [{ path: '/bin/sleep', args: ['sleep', '30'], timeout: 1 }] }));
    const r = await fx.run(['create', '--bundle', bundle, id]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /createRuntime hook \/bin\/sleep timed out after 1 s/);
    assert.equal((await fx.run(['state', id])).code, 1, 'no container remains');
  });

  test('exit codes: the process status, 128+signal, and a clear error for a missing program', async () => {
    const fx = fixture();
    assert.equal((await fx.runArgs(['sh', '-c', 'exit 3'])).code, 3);
    // pid 1 ignores signals sent from inside its namespace, so the kill comes from outside.
    const id = fx.id('killed');
    const running = fx.run(['run', '--bundle', fx.bundle((s) => (s.process!.args = ['sleep', '30'])), id]);
    let killed: { code: number } | undefined;
    for (let i = 0; i < 200 && !killed; i++) {
      const state = await fx.run(['state', id]);
      if (state.code === 0 && JSON.parse(state.stdout).status === 'running') killed = await fx.run(['kill', id, 'KILL']);
      else await new Promise((r) => setTimeout(r, 25));
    }
    assert.equal(killed?.code, 0);
    assert.equal((await running).code, 137);
    const missing = await fx.runArgs(['no-such-program']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /executable file not found in \$PATH/);
  });
});
