// mergeImageConfig and the create-time defaults, against moby's daemon/commit.go merge() and
// daemon/create.go mergeAndVerifyConfig (expected values follow moby's code and its commit_test.go).
import * as assert from 'node:assert/strict';
import { test } from 'node:test';

import { applyConfigDefaults, applyHostConfigDefaults, mergeImageConfig } from '../../src/daemon/spec/index.js';
import type { SpecHost } from '../../src/daemon/spec/index.js';
import type { ImageConfig } from '../../src/oci/image-spec.js';
import { isBerthError } from '../../src/util/errors.js';

const IMAGE: NonNullable<ImageConfig['config']> = {
  User: 'app',
  Env: ['PATH=/usr/bin', 'LANG=C.UTF-8'],
  Entrypoint: ['/entry.sh'],
  Cmd: ['serve', '--port', '80'],
  WorkingDir: '/srv',
  Labels: { 'org.example.a': 'image', 'org.example.b': 'image' },
  ExposedPorts: { '80/tcp': {} },
  Volumes: { '/data': {} },
  StopSignal: 'SIGQUIT',
  Shell: ['/bin/bash', '-c'],
  OnBuild: ['RUN echo hi'],
  Healthcheck: { Test: ['CMD', 'check'], Interval: 30e9, Timeout: 5e9, Retries: 3, StartPeriod: 1e9 },
};

const HOST: SpecHost = {
  arch: 'x86_64', kernelRelease: '6.8.0', lastCap: 40, cgroupUnified: false, hostname: 'buildhost', cpuCount: 2,
  cpusetCpus: '0-1', cpusetMems: '0', recursiveReadOnly: true, defaultNetSysctls: {}, thermalThrottlePaths: [],
};

test('an empty request takes everything from the image except Shell and OnBuild', () => {
  const merged = mergeImageConfig(IMAGE, { Image: 'img' });
  assert.deepEqual(merged.Entrypoint, ['/entry.sh']);
  assert.deepEqual(merged.Cmd, ['serve', '--port', '80']);
  assert.equal(merged.User, 'app');
  assert.equal(merged.WorkingDir, '/srv');
  assert.deepEqual(merged.Env, ['PATH=/usr/bin', 'LANG=C.UTF-8']);
  assert.equal(merged.StopSignal, 'SIGQUIT');
  assert.deepEqual(merged.Healthcheck, IMAGE.Healthcheck);
  assert.equal(merged.Shell, undefined);
  assert.equal(merged.OnBuild, undefined);
});

test('a Cmd at create keeps the image Entrypoint', () => {
  const merged = mergeImageConfig(IMAGE, { Cmd: ['migrate'] });
  assert.deepEqual(merged.Entrypoint, ['/entry.sh']);
  assert.deepEqual(merged.Cmd, ['migrate']);
});

test('an Entrypoint at create drops the image Cmd unless a Cmd is given too', () => {
  const alone = mergeImageConfig(IMAGE, { Entrypoint: ['/bin/sh'] });
  assert.deepEqual(alone.Entrypoint, ['/bin/sh']);
  assert.equal(alone.Cmd ?? null, null);
  const both = mergeImageConfig(IMAGE, { Entrypoint: ['/bin/sh'], Cmd: ['-c', 'true'] });
  assert.deepEqual(both.Cmd, ['-c', 'true']);
});

test('--entrypoint "" (Entrypoint [""]) clears the entrypoint and the image Cmd', () => {
  assert.throws(() => mergeImageConfig(IMAGE, { Entrypoint: [''] }), (e) => isBerthError(e, 'InvalidArgument') && e.message === 'no command specified');
  const merged = mergeImageConfig(IMAGE, { Entrypoint: [''], Cmd: ['ls'] });
  assert.equal(merged.Entrypoint, null);
  assert.deepEqual(merged.Cmd, ['ls']);
});

test('no command anywhere is refused as Docker does', () => {
  assert.throws(() => mergeImageConfig({}, {}), /no command specified/);
  assert.throws(() => mergeImageConfig(undefined, { Cmd: [] }), /no command specified/);
});

