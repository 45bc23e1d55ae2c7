// Small pieces the read-only commands share: docker's --filter option, its help text for
// --format, the prune confirmation prompt, and the CLI's timestamp conversion for
// --since/--until (docker/cli opts.FilterOpt, internal/prompt, api/types/time.GetTimestamp).
import { createInterface } from 'node:readline';
import type { Filters } from '../../oci/engine-api.js';
import { StatusError, type FlagSpec, type Io } from '../command.js';
import { FlagError, parseDuration } from '../flags.js';

/** flagsHelper.FormatHelp (docker/cli cli/flags/options.go). */
export const FORMAT_HELP =
  'Format output using a custom template:\n' +
  "'table':            Print output in table format with column headers (default)\n" +
  "'table TEMPLATE':   Print output in table format using the given Go template\n" +
  "'json':             Print in JSON format\n" +
  "'TEMPLATE':         Print output using the given Go template.\n" +
  'Refer to https://docs.docker.com/go/formatting/ for more information about formatting output with templates';

/** flagsHelper.InspectFormatHelp. */
export const INSPECT_FORMAT_HELP =
  'Format output using a custom template:\n' +
  "'json':             Print in JSON format\n" +
  "'TEMPLATE':         Print output using the given Go template.\n" +
  'Refer to https://docs.docker.com/go/formatting/ for more information about formatting output with templates';

export const formatFlag = (usage = FORMAT_HELP, short?: string): FlagSpec => ({ name: 'format', type: 'string', usage, ...(short ? { short } : {}) });

/** `short`: '' for none (the prune commands, where -f is --force). */
export const filterFlag = (usage = 'Filter output based on conditions provided', short = 'f'): FlagSpec => ({
  name: 'filter',
  type: 'list',
  valueName: 'filter',
  usage,
  ...(short ? { short } : {}),
});

/** opts.FilterOpt: each "name=value" (name lower-cased, both trimmed) added to the filter set. */
export function parseFilters(values: readonly string[] | undefined, flagLabel = '-f, --filter'): Filters {
  const filters: Filters = {};
  for (const value of values ?? []) {
    const eq = value.indexOf('=');
    if (eq < 0) throw new FlagError(`invalid argument "${value}" for "${flagLabel}" flag: bad format of filter (expected name=value)`);
    const name = value.slice(0, eq).trim().toLowerCase();
    const v = value.slice(eq + 1).trim();
    const list = (filters[name] ??= []);
    if (!list.includes(v)) list.push(v);
  }
  return filters;
}

export const stringFlag = (v: unknown): string => (typeof v === 'string' ? v : '');
export const boolFlag = (v: unknown): boolean => v === true;
export const listFlag = (v: unknown): string[] => (Array.isArray(v) ? v : []);

/**
 * prompt.Confirm: print `message` + " [y/N] ", read one line; only "y"/"Y" (trimmed) is yes.
 * End of input is no, as docker's.
 */
export async function confirm(io: Io, message: string): Promise<boolean> {
  io.stdout.write(`${message} [y/N] `);
  const rl = createInterface({ input: io.stdin, terminal: false });
  try {
    const line = await new Promise<string | undefined>((resolve) => {
      rl.once('line', resolve);
      rl.once('close', () => resolve(undefined));
    });
    return (line ?? '').trim().toLowerCase() === 'y';
  } finally {
    rl.close();
    io.stdin.pause();
  }
}

/** A command cancelled at the prompt: docker prints nothing more and exits 0. */
export class Cancelled extends Error {}

/**
 * api/types/time.GetTimestamp as the CLI sends --since/--until: a Go duration counts back from
 * now ("10m"), a date or RFC 3339 time becomes "seconds.nanoseconds", a Unix time is passed as is.
 */
export function cliTimestamp(value: string, nowMs: number = Date.now()): string {
  if (value !== '0') {
    try {
      const ms = parseDuration(value);
      return String(Math.floor((nowMs - ms) / 1000));
    } catch {
      // not a duration
    }
  }
  if (/^\d+(\.\d{1,9})?$/.test(value)) return value;
  const hasZone = /[zZ+]/.test(value) || (value.match(/-/g)?.length ?? 0) === 3;
  let text = value;
  if (/^\d{4}-\d{2}-\d{2}$/.test(text)) text += 'T00:00:00';
  else if (/^\d{4}-\d{2}-\d{2}T\d{2}$/.test(text)) text += ':00:00';
  else if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/.test(text)) text += ':00';
  const ms = Date.parse(hasZone ? text : text.replace(/^(\d{4}-\d{2}-\d{2})$/, '$1T00:00:00'));
  if (Number.isNaN(ms) || !/^\d{4}-\d{2}-\d{2}/.test(value)) {
    if (value.includes('-')) throw new StatusError(1, `parsing time "${value}": cannot parse`);
    throw new StatusError(1, `failed to parse value as time or duration: "${value}"`);
  }
  const fraction = /\.(\d{1,9})/.exec(value)?.[1] ?? '';
  return `${Math.floor(ms / 1000)}.${fraction.padEnd(9, '0')}`;
}
