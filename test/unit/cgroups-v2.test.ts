// V2Manager against a fake unified cgroupfs (a temp directory with a root
// cgroup.controllers and fake mountinfo naming it as the cgroup2 mount).

import { strict as assert } from 'node:assert';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import type { LinuxResources } from '../../src/oci/runtime-spec.js';
import { isBerthError } from '../../src/util/errors.js';
import { deviceFilterProgram, openCgroupManager, type CgroupManager } from '../../src/runtime/cgroups/index.js';
import { setWriteTrace } from '../../src/runtime/cgroups/files.js';

interface Fake {
  root: string;
  mountinfo: string;
  writes: [string, string][];
  read(rel: string): string;
  put(rel: string, content: string): void;
}

const ALL = 'cpuset cpu io memory hugetlb pids rdma misc';

function fakeV2(t: TestContext, controllers = ALL): Fake {
  const root = mkdtempSync(join(tmpdir(), 'berth-cgv2-'));
  const mountinfo = `22 1 0:20 / / rw - ext4 /dev/vda rw\n30 23 0:26 / ${root} rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot\n`;
  writeFileSync(join(root, 'cgroup.controllers'), `${controllers}\n`);
  const writes: [string, string][] = [];
  setWriteTrace((p, v) => writes.push([p.slice(root.length + 1), v]));
  t.after(() => {
    setWriteTrace(undefined);
    rmSync(root, { recursive: true, force: true });
  });
  return {
    root,
    mountinfo,
    writes,
    read: (rel) => readFileSync(join(root, rel), 'utf8'),
    put: (rel, content) => {
      mkdirSync(join(root, rel, '..'), { recursive: true });
      writeFileSync(join(root, rel), content);
    },
  };
}

function open(f: Fake, cgroupsPath = '/berth/c1'): CgroupManager {
  return openCgroupManager({ id: 'c1', cgroupsPath, root: f.root, mountinfo: f.mountinfo, selfCgroup: '0::/system.slice/berthd.service\n' });
}

const DEVICES: NonNullable<LinuxResources['devices']> = [
  { allow: false, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },
];

const FULL: LinuxResources = {
  devices: DEVICES,
  memory: { limit: 268435456, reservation: 134217728, swap: 536870912, swappiness: 10, disableOOMKiller: true },
  cpu: { shares: 512, quota: 50000, period: 100000, burst: 10000, realtimeRuntime: 1000, cpus: '0-1', mems: '0', idle: 0 },
  pids: { limit: 100 },
  blockIO: {
    weight: 500,
    leafWeight: 300,
    weightDevice: [{ major: 8, minor: 0, weight: 600 }],
    throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1048576 }],
    throttleWriteBpsDevice: [{ major: 8, minor: 0, rate: 2097152 }],
    throttleReadIOPSDevice: [{ major: 8, minor: 16, rate: 100 }],
    throttleWriteIOPSDevice: [{ major: 8, minor: 16, rate: 200 }],
  },
  hugepageLimits: [{ pageSize: '2MB', limit: 4194304 }],
  network: { classID: 5 },
  rdma: { mlx5_0: { hcaHandles: 3, hcaObjects: 1000 } },
  unified: { 'memory.high': '200000000', 'io.max': '8:0 rbps=1\n8:16 wbps=2' },
};

const expectCode = (code: string, re: RegExp) => (err: unknown): boolean => {
  assert.ok(isBerthError(err), `expected a BerthError, got ${String(err)}`);
  assert.equal(err.code, code);
  assert.match(err.message, re);
  return true;
};

