import * as assert from 'node:assert/strict';
import { test } from 'node:test';

import { multiplexedSyscall, syscallNames, syscallNumber, X32_SYSCALL_BIT } from '../../src/runtime/seccomp/index.js';

// Spot checks against well-known numbers (man 2 syscall, the kernel's tables).
test('x86_64 numbers', () => {
  const want: Record<string, number> = {
    read: 0, write: 1, open: 2, mmap: 9, ioctl: 16, clone: 56, fork: 57, execve: 59, kill: 62, arch_prctl: 158,
    mount: 165, keyctl: 250, unshare: 272, seccomp: 317, userfaultfd: 323, statx: 332, rseq: 334, pidfd_open: 434,
    clone3: 435, close_range: 436, openat2: 437, faccessat2: 439, landlock_restrict_self: 446, futex_waitv: 449,
    cachestat: 451, fchmodat2: 452, mseal: 462, uretprobe: 335,
  };
  for (const [name, nr] of Object.entries(want)) assert.equal(syscallNumber(name, 'x86_64'), nr, name);
  for (const name of ['mmap2', 'socketcall', 'ipc', '_llseek', 'set_tls', 'chown32']) {
    assert.equal(syscallNumber(name, 'x86_64'), undefined, name);
  }
});

test('i386 numbers', () => {
  const want: Record<string, number> = {
    restart_syscall: 0, exit: 1, read: 3, execve: 11, mount: 21, ptrace: 26, socketcall: 102, ipc: 117, clone: 120,
    personality: 136, _llseek: 140, _newselect: 142, mmap2: 192, chown32: 212, set_thread_area: 243, keyctl: 288,
    unshare: 310, socket: 359, clone3: 435,
  };
  for (const [name, nr] of Object.entries(want)) assert.equal(syscallNumber(name, 'x86'), nr, name);
  assert.equal(syscallNumber('arch_prctl', 'x86'), 384);
  assert.equal(syscallNumber('send', 'x86'), undefined, 'send only exists through socketcall');
});

test('x32 numbers carry X32_SYSCALL_BIT and use the x32-specific 512+ entries', () => {
  assert.equal(X32_SYSCALL_BIT, 0x40000000);
  const want: Record<string, number> = {
    read: 0, write: 1, mmap: 9, execve: 520, ioctl: 514, readv: 515, writev: 516, recvfrom: 517, ptrace: 521,
    rt_sigaction: 512, rt_sigreturn: 513, execveat: 545, clone3: 435,
  };
  for (const [name, nr] of Object.entries(want)) assert.equal(syscallNumber(name, 'x32'), (nr | X32_SYSCALL_BIT) >>> 0, name);
  // 64-bit-only entries are not x32 syscalls.
  assert.equal(syscallNumber('uselib', 'x32'), undefined);
});

test('aarch64 numbers (asm-generic)', () => {
  const want: Record<string, number> = {
    io_setup: 0, mount: 40, openat: 56, close: 57, read: 63, write: 64, ppoll: 73, newfstatat: 79, fstat: 80,
    exit_group: 94, unshare: 97, ptrace: 117, clone: 220, execve: 221, mmap: 222, keyctl: 219, renameat: 38,
    clone3: 435, rseq: 293,
  };
  for (const [name, nr] of Object.entries(want)) assert.equal(syscallNumber(name, 'aarch64'), nr, name);
  for (const name of ['open', 'stat', 'fork', 'pipe', 'dup2', 'mmap2', 'arch_prctl']) {
    assert.equal(syscallNumber(name, 'aarch64'), undefined, name);
  }
});

test('arm (EABI) numbers, including the private 0x0f0000 range', () => {
  const want: Record<string, number> = {
    read: 3, execve: 11, clone: 120, mmap2: 192, socket: 281, arm_fadvise64_64: 270, arm_sync_file_range: 341,
    breakpoint: 0xf0001, cacheflush: 0xf0002, set_tls: 0xf0005,
  };
  for (const [name, nr] of Object.entries(want)) assert.equal(syscallNumber(name, 'arm'), nr, name);
  assert.equal(syscallNumber('socketcall', 'arm'), undefined);
});

test('tables have no duplicate numbers and a plausible size', () => {
  for (const arch of ['x86_64', 'x86', 'x32', 'aarch64', 'arm'] as const) {
    const names = syscallNames(arch);
    const nrs = names.map((n) => syscallNumber(n, arch));
    assert.equal(new Set(nrs).size, nrs.length, `${arch} has duplicate numbers`);
    assert.ok(names.length > 300, `${arch}: only ${names.length} syscalls`);
  }
  assert.equal(syscallNumber('toString', 'x86_64'), undefined);
  assert.equal(syscallNumber('__proto__', 'x86_64'), undefined);
});

test('i386 multiplexed socket and IPC calls', () => {
  assert.deepEqual(multiplexedSyscall('socket', 'x86'), { via: 'socketcall', call: 1 });
  assert.deepEqual(multiplexedSyscall('recvmsg', 'x86'), { via: 'socketcall', call: 17 });
  assert.deepEqual(multiplexedSyscall('sendmmsg', 'x86'), { via: 'socketcall', call: 20 });
  assert.deepEqual(multiplexedSyscall('semop', 'x86'), { via: 'ipc', call: 1 });
  assert.deepEqual(multiplexedSyscall('shmctl', 'x86'), { via: 'ipc', call: 24 });
  assert.equal(multiplexedSyscall('socket', 'x86_64'), undefined);
  assert.equal(multiplexedSyscall('read', 'x86'), undefined);
});
