// Sizes, durations, status strings and truncation as docker prints them. Expected values are
// docker/go-units size_test.go and duration_test.go, docker/cli formatter/displayutils_test.go,
// and moby container/state_test.go's status strings.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bytesSize, containerStatusText, ellipsis, goQuote, humanDuration, humanSize, humanSizeWithPrecision, truncateId } from '../../src/util/units.js';
import { formatF, formatG } from '../../src/util/numbers.js';

const KB = 1000, MB = 1000 * KB, GB = 1000 * MB, TB = 1000 * GB, PB = 1000 * TB;
const KiB = 1024, MiB = 1024 * KiB, GiB = 1024 * MiB, TiB = 1024 * GiB, PiB = 1024 * TiB;

test('HumanSize matches go-units TestHumanSize', () => {
  assert.equal(humanSize(1000), '1kB');
  assert.equal(humanSize(1024), '1.024kB');
  assert.equal(humanSize(1000000), '1MB');
  assert.equal(humanSize(1048576), '1.049MB');
  assert.equal(humanSize(2 * MB), '2MB');
  assert.equal(humanSize(3.42 * GB), '3.42GB');
  assert.equal(humanSize(5.372 * TB), '5.372TB');
  assert.equal(humanSize(2.22 * PB), '2.22PB');
  assert.equal(humanSize(10000000000000 * PB), '1e+04YB');
  assert.equal(humanSize(0), '0B');
});

test('BytesSize matches go-units TestBytesSize', () => {
  assert.equal(bytesSize(1024), '1KiB');
  assert.equal(bytesSize(1024 * 1024), '1MiB');
  assert.equal(bytesSize(2 * MiB), '2MiB');
  assert.equal(bytesSize(3.42 * GiB), '3.42GiB');
  assert.equal(bytesSize(5.372 * TiB), '5.372TiB');
  assert.equal(bytesSize(2.22 * PiB), '2.22PiB');
  assert.equal(bytesSize(KiB * KiB * KiB * KiB * KiB * PiB), '1.049e+06YiB');
});

test('three significant digits, as docker images and ps print sizes', () => {
  assert.equal(humanSizeWithPrecision(4_860_000, 3), '4.86MB');
  assert.equal(humanSizeWithPrecision(187_654_321, 3), '188MB');
  assert.equal(humanSizeWithPrecision(1234, 3), '1.23kB');
  assert.equal(humanSizeWithPrecision(999_999, 3), '1e+03kB');
  // Go rounds the exact binary value half to even; JavaScript's toPrecision would say 1.13kB.
  assert.equal(humanSizeWithPrecision(1125, 3), '1.12kB');
});

test('Go float formatting: %g and %.2f', () => {
  assert.equal(formatG(0.000012345, 3), '1.23e-05');
  assert.equal(formatG(123456, 3), '1.23e+05');
  assert.equal(formatG(100, 3), '100');
  assert.equal(formatF(2.5, 0), '2');
  assert.equal(formatF(0.125, 2), '0.12');
  assert.equal(formatF(10, 2), '10.00');
  assert.equal(formatF(0.004, 2), '0.00');
  assert.equal(formatF(99.999, 2), '100.00');
});

test('HumanDuration matches go-units ExampleHumanDuration', () => {
  const s = 1000, m = 60 * s, h = 60 * m, day = 24 * h, week = 7 * day, month = 30 * day, year = 365 * day;
  const cases: [number, string][] = [
    [450, 'Less than a second'], [1 * s, '1 second'], [47 * s, '47 seconds'], [1 * m, 'About a minute'], [3 * m, '3 minutes'],
    [35 * m + 40 * s, '35 minutes'], [1 * h, 'About an hour'], [1 * h + 45 * m, '2 hours'], [3 * h + 59 * m, '4 hours'],
    [24 * h, '24 hours'], [36 * h, '36 hours'], [2 * day, '2 days'], [13 * day + 5 * h, '13 days'], [2 * week, '2 weeks'],
    [4 * week + 3 * day, '4 weeks'], [1 * month + 2 * week, '6 weeks'], [2 * month, '2 months'], [13 * month, '13 months'],
    [24 * month + 2 * week, '2 years'], [3 * year + 2 * month, '3 years'],
  ];
  for (const [ms, text] of cases) assert.equal(humanDuration(ms), text, `${ms} ms`);
});

test('container status strings as moby State.String()', () => {
  const now = Date.parse('2026-01-01T12:00:00Z');
  const base = { Running: false, Paused: false, Restarting: false, Dead: false, ExitCode: 0, StartedAt: '0001-01-01T00:00:00Z', FinishedAt: '0001-01-01T00:00:00Z' };
  const started = '2026-01-01T11:55:00Z';
  assert.equal(containerStatusText(base, now), 'Created');
  assert.equal(containerStatusText({ ...base, Running: true, StartedAt: started }, now), 'Up 5 minutes');
  assert.equal(containerStatusText({ ...base, Running: true, Paused: true, StartedAt: started }, now), 'Up 5 minutes (Paused)');
  assert.equal(containerStatusText({ ...base, Running: true, StartedAt: '2026-01-01T11:59:58Z', Health: { Status: 'healthy' } }, now), 'Up 2 seconds (healthy)');
  assert.equal(containerStatusText({ ...base, Running: true, StartedAt: started, Health: { Status: 'starting' } }, now), 'Up 5 minutes (health: starting)');
  assert.equal(containerStatusText({ ...base, StartedAt: started, FinishedAt: '2026-01-01T11:59:58Z' }, now), 'Exited (0) 2 seconds ago');
  assert.equal(containerStatusText({ ...base, Running: true, Restarting: true, ExitCode: 1, StartedAt: started, FinishedAt: '2026-01-01T11:59:57Z' }, now), 'Restarting (1) 3 seconds ago');
  assert.equal(containerStatusText({ ...base, StartedAt: started, FinishedAt: started, RemovalInProgress: true }, now), 'Removal In Progress');
  assert.equal(containerStatusText({ ...base, Dead: true, StartedAt: started }, now), 'Dead');
});

test('TruncateID and Ellipsis (displayutils_test.go)', () => {
  assert.equal(truncateId('sha256:9f8e7d6c5b4a39281706f5e4'), '9f8e7d6c5b4a');
  assert.equal(truncateId('abc'), 'abc');
  const cases: [string, number, string][] = [
    ['t🐳ststring', 0, ''], ['t🐳ststring', 1, 't'], ['t🐳ststring', 2, 't…'], ['t🐳ststring', 6, 't🐳st…'], ['t🐳ststring', 20, 't🐳ststring'],
    ['你好世界teststring', 0, ''], ['你好世界teststring', 1, '你'], ['你好世界teststring', 3, '你…'], ['你好世界teststring', 6, '你好…'],
    ['你好世界teststring', 20, '你好世界teststring'],
  ];
  for (const [source, width, expected] of cases) assert.equal(ellipsis(source, width), expected, `${source} ${width}`);
  assert.equal(ellipsis("nginx -g 'daemon off;'", 20), "nginx -g 'daemon of…");
});

test('strconv.Quote for the COMMAND column', () => {
  assert.equal(goQuote('sh -c "echo hi"\n'), '"sh -c \\"echo hi\\"\\n"');
  assert.equal(goQuote('\x01'), '"\\x01"');
});
