// Volumes end to end (issue 6): named volumes outlive containers and are shared, anonymous
// ones go with `rm -v` and --rm, an image VOLUME is pre-filled (copy-up), --mount tmpfs and
// volume options (a tmpfs volume), --volumes-from, in-use refusal, prune and the CLI's
// output. Run with the docker CLI (docker.io) when installed, and with the berth CLI.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BERTH_CLI, startBerthd, type Berthd } from '../helpers/berthd.js';
import { DOCKER_20, DockerCli, logTail } from '../helpers/e2e-fixtures.js';
import { isRoot, makeRootfs } from '../helpers/runtime.js';

const skip = !isRoot ? 'needs root' : !existsSync('/bin/busybox') ? 'needs busybox-static' : false;

let daemon: Berthd | undefined;
const daemonLog = (): string => (daemon ? `berthd log:\n${logTail(daemon.log())}` : '');

function mountsUnder(root: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4] ?? '').filter((p) => p.startsWith(`${root}/`) && p.includes('/volumes/'));
}

function volumeWorkflow(cli: DockerCli, tag: string): void {
  const name = (n: string): string => cli.container(`${tag}-${n}`);
  const vol = (n: string): string => `${tag}-${n}`;

  it(`${tag}: a named volume keeps its data across removal and is shared by running containers`, () => {
    const data = vol('data');
    assert.equal(cli.ok(['volume', 'create', '--label', 'purpose=test', data]).trim(), data);
    cli.ok(['run', '--rm', '-v', `${data}:/d`, 'vbox', 'sh', '-c', 'echo kept > /d/file']);
    assert.equal(cli.ok(['run', '--rm', '-v', `${data}:/e`, 'vbox', 'cat', '/e/file']).trim(), 'kept');
    cli.ok(['run', '-d', '--name', name('w1'), '-v', `${data}:/d`, 'vbox', 'sleep', '300']);
    cli.ok(['run', '-d', '--name', name('w2'), '--mount', `type=volume,source=${data},target=/m`, 'vbox', 'sleep', '300']);
    cli.ok(['exec', name('w1'), 'sh', '-c', 'echo shared > /d/live']);
    assert.equal(cli.ok(['exec', name('w2'), 'cat', '/m/live']).trim(), 'shared');
    const mounts = JSON.parse(cli.inspect(name('w1'), '{{json .Mounts}}')) as { Type: string; Name: string; Destination: string; Driver: string; RW: boolean }[];
    const byDestination = Object.fromEntries(mounts.map((m) => [m.Destination, [m.Type, m.Name, m.Driver, m.RW]]));
    assert.deepEqual(Object.keys(byDestination).sort(), ['/d', '/seed'], 'the named volume and the image VOLUME');
    assert.deepEqual(byDestination['/d'], ['volume', data, 'local', true]);
    assert.match(String(byDestination['/seed']![1]), /^[0-9a-f]{64}$/);
    const inUse = cli.run(['volume', 'rm', data]);
    assert.equal(inUse.code, 1);
    assert.match(inUse.err, new RegExp(`remove ${data}: volume is in use - \\[`));
    assert.equal(cli.ok(['ps', '-q', '--filter', `volume=${data}`]).trim().split('\n').length, 2);
    cli.ok(['rm', '-f', name('w1'), name('w2')]);
    assert.equal(cli.inspect(data, '{{.Labels.purpose}}'), 'test');
    assert.equal(cli.ok(['volume', 'rm', data]).trim(), data);
    assert.match(cli.run(['volume', 'inspect', data]).err, /no such volume/i);
  });

  it(`${tag}: an image VOLUME is pre-filled, and anonymous volumes vanish with rm -v and --rm`, () => {
    const before = new Set(cli.lines(['volume', 'ls', '-q']));
    assert.equal(cli.ok(['run', '--rm', 'vbox', 'cat', '/seed/hello']).trim(), 'from the image');
    assert.deepEqual(cli.lines(['volume', 'ls', '-q']).filter((v) => !before.has(v)), [], '--rm removed the anonymous volume');
    cli.ok(['run', '-d', '--name', name('anon'), '-v', '/scratch', 'vbox', 'sleep', '300']);
    const anonymous = cli.lines(['volume', 'ls', '-q']).filter((v) => !before.has(v));
    assert.equal(anonymous.length, 2, 'one for the image VOLUME, one for -v /scratch');
    for (const v of anonymous) assert.match(v, /^[0-9a-f]{64}$/);
    assert.equal(cli.ok(['exec', name('anon'), 'cat', '/seed/hello']).trim(), 'from the image');
    assert.equal(cli.ok(['exec', name('anon'), 'stat', '-c', '%a %u', '/seed']).trim(), '750 1', 'mode and owner copied up');
    cli.ok(['rm', '-f', '-v', name('anon')]);
    assert.deepEqual(cli.lines(['volume', 'ls', '-q']).filter((v) => !before.has(v)), []);
    // A named volume that already has data is not overwritten by the copy-up; nocopy skips it.
    cli.ok(['volume', 'create', vol('pre')]);
    cli.ok(['run', '--rm', '-v', `${vol('pre')}:/seed`, 'vbox', 'sh', '-c', 'rm /seed/hello; echo mine > /seed/own']);
    assert.equal(cli.ok(['run', '--rm', '-v', `${vol('pre')}:/seed`, 'vbox', 'ls', '/seed']).trim(), 'own');
    assert.equal(cli.ok(['run', '--rm', '-v', `${vol('empty')}:/seed:nocopy`, 'vbox', 'ls', '-A', '/seed']).trim(), '');
    cli.ok(['volume', 'rm', vol('pre'), vol('empty')]);
  });

  it(`${tag}: --mount tmpfs, a tmpfs volume, --volumes-from with :ro`, () => {
    assert.match(cli.ok(['run', '--rm', '--mount', 'type=tmpfs,target=/t,tmpfs-size=1m', 'vbox', 'grep', ' /t ', '/proc/mounts']), /^tmpfs \/t tmpfs .*size=1024k/);
    cli.ok(['volume', 'create', '-d', 'local', '-o', 'type=tmpfs', '-o', 'device=tmpfs', '-o', 'o=size=2m', vol('mem')]);
    assert.equal(cli.inspect(vol('mem'), '{{.Options.type}} {{.Options.o}}'), 'tmpfs size=2m');
    cli.ok(['run', '-d', '--name', name('src'), '-v', `${vol('mem')}:/mem`, 'vbox', 'sh', '-c', 'echo in-memory > /mem/f; sleep 300']);
    assert.match(cli.ok(['exec', name('src'), 'grep', ' /mem ', '/proc/mounts']), /^tmpfs \/mem tmpfs .*size=2048k/);
    cli.ok(['run', '-d', '--name', name('reader'), '--volumes-from', `${name('src')}:ro`, 'vbox', 'sleep', '300']);
    assert.equal(cli.ok(['exec', name('reader'), 'cat', '/mem/f']).trim(), 'in-memory');
    assert.match(cli.run(['exec', name('reader'), 'touch', '/mem/g']).err, /Read-only file system/);
    assert.ok(mountsUnder(daemon!.root).length >= 1, 'the tmpfs volume is mounted while used');
    cli.ok(['rm', '-f', name('src'), name('reader')]);
    assert.deepEqual(mountsUnder(daemon!.root), [], 'the last user out unmounts it');
    cli.ok(['volume', 'rm', vol('mem')]);
  });

  it(`${tag}: ls, filters, formats, prune and bad input`, () => {
    cli.ok(['volume', 'create', '--label', 'keep=yes', vol('b10')]);
    cli.ok(['volume', 'create', vol('b9')]);
    cli.ok(['create', '--name', name('holder'), '-v', `${vol('b9')}:/x`, 'vbox', 'true']);
    const table = cli.lines(['volume', 'ls', '--filter', `name=${tag}-b`]);
    assert.deepEqual(table, ['DRIVER    VOLUME NAME', `local     ${vol('b9')}`, `local     ${vol('b10')}`], 'natural order');
    assert.deepEqual(cli.lines(['volume', 'ls', '-q', '--filter', 'label=keep=yes']), [vol('b10')]);
    assert.deepEqual(cli.lines(['volume', 'ls', '-q', '--filter', `name=${tag}-b`, '--filter', 'dangling=true']), [vol('b10')]);
    assert.equal(cli.ok(['volume', 'ls', '--filter', `name=${vol('b10')}`, '--format', '{{.Name}} {{.Driver}} {{.Labels}} {{.Scope}}']).trim(), `${vol('b10')} local keep=yes local`);
    // Named volumes survive a plain prune (API 1.42+: anonymous only); -a takes the unused ones.
    cli.ok(['volume', 'prune', '-f']);
    assert.equal(cli.lines(['volume', 'ls', '-q', '--filter', `name=${tag}-b`]).length, 2);
    const pruned = cli.ok(['volume', 'prune', '-f', '--filter', 'all=true', '--filter', 'label=keep=yes']);
    assert.match(pruned, new RegExp(`Deleted Volumes:\\n${vol('b10')}\\n`));
    assert.match(pruned, /Total reclaimed space: /);
    assert.deepEqual(cli.lines(['volume', 'ls', '-q', '--filter', `name=${tag}-b`]), [vol('b9')]);
    cli.ok(['rm', name('holder')]);
    cli.ok(['volume', 'rm', vol('b9')]);
    assert.match(cli.run(['volume', 'create', 'a/b']).err, /includes invalid characters for a local volume name/);
    assert.match(cli.run(['volume', 'create', '-o', 'bogus=1', vol('bad')]).err, /invalid option: "bogus"/);
    assert.match(cli.run(['volume', 'create', '-o', 'type=tmpfs', vol('bad')]).err, /missing required option: "device"/);
    assert.match(cli.run(['volume', 'create', '-d', 'nfs-plugin', vol('bad')]).err, /plugin "nfs-plugin" not found/);
    assert.match(cli.run(['run', '--rm', '-v', 'bad/name:/x', 'vbox', 'true']).err, /includes invalid characters for a local volume name/);
    assert.equal(cli.run(['volume', 'inspect', vol('bad')]).code, 1);
  });
}

