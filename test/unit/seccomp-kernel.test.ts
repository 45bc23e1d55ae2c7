// Loads the compiled Docker default filter into the real kernel, in a
// throwaway python3 process (Node cannot call seccomp(2) itself), and checks
// what a few syscalls return. This proves the kernel accepts the program, not
// just our interpreter. Skipped where python3 or seccomp is unavailable.

import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { arch as nodeArch, platform } from 'node:os';
import { test } from 'node:test';

import { compileSeccomp, dockerDefaultProfile, syscallNumber, type HostArch } from '../../src/runtime/seccomp/index.js';

const HOST: HostArch | undefined = nodeArch() === 'x64' ? 'x86_64' : nodeArch() === 'arm64' ? 'aarch64' : undefined;

// Reads the filter from stdin, installs it with no_new_privs, then makes the
// syscalls named in argv[1] (JSON [[label, nr, args...], ...]) and prints
// {"load": errno, "results": {label: errno}} as JSON.
const CHILD = `
import ctypes, json, sys
libc = ctypes.CDLL(None, use_errno=True)
data = sys.stdin.buffer.read()
calls = json.loads(sys.argv[1])
seccomp_nr = int(sys.argv[2])
class Prog(ctypes.Structure):
    _fields_ = [('len', ctypes.c_ushort), ('filter', ctypes.c_void_p)]
buf = ctypes.create_string_buffer(data, len(data))
prog = Prog(len(data) // 8, ctypes.cast(buf, ctypes.c_void_p))
def errno_of(r):
    return ctypes.get_errno() if r == -1 else 0
if libc.prctl(38, 1, 0, 0, 0) != 0:
    print(json.dumps({'load': ctypes.get_errno(), 'results': {}})); sys.exit(0)
r = libc.syscall(ctypes.c_long(seccomp_nr), ctypes.c_long(1), ctypes.c_long(0), ctypes.byref(prog))
if r != 0:
    print(json.dumps({'load': ctypes.get_errno(), 'results': {}})); sys.exit(0)
results = {}
for label, nr, *args in calls:
    ctypes.set_errno(0)
    results[label] = errno_of(libc.syscall(ctypes.c_long(nr), *[ctypes.c_long(a) for a in args]))
print(json.dumps({'load': 0, 'results': results}))
`;

const EPERM = 1;
const ENOSYS = 38;

function python3(): boolean {
  return spawnSync('python3', ['-c', 'import ctypes'], { stdio: 'ignore' }).status === 0;
}

const skip = platform() !== 'linux' || HOST === undefined ? 'needs Linux on x86_64 or aarch64' : !python3() ? 'needs python3' : false;

test('the kernel accepts the Docker default filter and enforces it', { skip }, (t) => {
  const host = HOST!;
  const profile = dockerDefaultProfile({
    capabilities: ['CAP_CHOWN', 'CAP_SETUID', 'CAP_SETGID', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'],
    hostArch: host,
  });
  const { filter, flags } = compileSeccomp(profile, host);
  assert.equal(flags, 0);
  const nr = (name: string): number => syscallNumber(name, host)!;
  const calls = [
    ['getpid', nr('getpid')],
    ['unshare', nr('unshare'), 0x10000000],
    ['keyctl', nr('keyctl'), 0],
    ['mount', nr('mount'), 0, 0, 0, 0, 0],
    ['clone3', nr('clone3'), 0, 0],
    ['personality_query', nr('personality'), 0xffffffff],
    ['personality_1', nr('personality'), 1],
    ['socket_vsock', nr('socket'), 40, 1, 0],
  ];
  const child = spawnSync('python3', ['-c', CHILD, JSON.stringify(calls), String(nr('seccomp'))], { input: filter });
  assert.equal(child.status, 0, child.stderr.toString());
  const out = JSON.parse(child.stdout.toString()) as { load: number; results: Record<string, number> };
  if (out.load === EPERM || out.load === ENOSYS) {
    t.skip(`seccomp(2) not permitted here (errno ${out.load})`);
    return;
  }
  assert.equal(out.load, 0, `the kernel refused the filter with errno ${out.load}`);
  assert.deepEqual(out.results, {
    getpid: 0,
    unshare: EPERM,
    keyctl: EPERM,
    mount: EPERM,
    clone3: ENOSYS,
    personality_query: 0,
    personality_1: EPERM,
    socket_vsock: EPERM,
  });
});
