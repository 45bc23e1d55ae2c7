// The planner and the wire format, with a fixed host: no kernel needed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Spec } from '../../src/oci/runtime-spec.js';
import { defaultSpec } from '../../src/runtime-cli/default-spec.js';
import { planCreate, planExec, type CreateRequest } from '../../src/runtime/plan.js';
import { Op, encodeProgram, type ProgramOp } from '../../src/runtime/program.js';
import { parseMountOptions } from '../../src/runtime/mount-options.js';
import { MS } from '../../src/runtime/linux-constants.js';
import type { HostFacts } from '../../src/sys/host.js';
import { parseFlags } from '../../src/util/argv.js';
import { parseSignal } from '../../src/runtime/container.js';
import { parseProcLimits } from '../../src/sys/host.js';
import { REPO } from '../helpers/runtime.js';

const host: HostFacts = {
  arch: 'x86_64', lastCap: 40, hardLimits: { RLIMIT_NOFILE: 20000, RLIMIT_NPROC: Infinity }, hasSysResource: false,
  apparmor: false, selinux: false, timeNamespace: true, kcore: false,
};

function request(edit: (s: Spec) => void = () => undefined, extra: Partial<CreateRequest> = {}): CreateRequest {
  const spec = defaultSpec();
  spec.process!.terminal = false;
  edit(spec);
  return {
    id: 'c1', bundle: '/b', rootfs: '/b/rootfs', spec, mode: 'exit', preserveFds: 0, noPivot: false, waitAfterCreate: false,
    cgroup: { joinFiles: ['/sys/fs/cgroup/memory/c1/tasks'], cloneInto: '/sys/fs/cgroup/unified/c1', hierarchies: [] }, host, warn: () => undefined,
    execFifo: '/run/c1/exec.fifo', ...extra,
  };
}

const names = (ops: ProgramOp[]): string[] => ops.map((o) => o.op);
const indexOf = (ops: ProgramOp[], op: string): number => names(ops).indexOf(op);

test('op codes match native/shim/program.h', () => {
  const header = readFileSync(join(REPO, 'native/shim/program.h'), 'utf8');
  const inC = new Map([...header.matchAll(/^\s+OP_([A-Z_]+) = (\d+),/gm)].map((m) => [m[1]!, Number(m[2])]));
  assert.deepEqual(new Map(Object.entries(Op)), inC);
});

test('the program encodes strings with NUL, integers as u64 and lists as NUL-terminated items', () => {
  const buf = encodeProgram([{ op: 'EXEC', args: ['sh', { list: ['sh', '-c'] }, { list: [] }], what: '' }]);
  assert.equal(buf.readUInt32LE(0), 0x31545242);
  assert.equal(buf.readUInt32LE(4), buf.length - 8);
  assert.equal(buf.readUInt16LE(8), Op.EXEC);
  assert.equal(buf.readUInt16LE(10), 3);
  assert.equal(buf.readUInt32LE(16), 3);
  assert.equal(buf.subarray(20, 23).toString(), 'sh\0');
  assert.equal(buf.subarray(27, 33).toString(), 'sh\0-c\0');
  assert.throws(() => encodeProgram([{ op: 'CHDIR', args: ['a\0b'], what: '' }]), /contains NUL/);
  const num = encodeProgram([{ op: 'UMASK', args: [0o22], what: '' }]);
  assert.equal(num.readBigUInt64LE(20), 0o22n);
});

test('the cgroup namespace is made by the init, after it is born into its cgroups', () => {
  const ops = planCreate(request()); // berth's default spec has a cgroup namespace
  const unshare = ops.find((o) => o.op === 'UNSHARE')!;
  assert.equal(Number(unshare.args[0]) & 0x02000000, 0, 'not in stage 1');
  assert.ok(indexOf(ops, 'CGROUP_CLONE_INTO') < indexOf(ops, 'CGROUPNS'));
  assert.ok(indexOf(ops, 'CGROUPNS') < indexOf(ops, 'ROOTFS'), 'before any cgroup mount');
});

test('stage order: cgroups, then joins (user first, mount last), then new namespaces', () => {
  const ops = planCreate(request((s) => {
    s.linux!.namespaces = [{ type: 'mount', path: '/proc/9/ns/mnt' }, { type: 'network', path: '/proc/9/ns/net' }, { type: 'user', path: '/proc/9/ns/user' }, { type: 'pid' }, { type: 'uts' }];
  }));
  const joins = ops.filter((o) => o.op === 'JOIN_NS').map((o) => o.args[1]);
  assert.deepEqual(joins, ['/proc/9/ns/user', '/proc/9/ns/net', '/proc/9/ns/mnt']);
  assert.ok(indexOf(ops, 'CGROUP_JOIN') < indexOf(ops, 'JOIN_NS'));
  assert.ok(indexOf(ops, 'JOIN_NS') < indexOf(ops, 'UNSHARE'));
});

