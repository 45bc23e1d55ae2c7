// The `local` volume driver's rules, as moby's volume/local package has them: which names
// are valid, which driver options exist and go together, and how an options volume is
// mounted (`mount -t <type> -o <o> <device> <_data>`).
import { invalidArgument } from '../util/errors.js';
import type { StringMap } from '../oci/engine-api.js';

/** moby volume/local: at least two characters, the first alphanumeric. */
const VALID_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

export function validateVolumeName(name: string): void {
  if (name.length < 2) {
    throw invalidArgument(`volume name is too short, names should be at least two alphanumeric characters`);
  }
  if (!VALID_NAME.test(name)) {
    throw invalidArgument(`"${name}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`);
  }
}

const VALID_OPTIONS = new Set(['type', 'o', 'device', 'size']);
/** An option that is given needs these too (moby mandatoryOpts). */
const REQUIRED_WITH: Readonly<Record<string, readonly string[]>> = { device: ['type'], type: ['device'], o: ['device'] };

/** moby Root.validateOpts, without quota support (berth has no xfs project quotas). */
export function validateDriverOptions(opts: StringMap): void {
  for (const key of Object.keys(opts)) {
    if (!VALID_OPTIONS.has(key)) throw invalidArgument(`invalid option: "${key}"`);
  }
  if ('size' in opts) throw invalidArgument('quota size requested but no quota support');
  for (const [key, needs] of Object.entries(REQUIRED_WITH)) {
    if (!(key in opts)) continue;
    for (const need of needs) if (!(need in opts)) throw invalidArgument(`missing required option: "${need}"`);
  }
  // The values become mount(8) arguments: one must not be taken for a flag of its own.
  for (const key of ['type', 'device'] as const) {
    const value = opts[key];
    if (value !== undefined && (value === '' || value.startsWith('-') || value.includes('\0'))) {
      throw invalidArgument(`invalid value for volume option "${key}": "${value}"`);
    }
  }
  if (opts['o']?.includes('\0')) throw invalidArgument('invalid value for volume option "o"');
}

/** Whether the volume is a mount of its own (tmpfs, a bind, a device) rather than a plain directory. */
export function needsMount(opts: StringMap): boolean {
  return opts['type'] !== undefined || opts['device'] !== undefined;
}

/** The mount(8) argv that mounts an options volume on its data directory. */
export function mountArgv(opts: StringMap, target: string): string[] {
  const options = opts['o'] ? ['-o', opts['o']] : [];
  return ['mount', '-t', opts['type']!, ...options, opts['device']!, target];
}
