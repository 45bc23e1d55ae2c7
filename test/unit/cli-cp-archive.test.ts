// The host side of `berth cp`: where a copy lands (docker's PrepareArchiveCopy rules),
// a host path as a tar and back, and extraction that never leaves its directory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tarBuffer } from '../../src/images/tar/writer.js';
import { destinationInfo, extractInto, prepareArchiveCopy, rebaser, sourceInfo, splitPathDirEntry, tarHostPath } from '../../src/cli/commands/cp-archive.js';

async function* once(b: Buffer): AsyncGenerator<Buffer> {
  yield b;
}

async function collect(gen: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of gen) parts.push(c);
  return Buffer.concat(parts);
}

function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-cp-'));
  return fn(dir).finally(() => rmSync(dir, { recursive: true, force: true }));
}

test('split paths as docker does, keeping "/." ', () => {
  assert.deepEqual(splitPathDirEntry('/a/b/'), ['/a', 'b']);
  assert.deepEqual(splitPathDirEntry('/a/b/.'), ['/a/b', '.']);
  assert.deepEqual(splitPathDirEntry('/etc/hosts'), ['/etc', 'hosts']);
});

test('where a copy lands: into an existing directory, or renamed to a new name', () => {
  const file = { path: '/etc/hosts', exists: true, isDir: false, rebaseName: '' };
  const dir = { path: '/etc/app', exists: true, isDir: true, rebaseName: '' };
  assert.equal(prepareArchiveCopy(file, { path: '/tmp', exists: true, isDir: true, rebaseName: '' }).dir, '/tmp');
  const renamed = prepareArchiveCopy(file, { path: '/tmp/new', exists: false, isDir: false, rebaseName: '' });
  assert.equal(renamed.dir, '/tmp');
  assert.equal(renamed.rename('hosts'), 'new');
  assert.equal(prepareArchiveCopy(dir, { path: '/tmp/copy', exists: false, isDir: false, rebaseName: '' }).rename('app/x/y'), 'copy/x/y');
  assert.throws(() => prepareArchiveCopy(dir, { path: '/tmp/f', exists: true, isDir: false, rebaseName: '' }), { message: 'cannot copy directory' });
  assert.throws(() => prepareArchiveCopy(file, { path: '/tmp/nodir/', exists: false, isDir: false, rebaseName: '' }), { message: 'no such directory' });
  assert.equal(rebaser('.', 'dst')('./a/b'), 'dst/a/b');
});

test('a host directory tars and extracts back under a new name, links and modes kept', () =>
  withDir(async (dir) => {
    mkdirSync(join(dir, 'src', 'sub'), { recursive: true });
    writeFileSync(join(dir, 'src', 'sub', 'f.txt'), 'hello', { mode: 0o640 });
    symlinkSync('sub/f.txt', join(dir, 'src', 'link'));
    mkdirSync(join(dir, 'out'));
    const src = await sourceInfo(join(dir, 'src'), false);
    const dst = await destinationInfo(join(dir, 'out', 'copy'));
    const plan = prepareArchiveCopy(src, dst);
    const tar = await collect(tarHostPath(src, (n) => n));
    await extractInto(once(tar), plan.dir, plan.rename);
    assert.equal(readFileSync(join(dir, 'out', 'copy', 'sub', 'f.txt'), 'utf8'), 'hello');
    assert.equal(readlinkSync(join(dir, 'out', 'copy', 'link')), 'sub/f.txt');
  }));

test('extraction refuses names that climb out and never writes through a symlink', () =>
  withDir(async (dir) => {
    const dest = join(dir, 'dest');
    const outside = join(dir, 'outside');
    mkdirSync(dest);
    mkdirSync(outside);
    await assert.rejects(extractInto(once(tarBuffer([{ name: '../escaped', type: 'file', data: 'x' }])), dest, (n) => n), /outside/);
    assert.equal(existsSync(join(dir, 'escaped')), false);
    const evil = tarBuffer([
      { name: 'ln', type: 'symlink', linkname: outside },
      { name: 'ln/planted', type: 'file', data: 'x' },
    ]);
    await assert.rejects(extractInto(once(evil), dest, (n) => n), /symbolic link/);
    assert.equal(existsSync(join(outside, 'planted')), false);
  }));
