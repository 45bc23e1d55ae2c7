// Robustness of the image store (issue 3), for both snapshotters where it matters:
// - SIGKILL at many points of import, load, commit and remove (a child process doing the operation
//   on the store, killed at fractions of the time the operation takes): the reopened store
//   has no "corrupt:" problem, every surviving image resolves and its rootfs mounts with a
//   known file, and repeating the operation succeeds with the expected result;
// - a full disk (a small tmpfs data root) gives an Unavailable "no space" error and no half
//   image, and the store works afterwards;
// - invalid input (truncated tar, wrong digest, unknown media type, malformed JSON, invalid
//   references, ambiguous ID prefixes) is refused with an error naming the problem.
import { describe, it, before, after, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, createReadStream, createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, statfsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { gzipSync } from 'node:zlib';
import { loadImages } from '../../src/images/archive/load.js';
import { saveImages } from '../../src/images/archive/save.js';
import { createImage, storeLayer, writeManifest } from '../../src/images/create.js';
import { commitSnapshot, importImage } from '../../src/images/import.js';
import { removeImage } from '../../src/images/remove.js';
import { ImageStore, type ImageRecord } from '../../src/images/store.js';
import { tarBuffer, type WriteEntry } from '../../src/images/tar/writer.js';
import { MediaTypes, chainIds, hostPlatform, type Descriptor } from '../../src/oci/image-spec.js';
import { mountAll, unmount } from '../../src/snapshots/mount.js';
import { writableDir } from '../../src/snapshots/snapshotter.js';
import type { Digest } from '../../src/util/digest.js';
import { isBerthError, type ErrorCode } from '../../src/util/errors.js';
import { unmountUnder } from '../helpers/snapshotter-suite.js';
import { isRoot } from '../helpers/runtime.js';

type Driver = 'overlay' | 'native';
type Member = WriteEntry & { data?: Buffer | string };

const DRIVERS: Driver[] = ['overlay', 'native'];
const skip = isRoot ? false : 'needs root (mounts)';
const tmpBase = isRoot ? mkdtempSync('/var/tmp/berth-robust-') : '/nonexistent';
after(async () => {
  if (!isRoot) return;
  await unmountUnder(tmpBase);
  rmSync(tmpBase, { recursive: true, force: true });
});

const MiB = 1024 * 1024;
/** Where, as fractions of the uninterrupted operation's duration, the child is killed. */
const KILL_AT = [0, 0.2, 0.45, 0.75];
/** How many of them must land before the operation finished, for the run to prove anything. */
const MIN_INTERRUPTED = 2;

async function* once(b: Buffer): AsyncGenerator<Buffer> {
  yield b;
}

/** A layer tar: `marker` holding `marker`, and `count` files of `size` random bytes under `prefix/`. */
function filesTar(prefix: string, count: number, size: number, marker: string): Buffer {
  const members: Member[] = [{ name: 'marker', type: 'file', data: marker }, { name: `${prefix}/`, type: 'dir' }];
  for (let d = 0; d < Math.min(16, count); d++) members.push({ name: `${prefix}/d${d}/`, type: 'dir' });
  for (let i = 0; i < count; i++) members.push({ name: `${prefix}/d${i % 16}/f${i}`, type: 'file', data: randomBytes(size) });
  return tarBuffer(members);
}

/** A fresh directory under tmpBase for one test: unmounted below and removed after it, even on failure. */
function testDir(t: TestContext, name: string): string {
  const dir = mkdtempSync(join(tmpBase, `${name}-`));
  mkdirSync(join(dir, 'tmp'));
  mkdirSync(join(dir, 'mnt'));
  t.after(async () => {
    await unmountUnder(dir);
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

async function withStore<T>(root: string, driver: Driver, fn: (s: ImageStore) => Promise<T>): Promise<T> {
  const s = await ImageStore.open({ root, snapshotter: driver });
  try {
    return await fn(s);
  } finally {
    await s.close();
  }
}

/** check(): nothing but leftovers; returns the leftovers. */
async function assertConsistent(s: ImageStore, what: string): Promise<string[]> {
  const problems = await s.check();
  assert.deepEqual(problems.filter((p) => !p.startsWith('leftover:')), [], `${what}: the check found:\n${problems.join('\n')}`);
  return problems;
}

/** Prepare a container rootfs from the image, mount it, read files, unmount, drop the snapshot. */
async function readRootfs(s: ImageStore, img: ImageRecord, mnt: string, files: string[]): Promise<string[]> {
  const key = `verify-${randomBytes(6).toString('hex')}`;
  const mounts = await s.prepareRootfs(key, img);
  try {
    await mountAll(mounts, mnt);
    try {
      return files.map((f) => readFileSync(join(mnt, f), 'utf8'));
    } finally {
      await unmount(mnt);
    }
  } finally {
    await s.snapshots.remove(key);
  }
}

async function rejectsWith(p: Promise<unknown>, code: ErrorCode, ...res: RegExp[]): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(isBerthError(err, code), `want a BerthError ${code}, got ${String(err)}`);
    for (const re of res) assert.match((err as Error).message, re);
    return true;
  });
}

/** Write config and manifest by hand (config: an object or raw bytes) and make them an image. */
async function addManifest(s: ImageStore, config: object | Buffer, layers: Descriptor[], refs: string[] = []): Promise<ImageRecord> {
  const configBytes = Buffer.isBuffer(config) ? config : Buffer.from(JSON.stringify(config));
  return s.addImage(await writeManifest(s, configBytes, layers), { refs });
}

function configFor(diffIds: string[]): object {
  const p = hostPlatform();
  return { created: '2024-01-01T00:00:00Z', architecture: p.architecture, os: p.os, rootfs: { type: 'layers', diff_ids: diffIds } };
}

/** `base` plus one layer per tar, with a fixed creation time: the same inputs give the same image ID. */
async function layeredImage(s: ImageStore, base: ImageRecord | undefined, tars: Buffer[], refs: string[]): Promise<ImageRecord> {
  const baseDiffIds = base ? (await s.configOf(base)).rootfs.diff_ids : [];
  const layers = base ? [...(await s.manifestOf(base)).layers] : [];
  const diffIds = [...baseDiffIds];
  for (const t of tars) {
    const l = await storeLayer(s, once(t));
    layers.push(l.descriptor);
    diffIds.push(l.diffId);
  }
  return addManifest(s, configFor(diffIds), layers, refs);
}

// ---- the child process that gets killed ----

interface ChildRun {
  finished: boolean;
  /** The operation's duration as the child measured it (when it finished). */
  ms: number | undefined;
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

const moduleUrl = (p: string): string => JSON.stringify(new URL(`../../src/${p}`, import.meta.url).href);

/** A child module: open the store, run setup, print "ready", run op, print "done <ms>". */
function childScript(root: string, driver: Driver, args: unknown, setup: string, op: string): string {
  return `
    import { createReadStream } from 'node:fs';
    import { ImageStore } from ${moduleUrl('images/store.js')};
    import { loadImages } from ${moduleUrl('images/archive/load.js')};
    import { commitSnapshot, importImage } from ${moduleUrl('images/import.js')};
    import { removeImage } from ${moduleUrl('images/remove.js')};
    const args = ${JSON.stringify(args)};
    const store = await ImageStore.open({ root: ${JSON.stringify(root)}, snapshotter: ${JSON.stringify(driver)} });
    ${setup}
    process.stdout.write('ready\\n');
    const t0 = performance.now();
    ${op}
    process.stdout.write('done ' + Math.round(performance.now() - t0) + '\\n');
    await store.close();`;
}

/**
 * Run the script; with killAfterMs, SIGKILL it that long after it printed "ready". TMPDIR
 * points into the test's directory, so temporary mounts a killed child leaves are found
 * and unmounted by the test's cleanup.
 */
function runChild(script: string, tmp: string, killAfterMs?: number, how: 'file' | 'eval' = 'file'): Promise<ChildRun> {
  // A module file by default; 'eval' checks that `node --input-type=module -e` works too
  // (its flag once leaked into the hash worker thread).
  const file = join(tmp, `child-${randomBytes(6).toString('hex')}.mjs`);
  writeFileSync(file, script);
  const argv = how === 'file' ? [file] : ['--input-type=module', '-e', script];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TMPDIR: tmp } });
    let out = '';
    let err = '';
    let timer: NodeJS.Timeout | undefined;
    const guard = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (killAfterMs !== undefined && timer === undefined && out.includes('ready\n')) timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      clearTimeout(guard);
      const m = /done (\d+)/.exec(out);
      resolve({ finished: m !== null, ms: m ? Number(m[1]) : undefined, code, signal, stderr: err });
    });
  });
}

