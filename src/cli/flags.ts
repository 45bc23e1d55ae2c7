// Command-line flags with spf13/pflag's semantics, as docker parses them: `--name v`,
// `--name=v`, combined short booleans (`-it`), a short flag's value glued on (`-eK=V`,
// `-e=K=V`), `--bool=false`, `--` ending the flags, repeated list flags, and (for run,
// exec, create) no interspersed flags, so the container command keeps its own. Values are
// converted as docker's option types do: byte sizes as units.RAMInBytes, durations as Go's
// time.ParseDuration, integers as strconv.ParseInt(s, 0, 64).
import type { FlagSpec, FlagValues } from './command.js';

/** A usage error: docker prints it, then "See 'berth CMD --help'." and exits 125. */
export class FlagError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FlagError';
  }
}

export interface ParsedFlags {
  values: FlagValues;
  args: string[];
  /** `--help` was given (or `-h` where no flag owns that letter). */
  help: boolean;
  /** Long names of the flags that appeared on the command line (pflag's Changed). */
  changed: Set<string>;
}

export interface ParseOptions {
  /** false: the first positional argument ends flag parsing (run, exec, create). Default true. */
  interspersed?: boolean;
}

export function parseFlags(argv: readonly string[], specs: readonly FlagSpec[], opts: ParseOptions = {}): ParsedFlags {
  const byLong = new Map<string, FlagSpec>();
  const byShort = new Map<string, FlagSpec>();
  for (const s of specs) {
    byLong.set(s.name, s);
    if (s.short) byShort.set(s.short, s);
  }
  const result: ParsedFlags = { values: defaults(specs), args: [], help: false, changed: new Set() };
  const interspersed = opts.interspersed ?? true;
  let i = 0;
  while (i < argv.length) {
    const arg = argv[i++]!;
    if (arg.length < 2 || !arg.startsWith('-')) {
      if (!interspersed) {
        result.args.push(arg, ...argv.slice(i));
        return result;
      }
      result.args.push(arg);
      continue;
    }
    if (arg === '--') {
      result.args.push(...argv.slice(i));
      return result;
    }
    if (arg.startsWith('--')) {
      i = parseLong(arg, argv, i, byLong, result);
    } else {
      i = parseShorts(arg, argv, i, byShort, result);
    }
  }
  return result;
}

function defaults(specs: readonly FlagSpec[]): FlagValues {
  const values: FlagValues = {};
  for (const s of specs) {
    if (s.default === undefined) continue;
    values[s.name] = s.type === 'list' || s.type === 'map' ? [] : s.default;
  }
  return values;
}

function parseLong(arg: string, argv: readonly string[], next: number, byLong: Map<string, FlagSpec>, out: ParsedFlags): number {
  const body = arg.slice(2);
  const eq = body.indexOf('=');
  const name = eq >= 0 ? body.slice(0, eq) : body;
  if (name === 'help' && (eq < 0 || parseBool(body.slice(eq + 1)) === true)) {
    out.help = true;
    return next;
  }
  const spec = byLong.get(name);
  if (!spec) throw new FlagError(`unknown flag: --${name}`);
  if (eq >= 0) {
    assign(spec, body.slice(eq + 1), out, `--${spec.name}`);
    return next;
  }
  if (spec.type === 'bool') {
    assign(spec, 'true', out, `--${spec.name}`);
    return next;
  }
  if (next >= argv.length) throw new FlagError(`flag needs an argument: --${name}`);
  assign(spec, argv[next]!, out, `--${spec.name}`);
  return next + 1;
}

function parseShorts(arg: string, argv: readonly string[], next: number, byShort: Map<string, FlagSpec>, out: ParsedFlags): number {
  let rest = arg.slice(1);
  while (rest.length > 0) {
    const letter = rest[0]!;
    const spec = byShort.get(letter);
    if (!spec) {
      if (letter === 'h') {
        out.help = true;
        rest = rest.slice(1);
        continue;
      }
      throw new FlagError(`unknown shorthand flag: '${letter}' in -${arg.slice(1)}`);
    }
    const display = `-${letter}, --${spec.name}`;
    if (rest.length > 2 && rest[1] === '=') {
      assign(spec, rest.slice(2), out, display);
      return next;
    }
    if (spec.type === 'bool') {
      assign(spec, 'true', out, display);
      rest = rest.slice(1);
      continue;
    }
    if (rest.length > 1) {
      assign(spec, rest.slice(1), out, display);
      return next;
    }
    if (next >= argv.length) throw new FlagError(`flag needs an argument: '${letter}' in -${letter}`);
    assign(spec, argv[next]!, out, display);
    return next + 1;
  }
  return next;
}

