// The content store: verified commits, resumable ingests, locks that survive a
// killed holder, labels, leases, gc (and its race with commit), check, ENOSPC.

import { strict as assert } from 'node:assert';
import { test, type TestContext } from 'node:test';
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { ContentStore } from '../../src/content/store.js';
import { digestOf, type Digest } from '../../src/util/digest.js';
import { isBerthError, type ErrorCode } from '../../src/util/errors.js';

const STORE_JS = fileURLToPath(new URL('../../src/content/store.js', import.meta.url));
const isRoot = process.getuid?.() === 0;

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'berth-content-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function newStore(t: TestContext): Promise<ContentStore> {
  const store = new ContentStore(join(tempDir(t), 'content'));
  await store.init();
  return store;
}

function code(c: ErrorCode, message?: RegExp): (err: unknown) => boolean {
  return (err) => {
    assert.ok(isBerthError(err, c), `expected ${c}, got ${String(err)}`);
    if (message) assert.match(err.message, message);
    return true;
  };
}

/** Files under dir (recursive): relative path → "mode size mtime sha256". */
function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const st = lstatSync(p);
      const rel = relative(dir, p);
      if (st.isDirectory()) {
        out.set(rel, `dir ${st.mode.toString(8)}`);
        walk(p);
      } else {
        const hash = st.isFile() ? createHash('sha256').update(readFileSync(p)).digest('hex') : '';
        out.set(rel, `${st.mode.toString(8)} ${st.size} ${st.mtimeMs} ${hash}`);
      }
    }
  };
  walk(dir);
  return out;
}

const filesIn = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir) : []);

test('write and read round trip', async (t) => {
  const store = await newStore(t);
  const data = Buffer.from('hello, berth\n');
  const digest = await store.writeBlob(data);
  assert.equal(digest, digestOf(data));
  assert.deepEqual(await store.readBlob(digest, 1024), data);
  assert.equal(await store.has(digest), true);
  const info = await store.info(digest);
  assert.equal(info?.size, data.length);
  assert.deepEqual(info?.labels, {});
  assert.equal(lstatSync(store.blobPath(digest)).mode & 0o777, 0o444);

  const chunks: Buffer[] = [];
  for await (const c of await store.createReadStream(digest, { start: 7, end: 11 })) chunks.push(c as Buffer);
  assert.equal(Buffer.concat(chunks).toString(), 'berth');

  const walked: Digest[] = [];
  for await (const b of store.walk()) walked.push(b.digest);
  assert.deepEqual(walked, [digest]);
  assert.deepEqual(filesIn(join(store.root, 'ingest')), []);

  await assert.rejects(store.readBlob(digest, 5), code('InvalidArgument', /more than the limit of 5/));
  const absent = digestOf('absent');
  await assert.rejects(store.readBlob(absent, 10), code('NotFound'));
  await assert.rejects(store.createReadStream(absent), code('NotFound'));
  assert.equal(await store.info(absent), undefined);
});

test('sha512 digests are accepted', async (t) => {
  const store = await newStore(t);
  const data = randomBytes(1000);
  const want = digestOf(data, 'sha512');
  assert.equal(await store.writeBlob(data, { digest: want }), want);
  assert.ok(store.blobPath(want).includes(join('blobs', 'sha512')));
  assert.deepEqual(await store.readBlob(want, 2000), data);
  assert.deepEqual(await store.verify(want), { ok: true });

  const w = await store.openWriter('sha512-stream', { expected: { digest: want } });
  await w.write(data);
  assert.equal(w.digest(), want);
  assert.equal(await w.commit(), want);
});

test('a digest or size mismatch leaves nothing in blobs and no ingest', async (t) => {
  const store = await newStore(t);
  const data = Buffer.from('the real bytes');
  const wrong = digestOf('other bytes');
  await assert.rejects(store.writeBlob(data, { digest: wrong }), code('InvalidArgument', /digest mismatch/));
  await assert.rejects(store.writeBlob(data, { size: 3 }), code('InvalidArgument', /size mismatch/));

  const w = await store.openWriter('layer-bad', { expected: { digest: wrong } });
  await w.write(data);
  await assert.rejects(w.commit(), code('InvalidArgument', new RegExp(`digest mismatch for layer-bad: expected ${wrong}, got ${digestOf(data)}`)));
  await assert.rejects(w.write(data), code('Conflict', /aborted/));

  const w2 = await store.openWriter('layer-size', { expected: { size: 4 } });
  await assert.rejects(w2.write(data), code('InvalidArgument', /more than the expected 4 bytes/));

  const w3 = await store.openWriter('layer-commit-size');
  await w3.write(data);
  await assert.rejects(w3.commit({ size: data.length + 1 }), code('InvalidArgument', /size mismatch for layer-commit-size/));

  await assert.rejects(store.ingestStream('stream-bad', Readable.from([data]), { digest: wrong }), code('InvalidArgument', /digest mismatch/));

  assert.deepEqual(filesIn(join(store.root, 'blobs/sha256')), []);
  assert.deepEqual(filesIn(join(store.root, 'ingest')), []);
  assert.deepEqual(await store.listIngests(), []);
});

