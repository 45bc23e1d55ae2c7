// cgroup detection and path rules, against fake mountinfo / proc cgroup text
// (no cgroupfs is touched: managers are only constructed, never created).

import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { isBerthError } from '../../src/util/errors.js';
import { openCgroupManager, cgroupManagerFor } from '../../src/runtime/cgroups/index.js';
import { detectLayout, parseCgroupMounts, parseSelfCgroup } from '../../src/runtime/cgroups/detect.js';
import { cleanPath, innerPath } from '../../src/runtime/cgroups/paths.js';
import { blkioWeightToIoWeight, cpuSharesToWeight, memorySwapToV2, pidsMaxString } from '../../src/runtime/cgroups/convert.js';

const R = '/sys/fs/cgroup';

/** This machine's layout: every v1 controller on its own mount, name=systemd, a controller-less cgroup2. */
const HYBRID = `24 30 0:22 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw
31 23 0:28 / ${R} rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / ${R}/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / ${R}/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
34 31 0:31 / ${R}/cpuset rw,relatime - cgroup cgroup rw,cpuset
35 31 0:32 / ${R}/memory rw,relatime - cgroup cgroup rw,memory
36 31 0:33 / ${R}/devices rw,relatime - cgroup cgroup rw,devices
37 31 0:34 / ${R}/freezer rw,relatime - cgroup cgroup rw,freezer
38 31 0:35 / ${R}/blkio rw,relatime - cgroup cgroup rw,blkio
39 31 0:36 / ${R}/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / ${R}/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd
41 31 0:38 / ${R}/unified rw,relatime - cgroup2 cgroup2 rw
`;

const HYBRID_SELF = `9:name=systemd:/
8:pids:/
7:blkio:/
6:freezer:/
5:devices:/
4:memory:/process_api/b6e6
3:cpuset:/
2:cpuacct:/
1:cpu:/
0::/
`;

/** A classic Debian/RHEL-7 style legacy host: cpu,cpuacct and net_cls,net_prio co-mounted, hugetlb present. */
const LEGACY = `31 23 0:28 / ${R} ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755
33 31 0:30 / ${R}/systemd rw,nosuid,nodev,noexec,relatime shared:11 - cgroup cgroup rw,xattr,release_agent=/lib/systemd/systemd-cgroups-agent,name=systemd
36 31 0:33 / ${R}/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:16 - cgroup cgroup rw,cpu,cpuacct
37 31 0:34 / ${R}/net_cls,net_prio rw,nosuid,nodev,noexec,relatime shared:17 - cgroup cgroup rw,net_cls,net_prio
38 31 0:35 / ${R}/memory rw,nosuid,nodev,noexec,relatime shared:18 - cgroup cgroup rw,memory
39 31 0:36 / ${R}/devices rw,nosuid,nodev,noexec,relatime shared:19 - cgroup cgroup rw,devices
40 31 0:37 / ${R}/hugetlb rw,nosuid,nodev,noexec,relatime shared:20 - cgroup cgroup rw,hugetlb
41 31 0:38 / ${R}/pids rw,nosuid,nodev,noexec,relatime shared:21 - cgroup cgroup rw,pids
42 31 0:39 / ${R}/cpuset rw,nosuid,nodev,noexec,relatime shared:22 - cgroup cgroup rw,cpuset
43 31 0:40 / ${R}/freezer rw,nosuid,nodev,noexec,relatime shared:23 - cgroup cgroup rw,freezer
44 31 0:41 / ${R}/blkio rw,nosuid,nodev,noexec,relatime shared:24 - cgroup cgroup rw,blkio
`;

const UNIFIED = `30 23 0:26 / ${R} rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
`;

const expectCode = (code: string, re: RegExp) => (err: unknown): boolean => {
  assert.ok(isBerthError(err), `expected a BerthError, got ${String(err)}`);
  assert.equal(err.code, code);
  assert.match(err.message, re);
  return true;
};

test('mountinfo: cgroup mounts, controllers and name= hierarchies; other mounts and options ignored', () => {
  const mounts = parseCgroupMounts(LEGACY);
  assert.equal(mounts.length, 10);
  const cpu = mounts.find((m) => m.mountpoint === `${R}/cpu,cpuacct`);
  assert.deepEqual(cpu?.controllers, ['cpu', 'cpuacct']);
  assert.deepEqual(mounts.find((m) => m.mountpoint === `${R}/systemd`)?.controllers, ['name=systemd']);
  // Escaped spaces in mount points are undone.
  const escaped = parseCgroupMounts('50 31 0:50 / /mnt/my\\040cg rw - cgroup cgroup rw,pids\n');
  assert.equal(escaped[0]?.mountpoint, '/mnt/my cg');
});

