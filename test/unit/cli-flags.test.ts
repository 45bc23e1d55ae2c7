// The berth CLI's flag parser (pflag semantics), value conversions, help layout and the
// run/create flags → create-request translation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FlagSpec } from '../../src/cli/command.js';
import { FlagError, formatDuration, parseDuration, parseFlags, ramInBytes } from '../../src/cli/flags.js';
import { flagUsages } from '../../src/cli/help.js';
import { CONTAINER_FLAGS, CREATE_FLAGS, buildCreateRequest, parseMount, parseNanoCpus, parsePorts } from '../../src/cli/commands/container-opts.js';

const RUN_FLAGS: FlagSpec[] = [
  ...CONTAINER_FLAGS,
  ...CREATE_FLAGS,
  { name: 'detach', short: 'd', type: 'bool', usage: '' },
  { name: 'sig-proxy', type: 'bool', usage: '', default: true },
];

function runArgs(argv: string[]) {
  return parseFlags(argv, RUN_FLAGS, { interspersed: false });
}

test('combined short booleans and short values glued or separate', () => {
  const p = runArgs(['-it', '-eA=1', '-e', 'B=2', '-e=C=3', '--env=D=4', '--env', 'E=5', 'busybox', 'sh']);
  assert.equal(p.values.interactive, true);
  assert.equal(p.values.tty, true);
  assert.deepEqual(p.values.env, ['A=1', 'B=2', 'C=3', 'D=4', 'E=5']);
  assert.deepEqual(p.args, ['busybox', 'sh']);
});

test('a short flag taking a value consumes the rest of the cluster', () => {
  const p = runArgs(['-dit', '-uroot', '-w/tmp', 'img']);
  assert.equal(p.values.detach, true);
  assert.equal(p.values.user, 'root');
  assert.equal(p.values.workdir, '/tmp');
});

test('without interspersed flags the container command keeps its own flags', () => {
  const p = runArgs(['--rm', 'busybox', 'ls', '-la', '--color']);
  assert.equal(p.values.rm, true);
  assert.deepEqual(p.args, ['busybox', 'ls', '-la', '--color']);
});

test('interspersed parsing collects flags after positionals; -- ends the flags', () => {
  const specs: FlagSpec[] = [{ name: 'force', short: 'f', type: 'bool', usage: '' }];
  const p = parseFlags(['a', '-f', 'b', '--', '-f', '--x'], specs);
  assert.equal(p.values.force, true);
  assert.deepEqual(p.args, ['a', 'b', '-f', '--x']);
});

test('--bool=false sets false; a bool never takes the next argument', () => {
  const p = runArgs(['--sig-proxy=false', '--rm', 'false']);
  assert.equal(p.values['sig-proxy'], false);
  assert.equal(p.values.rm, true);
  assert.deepEqual(p.args, ['false']);
});

test('defaults apply; repeated list flags accumulate; "changed" records what was typed', () => {
  const p = runArgs(['-v', '/a:/a', '--volume=/b:/b', 'img']);
  assert.equal(p.values.restart, 'no');
  assert.equal(p.values['sig-proxy'], true);
  assert.equal(p.values.rm, undefined);
  assert.deepEqual(p.values.volume, ['/a:/a', '/b:/b']);
  assert.deepEqual([...p.changed], ['volume']);
});

test('-h is the hostname for run, help elsewhere; --help is always help', () => {
  assert.equal(runArgs(['-h', 'box', 'img']).values.hostname, 'box');
  assert.equal(runArgs(['--help']).help, true);
  assert.equal(parseFlags(['-h'], []).help, true);
});

test("pflag's error messages", () => {
  assert.throws(() => runArgs(['--foo']), (e: unknown) => e instanceof FlagError && e.message === 'unknown flag: --foo');
  assert.throws(() => runArgs(['-Z']), { message: "unknown shorthand flag: 'Z' in -Z" });
  assert.throws(() => runArgs(['--name']), { message: 'flag needs an argument: --name' });
  assert.throws(() => runArgs(['-u']), { message: "flag needs an argument: 'u' in -u" });
  assert.throws(() => runArgs(['--stop-timeout', 'x']), { message: 'invalid argument "x" for "--stop-timeout" flag: strconv.ParseInt: parsing "x": invalid syntax' });
  assert.throws(() => runArgs(['--rm=maybe']), { message: 'invalid argument "maybe" for "--rm" flag: strconv.ParseBool: parsing "maybe": invalid syntax' });
  assert.throws(() => runArgs(['-m', '12q']), { message: `invalid argument "12q" for "-m, --memory" flag: invalid size: '12q'` });
});

test('byte sizes are units.RAMInBytes (binary multiples)', () => {
  assert.equal(ramInBytes('512m'), 512 * 1024 * 1024);
  assert.equal(ramInBytes('1g'), 1024 ** 3);
  assert.equal(ramInBytes('1.5GiB'), 1.5 * 1024 ** 3);
  assert.equal(ramInBytes('100'), 100);
  assert.equal(ramInBytes('64 kb'), 65536);
  assert.throws(() => ramInBytes('-1'), { message: "invalid size: '-1'" });
  assert.equal(runArgs(['-m', '512m']).values.memory, 536870912);
});

