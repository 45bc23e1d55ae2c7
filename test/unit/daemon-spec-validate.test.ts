// validateCreate: Docker's checks and messages for bad create requests. The expected messages are
// moby's (daemon/daemon_unix.go, daemon/container.go, api/types/container/hostconfig.go,
// daemon/volume/mounts/linux_parser.go) and the docker CLI's opts/opts.go ValidateSysctl.
import * as assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';

import { validateCreate } from '../../src/daemon/spec/index.js';
import type { SpecHost } from '../../src/daemon/spec/index.js';
import type { ContainerCreateRequest, HostConfig } from '../../src/oci/engine-api.js';
import { isBerthError, type ErrorCode } from '../../src/util/errors.js';

const HOST: SpecHost = {
  arch: 'x86_64', kernelRelease: '6.8.0', lastCap: 40, cgroupUnified: false, hostname: 'h', cpuCount: 2,
  cpusetCpus: '0-1', cpusetMems: '0', recursiveReadOnly: true, defaultNetSysctls: {}, thermalThrottlePaths: [],
};

const dir = mkdtempSync(join(tmpdir(), 'berth-spec-validate-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function create(hc: HostConfig, config: ContainerCreateRequest = {}): string[] {
  return validateCreate({ Image: 'busybox', Cmd: ['true'], ...config, HostConfig: hc }, HOST);
}

function rejects(hc: HostConfig, message: string, config: ContainerCreateRequest = {}, code: ErrorCode = 'InvalidArgument'): void {
  assert.throws(() => create(hc, config), (err) => {
    assert.ok(isBerthError(err, code), `expected ${code}, got ${String(err)}`);
    assert.equal(err.message, message);
    return true;
  });
}

test('a plain request is valid and has no warnings', () => {
  assert.deepEqual(create({}), []);
  assert.deepEqual(create({ NetworkMode: 'none', Privileged: true, CapAdd: ['ALL'] }), []);
});

test('restart policies: names, retry count only with on-failure, AutoRemove conflict', () => {
  for (const Name of ['', 'no', 'always', 'unless-stopped', 'on-failure']) create({ RestartPolicy: { Name } });
  create({ RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 5 } });
  rejects({ RestartPolicy: { Name: 'sometimes' } },
    "invalid restart policy: unknown policy 'sometimes'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'");
  rejects({ RestartPolicy: { Name: 'always', MaximumRetryCount: 3 } },
    "invalid restart policy: maximum retry count can only be used with 'on-failure'");
  rejects({ RestartPolicy: { Name: 'no', MaximumRetryCount: -1 } },
    "invalid restart policy: maximum retry count can only be used with 'on-failure' and cannot be negative");
  rejects({ RestartPolicy: { Name: 'on-failure', MaximumRetryCount: -1 } }, 'invalid restart policy: maximum retry count cannot be negative');
  rejects({ AutoRemove: true, RestartPolicy: { Name: 'always' } }, "can't create 'AutoRemove' container with restart policy");
  create({ AutoRemove: true, RestartPolicy: { Name: 'no' } });
});

test('memory limits', () => {
  rejects({ Memory: 4 * 1024 * 1024 }, 'Minimum memory limit allowed is 6MB');
  rejects({ Memory: 64 << 20, MemorySwap: 32 << 20 }, 'Minimum memoryswap limit should be larger than memory limit, see usage');
  rejects({ MemorySwap: 64 << 20 }, 'You should always set the Memory limit when using Memoryswap limit, see usage');
  rejects({ MemorySwappiness: 101 }, 'Invalid value: 101, valid memory swappiness range is 0-100');
  rejects({ MemoryReservation: 1 << 20 }, 'Minimum memory reservation allowed is 6MB');
  rejects({ Memory: 8 << 20, MemoryReservation: 16 << 20 }, 'Minimum memory limit can not be less than memory reservation limit, see usage');
  create({ Memory: 64 << 20, MemorySwap: -1, MemorySwappiness: -1 });
});

test('memory warnings: OOM killer off without a limit, kernel memory', () => {
  assert.deepEqual(create({ OomKillDisable: true }), [
    'OOM killer is disabled for the container, but no memory limit is set, this can result in the system running out of resources.',
  ]);
  assert.equal(create({ KernelMemory: 64 << 20 }).length, 1);
});