test('an ingest resumes after close', async (t) => {
  const store = await newStore(t);
  const data = randomBytes(300_000);
  const digest = digestOf(data);
  const half = 123_457;
  const w = await store.openWriter('layer-resume', { expected: { digest, size: data.length } });
  await w.write(data.subarray(0, half));
  await w.close();

  const [status] = await store.listIngests();
  assert.equal(status?.ref, 'layer-resume');
  assert.equal(status?.offset, half);
  assert.deepEqual(status?.expected, { digest, size: data.length });
  assert.equal(status?.lockedBy, undefined);

  const again = await store.openWriter('layer-resume', { expected: { digest } });
  assert.equal(again.offset, half);
  assert.equal(again.digest(), digestOf(data.subarray(0, half)));
  await again.write(data.subarray(half));
  assert.equal(await again.commit(), digest);
  assert.deepEqual(await store.readBlob(digest, data.length), data);
  assert.deepEqual(await store.listIngests(), []);

  // Expecting different content under the same ref starts over rather than trusting old bytes.
  const w3 = await store.openWriter('layer-other', { expected: { digest: digestOf('a') } });
  await w3.write(Buffer.from('xyz'));
  await w3.close();
  const w4 = await store.openWriter('layer-other', { expected: { digest: digestOf('b') } });
  assert.equal(w4.offset, 0);
  await w4.abort();
});

test('an ingest resumes after its writer was SIGKILLed, and the dead lock does not block', async (t) => {
  const store = await newStore(t);
  const data = randomBytes(200_000);
  const digest = digestOf(data);
  const half = 77_777;
  const script = `
    const { ContentStore } = await import(${JSON.stringify(STORE_JS)});
    const store = new ContentStore(${JSON.stringify(store.root)});
    const w = await store.openWriter('layer-killed', { expected: { digest: ${JSON.stringify(digest)}, size: ${data.length} } });
    const { readFileSync } = await import('node:fs');
    const data = readFileSync(${JSON.stringify(join(store.root, '..', 'payload'))});
    await w.write(data.subarray(0, ${half}));
    process.kill(process.pid, 'SIGKILL');
  `;
  writeFileSync(join(store.root, '..', 'payload'), data);
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(child.signal, 'SIGKILL', `${String(child.error ?? '')} ${child.stderr}`);

  const [status] = await store.listIngests();
  assert.equal(status?.offset, half);
  assert.equal(status?.lockedBy, undefined, 'a dead pid does not hold the ref');
  assert.equal(filesIn(join(store.root, 'locks')).length, 1, 'the killed writer left its lock file');

  const w = await store.openWriter('layer-killed', { expected: { digest, size: data.length } });
  assert.equal(w.offset, half);
  await w.write(data.subarray(half));
  assert.equal(await w.commit(), digest);
  assert.deepEqual(await store.readBlob(digest, data.length), data);
  assert.deepEqual(filesIn(join(store.root, 'locks')), []);
});

test('a lock whose pid was reused by another process is stale', async (t) => {
  const store = await newStore(t);
  const w = await store.openWriter('layer-reuse');
  const lockFile = filesIn(join(store.root, 'locks')).find((n) => n.endsWith('.lock'));
  assert.ok(lockFile);
  await w.close();
  // Our own pid, but another start time: the process that wrote this lock is gone.
  writeFileSync(join(store.root, 'locks', lockFile), `${process.pid} 1 0123abcd\n`);
  const again = await store.openWriter('layer-reuse');
  await again.abort();
});