test('durations are Go durations (in ms) and print back the Go way', () => {
  assert.equal(parseDuration('30s'), 30_000);
  assert.equal(parseDuration('1m30s'), 90_000);
  assert.equal(parseDuration('1.5h'), 5_400_000);
  assert.equal(parseDuration('250ms'), 250);
  assert.equal(parseDuration('0'), 0);
  assert.throws(() => parseDuration('10'), { message: 'time: missing unit in duration "10"' });
  assert.throws(() => parseDuration('abc'), { message: 'time: invalid duration "abc"' });
  assert.equal(formatDuration(90_000), '1m30s');
  assert.equal(formatDuration(3_600_000), '1h0m0s');
  assert.equal(formatDuration(0), '0s');
});

test('help options are laid out as pflag lays them out', () => {
  const flags: FlagSpec[] = [{ name: 'time', short: 't', type: 'int', usage: 'Seconds to wait for stop before killing it', default: 10 }];
  // docker 20.10's `docker stop --help`, byte for byte.
  assert.equal(flagUsages(flags, 79), '  -t, --time int   Seconds to wait for stop before killing it (default 10)\n');
  // docker 20.10's `docker run --help` (80 columns), for two of its flags.
  const two: FlagSpec[] = [
    { name: 'add-host', type: 'list', usage: 'Add a custom host-to-IP mapping (host:ip)' },
    { name: 'health-start-period', type: 'duration', usage: 'Start period for the container to initialize before starting health-retries countdown (ms|s|m|h) (default 0s)' },
  ];
  assert.equal(flagUsages(two, 79), [
    '      --add-host list                  Add a custom host-to-IP mapping',
    '                                       (host:ip)',
    '      --health-start-period duration   Start period for the container to',
    '                                       initialize before starting',
    '                                       health-retries countdown',
    '                                       (ms|s|m|h) (default 0s)',
    '',
  ].join('\n'));
});

function request(argv: string[], env: NodeJS.ProcessEnv = {}) {
  const p = runArgs(argv);
  return buildCreateRequest(p.values, p.changed, p.args[0]!, p.args.slice(1), env, [0, 0]);
}

test('run flags become docker’s create request', () => {
  const { body } = request(
    ['-i', '-t', '--name', 'x', '-e', 'A=1', '-e', 'FROM_CLI', '-e', 'UNSET', '-v', '/host:/data:ro', '-v', '/anon', '-w', '/w', '-u', '1000:1000',
      '--restart', 'on-failure:3', '--memory', '1g', '--cpus', '1.5', '--pids-limit', '50', '--ulimit', 'nofile=1024:2048', '--sysctl', 'net.ipv4.ip_forward=1',
      '--cap-add', 'NET_ADMIN', '--read-only', '--init', '--stop-timeout', '5', '-l', 'a=b', '--network', 'none', '--tmpfs', '/run:size=1m',
      'busybox', 'sh', '-c', 'echo hi'],
    { FROM_CLI: 'v' },
  );
  assert.equal(body.Image, 'busybox');
  assert.deepEqual(body.Cmd, ['sh', '-c', 'echo hi']);
  assert.equal(body.Tty, true);
  assert.equal(body.OpenStdin, true);
  assert.equal(body.AttachStdin, true);
  assert.equal(body.StdinOnce, true);
  assert.deepEqual(body.Env, ['A=1', 'FROM_CLI=v', 'UNSET']);
  assert.deepEqual(body.HostConfig?.Binds, ['/host:/data:ro']);
  assert.deepEqual(body.Volumes, { '/anon': {} });
  assert.equal(body.WorkingDir, '/w');
  assert.equal(body.User, '1000:1000');
  assert.deepEqual(body.HostConfig?.RestartPolicy, { Name: 'on-failure', MaximumRetryCount: 3 });
  assert.equal(body.HostConfig?.Memory, 1024 ** 3);
  assert.equal(body.HostConfig?.NanoCpus, 1.5e9);
  assert.equal(body.HostConfig?.PidsLimit, 50);
  assert.deepEqual(body.HostConfig?.Ulimits, [{ Name: 'nofile', Soft: 1024, Hard: 2048 }]);
  assert.deepEqual(body.HostConfig?.Sysctls, { 'net.ipv4.ip_forward': '1' });
  assert.deepEqual(body.HostConfig?.CapAdd, ['NET_ADMIN']);
  assert.equal(body.HostConfig?.ReadonlyRootfs, true);
  assert.equal(body.HostConfig?.Init, true);
  assert.equal(body.StopTimeout, 5);
  assert.deepEqual(body.Labels, { a: 'b' });
  assert.equal(body.HostConfig?.NetworkMode, 'none');
  assert.deepEqual(body.HostConfig?.Tmpfs, { '/run': 'size=1m' });
});

