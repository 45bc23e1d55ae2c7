// Layer apply: every kind of member lands as GNU tar would put it, whiteouts take the
// snapshotter's form, and hostile archives are refused or contained — after each hostile
// case, a victim directory beside the target is unchanged.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { gzipSync } from 'node:zlib';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyLayer, type ApplyOptions } from '../../src/images/layer/apply.js';
import { tarBuffer, type WriteEntry } from '../../src/images/tar/writer.js';
import { isRoot } from '../helpers/runtime.js';

type Member = WriteEntry & { data?: Buffer | string };
const skip = isRoot ? false : 'needs root (chown, mknod)';

let work: string;
let victim: string;
let n = 0;

async function* once(buf: Buffer): AsyncGenerator<Buffer> {
  yield buf;
}

function fresh(): string {
  const dir = join(work, `t${++n}`);
  mkdirSync(dir);
  return dir;
}

async function apply(members: Member[] | Buffer, opts: Partial<ApplyOptions> = {}, dir = fresh()) {
  const buf = Buffer.isBuffer(members) ? members : tarBuffer(members);
  const result = await applyLayer(once(buf), dir, { style: 'overlay', ...opts });
  return { dir, result };
}

/** Everything about the victim tree: names, types, modes, contents. */
function snapshot(root: string): string {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const st = lstatSync(p);
      const what = st.isSymbolicLink() ? `-> ${readlinkSync(p)}` : st.isFile() ? readFileSync(p, 'utf8') : '';
      out.push(`${p} ${st.mode.toString(8)} ${st.uid}:${st.gid} ${st.mtimeMs} ${what}`);
      if (st.isDirectory()) walk(p);
    }
  };
  walk(root);
  return out.join('\n');
}

