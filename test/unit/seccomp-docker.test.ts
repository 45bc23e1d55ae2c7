import * as assert from 'node:assert/strict';
import { test } from 'node:test';

import { isBerthError } from '../../src/util/errors.js';
import {
  AUDIT_ARCH,
  compileSeccomp,
  decodeProgram,
  DOCKER_DEFAULT_PROFILE,
  dockerDefaultProfile,
  kernelAtLeast,
  resolveDockerProfile,
  SECCOMP_RET,
  syscallNames,
  syscallNumber,
  type HostArch,
  type SeccompArch,
} from '../../src/runtime/seccomp/index.js';
import { runFilter, verifyFilter } from './seccomp-bpf-interp.js';

const EPERM = (SECCOMP_RET.ERRNO | 1) >>> 0;
const ENOSYS = (SECCOMP_RET.ERRNO | 38) >>> 0;
const { ALLOW, KILL_THREAD } = SECCOMP_RET;

/** Docker's default capability set. */
const DOCKER_CAPS = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID', 'CAP_SETUID',
  'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
];

const CLONE_NEWNS = 0x00020000;
const CLONE_NEWUSER = 0x10000000;
const CLONE_NEWNET = 0x40000000;
const SIGCHLD = 17;
// What glibc's pthread_create passes.
const CLONE_THREAD_FLAGS = 0x3d0f00;

function dockerFilter(hostArch: HostArch, extraCaps: string[] = [], kernelRelease = '6.8.0-45-generic'): Buffer {
  const profile = dockerDefaultProfile({ capabilities: [...DOCKER_CAPS, ...extraCaps], hostArch, kernelRelease });
  const { filter } = compileSeccomp(profile, hostArch);
  verifyFilter(filter);
  return filter;
}

function verdict(filter: Buffer, arch: SeccompArch, name: string, args: readonly (bigint | number)[] = []): number {
  const nr = syscallNumber(name, arch);
  assert.notEqual(nr, undefined, `${name} has no number on ${arch}`);
  return runFilter(filter, { nr: nr!, arch: AUDIT_ARCH[arch], args }).ret;
}

