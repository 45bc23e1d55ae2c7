// docker stats samples (src/daemon/services/stats.ts): Docker's JSON shape from cgroup v1
// and v2 numbers (a fake CgroupManager), /proc/stat and /proc/<pid>/net/dev parsing, and
// the sample sequence of the stream / one-shot / two-sample modes.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CgroupManager, CgroupStats } from '../../src/runtime/cgroups/index.js';
import { emptyStats as emptyCgroupStats } from '../../src/runtime/cgroups/stats.js';
import { emptyStats, parseNetDev, parseProcStat, sampleStats, streamStats, type StatsSource } from '../../src/daemon/services/stats.js';

const dir = mkdtempSync(join(tmpdir(), 'berth-stats-'));
after(() => rmSync(dir, { recursive: true, force: true }));
writeFileSync(join(dir, 'memory.events'), 'low 0\nhigh 0\nmax 7\noom 3\noom_kill 3\n');

const hostMemory = Number(/^MemTotal:\s+(\d+)/m.exec(readFileSync('/proc/meminfo', 'utf8'))![1]) * 1024;

function fakeCgroup(version: 1 | 2, fill: (s: CgroupStats) => void): CgroupManager {
  return {
    version,
    paths: () => ({ '': dir }),
    stats: () => {
      const s = emptyCgroupStats();
      fill(s);
      return s;
    },
  } as unknown as CgroupManager;
}

const v1 = fakeCgroup(1, (s) => {
  s.cpu.usage = { total: 5_000_000, kernel: 1_000_000, user: 3_000_000, percpu: [2_000_000, 3_000_000] };
  s.cpu.throttling = { periods: 4, throttledPeriods: 2, throttledTime: 900 };
  s.memory.usage = { usage: 10_000_000, max: 12_000_000, limit: 2 ** 63 - 4096, failcnt: 1 };
  s.memory.raw = { cache: 4096, total_inactive_file: 8192, rss: 1, swap: 99 };
  s.pids = { current: 3, limit: 0 };
  s.blkio = { ioServiceBytesRecursive: [{ major: 8, minor: 0, op: 'Read', value: 512 }] };
});

const v2 = fakeCgroup(2, (s) => {
  s.cpu.usage = { total: 7_000_000, kernel: 2_000_000, user: 5_000_000 };
  s.memory.usage = { usage: 20_000_000, max: 0, limit: 64 * 1024 * 1024, failcnt: 0 };
  s.memory.raw = { anon: 100, file: 200, inactive_file: 50 };
  s.pids = { current: 2, limit: 100 };
  s.blkio = {
    ioServiceBytesRecursive: [{ major: 8, minor: 0, op: 'Read', value: 1 }, { major: 8, minor: 0, op: 'Write', value: 2 }],
    ioServicedRecursive: [{ major: 8, minor: 0, op: 'Read', value: 9 }],
  };
});

