// HEALTHCHECK: Go duration strings ("30s", "1m30s", "500ms") and the image-config form of
// the check, following BuildKit's instructions/parse.go.
import { invalidArgument } from '../../util/errors.js';
import type { CommandForm, HealthConfig, HealthcheckFlags } from './types.js';

const UNITS: Record<string, bigint> = {
  ns: 1n,
  us: 1000n,
  'µs': 1000n, // U+00B5 micro sign
  'μs': 1000n, // U+03BC Greek mu
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};
const MAX_INT64 = (1n << 63n) - 1n;
const MILLISECOND = 1_000_000;

/** Go's time.ParseDuration, in nanoseconds. */
export function parseGoDuration(s: string): number {
  const bad = (): Error => invalidArgument(`time: invalid duration "${s}"`);
  let rest = s;
  let negative = false;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    negative = rest.startsWith('-');
    rest = rest.slice(1);
  }
  if (rest === '0') return 0;
  if (rest === '') throw bad();
  let total = 0n;
  while (rest !== '') {
    // A component is digits, an optional fraction, and a unit: the run of non-digits after it.
    const [whole, int = '', frac = '', unitName = ''] = /^(\d*)(?:\.(\d*))?([^\d.]*)/.exec(rest) as RegExpExecArray;
    if (int === '' && frac === '') throw bad();
    if (unitName === '') throw invalidArgument(`time: missing unit in duration "${s}"`);
    const unit = UNITS[unitName];
    if (unit === undefined) throw invalidArgument(`time: unknown unit "${unitName}" in duration "${s}"`);
    total += BigInt(int || '0') * unit + fraction(frac, unit);
    if (total > MAX_INT64) throw bad();
    rest = rest.slice(whole.length);
  }
  return Number(negative ? -total : total);
}

function fraction(digits: string, unit: bigint): bigint {
  if (digits === '') return 0n;
  return BigInt(Math.floor(Number(`0.${digits}`) * Number(unit)));
}

/** --interval, --timeout, --start-period, --start-interval: 0 or at least 1ms. */
export function parseHealthInterval(flag: string, value: string | undefined): number {
  if (value === undefined || value === '') return 0;
  const d = parseGoDuration(value);
  if (d !== 0 && d < MILLISECOND) throw invalidArgument(`Interval "${flag}" cannot be less than 1ms`);
  return d;
}

export function parseHealthRetries(value: string | undefined): number {
  if (value === undefined || value === '') return 0;
  if (!/^[+-]?\d+$/.test(value)) throw invalidArgument(`strconv.ParseInt: parsing "${value}": invalid syntax`);
  const n = Number(value);
  if (n > 2 ** 31 - 1 || n < -(2 ** 31)) throw invalidArgument(`strconv.ParseInt: parsing "${value}": value out of range`);
  if (n < 0) throw invalidArgument(`--retries cannot be negative (${n})`);
  return n;
}

/** The image-config health check of `HEALTHCHECK [flags] CMD …` or `HEALTHCHECK NONE`. */
export function healthConfig(type: string, cmd: CommandForm | undefined, flags: HealthcheckFlags): HealthConfig {
  const zero = { interval: 0, timeout: 0, startPeriod: 0, startInterval: 0, retries: 0 };
  const upper = type.toUpperCase();
  if (upper === 'NONE') {
    if (cmd) throw invalidArgument('HEALTHCHECK NONE takes no arguments');
    return { test: ['NONE'], ...zero };
  }
  if (upper !== 'CMD') throw invalidArgument(`Unknown type "${upper}" in HEALTHCHECK (try CMD)`);
  const test = testOf(cmd);
  return {
    test,
    interval: parseHealthInterval('interval', flags.interval),
    timeout: parseHealthInterval('timeout', flags.timeout),
    startPeriod: parseHealthInterval('start-period', flags.startPeriod),
    startInterval: parseHealthInterval('start-interval', flags.startInterval),
    retries: parseHealthRetries(flags.retries),
  };
}

function testOf(cmd: CommandForm | undefined): string[] {
  if (cmd?.form === 'exec' && cmd.args.length > 0) return ['CMD', ...cmd.args];
  if (cmd?.form === 'shell' && cmd.command !== '') return ['CMD-SHELL', cmd.command];
  throw invalidArgument('Missing command after HEALTHCHECK CMD');
}
