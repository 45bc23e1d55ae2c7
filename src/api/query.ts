// Query-string and header parsing with the semantics of moby's httputils: booleans,
// integers, filters (both JSON forms), unix timestamps, X-Registry-Auth.
import type { Filters } from '../oci/engine-api.js';
import type { RegistryAuth } from '../daemon/backend.js';
import { invalidArgument } from '../util/errors.js';

const FALSE_WORDS: ReadonlySet<string> = new Set(['', '0', 'no', 'false', 'none']);

/** The query of one request; `get` returns the first value, as Go's Form.Get. */
export class QueryParams {
  constructor(private readonly params: URLSearchParams) {}

  static fromUrl(rawUrl: string): QueryParams {
    const q = rawUrl.indexOf('?');
    return new QueryParams(new URLSearchParams(q < 0 ? '' : rawUrl.slice(q + 1)));
  }

  has(key: string): boolean {
    return this.params.has(key);
  }

  /** The first value, "" when absent. */
  get(key: string): string {
    return this.params.get(key) ?? '';
  }

  /** The first value, undefined when absent or empty. */
  optional(key: string): string | undefined {
    const v = this.params.get(key);
    return v === null || v === '' ? undefined : v;
  }

  all(key: string): string[] {
    return this.params.getAll(key);
  }

  /** "", "0", "no", "false", "none" (any case) are false; anything else is true. */
  bool(key: string): boolean {
    return !FALSE_WORDS.has(this.get(key).trim().toLowerCase());
  }

  boolOrDefault(key: string, fallback: boolean): boolean {
    return this.has(key) ? this.bool(key) : fallback;
  }

  /** An integer parameter; undefined when absent or empty. */
  int(key: string): number | undefined {
    const raw = this.optional(key);
    return raw === undefined ? undefined : parseIntParam(key, raw);
  }

  /** An unsigned 32-bit parameter that must be present (resize h/w). */
  uint32(key: string, what: string): number {
    const raw = this.get(key);
    if (!/^-?[0-9]+$/.test(raw)) throw invalidArgument(`invalid ${what} ${JSON.stringify(raw)}: invalid syntax`);
    const value = Number(raw);
    if (value < 0 || value > 0xffffffff) throw invalidArgument(`invalid ${what} ${JSON.stringify(raw)}: value out of range`);
    return value;
  }

  filters(key = 'filters'): Filters {
    return parseFilters(this.get(key));
  }

  /** A unix timestamp parameter in seconds (fractions allowed); 0 when absent. */
  timestamp(key: string): number {
    return parseUnixTimestamp(key, this.get(key));
  }
}

export function parseIntParam(key: string, raw: string): number {
  if (!/^[+-]?[0-9]+$/.test(raw)) {
    throw invalidArgument(`invalid value for "${key}": ${JSON.stringify(raw)} is not an integer`);
  }
  const value = Number(raw);
  if (!Number.isSafeInteger(value)) throw invalidArgument(`invalid value for "${key}": ${raw} is out of range`);
  return value;
}

/**
 * Docker's filters parameter: {"key": {"value": true}} or the legacy {"key": ["value"]}.
 * Anything else is moby's "invalid filter".
 */
export function parseFilters(raw: string): Filters {
  if (raw === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw invalidArgument('invalid filter');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw invalidArgument('invalid filter');
  const filters: Filters = {};
  for (const [key, values] of Object.entries(parsed as Record<string, unknown>)) {
    if (values === null) continue;
    if (Array.isArray(values)) {
      if (!values.every((v): v is string => typeof v === 'string')) throw invalidArgument('invalid filter');
      filters[key] = [...new Set(values)];
    } else if (typeof values === 'object') {
      const entries = Object.entries(values as Record<string, unknown>);
      if (!entries.every(([, v]) => typeof v === 'boolean')) throw invalidArgument('invalid filter');
      filters[key] = entries.map(([v]) => v);
    } else {
      throw invalidArgument('invalid filter');
    }
  }
  return filters;
}

/**
 * moby's timestamp.ParseUnixTimestamp: "seconds" or "seconds.fraction" (the CLI converts
 * durations and RFC 3339 times to this before sending). Returns seconds; "" is 0.
 */
export function parseUnixTimestamp(key: string, raw: string): number {
  if (raw === '') return 0;
  const m = /^(-?[0-9]+)(?:\.([0-9]{0,20}))?$/.exec(raw);
  if (m === null) {
    throw invalidArgument(`invalid value for "${key}": invalid timestamp ${JSON.stringify(raw)}: expected unix seconds with an optional fraction`);
  }
  const fraction = (m[2] ?? '').slice(0, 9).padEnd(9, '0');
  // As Go's time.Unix(sec, nsec): the fraction always adds, even to negative seconds.
  return Number(m[1]) + Number(fraction) / 1e9;
}

/**
 * The X-Registry-Auth header: base64url JSON (padding optional; standard base64 tolerated).
 * Undefined when absent or undecodable: moby ignores a bad header for pull and push.
 */
export function parseRegistryAuth(header: string | string[] | undefined): RegistryAuth | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || value.trim() === '') return undefined;
  try {
    const json = Buffer.from(value.trim().replace(/\+/g, '-').replace(/\//g, '_'), 'base64url').toString('utf8');
    const parsed: unknown = JSON.parse(json);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
    const auth: RegistryAuth = {};
    for (const key of ['username', 'password', 'auth', 'identitytoken', 'registrytoken', 'serveraddress'] as const) {
      const found = Object.entries(parsed as Record<string, unknown>).find(([k]) => k.toLowerCase() === key);
      if (found !== undefined && typeof found[1] === 'string' && found[1] !== '') auth[key] = found[1];
    }
    return auth;
  } catch {
    return undefined;
  }
}

/** containerd's platform string: os[/arch[/variant]], each a lowercase word. */
export function parsePlatform(raw: string | undefined): string | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (!/^[A-Za-z0-9_.-]+(?:\/[A-Za-z0-9_.-]+){0,2}$/.test(raw)) {
    throw invalidArgument(`"${raw}": unknown operating system or architecture: invalid argument`);
  }
  return raw.toLowerCase();
}