test('Env merges by key and the request wins', () => {
  const merged = mergeImageConfig(IMAGE, { Env: ['LANG=en_US.UTF-8', 'DEBUG=1'] });
  assert.deepEqual(merged.Env, ['LANG=en_US.UTF-8', 'DEBUG=1', 'PATH=/usr/bin']);
});

test('Labels merge with the request winning; ExposedPorts and Volumes are unions', () => {
  const merged = mergeImageConfig(IMAGE, {
    Labels: { 'org.example.b': 'create', c: '1' },
    ExposedPorts: { '443/tcp': {} },
    Volumes: { '/cache': {} },
  });
  assert.deepEqual(merged.Labels, { 'org.example.a': 'image', 'org.example.b': 'create', c: '1' });
  assert.deepEqual(Object.keys(merged.ExposedPorts ?? {}).sort(), ['443/tcp', '80/tcp']);
  assert.deepEqual(Object.keys(merged.Volumes ?? {}).sort(), ['/cache', '/data']);
});

test('User, WorkingDir and StopSignal given at create win', () => {
  const merged = mergeImageConfig(IMAGE, { User: '0:0', WorkingDir: '/tmp', StopSignal: 'SIGTERM' });
  assert.equal(merged.User, '0:0');
  assert.equal(merged.WorkingDir, '/tmp');
  assert.equal(merged.StopSignal, 'SIGTERM');
});

test('Healthcheck fields left 0 and a Test of [] inherit from the image', () => {
  const merged = mergeImageConfig(IMAGE, { Healthcheck: { Test: [], Interval: 10e9, Retries: 0 } });
  assert.deepEqual(merged.Healthcheck, {
    Test: ['CMD', 'check'], Interval: 10e9, Timeout: 5e9, Retries: 3, StartPeriod: 1e9, StartInterval: undefined,
  });
  const disabled = mergeImageConfig(IMAGE, { Healthcheck: { Test: ['NONE'] } });
  assert.deepEqual(disabled.Healthcheck?.Test, ['NONE']);
});

test('the request is not modified', () => {
  const req = { Env: ['A=1'], Labels: { x: 'y' } };
  mergeImageConfig(IMAGE, req);
  assert.deepEqual(req, { Env: ['A=1'], Labels: { x: 'y' } });
});

test('the hostname defaults to the short id, or the host name with --network host', () => {
  const id = '0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef';
  assert.equal(applyConfigDefaults({}, id, {}, HOST).Hostname, '0123456789ab');
  assert.equal(applyConfigDefaults({}, id, { NetworkMode: 'host' }, HOST).Hostname, 'buildhost');
  assert.equal(applyConfigDefaults({ Hostname: 'web' }, id, {}, HOST).Hostname, 'web');
});

test('HostConfig gets Docker defaults: swap twice memory, 64 MiB shm, private ipc, host cgroupns on v1', () => {
  const hc = applyHostConfigDefaults({ Memory: 64 << 20, MemorySwappiness: -1 }, HOST);
  assert.equal(hc.MemorySwap, 128 << 20);
  assert.equal(hc.MemorySwappiness, null);
  assert.equal(hc.ShmSize, 67108864);
  assert.equal(hc.IpcMode, 'private');
  assert.equal(hc.CgroupnsMode, 'host');
  assert.equal(hc.NetworkMode, 'default');
  assert.equal(hc.OomKillDisable, false);
  assert.ok(hc.MaskedPaths?.includes('/proc/kcore'));
  assert.deepEqual(hc.ReadonlyPaths, ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger']);
  assert.equal(applyHostConfigDefaults({}, { ...HOST, cgroupUnified: true }).CgroupnsMode, 'private');
  assert.equal(applyHostConfigDefaults({ Privileged: true }, { ...HOST, cgroupUnified: true }).CgroupnsMode, 'private');
  const privileged = applyHostConfigDefaults({ Privileged: true }, HOST);
  assert.equal(privileged.MaskedPaths, undefined);
  assert.equal(privileged.CgroupnsMode, 'host');
});