test('concurrent writers of one ref: Conflict, or wait until the first commits', async (t) => {
  const store = await newStore(t);
  const data = Buffer.from('shared layer');
  const first = await store.openWriter('layer-shared');
  await assert.rejects(store.openWriter('layer-shared'), code('Conflict', new RegExp(`ref layer-shared is in progress \\(locked by pid ${process.pid}\\)`)));
  await assert.rejects(store.abortIngest('layer-shared'), code('Conflict'));

  let opened = false;
  const second = store.openWriter('layer-shared', { wait: true }).then((w) => {
    opened = true;
    return w;
  });
  await first.write(data);
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(opened, false, 'the waiter must not get the ref while the first holds it');
  const digest = await first.commit();

  const w2 = await second;
  assert.equal(w2.offset, 0, 'a committed ingest is gone; the waiter starts fresh');
  await w2.write(data);
  assert.equal(await w2.commit(), digest);

  const ac = new AbortController();
  const held = await store.openWriter('layer-cancel');
  const waiting = store.openWriter('layer-cancel', { wait: true, signal: ac.signal });
  ac.abort();
  await assert.rejects(waiting, { name: 'AbortError' });
  await held.abort();
});

test('committing an existing blob is not an error', async (t) => {
  const store = await newStore(t);
  const data = Buffer.from('twice');
  const d1 = await store.writeBlob(data);
  const before = lstatSync(store.blobPath(d1));
  const w = await store.openWriter('again');
  await w.write(data);
  assert.equal(await w.commit({ labels: { 'berth.test': 'yes' } }), d1);
  const after = lstatSync(store.blobPath(d1));
  assert.equal(after.ino, before.ino, 'the existing blob is kept');
  assert.deepEqual((await store.info(d1))?.labels, { 'berth.test': 'yes' });
  assert.equal(await store.writeBlob(data, { digest: d1 }, { 'berth.more': '1' }), d1);
  assert.deepEqual((await store.info(d1))?.labels, { 'berth.test': 'yes', 'berth.more': '1' });
  const r = await store.ingestStream('again-stream', Readable.from([data]), { digest: d1 });
  assert.deepEqual(r, { digest: d1, size: data.length });
  assert.deepEqual(filesIn(join(store.root, 'ingest')), []);
});

test('labels: set, replace, validate', async (t) => {
  const store = await newStore(t);
  const layer = await store.writeBlob(Buffer.from('layer'));
  const manifest = await store.writeBlob(Buffer.from('manifest'), undefined, { 'berth.gc.ref.content.l.0': layer });
  assert.deepEqual((await store.info(manifest))?.labels, { 'berth.gc.ref.content.l.0': layer });
  await store.setLabels(manifest, { a: '1' });
  assert.deepEqual((await store.info(manifest))?.labels, { a: '1' });
  await store.setLabels(manifest, {});
  assert.deepEqual((await store.info(manifest))?.labels, {});
  assert.equal(existsSync(join(store.root, 'meta/sha256', `${manifest.slice(7)}.json`)), false);
  await assert.rejects(store.setLabels(manifest, { 'berth.gc.ref.content.x': 'not-a-digest' }), code('InvalidArgument', /must name a digest/));
  await assert.rejects(store.setLabels(manifest, { big: 'x'.repeat(5000) }), code('InvalidArgument'));
  await assert.rejects(store.setLabels(digestOf('nope'), { a: '1' }), code('NotFound'));
  await store.setLabels(manifest, JSON.parse('{"__proto__": "x", "b": "y"}') as Record<string, string>);
  assert.deepEqual(Object.keys((await store.info(manifest))?.labels ?? {}), ['__proto__', 'b']);
});

test('leases protect blobs from gc until deleted or expired', async (t) => {
  const store = await newStore(t);
  const a = await store.writeBlob(Buffer.from('a'));
  const b = await store.writeBlob(Buffer.from('b'));
  const c = await store.writeBlob(Buffer.from('c'));
  await store.createLease('pull-1', { labels: { who: 'test' } });
  await assert.rejects(store.createLease('pull-1'), code('Conflict'));
  await store.addLeaseResource('pull-1', a);
  await store.createLease('old', { expiresAt: new Date(Date.now() - 1000) });
  await store.addLeaseResource('old', b);
  // A commit can join a lease in the step that creates the blob.
  const d = await store.writeBlob(Buffer.from('d'), undefined, undefined, { lease: 'pull-1' });
  await assert.rejects(store.writeBlob(Buffer.from('e'), undefined, undefined, { lease: 'missing' }), code('NotFound'));
  assert.deepEqual((await store.listLeases()).find((l) => l.id === 'pull-1')?.resources, [a, d]);
  assert.deepEqual(await store.listIngests(), [], 'a failed writeBlob leaves no ingest');

  const r1 = await store.gc({ roots: [] });
  assert.deepEqual(new Set(r1.removed), new Set([b, c]));
  assert.equal(await store.has(a), true);
  assert.equal(await store.has(d), true);
  assert.deepEqual((await store.listLeases()).map((l) => l.id), ['pull-1'], 'gc drops expired leases');

  await store.deleteLease('pull-1');
  await assert.rejects(store.deleteLease('pull-1'), code('NotFound'));
  await assert.rejects(store.createLease('../x'), code('InvalidArgument'));
  const r2 = await store.gc({ roots: [] });
  assert.deepEqual(new Set(r2.removed), new Set([a, d]));
});

