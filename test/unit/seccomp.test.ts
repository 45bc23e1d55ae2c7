import * as assert from 'node:assert/strict';
import { test } from 'node:test';

import type { LinuxSeccomp, LinuxSeccompArg } from '../../src/oci/runtime-spec.js';
import { isBerthError } from '../../src/util/errors.js';
import {
  AUDIT_ARCH,
  compileSeccomp,
  decodeProgram,
  SECCOMP_RET,
  syscallNames,
  syscallNumber,
  X32_SYSCALL_BIT,
  type HostArch,
  type SeccompArch,
} from '../../src/runtime/seccomp/index.js';
import { runFilter, verifyFilter } from './seccomp-bpf-interp.js';

const ERRNO = (n: number): number => (SECCOMP_RET.ERRNO | n) >>> 0;
const { ALLOW, KILL_THREAD, KILL_PROCESS, TRAP, LOG, TRACE } = SECCOMP_RET;

/** Compiles and checks the program is one the kernel would accept. */
function compile(profile: LinuxSeccomp, host: HostArch = 'x86_64'): Buffer {
  const { filter } = compileSeccomp(profile, host);
  verifyFilter(filter);
  return filter;
}

/** The verdict for syscall `name` of ABI `arch` with the given arguments. */
function verdict(filter: Buffer, arch: SeccompArch, name: string, args: readonly (bigint | number)[] = []): number {
  const nr = syscallNumber(name, arch);
  assert.notEqual(nr, undefined, `${name} has no number on ${arch}`);
  return runFilter(filter, { nr: nr!, arch: AUDIT_ARCH[arch], args }).ret;
}

function assertInvalid(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(isBerthError(err, 'InvalidArgument'), `expected InvalidArgument, got ${String(err)}`);
    assert.match((err as Error).message, message);
    return true;
  });
}

test('allow-listed syscalls are allowed, others get the default action with defaultErrnoRet', () => {
  const filter = compile({
    defaultAction: 'SCMP_ACT_ERRNO',
    defaultErrnoRet: 13,
    syscalls: [{ names: ['read', 'write'], action: 'SCMP_ACT_ALLOW' }],
  });
  assert.equal(verdict(filter, 'x86_64', 'read'), ALLOW);
  assert.equal(verdict(filter, 'x86_64', 'write'), ALLOW);
  assert.equal(verdict(filter, 'x86_64', 'openat'), ERRNO(13));
  assert.equal(runFilter(filter, { nr: 100000, arch: AUDIT_ARCH.x86_64 }).ret, ERRNO(13));
});

