// The process: sysctls, rlimits, identity, capabilities and what it execs.
import type { LinuxCapabilities, NamespaceType, POSIXRlimit, Process, Spec } from '../oci/runtime-spec.js';
import type { HostFacts } from '../sys/host.js';
import { invalidArgument } from '../util/errors.js';
import { CAPABILITIES, RLIMITS } from './linux-constants.js';
import type { ProgramOp } from './program.js';

const IPC_SYSCTLS = new Set([
  'kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni', 'kernel.sem', 'kernel.shmall', 'kernel.shmmax',
  'kernel.shmmni', 'kernel.shm_rmid_forced',
]);

/** Only namespaced sysctls, and only when the container owns that namespace (as runc checks). */
export function planSysctls(spec: Spec, created: Set<NamespaceType>, joined: Set<NamespaceType>): ProgramOp[] {
  const own = (t: NamespaceType): boolean => created.has(t) || joined.has(t);
  const ops: ProgramOp[] = [];
  for (const [key, value] of Object.entries(spec.linux?.sysctl ?? {})) {
    if (!/^[a-zA-Z0-9_]+(\.[a-zA-Z0-9_\-/]+)+$/.test(key) || key.includes('..')) {
      throw invalidArgument(`linux.sysctl: "${key}" is not a valid sysctl name`);
    }
    if (/[\n\0]/.test(value)) throw invalidArgument(`linux.sysctl: the value of ${key} contains a newline or NUL`);
    let ns: NamespaceType;
    if (IPC_SYSCTLS.has(key) || key.startsWith('fs.mqueue.')) ns = 'ipc';
    else if (key.startsWith('net.')) ns = 'network';
    else if (key === 'kernel.hostname' || key === 'kernel.domainname') ns = 'uts';
    else throw invalidArgument(`linux.sysctl: ${key} is not namespaced and cannot be set for a container`);
    if (!own(ns)) throw invalidArgument(`linux.sysctl: ${key} needs the container to have its own ${ns} namespace`);
    // Dots separate levels; a slash inside a level (an interface "eth0.100") was written as '/'.
    const path = key.split('.').map((part) => part.replace(/\//g, '.')).join('/');
    ops.push({ op: 'SYSCTL', args: [path, value], what: `setting sysctl ${key}=${value}` });
  }
  return ops;
}

export function planRlimits(rlimits: readonly POSIXRlimit[] | undefined, host: HostFacts): ProgramOp[] {
  const ops: ProgramOp[] = [];
  const seen = new Set<string>();
  for (const r of rlimits ?? []) {
    const resource = RLIMITS[r.type];
    if (resource === undefined) throw invalidArgument(`process.rlimits: unknown rlimit type "${r.type}"`);
    if (seen.has(r.type)) throw invalidArgument(`process.rlimits: ${r.type} is listed twice`);
    seen.add(r.type);
    if (r.soft > r.hard) throw invalidArgument(`process.rlimits: ${r.type} soft limit ${r.soft} is above its hard limit ${r.hard}`);
    const current = host.hardLimits[r.type] ?? Infinity;
    if (!host.hasSysResource && r.hard > current) {
      throw invalidArgument(
        `process.rlimits: ${r.type} hard limit ${r.hard} is above the current hard limit ${current}, ` +
          `and raising it needs CAP_SYS_RESOURCE, which this runtime does not have`,
      );
    }
    ops.push({ op: 'RLIMIT', args: [resource, BigInt(r.soft), BigInt(r.hard), r.type], what: `setting ${r.type}` });
  }
  return ops;
}

export interface CapabilityMasks {
  bounding: bigint;
  effective: bigint;
  permitted: bigint;
  inheritable: bigint;
  ambient: bigint;
}

/** Names → bit masks. Unknown or newer-than-kernel names are skipped with a warning, as runc does. */
export function capabilityMasks(caps: LinuxCapabilities, lastCap: number, warn: (msg: string) => void): CapabilityMasks {
  const mask = (names: readonly string[] | undefined, set: string): bigint => {
    let m = 0n;
    for (const name of names ?? []) {
      const bit = (CAPABILITIES as readonly string[]).indexOf(name);
      if (bit < 0) warn(`process.capabilities.${set}: unknown capability ${name} ignored`);
      else if (bit > lastCap) warn(`process.capabilities.${set}: ${name} is not known to this kernel, ignored`);
      else m |= 1n << BigInt(bit);
    }
    return m;
  };
  const masks = {
    bounding: mask(caps.bounding, 'bounding'),
    effective: mask(caps.effective, 'effective'),
    permitted: mask(caps.permitted, 'permitted'),
    inheritable: mask(caps.inheritable, 'inheritable'),
    ambient: mask(caps.ambient, 'ambient'),
  };
  // The kernel raises an ambient capability only if it is permitted and inheritable;
  // runc skips the others with a warning rather than failing the container.
  const raisable = masks.ambient & masks.permitted & masks.inheritable;
  if (raisable !== masks.ambient) {
    const skipped = CAPABILITIES.filter((_, bit) => ((masks.ambient & ~raisable) >> BigInt(bit)) & 1n);
    warn(`process.capabilities.ambient: ${skipped.join(', ')} not raised: not in both the permitted and inheritable sets`);
  }
  return { ...masks, ambient: raisable };
}

export function validateProcess(p: Process | undefined): Process {
  if (!p) throw invalidArgument('config.json has no process');
  if (!p.args?.length) throw invalidArgument('process.args must name a program to run');
  if (typeof p.cwd !== 'string' || !p.cwd.startsWith('/')) throw invalidArgument(`process.cwd "${p.cwd}" must be an absolute path`);
  if (!p.user || !Number.isInteger(p.user.uid) || !Number.isInteger(p.user.gid)) {
    throw invalidArgument('process.user needs integer uid and gid');
  }
  for (const e of p.env ?? []) if (!e.includes('=')) throw invalidArgument(`process.env: "${e}" is not NAME=value`);
  if (p.oomScoreAdj !== undefined && (p.oomScoreAdj < -1000 || p.oomScoreAdj > 1000)) {
    throw invalidArgument(`process.oomScoreAdj ${p.oomScoreAdj} is outside -1000..1000`);
  }
  return p;
}
