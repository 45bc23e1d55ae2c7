// Where a container's cgroup lives: runc's cgroupfs-driver rules
// (opencontainers/cgroups internal/path.Inner, fs/paths.go subsysPath,
// fs2/defaultpath.go defaultDirPath).
//
//   cgroupsPath absolute  → <mountpoint>/<cgroupsPath>            (each hierarchy)
//   cgroupsPath relative  → v1: <mountpoint>/<own cgroup>/<cgroupsPath>
//                           v2: <mountpoint>/<parent of own cgroup>/<cgroupsPath>
//                           (own cgroup has processes, so v2 cannot enable
//                           controllers below it; runc uses its parent)
//   cgroupsPath missing   → the container id, as a relative path
//
// Paths are cleaned so they never climb out of the hierarchy ("../../x" → "x").

import { posix } from 'node:path';
import { invalidArgument, notFound } from '../../util/errors.js';
import { ownPathInMount, type CgroupMount } from './detect.js';

/** runc's CleanPath: absolute paths normalised; relative ones normalised as if below "/" and kept relative. */
export function cleanPath(p: string): string {
  if (p === '') return '';
  if (p.startsWith('/')) return posix.normalize(p).replace(/\/+$/, '') || '/';
  const rooted = posix.normalize(`/${p}`);
  return posix.relative('/', rooted);
}

/** The cgroup path relative to a hierarchy (absolute) or to our own cgroup (relative). */
export function innerPath(id: string, cgroupsPath: string | undefined): string {
  if (cgroupsPath !== undefined && cgroupsPath !== '') {
    const inner = cleanPath(cgroupsPath);
    if (inner === '/' || inner === '') {
      throw invalidArgument(
        `cgroup: cgroupsPath ${JSON.stringify(cgroupsPath)} names the cgroup berth runs in or a hierarchy root; give the container its own cgroup`,
      );
    }
    return inner;
  }
  const inner = cleanPath(id);
  if (inner === '') throw invalidArgument('cgroup: container id is empty and no cgroupsPath was given');
  return inner;
}

/** A v1 hierarchy's directory for this container. */
export function v1Dir(mount: CgroupMount, hierarchy: string, inner: string, self: Map<string, string>): string {
  if (inner.startsWith('/')) return posix.join(mount.mountpoint, inner);
  const own = self.get(hierarchy);
  if (own === undefined) {
    throw notFound(`cgroup: /proc/self/cgroup has no entry for the ${hierarchy} hierarchy mounted at ${mount.mountpoint}`);
  }
  return posix.join(mount.mountpoint, ownPathInMount(own, mount, hierarchy), inner);
}

/** The cgroup2 directory for this container (relative paths start from our own cgroup's parent, like runc). */
export function v2Dir(mount: CgroupMount, inner: string, self: Map<string, string>): string {
  if (inner.startsWith('/')) return posix.join(mount.mountpoint, inner);
  const own = self.get('');
  if (own === undefined) throw notFound('cgroup: /proc/self/cgroup has no cgroup2 ("0::") entry');
  return posix.join(mount.mountpoint, ownPathInMount(posix.dirname(own), mount, ''), inner);
}

/** The hybrid host's cgroup2 directory: same rules, but relative to our own cgroup (runc joins it as a named hierarchy). */
export function hybridDir(mount: CgroupMount, inner: string, self: Map<string, string>): string {
  if (inner.startsWith('/')) return posix.join(mount.mountpoint, inner);
  const own = self.get('') ?? '/';
  return posix.join(mount.mountpoint, ownPathInMount(own, mount, ''), inner);
}

/** Saved paths must stay inside a cgroup mount (they come from a state file). */
export function checkSavedPath(dir: string, mounts: CgroupMount[]): void {
  const clean = posix.normalize(dir);
  const ok = mounts.some((m) => clean.startsWith(`${m.mountpoint}/`));
  if (!ok || clean !== dir) throw invalidArgument(`cgroup: saved cgroup path ${dir} is not below a cgroup mount`);
}
