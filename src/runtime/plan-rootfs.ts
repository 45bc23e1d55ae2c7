// The container's filesystem: rootfs, mounts, devices, /dev symlinks, masked and
// read-only paths. Every target is a path inside the rootfs; the shim resolves it there.
import { isAbsolute, resolve as resolvePath, posix } from 'node:path';
import type { LinuxDevice, Mount, Spec } from '../oci/runtime-spec.js';
import { invalidArgument } from '../util/errors.js';
import { MS, S_IF, makedev } from './linux-constants.js';
import { parseMountOptions } from './mount-options.js';
import { MountOpt, type ProgramOp } from './program.js';
import { planCgroupMount, type CgroupHierarchy } from './plan-cgroup-mounts.js';

/** Devices every container gets (runc's and Docker's defaults). */
export const DEFAULT_DEVICES: readonly LinuxDevice[] = [
  { path: '/dev/null', type: 'c', major: 1, minor: 3, fileMode: 0o666, uid: 0, gid: 0 },
  { path: '/dev/zero', type: 'c', major: 1, minor: 5, fileMode: 0o666, uid: 0, gid: 0 },
  { path: '/dev/full', type: 'c', major: 1, minor: 7, fileMode: 0o666, uid: 0, gid: 0 },
  { path: '/dev/tty', type: 'c', major: 5, minor: 0, fileMode: 0o666, uid: 0, gid: 0 },
  { path: '/dev/random', type: 'c', major: 1, minor: 8, fileMode: 0o666, uid: 0, gid: 0 },
  { path: '/dev/urandom', type: 'c', major: 1, minor: 9, fileMode: 0o666, uid: 0, gid: 0 },
];

const PROPAGATION_NAMES: Record<string, number> = {
  shared: MS.SHARED,
  rshared: MS.SHARED,
  slave: MS.SLAVE,
  rslave: MS.SLAVE,
  private: MS.PRIVATE,
  rprivate: MS.PRIVATE,
  unbindable: MS.UNBINDABLE,
  runbindable: MS.UNBINDABLE,
};

export function cleanDestination(dest: string, what: string): string {
  if (!isAbsolute(dest)) throw invalidArgument(`${what}: destination "${dest}" must be an absolute path`);
  const clean = posix.normalize(dest);
  if (clean.split('/').includes('..')) throw invalidArgument(`${what}: destination "${dest}" escapes the root`);
  return clean;
}

function mountOps(m: Mount, input: RootfsPlanInput, index: number): ProgramOp[] {
  const what = `mounts[${index}]`;
  const dest = cleanDestination(m.destination, what);
  const opts = parseMountOptions(m.options);
  if (m.type === 'cgroup' || m.type === 'cgroup2') return planCgroupMount(dest, opts, input.cgroupHierarchies, input.cgroupns);
  const bundle = input.bundle;
  const bind = m.type === 'bind' || (opts.flags & MS.BIND) !== 0;
  let source = m.source ?? '';
  if (bind) {
    if (!source) throw invalidArgument(`${what}: a bind mount needs a source`);
    if (!isAbsolute(source)) source = resolvePath(bundle, source);
  }
  if (m.uidMappings?.length || m.gidMappings?.length) {
    throw invalidArgument(`${what}: id-mapped mounts are not supported yet`);
  }
  let mopt = bind ? MountOpt.BIND : 0;
  if (opts.recursiveAttr) mopt |= MountOpt.RECURSIVE_ATTR;
  return [{
    op: 'MOUNT',
    args: [source, dest, bind ? '' : (m.type ?? ''), opts.flags, opts.data.join(','), opts.propagation, mopt, opts.recursiveAttr],
    what: `mounting ${source || m.type} on ${dest}`,
  }];
}

function deviceType(d: LinuxDevice): number {
  switch (d.type) {
    case 'c':
    case 'u':
      return S_IF.CHR;
    case 'b':
      return S_IF.BLK;
    case 'p':
      return S_IF.FIFO;
    default:
      throw invalidArgument(`linux.devices: ${d.path}: unknown device type "${d.type}"`);
  }
}