test('the default errno is EPERM when defaultErrnoRet is not given', () => {
  const filter = compile({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW' }] });
  assert.equal(verdict(filter, 'x86_64', 'write'), ERRNO(1));
});

test('every action maps to its SECCOMP_RET value', () => {
  const filter = compile({
    defaultAction: 'SCMP_ACT_ALLOW',
    syscalls: [
      { names: ['read'], action: 'SCMP_ACT_KILL' },
      { names: ['write'], action: 'SCMP_ACT_KILL_THREAD' },
      { names: ['openat'], action: 'SCMP_ACT_KILL_PROCESS' },
      { names: ['close'], action: 'SCMP_ACT_TRAP' },
      { names: ['mkdir'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 },
      { names: ['rmdir'], action: 'SCMP_ACT_ERRNO' },
      { names: ['chdir'], action: 'SCMP_ACT_TRACE', errnoRet: 1234 },
      { names: ['fchdir'], action: 'SCMP_ACT_TRACE' },
      { names: ['getpid'], action: 'SCMP_ACT_LOG' },
    ],
  });
  assert.equal(verdict(filter, 'x86_64', 'read'), KILL_THREAD);
  assert.equal(verdict(filter, 'x86_64', 'write'), KILL_THREAD);
  assert.equal(verdict(filter, 'x86_64', 'openat'), KILL_PROCESS);
  assert.equal(verdict(filter, 'x86_64', 'close'), TRAP);
  assert.equal(verdict(filter, 'x86_64', 'mkdir'), ERRNO(38));
  assert.equal(verdict(filter, 'x86_64', 'rmdir'), ERRNO(1));
  assert.equal(verdict(filter, 'x86_64', 'chdir'), (TRACE | 1234) >>> 0);
  assert.equal(verdict(filter, 'x86_64', 'fchdir'), (TRACE | 1) >>> 0);
  assert.equal(verdict(filter, 'x86_64', 'getpid'), LOG);
  assert.equal(verdict(filter, 'x86_64', 'getppid'), ALLOW);
});

test('the program is little-endian struct sock_filter and starts by loading seccomp_data.arch', () => {
  const filter = compile({ defaultAction: 'SCMP_ACT_ALLOW' });
  assert.equal(filter.length % 8, 0);
  assert.deepEqual([...filter.subarray(0, 8)], [0x20, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00]);
  const jeq = decodeProgram(filter)[1]!;
  assert.equal(jeq.code, 0x15);
  assert.equal(jeq.k, AUDIT_ARCH.x86_64);
});

// --- argument conditions -------------------------------------------------

type Op = 'NE' | 'LT' | 'LE' | 'EQ' | 'GE' | 'GT';

const U64 = (v: bigint): bigint => BigInt.asUintN(64, v);

function reference(op: Op, arg: bigint, value: bigint): boolean {
  switch (op) {
    case 'NE':
      return arg !== value;
    case 'LT':
      return arg < value;
    case 'LE':
      return arg <= value;
    case 'EQ':
      return arg === value;
    case 'GE':
      return arg >= value;
    case 'GT':
      return arg > value;
  }
}

// Values around the 32-bit boundary and with nonzero high words; comparisons
// that only looked at one word, or compared signed, would get some wrong.
const OPERANDS = [0n, 1n, 5n, 0x7fffffffn, 0x80000000n, 0xffffffffn, 0x100000000n, 0x100000005n, 0x1ffffffffn,
  0x200000000n, 0x200000005n, 0x1fffffffffffffn];
const ARGS = [...OPERANDS, 0x100000004n, 0x100000006n, U64(-1n), 0xffffffff00000005n, 0x8000000000000000n];

for (const op of ['NE', 'LT', 'LE', 'EQ', 'GE', 'GT'] as const) {
  test(`SCMP_CMP_${op} compares all 64 bits, unsigned`, () => {
    for (const value of OPERANDS) {
      const filter = compile({
        defaultAction: 'SCMP_ACT_ERRNO',
        syscalls: [{ names: ['ioctl'], action: 'SCMP_ACT_ALLOW', args: [{ index: 2, value: Number(value), op: `SCMP_CMP_${op}` }] }],
      });
      for (const arg of ARGS) {
        const want = reference(op, arg, value) ? ALLOW : ERRNO(1);
        const got = verdict(filter, 'x86_64', 'ioctl', [0, 0, arg]);
        assert.equal(got, want, `ioctl arg2=0x${arg.toString(16)} ${op} 0x${value.toString(16)}`);
      }
    }
  });
}

test('SCMP_CMP_MASKED_EQ uses value as the mask and valueTwo as the datum, on both words', () => {
  const mask = 0xff00000000ffn;
  const datum = 0x120000000034n;
  const filter = compile({
    defaultAction: 'SCMP_ACT_ERRNO',
    syscalls: [
      { names: ['fcntl'], action: 'SCMP_ACT_ALLOW', args: [{ index: 1, value: Number(mask), valueTwo: Number(datum), op: 'SCMP_CMP_MASKED_EQ' }] },
    ],
  });
  for (const arg of [0x120000000034n, 0x12abcdef1234n, 0xff12ffffffff0034n, 0x130000000034n, 0x120000000035n, 0x34n, 0n]) {
    const want = (arg & mask) === datum ? ALLOW : ERRNO(1);
    assert.equal(verdict(filter, 'x86_64', 'fcntl', [3, arg]), want, `fcntl arg1=0x${arg.toString(16)}`);
  }
});

test('SCMP_CMP_MASKED_EQ without valueTwo tests that the masked bits are clear', () => {
  const filter = compile({
    defaultAction: 'SCMP_ACT_ERRNO',
    syscalls: [{ names: ['fcntl'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 0xf0, op: 'SCMP_CMP_MASKED_EQ' }] }],
  });
  assert.equal(verdict(filter, 'x86_64', 'fcntl', [0x0f]), ALLOW);
  assert.equal(verdict(filter, 'x86_64', 'fcntl', [0x100000000]), ALLOW);
  assert.equal(verdict(filter, 'x86_64', 'fcntl', [0x10]), ERRNO(1));
});

test('all conditions of a rule must hold, including several on the same argument', () => {
  const filter = compile({
    defaultAction: 'SCMP_ACT_ERRNO',
    syscalls: [
      {
        names: ['mmap'],
        action: 'SCMP_ACT_ALLOW',
        args: [
          { index: 1, value: 10, op: 'SCMP_CMP_GE' },
          { index: 1, value: 20, op: 'SCMP_CMP_LE' },
          { index: 5, value: 7, op: 'SCMP_CMP_EQ' },
        ],
      },
    ],
  });
  assert.equal(verdict(filter, 'x86_64', 'mmap', [0, 15, 0, 0, 0, 7]), ALLOW);
  assert.equal(verdict(filter, 'x86_64', 'mmap', [0, 10, 0, 0, 0, 7]), ALLOW);
  assert.equal(verdict(filter, 'x86_64', 'mmap', [0, 20, 0, 0, 0, 7]), ALLOW);
  assert.equal(verdict(filter, 'x86_64', 'mmap', [0, 9, 0, 0, 0, 7]), ERRNO(1));
  assert.equal(verdict(filter, 'x86_64', 'mmap', [0, 21, 0, 0, 0, 7]), ERRNO(1));
  assert.equal(verdict(filter, 'x86_64', 'mmap', [0, 15, 0, 0, 0, 8]), ERRNO(1));
});

test('rules for one syscall are tried in profile order and the first match decides', () => {
  const filter = compile({
    defaultAction: 'SCMP_ACT_ALLOW',
    syscalls: [
      { names: ['kill'], action: 'SCMP_ACT_ERRNO', errnoRet: 5, args: [{ index: 1, value: 9, op: 'SCMP_CMP_EQ' }] },
      { names: ['kill'], action: 'SCMP_ACT_ERRNO', errnoRet: 6, args: [{ index: 1, value: 5, op: 'SCMP_CMP_GT' }] },
      { names: ['kill'], action: 'SCMP_ACT_TRAP' },
      { names: ['kill'], action: 'SCMP_ACT_ERRNO', errnoRet: 7 },
    ],
  });
  assert.equal(verdict(filter, 'x86_64', 'kill', [1, 9]), ERRNO(5));
  assert.equal(verdict(filter, 'x86_64', 'kill', [1, 15]), ERRNO(6));
  assert.equal(verdict(filter, 'x86_64', 'kill', [1, 2]), TRAP);
});

test('a syscall whose conditional rules all fail gets the default action', () => {
  const filter = compile({
    defaultAction: 'SCMP_ACT_ERRNO',
    defaultErrnoRet: 22,
    syscalls: [
      { names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 0, op: 'SCMP_CMP_EQ' }] },
      { names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 8, op: 'SCMP_CMP_EQ' }] },
    ],
  });
  assert.equal(verdict(filter, 'x86_64', 'personality', [0]), ALLOW);
  assert.equal(verdict(filter, 'x86_64', 'personality', [8]), ALLOW);
  assert.equal(verdict(filter, 'x86_64', 'personality', [1]), ERRNO(22));
});

