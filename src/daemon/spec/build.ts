// The OCI runtime spec for a container, built as moby's createSpec does (daemon/oci_linux.go) with
// Docker's defaults, not runc's: 14 capabilities, the default seccomp profile, masked and read-only
// paths, Docker's mounts and device rules. StopSignal is not part of it: the daemon keeps it.
import { posix } from 'node:path';

import type { HostConfig } from '../../oci/engine-api.js';
import type { Linux, LinuxResources, Process, Spec } from '../../oci/runtime-spec.js';
// docker-default, not the seccomp index: the compiler's syscall tables load only in the runtime, on first use.
import { dockerDefaultProfile } from '../../runtime/seccomp/docker-default.js';
import { containerCapabilities } from './caps.js';
import { defaultMaskedPaths } from './defaults.js';
import { DEFAULT_DEVICE_RULES, devicesFromPath, hostDevices, parseDeviceCgroupRule } from './devices.js';
import { readSpecHost } from './host.js';
import { buildMounts } from './mounts.js';
import { buildNamespaces, hasPrivatePidNamespace } from './namespaces.js';
import { processArgs, processEnv } from './process.js';
import { buildResources } from './resources.js';
import { DEFAULT_READONLY_PATHS } from './paths.js';
import { parseSecurityOpt, seccompFor, type SecurityOptions } from './security.js';
import type { SpecHost, SpecInput } from './types.js';
import { buildRlimits } from './ulimits.js';

export const OCI_VERSION = '1.2.0';
export const DEFAULT_CGROUP_PARENT = '/berth';

export interface BuiltSpec {
  spec: Spec;
  warnings: string[];
}

export function buildSpec(input: SpecInput): BuiltSpec {
  const host = input.host ?? readSpecHost();
  const hc = input.hostConfig;
  const security = parseSecurityOpt(hc.SecurityOpt, input.noNewPrivilegesByDefault);
  const withInit = wantsInit(input);
  const { mounts, rootfsPropagation } = buildMounts({
    hostConfig: hc,
    extras: { networkFiles: input.networkFiles, shmPath: input.shmPath, resolved: input.mounts },
    initPath: withInit ? input.initPath : undefined,
    recursiveReadOnly: host.recursiveReadOnly,
    writableCgroups: security.writableCgroups ?? hc.Privileged ?? false,
  });
  const proc = buildProcess(input, host, security, withInit);
  const spec: Spec = {
    ociVersion: OCI_VERSION,
    process: proc,
    root: { path: input.rootfs, readonly: hc.ReadonlyRootfs ?? false },
    hostname: hc.UTSMode === 'host' ? '' : (input.config.Hostname ?? ''),
    mounts,
    linux: buildLinux(input, host, proc, security, rootfsPropagation),
  };
  if (!spec.hostname) delete spec.hostname;
  if (Object.keys(hc.Annotations ?? {}).length > 0) spec.annotations = { ...hc.Annotations };
  return { spec, warnings: security.ignored.map((opt) => `security option "${opt}" is ignored: berth does not support AppArmor or SELinux yet`) };
}

/** Docker adds its init only in a private pid namespace, when asked (or by the daemon's default). */
function wantsInit(input: SpecInput): boolean {
  const asked = input.hostConfig.Init ?? input.initByDefault ?? false;
  return asked && hasPrivatePidNamespace(input.hostConfig) && input.initPath !== undefined;
}

function buildProcess(input: SpecInput, host: SpecHost, security: SecurityOptions, withInit: boolean): Process {
  const { config, hostConfig: hc, user } = input;
  const caps = containerCapabilities(hc.CapAdd, hc.CapDrop, hc.Privileged ?? false, host.lastCap);
  const proc: Process = {
    terminal: config.Tty ?? false,
    user: { uid: user.uid, gid: user.gid, additionalGids: user.additionalGids },
    args: processArgs(config, withInit),
    env: processEnv(config, user.home),
    // Cleaned as moby's translateWorkingDir does at create.
    cwd: config.WorkingDir ? posix.normalize(config.WorkingDir).replace(/(.)\/$/, '$1') : '/',
    capabilities: { bounding: caps, effective: [...caps], permitted: [...caps] },
    rlimits: buildRlimits(hc.Ulimits, input.defaultUlimits),
    oomScoreAdj: hc.OomScoreAdj ?? 0,
  };
  if (security.noNewPrivileges) proc.noNewPrivileges = true;
  const size = hc.ConsoleSize;
  if (config.Tty && size && (size[0] > 0 || size[1] > 0)) proc.consoleSize = { height: size[0], width: size[1] };
  return proc;
}

