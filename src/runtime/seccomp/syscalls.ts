// Syscall name -> number resolution for the architectures the seccomp compiler knows.

import { AARCH64_SYSCALLS } from './tables-aarch64.js';
import { ARM_SYSCALLS } from './tables-arm.js';
import { X32_SYSCALLS } from './tables-x32.js';
import { X86_SYSCALLS } from './tables-x86.js';
import { X86_64_SYSCALLS } from './tables-x86_64.js';

/** A syscall ABI with its own numbering (libseccomp's notion of an "arch"). */
export type SeccompArch = 'x86_64' | 'x86' | 'x32' | 'aarch64' | 'arm';

/** The host architectures berth runs on. */
export type HostArch = 'x86_64' | 'aarch64';

/** x32 syscalls reach the kernel as the x86_64 number with this bit set. */
export const X32_SYSCALL_BIT = 0x40000000;

/** seccomp_data.arch values (linux/audit.h). x32 shares AUDIT_ARCH_X86_64. */
export const AUDIT_ARCH = {
  x86_64: 0xc000003e,
  x86: 0x40000003,
  x32: 0xc000003e,
  aarch64: 0xc00000b7,
  arm: 0x40000028,
} as const satisfies Record<SeccompArch, number>;

/** Whether an ABI passes 32-bit syscall arguments (libseccomp's ARCH_SIZE_32). */
export const ARCH_IS_32BIT: Readonly<Record<SeccompArch, boolean>> = {
  x86_64: false,
  x86: true,
  x32: true,
  aarch64: false,
  arm: true,
};

// Maps are used rather than the records directly so that names such as
// "constructor" or "__proto__" can never resolve through Object.prototype.
const TABLES: Readonly<Record<SeccompArch, ReadonlyMap<string, number>>> = {
  x86_64: new Map(Object.entries(X86_64_SYSCALLS)),
  x86: new Map(Object.entries(X86_SYSCALLS)),
  x32: new Map(Object.entries(X32_SYSCALLS)),
  aarch64: new Map(Object.entries(AARCH64_SYSCALLS)),
  arm: new Map(Object.entries(ARM_SYSCALLS)),
};

/**
 * The number the kernel sees in seccomp_data.nr for `name` on `arch`, or
 * undefined when that ABI has no such syscall (profiles routinely list
 * syscalls that only exist elsewhere, e.g. "mmap2" on x86_64).
 * For x32 the X32_SYSCALL_BIT is included.
 */
export function syscallNumber(name: string, arch: SeccompArch): number | undefined {
  const nr = TABLES[arch].get(name);
  if (nr === undefined) return undefined;
  return arch === 'x32' ? (nr | X32_SYSCALL_BIT) >>> 0 : nr;
}

/** Every syscall name known for `arch` (for tests and diagnostics). */
export function syscallNames(arch: SeccompArch): string[] {
  return [...TABLES[arch].keys()];
}

/**
 * On i386 the socket and SysV IPC calls can also be made through the
 * socketcall(2) and ipc(2) multiplexers, with the real call selected by the
 * first argument. libseccomp (abi_rule_add) therefore turns a rule for e.g.
 * "socket" into a rule for socket(359) plus a rule for socketcall with
 * arg0 == SYS_SOCKET, replacing any condition the rule had on arg 0. The
 * numbers are the SYS_* values of linux/net.h and the *OP values of the
 * kernel's ipc/syscall.c.
 */
export interface Multiplexed {
  /** The multiplexer's syscall name ("socketcall" or "ipc"). */
  via: 'socketcall' | 'ipc';
  /** The value of its first argument that selects this call. */
  call: number;
}

const SOCKETCALL_CALLS: readonly string[] = [
  'socket', 'bind', 'connect', 'listen', 'accept', 'getsockname', 'getpeername', 'socketpair', 'send', 'recv',
  'sendto', 'recvfrom', 'shutdown', 'setsockopt', 'getsockopt', 'sendmsg', 'recvmsg', 'accept4', 'recvmmsg',
  'sendmmsg',
];

const IPC_CALLS: ReadonlyMap<string, number> = new Map([
  ['semop', 1], ['semget', 2], ['semctl', 3], ['semtimedop', 4],
  ['msgsnd', 11], ['msgrcv', 12], ['msgget', 13], ['msgctl', 14],
  ['shmat', 21], ['shmdt', 22], ['shmget', 23], ['shmctl', 24],
]);

/** The multiplexed form of `name` on `arch`, if that ABI has one (only x86 does). */
export function multiplexedSyscall(name: string, arch: SeccompArch): Multiplexed | undefined {
  if (arch !== 'x86') return undefined;
  const sock = SOCKETCALL_CALLS.indexOf(name);
  if (sock >= 0) return { via: 'socketcall', call: sock + 1 };
  const ipc = IPC_CALLS.get(name);
  return ipc === undefined ? undefined : { via: 'ipc', call: ipc };
}
