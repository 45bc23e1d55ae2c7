// V1Manager against a fake cgroupfs: a temp directory laid out like this
// machine's /sys/fs/cgroup (hybrid, one mount per controller) or a legacy
// host with co-mounted controllers, with matching fake mountinfo. Writes are
// traced because files written line by line (devices.allow…) keep only their
// last line in a plain file.

import { strict as assert } from 'node:assert';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import type { LinuxResources } from '../../src/oci/runtime-spec.js';
import { isBerthError } from '../../src/util/errors.js';
import { openCgroupManager, type CgroupManager } from '../../src/runtime/cgroups/index.js';
import { setWriteTrace } from '../../src/runtime/cgroups/files.js';

interface Fake {
  root: string;
  mountinfo: string;
  writes: [string, string][];
  read(rel: string): string;
  put(rel: string, content: string): void;
}

function fakeV1(t: TestContext, mounts: string[], extra = ''): Fake {
  const root = mkdtempSync(join(tmpdir(), 'berth-cgv1-'));
  let mountinfo = `31 23 0:28 / ${root} rw,relatime - tmpfs tmpfs rw,mode=755\n`;
  mounts.forEach((opts, i) => {
    const name = opts.replace(/^name=/, '');
    const dir = opts === 'cgroup2' ? 'unified' : name;
    mkdirSync(join(root, dir));
    const type = opts === 'cgroup2' ? 'cgroup2 cgroup2 rw' : `cgroup cgroup rw,${opts}`;
    mountinfo += `${40 + i} 31 0:${40 + i} / ${root}/${dir} rw,relatime - ${type}\n`;
  });
  mountinfo += extra;
  const writes: [string, string][] = [];
  setWriteTrace((p, v) => writes.push([p.slice(root.length + 1), v]));
  t.after(() => {
    setWriteTrace(undefined);
    rmSync(root, { recursive: true, force: true });
  });
  const fake: Fake = {
    root,
    mountinfo,
    writes,
    read: (rel) => readFileSync(join(root, rel), 'utf8'),
    put: (rel, content) => {
      mkdirSync(join(root, rel, '..'), { recursive: true });
      writeFileSync(join(root, rel), content);
    },
  };
  if (existsSync(join(root, 'cpuset'))) {
    fake.put('cpuset/cpuset.cpus', '0-3\n');
    fake.put('cpuset/cpuset.mems', '0\n');
  }
  if (existsSync(join(root, 'devices'))) fake.put('devices/devices.list', 'a *:* rwm\n');
  return fake;
}

/** This machine: cpu and cpuacct separate, name=systemd, controller-less cgroup2, no hugetlb/net_*. */
const HYBRID = ['cpu', 'cpuacct', 'cpuset', 'memory', 'devices', 'freezer', 'blkio', 'pids', 'name=systemd', 'cgroup2'];
const LEGACY = ['cpu,cpuacct', 'cpuset', 'memory', 'devices', 'freezer', 'blkio', 'pids', 'hugetlb', 'net_cls,net_prio', 'rdma'];

function open(f: Fake, cgroupsPath = '/berth/c1'): CgroupManager {
  return openCgroupManager({ id: 'c1', cgroupsPath, root: f.root, mountinfo: f.mountinfo });
}

const FULL: LinuxResources = {
  devices: [
    { allow: false, access: 'rwm' },
    { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },
    { allow: true, type: 'c', major: 136, access: 'rwm' },
    { allow: true, type: 'b', major: 8, minor: 0, access: 'r' },
  ],
  memory: { limit: 268435456, reservation: 134217728, swap: 536870912, swappiness: 10, disableOOMKiller: true, kernel: 1 },
  cpu: { shares: 512, quota: 50000, period: 100000, burst: 10000, realtimeRuntime: 1000, realtimePeriod: 1000000, cpus: '0-1', mems: '0', idle: 0 },
  pids: { limit: 100 },
  blockIO: {
    weight: 500,
    leafWeight: 300,
    weightDevice: [{ major: 8, minor: 0, weight: 600, leafWeight: 200 }],
    throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1048576 }],
    throttleWriteBpsDevice: [{ major: 8, minor: 0, rate: 2097152 }],
    throttleReadIOPSDevice: [{ major: 8, minor: 16, rate: 100 }],
    throttleWriteIOPSDevice: [{ major: 8, minor: 16, rate: 200 }],
  },
};

