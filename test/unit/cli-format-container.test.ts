// ps's port column and stats figures: docker/cli formatter/container_test.go TestDisplayablePorts,
// cli/command/container/stats_helpers_test.go, and the ContainerContext methods.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ContainerStats, ContainerSummary, Port } from '../../src/oci/engine-api.js';
import { ContainerContext, displayablePorts } from '../../src/cli/format/container.js';
import { StatsContext, cpuPercent, memUsageNoCache, statsEntryFrom } from '../../src/cli/format/stats.js';

const p = (PrivatePort: number, Type: Port['Type'], IP?: string, PublicPort?: number): Port => ({ PrivatePort, Type, ...(IP !== undefined ? { IP } : {}), ...(PublicPort !== undefined ? { PublicPort } : {}) });

test('TestDisplayablePorts', () => {
  const cases: [Port[], string][] = [
    [[p(9988, 'tcp')], '9988/tcp'],
    [[p(9988, 'udp')], '9988/udp'],
    [[p(9988, 'tcp', '0.0.0.0')], '0.0.0.0:0->9988/tcp'],
    [[p(9988, 'tcp', '::')], '[::]:0->9988/tcp'],
    [[p(9988, 'tcp', undefined, 8899)], '9988/tcp'],
    [[p(9988, 'tcp', '4.3.2.1', 8899)], '4.3.2.1:8899->9988/tcp'],
    [[p(9988, 'tcp', '::1', 8899)], '[::1]:8899->9988/tcp'],
    [[p(9988, 'tcp', '4.3.2.1', 9988)], '4.3.2.1:9988->9988/tcp'],
    [[p(9988, 'udp'), p(9988, 'udp')], '9988/udp, 9988/udp'],
    [[p(9998, 'udp', '1.2.3.4', 9998), p(9999, 'udp', '1.2.3.4', 9999)], '1.2.3.4:9998-9999->9998-9999/udp'],
    [[p(9998, 'udp', '::1', 9998), p(9999, 'udp', '::1', 9999)], '[::1]:9998-9999->9998-9999/udp'],
    [[p(9998, 'udp', '1.2.3.4', 8887), p(9999, 'udp', '1.2.3.4', 8888)], '1.2.3.4:8887->9998/udp, 1.2.3.4:8888->9999/udp'],
    [[p(9998, 'udp'), p(9999, 'udp')], '9998-9999/udp'],
    [[p(6677, 'tcp', '1.2.3.4', 7766), p(9988, 'udp', undefined, 8899)], '9988/udp, 1.2.3.4:7766->6677/tcp'],
    [
      [p(9988, 'udp', '1.2.3.4', 8899), p(9988, 'tcp', '1.2.3.4', 8899), p(2233, 'tcp', '4.3.2.1', 3322), p(2233, 'tcp', '::1', 3322)],
      '4.3.2.1:3322->2233/tcp, [::1]:3322->2233/tcp, 1.2.3.4:8899->9988/tcp, 1.2.3.4:8899->9988/udp',
    ],
    [
      [p(80, 'tcp'), p(1024, 'tcp'), p(80, 'udp'), p(1024, 'udp'), p(1024, 'tcp', '1.1.1.1', 80), p(1024, 'udp', '1.1.1.1', 80), p(80, 'tcp', '1.1.1.1', 1024),
        p(80, 'udp', '1.1.1.1', 1024), p(1024, 'tcp', '2.1.1.1', 80), p(1024, 'udp', '2.1.1.1', 80), p(80, 'tcp', '2.1.1.1', 1024), p(80, 'udp', '2.1.1.1', 1024), p(12345, 'sctp')],
      '80/tcp, 80/udp, 1024/tcp, 1024/udp, 12345/sctp, 1.1.1.1:1024->80/tcp, 1.1.1.1:1024->80/udp, 2.1.1.1:1024->80/tcp, 2.1.1.1:1024->80/udp, 1.1.1.1:80->1024/tcp, 1.1.1.1:80->1024/udp, 2.1.1.1:80->1024/tcp, 2.1.1.1:80->1024/udp',
    ],
  ];
  for (const [ports, expected] of cases) assert.equal(displayablePorts(ports), expected);
});

const summary = (over: Partial<ContainerSummary>): ContainerSummary => ({
  Id: 'ab'.repeat(32), Names: ['/a'], Image: 'busybox', ImageID: 'sha256:' + 'cd'.repeat(32), Command: 'sh', Created: 0, Ports: [], Labels: {},
  State: 'running', Status: 'Up', HostConfig: { NetworkMode: 'none' }, NetworkSettings: { Networks: {} }, Mounts: [], ...over,
});

