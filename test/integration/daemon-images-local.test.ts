// berthd's ImageService on a real image store (no registry): import with --change,
// list filters, tag, Docker's rmi conflicts against a fake container table, prune with
// its filters, save → load round trips into another data root, and commit from an active
// snapshot the test prepares and writes into — with the events dockerd would log.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { ImageStore } from '../../src/images/store.js';
import { tarBuffer, type WriteEntry } from '../../src/images/tar/writer.js';
import { chainIds } from '../../src/oci/image-spec.js';
import type { JSONMessage } from '../../src/oci/engine-api.js';
import { withTempMount } from '../../src/snapshots/mount.js';
import { digestOf } from '../../src/util/digest.js';
import { isBerthError, type ErrorCode } from '../../src/util/errors.js';
import { ImageService, type ImageEvent } from '../../src/daemon/images/service.js';
import { tarDir } from '../helpers/registry-fixtures.js';
import { BUSYBOX, isRoot, makeRootfs } from '../helpers/runtime.js';
import { unmountUnder } from '../helpers/snapshotter-suite.js';

const skip = isRoot ? false : 'needs root (mounts)';
const work = skip ? '/nonexistent' : mkdtempSync('/var/tmp/berth-daemon-images-');

type Member = WriteEntry & { data?: string };
const smallTar = (name: string, text: string): Buffer =>
  tarBuffer([{ name: 'etc/', type: 'dir' }, { name: `etc/${name}`, type: 'file', data: text } as Member]);

async function rejectsWith(p: Promise<unknown>, code: ErrorCode, message?: string | RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(isBerthError(err, code), `want ${code}, got ${String(err)}`);
    if (typeof message === 'string') assert.equal((err as Error).message, message);
    else if (message) assert.match((err as Error).message, message);
    return true;
  });
}

/** A service on its own data root, recording events; `users` is the fake container table. */
class World {
  readonly events: ImageEvent[] = [];
  readonly users = new Map<string, { container: string; running: boolean }>();
  service!: ImageService;
  store!: ImageStore;

  static async open(name: string): Promise<World> {
    const w = new World();
    w.store = await ImageStore.open({ root: join(work, name) });
    w.service = new ImageService({
      store: w.store,
      emit: (e) => w.events.push(e),
      inUse: (id) => w.users.get(id),
      containerCount: (id) => (w.users.has(id) ? 1 : 0),
    });
    return w;
  }

  /** Import a tar as repo[:tag] (or untagged); its ID. */
  async import(tar: Buffer, repo?: string, changes: string[] = []): Promise<string> {
    const [name, tag] = repo?.split(':') ?? [];
    return this.service.importImage(Readable.from([tar]), { ...(name ? { repo: name } : {}), ...(tag ? { tag } : {}), changes }, () => undefined);
  }

  takeEvents(): Array<[string, string, Record<string, string>]> {
    return this.events.splice(0).map((e) => [e.Action, e.Actor.ID, e.Actor.Attributes]);
  }
}

const worlds: World[] = [];
async function world(name: string): Promise<World> {
  const w = await World.open(name);
  worlds.push(w);
  return w;
}

let busyboxTar: Buffer;