const expectCode = (code: string, re: RegExp) => (err: unknown): boolean => {
  assert.ok(isBerthError(err), `expected a BerthError, got ${String(err)}`);
  assert.equal(err.code, code);
  assert.match(err.message, re);
  return true;
};

test('v1 create (hybrid host): exact writes for a full LinuxResources, in runc order', (t) => {
  const f = fakeV1(t, HYBRID);
  const m = open(f);
  const result = m.create(FULL);
  assert.deepEqual(f.writes, [
    // cpuset: the new parent level copies its parent's; the leaf gets the spec's.
    ['cpuset/berth/cpuset.cpus', '0-3'],
    ['cpuset/berth/cpuset.mems', '0'],
    ['cpuset/berth/c1/cpuset.cpus', '0-1'],
    ['cpuset/berth/c1/cpuset.mems', '0'],
    // devices: deny all, then the allow exceptions (sorted by major, minor, type, as runc).
    ['devices/berth/c1/devices.deny', 'a *:* rwm'],
    ['devices/berth/c1/devices.allow', 'c 1:3 rwm'],
    ['devices/berth/c1/devices.allow', 'b 8:0 r'],
    ['devices/berth/c1/devices.allow', 'c 136:* rwm'],
    // memory: memsw is memory+swap; kernel is ignored with a note.
    ['memory/berth/c1/memory.limit_in_bytes', '268435456'],
    ['memory/berth/c1/memory.memsw.limit_in_bytes', '536870912'],
    ['memory/berth/c1/memory.soft_limit_in_bytes', '134217728'],
    ['memory/berth/c1/memory.oom_control', '1'],
    ['memory/berth/c1/memory.swappiness', '10'],
    ['cpu/berth/c1/cpu.shares', '512'],
    ['cpu/berth/c1/cpu.cfs_period_us', '100000'],
    ['cpu/berth/c1/cpu.cfs_burst_us', '10000'],
    ['cpu/berth/c1/cpu.cfs_quota_us', '50000'],
    ['cpu/berth/c1/cpu.idle', '0'],
    ['cpu/berth/c1/cpu.rt_period_us', '1000000'],
    ['cpu/berth/c1/cpu.rt_runtime_us', '1000'],
    ['pids/berth/c1/pids.max', '100'],
    // No blkio.weight in the (fake) directory: BFQ knobs, as runc picks.
    ['blkio/berth/c1/blkio.bfq.weight', '500'],
    ['blkio/berth/c1/blkio.leaf_weight', '300'],
    ['blkio/berth/c1/blkio.bfq.weight_device', '8:0 600'],
    ['blkio/berth/c1/blkio.leaf_weight_device', '8:0 200'],
    ['blkio/berth/c1/blkio.throttle.read_bps_device', '8:0 1048576'],
    ['blkio/berth/c1/blkio.throttle.write_bps_device', '8:0 2097152'],
    ['blkio/berth/c1/blkio.throttle.read_iops_device', '8:16 100'],
    ['blkio/berth/c1/blkio.throttle.write_iops_device', '8:16 200'],
  ]);
  assert.equal(result.deviceProgram, undefined);
  assert.equal(result.notes.length, 1);
  assert.match(result.notes[0] ?? '', /kernel\/kernelTCP are ignored/);
  // Every mounted hierarchy got its directory, including name=systemd and the hybrid cgroup2.
  for (const d of ['cpu', 'cpuacct', 'cpuset', 'memory', 'devices', 'freezer', 'blkio', 'pids', 'systemd', 'unified']) {
    assert.ok(existsSync(join(f.root, d, 'berth/c1')), d);
  }
  assert.deepEqual(
    m.procsFiles().map((p) => p.slice(f.root.length + 1)),
    ['cpuset', 'devices', 'memory', 'cpu', 'cpuacct', 'pids', 'blkio', 'freezer', 'systemd', 'unified'].map((d) => `${d}/berth/c1/cgroup.procs`),
  );
  assert.deepEqual(m.oomWatchPaths(), { v1MemoryDir: join(f.root, 'memory/berth/c1') });
});