function assign(spec: FlagSpec, raw: string, out: ParsedFlags, display: string): void {
  const bad = (why: string): FlagError => new FlagError(`invalid argument "${raw}" for "${display}" flag: ${why}`);
  out.changed.add(spec.name);
  switch (spec.type) {
    case 'bool': {
      const b = parseBool(raw);
      if (b === undefined) throw bad(`strconv.ParseBool: parsing "${raw}": invalid syntax`);
      out.values[spec.name] = b;
      return;
    }
    case 'string':
      out.values[spec.name] = raw;
      return;
    case 'int': {
      const n = parseGoInt(raw);
      if (n === undefined) throw bad(`strconv.ParseInt: parsing "${raw}": invalid syntax`);
      out.values[spec.name] = n;
      return;
    }
    case 'list':
    case 'map': {
      if (spec.type === 'map' && !raw.includes('=')) throw bad(`invalid key=value format: ${raw}`);
      const prev = out.values[spec.name];
      out.values[spec.name] = [...(Array.isArray(prev) ? prev : []), raw];
      return;
    }
    case 'duration': {
      try {
        out.values[spec.name] = parseDuration(raw);
      } catch (err) {
        throw bad((err as Error).message);
      }
      return;
    }
    case 'bytes': {
      try {
        out.values[spec.name] = ramInBytes(raw);
      } catch (err) {
        throw bad((err as Error).message);
      }
      return;
    }
  }
}

/** Go's strconv.ParseBool. */
export function parseBool(s: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(s)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(s)) return false;
  return undefined;
}

/** strconv.ParseInt(s, 0, 64): decimal, 0x hex, 0o/0 octal, 0b binary, optional sign and underscores. */
export function parseGoInt(s: string): number | undefined {
  const m = /^([+-]?)(0[xX][0-9a-fA-F_]+|0[bB][01_]+|0[oO]?[0-7_]+|[1-9][0-9_]*|0)$/.exec(s);
  if (!m) return undefined;
  let body = m[2]!.replace(/_/g, '');
  if (/^0[0-7]/.test(body)) body = `0o${body.slice(1)}`;
  const n = Number(body.toLowerCase().startsWith('0o') ? parseInt(body.slice(2), 8) : body);
  if (!Number.isSafeInteger(n)) return undefined;
  return m[1] === '-' ? -n : n;
}

const DURATION_UNITS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  'µs': 1e-3,
  'μs': 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** Go's time.ParseDuration, in milliseconds (fractions for sub-millisecond parts). */
export function parseDuration(s: string): number {
  const invalid = (): Error => new Error(`time: invalid duration "${s}"`);
  let rest = s;
  let sign = 1;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    if (rest[0] === '-') sign = -1;
    rest = rest.slice(1);
  }
  if (rest === '0') return 0;
  if (rest === '') throw invalid();
  let total = 0;
  const part = /^([0-9]*(?:\.[0-9]*)?)(ns|us|µs|μs|ms|s|m|h)?/;
  while (rest.length > 0) {
    const m = part.exec(rest);
    if (!m || m[1] === '' || m[1] === '.') throw invalid();
    if (m[2] === undefined) throw new Error(`time: missing unit in duration "${s}"`);
    total += Number(m[1]) * DURATION_UNITS[m[2]]!;
    rest = rest.slice(m[0].length);
  }
  return sign * total;
}

/** Go's time.Duration.String() for a duration in milliseconds ("1m30s", "500ms", "0s"). */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  const sign = ms < 0 ? '-' : '';
  let rest = Math.abs(ms);
  if (rest < 1000) {
    if (rest >= 1) return `${sign}${trimFloat(rest)}ms`;
    if (rest >= 1e-3) return `${sign}${trimFloat(rest * 1e3)}µs`;
    return `${sign}${Math.round(rest * 1e6)}ns`;
  }
  const h = Math.floor(rest / 3_600_000);
  rest -= h * 3_600_000;
  const m = Math.floor(rest / 60_000);
  rest -= m * 60_000;
  const sec = `${trimFloat(rest / 1000)}s`;
  if (h > 0) return `${sign}${h}h${m}m${sec}`;
  if (m > 0) return `${sign}${m}m${sec}`;
  return `${sign}${sec}`;
}

function trimFloat(n: number): string {
  return String(Number(n.toFixed(9)));
}

const RAM_UNITS: Record<string, number> = { k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };

/** docker/go-units RAMInBytes: "512m", "1g", "1.5GiB", "100" (bytes); binary multiples. */
export function ramInBytes(s: string): number {
  const m = /^(\d+(?:\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$/.exec(s);
  if (!m) throw new Error(`invalid size: '${s}'`);
  const size = Number(m[1]);
  if (!Number.isFinite(size)) throw new Error(`invalid size: '${s}'`);
  const mult = m[2] ? RAM_UNITS[m[2].toLowerCase()]! : 1;
  return Math.trunc(size * mult);
}