describe('docker stats samples (stats.ts)', () => {
  it('counts the host CPU time (user to softirq, as moby) in nanoseconds and the CPUs from /proc/stat', () => {
    const r = parseProcStat('cpu  100 0 50 1000 10 0 5 7 0 0\ncpu0 50 0 25 500 5 0 2 3 0 0\ncpu1 50 0 25 500 5 0 3 4 0 0\nintr 1\n');
    assert.deepEqual(r, { systemUsage: (100 + 50 + 1000 + 10 + 5) * 1e7, onlineCpus: 2 });
    assert.equal(parseProcStat(readFileSync('/proc/stat', 'utf8')).onlineCpus, cpus().length);
  });

  it('reads interface counters without the loopback', () => {
    const text = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:    100       1    0    0    0     0          0         0      100       1    0    0    0     0       0          0
  eth0: 655391   16181    1    2    0     0          0         0   853745   10405    3    4    0     0       0          0
`;
    assert.deepEqual(parseNetDev(text), {
      eth0: { rx_bytes: 655391, rx_packets: 16181, rx_errors: 1, rx_dropped: 2, tx_bytes: 853745, tx_packets: 10405, tx_errors: 3, tx_dropped: 4 },
    });
  });

  it('maps cgroup v1 as moby statsV1: per-CPU usage, Docker\'s memory keys, host memory for no limit', () => {
    const s = sampleStats({ id: 'abc', name: '/web', cgroup: v1, pid: process.pid });
    assert.equal(s.id, 'abc');
    assert.equal(s.name, '/web');
    assert.equal(s.preread, '0001-01-01T00:00:00Z');
    assert.deepEqual(s.cpu_stats.cpu_usage, { total_usage: 5_000_000, usage_in_kernelmode: 1_000_000, usage_in_usermode: 3_000_000, percpu_usage: [2_000_000, 3_000_000] });
    assert.deepEqual(s.cpu_stats.throttling_data, { periods: 4, throttled_periods: 2, throttled_time: 900 });
    assert.equal(s.cpu_stats.online_cpus, cpus().length);
    assert.ok(s.cpu_stats.system_cpu_usage! > 0);
    assert.deepEqual(s.precpu_stats.cpu_usage.total_usage, 0);
    assert.equal(s.memory_stats.usage, 10_000_000);
    assert.equal(s.memory_stats.max_usage, 12_000_000);
    assert.equal(s.memory_stats.limit, hostMemory);
    assert.equal(s.memory_stats.failcnt, 1);
    assert.equal(Object.keys(s.memory_stats.stats!).length, 32);
    assert.equal(s.memory_stats.stats!['total_inactive_file'], 8192);
    assert.equal(s.memory_stats.stats!['swap'], undefined, 'only the keys Docker reports');
    assert.deepEqual(s.pids_stats, { current: 3 });
    assert.deepEqual(s.blkio_stats.io_service_bytes_recursive, [{ major: 8, minor: 0, op: 'Read', value: 512 }]);
    assert.deepEqual(s.blkio_stats.io_serviced_recursive, []);
    assert.equal(s.networks, undefined, 'a process in the host network namespace has no container networks');
    assert.equal(s.num_procs, 0);
  });

  it('maps cgroup v2 as moby statsV2: bytes as read/write only, oom events as failcnt, no per-CPU usage', () => {
    const s = sampleStats({ id: 'abc', name: '/web', cgroup: v2, pid: process.pid });
    assert.deepEqual(s.cpu_stats.cpu_usage, { total_usage: 7_000_000, usage_in_kernelmode: 2_000_000, usage_in_usermode: 5_000_000 });
    assert.equal(s.memory_stats.limit, 64 * 1024 * 1024);
    assert.equal(s.memory_stats.failcnt, 3);
    assert.equal(s.memory_stats.max_usage, undefined);
    assert.equal(s.memory_stats.stats!['inactive_file'], 50);
    assert.equal(s.memory_stats.stats!['workingset_refault'], 0);
    assert.deepEqual(s.pids_stats, { current: 2, limit: 100 });
    assert.deepEqual(s.blkio_stats.io_service_bytes_recursive, [{ major: 8, minor: 0, op: 'read', value: 1 }, { major: 8, minor: 0, op: 'write', value: 2 }]);
    assert.equal(s.blkio_stats.io_serviced_recursive, null);
  });

  it('takes preread and precpu_stats from the previous sample', () => {
    const first = sampleStats({ id: 'a', name: '/a', cgroup: v1, pid: process.pid });
    const second = sampleStats({ id: 'a', name: '/a', cgroup: v1, pid: process.pid }, first);
    assert.equal(second.preread, first.read);
    assert.deepEqual(second.precpu_stats, first.cpu_stats);
  });

  it('never writes a number a Go uint64 cannot decode', () => {
    const json = JSON.stringify(sampleStats({ id: 'a', name: '/a', cgroup: v2, pid: process.pid }));
    for (const m of json.matchAll(/\d{16,}/g)) assert.ok(BigInt(m[0]) < 2n ** 64n, m[0]);
  });

  describe('the sample sequence', () => {
    let running = true;
    const source: StatsSource = { id: 'c', name: '/c', current: () => (running ? { cgroup: v1, pid: process.pid } : undefined) };
    const take = async (opts: { stream: boolean; oneShot: boolean }, count: number, signal = new AbortController().signal) => {
      const out = [];
      for await (const s of streamStats(source, { ...opts, intervalMs: 1 }, signal)) {
        out.push(s);
        if (out.length === count) break;
      }
      return out;
    };

    it('one-shot: one sample at once, precpu empty', async () => {
      const [s, ...rest] = await take({ stream: false, oneShot: true }, 5);
      assert.equal(rest.length, 0);
      assert.equal(s!.preread, '0001-01-01T00:00:00Z');
      assert.equal(s!.precpu_stats.cpu_usage.total_usage, 0);
    });

    it('not streaming: one sample whose precpu comes from a priming sample', async () => {
      const [s, ...rest] = await take({ stream: false, oneShot: false }, 5);
      assert.equal(rest.length, 0);
      assert.notEqual(s!.preread, '0001-01-01T00:00:00Z');
      assert.equal(s!.precpu_stats.cpu_usage.total_usage, 5_000_000);
    });

    it('streaming: the first precpu is empty, each next one is the sample before', async () => {
      const samples = await take({ stream: true, oneShot: false }, 3);
      assert.equal(samples[0]!.precpu_stats.cpu_usage.total_usage, 0);
      assert.equal(samples[1]!.preread, samples[0]!.read);
      assert.equal(samples[2]!.preread, samples[1]!.read);
    });

    it('streaming ends when aborted', async () => {
      const ac = new AbortController();
      const samples = [];
      for await (const s of streamStats(source, { stream: true, oneShot: false, intervalMs: 1 }, ac.signal)) {
        samples.push(s);
        if (samples.length === 2) ac.abort();
      }
      assert.equal(samples.length, 2);
    });

    it('a stopped container gives Docker\'s empty sample', async () => {
      running = false;
      try {
        const [s] = await take({ stream: false, oneShot: false }, 1);
        assert.deepEqual(s, emptyStats('c', '/c'));
        assert.deepEqual(s!.memory_stats, {});
      } finally {
        running = true;
      }
    });
  });
});
