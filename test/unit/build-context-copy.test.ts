// COPY/ADD from the build context: finding sources, Docker's destination rules, the tar
// the copy is applied from, and the cache checksum of the sources.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  IgnoreMatcher,
  MULTIPLE_SOURCES_ERROR,
  checksumSources,
  copyArchive,
  planCopy,
  resolveSources,
  type BuildContext,
  type CopyPlan,
  type PlanOptions,
  type ResolveOptions,
} from '../../src/build/context/index.js';
import { isBerthError } from '../../src/util/errors.js';
import { dir, file, hardlink, readTar, symlink, withContext, withTmp, type Member } from './build-context-fixtures.js';

const T = 1_700_000_000;
const FIXTURE: Member[] = [
  file('Dockerfile', 'FROM scratch\n'),
  dir('app/', { mode: 0o750, mtimeSec: T + 1 }),
  file('app/main.js', 'main', { mode: 0o755, uid: 501, gid: 20, mtimeSec: T + 2 }),
  file('app/lib/util.js', 'util'),
  file('app/lib/util.test.js', 'test'),
  file('app/node_modules/x/index.js', 'dep'),
  symlink('app/link', 'lib/util.js'),
  hardlink('app/hard', 'app/main.js'),
  file('hom.txt', 'h1'),
  file('homer.txt', 'h2'),
  file('home.md', 'h3'),
  symlink('conf', 'app'),
  symlink('cfg.js', '/app/main.js'),
  symlink('escape', '../../../../hom.txt'),
  file('a/b/c.txt', 'c'),
  file('a/b/d.txt', 'd'),
];

async function inFixture(fn: (ctx: BuildContext) => Promise<void> | void, members: Member[] = FIXTURE): Promise<void> {
  await withTmp((tmp) => withContext(tmp, members, fn));
}

const OPTS: PlanOptions = { destIsDir: false, workdir: '/', createdMtimeSec: 42 };

function plan(ctx: BuildContext, srcs: string[], dest: string, opts: Partial<PlanOptions> = {}, ropts: ResolveOptions = {}): CopyPlan {
  return planCopy(resolveSources(ctx, srcs, ropts), dest, { ...OPTS, ...opts });
}

/** dest → "type mode uid:gid [-> link]" for compact assertions. */
function summary(p: CopyPlan): Record<string, string> {
  const out: Record<string, string> = {};
  for (const it of p.items) {
    let s = `${it.type} ${it.mode.toString(8)} ${it.uid}:${it.gid}`;
    if (it.created) s += ' created';
    if (it.type === 'symlink') s += ` -> ${it.linkname}`;
    if (it.hardlinkTo) s += ` => ${it.hardlinkTo}`;
    out[it.dest] = s;
  }
  return out;
}

const dests = (p: CopyPlan): string[] => p.items.map((i) => i.dest);

