// Instruction flags (`COPY --from=x`), validated like BuildKit's BFlags: known names only,
// booleans take true/false or nothing, strings need a value, only some may repeat.
import { LineError } from './location.js';
import { didYouMean } from './suggest.js';
import type { InstructionKind } from './types.js';

type FlagType = 'bool' | 'string' | 'strings';

const FLAG_SPECS: Partial<Record<InstructionKind, Record<string, FlagType>>> = {
  FROM: { platform: 'string' },
  RUN: { mount: 'strings', network: 'string', security: 'string' },
  COPY: { from: 'string', chown: 'string', chmod: 'string', link: 'bool', parents: 'bool', exclude: 'strings' },
  ADD: {
    chown: 'string',
    chmod: 'string',
    checksum: 'string',
    link: 'bool',
    'keep-git-dir': 'bool',
    unpack: 'bool',
    exclude: 'strings',
  },
  HEALTHCHECK: {
    interval: 'string',
    timeout: 'string',
    'start-period': 'string',
    'start-interval': 'string',
    retries: 'string',
  },
};

/** Parsed flags by name: booleans, single strings, or every value of a repeatable flag. */
export class FlagValues {
  constructor(private readonly values: Map<string, boolean | string | string[]>) {}

  string(name: string): string | undefined {
    const v = this.values.get(name);
    return typeof v === 'string' ? v : undefined;
  }
  bool(name: string): boolean | undefined {
    const v = this.values.get(name);
    return typeof v === 'boolean' ? v : undefined;
  }
  strings(name: string): string[] {
    const v = this.values.get(name);
    return Array.isArray(v) ? v : [];
  }
}

export function parseFlags(kind: InstructionKind, args: string[]): FlagValues {
  const spec = FLAG_SPECS[kind] ?? {};
  const values = new Map<string, boolean | string | string[]>();
  for (const arg of args) {
    const eq = arg.indexOf('=');
    const flag = eq === -1 ? arg : arg.slice(0, eq);
    const value = eq === -1 ? undefined : arg.slice(eq + 1);
    const name = flag.slice(2);
    const type = spec[name];
    if (!type) {
      const hint = didYouMean(name, Object.keys(spec), true).replace('mean ', 'mean --');
      throw new LineError(`unknown flag: ${flag} for ${kind}${hint}`);
    }
    if (values.has(name) && type !== 'strings') throw new LineError(`duplicate flag specified: ${flag}`);
    values.set(name, flagValue(type, flag, value, values.get(name)));
  }
  return new FlagValues(values);
}

function flagValue(type: FlagType, flag: string, value: string | undefined, prev: unknown): boolean | string | string[] {
  if (type === 'bool') {
    if (value === '') throw new LineError(`missing a value on flag: ${flag}`);
    const v = (value ?? 'true').toLowerCase();
    if (v !== 'true' && v !== 'false') throw new LineError(`expecting boolean value for flag ${flag}, not: ${value}`);
    return v === 'true';
  }
  if (value === undefined) throw new LineError(`missing a value on flag: ${flag}`);
  if (type === 'string') return value;
  return [...(Array.isArray(prev) ? (prev as string[]) : []), value];
}