test('v2 create: controllers enabled down the path, exact writes with runc conversions', (t) => {
  const f = fakeV2(t);
  const m = open(f);
  const result = m.create(FULL);
  const enable = '+cpuset +cpu +io +memory +hugetlb +pids +rdma +misc';
  const c = 'berth/c1';
  assert.deepEqual(f.writes, [
    ['cgroup.subtree_control', enable],
    ['berth/cgroup.subtree_control', enable],
    [`${c}/pids.max`, '100'],
    [`${c}/memory.swap.max`, '268435456'], // swap = (memory+swap) - memory
    [`${c}/memory.max`, '268435456'],
    [`${c}/memory.low`, '134217728'],
    [`${c}/io.weight`, '4950'], // blkio 500 → io 4950
    [`${c}/io.weight`, '8:0 5960'],
    [`${c}/io.max`, '8:0 rbps=1048576'],
    [`${c}/io.max`, '8:0 wbps=2097152'],
    [`${c}/io.max`, '8:16 riops=100'],
    [`${c}/io.max`, '8:16 wiops=200'],
    [`${c}/cpu.idle`, '0'],
    [`${c}/cpu.weight`, '59'], // shares 512 → weight 59
    [`${c}/cpu.max.burst`, '10000'],
    [`${c}/cpu.max`, '50000 100000'],
    [`${c}/cpuset.cpus`, '0-1'],
    [`${c}/cpuset.mems`, '0'],
    [`${c}/hugetlb.2MB.max`, '4194304'],
    [`${c}/rdma.max`, 'mlx5_0 hca_handle=3 hca_object=1000'],
    // unified last, multi-line values one line per write.
    [`${c}/memory.high`, '200000000'],
    [`${c}/io.max`, '8:0 rbps=1'],
    [`${c}/io.max`, '8:16 wbps=2'],
  ]);
  assert.deepEqual(result.deviceProgram, { cgroupDir: join(f.root, c), insns: deviceFilterProgram(DEVICES) });
  assert.deepEqual(
    result.notes.map((n) => n.replace(/ .*/, '')),
    [
      'linux.resources.memory.swappiness',
      'linux.resources.memory.disableOOMKiller',
      'linux.resources.blockIO.leafWeight',
      'linux.resources.cpu.realtimeRuntime/realtimePeriod',
      'linux.resources.network',
    ],
  );
  assert.deepEqual(m.procsFiles(), [join(f.root, c, 'cgroup.procs')]);
  assert.deepEqual(m.oomWatchPaths(), { v2Dir: join(f.root, c) });
});

test('v2 create without devices: a deny-all program (fail closed); update without devices: none', (t) => {
  const f = fakeV2(t);
  const m = open(f);
  const r = m.create({});
  assert.deepEqual(r.deviceProgram?.insns, deviceFilterProgram([]));
  assert.equal(m.update({ pids: { limit: 5 } }).deviceProgram, undefined);
});

test('v2 memory: unlimited memory lifts swap; equal memory and swap disables swap', (t) => {
  const f = fakeV2(t);
  const m = open(f);
  m.create({});
  f.writes.length = 0;
  m.update({ memory: { limit: -1 } });
  m.update({ memory: { limit: 1000, swap: 1000 } });
  assert.deepEqual(f.writes, [
    ['berth/c1/memory.swap.max', 'max'],
    ['berth/c1/memory.max', 'max'],
    ['berth/c1/memory.swap.max', '0'],
    ['berth/c1/memory.max', '1000'],
  ]);
});

test('v2 cpu.max: a partial update keeps the other half', (t) => {
  const f = fakeV2(t);
  const m = open(f);
  m.create({ cpu: { quota: 50000, period: 200000 } });
  f.put('berth/c1/cpu.max', '50000 200000\n');
  f.writes.length = 0;
  m.update({ cpu: { quota: 10000 } });
  m.update({ cpu: { quota: -1 } });
  assert.deepEqual(f.writes, [
    ['berth/c1/cpu.max', '10000 200000'],
    ['berth/c1/cpu.max', 'max 200000'],
  ]);
});

