// buildSpec: Docker's spec for a container (moby daemon/oci_linux.go createSpec, oci/defaults.go at
// v28.5.2, oci/caps/defaults.go), and a check that the runtime's planner accepts what it builds.
import * as assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';

import { applyHostConfigDefaults, buildSpec, DEFAULT_CAPABILITIES } from '../../src/daemon/spec/index.js';
import type { SpecHost, SpecInput } from '../../src/daemon/spec/index.js';
import type { ContainerConfig, HostConfig } from '../../src/oci/engine-api.js';
import type { Mount, Spec } from '../../src/oci/runtime-spec.js';
import { CAPABILITIES } from '../../src/runtime/linux-constants.js';
import { planCreate } from '../../src/runtime/plan.js';
import { encodeProgram } from '../../src/runtime/program.js';
import { dockerDefaultProfile } from '../../src/runtime/seccomp/index.js';
import type { HostFacts } from '../../src/sys/host.js';

const ID = 'f00dfeed0123456789abcdef0123456789abcdef0123456789abcdef01234567';
const HOST: SpecHost = {
  arch: 'x86_64', kernelRelease: '6.8.0-45-generic', lastCap: 40, cgroupUnified: false, hostname: 'buildhost', cpuCount: 2,
  cpusetCpus: '0-1', cpusetMems: '0', recursiveReadOnly: true,
  defaultNetSysctls: { 'net.ipv4.ping_group_range': '0 2147483647', 'net.ipv4.ip_unprivileged_port_start': '0' },
  thermalThrottlePaths: [],
};
const USER = { uid: 0, gid: 0, additionalGids: [0, 10], home: '/root' };