describe('volumes end to end', { skip, timeout: 300_000 }, () => {
  before(async () => {
    daemon = await startBerthd();
    const work = mkdtempSync(join(daemon.root, 'img-'));
    const rootfs = makeRootfs(work);
    mkdirSync(join(rootfs, 'seed'), { mode: 0o750 });
    writeFileSync(join(rootfs, 'seed/hello'), 'from the image\n');
    spawnSync('chown', ['1:0', join(rootfs, 'seed')]);
    spawnSync('chmod', ['750', join(rootfs, 'seed')]);
    const tar = join(work, 'rootfs.tar');
    assert.equal(spawnSync('tar', ['-C', rootfs, '-cf', tar, '.']).status, 0);
    const cli = new DockerCli(BERTH_CLI, () => ({ ...daemon!.env(), BERTH_NO_AUTOSTART: '1' }), daemonLog);
    cli.ok(['import', '-c', 'VOLUME /seed', '-c', 'CMD ["sh"]', tar, 'vbox:latest']);
    rmSync(work, { recursive: true, force: true });
  });
  after(async () => {
    await daemon?.cleanup();
  });

  describe('with docker 20.10', { skip: existsSync(DOCKER_20) ? false : 'needs the docker CLI (docker.io)' }, () => {
    const cli = new DockerCli(DOCKER_20, () => daemon!.env(), daemonLog);
    after(() => cli.cleanup());
    volumeWorkflow(cli, 'dk');
  });

  describe('with the berth CLI', () => {
    const cli = new DockerCli(BERTH_CLI, () => ({ ...daemon!.env(), BERTH_NO_AUTOSTART: '1' }), daemonLog);
    after(() => cli.cleanup());
    volumeWorkflow(cli, 'bt');
  });
});