test('v1 create (legacy host): co-mounted cpu,cpuacct written once; hugetlb, net_cls, net_prio, rdma', (t) => {
  const f = fakeV1(t, LEGACY);
  // The kernel has reservation limits (5.7+) for 2MB pages here.
  f.put('hugetlb/berth/c1/hugetlb.2MB.rsvd.limit_in_bytes', '0');
  f.put('blkio/berth/c1/blkio.weight', '100'); // CFQ knobs
  const m = open(f);
  m.create({
    devices: [],
    cpu: { shares: 2048 },
    blockIO: { weight: 300, weightDevice: [{ major: 8, minor: 0, weight: 400 }] },
    hugepageLimits: [{ pageSize: '2MB', limit: 4194304 }, { pageSize: '1GB', limit: 0 }],
    network: { classID: 1048577, priorities: [{ name: 'eth0', priority: 5 }, { name: 'lo', priority: 1 }] },
    rdma: { mlx5_0: { hcaHandles: 3, hcaObjects: 1000 } },
  });
  const w = f.writes.filter(([p]) => !p.startsWith('cpuset/'));
  assert.deepEqual(w, [
    ['devices/berth/c1/devices.deny', 'a *:* rwm'],
    ['cpu,cpuacct/berth/c1/cpu.shares', '2048'],
    ['blkio/berth/c1/blkio.weight', '300'],
    ['blkio/berth/c1/blkio.weight_device', '8:0 400'],
    ['hugetlb/berth/c1/hugetlb.2MB.limit_in_bytes', '4194304'],
    ['hugetlb/berth/c1/hugetlb.2MB.rsvd.limit_in_bytes', '4194304'],
    ['hugetlb/berth/c1/hugetlb.1GB.limit_in_bytes', '0'],
    ['net_cls,net_prio/berth/c1/net_cls.classid', '1048577'],
    ['net_cls,net_prio/berth/c1/net_prio.ifpriomap', 'eth0 5'],
    ['net_cls,net_prio/berth/c1/net_prio.ifpriomap', 'lo 1'],
    ['rdma/berth/c1/rdma.max', 'mlx5_0 hca_handle=3 hca_object=1000'],
  ]);
  const procs = m.procsFiles().map((p) => p.slice(f.root.length + 1));
  assert.equal(procs.filter((p) => p.startsWith('cpu,cpuacct/')).length, 1);
  assert.equal(procs.filter((p) => p.startsWith('net_cls,net_prio/')).length, 1);
});

test('v1 create without resources: directories only, and device access denied (fail closed)', (t) => {
  const f = fakeV1(t, HYBRID);
  open(f).create();
  assert.deepEqual(
    f.writes.filter(([p]) => !p.startsWith('cpuset/')),
    [['devices/berth/c1/devices.deny', 'a *:* rwm']],
  );
});

test('v1 memory: raising an existing limit with swap writes memsw first; -1 lifts both', (t) => {
  const f = fakeV1(t, HYBRID);
  const m = open(f);
  m.create({});
  f.put('memory/berth/c1/memory.limit_in_bytes', '104857600\n');
  f.put('memory/berth/c1/memory.memsw.limit_in_bytes', '209715200\n');
  f.writes.length = 0;
  m.update({ memory: { limit: 209715200, swap: 419430400 } });
  assert.deepEqual(f.writes, [
    ['memory/berth/c1/memory.memsw.limit_in_bytes', '419430400'],
    ['memory/berth/c1/memory.limit_in_bytes', '209715200'],
  ]);
  f.writes.length = 0;
  m.update({ memory: { limit: -1 } });
  assert.deepEqual(f.writes, [
    ['memory/berth/c1/memory.memsw.limit_in_bytes', '-1'],
    ['memory/berth/c1/memory.limit_in_bytes', '-1'],
  ]);
});

