// A small command-line parser with runc's conventions: flags first, parsing stops
// at the first positional (so `exec ID ls -la` passes -la to ls), `--x=v` and
// `--x v` both work, and an unknown flag is an error that names it.
import { invalidArgument } from './errors.js';

export interface FlagSpec {
  type: 'string' | 'boolean';
  short?: string;
  multiple?: boolean;
  /** Other long names accepted for the same flag. */
  aliases?: string[];
}

export type FlagSpecs = Record<string, FlagSpec>;

export interface Parsed {
  flags: Record<string, string | boolean | string[] | undefined>;
  rest: string[];
}

function lookup(specs: FlagSpecs, token: string): [string, FlagSpec] | undefined {
  for (const [name, spec] of Object.entries(specs)) {
    if (token === name || spec.aliases?.includes(token) || (spec.short !== undefined && token === spec.short)) return [name, spec];
  }
  return undefined;
}

export function parseFlags(argv: readonly string[], specs: FlagSpecs, what: string): Parsed {
  const flags: Parsed['flags'] = {};
  let i = 0;
  for (; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      i++;
      break;
    }
    if (!arg.startsWith('-') || arg === '-') break;
    const body = arg.replace(/^--?/, '');
    const eq = body.indexOf('=');
    const key = eq >= 0 ? body.slice(0, eq) : body;
    const found = lookup(specs, key);
    if (!found) throw invalidArgument(`${what}: unknown flag ${arg.split('=')[0]}`);
    const [name, spec] = found;
    let value: string | boolean;
    if (spec.type === 'boolean') {
      value = eq >= 0 ? body.slice(eq + 1) !== 'false' : true;
    } else if (eq >= 0) {
      value = body.slice(eq + 1);
    } else {
      const next = argv[i + 1];
      if (next === undefined) throw invalidArgument(`${what}: flag ${arg} needs a value`);
      value = next;
      i++;
    }
    if (spec.multiple) {
      const list = (flags[name] as string[] | undefined) ?? [];
      list.push(String(value));
      flags[name] = list;
    } else {
      flags[name] = value;
    }
  }
  return { flags, rest: argv.slice(i) };
}

export function stringFlag(p: Parsed, name: string): string | undefined {
  const v = p.flags[name];
  return typeof v === 'string' ? v : undefined;
}

export function boolFlag(p: Parsed, name: string): boolean {
  return p.flags[name] === true;
}

export function listFlag(p: Parsed, name: string): string[] {
  const v = p.flags[name];
  return Array.isArray(v) ? v : [];
}

export function intFlag(p: Parsed, name: string, what: string): number | undefined {
  const v = stringFlag(p, name);
  if (v === undefined) return undefined;
  if (!/^-?\d+$/.test(v)) throw invalidArgument(`${what}: --${name} must be an integer, not "${v}"`);
  return Number(v);
}