test('ContainerContext: names, image, command and size as docker ps shows them (container_test.go)', () => {
  const c = new ContainerContext(summary({ Names: ['/other/link', '/web'], Image: 'ubuntu@sha256:' + 'a'.repeat(64), Command: 'a'.repeat(30), SizeRw: 2, SizeRootFs: 21_500_000 }), true);
  assert.equal(c.Names(), 'web');
  assert.equal(c.Image(), 'ubuntu');
  assert.equal(c.Command(), `"${'a'.repeat(19)}…"`);
  assert.equal(c.Size(), '2B (virtual 21.5MB)');
  assert.equal(c.ID(), 'abababababab');
  const full = new ContainerContext(summary({ Names: ['/other/link', '/web'], Image: 'ubuntu:20.04@sha256:' + 'a'.repeat(64) }), false);
  assert.equal(full.Names(), 'other/link,web');
  assert.equal(new ContainerContext(summary({ Image: 'ubuntu:20.04@sha256:' + 'a'.repeat(64) }), true).Image(), 'ubuntu:20.04');
  assert.equal(new ContainerContext(summary({ Image: '' }), true).Image(), '<no image>');
  assert.equal(new ContainerContext(summary({ Labels: { b: '2', a: '1' } }), true).Labels(), 'a=1,b=2');
});

const sample = (over: Partial<ContainerStats>): ContainerStats => ({
  read: '', preread: '', name: '/c', id: 'ef'.repeat(32), pids_stats: { current: 7 },
  blkio_stats: { io_service_bytes_recursive: null, io_serviced_recursive: null, io_queue_recursive: null, io_service_time_recursive: null, io_wait_time_recursive: null, io_merged_recursive: null, io_time_recursive: null, sectors_recursive: null },
  num_procs: 0, storage_stats: {},
  cpu_stats: { cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 }, throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 } },
  precpu_stats: { cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 }, throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 } },
  memory_stats: {}, ...over,
});

test('stats figures as docker/cli stats_helpers computes them', () => {
  // TestCalculateMemUsageUnixNoCache: cgroup v1 total_inactive_file, v2 inactive_file.
  assert.equal(memUsageNoCache({ usage: 500, stats: { total_inactive_file: 400 } }), 100);
  assert.equal(memUsageNoCache({ usage: 500, stats: { inactive_file: 400 } }), 100);
  assert.equal(memUsageNoCache({ usage: 500, stats: { total_inactive_file: 600 } }), 500);
  const s = sample({
    cpu_stats: { cpu_usage: { total_usage: 2_500_000_000, percpu_usage: [1, 2, 3, 4], usage_in_kernelmode: 0, usage_in_usermode: 0 }, system_cpu_usage: 20_000_000_000, throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 } },
    precpu_stats: { cpu_usage: { total_usage: 2_400_000_000, usage_in_kernelmode: 0, usage_in_usermode: 0 }, system_cpu_usage: 18_000_000_000, throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 } },
    memory_stats: { usage: 104_857_600, limit: 1_073_741_824, stats: { inactive_file: 0 } },
    blkio_stats: { ...sample({}).blkio_stats, io_service_bytes_recursive: [{ major: 8, minor: 0, op: 'read', value: 1234 }, { major: 8, minor: 0, op: 'Write', value: 4321 }, { major: 8, minor: 0, op: 'Total', value: 5555 }] },
    networks: { eth0: { rx_bytes: 1000, tx_bytes: 2000, rx_packets: 0, rx_errors: 0, rx_dropped: 0, tx_packets: 0, tx_errors: 0, tx_dropped: 0 }, eth1: { rx_bytes: 24, tx_bytes: 76, rx_packets: 0, rx_errors: 0, rx_dropped: 0, tx_packets: 0, tx_errors: 0, tx_dropped: 0 } },
  });
  // No online_cpus: the per-CPU list's length (4) counts.
  assert.equal(cpuPercent(s), 20);
  const row = new StatsContext(statsEntryFrom('c', s), true);
  assert.equal(row.CPUPerc(), '20.00%');
  assert.equal(row.MemUsage(), '100MiB / 1GiB');
  assert.equal(row.MemPerc(), '9.77%');
  assert.equal(row.NetIO(), '1.02kB / 2.08kB');
  assert.equal(row.BlockIO(), '1.23kB / 4.32kB');
  assert.equal(row.PIDs(), '7');
  assert.equal(row.Name(), 'c');
  assert.equal(row.ID(), 'efefefefefef');
  const invalid = new StatsContext({ ...statsEntryFrom('c', s), isInvalid: true }, true);
  assert.deepEqual([invalid.CPUPerc(), invalid.MemUsage(), invalid.NetIO(), invalid.PIDs()], ['--', '-- / --', '--', '--']);
});