test('a rule with the default action is dropped, as runc does', () => {
  const filter = compile({
    defaultAction: 'SCMP_ACT_ERRNO',
    syscalls: [
      { names: ['read'], action: 'SCMP_ACT_ERRNO' },
      { names: ['read'], action: 'SCMP_ACT_ALLOW' },
    ],
  });
  assert.equal(verdict(filter, 'x86_64', 'read'), ALLOW);
});

test('syscall names an ABI lacks are skipped; names no ABI has are skipped too', () => {
  const filter = compile({
    defaultAction: 'SCMP_ACT_ERRNO',
    syscalls: [{ names: ['mmap2', 'no_such_syscall', 'read', '__proto__', 'constructor'], action: 'SCMP_ACT_ALLOW' }],
  });
  assert.equal(verdict(filter, 'x86_64', 'read'), ALLOW);
  assert.equal(verdict(filter, 'x86_64', 'write'), ERRNO(1));
});

// --- architectures ------------------------------------------------------

test('x32 syscalls get their own section, told apart by X32_SYSCALL_BIT', () => {
  const filter = compile({
    defaultAction: 'SCMP_ACT_ERRNO',
    architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X32'],
    syscalls: [
      { names: ['read'], action: 'SCMP_ACT_ALLOW' },
      { names: ['readv'], action: 'SCMP_ACT_ERRNO', errnoRet: 99 },
    ],
  });
  assert.equal(syscallNumber('read', 'x32'), X32_SYSCALL_BIT);
  assert.equal(verdict(filter, 'x32', 'read'), ALLOW);
  assert.equal(verdict(filter, 'x32', 'readv'), ERRNO(99)); // x32 readv is 515 | bit, not 19 | bit
  assert.equal(runFilter(filter, { nr: (19 | X32_SYSCALL_BIT) >>> 0, arch: AUDIT_ARCH.x32 }).ret, ERRNO(1));
  assert.equal(verdict(filter, 'x32', 'write'), ERRNO(1));
  assert.equal(verdict(filter, 'x86_64', 'readv'), ERRNO(99));
  assert.equal(runFilter(filter, { nr: -1, arch: AUDIT_ARCH.x86_64 }).ret, ERRNO(1));
});

