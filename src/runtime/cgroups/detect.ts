// Which cgroup hierarchies this host has, read from /proc/self/mountinfo
// (never guessed from directory names: a cpu hierarchy may be mounted at
// "cpu,cpuacct", cpu and cpuacct may be separate, hugetlb may be missing), and
// which cgroup this process is in, read from /proc/self/cgroup.

import { readFileSync } from 'node:fs';
import { posix } from 'node:path';
import { unavailable, internal } from '../../util/errors.js';

/** v1 controllers the kernel knows; other mount options (noprefix, xattr, release_agent=…) are not controllers. */
const V1_CONTROLLERS = new Set([
  'cpuset', 'cpu', 'cpuacct', 'blkio', 'memory', 'devices', 'freezer', 'net_cls',
  'perf_event', 'net_prio', 'hugetlb', 'pids', 'rdma', 'misc', 'debug',
]);

export interface CgroupMount {
  mountpoint: string;
  /** The mount's root inside its hierarchy (4th mountinfo field; not "/" in nested containers without cgroupns). */
  root: string;
  fstype: 'cgroup' | 'cgroup2';
  /** v1: controllers and name=… hierarchies on this mount. Empty for cgroup2. */
  controllers: string[];
  /** v1 cpuset mounted with noprefix (files are "cpus", not "cpuset.cpus"). */
  noprefix: boolean;
}

export interface HostLayout {
  /** unified: one cgroup2 hierarchy; legacy: only v1; hybrid: v1 plus a controller-less cgroup2. */
  mode: 'unified' | 'legacy' | 'hybrid';
  /** The cgroup2 mount (unified: the hierarchy; hybrid: e.g. /sys/fs/cgroup/unified). */
  unified?: CgroupMount;
  /** v1 hierarchy per controller name ('cpu', 'name=systemd', …); co-mounted controllers share one entry value. */
  v1: Map<string, CgroupMount>;
}

/** Undo mountinfo's octal escapes (\040 space, \011 tab, \012 newline, \134 backslash). */
function unescapeMountField(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

/** Every cgroup/cgroup2 mount in mountinfo text, in file order. */
export function parseCgroupMounts(mountinfo: string): CgroupMount[] {
  const mounts: CgroupMount[] = [];
  for (const line of mountinfo.split('\n')) {
    if (line.trim() === '') continue;
    const fields = line.split(' ');
    // Optional fields end with a lone "-"; after it: fstype, source, super options.
    const sep = fields.indexOf('-', 6);
    if (sep < 0 || fields.length < sep + 4) continue;
    const fstype = fields[sep + 1];
    if (fstype !== 'cgroup' && fstype !== 'cgroup2') continue;
    const superOpts = (fields[sep + 3] ?? '').split(',');
    mounts.push({
      mountpoint: unescapeMountField(fields[4] ?? ''),
      root: unescapeMountField(fields[3] ?? '/'),
      fstype,
      controllers: fstype === 'cgroup' ? superOpts.filter((o) => V1_CONTROLLERS.has(o) || o.startsWith('name=')) : [],
      noprefix: superOpts.includes('noprefix'),
    });
  }
  return mounts;
}

function isAtOrBelow(path: string, root: string): boolean {
  return path === root || path.startsWith(root === '/' ? '/' : `${root}/`);
}

/** Classify the hierarchies mounted at or below root (other cgroup mounts, e.g. inside containers, are ignored). */
export function detectLayout(mountinfo: string, root: string): HostLayout {
  const mounts = parseCgroupMounts(mountinfo).filter((m) => isAtOrBelow(m.mountpoint, root));
  const v1 = new Map<string, CgroupMount>();
  for (const m of mounts) {
    if (m.fstype !== 'cgroup') continue;
    // The first mount of a controller wins, as in runc (later ones are usually bind mounts).
    for (const c of m.controllers) if (!v1.has(c)) v1.set(c, m);
  }
  const cgroup2 = mounts.filter((m) => m.fstype === 'cgroup2');
  const atRoot = cgroup2.find((m) => m.mountpoint === root);
  if (atRoot) return { mode: 'unified', unified: atRoot, v1: new Map() };
  if (v1.size > 0) {
    const hybrid = cgroup2[0];
    return hybrid ? { mode: 'hybrid', unified: hybrid, v1 } : { mode: 'legacy', v1 };
  }
  // No v1 controllers at all: a lone cgroup2 below root is the whole hierarchy.
  const only = cgroup2[0];
  if (only) return { mode: 'unified', unified: only, v1: new Map() };
  throw unavailable(`cgroup: no cgroup filesystem is mounted at or below ${root} (per /proc/self/mountinfo)`);
}

/**
 * /proc/self/cgroup as hierarchy → path. v1 lines give one key per controller
 * ("cpu", "name=systemd"); the cgroup2 line ("0::/path") has key "".
 */
export function parseSelfCgroup(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const first = line.indexOf(':');
    const second = line.indexOf(':', first + 1);
    if (first < 0 || second < 0) throw internal(`cgroup: malformed /proc/self/cgroup line ${JSON.stringify(line)}`);
    const path = line.slice(second + 1);
    for (const c of line.slice(first + 1, second).split(',')) out.set(c, path);
  }
  return out;
}

export function readMountinfo(): string {
  return readFileSync('/proc/self/mountinfo', 'utf8');
}

export function readSelfCgroup(): string {
  return readFileSync('/proc/self/cgroup', 'utf8');
}

/** The path of this process's cgroup relative to a mount of that hierarchy (handles non-"/" mount roots). */
export function ownPathInMount(own: string, mount: CgroupMount, hierarchy: string): string {
  const rel = posix.relative(mount.root, own);
  if (rel.startsWith('..')) {
    throw internal(
      `cgroup: this process's ${hierarchy || 'cgroup2'} cgroup ${own} is outside the mounted part ${mount.root} of that hierarchy (${mount.mountpoint})`,
    );
  }
  return rel;
}
