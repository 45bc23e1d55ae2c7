// Validation and normalisation of an OCI LinuxSeccomp profile into the
// numeric form the BPF generator works with. Every error names the rule and
// field at fault, because profiles are written by hand.

import type { LinuxSeccomp, LinuxSeccompArg, LinuxSyscall } from '../../oci/runtime-spec.js';
import { invalidArgument } from '../../util/errors.js';
import type { HostArch, SeccompArch } from './syscalls.js';

/** SECCOMP_RET_* values (linux/seccomp.h). */
export const SECCOMP_RET = {
  KILL_PROCESS: 0x80000000,
  KILL_THREAD: 0x00000000,
  TRAP: 0x00030000,
  ERRNO: 0x00050000,
  USER_NOTIF: 0x7fc00000,
  TRACE: 0x7ff00000,
  LOG: 0x7ffc0000,
  ALLOW: 0x7fff0000,
} as const;

/** SECCOMP_FILTER_FLAG_* values accepted in LinuxSeccomp.flags. */
export const SECCOMP_FILTER_FLAGS: Readonly<Record<string, number>> = {
  SECCOMP_FILTER_FLAG_TSYNC: 1,
  SECCOMP_FILTER_FLAG_LOG: 2,
  SECCOMP_FILTER_FLAG_SPEC_ALLOW: 4,
};

/** EPERM: the errno libseccomp/runc use when a profile gives none. */
const EPERM = 1;

/** The comparison operators of LinuxSeccompArg.op, without the SCMP_CMP_ prefix. */
export type CmpOp = 'NE' | 'LT' | 'LE' | 'EQ' | 'GE' | 'GT' | 'MASKED_EQ';

const CMP_OPS: ReadonlySet<string> = new Set<CmpOp>(['NE', 'LT', 'LE', 'EQ', 'GE', 'GT', 'MASKED_EQ']);

/** One argument condition with 64-bit operands. */
export interface Condition {
  index: number;
  op: CmpOp;
  /** The comparand; for MASKED_EQ the mask. */
  value: bigint;
  /** For MASKED_EQ the value (arg & mask) must equal; 0 otherwise. */
  valueTwo: bigint;
}

/** A profile rule with its action resolved to a SECCOMP_RET_* value. */
export interface NormalizedRule {
  names: string[];
  action: number;
  conditions: Condition[];
}

export interface NormalizedProfile {
  defaultAction: number;
  /** ABIs that get a section in the filter; the host's native ABI is always first. */
  arches: SeccompArch[];
  flags: number;
  rules: NormalizedRule[];
}

const ARCHES: Readonly<Record<string, SeccompArch>> = {
  SCMP_ARCH_X86_64: 'x86_64',
  SCMP_ARCH_X86: 'x86',
  SCMP_ARCH_X32: 'x32',
  SCMP_ARCH_AARCH64: 'aarch64',
  SCMP_ARCH_ARM: 'arm',
};

// Valid OCI/libseccomp architecture names berth has no syscall table for.
// They are accepted and left out of the filter: an ABI without a section gets
// the bad-arch action (kill), so dropping one only ever makes the filter
// stricter, and none of them can run natively on an x86_64 or aarch64 host.
const UNSUPPORTED_ARCHES: ReadonlySet<string> = new Set([
  'SCMP_ARCH_MIPS', 'SCMP_ARCH_MIPS64', 'SCMP_ARCH_MIPS64N32', 'SCMP_ARCH_MIPSEL', 'SCMP_ARCH_MIPSEL64',
  'SCMP_ARCH_MIPSEL64N32', 'SCMP_ARCH_PPC', 'SCMP_ARCH_PPC64', 'SCMP_ARCH_PPC64LE', 'SCMP_ARCH_S390',
  'SCMP_ARCH_S390X', 'SCMP_ARCH_PARISC', 'SCMP_ARCH_PARISC64', 'SCMP_ARCH_RISCV64', 'SCMP_ARCH_LOONGARCH64',
  'SCMP_ARCH_M68K', 'SCMP_ARCH_SH', 'SCMP_ARCH_SHEB',
]);

/** Validates `profile` and turns names into numbers. Throws InvalidArgument on any error. */
export function normalizeProfile(profile: LinuxSeccomp, hostArch: HostArch): NormalizedProfile {
  if (typeof profile !== 'object' || profile === null) throw invalidArgument('seccomp: profile must be an object');
  const defaultAction = parseAction(profile.defaultAction, profile.defaultErrnoRet, 'defaultAction');
  const rules = (profile.syscalls ?? []).map((rule, i) => normalizeRule(rule, i));
  return {
    defaultAction,
    arches: parseArches(profile.architectures ?? [], hostArch),
    flags: parseFlags(profile.flags ?? []),
    rules,
  };
}

/**
 * Resolves an SCMP_ACT_* name to its SECCOMP_RET_* value. errnoRet only
 * means something for ERRNO (the errno) and TRACE (the message for the
 * tracer); both default to EPERM as in runc. Other actions ignore it, as runc does.
 */
