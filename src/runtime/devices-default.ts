// The device cgroup rules every container gets after its own (runc's AllowedDevices):
// mknod anything, the default device nodes, ptys and tun.
import type { LinuxDevice, LinuxDeviceCgroup } from '../oci/runtime-spec.js';
import { DEFAULT_DEVICES } from './plan-rootfs.js';

const EXTRA_ALLOWED: LinuxDeviceCgroup[] = [
  { allow: true, type: 'c', major: null, minor: null, access: 'm' },
  { allow: true, type: 'b', major: null, minor: null, access: 'm' },
  { allow: true, type: 'c', major: 136, minor: null, access: 'rwm' }, // /dev/pts/*
  { allow: true, type: 'c', major: 5, minor: 2, access: 'rwm' }, // /dev/ptmx
  { allow: true, type: 'c', major: 10, minor: 200, access: 'rwm' }, // /dev/net/tun
];

function allowRule(d: LinuxDevice): LinuxDeviceCgroup {
  const type = d.type === 'b' ? 'b' : 'c';
  return { allow: true, type, major: d.major ?? null, minor: d.minor ?? null, access: 'rwm' };
}

export function deviceRules(specRules: readonly LinuxDeviceCgroup[] | undefined, specDevices: readonly LinuxDevice[] | undefined): LinuxDeviceCgroup[] {
  const devices = [...(specDevices ?? []), ...DEFAULT_DEVICES.filter((d) => !(specDevices ?? []).some((s) => s.path === d.path))];
  return [...(specRules ?? []), ...EXTRA_ALLOWED, ...devices.filter((d) => d.type !== 'p').map(allowRule)];
}