function buildLinux(input: SpecInput, host: SpecHost, proc: Process, security: SecurityOptions, rootfsPropagation: string | undefined): Linux {
  const hc = input.hostConfig;
  const linux: Linux = {
    sysctl: buildSysctls(input, host),
    resources: { ...buildResources(hc), devices: [] },
    cgroupsPath: posix.join(hc.CgroupParent || input.cgroupParent || DEFAULT_CGROUP_PARENT, input.id),
    namespaces: buildNamespaces(hc, input.config, input.joined),
    devices: [],
    // Privileged clears Docker's lists; HostConfig's, when given, apply last (moby WithMaskedPaths).
    maskedPaths: [...(hc.MaskedPaths ?? (hc.Privileged ? [] : defaultMaskedPaths(host)))],
    readonlyPaths: [...(hc.ReadonlyPaths ?? (hc.Privileged ? [] : DEFAULT_READONLY_PATHS))],
  };
  addDevices(linux, hc);
  if (rootfsPropagation) linux.rootfsPropagation = rootfsPropagation;
  const seccomp = seccompFor({
    profile: security.seccompProfile,
    privileged: hc.Privileged ?? false,
    capabilities: proc.capabilities?.bounding ?? [],
    hostArch: host.arch,
    kernelRelease: host.kernelRelease,
    defaultSeccomp: input.defaultSeccomp ?? ((capabilities) => dockerDefaultProfile({ capabilities, hostArch: host.arch, kernelRelease: host.kernelRelease })),
  });
  if (seccomp) linux.seccomp = seccomp;
  return linux;
}

/** Docker's ping and low-port sysctls for a container with its own network, the domain name, then the user's. */
function buildSysctls(input: SpecInput, host: SpecHost): Record<string, string> {
  const hc = input.hostConfig;
  const mode = hc.NetworkMode ?? '';
  const privateNetwork = mode !== 'host' && !mode.startsWith('container:');
  const out: Record<string, string> = privateNetwork ? { ...host.defaultNetSysctls } : {};
  // Docker sets the NIS domain name through this sysctl (moby setLinuxDomainname); it needs a UTS namespace.
  if (input.config.Domainname && hc.UTSMode !== 'host') out['kernel.domainname'] = input.config.Domainname;
  return { ...out, ...(hc.Sysctls ?? {}) };
}

/** moby WithDevices: privileged gets every host device and an allow-all rule; else the mapped devices and rules. */
function addDevices(linux: Linux, hc: HostConfig): void {
  const resources = linux.resources as LinuxResources;
  if (hc.Privileged) {
    linux.devices = hostDevices();
    for (const d of hc.Devices ?? []) {
      if (d.PathOnHost !== d.PathInContainer) linux.devices.push(...devicesFromPath(d.PathOnHost, d.PathInContainer, 'rwm').devices);
    }
    resources.devices = [{ allow: true, access: 'rwm' }];
    return;
  }
  resources.devices = [...DEFAULT_DEVICE_RULES.map((r) => ({ ...r }))];
  for (const d of hc.Devices ?? []) {
    const set = devicesFromPath(d.PathOnHost, d.PathInContainer, d.CgroupPermissions || 'rwm');
    linux.devices!.push(...set.devices);
    resources.devices.push(...set.rules);
  }
  resources.devices.push(...(hc.DeviceCgroupRules ?? []).map(parseDeviceCgroupRule));
}