test('the Docker default profile resolves like moby: arch map, caps, arches, minKernel', () => {
  const p = dockerDefaultProfile({ capabilities: DOCKER_CAPS, hostArch: 'x86_64', kernelRelease: '6.8.0' });
  assert.equal(p.defaultAction, 'SCMP_ACT_ERRNO');
  assert.equal(p.defaultErrnoRet, 1);
  assert.deepEqual(p.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
  const names = new Set(p.syscalls!.flatMap((s) => s.names));
  assert.ok(names.has('read') && names.has('arch_prctl') && names.has('modify_ldt') && names.has('ptrace'));
  assert.ok(names.has('chroot'), 'CAP_SYS_CHROOT is in the default set');
  assert.ok(!names.has('mount') && !names.has('unshare') && !names.has('setns'), 'CAP_SYS_ADMIN rules left out');
  assert.ok(!names.has('set_tls') && !names.has('s390_runtime_instr'), 'other-arch rules left out');
  assert.ok(!names.has('open_by_handle_at'), 'CAP_DAC_READ_SEARCH rule left out');
  for (const s of p.syscalls!) {
    assert.deepEqual(Object.keys(s).filter((k) => !['names', 'action', 'args', 'errnoRet'].includes(k)), []);
  }
  // The clone rule with the namespace-flag mask applies without CAP_SYS_ADMIN; clone3 gets ENOSYS.
  assert.ok(p.syscalls!.some((s) => s.names.includes('clone') && s.args?.[0]?.op === 'SCMP_CMP_MASKED_EQ'));
  assert.ok(p.syscalls!.some((s) => s.names.includes('clone3') && s.action === 'SCMP_ACT_ERRNO' && s.errnoRet === 38));

  const arm = dockerDefaultProfile({ capabilities: DOCKER_CAPS, hostArch: 'aarch64', kernelRelease: '6.8.0' });
  assert.deepEqual(arm.architectures, ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM']);
  const armNames = new Set(arm.syscalls!.flatMap((s) => s.names));
  assert.ok(armNames.has('set_tls') && !armNames.has('arch_prctl') && !armNames.has('modify_ldt'));
});

test('the resolved profile does not alias the built-in one', () => {
  const p = dockerDefaultProfile({ capabilities: DOCKER_CAPS, hostArch: 'x86_64', kernelRelease: '6.8.0' });
  p.syscalls![0]!.names.push('mount');
  p.architectures!.push('SCMP_ARCH_ARM');
  assert.ok(!DOCKER_DEFAULT_PROFILE.syscalls![0]!.names!.includes('mount'));
  assert.equal(DOCKER_DEFAULT_PROFILE.architectures, undefined);
});

test('the Docker default profile compiles well under BPF_MAXINSNS on both hosts', () => {
  for (const host of ['x86_64', 'aarch64'] as const) {
    for (const extra of [[], ['CAP_SYS_ADMIN', 'CAP_SYS_PTRACE', 'CAP_SYS_MODULE', 'CAP_SYS_TIME', 'CAP_BPF']]) {
      const n = decodeProgram(dockerFilter(host, extra)).length;
      assert.ok(n > 500 && n < 2500, `${host} +${extra.length} caps: ${n} instructions`);
    }
  }
});

test('Docker default on x86_64: everyday syscalls are allowed on all three x86 ABIs', () => {
  const filter = dockerFilter('x86_64');
  for (const name of ['read', 'write', 'openat', 'execve', 'mmap', 'futex', 'exit_group', 'arch_prctl', 'rt_sigreturn']) {
    assert.equal(verdict(filter, 'x86_64', name), ALLOW, name);
  }
  for (const name of ['read', 'write', 'execve', 'mmap2', '_llseek', 'socketcall', 'set_thread_area']) {
    assert.equal(verdict(filter, 'x86', name), ALLOW, `i386 ${name}`);
  }
  for (const name of ['read', 'write', 'execve', 'readv', 'ioctl']) {
    assert.equal(verdict(filter, 'x32', name), ALLOW, `x32 ${name}`);
  }
});

test('Docker default: privileged syscalls get EPERM without CAP_SYS_ADMIN', () => {
  const filter = dockerFilter('x86_64');
  for (const arch of ['x86_64', 'x86', 'x32'] as const) {
    for (const name of ['unshare', 'mount', 'umount2', 'setns', 'keyctl', 'add_key', 'bpf', 'perf_event_open', 'init_module',
      'reboot', 'swapon', 'pivot_root', 'open_by_handle_at', 'kexec_load', 'userfaultfd']) {
      assert.equal(verdict(filter, arch, name), EPERM, `${arch} ${name}`);
    }
  }
  assert.equal(runFilter(filter, { nr: 4000, arch: AUDIT_ARCH.x86_64 }).ret, EPERM);
});

test('Docker default: clone without namespace flags is allowed, with them it is not; clone3 gets ENOSYS', () => {
  const filter = dockerFilter('x86_64');
  for (const arch of ['x86_64', 'x86', 'x32'] as const) {
    assert.equal(verdict(filter, arch, 'clone', [SIGCHLD]), ALLOW, `${arch} fork-like clone`);
    assert.equal(verdict(filter, arch, 'clone', [CLONE_THREAD_FLAGS]), ALLOW, `${arch} thread clone`);
    assert.equal(verdict(filter, arch, 'clone', [CLONE_NEWUSER | SIGCHLD]), EPERM, `${arch} clone(NEWUSER)`);
    assert.equal(verdict(filter, arch, 'clone', [CLONE_NEWNS | SIGCHLD]), EPERM, `${arch} clone(NEWNS)`);
    assert.equal(verdict(filter, arch, 'clone', [CLONE_NEWNET]), EPERM, `${arch} clone(NEWNET)`);
    assert.equal(verdict(filter, arch, 'clone3'), ENOSYS, `${arch} clone3`);
  }
});

test('Docker default with CAP_SYS_ADMIN: namespaces and mounts are allowed', () => {
  const filter = dockerFilter('x86_64', ['CAP_SYS_ADMIN']);
  assert.equal(verdict(filter, 'x86_64', 'unshare', [CLONE_NEWUSER]), ALLOW);
  assert.equal(verdict(filter, 'x86_64', 'mount'), ALLOW);
  assert.equal(verdict(filter, 'x86_64', 'clone', [CLONE_NEWUSER | SIGCHLD]), ALLOW);
  assert.equal(verdict(filter, 'x86_64', 'clone3'), ALLOW);
  assert.equal(verdict(filter, 'x86_64', 'keyctl'), EPERM, 'keyctl is not in the profile at all');
});

test('Docker default: socket families and personality values', () => {
  const filter = dockerFilter('x86_64');
  for (const arch of ['x86_64', 'x86'] as const) {
    assert.equal(verdict(filter, arch, 'socket', [2, 1, 0]), ALLOW, `${arch} AF_INET`);
    assert.equal(verdict(filter, arch, 'socket', [16, 3, 0]), ALLOW, `${arch} AF_NETLINK`);
    assert.equal(verdict(filter, arch, 'socket', [38]), EPERM, `${arch} AF_ALG`);
    assert.equal(verdict(filter, arch, 'socket', [39]), ALLOW, `${arch} 39`);
    assert.equal(verdict(filter, arch, 'socket', [40]), EPERM, `${arch} AF_VSOCK`);
    assert.equal(verdict(filter, arch, 'socket', [41]), ALLOW, `${arch} 41`);
    for (const persona of [0, 8, 0x20000, 0x20008, 0xffffffff]) {
      assert.equal(verdict(filter, arch, 'personality', [persona]), ALLOW, `${arch} personality(${persona})`);
    }
    assert.equal(verdict(filter, arch, 'personality', [0x0040000]), EPERM, `${arch} personality(ADDR_NO_RANDOMIZE)`);
  }
  // 64-bit ABIs compare whole arguments: a high word makes the value bigger, not equal.
  assert.equal(verdict(filter, 'x86_64', 'personality', [8n | (1n << 32n)]), EPERM);
  assert.equal(verdict(filter, 'x86_64', 'socket', [38n | (1n << 32n)]), ALLOW, '> 40 as a 64-bit value');
});

test('Docker default: ptrace needs kernel >= 4.8 or CAP_SYS_PTRACE', () => {
  assert.equal(verdict(dockerFilter('x86_64', [], '4.8.0'), 'x86_64', 'ptrace'), ALLOW);
  assert.equal(verdict(dockerFilter('x86_64', [], '4.4.0-210-generic'), 'x86_64', 'ptrace'), EPERM);
  assert.equal(verdict(dockerFilter('x86_64', ['CAP_SYS_PTRACE'], '4.4.0'), 'x86_64', 'ptrace'), ALLOW);
  assert.equal(verdict(dockerFilter('x86_64', [], '4.4.0'), 'x86_64', 'kcmp'), EPERM);
  assert.equal(verdict(dockerFilter('x86_64', ['SYS_PTRACE'], '4.4.0'), 'x86_64', 'kcmp'), ALLOW, 'CAP_ prefix optional');
});

test('Docker default on aarch64: aarch64 and arm sections, x86 is killed', () => {
  const filter = dockerFilter('aarch64');
  for (const name of ['read', 'write', 'openat', 'execve', 'clone']) assert.equal(verdict(filter, 'aarch64', name), ALLOW, name);
  for (const name of ['read', 'write', 'execve', 'set_tls', 'cacheflush', 'arm_fadvise64_64']) {
    assert.equal(verdict(filter, 'arm', name), ALLOW, `arm ${name}`);
  }
  assert.equal(verdict(filter, 'aarch64', 'unshare'), EPERM);
  assert.equal(verdict(filter, 'aarch64', 'clone', [CLONE_NEWUSER]), EPERM);
  assert.equal(verdict(filter, 'arm', 'mount'), EPERM);
  assert.equal(verdict(filter, 'x86_64', 'read'), KILL_THREAD);
  assert.equal(verdict(filter, 'x86', 'read'), KILL_THREAD);
});

test('Docker default on x86_64: foreign architectures are killed', () => {
  const filter = dockerFilter('x86_64');
  assert.equal(verdict(filter, 'aarch64', 'read'), KILL_THREAD);
  assert.equal(verdict(filter, 'arm', 'read'), KILL_THREAD);
});

test('the search tree keeps every syscall decision short', () => {
  const filter = dockerFilter('x86_64');
  let worst = 0;
  for (const arch of ['x86_64', 'x86', 'x32'] as const) {
    for (const name of syscallNames(arch)) {
      const { steps } = runFilter(filter, { nr: syscallNumber(name, arch)!, arch: AUDIT_ARCH[arch], args: [SIGCHLD] });
      worst = Math.max(worst, steps);
    }
  }
  assert.ok(worst <= 60, `worst case ${worst} instructions (a linear scan would take hundreds)`);
});

test('resolveDockerProfile applies moby rules to custom profiles', () => {
  const opts = { capabilities: ['CAP_NET_ADMIN'], hostArch: 'x86_64' as const, kernelRelease: '5.10.0' };
  assert.equal(resolveDockerProfile({ defaultAction: '' }, opts), undefined);
  const p = resolveDockerProfile(
    {
      defaultAction: 'SCMP_ACT_ALLOW',
      architectures: ['SCMP_ARCH_X86_64'],
      syscalls: [
        { name: 'acct', action: 'SCMP_ACT_ERRNO' },
        { names: ['a1'], action: 'SCMP_ACT_ERRNO', includes: { minKernel: '5.11' } },
        { names: ['a2'], action: 'SCMP_ACT_ERRNO', excludes: { minKernel: '5.10' } },
        { names: ['a3'], action: 'SCMP_ACT_ERRNO', excludes: { caps: ['CAP_SYS_ADMIN', 'NET_ADMIN'] } },
        { names: ['a4'], action: 'SCMP_ACT_ERRNO', includes: { caps: ['CAP_NET_ADMIN', 'CAP_SYS_ADMIN'] } },
        { names: ['a5'], action: 'SCMP_ACT_ERRNO', includes: { arches: ['amd64'] }, excludes: { arches: ['arm64'] } },
        { names: ['a6'], action: 'SCMP_ACT_ERRNO', excludes: { arches: ['amd64'] } },
        { names: ['a7'], action: 'SCMP_ACT_ERRNO', errnoRet: 5, includes: { minKernel: '5.9' }, comment: 'kept' },
      ],
    },
    opts,
  );
  assert.deepEqual(p, {
    defaultAction: 'SCMP_ACT_ALLOW',
    architectures: ['SCMP_ARCH_X86_64'],
    syscalls: [
      { names: ['acct'], action: 'SCMP_ACT_ERRNO' },
      { names: ['a5'], action: 'SCMP_ACT_ERRNO' },
      { names: ['a7'], action: 'SCMP_ACT_ERRNO', errnoRet: 5 },
    ],
  });
  const bad = (fn: () => unknown, re: RegExp): void =>
    assert.throws(fn, (e: unknown) => isBerthError(e, 'InvalidArgument') && re.test((e as Error).message));
  bad(() => resolveDockerProfile({ defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86'], archMap: [{ architecture: 'SCMP_ARCH_X86_64', subArchitectures: null }] }, opts), /both 'architectures' and 'archMap'/);
  bad(() => resolveDockerProfile({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ name: 'a', names: ['b'], action: 'SCMP_ACT_ERRNO' }] }, opts), /both 'name' and 'names'/);
  bad(() => resolveDockerProfile({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['b'], action: 'SCMP_ACT_ERRNO', includes: { minKernel: '5' } }] }, opts), /invalid minKernel "5"/);
});

test('kernelAtLeast compares kernel and major revision only', () => {
  assert.equal(kernelAtLeast('4.8.0', '4.8'), true);
  assert.equal(kernelAtLeast('4.8-rc5', '4.8'), true);
  assert.equal(kernelAtLeast('4.7.99', '4.8'), false);
  assert.equal(kernelAtLeast('5.0.0', '4.8'), true);
  assert.equal(kernelAtLeast('4.10.1-gentoo', '4.9'), true);
  assert.equal(kernelAtLeast('3.19.0', '4.8'), false);
});
