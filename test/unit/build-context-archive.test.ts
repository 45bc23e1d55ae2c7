// The daemon's build context: a tar received by POST /build, spooled and indexed, with
// hostile archives refused and symlinks kept inside the context.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import { BuildContext, IgnoreMatcher, readIgnoreFile } from '../../src/build/context/index.js';
import { tarBuffer } from '../../src/images/tar/writer.js';
import { isBerthError } from '../../src/util/errors.js';
import { dir, file, hardlink, symlink, withContext, withTmp, chunks, type Member } from './build-context-fixtures.js';

const invalid = (re: RegExp) => (e: unknown): boolean => isBerthError(e, 'InvalidArgument') && re.test((e as Error).message);

async function collect(r: AsyncIterable<Buffer>): Promise<string> {
  const parts: Buffer[] = [];
  for await (const p of r) parts.push(p);
  return Buffer.concat(parts).toString();
}

/** fromStream must fail, and leave nothing in the spool directory. */
async function refused(members: Member[] | Buffer, re: RegExp, limits?: Parameters<typeof withContext>[3]): Promise<void> {
  await withTmp(async (tmp) => {
    await assert.rejects(withContext(tmp, members, () => undefined, limits), invalid(re));
    assert.deepEqual(await readdir(tmp), []);
  });
}