test('v1 update: only what is given; device rules move by the smallest change from devices.list', (t) => {
  const f = fakeV1(t, HYBRID);
  const m = open(f);
  m.create({ devices: [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' }] });
  f.writes.length = 0;
  m.update({ pids: { limit: -1 }, cpu: { quota: 20000 } });
  assert.deepEqual(f.writes, [
    ['cpu/berth/c1/cpu.cfs_quota_us', '20000'],
    ['pids/berth/c1/pids.max', 'max'],
  ]);
  // What the kernel would list after create.
  f.put('devices/berth/c1/devices.list', 'c 1:3 rwm\nc 1:5 rwm\n');
  f.writes.length = 0;
  m.update({
    devices: [
      { allow: false, access: 'rwm' },
      { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },
      { allow: true, type: 'c', major: 1, minor: 9, access: 'r' },
    ],
  });
  assert.deepEqual(f.writes, [
    ['devices/berth/c1/devices.deny', 'c 1:5 rwm'],
    ['devices/berth/c1/devices.allow', 'c 1:9 r'],
  ]);
});

test('v1 freeze/thaw write freezer.state; isFrozen reads it back', (t) => {
  const f = fakeV1(t, HYBRID);
  const m = open(f);
  m.create();
  assert.equal(m.isFrozen(), false);
  m.freeze();
  assert.equal(f.read('freezer/berth/c1/freezer.state'), 'FROZEN');
  assert.equal(m.isFrozen(), true);
  // Frozen only because a parent is: not "paused" (runc's self_freezing rule).
  f.put('freezer/berth/c1/freezer.self_freezing', '0\n');
  assert.equal(m.isFrozen(), false);
  m.thaw();
  assert.equal(f.read('freezer/berth/c1/freezer.state'), 'THAWED');
  assert.equal(m.isFrozen(), false);
});

test('v1 freeze without a freezer mount is Unavailable', (t) => {
  const f = fakeV1(t, HYBRID.filter((c) => c !== 'freezer'));
  const m = open(f);
  m.create();
  assert.throws(() => m.freeze(), expectCode('Unavailable', /freezer controller is not mounted/));
  assert.equal(m.isFrozen(), false);
});

test('v1 pids(): every cgroup.procs below the devices cgroup', (t) => {
  const f = fakeV1(t, HYBRID);
  const m = open(f);
  m.create();
  f.put('devices/berth/c1/cgroup.procs', '12\n13\n');
  f.put('devices/berth/c1/sub/cgroup.procs', '14\n');
  f.put('devices/berth/c1/sub/deeper/cgroup.procs', '');
  assert.deepEqual(m.pids().sort(), [12, 13, 14]);
});

test('v1 stats(): runc events --stats shape from fake files', (t) => {
  const f = fakeV1(t, HYBRID);
  const m = open(f);
  m.create();
  const c = 'berth/c1';
  f.put(`cpuacct/${c}/cpuacct.stat`, 'user 150\nsystem 50\n');
  f.put(`cpuacct/${c}/cpuacct.usage`, '2500000000\n');
  f.put(`cpuacct/${c}/cpuacct.usage_percpu`, '1000000000 1500000000 \n');
  f.put(`cpuacct/${c}/cpuacct.usage_all`, 'cpu user system\n0 700000000 300000000\n1 1000000000 500000000\n');
  f.put(`cpu/${c}/cpu.stat`, 'nr_periods 10\nnr_throttled 2\nthrottled_time 5000\n');
  f.put(`memory/${c}/memory.stat`, 'cache 4096\nrss 8192\ntotal_rss 8192\n');
  f.put(`memory/${c}/memory.usage_in_bytes`, '12288\n');
  f.put(`memory/${c}/memory.max_usage_in_bytes`, '20480\n');
  f.put(`memory/${c}/memory.failcnt`, '1\n');
  f.put(`memory/${c}/memory.limit_in_bytes`, '268435456\n');
  f.put(`memory/${c}/memory.memsw.usage_in_bytes`, '16384\n');
  f.put(`memory/${c}/memory.memsw.max_usage_in_bytes`, '24576\n');
  f.put(`memory/${c}/memory.memsw.failcnt`, '0\n');
  f.put(`memory/${c}/memory.memsw.limit_in_bytes`, '9223372036854771712\n');
  f.put(`pids/${c}/pids.current`, '3\n');
  f.put(`pids/${c}/pids.max`, 'max\n');
  f.put(`blkio/${c}/blkio.throttle.io_service_bytes_recursive`, '8:0 Read 1024\n8:0 Write 2048\nTotal 3072\n');
  f.put(`blkio/${c}/blkio.throttle.io_serviced_recursive`, '8:0 Read 1\n8:0 Write 2\nTotal 3\n');
  const s = m.stats();
  assert.deepEqual(s.cpu, {
    usage: {
      total: 2500000000,
      kernel: 500000000,
      user: 1500000000,
      percpu: [1000000000, 1500000000],
      percpu_kernel: [300000000, 500000000],
      percpu_user: [700000000, 1000000000],
    },
    throttling: { periods: 10, throttledPeriods: 2, throttledTime: 5000 },
  });
  assert.equal(s.memory.cache, 4096);
  assert.deepEqual(s.memory.raw, { cache: 4096, rss: 8192, total_rss: 8192 });
  assert.deepEqual(s.memory.usage, { usage: 12288, max: 20480, failcnt: 1, limit: 268435456 });
  assert.deepEqual(s.memory.swap, { usage: 16384, max: 24576, failcnt: 0, limit: 9223372036854771712 });
  assert.deepEqual(s.memory.kernel, { limit: 0, usage: 0, max: 0, failcnt: 0 }); // no kmem files: zero, like runc
  assert.deepEqual(s.pids, { current: 3, limit: 0 }); // "max" is reported as 0
  assert.deepEqual(s.blkio, {
    ioServicedRecursive: [
      { major: 8, minor: 0, op: 'Read', value: 1 },
      { major: 8, minor: 0, op: 'Write', value: 2 },
    ],
    ioServiceBytesRecursive: [
      { major: 8, minor: 0, op: 'Read', value: 1024 },
      { major: 8, minor: 0, op: 'Write', value: 2048 },
    ],
  });
  assert.deepEqual(s.cpuset.cpus, [0, 1, 2, 3]);
  assert.deepEqual(s.hugetlb, {});
  JSON.stringify(s); // plain data, printable as runc's events data
});

test('v1 destroy: removes the leaf directories (sub-cgroups first), keeps parents, tolerates ENOENT', (t) => {
  const f = fakeV1(t, HYBRID);
  const m = open(f);
  m.create(FULL);
  mkdirSync(join(f.root, 'devices/berth/c1/sub'));
  // cgroupfs lets rmdir remove a directory full of control files; a fake cannot, so drop them first.
  const dropFiles = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory()) dropFiles(join(dir, e.name));
      else unlinkSync(join(dir, e.name));
    }
  };
  for (const dir of Object.values(m.paths())) dropFiles(dir);
  m.destroy();
  for (const dir of Object.values(m.paths())) assert.equal(existsSync(dir), false, dir);
  assert.ok(existsSync(join(f.root, 'memory/berth')));
  assert.equal(m.exists(), false);
  m.destroy(); // again: nothing left, no error
});

