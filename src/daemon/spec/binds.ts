// HostConfig.Binds ("src:dst[:mode]") and HostConfig.Mounts entries, parsed and validated as moby's
// linux parser does (daemon/volume/mounts/linux_parser.go): host-path binds, named and anonymous
// volumes (whose host paths the daemon fills in when it has made them) and tmpfs.
import { existsSync } from 'node:fs';
import { posix } from 'node:path';

import type { MountSpec } from '../../oci/engine-api.js';
import { BerthError, invalidArgument } from '../../util/errors.js';
import { convertTmpfsOptions } from './tmpfs.js';

/** A mount the user asked for, before it becomes OCI mount options (mounts.ts). */
export interface UserMount {
  type: 'bind' | 'volume' | 'tmpfs';
  destination: string;
  /** The host path of a bind or of a volume's data ("" until the daemon resolved the volume); "tmpfs" for a tmpfs. */
  source: string;
  /** A volume's name; "" for an anonymous volume not made yet. */
  name?: string;
  /** A new, empty volume is not filled with the image's content at the destination. */
  noCopy?: boolean;
  /** --mount volume-label / volume-opt / volume-driver: used when the volume is made. */
  volumeLabels?: Record<string, string>;
  volumeDriver?: string;
  volumeDriverOptions?: Record<string, string>;
  /** The -v mode text ("ro", "rw,z"), which inspect shows as Mode. */
  mode?: string;
  writable: boolean;
  /** Bind propagation (default rprivate). */
  propagation?: string;
  /** BindOptions.NonRecursive: "bind" instead of "rbind". */
  nonRecursive?: boolean;
  /** tmpfs option text ("size=64m,mode=1777"). */
  data?: string;
}

const RW_MODES = new Set(['rw', 'ro']);
const LABEL_MODES = new Set(['z', 'Z']);
const PROPAGATION_MODES = new Set(['private', 'rprivate', 'slave', 'rslave', 'shared', 'rshared']);
const COPY_MODES = new Set(['nocopy']);
const CONSISTENCY_MODES = new Set(['consistent', 'cached', 'delegated']);
const MODE_GROUPS = [RW_MODES, LABEL_MODES, PROPAGATION_MODES, COPY_MODES, CONSISTENCY_MODES];

const invalidSpec = (raw: string): string => `invalid volume specification: '${raw}'`;

/** linuxValidMountMode: comma-separated options, at most one of each kind. */
export function validMountMode(mode: string): boolean {
  if (mode === '') return true;
  const counts = MODE_GROUPS.map(() => 0);
  for (const option of mode.split(',')) {
    const group = MODE_GROUPS.findIndex((g) => g.has(option));
    if (group < 0) return false;
    counts[group]! += 1;
  }
  return counts.every((n) => n <= 1);
}

/** Go's strings.SplitN(s, ":", 4): the last part keeps the rest. */
function splitN(s: string, n: number): string[] {
  const parts = s.split(':');
  return parts.length <= n ? parts : [...parts.slice(0, n - 1), parts.slice(n - 1).join(':')];
}

/** One HostConfig.Binds entry (moby ParseMountRaw). */
export function parseBind(raw: string): UserMount {
  const parts = splitN(raw, 4);
  if (parts[0] === '' || parts.length > 3) throw invalidArgument(invalidSpec(raw));
  // One part: an anonymous volume at that path.
  const [source = '', target = '', mode = ''] = parts.length === 1 ? ['', parts[0]!] : parts;
  if (parts.length === 2 && validMountMode(target)) throw invalidArgument(invalidSpec(raw));
  if (!validMountMode(mode)) throw invalidArgument(`invalid mode: ${mode}`);
  const options = mode === '' ? [] : mode.split(',');
  const type = posix.isAbsolute(source) ? 'bind' : 'volume';
  const spec: MountSpec = { Type: type, Source: source, Target: target, ReadOnly: options.includes('ro') };
  if (options.some((o) => COPY_MODES.has(o))) spec.VolumeOptions = { NoCopy: true };
  const propagation = options.find((o) => PROPAGATION_MODES.has(o));
  if (propagation) {
    // moby: a named volume's mount cannot set propagation.
    if (type === 'volume') throw invalidArgument(`${invalidSpec(raw)}: invalid mount config for type "volume": field BindOptions must not be specified`);
    spec.BindOptions = { Propagation: propagation };
  }
  try {
    validateMountSpec(spec, false);
  } catch (err) {
    if (err instanceof BerthError) throw invalidArgument(`${invalidSpec(raw)}: ${err.message}`);
    throw err;
  }
  return { ...toUserMount(spec), mode };
}