/** The uninterrupted run: it must succeed (else the kill runs would prove nothing); its duration. */
async function calibrate(script: string, tmp: string): Promise<number> {
  const run = await runChild(script, tmp);
  assert.ok(run.finished && run.code === 0, `the child operation failed (code ${run.code}, signal ${run.signal}):\n${run.stderr}`);
  return Math.max(run.ms!, 10);
}

// ---- shared fixtures: a source store with images sharing layers, saved as archives ----

interface Fixture {
  /** a:1, b:1 (a plus a layer) and c:1; about 2 MiB. */
  archive: string;
  /** One image of 5.2 MiB: fits an 8 MiB disk staged, not staged and unpacked. */
  midArchive: string;
  /** One image of 11 MiB. */
  hugeArchive: string;
  ids: Map<string, Digest>;
  markers: Map<string, string>;
}
let fixture: Fixture;

const REF = (name: string): string => `docker.io/library/${name}:1`;

before(async () => {
  if (!isRoot) return;
  const root = join(tmpBase, 'source');
  await withStore(root, 'native', async (s) => {
    const a = await importImage(s, once(filesTar('a', 80, 16 * 1024, 'a')), { ref: 'a:1' });
    await createImage(s, {
      base: await s.configOf(a),
      baseLayers: (await s.manifestOf(a)).layers,
      layer: await storeLayer(s, once(filesTar('b', 40, 16 * 1024, 'b'))),
      history: { created_by: 'layer b' },
      refs: ['b:1'],
    });
    await importImage(s, once(gzipSync(filesTar('c', 30, 32 * 1024, 'c'))), { ref: 'c:1' });
    await importImage(s, once(filesTar('mid', 5, MiB, 'mid')), { ref: 'mid:1' });
    await importImage(s, once(filesTar('huge', 10, 1100 * 1024, 'huge')), { ref: 'huge:1' });
    const archive = join(tmpBase, 'abc.tar');
    const midArchive = join(tmpBase, 'mid.tar');
    const hugeArchive = join(tmpBase, 'huge.tar');
    await pipeline(Readable.from(saveImages(s, ['a:1', 'b:1', 'c:1'])), createWriteStream(archive));
    await pipeline(Readable.from(saveImages(s, ['mid:1'])), createWriteStream(midArchive));
    await pipeline(Readable.from(saveImages(s, ['huge:1'])), createWriteStream(hugeArchive));
    const ids = new Map<string, Digest>();
    for (const n of ['a', 'b', 'c']) ids.set(REF(n), (await s.resolve(`${n}:1`)).id);
    fixture = { archive, midArchive, hugeArchive, ids, markers: new Map([['a', 'a'], ['b', 'b'], ['c', 'c']].map(([n, m]) => [REF(n!), m!])) };
  });
});

