// The tar reader and writer without a disk: round trips through PAX and GNU forms, bounds,
// and the layer name policy.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { TarReader } from '../../src/images/tar/reader.js';
import { tarBuffer, type WriteEntry } from '../../src/images/tar/writer.js';
import { classifyWhiteout, cleanName } from '../../src/images/layer/policy.js';
import { RwLock } from '../../src/util/rwlock.js';

async function* chunked(b: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < b.length; i += size) yield b.subarray(i, i + size);
}

async function readAll(b: Buffer, chunk = 7) {
  const r = new TarReader(chunked(b, chunk));
  const out: Array<{ e: Awaited<ReturnType<TarReader['next']>>; data: string }> = [];
  for (let e = await r.next(); e; e = await r.next()) {
    const parts: Buffer[] = [];
    for await (const p of r.data()) parts.push(p);
    out.push({ e, data: Buffer.concat(parts).toString() });
  }
  return out;
}

describe('tar round trip', () => {
  it('keeps names, long names, times, ids, xattrs and data across odd chunk sizes', async () => {
    const entries: Array<WriteEntry & { data?: string }> = [
      { name: 'a/', type: 'dir', mode: 0o1777, mtimeSec: 1 },
      { name: 'a/file', type: 'file', mode: 0o4755, uid: 3_000_000, gid: 70_000_000, mtimeSec: 1_700_000_000, mtimeNsec: 5, data: 'hello', xattrs: new Map([['user.x', Buffer.from([0, 1, 2])]]) },
      { name: `${'long/'.repeat(60)}name`, type: 'file', data: 'deep' },
      { name: 'ln', type: 'symlink', linkname: `${'t'.repeat(150)}` },
      { name: 'dev', type: 'block', devmajor: 259, devminor: 1_048_575 },
    ];
    for (const chunk of [1, 7, 512, 100_000]) {
      const got = await readAll(tarBuffer(entries), chunk);
      assert.equal(got.length, entries.length);
      const file = got[1]!.e!;
      assert.deepEqual([file.name, file.mode, file.uid, file.gid, file.mtimeSec, file.mtimeNsec, got[1]!.data], ['a/file', 0o4755, 3_000_000, 70_000_000, 1_700_000_000, 5, 'hello']);
      assert.deepEqual(file.xattrs.get('user.x'), Buffer.from([0, 1, 2]));
      assert.equal(got[0]!.e!.mode, 0o1777);
      assert.equal(got[2]!.e!.name, entries[2]!.name);
      assert.equal(got[3]!.e!.linkname, 't'.repeat(150));
      assert.deepEqual([got[4]!.e!.devmajor, got[4]!.e!.devminor], [259, 1_048_575]);
    }
  });

  it('reads what GNU tar writes (GNU long names), and GNU tar reads what berth writes', async () => {
    const long = `${'x'.repeat(120)}/${'y'.repeat(120)}`;
    const ours = tarBuffer([{ name: `${long}/`, type: 'dir' }, { name: `${long}/f`, type: 'file', data: 'gnu reads this' }]);
    const list = spawnSync('tar', ['-tvf', '-'], { input: ours, encoding: 'utf8' });
    assert.equal(list.status, 0, list.stderr);
    assert.match(list.stdout, /yyyy\/f/);
    const dir = spawnSync('mktemp', ['-d'], { encoding: 'utf8' }).stdout.trim();
    spawnSync('mkdir', ['-p', `${dir}/${long}`]);
    spawnSync('sh', ['-c', `printf data > "${dir}/${long}/g"`]);
    const gnu = spawnSync('tar', ['--format=gnu', '-C', dir, '-cf', '-', '.'], { maxBuffer: 1 << 24 }).stdout;
    spawnSync('rm', ['-rf', dir]);
    const got = await readAll(gnu, 333);
    assert.ok(got.some((g) => g.e!.name === `./${long}/g` && g.data === 'data'), got.map((g) => g.e!.name).join(' '));
  });

  it('ignores a PAX global header, ends at the zero blocks, and says what is wrong with a broken stream', async () => {
    const plain = tarBuffer([{ name: 'f', type: 'file', data: 'x' }]);
    const global = tarBuffer([{ name: 'pax_global_header', type: 'file', data: '22 comment=abcdefghi\n' }]).subarray(0, 1024);
    global[156] = 'g'.charCodeAt(0);
    global.fill(0x20, 148, 156);
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += global[i]!;
    global.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
    const got = await readAll(Buffer.concat([global, plain]));
    assert.deepEqual(got.map((g) => g.e!.name), ['f']);
    await assert.rejects(readAll(plain.subarray(0, 600)), /truncated/);
    const bad = Buffer.from(plain);
    bad[156] = 'S'.charCodeAt(0);
    await assert.rejects(readAll(bad), /checksum|sparse/);
    await assert.rejects(readAll(Buffer.alloc(512, 0x41)), /checksum/);
  });

  it('bounds entries and extended headers', async () => {
    const many = tarBuffer(Array.from({ length: 10 }, (_, i) => ({ name: `f${i}`, type: 'file' as const, data: '' })));
    await assert.rejects(async () => {
      const r = new TarReader(chunked(many, 512), { maxEntries: 5 });
      while (await r.next());
    }, /more than 5 entries/);
  });
});