describe('daemon image service (local operations)', { skip }, () => {
  before(() => {
    busyboxTar = tarDir(work, makeRootfs(join(work, 'src')));
  });

  after(async () => {
    for (const w of worlds) await w.store.close().catch(() => undefined);
    await unmountUnder(work);
    rmSync(work, { recursive: true, force: true });
  });

  it('imports a gzip tarball with changes and a message: ID as progress, tag then import events', async () => {
    const w = await world('import');
    const progress: JSONMessage[] = [];
    const id = await w.service.importImage(
      Readable.from([gzipSync(busyboxTar)]),
      { repo: 'imported/busybox', tag: 'v1', message: 'from a test', changes: ['CMD ["/bin/sh"]', 'ENV A=1', 'LABEL team=berth'] },
      (m) => progress.push(m),
    );
    assert.match(id, /^sha256:[0-9a-f]{64}$/);
    assert.deepEqual(progress, [{ status: id }]);
    assert.deepEqual(w.takeEvents(), [
      ['tag', id, { team: 'berth', name: 'imported/busybox:v1' }],
      ['import', id, { team: 'berth', name: id }],
    ]);
    const inspect = await w.service.inspectImage('imported/busybox:v1');
    assert.equal(inspect.Id, id);
    assert.deepEqual(inspect.RepoTags, ['imported/busybox:v1']);
    assert.deepEqual(inspect.Config.Cmd, ['/bin/sh']);
    assert.deepEqual(inspect.Config.Env, ['A=1']);
    assert.equal(inspect.Comment, 'from a test');
    assert.equal(inspect.RootFS.Layers.length, 1);
    const history = await w.service.imageHistory(id);
    assert.equal(history.length, 1);
    assert.equal(history[0]!.CreatedBy, '');
    assert.equal(history[0]!.Comment, 'from a test');

    // No message: Docker's own comment.
    const plain = await w.import(smallTar('x', 'x'));
    assert.equal((await w.service.imageHistory(plain))[0]!.Comment, 'Imported from -');

    // zstd, as Docker accepts it.
    const zstd = spawnSync('zstd', ['-q', '-c'], { input: smallTar('z', 'zstd') });
    assert.equal(zstd.status, 0);
    const fromZstd = await w.import(zstd.stdout, 'zstd:1');
    assert.equal((await w.service.inspectImage('zstd:1')).Id, fromZstd);
    assert.deepEqual((await w.service.inspectImage(fromZstd)).RootFS.Layers, [digestOf(smallTar('z', 'zstd'))]);

    // For another platform.
    const arm = await w.service.importImage(Readable.from([smallTar('y', 'y')]), { platform: 'linux/arm64/v8', changes: [] }, () => undefined);
    const armInspect = await w.service.inspectImage(arm);
    assert.deepEqual([armInspect.Os, armInspect.Architecture, armInspect.Variant], ['linux', 'arm64', 'v8']);
  });

  it('imports from a URL (a server on loopback): "Importing" progress, then the ID; the server\'s 404 and 500 become dockerd\'s errors', async () => {
    const w = await world('import-url');
    const server = createServer((req, res) => {
      if (req.url === '/busybox.tar') res.end(busyboxTar);
      else if (req.url === '/moved') res.writeHead(302, { location: '/busybox.tar' }).end();
      else if (req.url === '/broken') res.writeHead(500).end('disk on fire');
      else res.writeHead(404).end('no such file');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const progress: JSONMessage[] = [];
      const id = await w.service.importImage(new URL(`${base}/moved`), { repo: 'fromurl', tag: '1', changes: [] }, (m) => progress.push(m));
      assert.equal((await w.service.inspectImage('fromurl:1')).Id, id);
      assert.deepEqual(progress.at(-1), { status: id });
      const importing = progress.filter((m) => m.status === 'Importing');
      assert.ok(importing.length >= 1, JSON.stringify(progress));
      assert.deepEqual(importing.at(-1)!.progressDetail, { current: busyboxTar.length, total: busyboxTar.length });

      await rejectsWith(w.service.importImage(new URL(`${base}/missing.tar`), { changes: [] }, () => undefined), 'NotFound', /^failed to GET http:\/\/127\.0\.0\.1:\d+\/missing\.tar with status 404 Not Found: no such file$/);
      await rejectsWith(w.service.importImage(new URL(`${base}/broken`), { changes: [] }, () => undefined), 'Internal', /with status 500 Internal Server Error: disk on fire$/);
      assert.equal((await w.service.listImages({ all: false, filters: {}, digests: false })).length, 1);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('refuses a tarball that is not a tar, naming the problem, and keeps no image', async () => {
    const w = await world('import-bad');
    await rejectsWith(w.import(Buffer.from('this is not a tar archive at all, just text'.repeat(40))), 'InvalidArgument', /^layer 1\/1 \(sha256:[0-9a-f]{64}\): tar header: checksum/);
    await rejectsWith(w.import(Buffer.from([0x1f, 0x8b, 8, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9])), 'InvalidArgument', /^gzip stream is corrupt/);
    await rejectsWith(w.import(smallTar('a', 'a'), 'Bad/Name'), 'InvalidArgument', /invalid reference format/);
    assert.deepEqual(await w.service.listImages({ all: false, filters: {}, digests: false }), []);
    assert.deepEqual(w.takeEvents(), []);
  });

  it('lists with Docker\'s filters; Containers and SharedSize only when asked', async () => {
    const w = await world('list');
    const a = await w.import(smallTar('a', 'a'), 'app/a:1', ['LABEL tier=web']);
    const b = await w.import(smallTar('b', 'b'), 'app/b:1');
    const dangling = await w.import(smallTar('c', 'c'));
    const ids = async (filters: Record<string, string[]>): Promise<string[]> =>
      (await w.service.listImages({ all: false, filters, digests: false })).map((i) => i.Id).sort();
    assert.deepEqual(await ids({}), [a, b, dangling].sort());
    assert.deepEqual(await ids({ dangling: ['true'] }), [dangling]);
    assert.deepEqual(await ids({ dangling: ['false'] }), [a, b].sort());
    assert.deepEqual(await ids({ dangling: ['1'] }), [dangling]);
    assert.deepEqual(await ids({ reference: ['app/*'] }), [a, b].sort());
    assert.deepEqual(await ids({ reference: ['app/a:1'] }), [a]);
    assert.deepEqual(await ids({ label: ['tier=web'] }), [a]);
    assert.deepEqual(await ids({ label: ['tier'] }), [a]);
    assert.deepEqual(await ids({ until: ['2000-01-01T00:00:00Z'] }), []);
    assert.deepEqual(await ids({ until: [String(Math.ceil(Date.now() / 1000) + 60)] }), [a, b, dangling].sort());
    await rejectsWith(ids({ colour: ['red'] }), 'InvalidArgument', "invalid filter 'colour'");
    await rejectsWith(ids({ dangling: ['maybe'] }), 'InvalidArgument', "invalid filter 'dangling=[maybe]'");

    w.users.set(a, { container: 'c'.repeat(64), running: true });
    const plain = await w.service.listImages({ all: false, filters: {}, digests: false });
    assert.ok(plain.every((i) => i.Containers === -1 && i.SharedSize === -1));
    const counted = await w.service.listImages({ all: false, filters: {}, digests: false, containerCount: true, sharedSize: true });
    assert.deepEqual(counted.map((i) => [i.Id, i.Containers, i.SharedSize]).sort(), [[a, 1, 0], [b, 0, 0], [dangling, 0, 0]].sort());
  });

  it('tags with an event carrying the image labels; refuses a digest as tag', async () => {
    const w = await world('tag');
    const id = await w.import(busyboxTar, 'busybox', ['LABEL maintainer=me']);
    w.takeEvents();
    await w.service.tagImage('busybox', 'localhost:5000/mine', 'v2');
    await w.service.tagImage(id.slice(7, 19), 'other', undefined);
    assert.deepEqual((await w.service.inspectImage(id)).RepoTags.sort(), ['busybox:latest', 'localhost:5000/mine:v2', 'other:latest']);
    assert.deepEqual(w.takeEvents(), [
      ['tag', id, { maintainer: 'me', name: 'localhost:5000/mine:v2' }],
      ['tag', id, { maintainer: 'me', name: 'other:latest' }],
    ]);
    await rejectsWith(w.service.tagImage('nope', 'x', 'y'), 'NotFound', 'No such image: nope');
    await rejectsWith(w.service.tagImage('busybox', 'x@sha256:' + 'a'.repeat(64), undefined), 'InvalidArgument');
    await rejectsWith(w.service.tagImage('busybox', 'Upper', undefined), 'InvalidArgument');
  });

  it('removes as docker rmi does: conflicts with containers and references, Untagged then Deleted with layers', async () => {
    const w = await world('rmi');
    const id = await w.import(busyboxTar, 'busybox:latest');
    const short = id.slice(7, 19);
    const chain = chainIds((await w.service.inspectImage(id)).RootFS.Layers as never).at(-1)!;
    const stopped = { container: 'c0ffee'.repeat(10) + 'abcd', running: false };
    w.takeEvents();

    // A stopped container uses the only tag.
    w.users.set(id, stopped);
    await rejectsWith(
      w.service.removeImage('busybox', { force: false, noprune: false }),
      'Conflict',
      `conflict: unable to remove repository reference "busybox" (must force) - container c0ffeec0ffee is using its referenced image ${short}`,
    );
    await rejectsWith(
      w.service.removeImage(short, { force: false, noprune: false }),
      'Conflict',
      `conflict: unable to delete ${short} (must be forced) - image is being used by stopped container c0ffeec0ffee`,
    );
    // Running: even force cannot delete it by ID.
    w.users.set(id, { ...stopped, running: true });
    await rejectsWith(
      w.service.removeImage(id, { force: true, noprune: false }),
      'Conflict',
      `conflict: unable to delete ${short} (cannot be forced) - image is being used by running container c0ffeec0ffee`,
    );
    assert.deepEqual(w.takeEvents(), []);

    // Two repositories: by ID needs force; by name only untags.
    w.users.delete(id);
    await w.service.tagImage(id, 'second', 'x');
    w.takeEvents();
    await rejectsWith(
      w.service.removeImage(short, { force: false, noprune: false }),
      'Conflict',
      `conflict: unable to delete ${short} (must be forced) - image is referenced in multiple repositories`,
    );
    assert.deepEqual(await w.service.removeImage('second:x', { force: false, noprune: false }), [{ Untagged: 'second:x' }]);
    assert.deepEqual(w.takeEvents(), [['untag', id, { name: id }]]);

    // A running container and force on the name: the tag goes, the image stays (dangling).
    w.users.set(id, { ...stopped, running: true });
    assert.deepEqual(await w.service.removeImage('busybox', { force: true, noprune: false }), [{ Untagged: 'busybox:latest' }]);
    assert.deepEqual((await w.service.inspectImage(id)).RepoTags, []);
    w.takeEvents();

    // Nobody uses it: the image and its layer go.
    w.users.delete(id);
    await w.service.tagImage(id, 'busybox', 'latest');
    w.takeEvents();
    assert.deepEqual(await w.service.removeImage('busybox', { force: false, noprune: false }), [
      { Untagged: 'busybox:latest' },
      { Deleted: id },
      { Deleted: chain },
    ]);
    assert.deepEqual(w.takeEvents(), [
      ['untag', id, { name: id }],
      ['delete', id, { name: id }],
    ]);
    await rejectsWith(w.service.inspectImage(id), 'NotFound');
    assert.deepEqual(await w.store.check(), []);
  });

  it('prunes dangling images, or all unused ones, by label and until; in-use images stay', async () => {
    const w = await world('prune');
    const keep = await w.import(smallTar('keep', 'keep'), 'keep:1');
    const used = await w.import(smallTar('used', 'used'), 'used:1');
    const plain = await w.import(smallTar('plain', 'plain'));
    const labelled = await w.import(smallTar('labelled', 'labelled'), undefined, ['LABEL prune=no']);
    w.users.set(used, { container: 'a'.repeat(64), running: false });
    w.takeEvents();

    await rejectsWith(w.service.pruneImages({ reference: ['x'] }), 'InvalidArgument', "invalid filter 'reference'");
    assert.deepEqual(await w.service.pruneImages({ until: ['2000-01-01'] }), { ImagesDeleted: null, SpaceReclaimed: 0 });

    const first = await w.service.pruneImages({ 'label!': ['prune=no'] });
    assert.deepEqual(first.ImagesDeleted?.filter((d) => d.Deleted?.startsWith('sha256:') && d.Deleted === plain), [{ Deleted: plain }]);
    assert.equal(first.ImagesDeleted?.length, 2); // the image and its one layer
    assert.equal(first.SpaceReclaimed, 5 * 512); // the layer's tar: etc/, etc/plain (header + data), end of archive
    const events = w.takeEvents();
    assert.deepEqual(events.filter(([action]) => action === 'delete').map(([, id]) => id), [plain]);
    assert.deepEqual(events.at(-1), ['prune', '', { reclaimed: String(5 * 512) }]);
    const left = (await w.service.listImages({ all: false, filters: {}, digests: false })).map((i) => i.Id).sort();
    assert.deepEqual(left, [keep, used, labelled].sort());

    const all = await w.service.pruneImages({ dangling: ['false'] });
    const deleted = (all.ImagesDeleted ?? []).map((d) => d.Untagged ?? d.Deleted);
    assert.ok(deleted.includes('keep:1') && deleted.includes(keep) && deleted.includes(labelled));
    assert.ok(!deleted.includes(used) && !deleted.includes('used:1'));
    assert.deepEqual((await w.service.listImages({ all: false, filters: {}, digests: false })).map((i) => i.Id), [used]);
    assert.deepEqual(await w.store.check(), []);
  });

  it('saves images as one tar and loads them into another data root with identical IDs', async () => {
    const w = await world('save');
    const id = await w.import(busyboxTar, 'busybox:latest', ['CMD ["sh"]']);
    await w.service.tagImage(id, 'busybox', 'copy');
    const small = await w.import(smallTar('s', 's'), 'small:1');
    w.takeEvents();

    await rejectsWith(w.service.saveImages(['busybox', 'nope:1']), 'NotFound', /nope:1/);
    const archive = Buffer.concat(await (await w.service.saveImages(['busybox:latest', 'busybox:copy', small])).toArray());
    assert.deepEqual(w.takeEvents(), [
      ['save', id, { name: id }],
      ['save', small, { name: small }],
    ]);

    const other = await world('load');
    const progress: JSONMessage[] = [];
    await other.service.loadImages(Readable.from([archive]), (m) => progress.push(m), false);
    assert.deepEqual(progress.filter((m) => m.stream).map((m) => m.stream).sort(), ['Loaded image ID: ' + small + '\n', 'Loaded image: busybox:copy\n', 'Loaded image: busybox:latest\n'].sort());
    const loaded = await other.service.inspectImage('busybox:latest');
    // "Loading layer" for each layer unpacked, by its short diff ID: at the start, then done.
    const layers = [...loaded.RootFS.Layers!, ...(await other.service.inspectImage(small)).RootFS.Layers!];
    const loading = progress.filter((m) => m.status === 'Loading layer');
    assert.deepEqual(loading.map((m) => m.id), layers.flatMap((l) => [l.slice(7, 19), l.slice(7, 19)]));
    for (const [i, m] of loading.entries()) {
      const total = m.progressDetail?.total ?? 0;
      assert.ok(total > 0, JSON.stringify(m));
      assert.equal(m.progressDetail?.current, i % 2 === 0 ? undefined : total, JSON.stringify(m));
      assert.match(m.progress ?? '', /^\[[=> ]+\]\s+\S+B\/\S+B$/);
    }
    assert.equal(loaded.Id, id);
    assert.deepEqual(loaded.RepoTags, ['busybox:copy', 'busybox:latest']);
    assert.deepEqual(loaded.Config.Cmd, ['sh']);
    assert.equal((await other.service.inspectImage(small)).Id, small);
    assert.deepEqual(other.takeEvents().map(([action, actor]) => [action, actor]).sort(), [['load', id], ['load', small]].sort());
    assert.deepEqual(await other.store.check(), []);

    // Quietly, into the first root again: the same images, nothing new.
    progress.length = 0;
    await w.service.loadImages(Readable.from([archive]), (m) => progress.push(m), true);
    assert.ok(progress.some((m) => m.stream === 'Loaded image: busybox:latest\n'));
    assert.ok(!progress.some((m) => m.status), JSON.stringify(progress));
    // Not quiet, but every layer is there already: nothing is loading, as in dockerd.
    progress.length = 0;
    await other.service.loadImages(Readable.from([archive]), (m) => progress.push(m), false);
    assert.ok(!progress.some((m) => m.status), JSON.stringify(progress));
    assert.equal((await w.service.listImages({ all: false, filters: {}, digests: false })).length, 2);
  });

  it('refuses archives that are not image archives, naming what is missing', async () => {
    const w = await world('load-bad');
    const notImages = tarBuffer([{ name: 'hello.txt', type: 'file', data: 'hi' } as Member]);
    await rejectsWith(w.service.loadImages(Readable.from([notImages]), () => undefined, false), 'InvalidArgument', /neither index\.json .* nor manifest\.json/);
    assert.deepEqual(await w.service.listImages({ all: false, filters: {}, digests: false }), []);
    assert.deepEqual(w.takeEvents(), []);
  });

  it('commits an active snapshot: a new top layer with the written file, the merged config, history', async () => {
    const w = await world('commit');
    const baseId = await w.import(busyboxTar, 'busybox:latest', ['ENV PATH=/bin', 'CMD ["sh"]', 'LABEL base=yes']);
    const base = await w.service.resolve(baseId);
    const key = 'container-snapshot-1';
    const mounts = await w.store.prepareRootfs(key, base);
    try {
      await withTempMount(mounts, async (dir) => writeFileSync(join(dir, 'etc/committed'), 'written in the container\n'), { tmpRoot: work });
      const containerConfig = { Hostname: 'abc', Env: ['PATH=/bin', 'MODE=test'], Cmd: ['sh', '-c', 'echo hi > /etc/committed'], Labels: { base: 'yes' }, Healthcheck: null };
      w.takeEvents();
      const { Id } = await w.service.commit({
        snapshotKey: key,
        baseImage: base,
        containerConfig,
        containerId: 'f'.repeat(64),
        repo: 'committed',
        tag: 'v1',
        comment: 'a comment',
        author: 'tester',
        changes: ['ENV EXTRA=1', 'EXPOSE 8080'],
      });
      assert.deepEqual(w.takeEvents(), [['tag', Id, { base: 'yes', name: 'committed:v1' }]]);
      const img = await w.service.inspectImage('committed:v1');
      assert.equal(img.Id, Id);
      const baseInspect = await w.service.inspectImage(baseId);
      assert.equal(img.RootFS.Layers.length, 2);
      assert.deepEqual(img.RootFS.Layers.slice(0, 1), baseInspect.RootFS.Layers);
      assert.deepEqual(img.Config.Env, ['PATH=/bin', 'MODE=test', 'EXTRA=1']);
      assert.deepEqual(img.Config.Cmd, ['sh', '-c', 'echo hi > /etc/committed']);
      assert.deepEqual(img.Config.ExposedPorts, { '8080/tcp': {} });
      assert.deepEqual(img.Config.Labels, { base: 'yes' });
      assert.equal(img.Config.Healthcheck, undefined);
      assert.equal(img.Author, 'tester');
      assert.equal(img.Comment, 'a comment');
      const history = await w.service.imageHistory(Id);
      assert.deepEqual([history[0]!.CreatedBy, history[0]!.Comment, history[0]!.Tags], ['sh -c echo hi > /etc/committed', 'a comment', ['committed:v1']]);
      assert.ok(history[0]!.Size > 0);

      // The new image's filesystem has the file, on top of the base.
      const chain = chainIds(img.RootFS.Layers as never).at(-1)!;
      const view = await w.store.snapshots.view('commit-check', chain);
      try {
        await withTempMount(view, async (dir) => {
          assert.equal(readFileSync(join(dir, 'etc/committed'), 'utf8'), 'written in the container\n');
          assert.ok(readFileSync(join(dir, 'bin/busybox')).equals(readFileSync(BUSYBOX)));
        }, { tmpRoot: work });
      } finally {
        await w.store.snapshots.remove('commit-check');
      }
    } finally {
      await w.store.snapshots.remove(key);
    }
  });

  it('commits an unchanged container as an empty-layer history entry, with the container\'s config', async () => {
    const w = await world('commit-empty');
    const baseId = await w.import(busyboxTar, 'busybox:latest', ['CMD ["sh"]']);
    const base = await w.service.resolve(baseId);
    const key = 'container-snapshot-2';
    await w.store.prepareRootfs(key, base);
    w.takeEvents();
    try {
      const { Id } = await w.service.commit({ snapshotKey: key, baseImage: base, containerConfig: { Cmd: ['true'], WorkingDir: '/tmp' }, containerId: 'e'.repeat(64), changes: [] });
      assert.notEqual(Id, baseId);
      const img = await w.service.inspectImage(Id);
      assert.deepEqual(img.RootFS.Layers, (await w.service.inspectImage(baseId)).RootFS.Layers);
      assert.deepEqual(img.RepoTags, []);
      assert.deepEqual([img.Config.Cmd, img.Config.WorkingDir], [['true'], '/tmp']);
      const history = await w.service.imageHistory(Id);
      assert.deepEqual([history.length, history[0]!.CreatedBy, history[0]!.Size], [2, 'true', 0]);
      assert.deepEqual(w.takeEvents(), []);
    } finally {
      await w.store.snapshots.remove(key);
    }
  });
});