describe('BuildContext from a tar stream', () => {
  it('indexes files, directories, implied parents and symlinks, and reads data from the spool', async () => {
    await withTmp((tmp) =>
      withContext(
        tmp,
        [
          file('Dockerfile', 'FROM scratch\n'),
          dir('src/', { mode: 0o750 }),
          file('src/main.c', 'int main;', { mode: 0o600, uid: 1000, gid: 1000 }),
          file('./deep/er/x.txt', 'x', { mtimeSec: 1_600_000_000 }),
          symlink('link', 'src/main.c'),
          file('big', 'B'.repeat(3_000_000)),
        ],
        async (ctx) => {
          assert.equal(ctx.stat('src')?.mode, 0o750);
          assert.deepEqual(
            ctx.list('.').map((e) => e.path),
            ['Dockerfile', 'big', 'deep', 'link', 'src'],
          );
          const deep = ctx.stat('deep')!;
          assert.equal(deep.type, 'dir');
          assert.equal(deep.implied, true);
          assert.equal(deep.mode, 0o755);
          assert.equal(ctx.stat('deep/er')?.type, 'dir');
          assert.deepEqual(
            [...ctx.walk()].map((e) => e.path),
            ['Dockerfile', 'big', 'deep', 'deep/er', 'deep/er/x.txt', 'link', 'src', 'src/main.c'],
          );
          const main = ctx.stat('./src//main.c')!;
          assert.deepEqual([main.type, main.mode, main.uid, main.gid, main.size], ['file', 0o600, 1000, 1000, 9]);
          assert.equal(await collect(ctx.openData(main)), 'int main;');
          assert.equal(ctx.lstat('link')?.type, 'symlink');
          assert.equal(ctx.stat('link')?.path, 'src/main.c');
          assert.equal((await ctx.readFile('Dockerfile', 100)).toString(), 'FROM scratch\n');
          assert.equal((await collect(ctx.openData(ctx.stat('big')!))).length, 3_000_000);
          assert.equal(await ctx.fileDigest(ctx.stat('deep/er/x.txt')!), 'sha256:2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881');
          await assert.rejects(ctx.readFile('big', 1000), invalid(/larger than 1000 bytes/));
          await assert.rejects(ctx.readFile('src', 1000), invalid(/directory, not a file/));
          await assert.rejects(ctx.readFile('nope', 1000), (e: unknown) => isBerthError(e, 'NotFound'));
          assert.throws(() => ctx.list('Dockerfile'), invalid(/not a directory/));
        },
      ),
    );
  });

  it('accepts gzip and zstd contexts and refuses bzip2 and xz with a clear error', async () => {
    const tar = tarBuffer([file('Dockerfile', 'FROM scratch\n')]);
    await withTmp(async (tmp) => {
      await withContext(tmp, gzipSync(tar), async (ctx) => assert.equal((await ctx.readFile('Dockerfile', 100)).toString(), 'FROM scratch\n'));
      if (existsSync('/usr/bin/zstd')) {
        const zst = execFileSync('zstd', ['-q', '-c'], { input: tar });
        await withContext(tmp, zst, async (ctx) => assert.equal(ctx.stat('Dockerfile')?.size, 13));
      }
    });
    await refused(Buffer.concat([Buffer.from('BZh91AY&SY'), Buffer.alloc(600)]), /bzip2-compressed/);
    await refused(Buffer.concat([Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]), Buffer.alloc(600)]), /xz-compressed/);
    await refused(gzipSync(tar).subarray(0, 40), /gzip stream is corrupt|truncated/);
  });

  it('takes an empty body as an empty context', async () => {
    await withTmp((tmp) =>
      withContext(tmp, Buffer.alloc(0), (ctx) => {
        assert.equal(ctx.stat('.')?.type, 'dir');
        assert.deepEqual([...ctx.walk()], []);
      }),
    );
  });

  it('refuses hostile names and links, removing the spool', async () => {
    await refused([file('../evil', 'x')], /outside the root/);
    await refused([file('a/../../evil', 'x')], /outside the root/);
    await refused([file(`${'n'.repeat(120)}\0evil`, 'x')], /NUL/);
    await refused([hardlink('h', 'missing')], /hardlink .*not an earlier member/);
    await refused([hardlink('h', 'later'), file('later', 'x')], /not an earlier member/);
    await refused([file('x', 'x'), hardlink('h', '../x')], /outside the root/);
    await refused([dir('d/'), hardlink('h', 'd')], /target is a directory/);
    await refused([symlink('lib', '/usr/lib'), file('lib/evil.so', 'x')], /under "lib", which is a symlink/);
    await refused([file('f', 'x'), file('f/g', 'x')], /which is a file, not a directory/);
    await refused([file('.', 'x')], /names the root but is not a directory/);
    await refused(Buffer.from('this is not a tar archive'.repeat(40)), /tar header/);
    await refused(tarBuffer([file('a', 'x'.repeat(2000))]).subarray(0, 1024), /truncated/);
  });

  it('enforces limits on names, entries and bytes', async () => {
    await refused([file(`${'d/'.repeat(600)}x`, 'x')], /extended header of \d+ bytes exceeds the 1024-byte limit/, { maxHeaderBytes: 1024 });
    await refused(
      Array.from({ length: 20 }, (_, i) => file(`f${i}`, 'x')),
      /more than 10 entries/,
      { maxEntries: 10 },
    );
    await refused([file('big', 'x'.repeat(100_000))], /larger than 50000 bytes/, { maxBytes: 50_000 });
    await refused([file(`${'a'.repeat(250)}/`.repeat(20) + 'x', 'x')], /longer than 4096 bytes/);
  });

  it('cleans absolute names into the context and lets the last duplicate win', async () => {
    await withTmp((tmp) =>
      withContext(
        tmp,
        [
          file('/etc/passwd', 'root:x:0:0'),
          file('dup', 'first'),
          file('dup', 'second'),
          dir('d/'),
          file('d/inside', 'x'),
          file('d', 'now a file'),
          file('e', 'was a file'),
          dir('e/', { mode: 0o700 }),
          file('e/child', 'c'),
          dir('m/', { mode: 0o700 }),
          file('m/kept', 'k'),
          dir('m/', { mode: 0o711 }),
          file('orig', 'shared'),
          hardlink('alias', 'orig'),
          file('orig', 'replaced later'),
          dir('./', { mode: 0o700, mtimeSec: 5 }),
        ],
        async (ctx) => {
          assert.equal((await ctx.readFile('etc/passwd', 100)).toString(), 'root:x:0:0');
          assert.equal((await ctx.readFile('/etc/passwd', 100)).toString(), 'root:x:0:0');
          assert.equal((await ctx.readFile('dup', 100)).toString(), 'second');
          assert.equal(ctx.stat('d')?.type, 'file');
          assert.equal(ctx.stat('d/inside'), undefined);
          assert.equal(ctx.stat('e')?.mode, 0o700);
          assert.equal(ctx.stat('e/child')?.size, 1);
          assert.equal(ctx.stat('m')?.mode, 0o711);
          assert.equal(ctx.stat('m/kept')?.size, 1);
          // the hardlink keeps the data it was linked to, as link(2) then a new file would
          assert.equal((await ctx.readFile('alias', 100)).toString(), 'shared');
          assert.equal((await ctx.readFile('orig', 100)).toString(), 'replaced later');
          assert.notEqual(ctx.stat('alias')?.inode, ctx.stat('orig')?.inode);
          assert.equal(ctx.stat('')?.mode, 0o700);
        },
      ),
    );
  });

  it('resolves symlinks as if the context were the root, and refuses loops', async () => {
    await withTmp((tmp) =>
      withContext(
        tmp,
        [
          file('etc/passwd', 'context passwd'),
          symlink('abs', '/etc/passwd'),
          symlink('up', '../../../etc/passwd'),
          symlink('dirlink', '/etc'),
          symlink('sub/rel', '../etc/passwd'),
          symlink('loop1', 'loop2'),
          symlink('loop2', 'loop1'),
          symlink('self', 'self/x'),
          symlink('dangling', 'nowhere'),
          symlink('empty', ''),
          file('plain', 'p'),
        ],
        async (ctx) => {
          for (const p of ['abs', 'up', 'dirlink/passwd', 'sub/rel', 'sub/../abs', '../../abs']) {
            assert.equal(ctx.stat(p)?.path, 'etc/passwd', p);
          }
          assert.equal((await ctx.readFile('up', 100)).toString(), 'context passwd');
          assert.equal(ctx.lstat('dirlink')?.type, 'symlink');
          assert.equal(ctx.lstat('dirlink/passwd')?.path, 'etc/passwd');
          assert.throws(() => ctx.stat('loop1'), invalid(/too many levels of symbolic links/));
          assert.throws(() => ctx.stat('self'), invalid(/too many levels/));
          assert.equal(ctx.lstat('loop1')?.type, 'symlink');
          assert.equal(ctx.stat('dangling'), undefined);
          assert.equal(ctx.stat('empty'), undefined);
          assert.equal(ctx.stat('plain/x'), undefined);
        },
      ),
    );
  });

  it('hides ignored paths from COPY but keeps the Dockerfile and ignore file readable', async () => {
    await withTmp((tmp) =>
      withContext(
        tmp,
        [
          file('Dockerfile', 'FROM scratch\n'),
          file('.dockerignore', 'Dockerfile\n.dockerignore\n*.log\nsecret\nnode_modules\n!node_modules/keep/**\n'),
          file('a.log', 'x'),
          file('src/b.log', 'kept: * does not cross /'),
          file('secret/key', 'k'),
          dir('node_modules/', { mode: 0o700 }),
          file('node_modules/dep/index.js', 'x'),
          file('node_modules/keep/me.js', 'x'),
          symlink('to-secret', 'secret/key'),
        ],
        async (ctx) => {
          const { path, matcher } = await readIgnoreFile(ctx, 'Dockerfile');
          assert.equal(path, '.dockerignore');
          ctx.exclude(matcher);
          assert.deepEqual(
            [...ctx.walk()].map((e) => e.path),
            ['node_modules', 'node_modules/keep', 'node_modules/keep/me.js', 'src', 'src/b.log', 'to-secret'],
          );
          assert.equal(ctx.stat('node_modules')?.mode, 0o700);
          assert.equal(ctx.stat('to-secret'), undefined); // its target is excluded
          assert.equal(ctx.stat('Dockerfile'), undefined);
          assert.equal((await ctx.readFile('Dockerfile', 100)).toString(), 'FROM scratch\n');
          assert.match((await ctx.readFile('.dockerignore', 1000)).toString(), /secret/);
        },
      ),
    );
  });

  it('prefers <Dockerfile>.dockerignore next to the Dockerfile', async () => {
    await withTmp((tmp) =>
      withContext(tmp, [file('.dockerignore', 'a\n'), file('sub/Dockerfile', 'FROM scratch\n'), file('sub/Dockerfile.dockerignore', 'b\n')], async (ctx) => {
        const own = await readIgnoreFile(ctx, 'sub/Dockerfile');
        assert.equal(own.path, 'sub/Dockerfile.dockerignore');
        assert.deepEqual(own.matcher.patternList, ['b']);
        assert.equal((await readIgnoreFile(ctx, 'Dockerfile')).path, '.dockerignore');
      }),
    );
  });

  it('has an empty form for a build without context', async () => {
    const ctx = BuildContext.empty();
    assert.equal(ctx.stat('/')?.type, 'dir');
    assert.deepEqual(ctx.list('.'), []);
    await assert.rejects(ctx.readFile('Dockerfile', 10), (e: unknown) => isBerthError(e, 'NotFound'));
    assert.equal((await readIgnoreFile(ctx, 'Dockerfile')).matcher.empty, true);
    await ctx.close();
  });

  it('removes the spool on close and refuses reads afterwards', async () => {
    await withTmp(async (tmp) => {
      const ctx = await BuildContext.fromStream(chunks(tarBuffer([file('f', 'data')]), 100), tmp);
      assert.equal((await readdir(tmp)).length, 1);
      const f = ctx.stat('f')!;
      await ctx.close();
      await ctx.close();
      assert.deepEqual(await readdir(tmp), []);
      await assert.rejects(collect(ctx.readData(f)), invalid(/closed/));
    });
  });

  it('accepts a Readable as the body', async () => {
    const { Readable } = await import('node:stream');
    await withTmp(async (tmp) => {
      const ctx = await BuildContext.fromStream(Readable.from([tarBuffer([file('f', 'data')])]), tmp);
      try {
        assert.equal((await ctx.readFile('f', 10)).toString(), 'data');
      } finally {
        await ctx.close();
      }
    });
  });

  it('refuses to exclude with a malformed pattern', () => {
    assert.throws(() => new IgnoreMatcher(['[']), invalid(/invalid ignore pattern/));
  });
});