/** Every image of the load fixture present resolves by its tag and mounts with its marker. */
async function checkLoadedImages(s: ImageStore, mnt: string, what: string): Promise<number> {
  const images = s.list();
  for (const img of images) {
    assert.equal(img.repoTags.length, 1, `${what}: ${img.id} has tags ${img.repoTags.join(' ')}`);
    const tag = img.repoTags[0]!;
    assert.equal(img.id, fixture.ids.get(tag), `${what}: ${tag}`);
    assert.equal((await s.resolve(tag)).id, img.id);
    assert.deepEqual(await readRootfs(s, img, mnt, ['marker']), [fixture.markers.get(tag)], `${what}: ${tag}'s rootfs`);
  }
  return images.length;
}

for (const driver of DRIVERS) {
  describe(`SIGKILL mid-operation (${driver})`, { skip }, () => {
    it('import of a tarball: consistent after every kill, importing again succeeds', async (t) => {
      const dir = testDir(t, `import-${driver}`);
      const root = join(dir, 'data');
      const mnt = join(dir, 'mnt');
      const tarball = join(dir, 'rootfs.tar');
      writeFileSync(tarball, filesTar('imp', 100, 16 * 1024, 'imp'));
      const script = childScript(root, driver, { tarball }, '', "await importImage(store, createReadStream(args.tarball), { ref: 'imp:1' });");
      const duration = await calibrate(script, join(dir, 'tmp'));
      t.diagnostic(`an uninterrupted import takes ${duration} ms`);
      /** Whatever imports finished are whole; the tagged one is returned. */
      const checkImages = async (s: ImageStore, what: string): Promise<ImageRecord | undefined> => {
        for (const img of s.list()) assert.equal((await readRootfs(s, img, mnt, ['marker', 'imp/d5/f5']))[0], 'imp', what);
        return s.list().find((i) => i.repoTags.includes(REF('imp')));
      };
      const removeAll = async (s: ImageStore): Promise<void> => {
        for (const img of s.list()) await removeImage(s, img.id, { force: true });
      };
      await withStore(root, driver, async (s) => {
        assert.ok(await checkImages(s, 'after the uninterrupted import'));
        await removeAll(s);
      });
      let interrupted = 0;
      for (const f of KILL_AT) {
        const what = `killed ${Math.round(f * duration)} ms into an import`;
        const run = await runChild(script, join(dir, 'tmp'), Math.round(f * duration));
        if (!run.finished) interrupted++;
        await withStore(root, driver, async (s) => {
          await assertConsistent(s, what);
          await checkImages(s, what);
          const img = await importImage(s, createReadStream(tarball), { ref: 'imp:1' });
          assert.equal((await checkImages(s, `${what}, imported again`))?.id, img.id, what);
          await assertConsistent(s, `${what}, imported again`);
          await removeAll(s);
        });
      }
      assert.ok(interrupted >= MIN_INTERRUPTED, `only ${interrupted} of ${KILL_AT.length} kills interrupted the import`);
    });

    it('load of a multi-image archive: consistent after every kill, survivors mount, loading again succeeds', async (t) => {
      const dir = testDir(t, `load-${driver}`);
      const root = join(dir, 'data');
      const mnt = join(dir, 'mnt');
      const script = childScript(root, driver, { archive: fixture.archive }, '', 'await loadImages(store, createReadStream(args.archive));');
      const duration = await calibrate(script, join(dir, 'tmp'));
      t.diagnostic(`an uninterrupted load takes ${duration} ms`);
      const removeAll = async (s: ImageStore): Promise<void> => {
        for (const n of ['a', 'b', 'c']) await removeImage(s, `${n}:1`);
        assert.deepEqual(s.list(), []);
      };
      await withStore(root, driver, async (s) => {
        assert.equal(await checkLoadedImages(s, mnt, 'after the uninterrupted load'), 3);
        await removeAll(s);
      });
      let interrupted = 0;
      const leftovers = new Set<string>();
      for (const f of KILL_AT) {
        const what = `killed ${Math.round(f * duration)} ms into a load`;
        const run = await runChild(script, join(dir, 'tmp'), Math.round(f * duration));
        if (!run.finished) interrupted++;
        await withStore(root, driver, async (s) => {
          for (const p of await assertConsistent(s, what)) leftovers.add(p.replace(/[0-9a-f]{12,}/g, '…'));
          await checkLoadedImages(s, mnt, what);
          const result = await loadImages(s, createReadStream(fixture.archive));
          assert.deepEqual(result.images.map((i) => i.id).sort(), [...fixture.ids.values()].sort(), what);
          assert.equal(await checkLoadedImages(s, mnt, `${what}, loaded again`), 3);
          await assertConsistent(s, `${what}, loaded again`);
          await removeAll(s);
        });
      }
      assert.ok(interrupted >= MIN_INTERRUPTED, `only ${interrupted} of ${KILL_AT.length} kills interrupted the load`);
      if (leftovers.size > 0) t.diagnostic(`leftovers seen: ${[...leftovers].join(' | ')}`);
    });

    it('commit of a container snapshot with many changes: consistent after every kill, committing again succeeds', async (t) => {
      const dir = testDir(t, `commit-${driver}`);
      const root = join(dir, 'data');
      const mnt = join(dir, 'mnt');
      const big = randomBytes(MiB);
      await withStore(root, driver, async (s) => {
        const base = await importImage(s, once(filesTar('base', 40, 1024, 'base')), { ref: 'base:1' });
        const target = writableDir(await s.prepareRootfs('ctr', base));
        writeFileSync(join(target.dir, 'marker'), 'ctr');
        writeFileSync(join(target.dir, 'big'), big);
        for (let d = 0; d < 20; d++) {
          mkdirSync(join(target.dir, `w${d}`));
          for (let i = 0; i < 20; i++) writeFileSync(join(target.dir, `w${d}/f${i}`), `file ${d}/${i}\n`.repeat(60));
        }
      });
      const script = childScript(root, driver, {}, "const img = await store.resolve('base:1');", "await commitSnapshot(store, 'ctr', img, { ref: 'committed:1' });");
      const duration = await calibrate(script, join(dir, 'tmp'));
      t.diagnostic(`an uninterrupted commit takes ${duration} ms`);

      const checkImages = async (s: ImageStore, what: string): Promise<ImageRecord | undefined> => {
        const base = await s.resolve('base:1');
        assert.deepEqual(await readRootfs(s, base, mnt, ['marker']), ['base'], `${what}: the base image`);
        // The container's own layer is untouched by a commit, finished or not.
        const ctr = await s.snapshots.stat('ctr');
        assert.equal(ctr.kind, 'active', what);
        const target = writableDir(await s.snapshots.mounts('ctr'));
        assert.equal(readFileSync(join(target.dir, 'marker'), 'utf8'), 'ctr', what);
        assert.equal(readFileSync(join(target.dir, 'w19/f19'), 'utf8'), 'file 19/19\n'.repeat(60), what);
        assert.equal(statSync(join(target.dir, 'big')).size, big.length);
        // Commits: the tagged one, and one left untagged when a killed commit had finished
        // registering before the commit again took the tag (as `docker commit` twice does).
        const committed = s.list().filter((i) => i.id !== base.id);
        assert.ok(committed.length <= 2, `${what}: ${committed.length} committed images`);
        assert.ok(committed.filter((i) => i.repoTags.length === 0).length <= 1, what);
        for (const img of committed) {
          assert.equal((await s.configOf(img)).rootfs.diff_ids.length, 2, what);
          const [marker, file, lower] = await readRootfs(s, img, mnt, ['marker', 'w7/f3', 'base/d0/f0']);
          assert.equal(marker, 'ctr', what);
          assert.equal(file, 'file 7/3\n'.repeat(60), what);
          assert.ok(lower !== undefined && lower.length > 0, what);
        }
        const tagged = committed.filter((i) => i.repoTags.length > 0);
        assert.ok(tagged.length <= 1 && (tagged[0]?.repoTags ?? [REF('committed')]).join() === REF('committed'), what);
        return tagged[0];
      };
      const removeCommitted = async (s: ImageStore): Promise<void> => {
        const base = await s.resolve('base:1');
        for (const img of s.list()) if (img.id !== base.id) await removeImage(s, img.id, { force: true });
      };
      await withStore(root, driver, async (s) => {
        assert.ok(await checkImages(s, 'after the uninterrupted commit'));
        await removeCommitted(s);
      });
      let interrupted = 0;
      for (const f of KILL_AT) {
        const what = `killed ${Math.round(f * duration)} ms into a commit`;
        const run = await runChild(script, join(dir, 'tmp'), Math.round(f * duration));
        if (!run.finished) interrupted++;
        await withStore(root, driver, async (s) => {
          await assertConsistent(s, what);
          await checkImages(s, what);
          const img = await commitSnapshot(s, 'ctr', await s.resolve('base:1'), { ref: 'committed:1' });
          assert.equal((await checkImages(s, `${what}, committed again`))?.id, img.id);
          await assertConsistent(s, `${what}, committed again`);
          await removeCommitted(s);
        });
      }
      assert.ok(interrupted >= MIN_INTERRUPTED, `only ${interrupted} of ${KILL_AT.length} kills interrupted the commit`);
    });

    it('remove of an image sharing layers with another: consistent after every kill, removing again succeeds', async (t) => {
      const dir = testDir(t, `remove-${driver}`);
      const root = join(dir, 'data');
      const mnt = join(dir, 'mnt');
      const upper = Array.from({ length: 3 }, (_, i) => filesTar(`y${i}`, 120, 512, `y${i}`));
      let yId: Digest;
      let yOnlyChains: Digest[];
      let yOnlyBlobs: Digest[];
      await withStore(root, driver, async (s) => {
        const x = await importImage(s, once(filesTar('x', 60, 2048, 'x')), { ref: 'x:1' });
        const y = await layeredImage(s, x, upper, ['y:1']);
        yId = y.id;
        yOnlyChains = chainIds((await s.configOf(y)).rootfs.diff_ids as Digest[]).slice(1);
        const m = await s.manifestOf(y);
        yOnlyBlobs = [y.manifest.digest, m.config.digest as Digest, ...m.layers.slice(1).map((l) => l.digest as Digest)];
      });
      const script = childScript(root, driver, {}, '', "await removeImage(store, 'y:1');");
      const duration = await calibrate(script, join(dir, 'tmp'));
      t.diagnostic(`an uninterrupted remove takes ${duration} ms`);

      /** X intact; Y either whole (resolves and mounts) or gone. */
      const checkImages = async (s: ImageStore, what: string): Promise<boolean> => {
        assert.equal((await readRootfs(s, await s.resolve('x:1'), mnt, ['marker', 'x/d1/f1']))[0], 'x', `${what}: x:1`);
        const y = s.list().find((i) => i.id === yId);
        if (y) assert.equal((await readRootfs(s, y, mnt, ['marker', 'x/d1/f1', 'y0/d3/f3']))[0], 'y2', `${what}: y`);
        assert.equal(s.list().length, y ? 2 : 1, what);
        return y !== undefined;
      };
      const assertYGone = async (s: ImageStore, what: string): Promise<void> => {
        await rejectsWith(s.resolve(yId), 'NotFound');
        await rejectsWith(s.resolve('y:1'), 'NotFound');
        const keys: string[] = [];
        await s.snapshots.walk((i) => void keys.push(i.key));
        for (const c of yOnlyChains) assert.ok(!keys.includes(c), `${what}: snapshot ${c} of the removed image is still there`);
        for (const b of yOnlyBlobs) assert.equal(await s.content.has(b), false, `${what}: blob ${b} of the removed image is still there`);
      };
      const rebuildY = async (s: ImageStore): Promise<void> => {
        const y = await layeredImage(s, await s.resolve('x:1'), upper, ['y:1']);
        assert.equal(y.id, yId, 'the same layers and config give the same image');
      };
      await withStore(root, driver, async (s) => {
        await checkImages(s, 'after the uninterrupted remove');
        await assertYGone(s, 'after the uninterrupted remove');
        await rebuildY(s);
      });
      let interrupted = 0;
      for (const f of KILL_AT) {
        const what = `killed ${Math.round(f * duration)} ms into a remove`;
        const run = await runChild(script, join(dir, 'tmp'), Math.round(f * duration));
        if (!run.finished) interrupted++;
        await withStore(root, driver, async (s) => {
          await assertConsistent(s, what);
          const yThere = await checkImages(s, what);
          // Again, by ID: a kill between untagging and deleting leaves y without its tag.
          if (yThere) assert.deepEqual((await removeImage(s, yId)).at(-1), { Deleted: yId }, what);
          else await s.collectGarbage(); // the record went: what the kill left, gc finishes
          await assertYGone(s, `${what}, removed again`);
          await checkImages(s, `${what}, removed again`);
          await assertConsistent(s, `${what}, removed again`);
          await rebuildY(s);
        });
      }
      assert.ok(interrupted >= MIN_INTERRUPTED, `only ${interrupted} of ${KILL_AT.length} kills interrupted the remove`);
    });
  });
}

