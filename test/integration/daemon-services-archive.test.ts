// docker cp against a container root on the host (src/daemon/services/archive.ts): round
// trips as Docker shows them, and the hostile cases — a root whose symlinks point at "/", at
// host paths, or climb with "../", and archives with "../" names or hard links out — which
// must leave the victim beside the root untouched and never bring a host file's bytes back.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  chmodSync, chownSync, existsSync, lchownSync, linkSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync,
  readlinkSync, rmSync, statSync, symlinkSync, writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { copyFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { getArchive, putArchive, statPath, type PutArchiveOptions } from '../../src/daemon/services/archive.js';
import { TarReader } from '../../src/images/tar/reader.js';
import type { TarEntry } from '../../src/images/tar/header.js';
import { tarBuffer, type WriteEntry } from '../../src/images/tar/writer.js';
import { BUSYBOX, isRoot, skipUnlessRoot } from '../helpers/runtime.js';
import { isBerthError } from '../../src/util/errors.js';

const skip = isRoot ? false : 'needs root (chown, real directories)';
const work = isRoot ? mkdtempSync('/var/tmp/berth-cp-') : '/nonexistent';
const root = join(work, 'root');
const victim = join(work, 'victim');
const secret = `victim-${randomBytes(8).toString('hex')}`;
after(() => {
  if (isRoot) rmSync(work, { recursive: true, force: true });
});

const plain: PutArchiveOptions = { noOverwriteDirNonDir: false, copyUIDGID: false, container: 'c1' };

function victimState(): string {
  const s = lstatSync(join(victim, 'secret'));
  return JSON.stringify([readdirSync(victim).sort(), readFileSync(join(victim, 'secret'), 'utf8'), s.nlink, s.mode, s.mtimeMs]);
}

async function readTar(tar: Readable): Promise<Array<TarEntry & { data: string }>> {
  const r = new TarReader(tar as AsyncIterable<Buffer>);
  const out: Array<TarEntry & { data: string }> = [];
  for (let e = await r.next(); e; e = await r.next()) {
    const parts: Buffer[] = [];
    for await (const p of r.data()) parts.push(p);
    out.push({ ...e, data: Buffer.concat(parts).toString('latin1') });
  }
  return out;
}

function tarOf(entries: Array<WriteEntry & { data?: string }>): Readable {
  return Readable.from([tarBuffer(entries)]);
}

async function rejects(p: Promise<unknown>, code: string, message: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(isBerthError(err), `a BerthError, got ${String(err)}`);
    assert.equal(err.code, code);
    assert.match(err.message, message);
    return true;
  });
}