test('gc follows gc.ref labels transitively and keeps gc.root blobs', async (t) => {
  const store = await newStore(t);
  const layer1 = await store.writeBlob(Buffer.from('layer1'));
  const layer2 = await store.writeBlob(Buffer.from('layer2'));
  const config = await store.writeBlob(Buffer.from('config'));
  const manifest = await store.writeBlob(Buffer.from('manifest'), undefined, {
    'berth.gc.ref.content.config': config,
    'berth.gc.ref.content.l.0': layer1,
    'berth.gc.ref.content.l.1': layer2,
  });
  const index = await store.writeBlob(Buffer.from('index'), undefined, { 'berth.gc.ref.content.m.0': manifest });
  const pinned = await store.writeBlob(Buffer.from('pinned'), undefined, { 'berth.gc.root': '' });
  const loose = await store.writeBlob(Buffer.from('loose'), undefined, { a: 'b' });

  const dry = await store.gc({ roots: [index], dryRun: true });
  assert.deepEqual(dry, { removed: [loose], bytes: 5 });
  assert.equal(await store.has(loose), true, 'dry run removes nothing');

  const r = await store.gc({ roots: [index] });
  assert.deepEqual(r.removed, [loose]);
  assert.equal(existsSync(join(store.root, 'meta/sha256', `${loose.slice(7)}.json`)), false, 'its labels go too');
  for (const d of [index, manifest, config, layer1, layer2, pinned]) assert.equal(await store.has(d), true);

  const r2 = await store.gc({ roots: [] });
  assert.deepEqual(new Set(r2.removed), new Set([index, manifest, config, layer1, layer2]));
  assert.equal(await store.has(pinned), true);
  await assert.rejects(store.gc({ roots: ['sha256:nope'] }), code('InvalidArgument'));
});

test('gc and commit: a blob committed while gc runs survives, labels never race the sweep', async (t) => {
  const store = await newStore(t);
  const other = new ContentStore(store.root); // a second handle, as another process would have
  for (let i = 0; i < 60; i++) await store.writeBlob(Buffer.from(`garbage ${i}`));

  // Commit while gc holds the store lock: the commit waits, so the sweep cannot see it.
  const data = Buffer.from('committed during gc');
  const w = await other.openWriter('during-gc');
  await w.write(data);
  const gcRun = store.gc({ roots: [] });
  const lockFile = join(store.root, 'locks/store.lock');
  let gcDone = false;
  void gcRun.then(() => (gcDone = true));
  // The lock is a symlink to its owner record (a dangling one), so lstat, not existsSync.
  const locked = (): boolean => lstatSync(lockFile, { throwIfNoEntry: false }) !== undefined;
  while (!locked() && !gcDone) await new Promise((r) => setImmediate(r));
  const [result, digest] = await Promise.all([gcRun, w.commit()]);
  assert.equal(result.removed.length, 60);
  assert.ok(!result.removed.includes(digest));
  assert.equal(await store.has(digest), true);

  // A root-labelled blob must survive any interleaving of its commit with gc.
  for (let i = 0; i < 15; i++) {
    await store.writeBlob(Buffer.from(`junk ${i}`));
    const [, kept] = await Promise.all([
      store.gc({ roots: [] }),
      other.writeBlob(Buffer.from(`keep ${i}`), undefined, { 'berth.gc.root': 'yes' }),
      store.gc({ roots: [] }),
    ]);
    assert.equal(await store.has(kept), true, `iteration ${i}`);
  }
  assert.deepEqual(filesIn(join(store.root, 'locks')), []);
});