test('v2 BFQ: io.bfq.weight takes the v1 weight as is, and per-device lines when it lists "default"', (t) => {
  const f = fakeV2(t);
  f.put('berth/c1/io.bfq.weight', 'default 100\n');
  open(f).create({ blockIO: { weight: 500, weightDevice: [{ major: 8, minor: 0, weight: 600 }] } });
  assert.deepEqual(f.writes.slice(2), [
    ['berth/c1/io.bfq.weight', '500'],
    ['berth/c1/io.bfq.weight', '8:0 600'],
  ]);
});

test('v2 errors: controllers missing from the leaf are named; impossible swap; bad unified keys', (t) => {
  const f = fakeV2(t);
  f.put('berth/c1/cgroup.controllers', 'cpu memory pids\n'); // the parent did not delegate hugetlb/io
  const m = open(f);
  assert.throws(
    () => m.create({ hugepageLimits: [{ pageSize: '2MB', limit: 1 }] }),
    expectCode('InvalidArgument', /hugepageLimits needs the hugetlb controller, which is not available in .*cgroup.controllers: cpu memory pids/),
  );
  assert.throws(() => m.create({ blockIO: { weight: 100 } }), expectCode('InvalidArgument', /needs the io controller/));
  assert.throws(() => m.create({ unified: { 'rdma.max': 'x' } }), expectCode('InvalidArgument', /"rdma.max" can't be set: controller "rdma" not available/));
  assert.throws(() => m.create({ unified: { '../cgroup.procs': '1' } }), expectCode('InvalidArgument', /no slashes/));
  assert.throws(() => m.create({ unified: { memoryhigh: '1' } }), expectCode('InvalidArgument', /CONTROLLER.PARAMETER/));
  assert.throws(() => m.create({ memory: { limit: 100, swap: 50 } }), expectCode('InvalidArgument', /should be >= memory limit/));
  assert.throws(() => m.create({ memory: { swap: 50 } }), expectCode('InvalidArgument', /without memory limit/));
  // A cgroup that existed before a failed create is not removed by it.
  assert.ok(existsSync(join(f.root, 'berth/c1')));
});

test('v2 errors: a populated inner cgroup ("domain invalid") cannot take domain controllers', (t) => {
  const f = fakeV2(t);
  f.put('berth/cgroup.type', 'domain invalid\n');
  const m = open(f);
  assert.throws(() => m.create({ memory: { limit: 1 << 20 } }), expectCode('InvalidArgument', /invalid state/));
  // Only thread-aware controllers: the level is switched to threaded, as runc does.
  m.create({ pids: { limit: 10 } });
  assert.equal(f.read('berth/cgroup.type'), 'threaded');
});

test('v2 create failing half-way removes the levels it made', (t) => {
  const f = fakeV2(t, ''); // no controllers to enable, so the new levels hold no files of ours
  const m = open(f, '/a/b');
  // A unified key the filesystem cannot even name fails after the directories exist.
  assert.throws(() => m.create({ unified: { [`memory.${'x'.repeat(300)}`]: '1' } }), expectCode('Internal', /memory\.x+/));
  assert.equal(existsSync(join(f.root, 'a')), false);
});

test('v2 freeze/thaw: cgroup.freeze, waiting for cgroup.events "frozen 1"', (t) => {
  const f = fakeV2(t);
  const m = open(f);
  m.create({});
  assert.throws(() => m.freeze(), expectCode('Unavailable', /no cgroup.freeze/));
  f.put('berth/c1/cgroup.freeze', '0\n');
  f.put('berth/c1/cgroup.events', 'populated 1\nfrozen 1\n');
  m.freeze();
  assert.equal(f.read('berth/c1/cgroup.freeze'), '1');
  assert.equal(m.isFrozen(), true);
  m.thaw();
  assert.equal(f.read('berth/c1/cgroup.freeze'), '0');
  assert.equal(m.isFrozen(), false);
});

test('v2 killAll(SIGKILL) uses cgroup.kill when the kernel has it', (t) => {
  const f = fakeV2(t);
  const m = open(f);
  m.create({});
  f.put('berth/c1/cgroup.kill', '');
  f.writes.length = 0;
  m.killAll();
  assert.deepEqual(f.writes, [['berth/c1/cgroup.kill', '1']]);
});

test('v2 stats(): runc events --stats shape from fake files', (t) => {
  const f = fakeV2(t);
  const m = open(f);
  m.create({});
  const c = 'berth/c1';
  f.put(`${c}/cpu.stat`, 'usage_usec 2500\nuser_usec 1500\nsystem_usec 1000\nnr_periods 10\nnr_throttled 2\nthrottled_usec 7\nnr_bursts 0\nburst_usec 0\n');
  f.put(`${c}/cpu.pressure`, 'some avg10=1.50 avg60=0.00 avg300=0.00 total=1234\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=56\n');
  f.put(`${c}/memory.stat`, 'anon 8192\nfile 4096\n');
  f.put(`${c}/memory.current`, '12288\n');
  f.put(`${c}/memory.max`, '268435456\n');
  f.put(`${c}/memory.peak`, '20480\n');
  f.put(`${c}/memory.swap.current`, '4096\n');
  f.put(`${c}/memory.swap.max`, 'max\n');
  f.put(`${c}/pids.current`, '2\n');
  f.put(`${c}/pids.max`, '50\n');
  f.put(`${c}/io.stat`, '8:0 rbytes=1024 wbytes=2048 rios=1 wios=2 dbytes=0 dios=0\n');
  f.put(`${c}/hugetlb.2MB.current`, '2097152\n');
  f.put(`${c}/hugetlb.2MB.max`, 'max\n');
  f.put(`${c}/hugetlb.2MB.events`, 'max 3\n');
  const s = m.stats();
  assert.deepEqual(s.cpu.usage, { total: 2500000, user: 1500000, kernel: 1000000 });
  assert.deepEqual(s.cpu.throttling, { periods: 10, throttledPeriods: 2, throttledTime: 7000 });
  assert.deepEqual(s.cpu.psi?.some, { avg10: 1.5, avg60: 0, avg300: 0, total: 1234 });
  assert.equal(s.memory.cache, 4096);
  assert.deepEqual(s.memory.raw, { anon: 8192, file: 4096 });
  assert.deepEqual(s.memory.usage, { usage: 12288, limit: 268435456, max: 20480, failcnt: 0 });
  // Swap is reported as memory+swap, v1-style (runc); unlimited stays unlimited.
  assert.equal(s.memory.swap.usage, 16384);
  assert.equal(s.memory.swap.limit, 2 ** 64 - 1);
  assert.deepEqual(s.pids, { current: 2, limit: 50 });
  assert.deepEqual(s.blkio.ioServiceBytesRecursive, [
    { major: 8, minor: 0, op: 'Read', value: 1024 },
    { major: 8, minor: 0, op: 'Write', value: 2048 },
  ]);
  assert.deepEqual(s.blkio.ioServicedRecursive, [
    { major: 8, minor: 0, op: 'Read', value: 1 },
    { major: 8, minor: 0, op: 'Write', value: 2 },
  ]);
  assert.deepEqual(s.hugetlb, { '2MB': { usage: 2097152, max: 0, failcnt: 3 } });
});

test('v2 pids() walks sub-cgroups; destroy removes the leaf only', (t) => {
  const f = fakeV2(t);
  const m = open(f);
  m.create({});
  f.put('berth/c1/cgroup.procs', '7\n');
  f.put('berth/c1/init/cgroup.procs', '8\n9\n');
  assert.deepEqual(m.pids().sort(), [7, 8, 9]);
  rmSync(join(f.root, 'berth/c1/cgroup.procs'));
  rmSync(join(f.root, 'berth/c1/init/cgroup.procs'));
  m.destroy();
  assert.equal(existsSync(join(f.root, 'berth/c1')), false);
  assert.ok(existsSync(join(f.root, 'berth')));
  m.destroy();
});
