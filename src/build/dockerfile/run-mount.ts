// RUN --mount=type=cache|bind|tmpfs|secret|ssh,... following BuildKit's
// instructions/commands_runmount.go.
import { invalidArgument } from '../../util/errors.js';
import { joinCsv, splitCsv } from './csv.js';
import { errorAtLoc } from './location.js';
import type { RunInstruction } from './types.js';

export type MountType = 'bind' | 'cache' | 'tmpfs' | 'secret' | 'ssh';
export type CacheSharing = 'shared' | 'private' | 'locked';

export interface RunMount {
  type: MountType;
  /** A stage name or index, or an image, to mount from (bind and cache). */
  from?: string;
  source?: string;
  target?: string;
  readOnly: boolean;
  /** tmpfs size in bytes. */
  sizeLimit?: number;
  /** Cache id, or secret/ssh id. */
  id?: string;
  sharing?: CacheSharing;
  /** secret/ssh: fail when the secret or agent is missing. */
  required: boolean;
  /** secret: expose it as this environment variable. */
  env?: string;
  mode?: number;
  uid?: number;
  gid?: number;
}

const MOUNT_TYPES: readonly MountType[] = ['bind', 'cache', 'tmpfs', 'secret', 'ssh'];
const SHARING: readonly CacheSharing[] = ['shared', 'private', 'locked'];
const MAX_UINT32 = 0xffffffff;

/** Parses one --mount value. Pass it after expansion (see expandRunMount). */
export function parseRunMount(value: string): RunMount {
  const m: RunMount = { type: 'bind', readOnly: true, required: false };
  let roAuto = true;
  for (const field of splitCsv(value)) {
    const eq = field.indexOf('=');
    const key = (eq === -1 ? field : field.slice(0, eq)).toLowerCase();
    if (eq === -1) {
      roAuto = applyBareKey(m, key, field) && roAuto;
      continue;
    }
    const val = field.slice(eq + 1);
    if (key === 'readonly' || key === 'ro' || key === 'readwrite' || key === 'rw') {
      const b = parseGoBool(val, key);
      m.readOnly = key === 'readonly' || key === 'ro' ? b : !b;
      roAuto = false;
    } else applyKeyValue(m, key, val, field);
  }
  if (roAuto) m.readOnly = !(m.type === 'cache' || m.type === 'tmpfs');
  validateMount(m);
  return m;
}

/** Applies a field without `=`; returns false when it set the read-only state explicitly. */
function applyBareKey(m: RunMount, key: string, field: string): boolean {
  switch (key) {
    case 'readonly':
    case 'ro':
      m.readOnly = true;
      return false;
    case 'readwrite':
    case 'rw':
      m.readOnly = false;
      return false;
    case 'required':
      if (m.type !== 'secret' && m.type !== 'ssh') throw invalidArgument(`unexpected key '${key}' for mount type '${m.type}'`);
      m.required = true;
      return true;
    default:
      throw invalidArgument(`invalid field '${field}' must be a key=value pair`);
  }
}

function applyKeyValue(m: RunMount, key: string, val: string, field: string): void {
  switch (key) {
    case 'type':
      m.type = oneOf(val.toLowerCase(), MOUNT_TYPES, `unsupported mount type "${val}"`);
      return;
    case 'from':
      m.from = val;
      return;
    case 'source':
    case 'src':
      m.source = val;
      return;
    case 'target':
    case 'dst':
    case 'destination':
      m.target = val;
      return;
    case 'id':
      m.id = val;
      return;
    case 'env':
      m.env = val;
      return;
    case 'sharing':
      m.sharing = oneOf(val.toLowerCase(), SHARING, `unsupported sharing value "${val}"`);
      return;
    default:
      applyTypedKey(m, key, val, field);
  }
}

function applyTypedKey(m: RunMount, key: string, val: string, field: string): void {
  switch (key) {
    case 'required':
      if (m.type !== 'secret' && m.type !== 'ssh') throw invalidArgument(`unexpected key '${key}' for mount type '${m.type}'`);
      m.required = parseGoBool(val, key);
      return;
    case 'size':
      if (m.type !== 'tmpfs') throw invalidArgument(`unexpected key '${key}' for mount type '${m.type}'`);
      m.sizeLimit = parseRamSize(val, key);
      return;
    case 'mode':
      m.mode = parseUint32(val, 8, 'mode');
      return;
    case 'uid':
      m.uid = parseUint32(val, 10, 'uid');
      return;
    case 'gid':
      m.gid = parseUint32(val, 10, 'gid');
      return;
    default:
      throw invalidArgument(`unexpected key '${key}' in '${field}'`);
  }
}