test('CPU limits', () => {
  rejects({ NanoCpus: 1e9, CpuPeriod: 50000 }, 'Conflicting options: Nano CPUs and CPU Period cannot both be set');
  rejects({ NanoCpus: 1e9, CpuQuota: 50000 }, 'Conflicting options: Nano CPUs and CPU Quota cannot both be set');
  rejects({ NanoCpus: 3e9 }, 'range of CPUs is from 0.01 to 2.00, as there are only 2 CPUs available');
  rejects({ CpuPeriod: 999 }, 'CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)');
  rejects({ CpuQuota: 999 }, 'CPU cfs quota can not be less than 1ms (i.e. 1000)');
  rejects({ CpuShares: -1 }, 'invalid CPU shares (-1): value must be a positive integer');
  create({ NanoCpus: 1.5e9 });
});

test('cpuset syntax and availability', () => {
  create({ CpusetCpus: '0-1', CpusetMems: '0' });
  create({ CpusetCpus: '1,0' });
  rejects({ CpusetCpus: '1-0' }, 'Invalid value 1-0 for cpuset cpus: invalid format: 1-0');
  rejects({ CpusetCpus: 'a' }, 'Invalid value a for cpuset cpus: invalid format: a');
  rejects({ CpusetCpus: '0-9223372036854775807' }, 'Invalid value 0-9223372036854775807 for cpuset cpus: value of out range, maximum is 8192');
  rejects({ CpusetCpus: '3' }, 'Requested CPUs are not available - requested 3, available: 0-1');
  rejects({ CpusetMems: '1' }, 'Requested memory nodes are not available - requested 1, available: 0');
});

test('shm size, oom score, blkio weight', () => {
  rejects({ ShmSize: -1 }, 'SHM size can not be less than 0');
  rejects({ OomScoreAdj: 1001 }, 'Invalid value 1001, range for oom score adj is [-1000, 1000]');
  rejects({ OomScoreAdj: -1001 }, 'Invalid value -1001, range for oom score adj is [-1000, 1000]');
  create({ OomScoreAdj: -1000 });
  rejects({ BlkioWeight: 5 }, 'Range of blkio weight is from 10 to 1000');
  create({ PidsLimit: -1 });
  create({ PidsLimit: 0 });
});

test('sysctls: only namespaced ones', () => {
  create({ Sysctls: { 'net.ipv4.ip_forward': '1', 'kernel.shmmax': '1000', 'fs.mqueue.msg_max': '20', 'kernel.sem': '1 2 3 4' } });
  rejects({ Sysctls: { 'kernel.pid_max': '100' } }, "sysctl 'kernel.pid_max=100' is not allowed");
  rejects({ Sysctls: { 'vm.swappiness': '1' } }, "sysctl 'vm.swappiness=1' is not allowed");
  rejects({ Sysctls: { 'net.ipv4.ip_forward': '1' }, NetworkMode: 'host' },
    "sysctl 'net.ipv4.ip_forward=1' is not allowed in host network namespace");
  rejects({ Sysctls: { 'kernel.shmmax': '1' }, IpcMode: 'host' }, "sysctl 'kernel.shmmax=1' is not allowed in host IPC namespace");
  rejects({ Sysctls: { 'net.../../x': '1' } }, "sysctl 'net.../../x=1' is not allowed");
});

test('ulimits', () => {
  create({ Ulimits: [{ Name: 'nofile', Soft: 1024, Hard: 2048 }, { Name: 'core', Soft: -1, Hard: -1 }] });
  rejects({ Ulimits: [{ Name: 'as', Soft: 1, Hard: 1 }] }, 'invalid ulimit type: as');
  rejects({ Ulimits: [{ Name: 'nofile', Soft: 4096, Hard: 1024 }] }, 'ulimit soft limit must be less than or equal to hard limit: 4096 > 1024');
  rejects({ Ulimits: [{ Name: 'nofile', Soft: -1, Hard: 1024 }] },
    'ulimit soft limit must be less than or equal to hard limit: soft: -1 (unlimited), hard: 1024');
});

test('tmpfs: destinations and options', () => {
  create({ Tmpfs: { '/run': 'size=64m,mode=1777', '/tmp': '' } });
  rejects({ Tmpfs: { '/run': 'size=64m,bogus' } }, 'invalid tmpfs option "bogus"');
  rejects({ Tmpfs: { '/run': 'foo=1' } }, 'invalid tmpfs option "foo"');
  rejects({ Tmpfs: { run: '' } }, "invalid mount path: 'run' mount path must be absolute");
  rejects({ Tmpfs: { '/': '' } }, "invalid specification: destination can't be '/'");
});