describe('docker cp services (archive.ts)', { skip }, () => {
  let before_: string;
  before(() => {
    mkdirSync(victim, { recursive: true });
    writeFileSync(join(victim, 'secret'), secret);
    mkdirSync(join(root, 'etc'), { recursive: true });
    writeFileSync(join(root, 'etc', 'passwd'), 'root:x:0:0::/root:/bin/sh\napp:x:1000:1001::/home/app:/bin/sh\n');
    writeFileSync(join(root, 'etc', 'group'), 'root:x:0:\nstaff:x:50:\n');
    // The hostile part of the root: every way a symlink could lead a host-side reader out.
    symlinkSync('/', join(root, 'slash'));
    symlinkSync(victim, join(root, 'abs-victim'));
    symlinkSync(join(victim, 'secret'), join(root, 'abs-secret'));
    symlinkSync('../../../../../../../../', join(root, 'climb'));
    mkdirSync(join(root, 'src', 'sub'), { recursive: true });
    writeFileSync(join(root, 'src', 'file'), 'file data');
    chownSync(join(root, 'src', 'file'), 1234, 5678); // before chmod: chown clears setuid
    chmodSync(join(root, 'src', 'file'), 0o4751);
    writeFileSync(join(root, 'src', 'sub', 'deep'), 'deep data');
    chmodSync(join(root, 'src', 'sub'), 0o750);
    linkSync(join(root, 'src', 'file'), join(root, 'src', 'sub', 'hard'));
    symlinkSync('../etc/passwd', join(root, 'src', 'link'));
    lchownSync(join(root, 'src', 'link'), 7, 8);
    before_ = victimState();
  });
  after(() => {
    if (isRoot) assert.equal(victimState(), before_, 'the victim beside the root is untouched');
  });

  describe('stat', () => {
    it('reports a directory with Go FileMode bits and a name from the path', async () => {
      const st = await statPath(root, '/src/', 'c1');
      assert.equal(st.name, 'src');
      assert.equal(st.mode, 2 ** 31 + 0o755);
      assert.equal(st.linkTarget, '');
      assert.match(st.mtime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    });

    it('reports setuid bits and a symlink with its target resolved inside the container', async () => {
      assert.equal((await statPath(root, 'src/file')).mode, 2 ** 23 + 0o751);
      const link = await statPath(root, '/src/link');
      assert.equal(link.mode, 2 ** 27 + 0o777);
      assert.equal(link.linkTarget, '/etc/passwd');
    });

    it('resolves a symlink to a host path inside the root, where it does not exist', async () => {
      const st = await statPath(root, '/abs-secret');
      assert.equal(st.linkTarget, join(victim, 'secret'), 'the container path it names');
      await rejects(statPath(root, '/abs-victim/secret', 'c1'), 'NotFound', new RegExp(`^Could not find the file /abs-victim/secret in container c1$`));
      await rejects(statPath(root, '/climb/etc/hostname', 'c1'), 'NotFound', /Could not find the file/);
    });

    it('answers 404 with Docker\'s wording for a missing path', async () => {
      await rejects(statPath(root, '/nope', 'web'), 'NotFound', /^Could not find the file \/nope in container web$/);
    });
  });

  describe('get', () => {
    it('tars a directory under its base name with modes, owners, symlinks and hard links', async () => {
      const { stat, tar } = await getArchive(root, '/src', 'c1');
      assert.equal(stat.name, 'src');
      const entries = await readTar(tar);
      const byName = new Map(entries.map((e) => [e.name, e]));
      assert.deepEqual([...byName.keys()], ['src/', 'src/file', 'src/link', 'src/sub/', 'src/sub/deep', 'src/sub/hard']);
      const file = byName.get('src/file')!;
      assert.deepEqual([file.type, file.mode, file.uid, file.gid, file.data], ['file', 0o4751, 1234, 5678, 'file data']);
      assert.deepEqual([byName.get('src/link')!.type, byName.get('src/link')!.linkname], ['symlink', '../etc/passwd']);
      assert.deepEqual([byName.get('src/sub/hard')!.type, byName.get('src/sub/hard')!.linkname], ['hardlink', 'src/file']);
      assert.equal(byName.get('src/sub/')!.mode, 0o750);
    });

    it('tars the contents for a path ending in "/."', async () => {
      const entries = await readTar((await getArchive(root, '/src/.')).tar);
      assert.deepEqual(entries.map((e) => e.name).slice(0, 3), ['./', './file', './link']);
    });

    it('tars a file or a symlink as one entry named by its base name, the link not followed', async () => {
      const file = await readTar((await getArchive(root, '/src/sub/deep')).tar);
      assert.deepEqual(file.map((e) => [e.name, e.data]), [['deep', 'deep data']]);
      const link = await getArchive(root, '/abs-secret');
      const entries = await readTar(link.tar);
      assert.deepEqual(entries.map((e) => [e.name, e.type, e.linkname, e.data]), [['abs-secret', 'symlink', join(victim, 'secret'), '']]);
    });

    it('never reads through a symlink to "/" or up and out of the root', async () => {
      // "/slash/." is the container's "/": the root itself, not the host's.
      const entries = await readTar((await getArchive(root, '/slash/.')).tar);
      assert.ok(entries.some((e) => e.name === './src/file'), 'the container root was archived');
      assert.ok(!entries.some((e) => e.data.includes(secret)), 'no host file content');
      assert.ok(!entries.some((e) => e.name.startsWith('./proc') || e.name.startsWith('./usr')), 'no host directory');
      await rejects(getArchive(root, '/climb/var/tmp'), 'NotFound', /Could not find the file/);
      await rejects(getArchive(root, `/abs-victim/secret`), 'NotFound', /Could not find the file/);
      await rejects(getArchive(root, `/slash${join(victim, 'secret')}`), 'NotFound', /Could not find the file/);
      await rejects(getArchive(root, '/abs-secret/'), 'NotFound', /Could not find the file/);
    });
  });

  describe('put', () => {
    it('extracts into a directory resolved inside the root, with the archive\'s modes and owners', async () => {
      mkdirSync(join(root, 'dst1'));
      await putArchive(root, '/dst1', tarOf([
        { name: 'd/', type: 'dir', mode: 0o750, uid: 3, gid: 4 },
        { name: 'd/f', type: 'file', mode: 0o4755, uid: 1234, gid: 5678, data: 'payload' },
        { name: 'd/l', type: 'symlink', linkname: '/etc/passwd' },
        { name: 'd/h', type: 'hardlink', linkname: 'd/f' },
      ]), plain);
      const d = join(root, 'dst1', 'd');
      assert.deepEqual([statSync(d).mode & 0o7777, statSync(d).uid, statSync(d).gid], [0o750, 3, 4]);
      const f = statSync(join(d, 'f'));
      assert.deepEqual([f.mode & 0o7777, f.uid, f.gid, readFileSync(join(d, 'f'), 'utf8')], [0o4755, 1234, 5678, 'payload']);
      assert.equal(readlinkSync(join(d, 'l')), '/etc/passwd');
      assert.equal(statSync(join(d, 'h')).ino, f.ino);
    });

    it('round-trips a directory, a "/." copy, a file and a symlink', async () => {
      mkdirSync(join(root, 'rt'));
      await putArchive(root, '/rt', (await getArchive(root, '/src')).tar, plain);
      mkdirSync(join(root, 'rt-dot'));
      await putArchive(root, '/rt-dot', (await getArchive(root, '/src/.')).tar, plain);
      for (const dir of [join(root, 'rt', 'src'), join(root, 'rt-dot')]) {
        const f = lstatSync(join(dir, 'file'));
        assert.deepEqual([f.mode & 0o7777, f.uid, f.gid], [0o4751, 1234, 5678]);
        assert.equal(readFileSync(join(dir, 'sub', 'deep'), 'utf8'), 'deep data');
        assert.equal(lstatSync(join(dir, 'sub')).mode & 0o7777, 0o750);
        assert.equal(lstatSync(join(dir, 'sub', 'hard')).ino, f.ino);
        assert.equal(readlinkSync(join(dir, 'link')), '../etc/passwd');
        assert.deepEqual([lstatSync(join(dir, 'link')).uid, lstatSync(join(dir, 'link')).gid], [7, 8]);
      }
      await putArchive(root, '/rt', (await getArchive(root, '/src/sub/deep')).tar, plain);
      assert.equal(readFileSync(join(root, 'rt', 'deep'), 'utf8'), 'deep data');
      await putArchive(root, '/rt', (await getArchive(root, '/abs-secret')).tar, plain);
      assert.equal(readlinkSync(join(root, 'rt', 'abs-secret')), join(victim, 'secret'));
    });

    it('with copyUIDGID owns everything by the container user from the container\'s passwd and group', async () => {
      mkdirSync(join(root, 'owned'));
      const tar = (): Readable => tarOf([{ name: 'x', type: 'file', uid: 9, gid: 9, data: 'x' }]);
      await putArchive(root, '/owned', tar(), { ...plain, copyUIDGID: true, user: 'app' });
      assert.deepEqual([statSync(join(root, 'owned', 'x')).uid, statSync(join(root, 'owned', 'x')).gid], [1000, 1001]);
      await putArchive(root, '/owned', tar(), { ...plain, copyUIDGID: true, user: 'app:staff' });
      assert.deepEqual([statSync(join(root, 'owned', 'x')).uid, statSync(join(root, 'owned', 'x')).gid], [1000, 50]);
      await putArchive(root, '/owned', tar(), { ...plain, copyUIDGID: true, user: '4242' });
      assert.deepEqual([statSync(join(root, 'owned', 'x')).uid, statSync(join(root, 'owned', 'x')).gid], [4242, 0]);
      await putArchive(root, '/owned', tar(), { ...plain, copyUIDGID: false, user: 'app' });
      assert.deepEqual([statSync(join(root, 'owned', 'x')).uid, statSync(join(root, 'owned', 'x')).gid], [9, 9]);
      await rejects(putArchive(root, '/owned', tar(), { ...plain, copyUIDGID: true, user: 'nobody-here' }), 'InvalidArgument', /failed to look up user "nobody-here"/);
    });

    it('accepts a gzip-compressed archive', async () => {
      mkdirSync(join(root, 'gz'));
      await putArchive(root, '/gz', Readable.from([gzipSync(tarBuffer([{ name: 'z', type: 'file', data: 'zipped' }]))]), plain);
      assert.equal(readFileSync(join(root, 'gz', 'z'), 'utf8'), 'zipped');
    });

    it('refuses a missing target, a non-directory target and a read-only root with Docker\'s messages', async () => {
      const tar = (): Readable => tarOf([{ name: 'x', type: 'file', data: 'x' }]);
      await rejects(putArchive(root, '/missing', tar(), plain), 'NotFound', /^Could not find the file \/missing in container c1$/);
      await rejects(putArchive(root, '/src/file', tar(), plain), 'InvalidArgument', /^extraction point is not a directory$/);
      await rejects(putArchive(root, '/src', tar(), { ...plain, readonlyRootfs: true }), 'InvalidArgument', /read-only/);
    });

    it('noOverwriteDirNonDir refuses to replace a directory by a file or a file by a directory', async () => {
      mkdirSync(join(root, 'nod', 'adir'), { recursive: true });
      writeFileSync(join(root, 'nod', 'afile'), 'keep');
      const strict = { ...plain, noOverwriteDirNonDir: true };
      await rejects(putArchive(root, '/nod', tarOf([{ name: 'adir', type: 'file', data: 'x' }]), strict), 'InvalidArgument', /cannot overwrite directory "\/nod\/adir" with non-directory/);
      await rejects(putArchive(root, '/nod', tarOf([{ name: 'afile', type: 'dir' }]), strict), 'InvalidArgument', /cannot overwrite non-directory "\/nod\/afile" with directory/);
      assert.ok(statSync(join(root, 'nod', 'adir')).isDirectory());
      assert.equal(readFileSync(join(root, 'nod', 'afile'), 'utf8'), 'keep');
      await putArchive(root, '/nod', tarOf([{ name: 'adir', type: 'file', data: 'replaced' }]), plain);
      assert.equal(readFileSync(join(root, 'nod', 'adir'), 'utf8'), 'replaced');
    });

    it('takes a ".wh." member as an ordinary file: nothing is deleted by name', async () => {
      mkdirSync(join(root, 'wh'));
      writeFileSync(join(root, 'wh', 'keep'), 'kept');
      await putArchive(root, '/wh', tarOf([{ name: '.wh.keep', type: 'file', data: '' }, { name: '.wh..wh..opq', type: 'file', data: '' }]), plain);
      assert.equal(readFileSync(join(root, 'wh', 'keep'), 'utf8'), 'kept');
      assert.ok(lstatSync(join(root, 'wh', '.wh.keep')).isFile());
      assert.ok(lstatSync(join(root, 'wh', '.wh..wh..opq')).isFile());
    });

    it('writes through a container symlink to "/" into the container root, not the host', async () => {
      const name = `berth-cp-${randomBytes(6).toString('hex')}`;
      await putArchive(root, '/slash', tarOf([{ name, type: 'file', data: 'inside' }]), plain);
      assert.equal(readFileSync(join(root, name), 'utf8'), 'inside');
      assert.ok(!existsSync(`/${name}`), 'nothing was written to the host root');
      await putArchive(root, '/climb', tarOf([{ name: `${name}-2`, type: 'file', data: 'inside' }]), plain);
      assert.ok(existsSync(join(root, `${name}-2`)));
      assert.ok(!existsSync(`/${name}-2`));
      await rejects(putArchive(root, '/abs-victim', tarOf([{ name: 'secret', type: 'file', data: 'pwned' }]), plain), 'NotFound', /Could not find the file/);
    });

    it('keeps an archive\'s own symlinks from leading writes out of the root', async () => {
      mkdirSync(join(root, 'evil'));
      await putArchive(root, '/evil', tarOf([
        { name: 'out', type: 'symlink', linkname: victim },
        { name: 'out/secret', type: 'file', data: 'pwned' },
        { name: 'up', type: 'symlink', linkname: '../../../../../../..' },
        { name: `up${victim}/secret`, type: 'file', data: 'pwned' },
      ]), plain).catch(() => undefined); // refused or written inside the root: either way not on the host
      assert.equal(readFileSync(join(victim, 'secret'), 'utf8'), secret);
      assert.deepEqual(readdirSync(victim), ['secret']);
    });

    it('refuses "../" member names and hard links that leave the extraction directory', async () => {
      mkdirSync(join(root, 'dots'));
      await rejects(putArchive(root, '/dots', tarOf([{ name: '../../../escape', type: 'file', data: 'x' }]), plain), 'InvalidArgument', /invalid entry name "..\/..\/..\/escape"/);
      await rejects(putArchive(root, '/dots', tarOf([{ name: 'a/../../b', type: 'file', data: 'x' }]), plain), 'InvalidArgument', /invalid entry name/);
      await rejects(putArchive(root, '/dots', tarOf([{ name: 'h', type: 'hardlink', linkname: '../../victim/secret' }]), plain), 'InvalidArgument', /invalid hardlink/);
      // An absolute link name is relative to the extraction directory, where nothing is: no link to the host file.
      await assert.rejects(putArchive(root, '/dots', tarOf([{ name: 'h2', type: 'hardlink', linkname: join(victim, 'secret') }]), plain));
      // Through the container's own symlink to the victim: resolved inside the root, so not found there.
      await assert.rejects(putArchive(root, '/', tarOf([{ name: 'h3', type: 'hardlink', linkname: 'abs-secret/../secret' }]), plain));
      assert.ok(!existsSync(join(work, 'escape')) && !existsSync(join(root, 'escape')));
      assert.equal(lstatSync(join(victim, 'secret')).nlink, 1, 'no hard link to the victim was made');
    });
  });
});

// A running container is reached through /proc/<pid>/root: its volumes are mounts inside that
// root (copied to and from like Docker does), its /proc is a kernel interface (listed, not walked).
describe('docker cp into a running container\'s root', { skip: skipUnlessRoot }, () => {
  it('crosses into a volume mount, does not walk /proc, and still resolves "/" to the container root', async (t) => {
    const croot = join(work, 'running');
    for (const d of ['bin', 'vol', 'proc']) mkdirSync(join(croot, d), { recursive: true });
    copyFileSync(BUSYBOX, join(croot, 'bin', 'busybox'));
    symlinkSync('/', join(croot, 'up'));
    const script = `mount -t tmpfs vol ${croot}/vol && echo in-volume > ${croot}/vol/inside && mount -t proc proc ${croot}/proc && echo ready && exec chroot ${croot} /bin/busybox sleep 300`;
    const init = spawn('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    t.after(() => init.kill('SIGKILL'));
    await new Promise<void>((resolve, reject) => {
      init.stdout!.once('data', () => resolve());
      init.once('exit', (code) => reject(new Error(`the test's container exited with ${code}`)));
    });
    const proc = `/proc/${init.pid}/root`;
    while (!existsSync(join(proc, 'proc', 'self'))) await sleep(5); // until the chroot is done
    assert.ok(!existsSync(join(croot, 'vol', 'inside')), 'the volume is only in the container\'s mount namespace');

    const entries = await readTar((await getArchive(proc, '/')).tar);
    const names = entries.map((e) => e.name);
    assert.ok(names.includes('/vol/inside'), names.join(' '));
    assert.ok(names.includes('/proc/'), 'the /proc mount point itself is listed');
    assert.ok(!names.some((n) => n.startsWith('/proc/') && n !== '/proc/'), 'nothing under /proc');
    await putArchive(proc, '/up/vol', tarOf([{ name: 'copied', type: 'file', data: 'into the volume' }]), plain);
    assert.equal(readFileSync(join(proc, 'vol', 'copied'), 'utf8'), 'into the volume');
    assert.ok(!existsSync(join(croot, 'vol', 'copied')) && !existsSync('/vol/copied'));
    assert.equal((await statPath(proc, '/vol/inside')).size, 'in-volume\n'.length);
  });
});
