// tmpfs mount options as moby builds them: its defaults, then the user's, de-duplicated by moby/sys/mount
// MergeTmpfsOptions (a later option wins over an earlier one that sets the same flag or key).
import { invalidArgument } from '../../util/errors.js';

/** Flag options grouped by the mount flag they set or clear (moby/sys/mount flags_unix.go). */
const FLAG_GROUP: Readonly<Record<string, string>> = {
  ro: 'rdonly', rw: 'rdonly', suid: 'nosuid', nosuid: 'nosuid', dev: 'nodev', nodev: 'nodev',
  exec: 'noexec', noexec: 'noexec', sync: 'sync', async: 'sync', dirsync: 'dirsync', remount: 'remount',
  mand: 'mand', nomand: 'mand', atime: 'noatime', noatime: 'noatime', diratime: 'nodiratime',
  nodiratime: 'nodiratime', relatime: 'relatime', norelatime: 'relatime', strictatime: 'strictatime',
  nostrictatime: 'strictatime',
  // There is only one propagation (and bind) mode.
  bind: 'propagation', rbind: 'propagation', unbindable: 'propagation', runbindable: 'propagation',
  private: 'propagation', rprivate: 'propagation', shared: 'propagation', rshared: 'propagation',
  slave: 'propagation', rslave: 'propagation',
};

const DATA_KEYS = new Set(['', 'size', 'mode', 'uid', 'gid', 'nr_inodes', 'nr_blocks', 'mpol']);

/** moby's tmpfs defaults (daemon/oci_linux.go withMounts): noexec, nosuid, nodev and rprivate. */
const TMPFS_DEFAULTS = ['noexec', 'nosuid', 'nodev', 'rprivate'];

export function mergeTmpfsOptions(options: readonly string[]): string[] {
  const seenFlags = new Set<string>();
  const seenData = new Set<string>();
  const out: string[] = [];
  for (const option of [...options].reverse()) {
    if (option === 'defaults') continue;
    const group = FLAG_GROUP[option];
    if (group !== undefined) {
      if (!seenFlags.has(group)) out.unshift(option);
      seenFlags.add(group);
      continue;
    }
    const eq = option.indexOf('=');
    const key = eq < 0 ? option : option.slice(0, eq);
    if (eq < 0 || !DATA_KEYS.has(key)) throw invalidArgument(`invalid tmpfs option "${key}"`);
    if (!seenData.has(key)) out.unshift(option);
    seenData.add(key);
  }
  return out;
}

/** The options of a tmpfs mount whose HostConfig.Tmpfs value (or converted TmpfsOptions) is `data`. */
export function tmpfsMountOptions(data: string): string[] {
  return mergeTmpfsOptions([...TMPFS_DEFAULTS, ...(data === '' ? [] : data.split(','))]);
}

/** moby linuxParser.ConvertTmpfsOptions: a Mounts entry's TmpfsOptions as option text. */
export function convertTmpfsOptions(opts: { SizeBytes?: number; Mode?: number } | undefined, readOnly: boolean): string {
  const raw: string[] = [];
  if (readOnly) raw.push('ro');
  if (opts?.Mode) raw.push(`mode=${opts.Mode.toString(8)}`);
  if (opts?.SizeBytes) raw.push(`size=${sizeWithSuffix(opts.SizeBytes)}`);
  return raw.join(',');
}

function sizeWithSuffix(size: number): string {
  for (const [suffix, divisor] of [['g', 2 ** 30], ['m', 2 ** 20], ['k', 2 ** 10]] as const) {
    if (size % divisor === 0) return `${size / divisor}${suffix}`;
  }
  return String(size);
}