test('check finds a corrupted blob and changes nothing', async (t) => {
  const store = await newStore(t);
  const good = await store.writeBlob(Buffer.from('good content'));
  const bad = await store.writeBlob(Buffer.from('soon corrupted'), undefined, { 'berth.gc.ref.content': good });
  await store.createLease('l1', { expiresAt: new Date(Date.now() - 1) });
  const w = await store.openWriter('left-behind');
  await w.write(Buffer.from('partial'));
  await w.close();

  const path = store.blobPath(bad);
  chmodSync(path, 0o644);
  const bytes = readFileSync(path);
  bytes[0] = bytes[0]! ^ 0xff;
  writeFileSync(path, bytes);
  chmodSync(path, 0o444);
  writeFileSync(join(store.root, 'blobs/sha256/not-a-digest'), 'x');
  writeFileSync(join(store.root, 'meta/sha256', `${digestOf('gone').slice(7)}.json`), '{"labels":{"a":"b"}}');

  const before = snapshot(store.root);
  const problems = await store.check();
  assert.deepEqual(snapshot(store.root), before, 'check must not change the store');

  const corrupt = problems.find((p) => p.digest === bad && p.severity === 'error');
  assert.match(corrupt?.message ?? '', /content hashes to sha256:/);
  assert.ok(problems.some((p) => p.severity === 'error' && p.path === 'blobs/sha256/not-a-digest'));
  assert.ok(problems.some((p) => p.severity === 'warning' && p.digest === digestOf('gone')));
  assert.ok(problems.some((p) => p.severity === 'info' && /stale ingest "left-behind": 7 bytes/.test(p.message)));
  assert.ok(problems.some((p) => p.severity === 'info' && /lease l1 expired/.test(p.message)));
  assert.ok(!problems.some((p) => p.digest === good), JSON.stringify(problems));

  assert.deepEqual(await store.verify(good), { ok: true });
  const v = await store.verify(bad);
  assert.equal(v.ok, false);
  await assert.rejects(store.readBlob(bad, 100), code('Internal', /corrupt/));
});

test('invalid digests, refs and ids are rejected before they touch a path', async (t) => {
  // The root does not exist: any operation that reached the disk would fail with something else.
  const root = join(tempDir(t), 'never-created');
  const store = new ContentStore(root);
  const bad = [
    'sha256:../../etc', 'sha256:../../../../etc/passwd', `sha256:${'A'.repeat(64)}`, `sha256:${'a'.repeat(63)}`,
    `sha512:${'a'.repeat(64)}`, `md5:${'a'.repeat(32)}`, '', `sha256:${'a'.repeat(64)}/x`, `sha256:${'a'.repeat(64)}\0`,
  ];
  const invalid = code('InvalidArgument');
  for (const d of bad) {
    assert.throws(() => store.blobPath(d), invalid);
    await assert.rejects(store.info(d), invalid);
    await assert.rejects(store.has(d), invalid);
    await assert.rejects(store.readBlob(d, 10), invalid);
    await assert.rejects(store.createReadStream(d), invalid);
    await assert.rejects(store.delete(d), invalid);
    await assert.rejects(store.setLabels(d, {}), invalid);
    await assert.rejects(store.verify(d), invalid);
    await assert.rejects(store.addLeaseResource('l', d), invalid);
    await assert.rejects(store.gc({ roots: [d] }), invalid);
    await assert.rejects(store.writeBlob(Buffer.from('x'), { digest: d }), invalid);
    await assert.rejects(store.openWriter('r', { expected: { digest: d } }), invalid);
  }
  await assert.rejects(store.openWriter('bad\0ref'), code('InvalidArgument', /NUL/));
  await assert.rejects(store.openWriter(''), invalid);
  await assert.rejects(store.openWriter('r', { expected: { size: -1 } }), invalid);
  await assert.rejects(store.abortIngest('x\0'), invalid);
  await assert.rejects(store.createLease('a/b'), invalid);
  await assert.rejects(store.readBlob(digestOf('x'), -1), invalid);
  assert.equal(existsSync(root), false);
});