test('binds: host paths, named and anonymous volumes, Docker modes', () => {
  create({ Binds: [`${dir}:/data`, `${dir}:/ro:ro`, `${dir}:/p:rshared`, `${dir}:/z:Z,ro`, `${dir}:/c:cached`] });
  rejects({ Binds: [':/data'] }, "invalid volume specification: ':/data'");
  rejects({ Binds: [`${dir}:ro`] }, `invalid volume specification: '${dir}:ro'`);
  rejects({ Binds: [`${dir}:/a:b:c`] }, `invalid volume specification: '${dir}:/a:b:c'`);
  rejects({ Binds: [`${dir}:/data:rx`] }, 'invalid mode: rx');
  rejects({ Binds: [`${dir}:/data:ro,rw`] }, 'invalid mode: ro,rw');
  rejects({ Binds: [`${dir}:data`] },
    `invalid volume specification: '${dir}:data': invalid mount config for type "bind": invalid mount path: 'data' mount path must be absolute`);
  rejects({ Binds: [`${dir}:/`] },
    `invalid volume specification: '${dir}:/': invalid mount config for type "bind": invalid specification: destination can't be '/'`);
  rejects({ Binds: [`${dir}:/data:nocopy`] },
    `invalid volume specification: '${dir}:/data:nocopy': invalid mount config for type "bind": field VolumeOptions must not be specified`);
  create({ Binds: ['myvol:/data', 'other:/ro:ro,nocopy', '/anonymous'] });
  rejects({ Binds: ['myvol:/data:rshared'] },
    "invalid volume specification: 'myvol:/data:rshared': invalid mount config for type \"volume\": field BindOptions must not be specified");
  rejects({ Binds: ['relative'] },
    `invalid volume specification: 'relative': invalid mount config for type "volume": invalid mount path: 'relative' mount path must be absolute`);
  rejects({ Binds: ['myvol:/data', '/data'] }, 'Duplicate mount point: /data');
  rejects({ Binds: [`${dir}:/data`, `${dir}/x:/data/`] }, 'Duplicate mount point: /data');
});

test('Mounts entries: bind sources must exist, tmpfs takes no source, volumes named or not', () => {
  create({ Mounts: [{ Type: 'bind', Source: dir, Target: '/data', ReadOnly: true }, { Type: 'tmpfs', Target: '/run' }] });
  rejects({ Mounts: [{ Type: 'bind', Source: join(dir, 'missing'), Target: '/data' }] },
    `invalid mount config for type "bind": bind source path does not exist: ${join(dir, 'missing')}`);
  create({ Mounts: [{ Type: 'bind', Source: join(dir, 'missing'), Target: '/data', BindOptions: { CreateMountpoint: true } }] });
  rejects({ Mounts: [{ Type: 'tmpfs', Source: 'x', Target: '/run' }] }, 'invalid mount config for type "tmpfs": field Source must not be specified');
  rejects({ Mounts: [{ Type: 'bind', Target: '/data' }] }, 'invalid mount config for type "bind": field Source must not be empty');
  rejects({ Mounts: [{ Type: 'bind', Source: dir, Target: '/d', BindOptions: { Propagation: 'up' } }] },
    'invalid mount config for type "bind": invalid propagation mode: up');
  rejects({ Mounts: [{ Type: 'tmpfs', Target: '/run', BindOptions: {} }] }, 'invalid mount config for type "tmpfs": field BindOptions must not be specified');
  create({ Mounts: [{ Type: 'volume', Source: 'v', Target: '/v', VolumeOptions: { NoCopy: true } }, { Type: 'volume', Target: '/anonymous' }] });
  rejects({ Mounts: [{ Type: 'volume', Source: 'v', Target: '/v', BindOptions: {} }] }, 'invalid mount config for type "volume": field BindOptions must not be specified');
  rejects({ Mounts: [{ Type: 'npipe', Source: 'x', Target: '/n' }] }, 'invalid mount config for type "npipe": mount type unknown');
});

test('security options', () => {
  assert.deepEqual(create({ SecurityOpt: ['no-new-privileges', 'no-new-privileges=false', 'seccomp=unconfined', 'seccomp:unconfined'] }), []);
  create({ SecurityOpt: ['seccomp={"defaultAction":"SCMP_ACT_ALLOW"}'] });
  assert.equal(create({ SecurityOpt: ['apparmor=unconfined', 'label=disable'] }).length, 2);
  rejects({ SecurityOpt: ['foo'] }, 'invalid --security-opt 1: "foo"');
  rejects({ SecurityOpt: ['foo=bar'] }, 'invalid --security-opt 2: "foo=bar"');
  rejects({ SecurityOpt: ['no-new-privileges=maybe'] }, 'invalid --security-opt 2: "no-new-privileges=maybe"');
  assert.throws(() => create({ SecurityOpt: ['seccomp={not json'] }),
    (e) => isBerthError(e, 'InvalidArgument') && e.message.startsWith('Decoding seccomp profile failed: '));
});

