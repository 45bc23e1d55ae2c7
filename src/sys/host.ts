// Facts about the host the planner depends on, read once, so plans can be
// computed (and unit-tested) from a plain object.
import { readFileSync, existsSync } from 'node:fs';
import { arch } from 'node:os';

export interface HostFacts {
  arch: 'x86_64' | 'aarch64';
  /** Highest capability number the kernel knows. */
  lastCap: number;
  /** Current hard rlimits by name (RLIMIT_NOFILE …); Infinity for unlimited. */
  hardLimits: Record<string, number>;
  /** Whether this process may raise hard rlimits. */
  hasSysResource: boolean;
  apparmor: boolean;
  selinux: boolean;
  timeNamespace: boolean;
  kcore: boolean;
}

const LIMIT_NAMES: Record<string, string> = {
  'Max cpu time': 'RLIMIT_CPU',
  'Max file size': 'RLIMIT_FSIZE',
  'Max data size': 'RLIMIT_DATA',
  'Max stack size': 'RLIMIT_STACK',
  'Max core file size': 'RLIMIT_CORE',
  'Max resident set': 'RLIMIT_RSS',
  'Max processes': 'RLIMIT_NPROC',
  'Max open files': 'RLIMIT_NOFILE',
  'Max locked memory': 'RLIMIT_MEMLOCK',
  'Max address space': 'RLIMIT_AS',
  'Max file locks': 'RLIMIT_LOCKS',
  'Max pending signals': 'RLIMIT_SIGPENDING',
  'Max msgqueue size': 'RLIMIT_MSGQUEUE',
  'Max nice priority': 'RLIMIT_NICE',
  'Max realtime priority': 'RLIMIT_RTPRIO',
  'Max realtime timeout': 'RLIMIT_RTTIME',
};

export function parseProcLimits(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n').slice(1)) {
    const label = Object.keys(LIMIT_NAMES).find((l) => line.startsWith(l));
    if (!label) continue;
    const fields = line.slice(label.length).trim().split(/\s+/);
    const hard = fields[1];
    if (hard === undefined) continue;
    out[LIMIT_NAMES[label]!] = hard === 'unlimited' ? Infinity : Number(hard);
  }
  return out;
}

function capEffective(): bigint {
  const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? BigInt('0x' + m[1]) : 0n;
}

let cached: HostFacts | undefined;

export function readHostFacts(): HostFacts {
  if (cached) return cached;
  const a = arch();
  if (a !== 'x64' && a !== 'arm64') throw new Error(`berth supports x86_64 and aarch64 hosts, not ${a}`);
  cached = {
    arch: a === 'x64' ? 'x86_64' : 'aarch64',
    lastCap: Number(readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8').trim()),
    hardLimits: parseProcLimits(readFileSync('/proc/self/limits', 'utf8')),
    hasSysResource: (capEffective() & (1n << 24n)) !== 0n,
    apparmor: existsSync('/sys/kernel/security/apparmor'),
    selinux: existsSync('/sys/fs/selinux/enforce'),
    timeNamespace: existsSync('/proc/self/ns/time'),
    kcore: existsSync('/proc/kcore'),
  };
  return cached;
}