const dir = mkdtempSync(join(tmpdir(), 'berth-spec-build-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function build(hc: HostConfig = {}, config: ContainerConfig = {}, extra: Partial<SpecInput> = {}): ReturnType<typeof buildSpec> {
  return buildSpec({
    id: ID,
    config: { Hostname: ID.slice(0, 12), Cmd: ['sh'], ...config },
    hostConfig: applyHostConfigDefaults(hc, extra.host ?? HOST),
    rootfs: '/var/lib/berth/rootfs',
    user: USER,
    host: HOST,
    ...extra,
  });
}

const mount = (spec: Spec, destination: string): Mount | undefined => spec.mounts?.find((m) => m.destination === destination);

// moby oci/defaults.go (v28.5.2) DefaultLinuxSpec.
const MOBY_MASKED = [
  '/proc/asound', '/proc/acpi', '/proc/interrupts', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list',
  '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware', '/sys/devices/virtual/powercap',
];
const MOBY_READONLY = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];
const MOBY_MOUNTS: Mount[] = [
  { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
  { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
  { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
  { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
  { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['ro', 'nosuid', 'noexec', 'nodev'] },
  { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
  { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=67108864'] },
];
const MOBY_DEVICE_RULES = [
  { allow: false, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 5, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 9, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 8, access: 'rwm' },
  { allow: true, type: 'c', major: 5, minor: 0, access: 'rwm' },
  { allow: true, type: 'c', major: 5, minor: 1, access: 'rwm' },
  { allow: false, type: 'c', major: 10, minor: 229, access: 'rwm' },
];

test('a default container gets Docker defaults, not runc\'s', () => {
  const { spec, warnings } = build();
  assert.deepEqual(warnings, []);
  // moby daemon/pkg/oci/caps/defaults.go
  assert.deepEqual(DEFAULT_CAPABILITIES, [
    'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID', 'CAP_SETUID',
    'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
  ]);
  const caps = spec.process?.capabilities;
  assert.deepEqual(caps, { bounding: DEFAULT_CAPABILITIES, effective: DEFAULT_CAPABILITIES, permitted: DEFAULT_CAPABILITIES });
  assert.deepEqual(spec.linux?.seccomp, dockerDefaultProfile({ capabilities: [...DEFAULT_CAPABILITIES], hostArch: 'x86_64', kernelRelease: HOST.kernelRelease }));
  assert.deepEqual(spec.linux?.maskedPaths, MOBY_MASKED);
  assert.deepEqual(spec.linux?.readonlyPaths, MOBY_READONLY);
  assert.deepEqual(spec.mounts, MOBY_MOUNTS);
  assert.deepEqual(spec.linux?.resources?.devices, MOBY_DEVICE_RULES);
  assert.deepEqual(spec.linux?.namespaces, [{ type: 'mount' }, { type: 'network' }, { type: 'uts' }, { type: 'pid' }, { type: 'ipc' }]);
  assert.equal(spec.linux?.cgroupsPath, `/berth/${ID}`);
  assert.equal(spec.hostname, ID.slice(0, 12));
  assert.deepEqual(spec.root, { path: '/var/lib/berth/rootfs', readonly: false });
  assert.deepEqual(spec.linux?.sysctl, HOST.defaultNetSysctls);
  assert.equal(spec.process?.noNewPrivileges, undefined);
  assert.equal(spec.process?.apparmorProfile, undefined);
  assert.deepEqual(spec.process?.rlimits, []);
});

test('the process: args, env, cwd, terminal, user, oom score', () => {
  const { spec } = build({ OomScoreAdj: 500 }, { Entrypoint: ['/entry'], Cmd: ['a', 'b'], Env: ['FOO=1', 'PATH=/opt/bin'], WorkingDir: '/srv/', Tty: true });
  const p = spec.process!;
  assert.deepEqual(p.args, ['/entry', 'a', 'b']);
  assert.deepEqual(p.env, ['PATH=/opt/bin', `HOSTNAME=${ID.slice(0, 12)}`, 'TERM=xterm', 'FOO=1', 'HOME=/root']);
  assert.equal(p.cwd, '/srv');
  assert.equal(p.terminal, true);
  assert.deepEqual(p.user, { uid: 0, gid: 0, additionalGids: [0, 10] });
  assert.equal(p.oomScoreAdj, 500);
  const plain = build({}, { Cmd: ['sh'], Env: ['HOME=/home/x', 'HOSTNAME'] }).spec.process!;
  assert.deepEqual(plain.env, ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'HOME=/home/x']);
  assert.equal(plain.cwd, '/');
  assert.equal(plain.terminal, false);
});

test('--init runs berth-init as /sbin/docker-init in a private pid namespace only', () => {
  const { spec } = build({ Init: true }, { Cmd: ['sleep', '1'] }, { initPath: '/usr/lib/berth/berth-init' });
  assert.deepEqual(spec.process?.args, ['/sbin/docker-init', '--', 'sleep', '1']);
  assert.deepEqual(mount(spec, '/sbin/docker-init'), { destination: '/sbin/docker-init', type: 'bind', source: '/usr/lib/berth/berth-init', options: ['bind', 'ro'] });
  const hostPid = build({ Init: true, PidMode: 'host' }, { Cmd: ['true'] }, { initPath: '/x' }).spec;
  assert.deepEqual(hostPid.process?.args, ['true']);
  assert.equal(mount(hostPid, '/sbin/docker-init'), undefined);
  assert.deepEqual(build({}, { Cmd: ['true'] }, { initPath: '/x', initByDefault: true }).spec.process?.args, ['/sbin/docker-init', '--', 'true']);
  assert.deepEqual(build({ Init: false }, { Cmd: ['true'] }, { initPath: '/x', initByDefault: true }).spec.process?.args, ['true']);
});

test('privileged: every capability and host device, no seccomp, no masks, /sys and cgroups writable', () => {
  const { spec } = build({ Privileged: true, CapAdd: ['SYS_ADMIN'] });
  assert.deepEqual(spec.process?.capabilities?.bounding, [...CAPABILITIES]);
  assert.equal(spec.linux?.seccomp, undefined);
  assert.deepEqual(spec.linux?.maskedPaths, []);
  assert.deepEqual(spec.linux?.readonlyPaths, []);
  assert.deepEqual(mount(spec, '/sys')?.options, ['nosuid', 'noexec', 'nodev']);
  assert.deepEqual(mount(spec, '/sys/fs/cgroup')?.options, ['nosuid', 'noexec', 'nodev']);
  assert.deepEqual(spec.linux?.resources?.devices, [{ allow: true, access: 'rwm' }]);
  const devNull = spec.linux?.devices?.find((d) => d.path === '/dev/null');
  assert.deepEqual(devNull && { type: devNull.type, major: devNull.major, minor: devNull.minor }, { type: 'c', major: 1, minor: 3 });
  assert.ok(!spec.linux?.devices?.some((d) => d.path.startsWith('/dev/pts/') || d.path === '/dev/console'));
  const explicit = build({ Privileged: true, MaskedPaths: ['/proc/kcore'], SecurityOpt: ['seccomp=builtin'] }).spec;
  assert.deepEqual(explicit.linux?.maskedPaths, ['/proc/kcore']);
  assert.ok(explicit.linux?.seccomp);
});

test('CapAdd and CapDrop, and the seccomp profile follows the final capability set', () => {
  const { spec } = build({ CapAdd: ['sys_admin', 'CAP_NET_ADMIN'], CapDrop: ['MKNOD', 'cap_kill'] });
  const bounding = spec.process?.capabilities?.bounding ?? [];
  assert.deepEqual(bounding, [...DEFAULT_CAPABILITIES.filter((c) => c !== 'CAP_MKNOD' && c !== 'CAP_KILL'), 'CAP_SYS_ADMIN', 'CAP_NET_ADMIN']);
  assert.deepEqual(spec.linux?.seccomp, dockerDefaultProfile({ capabilities: bounding, hostArch: 'x86_64', kernelRelease: HOST.kernelRelease }));
  assert.ok(spec.linux?.seccomp?.syscalls?.some((r) => r.names.includes('mount')));
  assert.deepEqual(build({ CapDrop: ['ALL'], CapAdd: ['CHOWN'] }).spec.process?.capabilities?.bounding, ['CAP_CHOWN']);
  assert.deepEqual(build({ CapAdd: ['ALL'], CapDrop: ['SYS_ADMIN'] }).spec.process?.capabilities?.bounding,
    CAPABILITIES.filter((c) => c !== 'CAP_SYS_ADMIN'));
});

test('security options: seccomp unconfined or a profile\'s text, no-new-privileges, ignored LSM options', () => {
  assert.equal(build({ SecurityOpt: ['seccomp=unconfined'] }).spec.linux?.seccomp, undefined);
  const profile = JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['chmod'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }] });
  assert.deepEqual(build({ SecurityOpt: [`seccomp=${profile}`] }).spec.linux?.seccomp,
    { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['chmod'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }] });
  assert.equal(build({ SecurityOpt: ['no-new-privileges'] }).spec.process?.noNewPrivileges, true);
  assert.equal(build({ SecurityOpt: ['no-new-privileges=true', 'no-new-privileges:false'] }).spec.process?.noNewPrivileges, undefined);
  assert.equal(build({}, {}, { noNewPrivilegesByDefault: true }).spec.process?.noNewPrivileges, true);
  const { spec, warnings } = build({ SecurityOpt: ['apparmor=docker-default', 'label=disable'] });
  assert.equal(spec.process?.apparmorProfile, undefined);
  assert.equal(warnings.length, 2);
});

test('binds, Mounts and tmpfs become Docker\'s options, parents before children', () => {
  const { spec } = build({
    Binds: [`${dir}:/data/sub:ro`, `${dir}:/data`, `${dir}:/shared:rshared`],
    Mounts: [{ Type: 'bind', Source: dir, Target: '/flat', BindOptions: { NonRecursive: true } }, { Type: 'tmpfs', Target: '/cache', TmpfsOptions: { SizeBytes: 16 << 20, Mode: 0o700 } }],
    Tmpfs: { '/run': 'size=64m,exec' },
  });
  const user = spec.mounts!.slice(MOBY_MOUNTS.length);
  assert.deepEqual(user, [
    { destination: '/data', source: dir, type: 'bind', options: ['rbind', 'rprivate'] },
    { destination: '/shared', source: dir, type: 'bind', options: ['rbind', 'rshared'] },
    { destination: '/flat', source: dir, type: 'bind', options: ['bind', 'rprivate'] },
    { destination: '/cache', source: 'tmpfs', type: 'tmpfs', options: ['noexec', 'nosuid', 'nodev', 'rprivate', 'mode=700', 'size=16m'] },
    { destination: '/run', source: 'tmpfs', type: 'tmpfs', options: ['nosuid', 'nodev', 'rprivate', 'size=64m', 'exec'] },
    { destination: '/data/sub', source: dir, type: 'bind', options: ['rbind', 'rro', 'rprivate'] },
  ]);
  assert.equal(spec.linux?.rootfsPropagation, 'shared');
  const oldKernel = build({ Binds: [`${dir}:/data:ro`] }, {}, { host: { ...HOST, recursiveReadOnly: false } }).spec;
  assert.deepEqual(mount(oldKernel, '/data')?.options, ['rbind', 'ro', 'rprivate']);
});

test('network files, read-only rootfs, and a user /dev replacing Docker\'s /dev mounts', () => {
  const files = { resolvConf: '/c/resolv.conf', hostname: '/c/hostname', hosts: '/c/hosts' };
  const { spec } = build({ ReadonlyRootfs: true }, {}, { networkFiles: files });
  assert.equal(spec.root?.readonly, true);
  assert.deepEqual(spec.mounts!.slice(MOBY_MOUNTS.length), [
    { destination: '/etc/resolv.conf', source: '/c/resolv.conf', type: 'bind', options: ['rbind', 'rro', 'rprivate'] },
    { destination: '/etc/hostname', source: '/c/hostname', type: 'bind', options: ['rbind', 'rro', 'rprivate'] },
    { destination: '/etc/hosts', source: '/c/hosts', type: 'bind', options: ['rbind', 'rro', 'rprivate'] },
  ]);
  assert.deepEqual(mount(spec, '/proc')?.options, ['nosuid', 'noexec', 'nodev']);
  assert.deepEqual(mount(build({}, {}, { networkFiles: files }).spec, '/etc/hosts')?.options, ['rbind', 'rprivate']);
  const own = build({ Binds: [`${dir}:/etc/hosts:ro`] }, {}, { networkFiles: files }).spec;
  assert.equal(mount(own, '/etc/hosts')?.source, dir);
  const dev = build({ Binds: ['/dev:/dev'] }).spec;
  assert.deepEqual(dev.mounts?.map((m) => m.destination), ['/proc', '/sys', '/sys/fs/cgroup', '/dev']);
});

test('/dev/shm: ShmSize, none, host and a shared shm path', () => {
  assert.deepEqual(mount(build({ ShmSize: 1 << 30 }).spec, '/dev/shm')?.options, ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=1073741824']);
  assert.equal(mount(build({ IpcMode: 'none' }).spec, '/dev/shm'), undefined);
  assert.deepEqual(mount(build({ IpcMode: 'host' }).spec, '/dev/shm'), { destination: '/dev/shm', source: '/dev/shm', type: 'bind', options: ['rbind', 'rprivate'] });
  const joined = build({ IpcMode: 'container:abc' }, {}, { joined: { ipc: '/proc/42/ns/ipc' }, shmPath: '/run/berth/abc/shm' }).spec;
  assert.equal(mount(joined, '/dev/shm')?.source, '/run/berth/abc/shm');
  assert.deepEqual(joined.linux?.namespaces?.find((n) => n.type === 'ipc'), { type: 'ipc', path: '/proc/42/ns/ipc' });
});

test('namespaces for host and container modes, cgroup namespace when private', () => {
  const host = build({ NetworkMode: 'host', PidMode: 'host', IpcMode: 'host', UTSMode: 'host' }).spec;
  assert.deepEqual(host.linux?.namespaces, [{ type: 'mount' }]);
  assert.equal(host.hostname, undefined);
  assert.deepEqual(host.linux?.sysctl, {});
  const joined = build({ NetworkMode: 'container:a', PidMode: 'container:b' }, {}, { joined: { network: '/proc/1/ns/net', pid: '/proc/2/ns/pid' } }).spec;
  assert.deepEqual(joined.linux?.namespaces, [
    { type: 'mount' }, { type: 'network', path: '/proc/1/ns/net' }, { type: 'uts' }, { type: 'pid', path: '/proc/2/ns/pid' }, { type: 'ipc' },
  ]);
  assert.throws(() => build({ PidMode: 'container:b' }), /cannot join the pid namespace of b/);
  assert.ok(build({ CgroupnsMode: 'private' }).spec.linux?.namespaces?.some((n) => n.type === 'cgroup'));
  assert.ok(build({}, {}, { host: { ...HOST, cgroupUnified: true } }).spec.linux?.namespaces?.some((n) => n.type === 'cgroup'));
  for (const NetworkMode of ['none', 'default', 'bridge']) {
    assert.ok(build({ NetworkMode }).spec.linux?.namespaces?.some((n) => n.type === 'network' && n.path === undefined));
  }
});

test('resources: memory, swap, cpus, cpuset, pids, blkio, OOM killer', () => {
  const { spec } = build({
    Memory: 64 << 20, MemoryReservation: 32 << 20, MemorySwappiness: 10, OomKillDisable: true, NanoCpus: 1.5e9,
    CpuShares: 512, CpusetCpus: '0-1', CpusetMems: '0', PidsLimit: 100, BlkioWeight: 300, KernelMemory: 1 << 30,
  });
  assert.deepEqual(spec.linux?.resources?.memory, { limit: 64 << 20, reservation: 32 << 20, swap: 128 << 20, swappiness: 10, disableOOMKiller: true });
  assert.deepEqual(spec.linux?.resources?.cpu, { shares: 512, cpus: '0-1', mems: '0', period: 100000, quota: 150000 });
  assert.deepEqual(spec.linux?.resources?.pids, { limit: 100 });
  assert.deepEqual(spec.linux?.resources?.blockIO, { weight: 300 });
  assert.deepEqual(build({ PidsLimit: 0 }).spec.linux?.resources?.pids, { limit: -1 });
  assert.deepEqual(build({ CpuPeriod: 50000, CpuQuota: 25000 }).spec.linux?.resources?.cpu, { period: 50000, quota: 25000 });
  assert.deepEqual(build({}).spec.linux?.resources?.memory, { disableOOMKiller: false });
});

test('devices and device cgroup rules', () => {
  const { spec } = build({ Devices: [{ PathOnHost: '/dev/null', PathInContainer: '/dev/mynull', CgroupPermissions: 'rw' }], DeviceCgroupRules: ['c *:* m', 'b 8:0 r'] });
  const d = spec.linux?.devices?.[0];
  assert.deepEqual(d && { path: d.path, type: d.type, major: d.major, minor: d.minor }, { path: '/dev/mynull', type: 'c', major: 1, minor: 3 });
  assert.deepEqual(spec.linux?.resources?.devices?.slice(MOBY_DEVICE_RULES.length), [
    { allow: true, type: 'c', major: 1, minor: 3, access: 'rw' },
    { allow: true, type: 'c', access: 'm' },
    { allow: true, type: 'b', major: 8, minor: 0, access: 'r' },
  ]);
  assert.throws(() => build({ Devices: [{ PathOnHost: dir + '/none', PathInContainer: '/dev/x', CgroupPermissions: 'rwm' }] }),
    /error gathering device information while adding custom device/);
});

test('rlimits: the container\'s over the daemon\'s defaults; -1 is unlimited', () => {
  const { spec } = build({ Ulimits: [{ Name: 'nofile', Soft: 1024, Hard: 4096 }, { Name: 'core', Soft: -1, Hard: -1 }] }, {},
    { defaultUlimits: [{ Name: 'nofile', Soft: 65536, Hard: 65536 }, { Name: 'nproc', Soft: 100, Hard: 200 }] });
  assert.deepEqual(spec.process?.rlimits, [
    { type: 'RLIMIT_NOFILE', soft: 1024, hard: 4096 },
    { type: 'RLIMIT_CORE', soft: 18446744073709551615, hard: 18446744073709551615 },
    { type: 'RLIMIT_NPROC', soft: 100, hard: 200 },
  ]);
});

test('sysctls, domain name, cgroup parent, annotations, console size', () => {
  const { spec } = build({ Sysctls: { 'net.ipv4.ip_unprivileged_port_start': '1024', 'kernel.shmmax': '1' }, CgroupParent: 'custom.slice', Annotations: { a: 'b' }, ConsoleSize: [24, 80] } as HostConfig,
    { Domainname: 'example.com', Tty: true });
  assert.deepEqual(spec.linux?.sysctl, {
    'net.ipv4.ping_group_range': '0 2147483647', 'net.ipv4.ip_unprivileged_port_start': '1024', 'kernel.domainname': 'example.com', 'kernel.shmmax': '1',
  });
  assert.equal(spec.linux?.cgroupsPath, `custom.slice/${ID}`);
  assert.deepEqual(spec.annotations, { a: 'b' });
  assert.deepEqual(spec.process?.consoleSize, { height: 24, width: 80 });
  assert.equal(build({}, {}, { cgroupParent: '/docker' }).spec.linux?.cgroupsPath, `/docker/${ID}`);
});

const RUNTIME_HOST: HostFacts = {
  arch: 'x86_64', lastCap: 40, hardLimits: { RLIMIT_NOFILE: 1048576, RLIMIT_CORE: Infinity }, hasSysResource: true,
  apparmor: false, selinux: false, timeNamespace: true, kcore: true,
};

test('the runtime planner accepts the specs berth builds', () => {
  const specs = [
    build().spec,
    build({ Privileged: true }).spec,
    build({ Binds: [`${dir}:/data:ro`], Tmpfs: { '/run': 'size=1m' }, ReadonlyRootfs: true, Init: true, Ulimits: [{ Name: 'nofile', Soft: 10, Hard: 20 }] }, {}, { initPath: '/x/berth-init' }).spec,
    build({ NetworkMode: 'host', PidMode: 'host', IpcMode: 'host', UTSMode: 'host', SecurityOpt: ['seccomp=unconfined', 'no-new-privileges'] }).spec,
  ];
  for (const spec of specs) {
    const ops = planCreate({
      id: 'c1', bundle: '/b', rootfs: spec.root!.path, spec, mode: 'exit', preserveFds: 0, noPivot: false, waitAfterCreate: false,
      cgroup: { joinFiles: [], hierarchies: [] }, host: RUNTIME_HOST, warn: () => undefined, execFifo: '/run/c1/exec.fifo',
    });
    assert.ok(encodeProgram(ops).length > 0);
  }
});