test('capabilities: with or without CAP_, any case, ALL', () => {
  create({ CapAdd: ['NET_ADMIN', 'cap_sys_time', 'ALL'], CapDrop: ['all', 'CAP_CHOWN'] });
  create({ Privileged: true, CapAdd: ['SYS_ADMIN'] });
  rejects({ CapAdd: ['FLY'] }, 'invalid CapAdd: unknown capability: "CAP_FLY"');
  rejects({ CapDrop: ['CAP_NOPE'] }, 'invalid CapDrop: unknown capability: "CAP_NOPE"');
  assert.throws(() => validateCreate({ Cmd: ['x'], HostConfig: { CapAdd: ['CHECKPOINT_RESTORE'] } }, { ...HOST, lastCap: 37 }),
    /capability not supported by your kernel or not available in the current environment: "CAP_CHECKPOINT_RESTORE"/);
});

test('network modes: names pass (the network service looks them up), container: is checked', () => {
  for (const NetworkMode of ['', 'default', 'bridge', 'none', 'host', 'mynet']) create({ NetworkMode });
  create({ NetworkMode: 'container:abc' });
  rejects({ NetworkMode: 'container:abc' }, 'conflicting options: hostname and the network mode', { Hostname: 'x' });
  rejects({ NetworkMode: 'container:' }, 'invalid network mode: invalid container format container:<name|id>');
  assert.deepEqual(create({ NetworkMode: 'host', PortBindings: { '80/tcp': [{ HostPort: '8080' }] } }),
    ['Published ports are discarded when using host network mode']);
  rejects({ ExtraHosts: ['nohost'] }, 'bad format for add-host: "nohost"');
  rejects({ ExtraHosts: ['h:999.1.1.1'] }, 'invalid IP address in add-host: "999.1.1.1"');
  create({ ExtraHosts: ['h:10.0.0.1', 'g:host-gateway', 'six:::1'] });
});

test('namespace modes', () => {
  create({ PidMode: 'host', IpcMode: 'host', UTSMode: 'host' });
  create({ PidMode: 'container:abc', IpcMode: 'shareable' });
  rejects({ IpcMode: 'weird' }, 'invalid IPC mode: weird');
  rejects({ PidMode: 'private' }, 'invalid PID mode: private');
  rejects({ UTSMode: 'private' }, 'invalid UTS mode: private');
  rejects({ CgroupnsMode: 'shared' as 'host' }, 'invalid cgroup namespace mode: shared');
  rejects({ UTSMode: 'host' }, 'conflicting options: hostname and the UTS mode', { Hostname: 'x' });
});

test('devices and device cgroup rules', () => {
  create({ Devices: [{ PathOnHost: '/dev/null', PathInContainer: '/dev/null', CgroupPermissions: 'rwm' }], DeviceCgroupRules: ['c 1:3 rwm', 'a *:* m'] });
  rejects({ DeviceCgroupRules: ['c 1:3'] }, "invalid device cgroup rule format: 'c 1:3'");
  rejects({ Devices: [{ PathOnHost: '/dev/null', PathInContainer: '/dev/null', CgroupPermissions: 'rwx' }] }, 'invalid device mode: rwx');
});

test('Config checks: workdir, env, stop signal, healthcheck durations, hostname length', () => {
  rejects({}, "the working directory 'app' is invalid, it needs to be an absolute path", { WorkingDir: 'app' });
  rejects({}, 'invalid environment variable: =x', { Env: ['=x'] });
  rejects({}, 'Invalid signal: SIGNOPE', { StopSignal: 'SIGNOPE' });
  create({}, { StopSignal: 'SIGUSR1' });
  create({}, { StopSignal: '9' });
  rejects({}, 'Interval in Healthcheck cannot be less than 1ms', { Healthcheck: { Interval: 999_999 } });
  rejects({}, 'Timeout in Healthcheck cannot be less than 1ms', { Healthcheck: { Timeout: 1 } });
  rejects({}, 'StartPeriod in Healthcheck cannot be less than 1ms', { Healthcheck: { StartPeriod: 10 } });
  rejects({}, 'StartInterval in Healthcheck cannot be less than 1ms', { Healthcheck: { StartInterval: 10 } });
  rejects({}, 'Retries in Healthcheck cannot be negative', { Healthcheck: { Retries: -1 } });
  create({}, { Healthcheck: { Interval: 0, Timeout: 1_000_000 } });
  const long = 'h'.repeat(65);
  rejects({}, `hostname "${long}" is too long (maximum 64 bytes)`, { Hostname: long });
});

test('annotations, isolation', () => {
  rejects({ Annotations: { '': 'x' } }, 'invalid Annotations: the empty string is not permitted as an annotation key');
  rejects({ Isolation: 'hyperv' }, "invalid isolation (hyperv): linux only supports 'default'");
});