test('v1 errors: missing controllers are named; unified is refused; nothing is created', (t) => {
  const f = fakeV1(t, HYBRID);
  const m = open(f);
  assert.throws(() => m.create({ hugepageLimits: [{ pageSize: '2MB', limit: 1 }] }), expectCode('InvalidArgument', /hugepageLimits needs the hugetlb controller, which is not mounted/));
  assert.throws(() => m.create({ network: { classID: 1 } }), expectCode('InvalidArgument', /needs the net_cls controller/));
  assert.throws(() => m.create({ network: { priorities: [{ name: 'eth0', priority: 1 }] } }), expectCode('InvalidArgument', /needs the net_prio controller/));
  assert.throws(() => m.create({ unified: { 'memory.high': '1' } }), expectCode('InvalidArgument', /unified cannot be used on cgroup v1/));
  assert.equal(existsSync(join(f.root, 'memory/berth')), false);
  // Sections that set nothing ask nothing (runc): no error without hugetlb or net_cls.
  m.create({ hugepageLimits: [], unified: {}, network: { classID: 0, priorities: [] } });
});

test('v1 errors: bad values are refused before anything is written', (t) => {
  const f = fakeV1(t, HYBRID);
  const m = open(f);
  const bad: [LinuxResources, RegExp][] = [
    [{ memory: { swappiness: 101 } }, /swappiness: invalid value 101 \(valid range is 0-100\)/],
    [{ memory: { limit: 1.5 } }, /memory.limit: 1.5 is not an integer/],
    [{ memory: { limit: -2 } }, /memory.limit: -2 is below the minimum -1/],
    [{ cpu: { shares: -1 } }, /cpu.shares/],
    [{ cpu: { cpus: '0-3; rm' } }, /cpu.cpus/],
    [{ hugepageLimits: [{ pageSize: '../../x', limit: 1 }] }, /pageSize/],
    [{ devices: [{ allow: true, type: 'c', major: 1, minor: 3, access: 'rx' }] }, /may only contain r, w and m/],
    [{ devices: [{ allow: true, type: 'u', access: 'rwm' }] }, /invalid cgroup device type "u"/],
    [{ devices: [{ allow: true, type: 'c', access: '' }] }, /access cannot be empty/],
    [{ devices: [{ allow: true, type: 'c', major: -5, access: 'r' }] }, /invalid device number/],
    [
      { devices: [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 1, access: 'rwm' }, { allow: false, type: 'c', major: 1, minor: 3, access: 'w' }] },
      /punch a hole in the wildcard rule "c 1:\* rwm"/,
    ],
    [{ network: { priorities: [{ name: 'eth0\nx', priority: 1 }] } }, /interface name/],
  ];
  for (const [r, re] of bad) assert.throws(() => m.create(r), expectCode('InvalidArgument', re), re.source);
  assert.deepEqual(f.writes, []);
  assert.equal(existsSync(join(f.root, 'devices/berth')), false);
});

test('v1 create failing half-way removes the directories it made', (t) => {
  const f = fakeV1(t, HYBRID);
  unlinkSync(join(f.root, 'cpuset/cpuset.cpus')); // nothing to copy: the cpuset step fails after mkdir
  const m = open(f);
  assert.throws(() => m.create(FULL), expectCode('Internal', /cpuset.cpus/));
  for (const d of ['cpuset', 'devices', 'memory']) assert.equal(existsSync(join(f.root, d, 'berth')), false, d);
});

test('v1 pids limit: 0 becomes 1 and negatives max (runc)', (t) => {
  const f = fakeV1(t, HYBRID);
  const m = open(f);
  m.create({ pids: { limit: 0 } });
  assert.equal(f.read('pids/berth/c1/pids.max'), '1');
  m.update({ pids: { limit: -1 } });
  assert.equal(f.read('pids/berth/c1/pids.max'), 'max');
});

test('v1 update of a cgroup that does not exist is NotFound', (t) => {
  const f = fakeV1(t, HYBRID);
  assert.throws(() => open(f).update({ pids: { limit: 1 } }), expectCode('NotFound', /does not exist; cannot update it/));
});