test("seccomp loads after the runtime's own syscalls and before the final capabilities, or last with no_new_privs", () => {
  const seccomp = { filter: Buffer.alloc(8), flags: 0 };
  const withoutNnp = planCreate(request((s) => (s.process!.noNewPrivileges = false), { seccomp }));
  for (const op of ['CLOEXEC_FROM', 'USER', 'CHDIR']) assert.ok(indexOf(withoutNnp, op) < indexOf(withoutNnp, 'SECCOMP'), op);
  assert.ok(indexOf(withoutNnp, 'SECCOMP') < indexOf(withoutNnp, 'CAPS'));
  const withNnp = planCreate(request((s) => (s.process!.noNewPrivileges = true), { seccomp }));
  assert.ok(indexOf(withNnp, 'SECCOMP') > indexOf(withNnp, 'WAIT_START'));
  assert.equal(names(withNnp).at(-1), 'EXEC');
  assert.ok(indexOf(withNnp, 'NO_NEW_PRIVS') < indexOf(withNnp, 'SECCOMP'));
});

test('mounts and masks come before the pivot; identity and caps after; exec last', () => {
  const ops = planCreate(request());
  const pivot = indexOf(ops, 'PIVOT_ROOT');
  for (const op of ['ROOTFS', 'MOUNT', 'MKNOD', 'MASK_PATH', 'READONLY_PATH', 'EXEC_FIFO']) assert.ok(indexOf(ops, op) < pivot, op);
  for (const op of ['USER', 'CHDIR', 'CAPS', 'REPORT_READY', 'WAIT_START']) assert.ok(indexOf(ops, op) > pivot, op);
  assert.ok(indexOf(ops, 'READONLY_ROOT') > pivot);
  assert.ok(indexOf(ops, 'CAPS_BOUNDING') < indexOf(ops, 'USER'));
  assert.ok(indexOf(ops, 'USER') < indexOf(ops, 'CAPS'));
  assert.equal(names(ops).at(-1), 'EXEC');
});

test('ambient capabilities outside permitted and inheritable are skipped with a warning, as runc does', () => {
  const warnings: string[] = [];
  const caps = { bounding: ['CAP_KILL', 'CAP_CHOWN'], permitted: ['CAP_KILL', 'CAP_CHOWN'], inheritable: ['CAP_CHOWN'], ambient: ['CAP_KILL', 'CAP_CHOWN'] };
  const ops = planCreate({ ...request((s) => (s.process!.capabilities = caps)), warn: (m) => warnings.push(m) });
  assert.equal(ops.find((o) => o.op === 'CAPS')!.args[3], 1n << 0n);
  assert.match(warnings.join('\n'), /ambient: CAP_KILL not raised/);
});

test('capability names become masks; unknown names are skipped with a warning', () => {
  const warnings: string[] = [];
  const ops = planCreate({ ...request((s) => (s.process!.capabilities = { bounding: ['CAP_KILL', 'CAP_BOGUS'], effective: ['CAP_KILL'] })), warn: (m) => warnings.push(m) });
  const bounding = ops.find((o) => o.op === 'CAPS_BOUNDING')!.args[0];
  assert.equal(bounding, 1n << 5n);
  assert.match(warnings.join('\n'), /unknown capability CAP_BOGUS/);
});

test('bad configs fail with a message naming the field', () => {
  const cases: [(s: Spec) => void, RegExp][] = [
    [(s) => (s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'uts')), /hostname is set but the container has no UTS namespace/],
    [(s) => (s.process!.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 1048576, hard: 1048576 }]), /RLIMIT_NOFILE hard limit 1048576 is above the current hard limit 20000.*CAP_SYS_RESOURCE/],
    [(s) => (s.process!.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 10, hard: 5 }]), /soft limit 10 is above its hard limit 5/],
    [(s) => (s.process!.rlimits = [{ type: 'RLIMIT_BOGUS', soft: 1, hard: 1 }]), /unknown rlimit type "RLIMIT_BOGUS"/],
    [(s) => (s.linux!.sysctl = { 'kernel.panic': '1' }), /kernel.panic is not namespaced/],
    [(s) => {
      s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'network');
      s.linux!.sysctl = { 'net.ipv4.ip_forward': '1' };
    }, /needs the container to have its own network namespace/],
    [(s) => s.linux!.namespaces!.push({ type: 'pid' }), /"pid" is listed twice/],
    [(s) => (s.process!.terminal = true), /no --console-socket was given/],
    [(s) => (s.process!.args = []), /process.args must name a program/],
    [(s) => (s.process!.cwd = 'relative'), /must be an absolute path/],
    [(s) => s.mounts!.push({ destination: 'tmp', type: 'tmpfs' }), /mounts\[\d+\]: destination "tmp" must be an absolute path/],
    [(s) => (s.linux!.rootfsPropagation = 'sideways'), /unknown value "sideways"/],
    [(s) => (s.linux!.namespaces = [{ type: 'pid' }]), /root.readonly needs a mount namespace/],
    [(s) => s.linux!.namespaces!.push({ type: 'user' }), /needs linux.uidMappings and linux.gidMappings/],
  ];
  for (const [edit, message] of cases) assert.throws(() => planCreate(request(edit)), message);
});

