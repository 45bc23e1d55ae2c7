// Builder helpers: Go durations and HEALTHCHECK values, EXPOSE port specs.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  healthConfig,
  parseExposePort,
  parseExposePorts,
  parseGoDuration,
  parseHealthInterval,
  parseHealthRetries,
} from '../../src/build/dockerfile/index.js';

const MS = 1_000_000;
const S = 1000 * MS;

describe('Go durations', () => {
  it('parses units, fractions, signs and sequences like time.ParseDuration', () => {
    const cases: [string, number][] = [
      ['0', 0], ['+0', 0], ['30s', 30 * S], ['1m30s', 90 * S], ['500ms', 500 * MS], ['1h', 3600 * S], ['1.5h', 5400 * S],
      ['2h45m', (2 * 3600 + 45 * 60) * S], ['10ns', 10], ['7us', 7000], ['7µs', 7000], ['7μs', 7000], ['.5s', 500 * MS], ['1.s', S],
      ['-1.5m', -90 * S], ['1h0m0s', 3600 * S], ['0s', 0], ['100ms1ns', 100 * MS + 1],
    ];
    for (const [input, ns] of cases) assert.equal(parseGoDuration(input), ns, input);
  });

  it('rejects what Go rejects', () => {
    assert.throws(() => parseGoDuration(''), /invalid duration ""/);
    assert.throws(() => parseGoDuration('5'), /missing unit in duration "5"/);
    assert.throws(() => parseGoDuration('5x'), /unknown unit "x" in duration "5x"/);
    assert.throws(() => parseGoDuration('1hm'), /unknown unit "hm"/);
    assert.throws(() => parseGoDuration('.s'), /invalid duration/);
    assert.throws(() => parseGoDuration('s'), /invalid duration/);
    assert.throws(() => parseGoDuration('3000000h'), /invalid duration/);
  });
});

describe('HEALTHCHECK values', () => {
  it('accepts 0 or at least 1ms for intervals (TestParseOptInterval)', () => {
    assert.equal(parseHealthInterval('interval', undefined), 0);
    assert.equal(parseHealthInterval('interval', '0ms'), 0);
    assert.equal(parseHealthInterval('interval', '1ms'), MS);
    assert.throws(() => parseHealthInterval('interval', '50ns'), /Interval "interval" cannot be less than 1ms/);
    assert.throws(() => parseHealthInterval('timeout', '-1s'), /Interval "timeout" cannot be less than 1ms/);
  });

  it('accepts non-negative 32-bit retries', () => {
    assert.equal(parseHealthRetries(undefined), 0);
    assert.equal(parseHealthRetries('0'), 0);
    assert.equal(parseHealthRetries('5'), 5);
    assert.throws(() => parseHealthRetries('-2'), /--retries cannot be negative \(-2\)/);
    assert.throws(() => parseHealthRetries('three'), /invalid syntax/);
    assert.throws(() => parseHealthRetries('3000000000'), /out of range/);
  });

  it('builds the image-config health check', () => {
    assert.deepEqual(healthConfig('cmd', { form: 'exec', args: ['curl', '-f', 'http://localhost/'] }, { interval: '30s', retries: '3' }), {
      test: ['CMD', 'curl', '-f', 'http://localhost/'], interval: 30 * S, timeout: 0, startPeriod: 0, startInterval: 0, retries: 3,
    });
    assert.deepEqual(healthConfig('CMD', { form: 'shell', command: 'true' }, {}).test, ['CMD-SHELL', 'true']);
    assert.deepEqual(healthConfig('none', undefined, {}).test, ['NONE']);
  });
});

describe('EXPOSE ports', () => {
  it('normalises ports, protocols and ranges to port/proto', () => {
    assert.deepEqual(parseExposePort('80'), ['80/tcp']);
    assert.deepEqual(parseExposePort('80/tcp'), ['80/tcp']);
    assert.deepEqual(parseExposePort('53/udp'), ['53/udp']);
    assert.deepEqual(parseExposePort('53/UDP'), ['53/udp']);
    assert.deepEqual(parseExposePort('9/sctp'), ['9/sctp']);
    assert.deepEqual(parseExposePort('8000-8002'), ['8000/tcp', '8001/tcp', '8002/tcp']);
    assert.deepEqual(parseExposePort('7-7/udp'), ['7/udp']);
    assert.deepEqual(parseExposePorts(['80', '443/tcp', '60000-60001/udp']), ['80/tcp', '443/tcp', '60000/udp', '60001/udp']);
  });

  it('tolerates (but ignores) host parts like BuildKit', () => {
    assert.deepEqual(parseExposePort('8080:80'), ['80/tcp']);
    assert.deepEqual(parseExposePort('127.0.0.1:8080:80/udp'), ['80/udp']);
    assert.deepEqual(parseExposePort('[::1]:8080:80'), ['80/tcp']);
  });

  it('rejects bad ports, protocols and ranges', () => {
    assert.throws(() => parseExposePort('http'), /invalid containerPort: http/);
    assert.throws(() => parseExposePort('70000'), /invalid containerPort: 70000/);
    assert.throws(() => parseExposePort('80/icmp'), /invalid proto: icmp/);
    assert.throws(() => parseExposePort('/tcp'), /no port specified/);
    assert.throws(() => parseExposePort('90-80'), /invalid containerPort: 90-80/);
    assert.throws(() => parseExposePort(''), /no port specified/);
    assert.throws(() => parseExposePort('bad.ip:1:2'), /invalid IP address: bad.ip/);
    assert.throws(() => parseExposePort('1000-1001:80-82'), /invalid ranges specified/);
  });
});
