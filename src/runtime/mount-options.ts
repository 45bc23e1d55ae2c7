// OCI mount options → mount(2) flags, propagation, recursive attributes and data,
// with the same vocabulary runc accepts.
import { MS, MOUNT_ATTR } from './linux-constants.js';

export interface ParsedMountOptions {
  flags: number;
  propagation: number;
  recursiveAttr: number;
  data: string[];
}

const SET_FLAGS: Record<string, number> = {
  bind: MS.BIND,
  rbind: MS.BIND | MS.REC,
  dirsync: MS.DIRSYNC,
  mand: MS.MANDLOCK,
  noatime: MS.NOATIME,
  nodev: MS.NODEV,
  nodiratime: MS.NODIRATIME,
  noexec: MS.NOEXEC,
  nosuid: MS.NOSUID,
  nosymfollow: MS.NOSYMFOLLOW,
  relatime: MS.RELATIME,
  remount: MS.REMOUNT,
  ro: MS.RDONLY,
  silent: MS.SILENT,
  strictatime: MS.STRICTATIME,
  sync: MS.SYNCHRONOUS,
};

const CLEAR_FLAGS: Record<string, number> = {
  async: MS.SYNCHRONOUS,
  atime: MS.NOATIME,
  defaults: 0,
  dev: MS.NODEV,
  diratime: MS.NODIRATIME,
  exec: MS.NOEXEC,
  loud: MS.SILENT,
  nomand: MS.MANDLOCK,
  norelatime: MS.RELATIME,
  nostrictatime: MS.STRICTATIME,
  rw: MS.RDONLY,
  suid: MS.NOSUID,
  symfollow: MS.NOSYMFOLLOW,
};

const PROPAGATION: Record<string, number> = {
  private: MS.PRIVATE,
  rprivate: MS.PRIVATE | MS.REC,
  shared: MS.SHARED,
  rshared: MS.SHARED | MS.REC,
  slave: MS.SLAVE,
  rslave: MS.SLAVE | MS.REC,
  unbindable: MS.UNBINDABLE,
  runbindable: MS.UNBINDABLE | MS.REC,
};

const RECURSIVE_ATTR: Record<string, number> = {
  rro: MOUNT_ATTR.RDONLY,
  rnosuid: MOUNT_ATTR.NOSUID,
  rnodev: MOUNT_ATTR.NODEV,
  rnoexec: MOUNT_ATTR.NOEXEC,
  rnoatime: MOUNT_ATTR.NOATIME,
  rstrictatime: MOUNT_ATTR.STRICTATIME,
  rnodiratime: MOUNT_ATTR.NODIRATIME,
  rnosymfollow: MOUNT_ATTR.NOSYMFOLLOW,
};

/** Options with no kernel meaning that OCI configs carry; accepted and ignored. */
const IGNORED = new Set(['rrw', 'rsuid', 'rdev', 'rexec', 'ratime', 'rdiratime', 'rsymfollow', 'rrelatime', 'tmpcopyup']);

export function parseMountOptions(options: readonly string[] = []): ParsedMountOptions {
  const out: ParsedMountOptions = { flags: 0, propagation: 0, recursiveAttr: 0, data: [] };
  for (const opt of options) {
    if (opt in SET_FLAGS) out.flags |= SET_FLAGS[opt]!;
    else if (opt in CLEAR_FLAGS) out.flags &= ~CLEAR_FLAGS[opt]!;
    else if (opt in PROPAGATION) out.propagation |= PROPAGATION[opt]!;
    else if (opt in RECURSIVE_ATTR) out.recursiveAttr |= RECURSIVE_ATTR[opt]!;
    else if (!IGNORED.has(opt)) out.data.push(opt);
  }
  return out;
}