test('without SCMP_ARCH_X32, x32 syscalls are killed but nr -1 still gets the default action', () => {
  const filter = compile({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW' }] });
  assert.equal(verdict(filter, 'x86_64', 'read'), ALLOW);
  assert.equal(verdict(filter, 'x32', 'read'), KILL_THREAD);
  assert.equal(runFilter(filter, { nr: -1, arch: AUDIT_ARCH.x86_64 }).ret, ERRNO(1));
});

test('i386 gets its own section with its own numbers', () => {
  const filter = compile({
    defaultAction: 'SCMP_ACT_ERRNO',
    architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86'],
    syscalls: [
      { names: ['read', 'mmap2'], action: 'SCMP_ACT_ALLOW' },
      { names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 8, op: 'SCMP_CMP_EQ' }] },
    ],
  });
  assert.equal(syscallNumber('read', 'x86'), 3);
  assert.equal(verdict(filter, 'x86', 'read'), ALLOW);
  assert.equal(verdict(filter, 'x86', 'mmap2'), ALLOW);
  assert.equal(verdict(filter, 'x86', 'write'), ERRNO(1));
  // nr 0 is read on x86_64 but restart_syscall on i386.
  assert.equal(runFilter(filter, { nr: 0, arch: AUDIT_ARCH.x86 }).ret, ERRNO(1));
  assert.equal(verdict(filter, 'x86', 'personality', [8]), ALLOW);
  // 32-bit ABIs compare only the low word of an argument, as libseccomp does.
  assert.equal(verdict(filter, 'x86', 'personality', [0x100000008n]), ALLOW);
  assert.equal(verdict(filter, 'x86_64', 'personality', [0x100000008n]), ERRNO(1));
});