function validateMount(m: RunMount): void {
  const fileInfoAllowed = m.type === 'secret' || m.type === 'ssh' || m.type === 'cache';
  for (const k of ['mode', 'uid', 'gid'] as const) {
    if (!fileInfoAllowed && m[k] !== undefined) throw invalidArgument(`${k} not allowed for "${m.type}" type mounts`);
  }
  if (m.type === 'secret') {
    if (m.from !== undefined && m.from !== '') throw invalidArgument('secret mount should not have a from');
    if (m.sharing) throw invalidArgument('secret mount should not define sharing');
    if (!m.source && !m.target && !m.id) throw invalidArgument('invalid secret mount. one of source, target required');
    if (m.source && m.id) throw invalidArgument("both source and id can't be set");
  }
  if (m.sharing && m.type !== 'cache') throw invalidArgument(`invalid cache sharing set for ${m.type} mount`);
  // secret and ssh have default targets (/run/secrets/<id>, the agent socket); the others do not.
  if ((m.type === 'bind' || m.type === 'cache' || m.type === 'tmpfs') && !m.target) {
    throw invalidArgument(`mount target is required for type=${m.type}`);
  }
}

function oneOf<T extends string>(val: string, allowed: readonly T[], msg: string): T {
  if (!(allowed as readonly string[]).includes(val)) throw invalidArgument(`${msg}, expected one of ${allowed.join(', ')}`);
  return val as T;
}

/** Go's strconv.ParseBool. */
export function parseGoBool(val: string, key: string): boolean {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(val)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(val)) return false;
  throw invalidArgument(`invalid value for ${key}: ${val}`);
}

function parseUint32(val: string, base: 8 | 10, key: string): number {
  const ok = base === 8 ? /^[0-7]+$/.test(val) : /^[0-9]+$/.test(val);
  const n = ok ? parseInt(val, base) : NaN;
  if (!ok || n > MAX_UINT32) throw invalidArgument(`invalid value ${val} for ${key}`);
  return n;
}

const RAM_UNITS: Record<string, number> = { k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };

/** docker/go-units RAMInBytes: "64m", "1.5g", "512 KiB", "100" (binary multiples). */
export function parseRamSize(val: string, key = 'size'): number {
  const m = /^(\d+(?:\.\d*)?|\.\d+) ?(?:([kmgtp])(?:i?b)?|b)?$/i.exec(val);
  if (!m) throw invalidArgument(`invalid value for ${key}: ${val}`);
  const unit = m[2] ? (RAM_UNITS[m[2].toLowerCase()] as number) : 1;
  return Math.trunc(parseFloat(m[1] as string) * unit);
}

/** Expands the value of every key=value field, as BuildKit does before parsing a mount. */
export function expandRunMount(value: string, expand: (word: string) => string): string {
  const fields = splitCsv(value).map((field) => {
    const eq = field.indexOf('=');
    return eq === -1 ? field : field.slice(0, eq + 1) + expand(field.slice(eq + 1));
  });
  return joinCsv(fields);
}

/**
 * A mount's `from` decides the stage graph before any variable is known, so BuildKit
 * rejects variables in it (a trailing `$` is a literal).
 */
export function checkMountFrom(value: string): void {
  for (const field of splitCsv(value)) {
    const eq = field.indexOf('=');
    if (eq === -1 || field.slice(0, eq).toLowerCase() !== 'from') continue;
    const v = field.slice(eq + 1);
    const idx = v.indexOf('$');
    if (idx !== -1 && idx !== v.length - 1) {
      throw invalidArgument("'from' doesn't support variable expansion, define alias stage instead");
    }
  }
}

/** The parsed mounts of an (already expanded) RUN, with errors located in the Dockerfile. */
export function runMounts(run: RunInstruction): RunMount[] {
  return run.flags.mount.map((value) => {
    try {
      return parseRunMount(value);
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      throw errorAtLoc(run.loc, `--mount=${value}: ${msg}`, err);
    }
  });
}