describe('COPY sources', () => {
  it('follows a symlink given as the source, inside the context', () =>
    inFixture((ctx) => {
      const [m] = resolveSources(ctx, ['cfg.js']);
      assert.equal(m!.path, 'cfg.js');
      assert.equal(m!.entry.path, 'app/main.js');
      assert.equal(resolveSources(ctx, ['escape'])[0]!.entry.path, 'hom.txt');
      assert.equal(resolveSources(ctx, ['conf'])[0]!.entry.type, 'dir');
      assert.equal(resolveSources(ctx, ['../../hom.txt'])[0]!.path, 'hom.txt'); // scoped to the context
    }));

  it('names a missing source as Docker does', () =>
    inFixture((ctx) => {
      const notFound = (name: string) => (e: unknown): boolean =>
        isBerthError(e, 'NotFound') && (e as Error).message === `file not found in build context or excluded by .dockerignore: stat ${name}: file does not exist`;
      assert.throws(() => resolveSources(ctx, ['missing.txt']), notFound('missing.txt'));
      assert.throws(() => resolveSources(ctx, ['./app/missing']), notFound('app/missing'));
      assert.throws(() => resolveSources(ctx, ['/nope/x']), notFound('nope/x'));
    }));

  it('expands wildcards per path component, refusing when nothing matches at all', () =>
    inFixture((ctx) => {
      assert.deepEqual(resolveSources(ctx, ['hom*']).map((m) => m.path), ['hom.txt', 'home.md', 'homer.txt']);
      assert.deepEqual(resolveSources(ctx, ['a/*/?.txt']).map((m) => m.path), ['a/b/c.txt', 'a/b/d.txt']);
      assert.deepEqual(resolveSources(ctx, ['*/b']).map((m) => m.path), ['a/b']);
      assert.deepEqual(resolveSources(ctx, ['conf/l[a-j]*']).map((m) => m.path), ['conf/lib', 'conf/link']);
      assert.deepEqual(resolveSources(ctx, ['nothing*', 'hom.txt']).map((m) => m.path), ['hom.txt']);
      assert.throws(() => resolveSources(ctx, ['nothing*']), /no source files were specified/);
      assert.throws(() => resolveSources(ctx, ['a[']), /syntax error in pattern/);
    }));

  it('lists a directory source with symlinks kept and --exclude applied relative to it', () =>
    inFixture((ctx) => {
      const [m] = resolveSources(ctx, ['app'], { excludes: ['*.test.js', 'lib/*.test.js', 'node_modules'] });
      assert.deepEqual(m!.items.map((i) => `${i.rel}:${i.entry.type}`), [':dir', 'hard:file', 'lib:dir', 'lib/util.js:file', 'link:symlink', 'main.js:file']);
      const [n] = resolveSources(ctx, ['app'], { excludes: ['node_modules', '!node_modules/x/index.js'] });
      assert.ok(n!.items.some((i) => i.rel === 'node_modules/x/index.js'));
      assert.ok(n!.items.some((i) => i.rel === 'node_modules'));
      // wildcard file matches answer to --exclude by name (the docs' "--exclude=*.txt hom*")
      assert.deepEqual(resolveSources(ctx, ['hom*'], { excludes: ['*.txt'] }).map((m) => m.path), ['home.md']);
    }));

  it('does not see what .dockerignore excluded', () =>
    inFixture((ctx) => {
      ctx.exclude(new IgnoreMatcher(['app/node_modules', '*.md']));
      assert.throws(() => resolveSources(ctx, ['home.md']), /file not found in build context or excluded by \.dockerignore/);
      assert.ok(!resolveSources(ctx, ['app'])[0]!.items.some((i) => i.rel.startsWith('node_modules')));
    }));
});