export function parseAction(action: unknown, errnoRet: unknown, where: string): number {
  if (typeof action !== 'string' || action === '') throw invalidArgument(`seccomp: ${where}: action is missing`);
  switch (action) {
    case 'SCMP_ACT_KILL':
    case 'SCMP_ACT_KILL_THREAD':
      return SECCOMP_RET.KILL_THREAD;
    case 'SCMP_ACT_KILL_PROCESS':
      return SECCOMP_RET.KILL_PROCESS;
    case 'SCMP_ACT_TRAP':
      return SECCOMP_RET.TRAP;
    case 'SCMP_ACT_ERRNO':
      return (SECCOMP_RET.ERRNO | parseErrno(errnoRet, where)) >>> 0;
    case 'SCMP_ACT_TRACE':
      return (SECCOMP_RET.TRACE | parseErrno(errnoRet, where)) >>> 0;
    case 'SCMP_ACT_ALLOW':
      return SECCOMP_RET.ALLOW;
    case 'SCMP_ACT_LOG':
      return SECCOMP_RET.LOG;
    case 'SCMP_ACT_NOTIFY':
      throw invalidArgument(
        `seccomp: ${where}: SCMP_ACT_NOTIFY is not supported yet (seccomp notify with a listenerPath agent)`,
      );
    default:
      throw invalidArgument(`seccomp: ${where}: unknown action "${action}"`);
  }
}

/** The 16-bit SECCOMP_RET_DATA an ERRNO/TRACE action carries. */
function parseErrno(errnoRet: unknown, where: string): number {
  if (errnoRet === undefined || errnoRet === null) return EPERM;
  if (typeof errnoRet !== 'number' || !Number.isInteger(errnoRet) || errnoRet < 0 || errnoRet > 0xffff) {
    throw invalidArgument(`seccomp: ${where}: errnoRet must be an integer from 0 to 65535, got ${String(errnoRet)}`);
  }
  return errnoRet;
}

function normalizeRule(rule: LinuxSyscall, i: number): NormalizedRule {
  const where = `syscalls[${i}]`;
  if (typeof rule !== 'object' || rule === null) throw invalidArgument(`seccomp: ${where} must be an object`);
  if (!Array.isArray(rule.names) || rule.names.length === 0) {
    throw invalidArgument(`seccomp: ${where}: "names" must list at least one syscall`);
  }
  for (const name of rule.names) {
    if (typeof name !== 'string' || name === '') {
      throw invalidArgument(`seccomp: ${where}: syscall names must be non-empty strings, got ${JSON.stringify(name)}`);
    }
  }
  const action = parseAction(rule.action, rule.errnoRet, where);
  const conditions = (rule.args ?? []).map((arg, j) => parseCondition(arg, `${where}.args[${j}]`));
  return { names: [...new Set(rule.names)], action, conditions };
}

function parseCondition(arg: LinuxSeccompArg, where: string): Condition {
  if (typeof arg !== 'object' || arg === null) throw invalidArgument(`seccomp: ${where} must be an object`);
  const { index } = arg;
  if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index > 5) {
    throw invalidArgument(`seccomp: ${where}: index must be an integer from 0 to 5 (syscalls have 6 arguments), got ${String(index)}`);
  }
  const opName = typeof arg.op === 'string' && arg.op.startsWith('SCMP_CMP_') ? arg.op.slice('SCMP_CMP_'.length) : '';
  if (!CMP_OPS.has(opName)) throw invalidArgument(`seccomp: ${where}: unknown operator "${String(arg.op)}"`);
  const op = opName as CmpOp;
  const value = toU64(arg.value, `${where}.value`);
  const valueTwo = op === 'MASKED_EQ' && arg.valueTwo !== undefined ? toU64(arg.valueTwo, `${where}.valueTwo`) : 0n;
  return { index, op, value, valueTwo };
}

const U64_LIMIT = 1n << 64n;

/** An argument operand as an unsigned 64-bit integer. */
function toU64(v: unknown, where: string): bigint {
  if (typeof v === 'bigint') {
    if (v >= 0n && v < U64_LIMIT) return v;
  } else if (typeof v === 'number' && Number.isInteger(v) && v >= 0) {
    if (v < 2 ** 64) return BigInt(v);
    // JSON numbers are doubles: 18446744073709551615 arrives as exactly 2^64.
    throw invalidArgument(
      `seccomp: ${where}: ${v} does not fit in 64 bits (numbers above 2^53 lose precision in JSON; use a smaller value or a mask)`,
    );
  }
  throw invalidArgument(`seccomp: ${where}: must be an unsigned 64-bit integer, got ${String(v)}`);
}

/**
 * The ABIs to give a section. Like libseccomp's seccomp_init(), the filter
 * always covers the host's native ABI; listed architectures are added to it.
 */
function parseArches(names: readonly string[], hostArch: HostArch): SeccompArch[] {
  if (!Array.isArray(names)) throw invalidArgument('seccomp: architectures must be a list');
  const arches: SeccompArch[] = [hostArch];
  for (const name of names) {
    const arch = typeof name === 'string' && Object.hasOwn(ARCHES, name) ? ARCHES[name] : undefined;
    if (arch !== undefined) {
      if (!arches.includes(arch)) arches.push(arch);
    } else if (!(typeof name === 'string' && UNSUPPORTED_ARCHES.has(name))) {
      throw invalidArgument(`seccomp: unknown architecture "${String(name)}"`);
    }
  }
  return arches;
}

function parseFlags(names: readonly string[]): number {
  if (!Array.isArray(names)) throw invalidArgument('seccomp: flags must be a list');
  let flags = 0;
  for (const name of names) {
    const bit = typeof name === 'string' && Object.hasOwn(SECCOMP_FILTER_FLAGS, name) ? SECCOMP_FILTER_FLAGS[name] : undefined;
    if (bit === undefined) throw invalidArgument(`seccomp: unknown or unsupported filter flag "${String(name)}"`);
    flags |= bit;
  }
  return flags;
}