function deviceOp(d: LinuxDevice, inUserNs: boolean): ProgramOp {
  const path = cleanDestination(d.path, 'linux.devices');
  if (!path.startsWith('/dev/')) throw invalidArgument(`linux.devices: ${d.path} is not under /dev`);
  if (inUserNs) {
    // mknod is not allowed in a user namespace: bind the host's node instead, as runc does.
    return {
      op: 'MOUNT',
      args: [d.path, path, '', MS.BIND, '', 0, MountOpt.BIND, 0],
      what: `binding device ${d.path} from the host`,
    };
  }
  const mode = deviceType(d) | ((d.fileMode ?? 0o666) & 0o7777);
  const dev = d.type === 'p' ? 0n : makedev(d.major ?? 0, d.minor ?? 0);
  return { op: 'MKNOD', args: [path, mode, dev, d.uid ?? 0, d.gid ?? 0], what: `creating device ${path}` };
}

export interface RootfsPlanInput {
  spec: Spec;
  bundle: string;
  rootfs: string;
  inUserNs: boolean;
  kcore: boolean;
  cgroupns: boolean;
  cgroupHierarchies: readonly CgroupHierarchy[];
  /** false: the container shares the runtime's mount namespace (runc then chroots). */
  ownMountNs: boolean;
  /** The root filesystem's own mounts, made at `rootfs` inside the container's mount namespace (berthd). */
  rootfsMounts?: readonly RootfsMount[];
}

/** One mount of a container's root filesystem (a snapshot): overlay or bind, with mount(2)'s data string. */
export interface RootfsMount {
  type: string;
  source: string;
  data: string;
  /** Directory relative overlay paths in `data` are relative to. */
  cwd?: string;
}

/** Ops from making / private-ish through devices and symlinks (before hooks and pivot). */
export function planRootfs(input: RootfsPlanInput): ProgramOp[] {
  const { spec, rootfs, inUserNs, kcore } = input;
  const ops: ProgramOp[] = [];
  const propName = spec.linux?.rootfsPropagation ?? 'rslave';
  const prop = PROPAGATION_NAMES[propName];
  if (prop === undefined) throw invalidArgument(`linux.rootfsPropagation: unknown value "${propName}"`);
  // Never change the propagation of the runtime's own mount namespace.
  if (input.ownMountNs) ops.push({ op: 'ROOT_PROPAGATION', args: [prop], what: `making / ${propName}` });
  if (input.rootfsMounts?.length) {
    // Made in the container's namespace, they vanish with it: nothing to unmount on the host.
    if (!input.ownMountNs) throw invalidArgument('rootfs mounts need a mount namespace of the container\'s own');
    for (const m of input.rootfsMounts) {
      ops.push({ op: 'MOUNT_ROOTFS', args: [rootfs, m.type, m.source, m.data, m.cwd ?? ''], what: `mounting the ${m.type} root filesystem` });
    }
  }
  ops.push({ op: 'ROOTFS', args: [rootfs, input.ownMountNs ? 1 : 0], what: `preparing the rootfs ${rootfs}` });
  (spec.mounts ?? []).forEach((m, i) => ops.push(...mountOps(m, input, i)));
  const specDevices = spec.linux?.devices ?? [];
  const devices = [...specDevices, ...DEFAULT_DEVICES.filter((d) => !specDevices.some((s) => s.path === d.path))];
  for (const d of devices) ops.push(deviceOp(d, inUserNs));
  const links: [string, string][] = [
    ['/proc/self/fd', '/dev/fd'],
    ['/proc/self/fd/0', '/dev/stdin'],
    ['/proc/self/fd/1', '/dev/stdout'],
    ['/proc/self/fd/2', '/dev/stderr'],
    ['pts/ptmx', '/dev/ptmx'],
  ];
  if (kcore) links.push(['/proc/kcore', '/dev/core']);
  for (const [target, link] of links) ops.push({ op: 'SYMLINK', args: [target, link], what: `linking ${link} to ${target}` });
  return ops;
}

export function planMasks(spec: Spec): ProgramOp[] {
  const ops: ProgramOp[] = [];
  for (const p of spec.linux?.maskedPaths ?? []) {
    ops.push({ op: 'MASK_PATH', args: [cleanDestination(p, 'linux.maskedPaths')], what: `masking ${p}` });
  }
  for (const p of spec.linux?.readonlyPaths ?? []) {
    ops.push({ op: 'READONLY_PATH', args: [cleanDestination(p, 'linux.readonlyPaths')], what: `making ${p} read-only` });
  }
  return ops;
}