describe('COPY destination rules', () => {
  it('copies a file to a file name, creating missing parents 0755 with the chown owner', () =>
    inFixture((ctx) => {
      const p = plan(ctx, ['hom.txt'], '/opt/new/renamed', { dirExists: (d) => d === '/opt', chown: { uid: 7, gid: 8 } });
      assert.equal(p.dest, '/opt/new/renamed');
      assert.deepEqual(summary(p), { '/opt/new': 'dir 755 7:8 created', '/opt/new/renamed': 'file 644 7:8' });
      // without dirExists, nothing above the destination is written over
      assert.deepEqual(dests(plan(ctx, ['hom.txt'], '/opt/new/renamed')), ['/opt/new/renamed']);
    }));

  it('copies a file into a directory under its own name', () =>
    inFixture((ctx) => {
      assert.deepEqual(summary(plan(ctx, ['hom.txt'], '/d/')), { '/d': 'dir 755 0:0 created', '/d/hom.txt': 'file 644 0:0' });
      assert.deepEqual(summary(plan(ctx, ['hom.txt'], '/d', { destIsDir: true })), { '/d/hom.txt': 'file 644 0:0' });
      // a symlink source keeps its own name, with the target's content
      const p = plan(ctx, ['cfg.js'], '/d', { destIsDir: true });
      assert.deepEqual(dests(p), ['/d/cfg.js']);
      assert.equal(p.items[0]!.source?.path, 'app/main.js');
    }));

  it('resolves a relative destination against WORKDIR', () =>
    inFixture((ctx) => {
      assert.deepEqual(dests(plan(ctx, ['hom.txt'], 'rel/', { workdir: '/app' })), ['/app/rel', '/app/rel/hom.txt']);
      assert.deepEqual(dests(plan(ctx, ['hom.txt'], '.', { workdir: '/app', destIsDir: true })), ['/app/hom.txt']);
      assert.deepEqual(dests(plan(ctx, ['hom.txt'], 'x', { workdir: '' })), ['/x']);
      assert.deepEqual(dests(plan(ctx, ['hom.txt', 'home.md'], './', { workdir: 'w', destIsDir: true })), ['/w/hom.txt', '/w/home.md']);
    }));

  it('copies a directory\'s contents, keeping symlinks and hardlinks', () =>
    inFixture((ctx) => {
      const p = plan(ctx, ['app'], '/srv', {}, { excludes: ['node_modules'] });
      assert.deepEqual(summary(p), {
        '/srv': 'dir 750 0:0',
        '/srv/hard': 'file 755 0:0',
        '/srv/lib': 'dir 755 0:0',
        '/srv/lib/util.js': 'file 644 0:0',
        '/srv/lib/util.test.js': 'file 644 0:0',
        '/srv/link': 'symlink 777 0:0 -> lib/util.js',
        '/srv/main.js': 'file 755 0:0 => /srv/hard',
      });
      // an existing destination directory keeps its own metadata
      assert.ok(!dests(plan(ctx, ['app'], '/srv', { destIsDir: true }, { excludes: ['node_modules'] })).includes('/srv'));
      // the root of the context, through a symlink or not
      assert.ok(dests(plan(ctx, ['.'], '/', { destIsDir: true })).includes('/a/b/c.txt'));
      assert.ok(!dests(plan(ctx, ['.'], '/', { destIsDir: true })).includes('/'));
      assert.deepEqual(dests(plan(ctx, ['conf/lib'], '/l/')), ['/l', '/l/util.js', '/l/util.test.js']);
      // hardlinks are kept within one source, not across sources (each is copied apart)
      const two = plan(ctx, ['app/main.js', 'app/hard'], '/h/', { destIsDir: true });
      assert.deepEqual(two.items.map((i) => i.hardlinkTo), [undefined, undefined]);
    }));

  it('wants a directory ending in "/" for several sources', () =>
    inFixture((ctx) => {
      const refused = (e: unknown): boolean => isBerthError(e, 'InvalidArgument') && (e as Error).message === MULTIPLE_SOURCES_ERROR;
      assert.throws(() => plan(ctx, ['hom.txt', 'home.md'], '/d'), refused);
      assert.throws(() => plan(ctx, ['hom.txt', 'home.md'], '/d', { destIsDir: true }), refused); // as the classic builder
      assert.throws(() => plan(ctx, ['hom*'], '/d'), refused);
      assert.deepEqual(dests(plan(ctx, ['hom*', 'a/b'], '/d/')), ['/d', '/d/hom.txt', '/d/home.md', '/d/homer.txt', '/d/c.txt', '/d/d.txt']);
    }));

  it('lets a later source win and refuses to mix a file and a directory at one path', () =>
    inFixture(
      (ctx) => {
        const p = plan(ctx, ['one/f', 'two/f'], '/d/');
        assert.deepEqual(dests(p), ['/d', '/d/f']);
        assert.equal(p.items[1]!.source?.size, 3);
        assert.throws(() => plan(ctx, ['one', 'three'], '/d/'), /cannot replace directory \/d\/sub with a file/);
        assert.throws(() => plan(ctx, ['three', 'one'], '/d/'), /cannot copy a directory to non-directory \/d\/sub/);
      },
      [file('one/f', '1'), dir('one/sub/'), file('two/f', '222'), file('three/sub', 'x')],
    ));

  it('keeps the source path under the destination with --parents, pivoting at "/./"', () =>
    inFixture((ctx) => {
      const p = plan(ctx, ['a/b/c.txt', 'app/lib'], '/d/', {}, { parents: true });
      assert.deepEqual(summary(p), {
        '/d': 'dir 755 0:0 created',
        '/d/a': 'dir 755 0:0',
        '/d/a/b': 'dir 755 0:0',
        '/d/a/b/c.txt': 'file 644 0:0',
        '/d/app': 'dir 750 0:0',
        '/d/app/lib': 'dir 755 0:0',
        '/d/app/lib/util.js': 'file 644 0:0',
        '/d/app/lib/util.test.js': 'file 644 0:0',
      });
      assert.deepEqual(dests(plan(ctx, ['a/./b/*.txt'], '/d/', { destIsDir: true }, { parents: true })), ['/d/b', '/d/b/c.txt', '/d/b/d.txt']);
    }));

  it('applies --chown to everything and --chmod to copied files and directories', () =>
    inFixture((ctx) => {
      const p = plan(ctx, ['app'], '/x/y/', { chown: { uid: 1000, gid: 100 }, chmod: 0o640, dirExists: () => false }, { excludes: ['node_modules', 'lib'] });
      assert.deepEqual(summary(p), {
        '/x': 'dir 755 1000:100 created',
        '/x/y': 'dir 640 1000:100',
        '/x/y/hard': 'file 640 1000:100',
        '/x/y/link': 'symlink 777 1000:100 -> lib/util.js',
        '/x/y/main.js': 'file 640 1000:100 => /x/y/hard',
      });
    }));
});

