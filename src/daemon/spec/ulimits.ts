// Ulimits → OCI rlimits: HostConfig.Ulimits over the daemon's defaults (moby daemon/oci_linux.go
// withRlimits and mergeUlimits), with go-units' names and checks.
import type { Ulimit } from '../../oci/engine-api.js';
import type { POSIXRlimit } from '../../oci/runtime-spec.js';
import { invalidArgument } from '../../util/errors.js';

// go-units ulimit.go ulimitNameMapping ("as" is left out there too).
const ULIMIT_NAMES = new Set([
  'core', 'cpu', 'data', 'fsize', 'locks', 'memlock', 'msgqueue', 'nice', 'nofile', 'nproc', 'rss', 'rtprio',
  'rttime', 'sigpending', 'stack',
]);

/** -1 (unlimited) as the uint64 the kernel reads: RLIM_INFINITY, what moby's uint64(-1) gives. */
export const RLIM_INFINITY = 18446744073709551615;

export function validateUlimits(ulimits: readonly Ulimit[] | null | undefined): void {
  const seen = new Set<string>();
  for (const u of ulimits ?? []) {
    if (!ULIMIT_NAMES.has(u.Name)) throw invalidArgument(`invalid ulimit type: ${u.Name}`);
    if (seen.has(u.Name)) throw invalidArgument(`invalid ulimit: ${u.Name} is given twice`);
    seen.add(u.Name);
    if (!Number.isSafeInteger(u.Soft) || !Number.isSafeInteger(u.Hard) || u.Soft < -1 || u.Hard < -1) {
      throw invalidArgument(`invalid ulimit value for ${u.Name}: ${u.Soft}:${u.Hard}`);
    }
    if (u.Hard !== -1 && u.Soft === -1) {
      throw invalidArgument(`ulimit soft limit must be less than or equal to hard limit: soft: -1 (unlimited), hard: ${u.Hard}`);
    }
    if (u.Hard !== -1 && u.Soft > u.Hard) {
      throw invalidArgument(`ulimit soft limit must be less than or equal to hard limit: ${u.Soft} > ${u.Hard}`);
    }
  }
}

/** The container's ulimits first, then each daemon default it does not name. */
export function buildRlimits(ulimits: readonly Ulimit[] | null | undefined, defaults: readonly Ulimit[] = []): POSIXRlimit[] {
  const own = ulimits ?? [];
  const names = new Set(own.map((u) => u.Name));
  return [...own, ...defaults.filter((u) => !names.has(u.Name))].map((u) => ({
    type: `RLIMIT_${u.Name.toUpperCase()}`,
    soft: u.Soft === -1 ? RLIM_INFINITY : u.Soft,
    hard: u.Hard === -1 ? RLIM_INFINITY : u.Hard,
  }));
}