test('layout: this machine is hybrid, cpu and cpuacct separate, no hugetlb/net_cls', () => {
  const l = detectLayout(HYBRID, R);
  assert.equal(l.mode, 'hybrid');
  assert.equal(l.unified?.mountpoint, `${R}/unified`);
  assert.equal(l.v1.get('cpu')?.mountpoint, `${R}/cpu`);
  assert.equal(l.v1.get('cpuacct')?.mountpoint, `${R}/cpuacct`);
  assert.equal(l.v1.has('hugetlb'), false);
  assert.equal(l.v1.has('net_cls'), false);
  assert.equal(l.v1.get('name=systemd')?.mountpoint, `${R}/systemd`);
});

test('layout: legacy with co-mounted controllers, unified, and nothing mounted', () => {
  const legacy = detectLayout(LEGACY, R);
  assert.equal(legacy.mode, 'legacy');
  assert.equal(legacy.v1.get('cpu'), legacy.v1.get('cpuacct'));
  assert.equal(detectLayout(UNIFIED, R).mode, 'unified');
  // A cgroup2 mounted somewhere else does not make this root unified.
  assert.throws(() => detectLayout('30 23 0:26 / /other rw - cgroup2 cgroup2 rw\n', R), expectCode('Unavailable', /no cgroup filesystem/));
});

test('/proc/self/cgroup parsing: per-controller paths and the cgroup2 line', () => {
  const self = parseSelfCgroup('4:memory:/a/b\n2:cpu,cpuacct:/c\n1:name=systemd:/s\n0::/u\n');
  assert.equal(self.get('memory'), '/a/b');
  assert.equal(self.get('cpu'), '/c');
  assert.equal(self.get('cpuacct'), '/c');
  assert.equal(self.get('name=systemd'), '/s');
  assert.equal(self.get(''), '/u');
});

test('path cleaning: runc CleanPath semantics (relative paths cannot climb out)', () => {
  assert.equal(cleanPath('/a/../b/'), '/b');
  assert.equal(cleanPath('../../x/y'), 'x/y');
  assert.equal(cleanPath('a/./b'), 'a/b');
  assert.equal(innerPath('ctr', undefined), 'ctr');
  assert.equal(innerPath('ctr', ''), 'ctr');
  assert.equal(innerPath('ctr', '/berth/ctr'), '/berth/ctr');
  assert.throws(() => innerPath('ctr', '/'), expectCode('InvalidArgument', /root/));
  assert.throws(() => innerPath('ctr', '/..'), expectCode('InvalidArgument', /root/));
  assert.throws(() => innerPath('ctr', '.'), expectCode('InvalidArgument', /cgroupsPath/));
});

test('v1 absolute cgroupsPath: below each mount, whatever our own cgroup is', () => {
  const m = openCgroupManager({ id: 'c1', cgroupsPath: '/berth/c1', mountinfo: HYBRID, selfCgroup: HYBRID_SELF });
  assert.equal(m.version, 1);
  assert.deepEqual(m.paths(), {
    cpuset: `${R}/cpuset/berth/c1`,
    devices: `${R}/devices/berth/c1`,
    memory: `${R}/memory/berth/c1`,
    cpu: `${R}/cpu/berth/c1`,
    cpuacct: `${R}/cpuacct/berth/c1`,
    pids: `${R}/pids/berth/c1`,
    blkio: `${R}/blkio/berth/c1`,
    freezer: `${R}/freezer/berth/c1`,
    'name=systemd': `${R}/systemd/berth/c1`,
    '': `${R}/unified/berth/c1`,
  });
});

test('v1 relative cgroupsPath: below our own cgroup, per controller', () => {
  const m = openCgroupManager({ id: 'c1', cgroupsPath: 'pod/c1', mountinfo: HYBRID, selfCgroup: HYBRID_SELF });
  const p = m.paths();
  assert.equal(p['memory'], `${R}/memory/process_api/b6e6/pod/c1`);
  assert.equal(p['cpu'], `${R}/cpu/pod/c1`);
  assert.equal(p[''], `${R}/unified/pod/c1`);
});

test('missing cgroupsPath: runc default is the container id, relative to our own cgroup', () => {
  const m = cgroupManagerFor({ id: 'abc', mountinfo: HYBRID, selfCgroup: HYBRID_SELF });
  assert.equal(m.paths()['memory'], `${R}/memory/process_api/b6e6/abc`);
  assert.equal(m.paths()['pids'], `${R}/pids/abc`);
  const v2 = openCgroupManager({ id: 'abc', mountinfo: UNIFIED, selfCgroup: '0::/user.slice/user-0.slice/session-3.scope\n' });
  assert.deepEqual(v2.paths(), { '': `${R}/user.slice/user-0.slice/abc` });
});

test('v2 paths: absolute from the root; relative from the parent of our own cgroup (it has processes)', () => {
  const self = '0::/system.slice/berthd.service\n';
  const abs = openCgroupManager({ id: 'c', cgroupsPath: '/berth/c', mountinfo: UNIFIED, selfCgroup: self });
  assert.equal(abs.version, 2);
  assert.deepEqual(abs.paths(), { '': `${R}/berth/c` });
  assert.deepEqual(abs.procsFiles(), [`${R}/berth/c/cgroup.procs`]);
  const rel = openCgroupManager({ id: 'c', cgroupsPath: '../../escape/c', mountinfo: UNIFIED, selfCgroup: self });
  assert.deepEqual(rel.paths(), { '': `${R}/system.slice/escape/c` });
});

