// The spec's mounts as moby's withMounts builds them (daemon/oci_linux.go): Docker's default mounts
// (oci/defaults.go), the init binary, then the user's binds, tmpfs and the daemon's network files,
// sorted so that a parent is mounted before its children.
import { posix } from 'node:path';

import type { HostConfig } from '../../oci/engine-api.js';
import type { Mount } from '../../oci/runtime-spec.js';
import { internal, invalidArgument } from '../../util/errors.js';
import { parseBind, parseMountSpec, type UserMount } from './binds.js';
import { tmpfsMountOptions } from './tmpfs.js';
import type { NetworkFiles } from './types.js';

/** Where Docker binds its init (dockerd's DefaultInitBinary under /sbin). */
export const CONTAINER_INIT_PATH = '/sbin/docker-init';

/** moby oci/defaults.go (v28.5.2) DefaultLinuxSpec Mounts, in order; /dev/shm gets size= from ShmSize. */
export function defaultMounts(): Mount[] {
  return [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
    { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['ro', 'nosuid', 'noexec', 'nodev'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777'] },
  ];
}

export interface UserMountExtras {
  networkFiles?: NetworkFiles;
  /** The container's mounts as the daemon resolved them at create (volumes with their host paths): used instead of parsing HostConfig again. */
  resolved?: readonly UserMount[];
  /** Config.Volumes (the image's VOLUMEs and `-v /path`): an anonymous volume where nothing else is mounted. */
  configVolumes?: readonly string[];
  /** A host shm directory to bind at /dev/shm (IpcMode host, shareable, container:<id>). */
  shmPath?: string;
}

/** Binds, Mounts, Tmpfs, the network files and the shared shm; duplicates refused as moby does. */
export function userMounts(hc: HostConfig, extras: UserMountExtras): UserMount[] {
  const byDestination = new Map<string, UserMount>();
  for (const m of extras.resolved ?? parseUserMounts(hc, extras.configVolumes ?? [])) byDestination.set(m.destination, m);
  for (const m of daemonMounts(hc, extras)) if (!byDestination.has(m.destination)) byDestination.set(m.destination, m);
  return sortByDepth([...byDestination.values()]);
}

/** What the user asked to mount: Binds, Mounts, Tmpfs, then an anonymous volume for each other Config.Volumes path. */
export function parseUserMounts(hc: HostConfig, configVolumes: readonly string[] = []): UserMount[] {
  const byDestination = new Map<string, UserMount>();
  const add = (m: UserMount): void => {
    if (byDestination.has(m.destination)) throw invalidArgument(`Duplicate mount point: ${m.destination}`);
    byDestination.set(m.destination, m);
  };
  for (const raw of hc.Binds ?? []) add(parseBind(raw));
  for (const spec of hc.Mounts ?? []) add(parseMountSpec(spec));
  // A HostConfig.Tmpfs destination wins over a bind at the same place (moby setupMounts skips the bind).
  for (const m of tmpfsMounts(hc.Tmpfs)) byDestination.set(m.destination, m);
  for (const m of configVolumeMounts(configVolumes)) if (!byDestination.has(m.destination)) byDestination.set(m.destination, m);
  return [...byDestination.values()];
}

/** moby createContainerOSSpecificSettings: each Config.Volumes path not mounted otherwise gets an anonymous volume. */
function configVolumeMounts(paths: readonly string[]): UserMount[] {
  return paths.map((path) => {
    if (!posix.isAbsolute(path)) throw invalidArgument(`invalid mount path: '${path}' mount path must be absolute`);
    if (posix.normalize(path) === '/') throw invalidArgument("invalid specification: destination can't be '/'");
    return { type: 'volume', destination: posix.normalize(path).replace(/(.)\/$/, '$1'), source: '', name: '', writable: true };
  });
}

function tmpfsMounts(tmpfs: HostConfig['Tmpfs']): UserMount[] {
  return Object.entries(tmpfs ?? {}).map(([destination, data]) => {
    if (posix.normalize(destination) === '/') throw invalidArgument("invalid specification: destination can't be '/'");
    if (!posix.isAbsolute(destination)) throw invalidArgument(`invalid mount path: '${destination}' mount path must be absolute`);
    tmpfsMountOptions(data); // refuses bad options now rather than at start
    return { type: 'tmpfs', destination: posix.normalize(destination).replace(/(.)\/$/, '$1'), source: 'tmpfs', writable: true, data };
  });
}

function daemonMounts(hc: HostConfig, extras: UserMountExtras): UserMount[] {
  const writable = !hc.ReadonlyRootfs;
  const files = extras.networkFiles ?? {};
  const out: UserMount[] = [];
  const bind = (source: string, destination: string, rw: boolean): UserMount =>
    ({ type: 'bind', source, destination, writable: rw, propagation: 'rprivate' });
  // moby Container.NetworkMounts order: resolv.conf, hostname, hosts.
  if (files.resolvConf) out.push(bind(files.resolvConf, '/etc/resolv.conf', writable));
  if (files.hostname) out.push(bind(files.hostname, '/etc/hostname', writable));
  if (files.hosts) out.push(bind(files.hosts, '/etc/hosts', writable));
  const shm = hc.IpcMode === 'host' ? '/dev/shm' : extras.shmPath;
  if (shm && hc.IpcMode !== 'none' && hc.IpcMode !== 'private') out.push(bind(shm, '/dev/shm', true));
  return out;
}

/** moby sortMounts: fewer path components first (stable, so equal depths keep their order). */
function sortByDepth(mounts: UserMount[]): UserMount[] {
  const depth = (m: UserMount): number => posix.normalize(m.destination).split('/').length - 1;
  return mounts.map((m, i) => ({ m, i })).sort((a, b) => depth(a.m) - depth(b.m) || a.i - b.i).map(({ m }) => m);
}

export interface MountPlan {
  hostConfig: HostConfig;
  extras: UserMountExtras;
  /** Host path of berth-init when the container runs it as pid 1. */
  initPath?: string;
  recursiveReadOnly: boolean;
  writableCgroups: boolean;
}

export interface MountResult {
  mounts: Mount[];
  /** Set when a bind asks for shared or slave propagation (moby makes the rootfs follow). */
  rootfsPropagation?: string;
}

export function buildMounts(plan: MountPlan): MountResult {
  const hc = plan.hostConfig;
  const user = userMounts(hc, plan.extras);
  const userDestinations = new Set(user.map((m) => m.destination));
  const defaults = defaultMounts();
  if (plan.initPath) defaults.push({ destination: CONTAINER_INIT_PATH, type: 'bind', source: plan.initPath, options: ['bind', 'ro'] });
  const kept = defaults.filter((m) => keepDefault(m, userDestinations, hc));
  for (const m of kept) if (m.destination === '/dev/shm') m.options = [...(m.options ?? []), `size=${hc.ShmSize ?? 0}`];
  if (hc.ReadonlyRootfs) kept.forEach(makeReadOnlyUnlessRuntimeFs);
  const mounts = [...kept, ...user.map((m) => toOciMount(m, plan.recursiveReadOnly))];
  if (hc.Privileged) mounts.filter((m) => m.destination === '/sys').forEach(clearReadOnly);
  if (plan.writableCgroups) mounts.filter((m) => m.type === 'cgroup').forEach(clearReadOnly);
  return { mounts, rootfsPropagation: rootfsPropagationFor(user) };
}

/** A default mount stays unless the user mounts there, or mounts /dev (then all under /dev go), or IpcMode is none (no /dev/shm). */
function keepDefault(m: Mount, userDestinations: ReadonlySet<string>, hc: HostConfig): boolean {
  if (userDestinations.has(m.destination)) return false;
  if (userDestinations.has('/dev') && m.destination.startsWith('/dev/')) return false;
  return !(m.destination === '/dev/shm' && hc.IpcMode === 'none');
}

const RUNTIME_FILESYSTEMS = new Set(['/proc', '/dev/pts', '/dev/shm', '/dev/mqueue', '/dev']);

function makeReadOnlyUnlessRuntimeFs(m: Mount): void {
  if (RUNTIME_FILESYSTEMS.has(m.destination) || m.options?.includes('ro')) return;
  m.options = [...(m.options ?? []), 'ro'];
}

function clearReadOnly(m: Mount): void {
  m.options = (m.options ?? []).filter((o) => o !== 'ro');
}

function toOciMount(m: UserMount, recursiveReadOnly: boolean): Mount {
  if (m.type === 'tmpfs') return { destination: m.destination, source: 'tmpfs', type: 'tmpfs', options: tmpfsMountOptions(m.data ?? '') };
  if (m.source === '') throw internal(`volume ${m.name || '(anonymous)'} at ${m.destination} was not resolved to a host path`);
  const options = [m.nonRecursive ? 'bind' : 'rbind'];
  if (!m.writable) options.push(recursiveReadOnly ? 'rro' : 'ro');
  options.push(m.propagation ?? 'rprivate');
  return { destination: m.destination, source: m.source, type: 'bind', options };
}

function rootfsPropagationFor(user: readonly UserMount[]): string | undefined {
  const props = new Set(user.map((m) => m.propagation));
  if (props.has('shared') || props.has('rshared')) return 'shared';
  if (props.has('slave') || props.has('rslave')) return 'rslave';
  return undefined;
}

/** The -v host directories that do not exist yet: Docker creates them (0755) when the container starts. */
export function missingBindSources(hc: HostConfig, exists: (path: string) => boolean): string[] {
  return (hc.Binds ?? []).map(parseBind).filter((m) => m.type === 'bind').map((m) => m.source).filter((source) => !exists(source));
}
