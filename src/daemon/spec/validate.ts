// Create-time validation of a Docker create request, with moby's checks and wording
// (daemon/container.go verifyContainerSettings, daemon/daemon_unix.go verifyPlatformContainerSettings,
// daemon/internal/runconfig). Returns Docker's warnings; throws BerthErrors for bad input.
import { posix } from 'node:path';

import type { ContainerConfig, ContainerCreateRequest, HealthConfig, HostConfig } from '../../oci/engine-api.js';
import { parseSignal } from '../../runtime/container.js';
import { invalidArgument } from '../../util/errors.js';
import { readSpecHost } from './host.js';
import { parseUserMounts } from './mounts.js';
import { validateResources } from './resources.js';
import { validateHostConfig } from './validate-host.js';
import type { SpecHost } from './types.js';

/** HOST_NAME_MAX. */
const MAX_HOSTNAME = 64;
/** moby container.MinimumDuration: 1 ms, in nanoseconds. */
const MIN_HEALTH_DURATION = 1_000_000;

export function validateCreate(req: ContainerCreateRequest, host: SpecHost = readSpecHost()): string[] {
  validateConfig(req);
  const hc: HostConfig = req.HostConfig ?? {};
  const warnings = validateHostConfig(hc, req, host);
  warnings.push(...validateResources(hc, host));
  // Binds, Mounts and Tmpfs parse (and clash) exactly as the builder will use them.
  parseUserMounts(hc, Object.keys(req.Volumes ?? {}));
  return warnings;
}

export function validateConfig(config: ContainerConfig): void {
  if (config.WorkingDir && !posix.isAbsolute(config.WorkingDir)) {
    throw invalidArgument(`the working directory '${config.WorkingDir}' is invalid, it needs to be an absolute path`);
  }
  if (config.StopSignal) checkSignal(config.StopSignal);
  for (const entry of config.Env ?? []) {
    if (entry === '' || entry.startsWith('=')) throw invalidArgument(`invalid environment variable: ${entry}`);
  }
  validateHealthcheck(config.Healthcheck);
  if (config.Hostname && Buffer.byteLength(config.Hostname) > MAX_HOSTNAME) {
    throw invalidArgument(`hostname "${config.Hostname}" is too long (maximum ${MAX_HOSTNAME} bytes)`);
  }
}

function checkSignal(signal: string): void {
  try {
    parseSignal(signal);
  } catch {
    throw invalidArgument(`Invalid signal: ${signal}`);
  }
}

/** moby validateHealthCheck. */
export function validateHealthcheck(h: HealthConfig | null | undefined): void {
  if (!h) return;
  const tooShort = (ns: number | undefined): boolean => ns !== undefined && ns !== 0 && ns < MIN_HEALTH_DURATION;
  for (const field of ['Interval', 'Timeout'] as const) {
    if (tooShort(h[field])) throw invalidArgument(`${field} in Healthcheck cannot be less than 1ms`);
  }
  if ((h.Retries ?? 0) < 0) throw invalidArgument('Retries in Healthcheck cannot be negative');
  for (const field of ['StartPeriod', 'StartInterval'] as const) {
    if (tooShort(h[field])) throw invalidArgument(`${field} in Healthcheck cannot be less than 1ms`);
  }
}
