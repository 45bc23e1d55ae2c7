// Security rules from DESIGN.md §6, each from a real CVE, checked against the real kernel.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { REPO, useRuntimeFixture, skipUnlessRoot } from '../helpers/runtime.js';

const SHIM = join(REPO, 'build/native/berth-shim');

describe('berth-runtime security', { skip: skipUnlessRoot }, () => {
  const fixture = useRuntimeFixture();

  test('no host fd reaches the container, except those passed with --preserve-fds', async () => {
    const fx = fixture();
    const bundle = fx.bundle((s) => (s.process!.args = ['probe', 'fds']));
    const extra = openSync('/etc/hostname', 'r');
    try {
      const stdio = ['pipe', 'pipe', 'pipe', extra] as const;
      const leaked = await fx.run(['run', '--bundle', bundle, fx.id()], { stdio: [...stdio] });
      assert.equal(leaked.code, 0, leaked.stderr);
      assert.equal(leaked.stdout, 'fds done\n', 'only 0-2 are open');
      const kept = await fx.run(['run', '--preserve-fds', '1', '--bundle', bundle, fx.id()], { stdio: [...stdio] });
      assert.equal(kept.code, 0, kept.stderr);
      assert.match(kept.stdout, /^fd 3 \/etc\/hostname$/m);
      assert.doesNotMatch(kept.stdout, /^fd [4-9]/m);
    } finally {
      closeSync(extra);
    }
  });

  test('a cwd that resolves outside the container is refused (CVE-2024-21626 class)', async () => {
    const fx = fixture();
    // fd 3 is a host directory handed in on purpose; /proc/self/fd/3 leads out of the rootfs.
    const bundle = fx.bundle((s) => {
      s.process!.args = ['ls'];
      s.process!.cwd = '/proc/self/fd/3';
    });
    const dir = openSync('/tmp', 'r');
    try {
      const r = await fx.run(['run', '--preserve-fds', '1', '--bundle', bundle, fx.id()], { stdio: ['pipe', 'pipe', 'pipe', dir] });
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /cwd \/proc\/self\/fd\/3 resolves outside the container/);
    } finally {
      closeSync(dir);
    }
  });

  test("the shim's binary cannot be reached through /proc/<pid>/exe (CVE-2019-5736 class)", async () => {
    const fx = fixture();
    const before = createHash('sha256').update(readFileSync(SHIM)).digest('hex');
    // The attack: an image whose interpreter is /proc/self/exe makes the kernel run
    // whatever binary the exec'ing process is. berth's init reaches the program through
    // berth-exec in a sealed memfd, which refuses to run as an interpreter.
    writeFileSync(join(fx.rootfs, 'evil'), '#!/proc/self/exe\n');
    chmodSync(join(fx.rootfs, 'evil'), 0o755);
    const id = fx.id('exe');
    const created = await fx.run(['run', '-d', '--bundle', fx.bundle((s) => (s.process!.args = ['sleep', '30'])), id]);
    assert.equal(created.code, 0, created.stderr);
    const evil = await fx.run(['exec', id, '/evil']);
    assert.equal(evil.code, 126, evil.stderr);
    assert.match(evil.stderr, /refusing to run as an interpreter/);
    // While an exec is in flight, no process the container can see exposes the host binary.
    const busy = fx.run(['exec', id, 'sleep', '2']);
    const probe = await fx.run(['exec', id, 'sh', '-c', 'sleep 0.5; for p in /proc/[0-9]*; do readlink $p/exe; done; true']);
    assert.equal(probe.code, 0, probe.stderr);
    assert.doesNotMatch(probe.stdout, new RegExp(SHIM.replace(/[/.]/g, '\\$&')), 'no process shows the host binary');
    assert.equal((await busy).code, 0);
    await fx.run(['delete', '--force', id]);
    const afterHash = createHash('sha256').update(readFileSync(SHIM)).digest('hex');
    assert.equal(afterHash, before, 'the host binary is unchanged');
  });

  test('a mount target that is a symlink out of the rootfs lands inside it (CVE-2021-30465 class)', async () => {
    const fx = fixture();
    const marker = `berth-escape-${process.pid}-${Date.now()}`;
    const source = join(fx.dir, 'mount-source');
    mkdirSync(source);
    writeFileSync(join(source, 'marker'), 'inside\n');
    // /escape -> /../../<marker>: resolved on the host this would be /<marker> on the host's root.
    symlinkSync(`/../../../${marker}`, join(fx.rootfs, 'escape'));
    const r = await fx.runArgs(['cat', `/${marker}/marker`], (s) => {
      s.mounts!.push({ destination: '/escape', type: 'bind', source, options: ['rbind', 'ro'] });
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'inside\n');
    assert.equal(existsSync(`/${marker}`), false, 'nothing was created on the host');
    assert.ok(existsSync(join(fx.rootfs, marker)), 'the target was created inside the rootfs');
  });

  test('masking refuses a /dev/null that is not the null device', async () => {
    const fx = fixture();
    const r = await fx.runArgs(['true'], (s) => {
      // A createContainer hook runs before masking, in the container's mount namespace.
      s.hooks = { createContainer: [{ path: '/bin/sh', args: ['sh', '-c', `rm ${fx.rootfs}/dev/null && echo fake > ${fx.rootfs}/dev/null`] }] };
      s.linux!.maskedPaths = ['/proc/timer_list'];
    });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /refusing to mask \/proc\/timer_list: the container's \/dev\/null is not the null device \(1:3\)/);
  });
});
