// The filters `GET /images/json` and `POST /images/prune` accept, checked and read as
// dockerd reads them (api/types/filters, pkg/timetypes): unknown keys and bad values are
// 400s naming the filter.
import type { Filters } from '../../oci/engine-api.js';
import { invalidArgument } from '../../util/errors.js';

export const LIST_FILTERS = ['dangling', 'label', 'before', 'since', 'reference', 'until'];
export const PRUNE_FILTERS = ['dangling', 'label', 'label!', 'until'];

/** Docker's invalidFilter error: "invalid filter 'name'" or "invalid filter 'name=[values]'". */
function invalidFilter(name: string, values?: string[]): Error {
  return invalidArgument(`invalid filter '${name}${values ? `=[${values.join(' ')}]` : ''}'`);
}

export function checkFilterNames(filters: Filters, accepted: readonly string[]): void {
  for (const name of Object.keys(filters)) if (!accepted.includes(name)) throw invalidFilter(name);
}

/** The dangling filter as a boolean (undefined: not given). Only "true"/"1" and "false"/"0". */
export function danglingFilter(filters: Filters): boolean | undefined {
  const values = filters.dangling;
  if (!values || values.length === 0) return undefined;
  const truthy = values.every((v) => v.toLowerCase() === 'true' || v === '1');
  const falsy = values.every((v) => v.toLowerCase() === 'false' || v === '0');
  if (!truthy && !falsy) throw invalidFilter('dangling', values);
  return truthy;
}

/** MatchKVList: every "key" present and every "key=value" equal. */
export function labelsMatch(labels: Record<string, string>, wanted: readonly string[]): boolean {
  return wanted.every((w) => {
    const eq = w.indexOf('=');
    return eq === -1 ? w in labels : labels[w.slice(0, eq)] === w.slice(eq + 1);
  });
}

/** The prune label filters: all of `label`, and not all of `label!` (dockerd's matchLabels). */
export function pruneLabelsMatch(labels: Record<string, string>, filters: Filters): boolean {
  if (filters.label && !labelsMatch(labels, filters.label)) return false;
  const not = filters['label!'];
  if (not && not.length > 0 && labelsMatch(labels, not)) return false;
  return true;
}

const GO_DURATION_RE = /^([0-9]*\.?[0-9]+(ns|us|µs|ms|s|m|h))+$/;
const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * The `until` filter as milliseconds since the epoch (undefined: not given). As Docker's
 * GetTimestamp: a Go duration ("24h", "1h30m") counts back from now; a number is Unix
 * seconds (fractions allowed); anything else is a date ("2024-01-02", RFC 3339).
 */
export function untilFilter(filters: Filters, now = Date.now()): number | undefined {
  const values = filters.until;
  if (!values || values.length === 0) return undefined;
  if (values.length > 1) throw invalidArgument('more than one until filter specified');
  return parseTimestamp(values[0]!, now);
}

export function parseTimestamp(value: string, now = Date.now()): number {
  if (GO_DURATION_RE.test(value)) {
    let ms = 0;
    for (const m of value.matchAll(/([0-9]*\.?[0-9]+)(ns|us|µs|ms|s|m|h)/g)) ms += Number(m[1]) * UNIT_MS[m[2]!]!;
    return now - ms;
  }
  if (/^-?\d+(\.\d+)?$/.test(value)) return Number(value) * 1000;
  const parsed = Date.parse(value);
  if (Number.isNaN(parsed)) throw invalidArgument(`invalid filter 'until=${value}': not a Unix timestamp, a date or a duration`);
  return parsed;
}
