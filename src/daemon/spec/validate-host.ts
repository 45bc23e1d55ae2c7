// HostConfig checks that are not resources or mounts: restart policy, namespace modes, network,
// security options, capabilities, sysctls, ulimits, devices — moby's rules and messages.
import { isIP } from 'node:net';

import type { ContainerConfig, HostConfig, RestartPolicy } from '../../oci/engine-api.js';
import { invalidArgument } from '../../util/errors.js';
import { normalizeCapabilities } from './caps.js';
import { parseDeviceCgroupRule, validateDeviceMapping } from './devices.js';
import { checkSeccompProfile, parseSecurityOpt } from './security.js';
import { validateSysctls } from './sysctls.js';
import type { SpecHost } from './types.js';
import { validateUlimits } from './ulimits.js';

const RESTART_POLICIES = ['no', 'always', 'on-failure', 'unless-stopped'];
/** Until the networks issue: the modes berth can give (bridge/default: a private namespace with loopback). */

export function validateHostConfig(hc: HostConfig, config: ContainerConfig, host: SpecHost): string[] {
  const warnings: string[] = [];
  validateRestartPolicy(hc.RestartPolicy, hc.AutoRemove ?? false);
  validateNamespaceModes(hc, config);
  warnings.push(...validateNetwork(hc, config));
  warnings.push(...validateSecurity(hc));
  validateCapabilities(hc, host);
  validateSysctls(hc.Sysctls, hc);
  validateUlimits(hc.Ulimits);
  for (const device of hc.Devices ?? []) validateDeviceMapping(device);
  for (const rule of hc.DeviceCgroupRules ?? []) parseDeviceCgroupRule(rule);
  validateMisc(hc);
  return warnings;
}

/** moby validateHostConfig + container.ValidateRestartPolicy. */
export function validateRestartPolicy(policy: RestartPolicy | undefined, autoRemove: boolean): void {
  const name = policy?.Name ?? '';
  const retries = policy?.MaximumRetryCount ?? 0;
  if (autoRemove && name !== '' && name !== 'no') throw invalidArgument("can't create 'AutoRemove' container with restart policy");
  if (name === '') return;
  if (!RESTART_POLICIES.includes(name)) {
    throw invalidArgument(
      `invalid restart policy: unknown policy '${name}'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'`,
    );
  }
  if (name === 'on-failure') {
    if (retries < 0) throw invalidArgument('invalid restart policy: maximum retry count cannot be negative');
    return;
  }
  if (retries !== 0) {
    const negative = retries < 0 ? ' and cannot be negative' : '';
    throw invalidArgument(`invalid restart policy: maximum retry count can only be used with 'on-failure'${negative}`);
  }
}

const isContainerMode = (mode: string): boolean => /^container:.+/.test(mode);

function validateNamespaceModes(hc: HostConfig, config: ContainerConfig): void {
  const ipc = hc.IpcMode ?? '';
  if (!['', 'none', 'private', 'host', 'shareable'].includes(ipc) && !isContainerMode(ipc)) {
    throw invalidArgument(`invalid IPC mode: ${ipc}`);
  }
  const pid = hc.PidMode ?? '';
  if (pid !== '' && pid !== 'host' && !isContainerMode(pid)) throw invalidArgument(`invalid PID mode: ${pid}`);
  const uts = hc.UTSMode ?? '';
  if (uts !== '' && uts !== 'host') throw invalidArgument(`invalid UTS mode: ${uts}`);
  if (uts === 'host' && config.Hostname) throw invalidArgument('conflicting options: hostname and the UTS mode');
  const cgroupns = hc.CgroupnsMode ?? '';
  if (!['', 'private', 'host'].includes(cgroupns)) throw invalidArgument(`invalid cgroup namespace mode: ${cgroupns}`);
  const userns = hc.UsernsMode ?? '';
  if (userns !== '' && userns !== 'host') throw invalidArgument(`invalid USER mode: ${userns}`);
}

function validateNetwork(hc: HostConfig, config: ContainerConfig): string[] {
  const mode = hc.NetworkMode ?? '';
  // Other modes name networks, which the network service looks up when the container is made.
  if (mode === 'container' || mode.startsWith('container:')) validateNetContainerMode(hc, config);
  for (const extraHost of hc.ExtraHosts ?? []) validateExtraHost(extraHost);
  if (mode === 'host' && Object.keys(hc.PortBindings ?? {}).length > 0) {
    return ['Published ports are discarded when using host network mode'];
  }
  return [];
}

/** moby runconfig validateNetContainerMode. */
function validateNetContainerMode(hc: HostConfig, config: ContainerConfig): void {
  if (!isContainerMode(hc.NetworkMode ?? '')) {
    throw invalidArgument('invalid network mode: invalid container format container:<name|id>');
  }
  if (config.Hostname) throw invalidArgument('conflicting options: hostname and the network mode');
  if (hc.Links?.length) {
    throw invalidArgument("conflicting options: container type network can't be used with links. This would result in undefined behavior");
  }
  if (hc.Dns?.length) throw invalidArgument('conflicting options: dns and the network mode');
  if (hc.ExtraHosts?.length) throw invalidArgument('conflicting options: custom host-to-IP mapping and the network mode');
  if (Object.keys(hc.PortBindings ?? {}).length > 0 || hc.PublishAllPorts) {
    throw invalidArgument('conflicting options: port publishing and the container type network mode');
  }
  if (Object.keys(config.ExposedPorts ?? {}).length > 0) {
    throw invalidArgument('conflicting options: port exposing and the container type network mode');
  }
}

/** moby opts.ValidateExtraHost: "name:ip" (IPv6 allowed after the first colon) or "name:host-gateway". */
function validateExtraHost(value: string): void {
  const colon = value.indexOf(':');
  if (colon <= 0) throw invalidArgument(`bad format for add-host: "${value}"`);
  const ip = value.slice(colon + 1);
  if (ip !== 'host-gateway' && isIP(ip.replace(/^\[(.*)\]$/, '$1')) === 0) {
    throw invalidArgument(`invalid IP address in add-host: "${ip}"`);
  }
}

function validateSecurity(hc: HostConfig): string[] {
  const security = parseSecurityOpt(hc.SecurityOpt);
  checkSeccompProfile(security.seccompProfile);
  return security.ignored.map((opt) => `security option "${opt}" is ignored: berth does not support AppArmor or SELinux yet`);
}

function validateCapabilities(hc: HostConfig, host: SpecHost): void {
  for (const [field, list] of [['CapAdd', hc.CapAdd], ['CapDrop', hc.CapDrop]] as const) {
    try {
      normalizeCapabilities(list ?? [], host.lastCap);
    } catch (err) {
      throw invalidArgument(`invalid ${field}: ${(err as Error).message}`);
    }
  }
}

function validateMisc(hc: HostConfig): void {
  if ((hc.ShmSize ?? 0) < 0) throw invalidArgument('SHM size can not be less than 0');
  const oom = hc.OomScoreAdj ?? 0;
  if (oom < -1000 || oom > 1000) throw invalidArgument(`Invalid value ${oom}, range for oom score adj is [-1000, 1000]`);
  if (hc.Isolation && hc.Isolation !== 'default') {
    throw invalidArgument(`invalid isolation (${hc.Isolation}): linux only supports 'default'`);
  }
  if (Object.keys(hc.Annotations ?? {}).includes('')) {
    throw invalidArgument('invalid Annotations: the empty string is not permitted as an annotation key');
  }
}