describe('layer name policy', () => {
  it('cleans names and refuses those that climb out', () => {
    assert.equal(cleanName('./a//b/./c/'), 'a/b/c');
    assert.equal(cleanName('/etc/passwd'), 'etc/passwd');
    assert.equal(cleanName('a/b/../c'), 'a/c');
    assert.equal(cleanName('./'), '');
    for (const bad of ['..', '../x', 'a/../../x', '/../x']) assert.throws(() => cleanName(bad), /outside the root/, bad);
    assert.throws(() => cleanName('a\0b'), /NUL/);
  });

  it('classifies whiteouts', () => {
    assert.deepEqual(classifyWhiteout('etc/.wh.passwd'), { kind: 'whiteout', path: 'etc/passwd' });
    assert.deepEqual(classifyWhiteout('.wh.top'), { kind: 'whiteout', path: 'top' });
    assert.deepEqual(classifyWhiteout('opt/.wh..wh..opq'), { kind: 'opaque', dir: 'opt' });
    assert.deepEqual(classifyWhiteout('.wh..wh..opq'), { kind: 'opaque', dir: '' });
    assert.deepEqual(classifyWhiteout('x/.wh..wh.plnk'), { kind: 'skip' });
    assert.deepEqual(classifyWhiteout('x/file.wh.not'), { kind: 'none' });
    for (const bad of ['d/.wh.', 'd/.wh..', 'd/.wh...']) assert.throws(() => classifyWhiteout(bad), /invalid whiteout name/, bad);
  });
});

describe('RwLock', () => {
  it('runs readers together and a writer alone, without starving the writer', async () => {
    const lock = new RwLock();
    const log: string[] = [];
    const tick = () => new Promise((r) => setTimeout(r, 5));
    const reader = (n: string) => lock.read(async () => { log.push(`${n}+`); await tick(); log.push(`${n}-`); });
    const writer = (n: string) => lock.write(async () => { log.push(`${n}+`); await tick(); log.push(`${n}-`); });
    await Promise.all([reader('r1'), reader('r2'), writer('w'), reader('r3')]);
    assert.deepEqual(log.slice(0, 2).sort(), ['r1+', 'r2+']);
    const w = log.indexOf('w+');
    assert.ok(w > log.indexOf('r1-') && w > log.indexOf('r2-') && log[w + 1] === 'w-', log.join(' '));
    assert.ok(log.indexOf('r3+') > log.indexOf('w-'), 'a reader that came after a waiting writer waits for it');
  });
});
