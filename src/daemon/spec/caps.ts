// Capability sets as moby computes them: its 14 defaults, then CapAdd/CapDrop ("ALL" allowed), or all for privileged.
import { CAPABILITIES } from '../../runtime/linux-constants.js';
import { invalidArgument } from '../../util/errors.js';

/** moby daemon/pkg/oci/caps/defaults.go DefaultCapabilities (same list and order since Docker 20.10). */
export const DEFAULT_CAPABILITIES: readonly string[] = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL',
  'CAP_AUDIT_WRITE',
];

const ALL = 'ALL';

/** Every capability this kernel knows (index in CAPABILITIES = capability number). */
export function allCapabilities(lastCap: number): string[] {
  return CAPABILITIES.filter((_, n) => n <= lastCap);
}

/**
 * moby caps.NormalizeLegacyCapabilities: upper-case, add the CAP_ prefix, keep "ALL";
 * unknown names are refused with Docker's wording.
 */
export function normalizeCapabilities(names: readonly string[], lastCap: number): string[] {
  const known = new Set<string>(CAPABILITIES);
  const available = new Set(allCapabilities(lastCap));
  return names.map((raw) => {
    const upper = raw.toUpperCase();
    if (upper === ALL) return ALL;
    const name = upper.startsWith('CAP_') ? upper : `CAP_${upper}`;
    if (!known.has(name)) throw invalidArgument(`unknown capability: "${name}"`);
    if (!available.has(name)) {
      throw invalidArgument(`capability not supported by your kernel or not available in the current environment: "${name}"`);
    }
    return name;
  });
}

/** moby caps.TweakCapabilities over DefaultCapabilities. */
export function containerCapabilities(
  capAdd: readonly string[] | null | undefined,
  capDrop: readonly string[] | null | undefined,
  privileged: boolean,
  lastCap: number,
): string[] {
  if (privileged) return allCapabilities(lastCap);
  if (!capAdd?.length && !capDrop?.length) return [...DEFAULT_CAPABILITIES];
  const drops = normalizeCapabilities(capDrop ?? [], lastCap);
  const adds = normalizeCapabilities(capAdd ?? [], lastCap);
  if (adds.includes(ALL)) return allCapabilities(lastCap).filter((c) => !drops.includes(c));
  // Unlike moby, duplicates (CapAdd of a default) are dropped: the sets are sets.
  if (drops.includes(ALL)) return [...new Set(adds)];
  return [...new Set([...DEFAULT_CAPABILITIES.filter((c) => !drops.includes(c)), ...adds])];
}
