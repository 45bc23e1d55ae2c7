// End to end (issue 5, "Done means" 1): the docker CLI — Debian's docker.io 20.10 (API
// 1.41) and, when installed, docker 28 (negotiating down to 1.47) — runs a whole workflow
// against a private berthd: pull from a local docker-registry, run (--rm, -d, -it through
// a pty with detach), ps, logs (-f, --tail, -t), exec, attach, cp both ways (never out
// through a container's symlinks), stats, top, inspect, stop/start/restart/kill/wait, rm,
// commit, save | load, import, tag, push and pull back, rmi, events, system df, prune;
// with docker 20.10 also the container features: restart policy, healthcheck, --init,
// --read-only, --memory, --network none, bind mounts. Every assertion is what docker
// prints against dockerd. The berth CLI then runs the same workflow and features.
import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { BERTH_CLI, startBerthd, type Berthd } from '../helpers/berthd.js';
import {
  DOCKER_20, DOCKER_28, SCRIPT_BIN, DockerCli, e2eSkipReason, logTail, poll, pushBusybox, sleep, startLocalRegistry, unixSeconds,
  type BusyboxImage, type LocalRegistry,
} from '../helpers/e2e-fixtures.js';

const skip = e2eSkipReason();
const work = skip ? '/nonexistent' : mkdtempSync('/var/tmp/berth-e2e-cli-');

let daemon: Berthd | undefined;
let registry: LocalRegistry | undefined;
let busybox: BusyboxImage;

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/**
 * A shell command that waits a moment before its first output. Output written right at the
 * start is what the "never loses the output" test checks; everywhere else the wait keeps
 * that one race from hiding what a test is about.
 */
const delayed = (script: string): string[] => ['sh', '-c', `sleep 0.2; ${script}`];
const DELAYED_CAT_MARKER = 'CMD ["sh","-c","sleep 0.2; cat /marker"]';
const daemonLog = (): string => (daemon ? `berthd log (tail):\n${logTail(daemon.log())}` : '');