function xattrs(path: string): Record<string, string> {
  const py = 'import os,sys,json;p=sys.argv[1];print(json.dumps({k:os.getxattr(p,k,follow_symlinks=False).hex() for k in os.listxattr(p,follow_symlinks=False)}))';
  const r = spawnSync('python3', ['-c', py, path], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as Record<string, string>;
}

describe('layer apply', { skip }, () => {
  let victimBefore: string;

  before(() => {
    work = mkdtempSync(join(tmpdir(), 'berth-layer-'));
    victim = join(work, 'victim');
    mkdirSync(join(victim, 'sub'), { recursive: true });
    writeFileSync(join(victim, 'file'), 'precious');
    writeFileSync(join(victim, 'sub/other'), 'also precious');
    victimBefore = snapshot(victim);
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  describe('members', () => {
    it('creates files, dirs, links, devices and fifos with owners, modes, times and xattrs', async () => {
      const capability = Buffer.from('0100000200200000000000000000000000000000', 'hex'); // cap_net_raw+ep, v2
      const { dir, result } = await apply([
        { name: 'bin/', type: 'dir', mode: 0o750, uid: 0, gid: 2, mtimeSec: 1_000_000 },
        { name: 'bin/tool', type: 'file', mode: 0o4755, uid: 1000, gid: 1001, mtimeSec: 1_500_000, mtimeNsec: 123_456_789, data: 'tool', xattrs: new Map([['security.capability', capability], ['user.note', Buffer.from('hi')]]) },
        { name: 'bin/hard', type: 'hardlink', linkname: 'bin/tool' },
        { name: 'bin/soft', type: 'symlink', linkname: '../elsewhere', uid: 7, gid: 8, mtimeSec: 42 },
        { name: 'dev/null', type: 'char', mode: 0o666, devmajor: 1, devminor: 3 },
        { name: 'dev/loop9', type: 'block', mode: 0o660, devmajor: 7, devminor: 9 },
        { name: 'run/fifo', type: 'fifo', mode: 0o600 },
      ]);
      assert.equal(result.entries, 7);
      const tool = lstatSync(join(dir, 'bin/tool'));
      assert.equal(tool.mode & 0o7777, 0o4755);
      assert.deepEqual([tool.uid, tool.gid, tool.nlink], [1000, 1001, 2]);
      assert.equal(lstatSync(join(dir, 'bin/tool'), { bigint: true }).mtimeNs, 1_500_000_123_456_789n);
      assert.equal(lstatSync(join(dir, 'bin/hard')).ino, tool.ino);
      assert.deepEqual(xattrs(join(dir, 'bin/tool')), { 'security.capability': capability.toString('hex'), 'user.note': '6869' });
      const bin = lstatSync(join(dir, 'bin'));
      assert.deepEqual([bin.mode & 0o7777, bin.gid, bin.mtimeMs], [0o750, 2, 1_000_000_000]);
      const soft = lstatSync(join(dir, 'bin/soft'));
      assert.deepEqual([soft.isSymbolicLink(), soft.uid, soft.mtimeMs, readlinkSync(join(dir, 'bin/soft'))], [true, 7, 42_000, '../elsewhere']);
      const nul = lstatSync(join(dir, 'dev/null'));
      assert.deepEqual([nul.isCharacterDevice(), nul.rdev, nul.mode & 0o777], [true, (1 << 8) | 3, 0o666]);
      assert.ok(lstatSync(join(dir, 'dev/loop9')).isBlockDevice());
      assert.ok(lstatSync(join(dir, 'run/fifo')).isFIFO());
    });

    it('reads PAX and GNU long names and long link targets', async () => {
      const long = `${'d'.repeat(120)}/${'e'.repeat(150)}/${'f'.repeat(200)}`;
      const gnuLongName = Buffer.from(`${'g'.repeat(130)}\0`);
      const gnu = Buffer.concat([
        gnuHeader('././@LongLink', 'L', gnuLongName.length),
        gnuLongName,
        Buffer.alloc(512 - gnuLongName.length),
        tarBuffer([{ name: 'placeholder', type: 'file', data: 'gnu' }]),
      ]);
      const a = await apply([{ name: long, type: 'file', data: 'pax' }, { name: 'link', type: 'symlink', linkname: long }]);
      assert.equal(readFileSync(join(a.dir, long), 'utf8'), 'pax');
      assert.equal(readlinkSync(join(a.dir, 'link')), long);
      const g = await apply(gnu);
      assert.equal(readFileSync(join(g.dir, 'g'.repeat(130)), 'utf8'), 'gnu');
    });

    it('matches GNU tar -x on a busybox tree, and the diff ID is the tar sha256', async () => {
      const src = fresh();
      mkdirSync(join(src, 'bin'));
      writeFileSync(join(src, 'bin/busybox'), readFileSync('/bin/busybox'));
      spawnSync('ln', ['-s', 'busybox', join(src, 'bin/sh')]);
      spawnSync('ln', [join(src, 'bin/busybox'), join(src, 'bin/hl')]);
      spawnSync('chmod', ['2711', join(src, 'bin/hl')]);
      const tar = spawnSync('tar', ['-C', src, '--numeric-owner', '-cf', '-', '.'], { maxBuffer: 1 << 28 }).stdout;
      const gz = gzipSync(tar);
      const ref = fresh();
      spawnSync('tar', ['-C', ref, '-xf', '-'], { input: tar });
      const { dir, result } = await apply(gz);
      assert.equal(result.compression, 'gzip');
      assert.equal(result.diffId, `sha256:${createHash('sha256').update(tar).digest('hex')}`);
      assert.equal(result.digest, `sha256:${createHash('sha256').update(gz).digest('hex')}`);
      const listing = (root: string) =>
        spawnSync('find', ['.', '-mindepth', '1', '-printf', '%p %m %u %g %y %s %T@ %l %n\n'], { cwd: root, encoding: 'utf8' }).stdout.split('\n').sort().join('\n');
      assert.equal(listing(dir), listing(ref));
    });

    it('applies zstd layers', async () => {
      const tar = tarBuffer([{ name: 'z', type: 'file', data: 'zstd!' }]);
      const zst = spawnSync('zstd', ['-c', '-q'], { input: tar }).stdout;
      const { dir, result } = await apply(zst);
      assert.equal(result.compression, 'zstd');
      assert.equal(readFileSync(join(dir, 'z'), 'utf8'), 'zstd!');
    });

    it('applies an uncompressed layer file by offset, the same as a stream', async () => {
      const tar = tarBuffer([{ name: 'a/b', type: 'file', data: Buffer.alloc(300_000, 7) }, { name: 'c', type: 'file', data: 'small' }]);
      const path = join(work, 'layer.tar');
      writeFileSync(path, tar);
      const dir = fresh();
      const r = await applyLayer({ path }, dir, { style: 'native' });
      assert.equal(r.diffId, `sha256:${createHash('sha256').update(tar).digest('hex')}`);
      assert.deepEqual(readFileSync(join(dir, 'a/b')), Buffer.alloc(300_000, 7));
      assert.equal(readFileSync(join(dir, 'c'), 'utf8'), 'small');
    });
  });

  describe('whiteouts', () => {
    it('overlay style: 0:0 char devices and the opaque xattr', async () => {
      const { dir } = await apply([
        { name: 'etc/', type: 'dir' },
        { name: 'etc/.wh.passwd', type: 'file' },
        { name: 'opt/', type: 'dir' },
        { name: 'opt/.wh..wh..opq', type: 'file' },
        { name: 'opt/new', type: 'file', data: 'n' },
      ]);
      const wh = lstatSync(join(dir, 'etc/passwd'));
      assert.deepEqual([wh.isCharacterDevice(), wh.rdev], [true, 0]);
      assert.equal(existsSync(join(dir, 'etc/.wh.passwd')), false);
      assert.deepEqual(xattrs(join(dir, 'opt')), { 'trusted.overlay.opaque': Buffer.from('y').toString('hex') });
      assert.equal(readFileSync(join(dir, 'opt/new'), 'utf8'), 'n');
    });

    it('native style: real deletions; opaque keeps only what this layer added', async () => {
      const dir = fresh();
      mkdirSync(join(dir, 'etc'));
      mkdirSync(join(dir, 'opt/old'), { recursive: true });
      writeFileSync(join(dir, 'etc/passwd'), 'x');
      writeFileSync(join(dir, 'etc/group'), 'x');
      writeFileSync(join(dir, 'opt/old/f'), 'x');
      await apply(
        [
          { name: 'etc/.wh.passwd', type: 'file' },
          { name: 'opt/', type: 'dir' },
          { name: 'opt/new', type: 'file', data: 'n' },
          { name: 'opt/.wh..wh..opq', type: 'file' },
        ],
        { style: 'native' },
        dir,
      );
      assert.deepEqual(readdirSync(join(dir, 'etc')), ['group']);
      assert.deepEqual(readdirSync(join(dir, 'opt')), ['new']);
    });

    it('drops overlay xattrs that an archive carries itself', async () => {
      const forged = new Map([['trusted.overlay.opaque', Buffer.from('y')], ['trusted.overlay.redirect', Buffer.from('/etc')], ['user.ok', Buffer.from('1')]]);
      const { dir } = await apply([{ name: 'd/', type: 'dir', xattrs: forged }]);
      assert.deepEqual(xattrs(join(dir, 'd')), { 'user.ok': '31' });
    });
  });

  describe('hostile layers', () => {
    const contained = async (members: Member[] | Buffer, opts: Partial<ApplyOptions> = {}): Promise<{ dir: string; error?: Error }> => {
      const dir = fresh();
      let error: Error | undefined;
      try {
        await apply(members, opts, dir);
      } catch (err) {
        error = err as Error;
      }
      assert.equal(snapshot(victim), victimBefore, 'the victim directory beside the target changed');
      return error ? { dir, error } : { dir };
    };
    const refused = async (members: Member[] | Buffer, pattern: RegExp, opts: Partial<ApplyOptions> = {}) => {
      const { error } = await contained(members, opts);
      assert.ok(error, 'expected the layer to be refused');
      assert.match(error.message, pattern);
    };

    it('refuses ../ names', () => refused([{ name: '../victim/file', type: 'file', data: 'pwned' }], /points outside the root/));
    it('refuses names that climb out through a/../..', () => refused([{ name: 'a/../../victim/file', type: 'file', data: 'x' }], /outside the root/));
    it('keeps absolute names inside the root', async () => {
      const { dir, error } = await contained([{ name: join(victim, 'file'), type: 'file', data: 'pwned' }]);
      assert.equal(error, undefined);
      assert.equal(readFileSync(join(dir, victim, 'file'), 'utf8'), 'pwned');
    });
    it('does not write through an absolute symlink the archive created', async () => {
      await contained([{ name: 'l', type: 'symlink', linkname: victim }, { name: 'l/file', type: 'file', data: 'pwned' }]);
    });
    it('does not write through a relative symlink the archive created', async () => {
      // "../victim" from the root is <root>/victim, which does not exist: refused, not followed out.
      const { error } = await contained([{ name: 'l', type: 'symlink', linkname: '../victim' }, { name: 'l/file', type: 'file', data: 'pwned' }]);
      assert.match(error?.message ?? '', /creating parent directory l/);
    });
    it('contains symlink chains', async () => {
      const { dir } = await contained([
        { name: 'a', type: 'symlink', linkname: 'b' },
        { name: 'b', type: 'symlink', linkname: '../../..' },
        { name: 'a/victim/file', type: 'file', data: 'pwned' },
      ]);
      assert.equal(readFileSync(join(dir, 'victim/file'), 'utf8'), 'pwned');
    });
    it('contains a symlink to the parent directory', async () => {
      await contained([{ name: 'up', type: 'symlink', linkname: '..' }, { name: 'up/victim/file', type: 'file', data: 'pwned' }]);
    });
    it('does not follow a symlink that replaces a directory', async () => {
      await contained([
        { name: 'd/', type: 'dir' },
        { name: 'd/x', type: 'file', data: 'x' },
        { name: 'd', type: 'symlink', linkname: victim },
        { name: 'd/file', type: 'file', data: 'pwned' },
      ]);
    });
    it('replaces a symlink with a file instead of writing through it', async () => {
      const { dir } = await contained([{ name: 'f', type: 'symlink', linkname: join(victim, 'file') }, { name: 'f', type: 'file', data: 'mine' }]);
      assert.equal(readFileSync(join(dir, 'f'), 'utf8'), 'mine');
    });
    it('refuses hard links that point outside', () => refused([{ name: 'h', type: 'hardlink', linkname: '../victim/file' }], /outside the root/));
    it('resolves absolute hard link targets inside the root', () =>
      refused([{ name: 'h', type: 'hardlink', linkname: join(victim, 'file') }], /hard link/));
    it('does not hard link through a symlink to outside', () =>
      refused([{ name: 'l', type: 'symlink', linkname: victim }, { name: 'h', type: 'hardlink', linkname: 'l/file' }], /hard link/));
    it('hard links to a symlink link the symlink itself', async () => {
      const { dir } = await contained([
        { name: 's', type: 'symlink', linkname: join(victim, 'file') },
        { name: 'h', type: 'hardlink', linkname: 's' },
        { name: 'h', type: 'file', data: 'mine' },
      ]);
      assert.equal(readFileSync(join(dir, 'h'), 'utf8'), 'mine');
      assert.equal(readlinkSync(join(dir, 's')), join(victim, 'file'));
    });
    for (const bad of ['.wh.', '.wh..', '.wh...']) {
      it(`refuses the whiteout name ${bad}`, () => refused([{ name: `d/${bad}`, type: 'file' }], /invalid whiteout name/));
    }
    it('whiteouts never reach through a symlinked parent', async () => {
      await contained([{ name: 'l', type: 'symlink', linkname: victim }, { name: 'l/.wh.file', type: 'file' }], { style: 'native' });
      await contained([{ name: 'l', type: 'symlink', linkname: '../victim' }, { name: 'l/.wh.file', type: 'file' }], { style: 'overlay' });
    });
    it('an opaque marker under a symlinked parent stays inside', async () => {
      await contained([{ name: 'l', type: 'symlink', linkname: '/' }, { name: 'l/.wh..wh..opq', type: 'file' }], { style: 'native' });
    });
    it('refuses device nodes where they are not allowed', () =>
      refused([{ name: 'dev/sda', type: 'block', devmajor: 8, devminor: 0 }], /device nodes are not allowed/, { allowDevices: false }));
    it('bounds decompressed bytes (gzip bomb)', () =>
      refused(gzipSync(tarBuffer([{ name: 'zeros', type: 'file', data: Buffer.alloc(64 << 20) }])), /beyond the 8388608-byte limit/, {
        limits: { maxBytes: 8 << 20 },
      }));
    it('bounds the number of entries', () =>
      refused(
        Array.from({ length: 50 }, (_, i) => ({ name: `f${i}`, type: 'file' as const, data: '' })),
        /more than 20 entries/,
        { limits: { maxEntries: 20 } },
      ));
    it('bounds extended header sizes', () => refused([{ name: `${'x/'.repeat(600)}f`, type: 'file', data: '' }], /extended header/, { limits: { maxHeaderBytes: 512 } }));
    it('refuses a truncated archive', () => refused(tarBuffer([{ name: 'f', type: 'file', data: Buffer.alloc(5000, 1) }]).subarray(0, 2048), /truncated/));
    it('refuses a corrupt header', () => {
      const tar = tarBuffer([{ name: 'f', type: 'file', data: 'x' }]);
      tar[0] = 0x41; // breaks the checksum
      return refused(tar, /checksum/);
    });
    it('names the layer and both digests when the diff ID does not match', () =>
      refused([{ name: 'f', type: 'file', data: 'x' }], /layer 2\/3: diff ID mismatch: expected sha256:0{64}, got sha256:[0-9a-f]{64}/, {
        label: 'layer 2/3',
        expectedDiffId: `sha256:${'0'.repeat(64)}`,
      }));
  });
});

/** A bare GNU header (for ././@LongLink members, which our writer never emits). */
function gnuHeader(name: string, type: string, size: number): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0);
  h.write('0000644\0', 100);
  h.write('0000000\0', 108);
  h.write('0000000\0', 116);
  h.write(size.toString(8).padStart(11, '0') + '\0', 124);
  h.write('00000000000\0', 136);
  h.write(type, 156);
  h.write('ustar  \0', 257);
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148);
  return h;
}