// ---- full disk ----

/** A data root on a tmpfs of `size`; unmounted by the test directory's cleanup. */
function smallDisk(t: TestContext, name: string, size: string): { root: string; mnt: string; free: () => number } {
  const dir = testDir(t, name);
  const root = join(dir, 'disk');
  mkdirSync(root);
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', root]);
  const free = (): number => {
    const st = statfsSync(root);
    return st.bavail * st.bsize;
  };
  return { root, mnt: join(dir, 'mnt'), free };
}

const isNoSpace = (err: unknown): boolean => {
  assert.ok(isBerthError(err, 'Unavailable'), `want Unavailable, got ${String(err)}`);
  assert.match((err as Error).message, /no space left on device/i);
  return true;
};

/** After a write that failed for want of space: no image, no snapshot, no lease, nothing corrupt; gc gives the space back; imports work. */
async function nothingLeftBehind(s: ImageStore, disk: { mnt: string; free: () => number }, before: number, what: string): Promise<void> {
  assert.deepEqual(s.list(), [], what);
  const keys: string[] = [];
  await s.snapshots.walk((i) => void keys.push(i.key));
  assert.deepEqual(keys, [], `${what}: snapshots left behind`);
  assert.deepEqual((await s.content.listLeases()).map((l) => l.id), [], `${what}: leases left behind`);
  await assertConsistent(s, what);
  await s.collectGarbage();
  // tmpfs frees a deleted file's pages when its last fd closes; a read stream may close a moment later.
  for (let i = 0; i < 40 && !(disk.free() > before - MiB); i++) await new Promise((r) => setTimeout(r, 50));
  assert.ok(disk.free() > before - MiB, `${what}: after gc, ${before - disk.free()} bytes are still used`);
  const small = await importImage(s, once(filesTar('small', 4, 1024, 'small')), { ref: 'small:1' });
  assert.deepEqual(await readRootfs(s, small, disk.mnt, ['marker']), ['small'], what);
}