describe('docker CLI against berthd', { skip, timeout: 1_800_000 }, () => {
  before(async () => {
    daemon = await startBerthd();
    registry = await startLocalRegistry(join(work, 'registry'));
    busybox = pushBusybox(work, registry.host, ['e2e/busybox:v20', 'e2e/busybox:v28', 'e2e/busybox:berth']);
    pushBusybox(work, registry.host, ['e2e/busybox-nohistory:v20', 'e2e/busybox-nohistory:berth'], { history: false });
  });
  after(async () => {
    await daemon?.cleanup();
    await registry?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  describe('docker 20.10 (API 1.41)', { skip: existsSync(DOCKER_20) ? false : 'needs the docker CLI (docker.io)' }, () => {
    const cli = new DockerCli(DOCKER_20, () => daemon!.env(), daemonLog);
    workflow(cli, 'v20');
    containerFeatures(cli, 'v20');
  });

  describe('docker 28 (API 1.47)', { skip: existsSync(DOCKER_28) ? false : 'needs /usr/local/bin/docker' }, () => {
    workflow(new DockerCli(DOCKER_28, () => daemon!.env(), daemonLog), 'v28');
  });

  // The same workflow and features with berth's own CLI, aimed at the daemon by DOCKER_HOST
  // as docker is (BERTH_NO_AUTOSTART keeps a failure from starting a system berthd).
  describe('the berth CLI', () => {
    const cli = new DockerCli(BERTH_CLI, () => ({ ...daemon!.env(), BERTH_NO_AUTOSTART: '1' }), daemonLog);
    workflow(cli, 'berth');
    containerFeatures(cli, 'berth');
  });
});

/** The workflow of "Done means" 1 with one CLI; `flavor` keeps its names apart from the other's. */
function workflow(cli: DockerCli, flavor: string): void {
  const image = (): string => `${registry!.host}/e2e/busybox:${flavor}`;
  const name = (what: string): string => cli.container(`${flavor}-${what}`);
  const sleeper = (what: string, ...flags: string[]): { name: string; id: string } => {
    const n = name(what);
    const id = cli.ok(['run', '-d', '--name', n, ...flags, image(), 'sleep', '600']).trim();
    return { name: n, id };
  };
  const names = (...args: string[]): string[] => cli.lines(['ps', ...args, '--format', '{{.Names}}']);
  /** An image holding /marker (and Cmd printing it), made by commit; tracked for cleanup. */
  const committedImage = (what: string, text: string): string => {
    const n = name(`${what}-src`);
    cli.ok(['run', '--name', n, image(), 'sh', '-c', `echo ${text} > /marker`]);
    const ref = cli.image(`e2e-${what}-${flavor}:1`);
    cli.ok(['commit', '-c', DELAYED_CAT_MARKER, n, ref]);
    cli.ok(['rm', n]);
    return ref;
  };

  afterEach(() => cli.cleanup());

  it('pulls the busybox image from the local registry', () => {
    const out = cli.ok(['pull', image()]);
    assert.match(out, new RegExp(`^${flavor}: Pulling from e2e/busybox$`, 'm'));
    assert.match(out, new RegExp(`^Digest: ${busybox.manifestDigest}$`, 'm'));
    assert.match(out, new RegExp(`^Status: Downloaded newer image for ${escapeRegExp(image())}$`, 'm'));
    assert.equal(out.trimEnd().split('\n').at(-1), image());
    assert.equal(cli.inspect(image(), '{{.Id}}'), busybox.imageId);
    assert.equal(cli.inspect(image(), '{{json .RepoDigests}}'), JSON.stringify([`${registry!.host}/e2e/busybox@${busybox.manifestDigest}`]));
    const again = cli.ok(['pull', image()]);
    assert.match(again, new RegExp(`^Status: Image is up to date for ${escapeRegExp(image())}$`, 'm'));
  });

  it('pull -a pulls every tag of the repository', () => {
    const repo = `${registry!.host}/e2e/busybox`;
    const tags = ['v20', 'v28', 'berth'];
    // The other flavors' tags go again afterwards: their own first pull must find them absent.
    for (const t of tags) if (t !== flavor) cli.image(`${repo}:${t}`);
    const out = cli.ok(['pull', '-a', repo]);
    for (const t of tags) assert.match(out, new RegExp(`^${t}: Pulling from e2e/busybox$`, 'm'));
    assert.match(out, new RegExp(`^Status: (Downloaded newer image|Image is up to date) for ${escapeRegExp(repo)}$`, 'm'));
    assert.equal(out.trimEnd().split('\n').at(-1), repo);
    const listed = cli.lines(['images', repo, '--format', '{{.Tag}} {{.ID}}']).sort();
    assert.deepEqual(listed, tags.map((t) => `${t} ${busybox.imageId.slice(7, 19)}`).sort());
    const tagged = cli.run(['pull', '-a', image()]);
    assert.equal(tagged.code, 1);
    assert.match(tagged.err, /tag can't be used with --all-tags\/-a/);
  });

  it('run --rm prints the output, exits with the container\'s code and removes it', () => {
    const n = name('rm-echo');
    const hello = cli.run(['run', '--rm', '--name', n, image(), 'sh', '-c', 'sleep 0.2; echo hello']);
    assert.deepEqual(hello, { code: 0, out: 'hello\n', err: '' });
    const three = cli.run(['run', '--rm', image(), 'sh', '-c', 'sleep 0.2; echo out; echo err >&2; exit 3']);
    assert.deepEqual(three, { code: 3, out: 'out\n', err: 'err\n' });
    assert.ok(!names('-a').includes(n), `${n} is still listed after run --rm`);
  });

  it('run exits 127 for a missing command and 126 for one that cannot be executed, leaving no --rm container', () => {
    const missing = cli.run(['run', '--rm', '--name', name('missing-cmd'), image(), 'no-such-command']);
    assert.equal(missing.code, 127, missing.err);
    assert.match(missing.err, /executable file not found in \$PATH/);
    const notExecutable = cli.run(['run', '--rm', '--name', name('not-executable'), image(), '/etc/passwd']);
    assert.equal(notExecutable.code, 126, notExecutable.err);
    assert.match(notExecutable.err, /permission denied/);
    const left = names('-a');
    assert.ok(!left.includes(`${flavor}-missing-cmd`) && !left.includes(`${flavor}-not-executable`), `left behind: ${left.join(', ')}`);
  });

  it('never loses what a command prints as soon as it starts (run --rm and exec, 20 times each)', () => {
    const host = sleeper('quick-exec');
    const lost: string[] = [];
    for (let i = 0; i < 20; i++) {
      const run = cli.run(['run', '--rm', image(), 'echo', `run-${i}`]);
      if (run.code !== 0 || run.out !== `run-${i}\n`) lost.push(`run #${i}: code ${run.code} out ${JSON.stringify(run.out)} err ${JSON.stringify(run.err)}`);
      const exec = cli.run(['exec', host.name, 'echo', `exec-${i}`]);
      if (exec.code !== 0 || exec.out !== `exec-${i}\n`) lost.push(`exec #${i}: code ${exec.code} out ${JSON.stringify(exec.out)} err ${JSON.stringify(exec.err)}`);
    }
    assert.deepEqual(lost, []);
  });

  it('run -d starts the container in the background and prints its ID', () => {
    const { name: n, id } = sleeper('detached');
    assert.match(id, /^[0-9a-f]{64}$/);
    assert.equal(cli.inspect(n, '{{.State.Running}} {{.Id}}'), `true ${id}`);
  });

  it('ps lists running containers; -a adds exited ones; -q, --filter and --format', () => {
    const running = sleeper('ps-running', '--label', `e2e=ps-${flavor}`);
    const exited = name('ps-exited');
    assert.equal(cli.run(['run', '--name', exited, '--label', `e2e=ps-${flavor}`, image(), 'sh', '-c', 'exit 3']).code, 3);
    const exitedId = cli.inspect(exited, '{{.Id}}');

    const ps = cli.lines(['ps']);
    assert.match(ps[0]!, /^CONTAINER ID\s+IMAGE\s+COMMAND\s+CREATED\s+STATUS\s+PORTS\s+NAMES$/);
    const row = ps.find((l) => l.endsWith(` ${running.name}`));
    assert.ok(row, `no row for ${running.name} in\n${ps.join('\n')}`);
    assert.match(row, new RegExp(`^${running.id.slice(0, 12)}\\s+${escapeRegExp(image())}\\s+"sleep 600"\\s+.+ago\\s+Up .+\\s+${running.name}$`));
    assert.ok(!ps.some((l) => l.endsWith(` ${exited}`)), 'ps without -a lists an exited container');

    const all = cli.lines(['ps', '-a']);
    const exitedRow = all.find((l) => l.endsWith(` ${exited}`));
    assert.ok(exitedRow, `no row for ${exited} in ps -a`);
    assert.match(exitedRow, /\s+Exited \(3\) .+ ago\s+/);

    const quiet = cli.lines(['ps', '-q']);
    assert.ok(quiet.includes(running.id.slice(0, 12)) && !quiet.includes(exitedId.slice(0, 12)), quiet.join(' '));
    assert.deepEqual(cli.lines(['ps', '-a', '-q', '--no-trunc', '--filter', `label=e2e=ps-${flavor}`]).sort(), [running.id, exitedId].sort());
    assert.deepEqual(cli.lines(['ps', '-a', '--filter', `label=e2e=ps-${flavor}`, '--filter', 'status=exited', '--format', '{{.Names}}']), [exited]);
    assert.deepEqual(cli.lines(['ps', '--filter', `name=${running.name}`, '--format', '{{.ID}}|{{.Names}}|{{.Command}}']), [`${running.id.slice(0, 12)}|${running.name}|"sleep 600"`]);
    const table = cli.lines(['ps', '-a', '--filter', `label=e2e=ps-${flavor}`, '--format', 'table {{.Names}}\t{{.Status}}']);
    assert.match(table[0]!, /^NAMES\s+STATUS$/);
    assert.equal(table.length, 3);
    const asJson = cli.lines(['ps', '--filter', `id=${running.id}`, '--format', '{{json .}}']).map((l) => JSON.parse(l) as Record<string, string>);
    assert.equal(asJson.length, 1);
    assert.equal(asJson[0]!.Names, running.name);
    assert.equal(asJson[0]!.State, 'running');
  });

  it('logs shows stdout and stderr apart; --tail and -t', () => {
    const n = name('logs');
    cli.ok(['run', '-d', '--name', n, image(), 'sh', '-c', 'echo oops >&2; sleep 0.2; for i in 1 2 3 4 5; do echo line$i; done']);
    assert.equal(cli.ok(['wait', n]), '0\n');
    const logs = cli.run(['logs', n]);
    assert.deepEqual(logs, { code: 0, out: 'line1\nline2\nline3\nline4\nline5\n', err: 'oops\n' });
    assert.deepEqual(cli.run(['logs', '--tail', '2', n]), { code: 0, out: 'line4\nline5\n', err: '' });
    const stamped = cli.lines(['logs', '-t', n]);
    assert.equal(stamped.length, 5);
    stamped.forEach((line, i) => assert.match(line, new RegExp(`^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{9}Z line${i + 1}$`)));
  });

  it('logs -f follows the output in order and ends when the container exits', async () => {
    const n = name('logs-follow');
    cli.ok(['run', '-d', '--name', n, image(), 'sh', '-c', 'sleep 0.5; i=1; while [ $i -le 20 ]; do echo line$i; i=$((i+1)); sleep 0.05; done']);
    const follow = cli.spawn(['logs', '-f', n]);
    try {
      await follow.waitFor(/line20\n/);
      assert.equal(await follow.waitExit(), 0);
      assert.equal(follow.stdout, Array.from({ length: 20 }, (_, i) => `line${i + 1}\n`).join(''));
    } finally {
      follow.kill();
    }
  });

  it('exec runs commands with -e, -w, -i and -d and returns their exit code', async () => {
    const { name: n } = sleeper('exec');
    assert.deepEqual(cli.run(['exec', n, 'sh', '-c', 'sleep 0.1; echo hello']), { code: 0, out: 'hello\n', err: '' });
    assert.equal(cli.run(['exec', n, 'sh', '-c', 'exit 4']).code, 4);
    assert.equal(cli.ok(['exec', '-e', 'FOO=bar', '-w', '/tmp', n, 'sh', '-c', 'sleep 0.1; echo $FOO; pwd']), 'bar\n/tmp\n');
    assert.equal(cli.ok(['exec', '-i', n, ...delayed('cat')], { input: 'from stdin\n' }), 'from stdin\n');
    assert.equal(cli.ok(['exec', '-d', n, 'sh', '-c', 'echo detached > /tmp/d']), '');
    await poll('the detached exec to write /tmp/d', () => (cli.run(['exec', n, 'cat', '/tmp/d']).out === 'detached\n' ? true : undefined));
    // dockerd writes a start failure into the attached stream (stdout), as "<error>\r\n".
    const missing = cli.run(['exec', n, 'no-such-command']);
    assert.equal(missing.code, 126);
    assert.match(missing.out + missing.err, /executable file not found in \$PATH/);
  });

  it('exec -u runs the command as a user from the container\'s /etc/passwd, or a numeric uid:gid', () => {
    const { name: n } = sleeper('exec-user');
    assert.equal(cli.ok(['exec', '-u', 'nobody', n, 'sh', '-c', 'sleep 0.1; id -u; id -g']), '65534\n65534\n');
    assert.equal(cli.ok(['exec', '-u', '1234:5678', n, 'sh', '-c', 'sleep 0.1; id -u; id -g']), '1234\n5678\n');
    const unknown = cli.run(['exec', '-u', 'no-such-user', n, 'true']);
    assert.equal(unknown.code, 126);
    assert.match(unknown.out + unknown.err, /unable to find user no-such-user: no matching entries in passwd file/);
  });

  it('attach streams a running container\'s output and ends with its exit code', async () => {
    const n = name('attach');
    cli.ok(['run', '-d', '--name', n, image(), 'sh', '-c', 'i=0; while [ ! -e /tmp/stop ]; do echo tick$i; i=$((i+1)); sleep 0.1; done; exit 4']);
    const attached = cli.spawn(['attach', '--no-stdin', '--sig-proxy=false', n]);
    try {
      await attached.waitFor(/tick\d+\n.*tick\d+\n/s);
      cli.ok(['exec', n, 'touch', '/tmp/stop']);
      assert.equal(await attached.waitExit(), 4);
      const ticks = attached.stdout.trimEnd().split('\n').map((l) => Number(/^tick(\d+)$/.exec(l)?.[1] ?? NaN));
      ticks.forEach((t, i) => assert.equal(t, ticks[0]! + i, `attach output out of order or broken: ${JSON.stringify(attached.stdout)}`));
    } finally {
      attached.kill();
    }
  });

  it('run -it gives the container a terminal: a typed command runs, exit ends docker with its code', { skip: existsSync(SCRIPT_BIN) ? false : 'needs script (util-linux)' }, async () => {
    const session = cli.spawnInPty(['run', '-it', '--rm', '--name', name('tty'), image(), 'sh']);
    try {
      // Typed at once: the pty holds it until docker and the shell read it.
      session.write('tty; echo hi-$((6*7))\r');
      await session.waitFor(/^hi-42$/m);
      assert.match(session.text(), /^\/dev\/pts\/\d+$/m);
      session.write('exit 5\r');
      assert.equal(await session.waitExit(), 5);
    } finally {
      session.kill();
    }
  });

  it('run -it detaches on ctrl-p ctrl-q; the container keeps running and can be attached again', { skip: existsSync(SCRIPT_BIN) ? false : 'needs script (util-linux)' }, async () => {
    const n = name('tty-detach');
    const session = cli.spawnInPty(['run', '-it', '--name', n, image(), 'sh']);
    try {
      session.write('echo before-$((1+1))\r');
      await session.waitFor(/^before-2$/m);
      session.write('\x10\x11');
      assert.equal(await session.waitExit(), 0);
    } finally {
      session.kill();
    }
    assert.equal(cli.inspect(n, '{{.State.Running}}'), 'true', 'the container stopped when docker detached');
    const again = cli.spawnInPty(['attach', n]);
    try {
      again.write('echo again-$((2+2))\r');
      await again.waitFor(/^again-4$/m);
      again.write('exit 6\r');
      assert.equal(await again.waitExit(), 6);
    } finally {
      again.kill();
    }
    assert.equal(cli.inspect(n, '{{.State.Status}} {{.State.ExitCode}}'), 'exited 6');
  });

  it('cp copies files and directories into and out of a container', () => {
    const { name: n } = sleeper('cp');
    const src = join(work, `cp-src-${flavor}`);
    mkdirSync(join(src, 'dir/sub'), { recursive: true });
    writeFileSync(join(src, 'file.txt'), 'file content\n');
    writeFileSync(join(src, 'dir/a.txt'), 'a\n');
    writeFileSync(join(src, 'dir/sub/b.txt'), 'b\n');

    cli.ok(['cp', join(src, 'file.txt'), `${n}:/tmp/file.txt`]);
    assert.equal(cli.ok(['exec', n, ...delayed('cat /tmp/file.txt')]), 'file content\n');
    cli.ok(['cp', join(src, 'dir'), `${n}:/tmp/`]);
    assert.equal(cli.ok(['exec', n, ...delayed('find /tmp/dir -type f | sort; cat /tmp/dir/sub/b.txt')]), '/tmp/dir/a.txt\n/tmp/dir/sub/b.txt\nb\n');

    cli.ok(['exec', n, 'sh', '-c', 'mkdir -p /out/d/e && echo deep > /out/d/e/f.txt && echo single > /out/single.txt']);
    const dst = join(work, `cp-dst-${flavor}`);
    mkdirSync(dst);
    cli.ok(['cp', `${n}:/out/single.txt`, join(dst, 'copied.txt')]);
    assert.equal(readFileSync(join(dst, 'copied.txt'), 'utf8'), 'single\n');
    cli.ok(['cp', `${n}:/out/d`, join(dst, 'd')]);
    assert.equal(readFileSync(join(dst, 'd/e/f.txt'), 'utf8'), 'deep\n');
    cli.ok(['cp', `${n}:/out/single.txt`, `${dst}/`]);
    assert.equal(readFileSync(join(dst, 'single.txt'), 'utf8'), 'single\n');
  });

  it('cp works on a stopped container, whose filesystem is mounted only for the copy', () => {
    const n = name('cp-stopped');
    cli.ok(['run', '--name', n, image(), 'sh', '-c', 'echo made > /made.txt']);
    const dir = join(work, `cp-stopped-${flavor}`);
    mkdirSync(dir);
    writeFileSync(join(dir, 'in.txt'), 'put while stopped\n');
    cli.ok(['cp', join(dir, 'in.txt'), `${n}:/in.txt`]);
    cli.ok(['cp', `${n}:/made.txt`, join(dir, 'made.txt')]);
    assert.equal(readFileSync(join(dir, 'made.txt'), 'utf8'), 'made\n');
    assert.equal(cli.ok(['start', '-a', n]), ''); // the command rewrites /made.txt and prints nothing
    cli.ok(['cp', `${n}:/in.txt`, join(dir, 'back.txt')]);
    assert.equal(readFileSync(join(dir, 'back.txt'), 'utf8'), 'put while stopped\n');
    assert.equal(cli.run(['cp', `${n}:/missing`, join(dir, 'x')]).code, 1);
    const mounts = join(daemon!.execRoot, 'mounts');
    assert.deepEqual(existsSync(mounts) ? readdirSync(mounts) : [], [], 'every temporary rootfs mount is gone');
    assert.ok(!readFileSync('/proc/self/mountinfo', 'utf8').includes(mounts));
  });

  it('cp resolves a container\'s symlinks inside its root: nothing on the host is read or written', () => {
    const { name: n } = sleeper('cp-symlink');
    const victim = join(work, `victim-${flavor}.txt`);
    writeFileSync(victim, 'host original\n');
    const payload = join(work, `payload-${flavor}.txt`);
    writeFileSync(payload, 'payload\n');
    // In the container: /rootlink -> /, /victimlink -> the victim's host path, and a file at that path.
    cli.ok(['exec', n, 'sh', '-c', `ln -s / /rootlink && ln -s ${victim} /victimlink && mkdir -p ${dirname(victim)} && echo container copy > ${victim}`]);

    const out = join(work, `cp-read-${flavor}.txt`);
    cli.ok(['cp', `${n}:/rootlink${victim}`, out]);
    assert.equal(readFileSync(out, 'utf8'), 'container copy\n');

    const viaRoot = cli.run(['cp', payload, `${n}:/rootlink${victim}`]);
    assert.equal(readFileSync(victim, 'utf8'), 'host original\n', 'docker cp through /rootlink wrote the host file');
    assert.equal(viaRoot.code, 0, viaRoot.err);
    const viaLink = cli.run(['cp', payload, `${n}:/victimlink`]);
    assert.equal(readFileSync(victim, 'utf8'), 'host original\n', 'docker cp to /victimlink wrote the host file');
    assert.equal(viaLink.code, 0, viaLink.err);
    assert.equal(cli.ok(['exec', n, ...delayed(`cat ${victim}`)]), 'payload\n');
  });

  it('stats --no-stream prints one row with the memory usage and limit', () => {
    const { name: n, id } = sleeper('stats', '--memory', '64m');
    const out = cli.lines(['stats', '--no-stream', n]);
    assert.match(out[0]!, /^CONTAINER ID\s+NAME\s+CPU %\s+MEM USAGE \/ LIMIT\s+MEM %\s+NET I\/O\s+BLOCK I\/O\s+PIDS$/);
    assert.equal(out.length, 2, out.join('\n'));
    assert.match(out[1]!, new RegExp(`^${id.slice(0, 12)}\\s+${n}\\s+\\d+\\.\\d\\d%\\s+\\d+(\\.\\d+)?[KMG]?i?B / 64MiB\\s+\\d+\\.\\d\\d%\\s+.+\\s+1$`));
    const formatted = cli.lines(['stats', '--no-stream', '--format', '{{.Name}}|{{.PIDs}}', n]);
    assert.deepEqual(formatted, [`${n}|1`]);
  });

  it('top lists the container\'s processes with their host pids', () => {
    const { name: n } = sleeper('top');
    const out = cli.lines(['top', n]);
    assert.match(out[0]!, /^UID\s+PID\s+PPID\s+C\s+STIME\s+TTY\s+TIME\s+CMD$/);
    assert.equal(out.length, 2, out.join('\n'));
    assert.match(out[1]!, new RegExp(`^root\\s+${cli.inspect(n, '{{.State.Pid}}')}\\s+\\d+\\s+.*sleep 600$`));
  });

  it('inspect shows the state, config and host config', () => {
    const { name: n, id } = sleeper('inspect', '--memory', '64m', '--label', 'e2e=inspect', '-e', 'FOO=bar', '--hostname', 'inspected');
    assert.equal(cli.inspect(n, '{{.State.Running}} {{.State.Status}} {{.RestartCount}} {{.Name}}'), `true running 0 /${n}`);
    assert.equal(cli.inspect(n, '{{json .Config.Cmd}}'), '["sleep","600"]');
    assert.equal(cli.inspect(n, '{{.HostConfig.Memory}}'), '67108864');
    assert.equal(cli.inspect(n, '{{.Config.Image}} {{.Config.Hostname}} {{index .Config.Labels "e2e"}}'), `${image()} inspected inspect`);
    const [doc] = JSON.parse(cli.ok(['inspect', n])) as Array<{ Id: string; Image: string; State: { Pid: number }; Config: { Env: string[] } }>;
    assert.equal(doc!.Id, id);
    assert.equal(doc!.Image, busybox.imageId);
    assert.ok(doc!.State.Pid > 0);
    assert.ok(doc!.Config.Env.includes('FOO=bar'), JSON.stringify(doc!.Config.Env));
    assert.equal(cli.inspect(image(), '{{json .Config.Cmd}}'), '["/bin/sh"]');
    const missing = cli.run(['inspect', `${flavor}-no-such-thing`]);
    assert.equal(missing.code, 1);
    assert.match(missing.err, new RegExp(`No such object: ${flavor}-no-such-thing`));
  });

  it('stop, start, restart, kill and wait', () => {
    const { name: n } = sleeper('lifecycle');
    // sleep is pid 1 and has no TERM handler: stop's SIGKILL after 1 s ends it, 137.
    assert.equal(cli.ok(['stop', '-t', '1', n]), `${n}\n`);
    assert.equal(cli.inspect(n, '{{.State.Status}} {{.State.ExitCode}}'), 'exited 137');
    assert.equal(cli.ok(['start', n]), `${n}\n`);
    assert.equal(cli.inspect(n, '{{.State.Running}}'), 'true');
    const startedAt = cli.inspect(n, '{{.State.StartedAt}}');
    const pid = cli.inspect(n, '{{.State.Pid}}');
    assert.equal(cli.ok(['restart', '-t', '1', n]), `${n}\n`);
    assert.equal(cli.inspect(n, '{{.State.Running}} {{.RestartCount}}'), 'true 0');
    assert.notEqual(cli.inspect(n, '{{.State.StartedAt}}'), startedAt);
    assert.notEqual(cli.inspect(n, '{{.State.Pid}}'), pid);
    assert.equal(cli.ok(['kill', n]), `${n}\n`);
    assert.equal(cli.ok(['wait', n]), '137\n');
    assert.equal(cli.inspect(n, '{{.State.Status}} {{.State.ExitCode}}'), 'exited 137');

    const trapper = name('lifecycle-trap');
    cli.ok(['run', '-d', '--name', trapper, image(), 'sh', '-c', 'trap "exit 42" TERM; while :; do sleep 0.1; done']);
    assert.equal(cli.ok(['kill', '-s', 'TERM', trapper]), `${trapper}\n`);
    assert.equal(cli.ok(['wait', trapper]), '42\n');

    const later = name('lifecycle-later');
    cli.ok(['run', '-d', '--name', later, image(), 'sh', '-c', 'sleep 1; exit 5']);
    assert.equal(cli.ok(['wait', later]), '5\n');
  });

  it('rm removes stopped containers and refuses running ones without -f', () => {
    const { name: n, id } = sleeper('rm');
    const refused = cli.run(['rm', n]);
    assert.equal(refused.code, 1);
    assert.match(refused.err, new RegExp(`You cannot remove a running container ${id}\\. Stop the container before attempting removal or force remove|cannot remove container "/${n}": container is running: stop the container before removing or force remove`));
    assert.equal(cli.inspect(n, '{{.State.Running}}'), 'true');
    assert.equal(cli.ok(['rm', '-f', n]), `${n}\n`);
    assert.match(cli.run(['inspect', n]).err, /No such object/);

    const created = name('rm-created');
    cli.ok(['create', '--name', created, image(), 'true']);
    assert.equal(cli.ok(['rm', created]), `${created}\n`);
    assert.ok(!names('-a').includes(created));
    const unknown = cli.run(['rm', `${flavor}-no-such-container`]);
    assert.equal(unknown.code, 1);
    assert.match(unknown.err, new RegExp(`No such container: ${flavor}-no-such-container`));
  });

  it('commit makes an image from a container\'s changes, with a new Cmd', () => {
    const n = name('commit-src');
    cli.ok(['run', '--name', n, image(), 'sh', '-c', 'echo committed-$((3*3)) > /marker']);
    const ref = cli.image(`e2e-commit-${flavor}:1`);
    const id = cli.ok(['commit', '-c', DELAYED_CAT_MARKER, n, ref]).trim();
    assert.match(id, /^sha256:[0-9a-f]{64}$/);
    assert.equal(cli.inspect(ref, '{{.Id}}'), id);
    assert.equal(cli.ok(['run', '--rm', ref]), 'committed-9\n');
    assert.equal(cli.ok(['run', '--rm', ref, ...delayed('cat /marker')]), 'committed-9\n');
    assert.ok(cli.lines(['images', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}']).includes(`${ref} ${id.slice(7, 19)}`));
  });

  it('save | load (a file, stdout/stdin, a pipe) brings the image back with the same ID', () => {
    const ref = committedImage('save', 'saved');
    const id = cli.inspect(ref, '{{.Id}}');
    const file = join(work, `saved-${flavor}.tar`);
    cli.ok(['save', '-o', file, ref]);
    cli.ok(['rmi', ref]);
    assert.equal(cli.ok(['load', '-i', file]), `Loaded image: ${ref}\n`);
    assert.equal(cli.inspect(ref, '{{.Id}}'), id);
    assert.equal(cli.ok(['run', '--rm', ref]), 'saved\n');

    const streamed = join(work, `saved-stdout-${flavor}.tar`);
    const save = cli.shell(`${cli.describe(['save', ref])} > ${streamed}`);
    assert.equal(save.code, 0, save.err);
    cli.ok(['rmi', ref]);
    const load = cli.shell(`${cli.describe(['load'])} < ${streamed}`);
    assert.deepEqual(load, { code: 0, out: `Loaded image: ${ref}\n`, err: '' });
    assert.equal(cli.inspect(ref, '{{.Id}}'), id);

    const piped = cli.shell(`${cli.describe(['save', image(), ref])} | ${cli.describe(['load'])}`);
    assert.equal(piped.code, 0, piped.err);
    assert.deepEqual(piped.out.trimEnd().split('\n').sort(), [`Loaded image: ${image()}`, `Loaded image: ${ref}`].sort());
    assert.equal(cli.inspect(ref, '{{.Id}}'), id);
    assert.equal(cli.inspect(image(), '{{.Id}}'), busybox.imageId);
  });

  it('import makes an image from a tar file or stdin', () => {
    const extra = join(work, `import-extra-${flavor}`);
    mkdirSync(join(extra, 'etc'), { recursive: true });
    writeFileSync(join(extra, 'etc/imported'), 'imported\n');
    const tar = join(work, `import-${flavor}.tar`);
    copyFileSync(busybox.rootfsTar, tar);
    assert.equal(spawnSync('tar', ['-rf', tar, '-C', extra, './etc/imported']).status, 0);

    const ref = cli.image(`e2e-import-${flavor}:1`);
    const out = cli.ok(['import', '-c', 'CMD ["sh","-c","sleep 0.2; cat /etc/imported"]', '-m', 'imported by e2e', tar, ref]);
    assert.match(out, /^sha256:[0-9a-f]{64}\n$/);
    assert.equal(cli.inspect(ref, '{{.Id}}'), out.trim());
    assert.equal(cli.inspect(ref, '{{.Comment}}'), 'imported by e2e');
    assert.equal(cli.ok(['run', '--rm', ref]), 'imported\n');

    const fromStdin = cli.image(`e2e-import-stdin-${flavor}:1`);
    const out2 = cli.ok(['import', '-', fromStdin], { input: readFileSync(tar) });
    assert.match(out2, /^sha256:[0-9a-f]{64}\n$/);
    assert.equal(cli.ok(['run', '--rm', fromStdin, ...delayed('cat /etc/imported')]), 'imported\n');
  });

  it('import downloads a tarball from a URL (a server on loopback)', async () => {
    const tar = readFileSync(busybox.rootfsTar);
    const server = createServer((req, res) => (req.url === '/rootfs.tar' ? res.end(tar) : res.writeHead(404).end('not here')));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const ref = cli.image(`e2e-import-url-${flavor}:1`);
      // spawnSync would block the loop that serves the download: run the CLI asynchronously.
      const imported = cli.spawn(['import', `${base}/rootfs.tar`, ref]);
      assert.equal(await imported.waitExit(), 0, imported.stderr);
      assert.match(imported.stdout, /^sha256:[0-9a-f]{64}\n$/);
      assert.equal(cli.inspect(ref, '{{.Comment}}'), `Imported from ${base}/rootfs.tar`);
      const missing = cli.spawn(['import', `${base}/missing.tar`]);
      assert.equal(await missing.waitExit(), 1);
      assert.match(missing.stderr, /failed to GET http:\/\/127\.0\.0\.1:\d+\/missing\.tar with status 404 Not Found: not here/);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('tag gives an image another name; rmi of one name only untags', () => {
    const ref = cli.image(`e2e-tagged-${flavor}:1`);
    assert.equal(cli.ok(['tag', image(), ref]), '');
    assert.equal(cli.inspect(ref, '{{.Id}}'), busybox.imageId);
    assert.ok(cli.lines(['images', '--format', '{{.Repository}}:{{.Tag}}']).includes(ref));
    assert.equal(cli.ok(['rmi', ref]), `Untagged: ${ref}\n`);
    assert.equal(cli.inspect(image(), '{{.Id}}'), busybox.imageId);
  });

  it('push sends an image to the registry; after rmi, pull brings back the same image', async () => {
    const local = committedImage('push', 'pushed');
    const id = cli.inspect(local, '{{.Id}}');
    const remote = cli.image(`${registry!.host}/e2e/pushed-${flavor}:1`);
    cli.ok(['tag', local, remote]);
    const out = cli.ok(['push', remote]);
    assert.match(out, new RegExp(`^The push refers to repository \\[${escapeRegExp(registry!.host)}/e2e/pushed-${flavor}\\]$`, 'm'));
    const digest = /^1: digest: (sha256:[0-9a-f]{64}) size: \d+$/m.exec(out)?.[1];
    assert.ok(digest, out);
    const manifest = await fetch(`http://${registry!.host}/v2/e2e/pushed-${flavor}/manifests/1`, { method: 'HEAD', headers: { accept: 'application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json' } });
    assert.equal(manifest.headers.get('docker-content-digest'), digest);

    cli.ok(['rmi', remote, local]);
    assert.equal(cli.run(['inspect', id]).code, 1, 'the image is still there after rmi of both names');
    const pulled = cli.ok(['pull', remote]);
    assert.match(pulled, new RegExp(`^Digest: ${digest}$`, 'm'));
    assert.equal(cli.inspect(remote, '{{.Id}}'), id);
    assert.equal(cli.ok(['run', '--rm', remote]), 'pushed\n');
  });

  it('rmi deletes an image, refuses one a container uses, and names unknown ones', () => {
    const ref = committedImage('rmi', 'rmi');
    const id = cli.inspect(ref, '{{.Id}}');
    const user = name('rmi-user');
    cli.ok(['create', '--name', user, ref]);
    const refused = cli.run(['rmi', ref]);
    assert.equal(refused.code, 1);
    const userId = cli.inspect(user, '{{.Id}}');
    assert.match(refused.err, new RegExp(`conflict: unable to remove repository reference "${escapeRegExp(ref)}" \\(must force\\) - container ${userId.slice(0, 12)} is using its referenced image ${id.slice(7, 19)}`));
    cli.ok(['rm', user]);
    const removed = cli.lines(['rmi', ref]);
    assert.deepEqual(removed.slice(0, 2), [`Untagged: ${ref}`, `Deleted: ${id}`]);
    assert.equal(cli.run(['inspect', id]).code, 1);
    const unknown = cli.run(['rmi', `e2e-no-such-image-${flavor}:1`]);
    assert.equal(unknown.code, 1);
    assert.match(unknown.err, new RegExp(`No such image: e2e-no-such-image-${flavor}:1`));
  });

  it('events --since --until shows create, start, die with the exit code, destroy', () => {
    const since = unixSeconds(-1);
    const n = name('events');
    assert.equal(cli.run(['run', '--name', n, image(), 'sh', '-c', 'exit 7']).code, 7);
    const id = cli.inspect(n, '{{.Id}}');
    cli.ok(['rm', n]);
    const until = unixSeconds(1);
    const lines = cli.lines(['events', '--since', since, '--until', until, '--filter', `container=${id}`, '--format', '{{.Type}} {{.Status}} {{.Actor.Attributes.name}} {{.Actor.Attributes.exitCode}}']);
    const lifecycle = lines.filter((l) => / (create|start|die|destroy) /.test(l));
    assert.deepEqual(lifecycle, [
      `container create ${n} <no value>`,
      `container start ${n} <no value>`,
      `container die ${n} 7`,
      `container destroy ${n} <no value>`,
    ]);
    const plain = cli.lines(['events', '--since', since, '--until', until, '--filter', `container=${id}`, '--filter', 'event=die']);
    assert.equal(plain.length, 1, plain.join('\n'));
    assert.match(plain[0]!, new RegExp(`^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{9}Z container die ${id} \\(exitCode=7, (execDuration=\\d+, )?image=${escapeRegExp(image())}, name=${n}\\)$`));
  });

  it('events streams container and image events as they happen', async () => {
    const n = name('events-live');
    const ref = cli.image(`e2e-events-${flavor}:1`);
    // --since a moment ago: what happens before the subscription is made is replayed, the rest streams.
    const stream = cli.spawn(['events', '--since', unixSeconds(-1), '--format', '{{.Type}} {{.Action}} {{.Actor.Attributes.name}}']);
    try {
      assert.equal(cli.run(['run', '--name', n, image(), 'sh', '-c', 'exit 2']).code, 2);
      await stream.waitFor(new RegExp(`^container die ${n}$`, 'm'));
      cli.ok(['tag', image(), ref]);
      await stream.waitFor(new RegExp(`^image tag ${escapeRegExp(ref)}$`, 'm'));
      cli.ok(['rmi', ref]);
      await stream.waitFor(/^image untag /m);
      assert.equal(stream.child.exitCode, null, 'docker events ended while streaming');
    } finally {
      stream.kill();
    }
  });

  it('system df counts the images and containers', () => {
    sleeper('df'); // one active container
    const out = cli.lines(['system', 'df']);
    assert.match(out[0]!, /^TYPE\s+TOTAL\s+ACTIVE\s+SIZE\s+RECLAIMABLE$/);
    assert.deepEqual(out.slice(1).map((l) => l.split(/\s{2,}/)[0]), ['Images', 'Containers', 'Local Volumes', 'Build Cache']);
    const imageCount = new Set(cli.lines(['images', '-q'])).size;
    const containerCount = cli.lines(['ps', '-a', '-q']).length;
    const runningCount = cli.lines(['ps', '-q']).length;
    assert.match(out[1]!, new RegExp(`^Images\\s+${imageCount}\\s+\\d+\\s+`));
    assert.match(out[2]!, new RegExp(`^Containers\\s+${containerCount}\\s+${runningCount}\\s+`));
    const formatted = cli.lines(['system', 'df', '--format', '{{.Type}}={{.TotalCount}}']);
    assert.ok(formatted.includes(`Containers=${containerCount}`), formatted.join(' '));
    assert.ok(runningCount >= 1);
  });

  it('container prune removes stopped containers only; image prune removes dangling images', () => {
    const running = sleeper('prune-running');
    const stopped = name('prune-stopped');
    cli.ok(['run', '--name', stopped, image(), 'sh', '-c', 'echo x > /dangling']);
    const stoppedId = cli.inspect(stopped, '{{.Id}}');
    const dangling = cli.ok(['commit', stopped]).trim();
    cli.image(dangling);
    assert.equal(cli.inspect(dangling, '{{json .RepoTags}}'), '[]');

    const pruned = cli.ok(['container', 'prune', '-f']);
    assert.match(pruned, /^Deleted Containers:\n/);
    assert.ok(pruned.split('\n').includes(stoppedId), pruned);
    assert.ok(!pruned.includes(running.id), pruned);
    assert.match(pruned, /^Total reclaimed space: \S+$/m);
    assert.equal(cli.inspect(running.name, '{{.State.Running}}'), 'true');
    assert.equal(cli.run(['inspect', stopped]).code, 1);

    const images = cli.ok(['image', 'prune', '-f']);
    assert.match(images, /^Deleted Images:\n/);
    assert.ok(images.split('\n').includes(`deleted: ${dangling}`), images);
    assert.equal(cli.run(['inspect', dangling]).code, 1);
    assert.equal(cli.inspect(image(), '{{.Id}}'), busybox.imageId);
  });
}

/** Container features from the list, through the docker CLI. */
function containerFeatures(cli: DockerCli, flavor: string): void {
  const image = (): string => `${registry!.host}/e2e/busybox:${flavor}`;
  const name = (what: string): string => cli.container(`${flavor}-${what}`);
  const inspectLater = (n: string, format: string): (() => string) => () => cli.run(['inspect', '-f', format, n]).out.trim();

  afterEach(() => cli.cleanup());

  it('commit works on an image whose config has no history (it is optional in OCI)', () => {
    const base = cli.image(`${registry!.host}/e2e/busybox-nohistory:${flavor}`);
    cli.ok(['pull', base]);
    const n = name('commit-nohistory');
    cli.ok(['run', '--name', n, base, 'sh', '-c', 'echo no-history > /marker']);
    const ref = cli.image(`e2e-commit-nohistory-${flavor}:1`);
    assert.match(cli.ok(['commit', n, ref]), /^sha256:[0-9a-f]{64}\n$/);
    assert.equal(cli.ok(['run', '--rm', ref, ...delayed('cat /marker')]), 'no-history\n');
  });

  it('--restart on-failure:2 restarts a failing container twice, then leaves it exited', async () => {
    const n = name('restart-policy');
    cli.ok(['run', '-d', '--name', n, '--restart', 'on-failure:2', image(), 'sh', '-c', 'sleep 0.2; exit 1']);
    const state = inspectLater(n, '{{.State.Status}} {{.RestartCount}} {{.State.ExitCode}}');
    await poll('RestartCount 2 and exited', () => (state() === 'exited 2 1' ? true : undefined), 30_000, state);
    await sleep(1500);
    assert.equal(state(), 'exited 2 1', 'restarted beyond on-failure:2');
    assert.equal(cli.inspect(n, '{{.HostConfig.RestartPolicy.Name}} {{.HostConfig.RestartPolicy.MaximumRetryCount}}'), 'on-failure 2');
  });

  it('--health-cmd: healthy when the check passes (shown by ps), unhealthy when it fails', async () => {
    const good = name('health-good');
    cli.ok(['run', '-d', '--name', good, '--health-cmd', 'true', '--health-interval', '200ms', image(), 'sleep', '600']);
    const goodStatus = inspectLater(good, '{{.State.Health.Status}}');
    await poll('healthy', () => (goodStatus() === 'healthy' ? true : undefined), 30_000, goodStatus);
    assert.match(cli.ok(['ps', '--filter', `name=${good}`, '--format', '{{.Status}}']), /\(healthy\)/);
    assert.deepEqual(cli.lines(['ps', '--filter', 'health=healthy', '--filter', `name=${good}`, '--format', '{{.Names}}']), [good]);

    const bad = name('health-bad');
    cli.ok(['run', '-d', '--name', bad, '--health-cmd', 'echo sick; exit 1', '--health-interval', '200ms', '--health-retries', '2', image(), 'sleep', '600']);
    const badStatus = inspectLater(bad, '{{.State.Health.Status}} {{.State.Health.FailingStreak}}');
    await poll('unhealthy', () => (badStatus().startsWith('unhealthy ') ? true : undefined), 30_000, badStatus);
    const log = JSON.parse(cli.inspect(bad, '{{json .State.Health.Log}}')) as Array<{ ExitCode: number; Output: string }>;
    assert.ok(log.length >= 2);
    // Every probe keeps its output, even when its exit is seen before its last bytes are read.
    for (const entry of log) assert.deepEqual({ code: entry.ExitCode, output: entry.Output }, { code: 1, output: 'sick\n' });
  });

  it('--init runs docker-init as pid 1 with the command as its child', () => {
    const out = cli.lines(['run', '--rm', '--init', image(), ...delayed('ps -o pid,args')]);
    const pid1 = out.find((l) => /^\s*1\s/.test(l));
    assert.ok(pid1, out.join('\n'));
    assert.match(pid1, /^\s*1\s+\/sbin\/docker-init -- sh -c sleep 0\.2; ps -o pid,args$/);
    // sh execs its last command: busybox shows it as "{ps} sh -c …".
    assert.ok(out.some((l) => !/^\s*1\s/.test(l) && /^\s*\d+\s+\S*\bps\b/.test(l)), out.join('\n'));
  });

  it('--read-only makes the root filesystem read-only; a --tmpfs stays writable', () => {
    const refused = cli.run(['run', '--rm', '--read-only', image(), ...delayed('touch /x')]);
    assert.equal(refused.code, 1);
    assert.match(refused.err, /Read-only file system/);
    assert.equal(cli.ok(['run', '--rm', '--read-only', '--tmpfs', '/tmp', image(), ...delayed('echo ok > /tmp/x && cat /tmp/x')]), 'ok\n');
  });

  it('--memory sets the cgroup limit the container sees', () => {
    const out = cli.ok(['run', '--rm', '--memory', '64m', image(), ...delayed('cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes')]);
    assert.equal(out, '67108864\n');
  });

  it('--network none leaves only the loopback interface', () => {
    const n = name('net-none');
    assert.equal(cli.ok(['run', '--name', n, '--network', 'none', image(), ...delayed('ls /sys/class/net')]), 'lo\n');
    assert.equal(cli.inspect(n, '{{.HostConfig.NetworkMode}}'), 'none');
  });

  it('-v binds a host directory read-write, and read-only with :ro', () => {
    const dir = join(work, `bind-${flavor}`);
    mkdirSync(dir);
    writeFileSync(join(dir, 'in.txt'), 'from host\n');
    assert.equal(cli.ok(['run', '--rm', '-v', `${dir}:/data`, image(), ...delayed('cat /data/in.txt; echo from container > /data/out.txt')]), 'from host\n');
    assert.equal(readFileSync(join(dir, 'out.txt'), 'utf8'), 'from container\n');
    const ro = cli.run(['run', '--rm', '-v', `${dir}:/data:ro`, image(), ...delayed('echo x > /data/ro.txt')]);
    assert.notEqual(ro.code, 0);
    assert.match(ro.err, /Read-only file system/);
    assert.ok(!existsSync(join(dir, 'ro.txt')));
  });
}