test('ingestStream: a failing source leaves a resumable ingest; a function source resumes at the offset', async (t) => {
  const store = await newStore(t);
  const data = randomBytes(100_000);
  const digest = digestOf(data);
  async function* broken(): AsyncGenerator<Buffer> {
    yield data.subarray(0, 40_000);
    throw new Error('connection reset');
  }
  await assert.rejects(store.ingestStream('layer-net', broken(), { digest, size: data.length }), /connection reset/);
  assert.equal((await store.listIngests())[0]?.offset, 40_000);

  const offsets: number[] = [];
  const res = await store.ingestStream(
    'layer-net',
    (offset) => {
      offsets.push(offset);
      return Readable.from([data.subarray(offset, 70_000), data.subarray(70_000)]);
    },
    { digest, size: data.length },
    { labels: { 'berth.gc.root': '1' } },
  );
  assert.deepEqual(offsets, [40_000]);
  assert.deepEqual(res, { digest, size: data.length });
  assert.deepEqual((await store.info(digest))?.labels, { 'berth.gc.root': '1' });

  // A plain stream starts at 0, so a leftover ingest of the same ref is restarted, not appended to.
  const other = randomBytes(5000);
  await assert.rejects(store.ingestStream('layer-plain', broken(), {}), /connection reset/);
  const r2 = await store.ingestStream('layer-plain', Readable.from([other]));
  assert.deepEqual(r2, { digest: digestOf(other), size: other.length });
});

test('listIngests, abortIngest and cleanIngests', async (t) => {
  const store = await newStore(t);
  const held = await store.openWriter('held');
  await held.write(Buffer.from('1'));
  const idle = await store.openWriter('idle');
  await idle.write(Buffer.from('22'));
  await idle.close();
  const gone = await store.openWriter('gone');
  await gone.close();

  const list = await store.listIngests();
  assert.deepEqual(list.map((s) => [s.ref, s.offset, s.lockedBy]).sort(), [['gone', 0, undefined], ['held', 1, process.pid], ['idle', 2, undefined]]);
  await store.abortIngest('gone');
  await assert.rejects(store.abortIngest('gone'), code('NotFound'));
  assert.deepEqual(await store.cleanIngests(60_000), [], 'nothing is old enough');
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(await store.cleanIngests(0), ['idle'], 'the held ingest is skipped');
  assert.deepEqual((await store.listIngests()).map((s) => s.ref), ['held']);
  await held.abort();
  assert.deepEqual(await store.listIngests(), []);

  // A lock left by a killed writer whose ingest is gone is swept too.
  const dead = spawnSync(process.execPath, ['-e', '']).pid;
  const ghost = join(store.root, 'locks', `ingest-${createHash('sha256').update('ghost').digest('hex')}.lock`);
  writeFileSync(ghost, `${dead} 1 00ff\n`);
  await store.cleanIngests(60_000);
  assert.equal(existsSync(ghost), false);
});

test('delete removes a blob and its labels', async (t) => {
  const store = await newStore(t);
  const d = await store.writeBlob(Buffer.from('bye'), undefined, { a: 'b' });
  await store.delete(d);
  assert.equal(await store.has(d), false);
  assert.deepEqual(filesIn(join(store.root, 'meta/sha256')), []);
  await assert.rejects(store.delete(d), code('NotFound'));
});

test('a full disk: Unavailable, no blob, no ingest', { skip: isRoot ? false : 'needs root to mount a tmpfs' }, async (t) => {
  const mnt = mkdtempSync(join(tmpdir(), 'berth-content-enospc-'));
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mnt]);
  t.after(() => {
    if (mounted.status === 0) spawnSync('umount', [mnt]);
    rmSync(mnt, { recursive: true, force: true });
  });
  if (mounted.status !== 0) {
    t.skip(`cannot mount a tmpfs: ${mounted.stderr.toString().trim()}`);
    return;
  }
  const store = new ContentStore(join(mnt, 'content'));
  await store.init();
  const big = randomBytes(256 * 1024);
  await assert.rejects(store.writeBlob(big), code('Unavailable', /no space left on device while writing write-sha256:/));
  const w = await store.openWriter('layer-big');
  await assert.rejects(
    (async () => {
      for (let off = 0; off < big.length; off += 16 * 1024) await w.write(big.subarray(off, off + 16 * 1024));
    })(),
    code('Unavailable', /no space left on device while writing layer-big/),
  );
  await assert.rejects(store.ingestStream('layer-stream', Readable.from([big])), code('Unavailable'));
  assert.deepEqual(filesIn(join(store.root, 'blobs/sha256')), []);
  assert.deepEqual(filesIn(join(store.root, 'ingest')), []);
  assert.deepEqual(filesIn(join(store.root, 'locks')), []);
  // The space came back with the ingests.
  const small = Buffer.from('still works');
  assert.equal(await store.writeBlob(small), digestOf(small));
});
