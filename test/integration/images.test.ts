// The image store end to end on the real kernel, for both snapshotters: the built-in
// hello-world, a two-layer image whose whiteouts show in a container's rootfs, writes
// landing only in the container's layer, commit/export/import, references and removal,
// the consistency check, and SIGKILL in the middle of an import.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, chmodSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ImageStore } from '../../src/images/store.js';
import { ensureHelloWorld, HELLO_WORLD } from '../../src/images/builtin.js';
import { createImage, storeLayer } from '../../src/images/create.js';
import { commitSnapshot, exportSnapshot, importImage } from '../../src/images/import.js';
import { imageDiskUsage, imageHistory, inspectImage, listImages } from '../../src/images/list.js';
import { pruneImages, removeImage } from '../../src/images/remove.js';
import { TarReader } from '../../src/images/tar/reader.js';
import { tarBuffer, type WriteEntry } from '../../src/images/tar/writer.js';
import { mountAll, unmount } from '../../src/snapshots/mount.js';
import { isBerthError } from '../../src/util/errors.js';
import { unmountUnder } from '../helpers/snapshotter-suite.js';
import { isRoot } from '../helpers/runtime.js';

type Member = WriteEntry & { data?: string };
const tmpBase = isRoot ? mkdtempSync('/var/tmp/berth-images-') : '/nonexistent';
after(async () => {
  if (!isRoot) return;
  await unmountUnder(tmpBase);
  rmSync(tmpBase, { recursive: true, force: true });
});

async function* once(b: Buffer): AsyncGenerator<Buffer> {
  yield b;
}
const tar = (members: Member[]): AsyncGenerator<Buffer> => once(tarBuffer(members));

async function tarNames(stream: AsyncIterable<Buffer>): Promise<string[]> {
  const r = new TarReader(stream);
  const names: string[] = [];
  for (let e = await r.next(); e; e = await r.next()) names.push(e.name);
  await r.drain(); // run the producer to its end, so it unmounts what it mounted
  return names;
}

const LAYER1: Member[] = [
  { name: 'etc/', type: 'dir' },
  { name: 'etc/passwd', type: 'file', data: 'root:x:0:0::/root:/bin/sh\n' },
  { name: 'etc/motd', type: 'file', data: 'old motd' },
  { name: 'opt/', type: 'dir' },
  { name: 'opt/lower-a', type: 'file', data: 'a' },
  { name: 'opt/lower-b', type: 'file', data: 'b' },
];
const LAYER2: Member[] = [
  { name: 'etc/', type: 'dir' },
  { name: 'etc/.wh.motd', type: 'file' },
  { name: 'opt/', type: 'dir' },
  { name: 'opt/.wh..wh..opq', type: 'file' },
  { name: 'opt/upper', type: 'file', data: 'upper' },
];