test('a sysctl with an interface name keeps its dots inside the level', () => {
  const ops = planCreate(request((s) => (s.linux!.sysctl = { 'net.ipv4.conf.eth0/100.forwarding': '1', 'kernel.shmmax': '4096' })));
  const sysctls = ops.filter((o) => o.op === 'SYSCTL').map((o) => o.args[0]);
  assert.deepEqual(sysctls, ['net/ipv4/conf/eth0.100/forwarding', 'kernel/shmmax']);
});

test('exec joins the given namespaces and never mounts or pivots', () => {
  const p = defaultSpec().process!;
  const ops = planExec({
    mode: 'wait', preserveFds: 0, cgroup: { joinFiles: [], hierarchies: [] }, host, warn: () => undefined,
    process: { ...p, terminal: false }, namespacePaths: [{ type: 0x10000000, path: '/proc/5/ns/user' }, { type: 0x20000, path: '/proc/5/ns/mnt' }],
  });
  assert.deepEqual(ops.filter((o) => o.op === 'JOIN_NS').map((o) => o.args[1]), ['/proc/5/ns/user', '/proc/5/ns/mnt']);
  for (const op of ['MOUNT', 'PIVOT_ROOT', 'ROOTFS', 'WAIT_START']) assert.equal(indexOf(ops, op), -1, op);
});

test('mount options map to flags, propagation, recursive attributes and data', () => {
  const o = parseMountOptions(['nosuid', 'noexec', 'ro', 'rw', 'rbind', 'rslave', 'rro', 'mode=755', 'size=64k', 'defaults']);
  assert.equal(o.flags, MS.NOSUID | MS.NOEXEC | MS.BIND | MS.REC);
  assert.equal(o.propagation, MS.SLAVE | MS.REC);
  assert.equal(o.recursiveAttr, 1);
  assert.deepEqual(o.data, ['mode=755', 'size=64k']);
});

test('flags stop at the first positional, like runc', () => {
  const p = parseFlags(['-t', '--cwd=/x', '-e', 'A=1', '--env', 'B=2', 'id', 'ls', '-la'], {
    tty: { type: 'boolean', short: 't' }, cwd: { type: 'string' }, env: { type: 'string', short: 'e', multiple: true },
  }, 'exec');
  assert.deepEqual(p.flags, { tty: true, cwd: '/x', env: ['A=1', 'B=2'] });
  assert.deepEqual(p.rest, ['id', 'ls', '-la']);
  assert.throws(() => parseFlags(['--bogus', 'id'], {}, 'start'), /start: unknown flag --bogus/);
  assert.throws(() => parseFlags(['--cwd'], { cwd: { type: 'string' } }, 'exec'), /flag --cwd needs a value/);
});

test('signals by name, SIG name or number; unknown ones are refused', () => {
  assert.equal(parseSignal('KILL'), 9);
  assert.equal(parseSignal('SIGTERM'), 15);
  assert.equal(parseSignal('10'), 10);
  assert.equal(parseSignal('RTMIN+2'), 36);
  assert.throws(() => parseSignal('SIGNOPE'), /unknown signal "SIGNOPE"/);
  assert.throws(() => parseSignal('99'), /unknown signal/);
});

test('/proc/self/limits parsing reads hard limits, unlimited as Infinity', () => {
  const text = 'Limit                     Soft Limit           Hard Limit           Units     \n' +
    'Max open files            1024                 20000                files     \n' +
    'Max processes             unlimited            unlimited            processes \n';
  assert.deepEqual(parseProcLimits(text), { RLIMIT_NOFILE: 20000, RLIMIT_NPROC: Infinity });
});