for (const driver of DRIVERS) {
  describe(`full disk (${driver})`, { skip }, () => {
    it('an import bigger than the disk: Unavailable, no space; nothing left behind', async (t) => {
      const disk = smallDisk(t, `full-import-${driver}`, '8m');
      await withStore(disk.root, driver, async (s) => {
        const before = disk.free();
        await assert.rejects(importImage(s, once(filesTar('big', 12, MiB, 'big')), { ref: 'big:1' }), isNoSpace);
        await rejectsWith(s.resolve('big:1'), 'NotFound');
        assert.ok(disk.free() > before - MiB, `the failed import left ${before - disk.free()} bytes behind`);
        await nothingLeftBehind(s, disk, before, 'after the failed import');
      });
    });

    // The blob (5.2 MiB) fits on the 8 MiB disk; unpacking it next to the blob does not.
    it('an import whose blob fits but whose unpacked layer does not: Unavailable, no space; nothing left behind', async (t) => {
      const disk = smallDisk(t, `full-unpack-${driver}`, '8m');
      await withStore(disk.root, driver, async (s) => {
        const before = disk.free();
        await assert.rejects(importImage(s, once(filesTar('mid', 5, MiB, 'mid')), { ref: 'mid:1' }), isNoSpace);
        await rejectsWith(s.resolve('mid:1'), 'NotFound');
        await nothingLeftBehind(s, disk, before, 'after the failed import');
      });
    });

    it('a load of an archive bigger than the disk: Unavailable, no space; nothing left behind', async (t) => {
      const disk = smallDisk(t, `full-load-${driver}`, '8m');
      assert.ok(statSync(fixture.hugeArchive).size > 10 * MiB);
      await withStore(disk.root, driver, async (s) => {
        const before = disk.free();
        await assert.rejects(loadImages(s, createReadStream(fixture.hugeArchive)), isNoSpace);
        await nothingLeftBehind(s, disk, before, 'after the failed load');
      });
    });

    it('a load whose archive fits but whose unpacked layer does not: Unavailable, no space; nothing left behind', async (t) => {
      const disk = smallDisk(t, `full-load-unpack-${driver}`, '8m');
      await withStore(disk.root, driver, async (s) => {
        const before = disk.free();
        await assert.rejects(loadImages(s, createReadStream(fixture.midArchive)), isNoSpace);
        await rejectsWith(s.resolve('mid:1'), 'NotFound');
        await nothingLeftBehind(s, disk, before, 'after the failed load');
      });
    });
  });
}

