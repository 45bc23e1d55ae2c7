// Devices: HostConfig.Devices and DeviceCgroupRules, and every host device for privileged containers,
// as moby's WithDevices (daemon/oci_linux.go) with containerd's HostDevices and DeviceFromPath.
import { lstatSync, readdirSync, realpathSync, statSync, type BigIntStats } from 'node:fs';
import { join } from 'node:path';

import type { DeviceMapping } from '../../oci/engine-api.js';
import type { LinuxDevice, LinuxDeviceCgroup } from '../../oci/runtime-spec.js';
import { errnoCode, invalidArgument } from '../../util/errors.js';

/** moby oci/defaults.go (v28.5.2) DefaultLinuxSpec Resources.Devices, in order. */
export const DEFAULT_DEVICE_RULES: readonly LinuxDeviceCgroup[] = [
  { allow: false, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 5, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 9, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 8, access: 'rwm' },
  { allow: true, type: 'c', major: 5, minor: 0, access: 'rwm' },
  { allow: true, type: 'c', major: 5, minor: 1, access: 'rwm' },
  { allow: false, type: 'c', major: 10, minor: 229, access: 'rwm' },
];

// moby oci/oci.go deviceCgroupRuleRegex.
const CGROUP_RULE = /^([acb]) ([0-9]+|\*):([0-9]+|\*) ([rwm]{1,3})$/;

/** moby AppendDevicePermissionsFromCgroupRules; "*" is a wildcard (left out of the OCI rule). */
export function parseDeviceCgroupRule(rule: string): LinuxDeviceCgroup {
  const m = CGROUP_RULE.exec(rule);
  if (!m) throw invalidArgument(`invalid device cgroup rule format: '${rule}'`);
  const out: LinuxDeviceCgroup = { allow: true, type: m[1]!, access: m[4]! };
  if (m[2] !== '*') out.major = Number(m[2]);
  if (m[3] !== '*') out.minor = Number(m[3]);
  return out;
}

const CGROUP_PERMISSIONS = /^[rwm]{1,3}$/;

export function validateDeviceMapping(d: DeviceMapping): void {
  if (!d.PathOnHost) throw invalidArgument('invalid device mapping: PathOnHost is empty');
  const permissions = d.CgroupPermissions || 'rwm';
  if (!CGROUP_PERMISSIONS.test(permissions)) throw invalidArgument(`invalid device mode: ${permissions}`);
}

export interface DeviceSet {
  devices: LinuxDevice[];
  rules: LinuxDeviceCgroup[];
}

/** moby oci.DevicesFromPath: a device node, or every device node under a directory. */
export function devicesFromPath(pathOnHost: string, pathInContainer: string, permissions: string): DeviceSet {
  const resolved = resolveSymlink(pathOnHost);
  const single = deviceAt(resolved);
  if (single) return withRules([{ ...single, path: pathInContainer || pathOnHost }], permissions);
  const devices = isDirectory(resolved) ? walkDevices(resolved, pathInContainer || pathOnHost, new Set()) : [];
  if (devices.length > 0) return withRules(devices, permissions);
  throw invalidArgument(`error gathering device information while adding custom device "${pathOnHost}": not a device node`);
}

/** containerd HostDevices: every block and character device under /dev, for privileged containers. */
export function hostDevices(root = '/dev'): LinuxDevice[] {
  return walkDevices(root, root, new Set(['pts', 'shm', 'fd', 'mqueue', '.lxc', '.lxd-mounts', '.udev']), true);
}

function withRules(devices: LinuxDevice[], permissions: string): DeviceSet {
  const rules = devices.map((d) => ({ allow: true, type: d.type, major: d.major, minor: d.minor, access: permissions }));
  return { devices, rules };
}

function walkDevices(dir: string, containerDir: string, skipDirs: ReadonlySet<string>, skipConsole = false): LinuxDevice[] {
  const out: LinuxDevice[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const hostPath = join(dir, entry.name);
    const containerPath = join(containerDir, entry.name);
    if (entry.isDirectory()) {
      if (!skipDirs.has(entry.name)) out.push(...walkDevices(hostPath, containerPath, skipDirs, skipConsole));
      continue;
    }
    if (skipConsole && entry.name === 'console') continue;
    const device = deviceAt(hostPath);
    if (device && device.type !== 'p') out.push({ ...device, path: containerPath });
  }
  return out;
}

/** The device node at `path` (not following a symlink), or undefined when it is something else or gone. */
export function deviceAt(path: string): LinuxDevice | undefined {
  let st: BigIntStats;
  try {
    st = lstatSync(path, { bigint: true });
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw err;
  }
  const type = st.isBlockDevice() ? 'b' : st.isCharacterDevice() ? 'c' : st.isFIFO() ? 'p' : undefined;
  if (type === undefined) return undefined;
  return { path, type, major: devMajor(st.rdev), minor: devMinor(st.rdev), fileMode: Number(st.mode & 0o7777n), uid: Number(st.uid), gid: Number(st.gid) };
}

// glibc's gnu_dev_major / gnu_dev_minor.
export function devMajor(dev: bigint): number {
  return Number(((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn));
}

export function devMinor(dev: bigint): number {
  return Number((dev & 0xffn) | ((dev >> 12n) & ~0xffn));
}

function resolveSymlink(path: string): string {
  try {
    return lstatSync(path).isSymbolicLink() ? realpathSync(path) : path;
  } catch {
    return path;
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