test('co-mounted controllers share one directory and join once', () => {
  const m = openCgroupManager({ id: 'c', cgroupsPath: '/c', mountinfo: LEGACY });
  assert.equal(m.paths()['cpu'], `${R}/cpu,cpuacct/c`);
  assert.equal(m.paths()['cpuacct'], `${R}/cpu,cpuacct/c`);
  assert.equal(m.paths()['net_prio'], `${R}/net_cls,net_prio/c`);
  const procs = m.procsFiles().filter((p) => p.includes('cpu,cpuacct'));
  assert.deepEqual(procs, [`${R}/cpu,cpuacct/c/cgroup.procs`]);
});

test('nested mount root (no cgroupns): own cgroup is taken relative to the mount root', () => {
  const mi = `32 31 0:29 /docker/abc ${R}/pids rw - cgroup cgroup rw,pids\n36 31 0:33 /docker/abc ${R}/devices rw - cgroup cgroup rw,devices\n`;
  const m = openCgroupManager({ id: 'c', cgroupsPath: 'inner', mountinfo: mi, selfCgroup: '8:pids:/docker/abc/sub\n5:devices:/docker/abc\n' });
  assert.equal(m.paths()['pids'], `${R}/pids/sub/inner`);
  assert.equal(m.paths()['devices'], `${R}/devices/inner`);
  const outside = () => openCgroupManager({ id: 'c', cgroupsPath: 'x', mountinfo: mi, selfCgroup: '8:pids:/elsewhere\n5:devices:/docker/abc\n' });
  assert.throws(outside, expectCode('Internal', /outside the mounted part/));
});

test('systemd driver is refused; a v1 host without the devices controller is refused', () => {
  assert.throws(
    () => openCgroupManager({ id: 'c', systemd: true, mountinfo: HYBRID }),
    expectCode('InvalidArgument', /^cgroup: systemd cgroup driver is not supported; use cgroupfs$/),
  );
  const noDevices = HYBRID.split('\n').filter((l) => !l.endsWith('rw,devices')).join('\n');
  assert.throws(() => openCgroupManager({ id: 'c', cgroupsPath: '/c', mountinfo: noDevices }), expectCode('Unavailable', /devices controller/));
});

test('saved paths reopen the same cgroup and must stay under a cgroup mount', () => {
  const m = openCgroupManager({ id: 'c1', cgroupsPath: '/berth/c1', mountinfo: HYBRID });
  const again = openCgroupManager({ id: 'ignored', paths: m.paths(), mountinfo: HYBRID });
  assert.deepEqual(again.procsFiles(), m.procsFiles());
  assert.throws(
    () => openCgroupManager({ id: 'c', paths: { devices: '/etc/passwd' }, mountinfo: HYBRID }),
    expectCode('InvalidArgument', /not below a cgroup mount/),
  );
  assert.throws(
    () => openCgroupManager({ id: 'c', paths: { devices: `${R}/devices/../../../etc` }, mountinfo: HYBRID }),
    expectCode('InvalidArgument', /not below a cgroup mount/),
  );
  assert.throws(() => openCgroupManager({ id: 'c', paths: m.paths(), mountinfo: UNIFIED }), expectCode('InvalidArgument', /cgroup v1 host/));
});

test('runc conversions: cpu shares → weight, blkio → io weight, memory+swap → swap, pids', () => {
  assert.equal(cpuSharesToWeight(0), 0);
  assert.equal(cpuSharesToWeight(2), 1);
  assert.equal(cpuSharesToWeight(1024), 100);
  assert.equal(cpuSharesToWeight(512), 59);
  assert.equal(cpuSharesToWeight(262144), 10000);
  assert.equal(blkioWeightToIoWeight(10), 1);
  assert.equal(blkioWeightToIoWeight(500), 4950);
  assert.equal(blkioWeightToIoWeight(1000), 10000);
  assert.equal(memorySwapToV2(0, -1), -1);
  assert.equal(memorySwapToV2(-1, 100), -1);
  assert.equal(memorySwapToV2(300, 100), 200);
  assert.equal(memorySwapToV2(100, 100), 0);
  assert.throws(() => memorySwapToV2(50, 100), expectCode('InvalidArgument', /should be >= memory limit/));
  assert.throws(() => memorySwapToV2(50, 0), expectCode('InvalidArgument', /without memory limit/));
  // runc (and systemd) cannot express pids.max=0; negative means unlimited.
  assert.equal(pidsMaxString(100), '100');
  assert.equal(pidsMaxString(0), '1');
  assert.equal(pidsMaxString(-1), 'max');
  assert.equal(pidsMaxString(-7), 'max');
});