// ---- invalid input ----

describe('invalid input is refused with an error naming the problem', { skip }, () => {
  const driver: Driver = 'overlay';
  let s: ImageStore;
  before(async () => {
    s = await ImageStore.open({ root: join(tmpBase, 'invalid'), snapshotter: driver });
  });
  after(async () => {
    await s?.close();
  });

  const imageCount = (): number => s.list().length;
  async function noExtractSnapshots(): Promise<void> {
    const keys: string[] = [];
    await s.snapshots.walk((i) => void keys.push(i.key));
    assert.deepEqual(keys.filter((k) => k.startsWith('extract-')), []);
  }
  /** A stored layer blob (plain tar) and its descriptor and diff ID. */
  async function layerBlob(tar: Buffer): Promise<{ desc: Descriptor; diffId: Digest }> {
    const digest = await s.content.writeBlob(tar);
    return { desc: { mediaType: MediaTypes.ociLayer, digest, size: tar.length }, diffId: digest };
  }

  it('a truncated layer tar in import (inside file data, inside a header, gzip cut short)', async () => {
    const n = imageCount();
    const tar = filesTar('t', 8, 4096, 't');
    // marker (header, data), t/, t/d0/…t/d7/, then the first file's header and data.
    const firstFile = (2 + 1 + 8) * 512;
    await rejectsWith(importImage(s, once(tar.subarray(0, firstFile + 512 + 1000)), { ref: 'trunc:1' }), 'InvalidArgument', /truncated tar: stream ends inside (file data|an entry)/);
    await rejectsWith(importImage(s, once(tar.subarray(0, firstFile + 100)), { ref: 'trunc:1' }), 'InvalidArgument', /truncated tar: stream ends inside a header/);
    await rejectsWith(importImage(s, once(tar.subarray(0, Math.floor(tar.length / 2))), { ref: 'trunc:1' }), 'InvalidArgument', /truncated tar/);
    const gz = gzipSync(tar);
    await rejectsWith(importImage(s, once(gz.subarray(0, Math.floor(gz.length / 2))), { ref: 'trunc:1' }), 'InvalidArgument', /truncated|unexpected end/i);
    await rejectsWith(s.resolve('trunc:1'), 'NotFound');
    assert.equal(imageCount(), n);
    await noExtractSnapshots();
  });

  it('a layer blob that does not match its digest: the layer and both digests named', async () => {
    const tar = filesTar('w', 4, 4096, 'w');
    const { desc, diffId } = await layerBlob(tar);
    const path = s.content.blobPath(desc.digest);
    chmodSync(path, 0o644);
    const bad = Buffer.from(tar);
    bad[(2 + 1 + 4 + 1) * 512 + 100]! ^= 0xff; // inside the data of the first file under w/
    writeFileSync(path, bad);
    const n = imageCount();
    try {
      await rejectsWith(addManifest(s, configFor([diffId]), [desc], ['wrongdigest:1']), 'InvalidArgument', new RegExp(`layer 1/1 \\(${desc.digest}\\): digest mismatch: expected ${desc.digest}, got sha256:[0-9a-f]{64}`));
    } finally {
      writeFileSync(path, tar);
      chmodSync(path, 0o444);
    }
    assert.equal(imageCount(), n);
    await noExtractSnapshots();
  });

  it('a manifest naming a layer blob that is not there: NotFound naming the layer', async () => {
    const digest = `sha256:${'5'.repeat(64)}` as Digest;
    await rejectsWith(addManifest(s, configFor([digest]), [{ mediaType: MediaTypes.ociLayer, digest, size: 10 }]), 'NotFound', new RegExp(`layer 1 \\(${digest}\\) is missing`));
  });

  it('a layer descriptor whose size does not match its blob', async () => {
    const { desc, diffId } = await layerBlob(filesTar('sz', 2, 100, 'sz'));
    await rejectsWith(addManifest(s, configFor([diffId]), [{ ...desc, size: desc.size + 1 }]), 'InvalidArgument', /size/, new RegExp(desc.digest));
  });

  it('a layer of unknown media type: InvalidArgument naming the media type', async () => {
    const { desc, diffId } = await layerBlob(filesTar('mt', 2, 100, 'mt'));
    await rejectsWith(addManifest(s, configFor([diffId]), [{ ...desc, mediaType: 'application/x-foo' }], ['foo:1']), 'InvalidArgument', /application\/x-foo/);
    await rejectsWith(s.resolve('foo:1'), 'NotFound');
  });

  it('malformed config JSON, a config without rootfs, malformed manifest JSON, a manifest of unknown media type', async () => {
    const { desc, diffId } = await layerBlob(filesTar('js', 2, 100, 'js'));
    const n = imageCount();
    const truncated = Buffer.from(JSON.stringify(configFor([diffId]))).subarray(0, 40);
    await rejectsWith(addManifest(s, truncated, [desc]), 'InvalidArgument', /image config/, /JSON/);
    const p = hostPlatform();
    await rejectsWith(addManifest(s, { architecture: p.architecture, os: p.os }, [desc]), 'InvalidArgument', /image config.*rootfs.*is required/);
    const junk = Buffer.from('{"schemaVersion": 2, "config": ');
    const junkDigest = await s.content.writeBlob(junk);
    await rejectsWith(s.addImage({ mediaType: MediaTypes.ociManifest, digest: junkDigest, size: junk.length }), 'InvalidArgument', /manifest/, /JSON/);
    const good = await s.content.writeBlob(Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaTypes.ociManifest, config: desc, layers: [] })));
    await rejectsWith(s.addImage({ mediaType: 'application/x-bar', digest: good, size: 10 }), 'InvalidArgument', /application\/x-bar/);
    assert.equal(imageCount(), n);
  });

  it('invalid references in import and tag: InvalidArgument "invalid reference format…"', async () => {
    const img = await importImage(s, once(filesTar('r', 1, 10, 'r')), { ref: 'refs:1' });
    const n = imageCount();
    const bad: Array<[string, RegExp]> = [
      ['Upper', /^invalid reference format: repository name \(library\/Upper\) must be lowercase$/],
      ['library/UPPER', /^invalid reference format: repository name \(library\/UPPER\) must be lowercase$/],
      ['UPPER/Case', /^invalid reference format: repository name \(Case\) must be lowercase$/],
      ['a:b:c', /^invalid reference format/],
      ['a b', /^invalid reference format/],
      ['-lead', /^invalid reference format/],
      ['x@sha256:abc', /^invalid reference format/],
      ['name:' + 't'.repeat(200), /^invalid reference format/],
      ['f'.repeat(64), /cannot specify 64-byte hexadecimal strings/],
    ];
    for (const [ref, re] of bad) {
      await rejectsWith(importImage(s, once(filesTar('r', 1, 10, 'r')), { ref }), 'InvalidArgument', re);
      await rejectsWith(s.tag('refs:1', ref), 'InvalidArgument', re);
    }
    await rejectsWith(s.tag('refs:1', ''), 'InvalidArgument', /invalid reference format|at least one component/);
    await rejectsWith(s.tag('refs:1', 'x@sha256:' + 'a'.repeat(64)), 'InvalidArgument', /refusing to create a tag with a digest reference/);
    assert.equal(imageCount(), n, 'no image from an import with an invalid reference');
    assert.deepEqual((await s.resolve(img.id)).repoTags, [REF('refs')]);
    // As in Docker, an uppercase first component is a registry host, so this one is valid.
    assert.deepEqual((await s.tag('refs:1', 'UPPER/case')).repoTags, ['UPPER/case:latest', REF('refs')]);
  });

  it('a short ID prefix shared by two images: Conflict "ambiguous"; a unique prefix resolves', async () => {
    const tar = filesTar('amb', 1, 10, 'amb');
    for (let i = 0; i < 17; i++) await importImage(s, once(tar), { message: `image ${i}` });
    const byFirst = new Map<string, Digest[]>();
    for (const img of s.list()) byFirst.set(img.id[7]!, [...(byFirst.get(img.id[7]!) ?? []), img.id]);
    const [shared, ids] = [...byFirst].find(([, v]) => v.length > 1)!;
    for (const prefix of [shared, `sha256:${shared}`]) {
      await rejectsWith(s.resolve(prefix), 'Conflict', new RegExp(`ambiguous image ID prefix ${prefix}: ${ids.length} images match`));
    }
    await rejectsWith(removeImage(s, shared), 'Conflict', /ambiguous/);
    for (const id of ids) assert.equal((await s.resolve(id.slice(7, 19))).id, id);
  });
});

// ---- the child-process pattern itself ----

describe('a process started as `node --input-type=module -e`', { skip }, () => {
  it('can import an image (unpack an uncompressed layer)', async (t) => {
    const dir = testDir(t, 'eval');
    const tar = filesTar('e', 2, 100, 'e').toString('base64');
    const op = "await importImage(store, (async function* () { yield Buffer.from(args.tar, 'base64'); })(), { ref: 'e:1' });";
    const run = await runChild(childScript(join(dir, 'data'), 'native', { tar }, '', op), join(dir, 'tmp'), undefined, 'eval');
    assert.ok(run.finished && run.code === 0, run.stderr);
  });
});