test('i386 socket and IPC rules also cover the socketcall and ipc multiplexers', () => {
  const filter = compile({
    defaultAction: 'SCMP_ACT_ALLOW',
    architectures: ['SCMP_ARCH_X86'],
    syscalls: [
      { names: ['socket'], action: 'SCMP_ACT_ERRNO', errnoRet: 97, args: [{ index: 0, value: 40, op: 'SCMP_CMP_EQ' }] },
      { names: ['shmget'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 },
    ],
  });
  assert.equal(verdict(filter, 'x86', 'socket', [40]), ERRNO(97));
  assert.equal(verdict(filter, 'x86', 'socket', [2]), ALLOW);
  assert.equal(verdict(filter, 'x86', 'socketcall', [1]), ERRNO(97)); // SYS_SOCKET
  assert.equal(verdict(filter, 'x86', 'socketcall', [2]), ALLOW); // SYS_BIND
  assert.equal(verdict(filter, 'x86', 'shmget'), ERRNO(38));
  assert.equal(verdict(filter, 'x86', 'ipc', [23]), ERRNO(38)); // SHMGET
  assert.equal(verdict(filter, 'x86', 'ipc', [21]), ALLOW); // SHMAT
  // x86_64 has no multiplexer: nothing extra there.
  assert.equal(verdict(filter, 'x86_64', 'socket', [40]), ERRNO(97));
});

test('an ABI the filter does not cover is killed (libseccomp bad-arch default)', () => {
  const filter = compile({ defaultAction: 'SCMP_ACT_ALLOW' });
  assert.equal(verdict(filter, 'x86_64', 'read'), ALLOW);
  assert.equal(verdict(filter, 'x86', 'read'), KILL_THREAD);
  assert.equal(verdict(filter, 'aarch64', 'read'), KILL_THREAD);
  assert.equal(runFilter(filter, { nr: 0, arch: 0x12345678 }).ret, KILL_THREAD);
});

test('the native ABI is always covered, even when architectures lists only others', () => {
  const filter = compile({
    defaultAction: 'SCMP_ACT_ERRNO',
    architectures: ['SCMP_ARCH_X32', 'SCMP_ARCH_MIPS'],
    syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW' }],
  });
  assert.equal(verdict(filter, 'x86_64', 'read'), ALLOW);
  assert.equal(verdict(filter, 'x32', 'read'), ALLOW);
  assert.equal(verdict(filter, 'x86', 'read'), KILL_THREAD);
});

test('aarch64 hosts: native aarch64 section plus arm', () => {
  const filter = compile(
    {
      defaultAction: 'SCMP_ACT_ERRNO',
      architectures: ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM'],
      syscalls: [
        { names: ['read', 'openat', 'set_tls'], action: 'SCMP_ACT_ALLOW' },
        { names: ['ioctl'], action: 'SCMP_ACT_ALLOW', args: [{ index: 1, value: 0x5401, op: 'SCMP_CMP_EQ' }] },
      ],
    },
    'aarch64',
  );
  assert.equal(syscallNumber('read', 'aarch64'), 63);
  assert.equal(verdict(filter, 'aarch64', 'read'), ALLOW);
  assert.equal(verdict(filter, 'aarch64', 'openat'), ALLOW);
  assert.equal(verdict(filter, 'aarch64', 'write'), ERRNO(1));
  assert.equal(verdict(filter, 'aarch64', 'ioctl', [1, 0x5401]), ALLOW);
  assert.equal(verdict(filter, 'aarch64', 'ioctl', [1, 0x1_0000_5401]), ERRNO(1));
  assert.equal(verdict(filter, 'arm', 'read'), ALLOW);
  assert.equal(verdict(filter, 'arm', 'set_tls'), ALLOW);
  assert.equal(verdict(filter, 'arm', 'write'), ERRNO(1));
  assert.equal(verdict(filter, 'x86_64', 'read'), KILL_THREAD);
});

// --- size and long jumps ---------------------------------------------------

test('large profiles compile with long jumps and every rule still works', () => {
  // One conditional rule per x86_64 syscall: ~2500 instructions, so the search
  // tree's jumps to the handlers span far more than 255 instructions.
  const names = syscallNames('x86_64');
  const filter = compile({
    defaultAction: 'SCMP_ACT_ERRNO',
    syscalls: names.map((name, i) => ({
      names: [name],
      action: 'SCMP_ACT_ERRNO',
      errnoRet: 1000 + i,
      args: [{ index: 0, value: i, op: 'SCMP_CMP_EQ' }],
    })),
  });
  const insns = decodeProgram(filter);
  assert.ok(insns.length > 1500, `expected a big program, got ${insns.length}`);
  assert.ok(insns.some((i) => i.code === 0x05), 'expected long (BPF_JA) jumps');
  names.forEach((name, i) => {
    assert.equal(verdict(filter, 'x86_64', name, [i]), ERRNO(1000 + i), name);
    assert.equal(verdict(filter, 'x86_64', name, [i + 1]), ERRNO(1), name);
  });
});

test('a filter over BPF_MAXINSNS is refused with a clear error', () => {
  // Distinct conditions per syscall, so handlers cannot be shared.
  const args = (i: number): LinuxSeccompArg[] =>
    [0, 1, 2, 3, 4, 5].map((index) => ({ index, value: 0x100000000 * (i + 1) + index, op: 'SCMP_CMP_EQ' }));
  const profile: LinuxSeccomp = {
    defaultAction: 'SCMP_ACT_ERRNO',
    syscalls: syscallNames('x86_64').map((name, i) => ({ names: [name], action: 'SCMP_ACT_ALLOW', args: args(i) })),
  };
  assertInvalid(() => compileSeccomp(profile, 'x86_64'), /instructions, more than the kernel's limit of 4096/);
});

// --- flags and bad input ---------------------------------------------------

test('filter flags are returned as numbers', () => {
  const { flags } = compileSeccomp(
    { defaultAction: 'SCMP_ACT_ALLOW', flags: ['SECCOMP_FILTER_FLAG_TSYNC', 'SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW'] },
    'x86_64',
  );
  assert.equal(flags, 7);
  assert.equal(compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', flags: ['SECCOMP_FILTER_FLAG_LOG'] }, 'x86_64').flags, 2);
  assert.equal(compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW' }, 'x86_64').flags, 0);
});

test('bad profiles are refused with a message naming the problem', () => {
  const base = (syscalls: LinuxSeccomp['syscalls']): LinuxSeccomp => ({ defaultAction: 'SCMP_ACT_ERRNO', syscalls });
  const withArg = (arg: Partial<LinuxSeccompArg>): LinuxSeccomp =>
    base([{ names: ['read'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 0, op: 'SCMP_CMP_EQ', ...arg }] }]);
  assertInvalid(() => compileSeccomp({ defaultAction: 'SCMP_ACT_NOPE' }, 'x86_64'), /defaultAction: unknown action "SCMP_ACT_NOPE"/);
  assertInvalid(() => compileSeccomp(base([{ names: ['read'], action: 'SCMP_ACT_ALOW' }]), 'x86_64'), /syscalls\[0\]: unknown action "SCMP_ACT_ALOW"/);
  assertInvalid(() => compileSeccomp(base([{ names: ['read'], action: 'SCMP_ACT_NOTIFY' }]), 'x86_64'), /SCMP_ACT_NOTIFY is not supported yet/);
  assertInvalid(() => compileSeccomp(withArg({ op: 'SCMP_CMP_EQUAL' }), 'x86_64'), /args\[0\]: unknown operator "SCMP_CMP_EQUAL"/);
  assertInvalid(() => compileSeccomp(withArg({ index: 6 }), 'x86_64'), /args\[0\]: index must be an integer from 0 to 5/);
  assertInvalid(() => compileSeccomp(withArg({ value: -1 }), 'x86_64'), /value: must be an unsigned 64-bit integer/);
  assertInvalid(() => compileSeccomp(withArg({ value: 18446744073709551615 }), 'x86_64'), /does not fit in 64 bits/);
  assertInvalid(() => compileSeccomp(base([{ names: [], action: 'SCMP_ACT_ALLOW' }]), 'x86_64'), /syscalls\[0\]: "names" must list/);
  assertInvalid(() => compileSeccomp(base([{ names: ['read'], action: 'SCMP_ACT_ERRNO', errnoRet: 70000 }]), 'x86_64'), /errnoRet must be/);
  assertInvalid(() => compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_Z80'] }, 'x86_64'), /unknown architecture "SCMP_ARCH_Z80"/);
  assertInvalid(() => compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', flags: ['SECCOMP_FILTER_FLAG_NOPE'] }, 'x86_64'), /unknown or unsupported filter flag "SECCOMP_FILTER_FLAG_NOPE"/);
});