describe('the COPY tar stream', () => {
  it('names members by destination, streams data from the spool, keeps mtimes and hardlinks', () =>
    inFixture(async (ctx) => {
      const p = plan(ctx, ['app', 'hom.txt'], '/srv/', { chown: { uid: 3, gid: 4 }, dirExists: () => false }, { excludes: ['node_modules', 'lib'] });
      const members = await readTar(copyArchive(ctx, p));
      const view = members.map(({ entry: e, data }) => [e.name, e.type, e.mode.toString(8), `${e.uid}:${e.gid}`, e.mtimeSec, e.linkname, data.toString()]);
      assert.deepEqual(view, [
        ['srv/', 'dir', '750', '3:4', T + 1, '', ''],
        ['srv/hard', 'file', '755', '3:4', T + 2, '', 'main'],
        ['srv/link', 'symlink', '777', '3:4', T, 'lib/util.js', ''],
        ['srv/main.js', 'hardlink', '755', '3:4', T + 2, 'srv/hard', ''],
        ['srv/hom.txt', 'file', '644', '3:4', T, '', 'h1'],
      ]);
    }));

  it('writes created parents and handles large files and long names', () =>
    inFixture(
      async (ctx) => {
        const long = `${'deep/'.repeat(40)}f`;
        const p = plan(ctx, ['big', long], '/out/', { dirExists: (d) => d !== '/out' });
        const members = await readTar(copyArchive(ctx, p));
        assert.deepEqual(members.map((m) => m.entry.name), ['out/', 'out/big', 'out/f']);
        assert.equal(members[0]!.entry.mtimeSec, 42);
        assert.equal(members[1]!.data.length, 5_000_000);
        assert.equal(members[1]!.data[4_999_999], 0x5a);
      },
      [file('big', 'Z'.repeat(5_000_000)), file(`${'deep/'.repeat(40)}f`, 'f')],
    ));
});

describe('COPY cache checksum', () => {
  const sum = async (members: Member[], srcs: string[], ropts: ResolveOptions = {}): Promise<string> => {
    let out = '';
    await inFixture(async (ctx) => {
      out = await checksumSources(ctx, resolveSources(ctx, srcs, ropts));
    }, members);
    return out;
  };
  const base = (over: Partial<Member> = {}, data = 'hello'): Member[] => [dir('src/'), file('src/a.txt', data, over), file('src/b/c', 'c'), symlink('src/l', 'a.txt')];

  it('ignores mtimes and owners but not contents, modes, names or link targets', async () => {
    const ref = await sum(base(), ['src']);
    assert.match(ref, /^sha256:[0-9a-f]{64}$/);
    assert.equal(await sum(base({ mtimeSec: T + 999 }), ['src']), ref);
    assert.equal(await sum(base({ uid: 5, gid: 5 }), ['src']), ref);
    assert.notEqual(await sum(base({}, 'hellO'), ['src']), ref);
    assert.notEqual(await sum(base({ mode: 0o600 }), ['src']), ref);
    assert.notEqual(await sum([...base().slice(0, 1), file('src/A.txt', 'hello'), ...base().slice(2)], ['src']), ref);
    assert.notEqual(await sum([...base().slice(0, 3), symlink('src/l', 'b/c')], ['src']), ref);
    assert.notEqual(await sum(base(), ['src'], { excludes: ['b'] }), ref);
    assert.notEqual(await sum(base(), ['src/a.txt']), ref);
  });

  it('computes each file\'s digest once per context', () =>
    inFixture(async (ctx) => {
      const matches = resolveSources(ctx, ['app']);
      const first = await checksumSources(ctx, matches);
      const main = ctx.stat('app/main.js')!;
      const p = ctx.fileDigest(main);
      assert.equal(ctx.fileDigest(main), p);
      assert.equal(ctx.fileDigest(ctx.stat('app/hard')!), p); // a hardlink is the same file
      assert.equal(await checksumSources(ctx, resolveSources(ctx, ['app'])), first);
    }));
});