/** One HostConfig.Mounts entry (moby ParseMountSpec: a bind source must exist unless CreateMountpoint). */
export function parseMountSpec(spec: MountSpec): UserMount {
  validateMountSpec(spec, true);
  return toUserMount(spec);
}

function toUserMount(spec: MountSpec): UserMount {
  const destination = posix.normalize(spec.Target).replace(/(.)\/$/, '$1');
  if (spec.Type === 'tmpfs') {
    return { type: 'tmpfs', destination, source: 'tmpfs', writable: !spec.ReadOnly, data: convertTmpfsOptions(spec.TmpfsOptions, spec.ReadOnly ?? false) };
  }
  if (spec.Type === 'volume') {
    const vo = spec.VolumeOptions;
    return {
      type: 'volume', destination, source: '', name: spec.Source ?? '', writable: !spec.ReadOnly, noCopy: vo?.NoCopy ?? false,
      volumeLabels: vo?.Labels ?? undefined, volumeDriver: vo?.DriverConfig?.Name || undefined, volumeDriverOptions: vo?.DriverConfig?.Options ?? undefined,
    };
  }
  return {
    type: 'bind',
    destination,
    source: posix.normalize(spec.Source ?? '').replace(/(.)\/$/, '$1'),
    writable: !spec.ReadOnly,
    propagation: spec.BindOptions?.Propagation || 'rprivate',
    nonRecursive: spec.BindOptions?.NonRecursive ?? false,
  };
}

/** moby validateMountConfigImpl, with its `invalid mount config for type "…"` wrapping. */
function validateMountSpec(spec: MountSpec, sourceMustExist: boolean): void {
  const problem = mountSpecProblem(spec, sourceMustExist);
  if (problem !== undefined) throw invalidArgument(`invalid mount config for type "${spec.Type}": ${problem}`);
}

function mountSpecProblem(spec: MountSpec, sourceMustExist: boolean): string | undefined {
  const exclusive = exclusiveOptionsProblem(spec);
  if (exclusive) return exclusive;
  if (!spec.Target) return 'field Target must not be empty';
  if (posix.normalize(spec.Target.replace(/\\/g, '/')) === '/') return "invalid specification: destination can't be '/'";
  if (!posix.isAbsolute(spec.Target)) return `invalid mount path: '${spec.Target}' mount path must be absolute`;
  switch (spec.Type) {
    case 'bind':
      return bindProblem(spec, sourceMustExist);
    case 'volume':
      return undefined; // the name is checked by the volume driver when the volume is made
    case 'tmpfs':
      return spec.Source ? 'field Source must not be specified' : undefined;
    default:
      return 'mount type unknown';
  }
}

function exclusiveOptionsProblem(spec: MountSpec): string | undefined {
  if (spec.Type !== 'bind' && spec.BindOptions) return 'field BindOptions must not be specified';
  if (spec.Type !== 'volume' && spec.VolumeOptions) return 'field VolumeOptions must not be specified';
  if (spec.Type !== 'tmpfs' && spec.TmpfsOptions) return 'field TmpfsOptions must not be specified';
  return undefined;
}

function bindProblem(spec: MountSpec, sourceMustExist: boolean): string | undefined {
  if (!spec.Source) return 'field Source must not be empty';
  const propagation = spec.BindOptions?.Propagation;
  if (propagation && !PROPAGATION_MODES.has(propagation)) return `invalid propagation mode: ${propagation}`;
  if (!posix.isAbsolute(spec.Source)) return `invalid mount path: '${spec.Source}' mount path must be absolute`;
  if (sourceMustExist && !spec.BindOptions?.CreateMountpoint && !existsSync(spec.Source)) {
    return `bind source path does not exist: ${spec.Source}`;
  }
  return undefined;
}
