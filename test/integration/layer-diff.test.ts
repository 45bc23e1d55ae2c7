// Layer diff: the changes of an overlay upper dir or of two native trees become a tar with
// whiteouts in a fixed order, and applying that tar to the lower tree reproduces the upper.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, linkSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { applyLayer } from '../../src/images/layer/apply.js';
import { diffLayer, type DiffSource } from '../../src/images/layer/diff.js';
import { TarReader } from '../../src/images/tar/reader.js';
import { mountAll, unmount } from '../../src/snapshots/mount.js';
import { isRoot } from '../helpers/runtime.js';
import { unmountUnder } from '../helpers/snapshotter-suite.js';

const base = isRoot ? mkdtempSync('/var/tmp/berth-diff-') : '/nonexistent';
after(async () => {
  if (!isRoot) return;
  await unmountUnder(base);
  rmSync(base, { recursive: true, force: true });
});

async function collect(src: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const p of src) parts.push(p);
  return Buffer.concat(parts);
}

async function* once(b: Buffer): AsyncGenerator<Buffer> {
  yield b;
}

async function names(tar: Buffer): Promise<string[]> {
  const r = new TarReader(once(tar));
  const out: string[] = [];
  for (let e = await r.next(); e; e = await r.next()) out.push(e.name);
  return out;
}

/** Everything observable about a tree, for comparing two trees. */
function listing(root: string): string {
  const r = spawnSync('find', ['.', '-mindepth', '1', '-printf', '%p %y %m %U:%G %s %T@ %l\\n'], { cwd: root, encoding: 'utf8' });
  const contents = spawnSync('sh', ['-c', 'find . -type f -print0 | sort -z | xargs -0r sha256sum'], { cwd: root, encoding: 'utf8' });
  return `${r.stdout.split('\n').sort().join('\n')}\n${contents.stdout}`;
}

function setXattr(path: string, name: string, value: string): void {
  const r = spawnSync('python3', ['-c', 'import os,sys; os.setxattr(sys.argv[1], sys.argv[2], sys.argv[3].encode())', path, name, value]);
  assert.equal(r.status, 0, String(r.stderr));
}

function makeLower(dir: string): void {
  mkdirSync(join(dir, 'etc'), { recursive: true });
  mkdirSync(join(dir, 'opt/old/deep'), { recursive: true });
  writeFileSync(join(dir, 'etc/keep'), 'keep');
  writeFileSync(join(dir, 'etc/change'), 'before');
  writeFileSync(join(dir, 'etc/remove'), 'gone soon');
  writeFileSync(join(dir, 'opt/old/deep/f'), 'deep');
  writeFileSync(join(dir, 'opt/old/a'), 'a');
}

/** The same changes, made through whatever view `root` is (an overlay mount or a native copy). */
function change(root: string): void {
  writeFileSync(join(root, 'etc/change'), 'after, longer');
  rmSync(join(root, 'etc/remove'));
  rmSync(join(root, 'opt/old'), { recursive: true });
  mkdirSync(join(root, 'opt/old'));
  writeFileSync(join(root, 'opt/old/new'), 'replaced dir');
  mkdirSync(join(root, 'srv/app'), { recursive: true });
  writeFileSync(join(root, 'srv/app/bin'), 'binary');
  chmodSync(join(root, 'srv/app/bin'), 0o4755);
  linkSync(join(root, 'srv/app/bin'), join(root, 'srv/app/bin2'));
  symlinkSync('../etc/keep', join(root, 'srv/link'));
  spawnSync('mkfifo', [join(root, 'srv/fifo')]);
  setXattr(join(root, 'srv/app/bin'), 'user.role', 'server');
}

describe('layer diff', { skip: isRoot ? false : 'needs root (overlay mounts, chown)' }, () => {
  let n = 0;
  const dirs = (...names: string[]) => {
    const root = join(base, `case${++n}`);
    return names.map((d) => {
      mkdirSync(join(root, d), { recursive: true });
      return join(root, d);
    });
  };
  before(() => undefined);

  it('overlay: an upper dir becomes a sorted tar with whiteouts and opaque markers, and applies back to the same view', async () => {
    const [lower, upper, work, merged, upper2, work2, merged2] = dirs('lower', 'upper', 'work', 'merged', 'upper2', 'work2', 'merged2');
    makeLower(lower!);
    const overlay = (u: string, w: string) => [{ type: 'overlay', source: 'overlay', options: [`lowerdir=${lower}`, `upperdir=${u}`, `workdir=${w}`, 'index=off', 'redirect_dir=off', 'metacopy=off'] }];
    await mountAll(overlay(upper!, work!), merged!);
    try {
      change(merged!);
    } finally {
      await unmount(merged!);
    }
    const source: DiffSource = { style: 'overlay', upper: upper! };
    const tar = await collect(diffLayer(source));
    const members = await names(tar);
    assert.ok(members.includes('etc/.wh.remove'), members.join(' '));
    assert.ok(members.includes('opt/old/.wh..wh..opq'), members.join(' '));
    assert.ok(!members.some((m) => m.includes('etc/keep')), 'unchanged files are not in the diff');
    assert.deepEqual(members.filter((m) => !m.includes('.wh.')), [...members.filter((m) => !m.includes('.wh.'))].sort(), 'members are sorted');
    assert.ok(members.indexOf('srv/') < members.indexOf('srv/app/'), 'parents come first');
    assert.deepEqual(tar, await collect(diffLayer(source)), 'the same tree gives the same bytes');
    const applied = await applyLayer(once(tar), upper2!, { style: 'overlay' });
    assert.equal(applied.entries, members.length);
    const views = [];
    for (const [u, w, m] of [[upper!, work!, merged!], [upper2!, work2!, merged2!]] as const) {
      await mountAll(overlay(u, w), m);
      views.push(m);
    }
    try {
      assert.equal(listing(views[1]!), listing(views[0]!));
    } finally {
      for (const m of views) await unmount(m);
    }
  });

  it('native: two full trees give the changes, and applying them to a copy of the lower reproduces the upper', async () => {
    const [lower, upper, target] = dirs('lower', 'upper', 'target');
    makeLower(lower!);
    spawnSync('cp', ['-a', '-T', lower!, upper!]);
    spawnSync('cp', ['-a', '-T', lower!, target!]);
    change(upper!);
    const tar = await collect(diffLayer({ style: 'native', lower: lower!, upper: upper! }));
    const members = await names(tar);
    assert.ok(members.includes('etc/.wh.remove'), members.join(' '));
    assert.ok(members.includes('opt/old/.wh.a') && members.includes('opt/old/.wh.deep'), members.join(' '));
    assert.ok(!members.includes('etc/keep'), 'unchanged files are not in the diff');
    await applyLayer(once(tar), target!, { style: 'native' });
    assert.equal(listing(target!), listing(upper!));
  });

  it('tree: a whole directory as a tar, nothing read as a whiteout', async () => {
    const [dir] = dirs('tree');
    makeLower(dir!);
    spawnSync('mknod', [join(dir!, 'etc/zero-dev'), 'c', '0', '0']);
    const members = await names(await collect(diffLayer({ style: 'tree', dir: dir! })));
    assert.deepEqual(members, ['etc/', 'etc/change', 'etc/keep', 'etc/remove', 'etc/zero-dev', 'opt/', 'opt/old/', 'opt/old/a', 'opt/old/deep/', 'opt/old/deep/f']);
  });
});