test('unset flags leave docker’s zero values; --init and --stop-timeout only when given', () => {
  const { body, attach } = request(['img']);
  assert.deepEqual(attach, []);
  assert.equal(body.AttachStdout, true);
  assert.equal(body.AttachStderr, true);
  assert.equal(body.AttachStdin, false);
  assert.equal(body.Cmd, null);
  assert.equal(body.Entrypoint, null);
  assert.equal('Init' in body.HostConfig!, false);
  assert.equal('StopTimeout' in body, false);
  assert.equal(body.HostConfig?.NetworkMode, 'default');
  assert.deepEqual(body.HostConfig?.RestartPolicy, { Name: 'no' });
  assert.equal(body.HostConfig?.MemorySwappiness, -1);
  assert.deepEqual(request(['--entrypoint=', 'img']).body.Entrypoint, ['']);
});

test('health flags become a HealthConfig in nanoseconds; --no-healthcheck is NONE', () => {
  const { body } = request(['--health-cmd', 'true', '--health-interval', '2s', '--health-retries', '3', '--health-start-period', '1m', 'img']);
  assert.deepEqual(body.Healthcheck, { Test: ['CMD-SHELL', 'true'], Interval: 2e9, Timeout: 0, StartPeriod: 60e9, StartInterval: 0, Retries: 3 });
  assert.deepEqual(request(['--no-healthcheck', 'img']).body.Healthcheck, { Test: ['NONE'] });
  assert.throws(() => request(['--no-healthcheck', '--health-cmd', 'x', 'img']), { message: '--no-healthcheck conflicts with --health-* options' });
});

test("docker's option errors", () => {
  assert.throws(() => request(['--rm', '--restart', 'always', 'img']), { message: 'conflicting options: cannot specify both --restart and --rm' });
  assert.throws(() => request(['--ulimit', 'bogus=1', 'img']), /invalid ulimit type: bogus/);
  assert.throws(() => request(['--sysctl', 'kernel.pid_max=1', 'img']), /sysctl 'kernel.pid_max=1' is not allowed/);
  assert.throws(() => request(['--cpus', '0.0000000001', 'img']), /value is too precise/);
  assert.throws(() => request(['-a', 'stdfoo', 'img']), { message: 'valid streams are STDIN, STDOUT and STDERR' });
  assert.throws(() => request(['--restart', 'on-failure:x', 'img']), { message: 'invalid restart policy format: maximum retry count must be an integer' });
});

test('--security-opt seccomp=FILE sends the compacted profile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-flags-'));
  try {
    const file = join(dir, 'profile.json');
    writeFileSync(file, '{\n  "defaultAction": "SCMP_ACT_ALLOW"\n}\n');
    const { body } = request(['--security-opt', `seccomp=${file}`, '--security-opt', 'no-new-privileges', 'img']);
    assert.deepEqual(body.HostConfig?.SecurityOpt, ['seccomp={"defaultAction":"SCMP_ACT_ALLOW"}', 'no-new-privileges']);
    assert.throws(() => request(['--security-opt', `seccomp=${join(dir, 'missing.json')}`, 'img']), /opening seccomp profile/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--env-file and --label-file are read as docker reads them', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-flags-'));
  try {
    writeFileSync(join(dir, 'env'), '# comment\n\nA=1\n  B=two words\nPASS\nMISSING\n');
    const { body } = request(['--env-file', join(dir, 'env'), '-e', 'C=3', 'img'], { PASS: 'through' });
    assert.deepEqual(body.Env, ['A=1', 'B=two words', 'PASS=through', 'C=3']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('ports, mounts and CPUs', () => {
  const { exposed, bindings } = parsePorts(['8080:80', '127.0.0.1::53/udp', '9000-9001:9000-9001'], ['7000-7001']);
  assert.deepEqual(Object.keys(exposed).sort(), ['53/udp', '7000/tcp', '7001/tcp', '80/tcp', '9000/tcp', '9001/tcp']);
  assert.deepEqual(bindings['80/tcp'], [{ HostIp: '', HostPort: '8080' }]);
  assert.deepEqual(bindings['53/udp'], [{ HostIp: '127.0.0.1', HostPort: '' }]);
  assert.deepEqual(bindings['9001/tcp'], [{ HostIp: '', HostPort: '9001' }]);
  assert.deepEqual(parseMount('type=bind,source=/a,target=/b,readonly'), { Type: 'bind', Source: '/a', Target: '/b', ReadOnly: true });
  assert.deepEqual(parseMount('type=tmpfs,dst=/t,tmpfs-size=1m,tmpfs-mode=1777'), { Type: 'tmpfs', Target: '/t', TmpfsOptions: { SizeBytes: 1048576, Mode: 0o1777 } });
  assert.throws(() => parseMount('type=bind,source=/a'), /target is required/);
  assert.equal(parseNanoCpus('0.5'), 5e8);
  assert.equal(parseNanoCpus('2'), 2e9);
});