for (const driver of ['overlay', 'native'] as const) {
  describe(`image store (${driver})`, { skip: isRoot ? false : 'needs root (mounts)' }, () => {
    let store: ImageStore;
    let mnt: string;
    before(async () => {
      const root = join(tmpBase, driver);
      store = await ImageStore.open({ root, snapshotter: driver });
      mnt = mkdtempSync(join(tmpBase, `mnt-${driver}-`));
    });
    after(() => store.close());

    async function twoLayerImage(ref: string) {
      const base = await importImage(store, tar(LAYER1), { ref: `${ref}-base` });
      return createImage(store, {
        base: await store.configOf(base),
        baseLayers: (await store.manifestOf(base)).layers,
        layer: await storeLayer(store, tar(LAYER2)),
        history: { created_by: 'test layer 2' },
        refs: [ref],
      });
    }

    it('has the built-in hello-world, with the same ID every time', async () => {
      const a = await ensureHelloWorld(store);
      const b = await ensureHelloWorld(store);
      assert.equal(a.id, b.id);
      const inspect = await inspectImage(store, 'hello-world');
      assert.deepEqual(inspect.Config.Cmd, ['/hello']);
      assert.deepEqual(inspect.RepoTags, [HELLO_WORLD]);
      assert.equal(inspect.RootFS.Layers.length, 1);
    });

    it('mounts a multi-layer image as the union, whiteouts honoured, writes only in the container layer', async () => {
      const img = await twoLayerImage('union');
      const mounts = await store.prepareRootfs('ctr-union', img);
      await mountAll(mounts, mnt);
      try {
        assert.equal(readFileSync(join(mnt, 'etc/passwd'), 'utf8'), 'root:x:0:0::/root:/bin/sh\n');
        assert.equal(existsSync(join(mnt, 'etc/motd')), false, 'a file deleted in layer 2 is absent');
        assert.deepEqual(readdirSync(join(mnt, 'opt')), ['upper'], 'an opaque dir hides lower content');
        writeFileSync(join(mnt, 'etc/new'), 'container write');
        rmSync(join(mnt, 'etc/passwd'));
      } finally {
        await unmount(mnt);
      }
      // The image's own layers are untouched: a fresh container sees the original files.
      const again = await store.prepareRootfs('ctr-union-2', img);
      await mountAll(again, mnt);
      try {
        assert.equal(existsSync(join(mnt, 'etc/new')), false);
        assert.equal(existsSync(join(mnt, 'etc/passwd')), true);
      } finally {
        await unmount(mnt);
      }
      await store.snapshots.remove('ctr-union-2');
    });

    it('commits a container layer (additions and deletions) as a new image, and exports a rootfs', async () => {
      const img = await store.resolve('union');
      const committed = await commitSnapshot(store, 'ctr-union', img, { ref: 'committed:1', message: 'my change', changes: ['ENV A=b', 'CMD ["/bin/true"]'] });
      const config = await store.configOf(committed);
      assert.equal(config.rootfs.diff_ids.length, 3);
      assert.deepEqual(config.config?.Env, ['A=b']);
      assert.deepEqual(config.config?.Cmd, ['/bin/true']);
      const history = await imageHistory(store, 'committed:1');
      assert.equal(history[0]!.Comment, 'my change');
      assert.equal(history[0]!.CreatedBy, 'berth commit');
      await store.prepareRootfs('ctr-committed', committed);
      const names = await tarNames(exportSnapshot(store, 'ctr-committed'));
      assert.ok(names.includes('etc/new'), names.join(' '));
      assert.ok(!names.includes('etc/passwd') && !names.includes('etc/motd'));
      assert.ok(names.includes('opt/upper') && !names.includes('opt/lower-a'));
      await store.snapshots.remove('ctr-committed');
      await store.snapshots.remove('ctr-union');
    });

    it('imports with --change and --message', async () => {
      const img = await importImage(store, tar([{ name: 'x', type: 'file', data: 'x' }]), {
        ref: 'localhost:5000/imported:v1',
        changes: ['ENV PATH=/bin', 'WORKDIR /srv', 'EXPOSE 80', 'LABEL a=b c="d e"', 'USER 1000', 'ENTRYPOINT /x'],
        message: 'from a tarball',
      });
      const c = (await store.configOf(img)).config!;
      assert.deepEqual(c.Env, ['PATH=/bin']);
      assert.equal(c.WorkingDir, '/srv');
      assert.deepEqual(c.ExposedPorts, { '80/tcp': {} });
      assert.deepEqual(c.Labels, { a: 'b', c: 'd e' });
      assert.equal(c.User, '1000');
      assert.deepEqual(c.Entrypoint, ['/bin/sh', '-c', '/x']);
      await assert.rejects(importImage(store, tar([]), { changes: ['RUN echo'] }), /RUN is not a valid change command/);
    });

    it('resolves references, IDs and short IDs; tags, lists with filters, removes like docker rmi', async () => {
      const img = await store.resolve('localhost:5000/imported:v1');
      assert.equal((await store.resolve(img.id)).id, img.id);
      assert.equal((await store.resolve(img.id.slice(7, 19))).id, img.id);
      await store.tag('localhost:5000/imported:v1', 'second');
      assert.deepEqual((await store.resolve(img.id)).repoTags.sort(), ['docker.io/library/second:latest', 'localhost:5000/imported:v1']);
      const byRef = await listImages(store, { reference: ['second'] });
      assert.deepEqual(byRef.map((i) => i.Id), [img.id]);
      assert.deepEqual((await listImages(store, { label: ['a=b'] })).map((i) => i.Id), [img.id]);
      await assert.rejects(removeImage(store, img.id), (e: unknown) => isBerthError(e, 'Conflict') && /referenced in multiple repositories/.test((e as Error).message));
      assert.deepEqual(await removeImage(store, 'second'), [{ Untagged: 'second:latest' }]);
      await assert.rejects(removeImage(store, 'localhost:5000/imported:v1', { inUse: () => ({ container: 'c'.repeat(64), running: true }) }), /must force/);
      const gone = await removeImage(store, 'localhost:5000/imported:v1');
      assert.deepEqual(gone, [{ Untagged: 'localhost:5000/imported:v1' }, { Deleted: img.id }]);
      await assert.rejects(store.resolve(img.id), /No such image/);
      await assert.rejects(store.resolve('busybox:nope'), (e: unknown) => isBerthError(e, 'NotFound'));
    });

    it('prunes dangling images and removes what only they used', async () => {
      const img = await importImage(store, tar([{ name: 'dangling', type: 'file', data: String(Math.random()) }]));
      const layer = (await store.manifestOf(img)).layers[0]!.digest;
      assert.deepEqual((await listImages(store, { dangling: ['true'] })).map((i) => i.Id), [img.id]);
      const pruned = await pruneImages(store);
      assert.deepEqual(pruned.ImagesDeleted, [{ Deleted: img.id }]);
      assert.equal(await store.content.has(layer), false);
      assert.ok((await store.resolve('union')).id, 'tagged images stay');
    });

    it('reports disk usage with shared layers counted once', async () => {
      const du = await imageDiskUsage(store);
      const by = (tag: string) => du.Images.find((i) => i.RepoTags.includes(tag))!;
      const [base, union, committed, hello] = ['union-base:latest', 'union:latest', 'committed:1', HELLO_WORLD].map(by);
      // union-base ⊂ union ⊂ committed:1 (layer by layer); hello-world shares nothing.
      assert.equal(base!.SharedSize, base!.Size, JSON.stringify(du));
      assert.equal(union!.SharedSize, union!.Size);
      assert.equal(committed!.SharedSize, union!.Size);
      assert.ok(committed!.Size > union!.Size && union!.Size > base!.Size);
      assert.equal(hello!.SharedSize, 0);
      assert.equal(du.LayersSize, hello!.Size + committed!.Size);
    });

    it('filters by before/since, and prune --all removes every unused image but the ones in use', async () => {
      const older = await importImage(store, tar([{ name: 'o', type: 'file', data: 'older' }]), { ref: 'order:older' });
      await new Promise((r) => setTimeout(r, 1100)); // Created has one-second resolution
      const newer = await importImage(store, tar([{ name: 'n', type: 'file', data: 'newer' }]), { ref: 'order:newer' });
      assert.ok((await listImages(store, { since: ['order:older'] })).some((i) => i.Id === newer.id));
      assert.ok(!(await listImages(store, { since: ['order:older'] })).some((i) => i.Id === older.id));
      assert.ok((await listImages(store, { before: ['order:newer'] })).some((i) => i.Id === older.id));
      await assert.rejects(listImages(store, { bogus: ['x'] }), /invalid filter 'bogus'/);
      const keep = new Set([(await store.resolve('union')).id, (await store.resolve('union-base')).id, (await store.resolve('committed:1')).id, (await store.resolve('hello-world')).id]);
      const pruned = await pruneImages(store, { all: true, inUse: (id) => (keep.has(id) ? { container: 'c'.repeat(64), running: false } : undefined) });
      const deleted = pruned.ImagesDeleted.flatMap((d) => ('Deleted' in d ? [d.Deleted] : []));
      assert.deepEqual(deleted.sort(), [older.id, newer.id].sort());
      assert.ok(pruned.ImagesDeleted.some((d) => 'Untagged' in d && d.Untagged === 'order:older'));
      for (const id of keep) assert.equal((await store.resolve(id)).id, id);
    });

    it('finds nothing wrong in a healthy store, and reports a corrupt layer blob without changing it', async () => {
      assert.deepEqual(await store.check(), []);
      const img = await store.resolve('union-base');
      const layer = (await store.manifestOf(img)).layers[0]!.digest;
      const path = store.content.blobPath(layer);
      const original = readFileSync(path);
      chmodSync(path, 0o644);
      writeFileSync(path, Buffer.concat([original.subarray(0, 100), Buffer.from('X'), original.subarray(101)]));
      const problems = await store.check();
      assert.ok(problems.some((p) => p.includes(layer)), problems.join('\n'));
      assert.deepEqual(readFileSync(path).length, original.length);
      writeFileSync(path, original);
      chmodSync(path, 0o444);
      assert.deepEqual(await store.check(), []);
    });

    it('refuses a layer whose diff ID does not match, naming it, and leaves no snapshot behind', async () => {
      const good = await storeLayer(store, tar([{ name: 'f', type: 'file', data: 'f' }]));
      const bad = { ...good, diffId: `sha256:${'1'.repeat(64)}` as const };
      await assert.rejects(createImage(store, { layer: bad, history: {}, refs: ['bad:1'] }), /layer 1\/1 \(sha256:[0-9a-f]{64}\): diff ID mismatch/);
      const keys: string[] = [];
      await store.snapshots.walk((i) => void keys.push(i.key));
      assert.ok(!keys.some((k) => k.startsWith('extract-')), keys.join(' '));
      await assert.rejects(store.resolve('bad:1'), /No such image/);
    });

    it('survives SIGKILL in the middle of an import: check finds it consistent and the import then succeeds', async () => {
      const root = join(tmpBase, `${driver}-kill`);
      const big = join(tmpBase, `big-${driver}.tar`);
      const files = Array.from({ length: 400 }, (_, i) => ({ name: `d${i % 20}/f${i}`, type: 'file' as const, data: 'x'.repeat(20_000 + i) }));
      writeFileSync(big, tarBuffer(files));
      const script = `
        import { ImageStore } from ${JSON.stringify(new URL('../../src/images/store.js', import.meta.url).href)};
        import { importImage } from ${JSON.stringify(new URL('../../src/images/import.js', import.meta.url).href)};
        import { createReadStream } from 'node:fs';
        const store = await ImageStore.open({ root: ${JSON.stringify(root)}, snapshotter: ${JSON.stringify(driver)} });
        await importImage(store, createReadStream(${JSON.stringify(big)}), { ref: 'big:1' });
        process.stdout.write('done');`;
      const runChild = async (killAfterMs?: number): Promise<string> => {
        const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
        let out = '';
        child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
        const timer = killAfterMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), killAfterMs);
        await new Promise((r) => child.on('close', r));
        clearTimeout(timer);
        return out;
      };
      for (const delay of [60, 150, 300, 600]) await runChild(delay);
      assert.equal(await runChild(), 'done', 'an import that is not killed completes in the same child');
      const s = await ImageStore.open({ root, snapshotter: driver });
      try {
        const fatal = (await s.check()).filter((p) => !p.startsWith('leftover:'));
        assert.deepEqual(fatal, []);
        const img = await importImage(s, once(readFileSync(big)), { ref: 'big:1' });
        assert.equal((await s.resolve('big:1')).id, img.id);
        assert.ok(statSync(s.content.blobPath((await s.manifestOf(img)).layers[0]!.digest)).size > 8_000_000);
      } finally {
        await s.close();
      }
    });
  });
}
