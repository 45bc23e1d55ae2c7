// save and load against skopeo: a hand-made two-layer busybox image (layer 2 gzip'd and
// deleting a file of layer 1 with a whiteout) goes through skopeo's docker-archive,
// oci-archive and oci layout into berth; berth's save output is read back by skopeo as
// docker-archive and as OCI; save → load between two stores keeps IDs, tags and the
// unpacked tree; hostile archives are refused and leave no image, ingest or lease behind.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { loadImages } from '../../src/images/archive/load.js';
import { saveImages } from '../../src/images/archive/save.js';
import { ImageStore, type ImageRecord } from '../../src/images/store.js';
import { TarReader } from '../../src/images/tar/reader.js';
import { tarBuffer, type WriteEntry } from '../../src/images/tar/writer.js';
import { MediaTypes, chainIds, hostPlatform, type Descriptor } from '../../src/oci/image-spec.js';
import { withTempMount } from '../../src/snapshots/mount.js';
import { digestOf, type Digest } from '../../src/util/digest.js';
import { isBerthError } from '../../src/util/errors.js';
import { unmountUnder } from '../helpers/snapshotter-suite.js';
import { BUSYBOX, isRoot, makeRootfs } from '../helpers/runtime.js';

const hasSkopeo = spawnSync('skopeo', ['--version']).status === 0;
const skip = !isRoot ? 'needs root (mounts)' : !existsSync(BUSYBOX) ? 'needs /bin/busybox (busybox-static)' : !hasSkopeo ? 'needs skopeo' : false;
const work = skip ? '/nonexistent' : mkdtempSync('/var/tmp/berth-archive-');

type Member = WriteEntry & { data?: Buffer | string };

interface Fixture {
  layout: string;
  config: Descriptor;
  manifest: Descriptor;
  layers: Descriptor[];
  diffIds: Digest[];
}

function run(argv: string[]): string {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, `${argv.join(' ')}: ${r.stderr}`);
  return r.stdout;
}
const skopeo = (...args: string[]): string => run(['skopeo', '--insecure-policy', '--tmpdir', work, ...args]);

function putBlob(layout: string, data: Buffer, mediaType: string): Descriptor {
  const digest = digestOf(data);
  writeFileSync(join(layout, 'blobs/sha256', digest.slice(7)), data);
  return { mediaType, digest, size: data.length };
}

/** GNU tar of a directory, as `docker build` layers look: numeric owners, sorted, fixed times. */
function tarDir(dir: string): Buffer {
  const out = join(work, `layer-${createHash('sha256').update(dir).digest('hex').slice(0, 8)}.tar`);
  run(['tar', '--numeric-owner', '--sort=name', '--mtime=@1700000000', '-C', dir, '-cf', out, '.']);
  return readFileSync(out);
}

/** The source image: an OCI layout with layer 1 plain, layer 2 gzip'd and whiting out /etc/group. */
function makeFixture(): Fixture {
  const rootfs = makeRootfs(join(work, 'src'));
  const upper = join(work, 'upper');
  mkdirSync(join(upper, 'etc'), { recursive: true });
  writeFileSync(join(upper, 'etc/.wh.group'), '');
  writeFileSync(join(upper, 'etc/hello'), 'hello from layer 2\n');
  const tars = [tarDir(rootfs), tarDir(upper)];
  const layout = join(work, 'oci-src');
  mkdirSync(join(layout, 'blobs/sha256'), { recursive: true });
  const layers = [putBlob(layout, tars[0]!, MediaTypes.ociLayer), putBlob(layout, gzipSync(tars[1]!), MediaTypes.ociLayerGzip)];
  const diffIds = tars.map((t) => digestOf(t));
  const p = hostPlatform();
  const cfg = {
    created: '2024-01-01T00:00:00Z',
    architecture: p.architecture,
    os: p.os,
    config: { Env: ['PATH=/bin'], Cmd: ['/bin/sh'] },
    rootfs: { type: 'layers', diff_ids: diffIds },
    history: [{ created_by: 'busybox rootfs' }, { created_by: 'whiteout /etc/group, add /etc/hello' }],
  };
  const config = putBlob(layout, Buffer.from(JSON.stringify(cfg)), MediaTypes.ociConfig);
  const manifest = putBlob(layout, Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaTypes.ociManifest, config, layers })), MediaTypes.ociManifest);
  const index = { schemaVersion: 2, manifests: [{ ...manifest, annotations: { 'org.opencontainers.image.ref.name': 'busybox:1' } }] };
  writeFileSync(join(layout, 'index.json'), JSON.stringify(index));
  writeFileSync(join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  return { layout, config, manifest, layers, diffIds };
}

const fileSource = (path: string): AsyncIterable<Buffer> => createReadStream(path) as AsyncIterable<Buffer>;
async function* once(b: Buffer): AsyncGenerator<Buffer> {
  yield b;
}

async function collect(stream: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of stream) parts.push(chunk);
  return Buffer.concat(parts);
}

/** Names and small files of an archive in memory. */
async function readArchive(buf: Buffer): Promise<{ names: string[]; files: Map<string, Buffer> }> {
  const r = new TarReader(once(buf));
  const names: string[] = [];
  const files = new Map<string, Buffer>();
  for (let e = await r.next(); e; e = await r.next()) {
    names.push(e.name);
    if (e.type === 'file' && !e.name.startsWith('blobs/')) files.set(e.name, await collect(r.data()));
  }
  return { names, files };
}

let nStore = 0;
const stores: ImageStore[] = [];
async function newStore(): Promise<ImageStore> {
  const s = await ImageStore.open({ root: join(work, `store-${++nStore}`) });
  stores.push(s);
  return s;
}

/** Everything about an image's unpacked tree: paths, types, modes, owners, sizes, contents. */
async function treeOf(store: ImageStore, img: ImageRecord): Promise<string[]> {
  const top = chainIds((await store.configOf(img)).rootfs.diff_ids).pop();
  const key = `archive-test-view-${++nStore}`;
  const mounts = await store.snapshots.view(key, top);
  try {
    return await withTempMount(mounts, async (dir) => listTree(dir), { tmpRoot: work });
  } finally {
    await store.snapshots.remove(key);
  }
}

function listTree(root: string): string[] {
  const out: string[] = [];
  const walk = (rel: string): void => {
    for (const name of readdirSync(join(root, rel)).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      const st = lstatSync(join(root, r));
      const what = st.isSymbolicLink()
        ? `-> ${readlinkSync(join(root, r))}`
        : st.isFile()
          ? createHash('sha256').update(readFileSync(join(root, r))).digest('hex')
          : '';
      out.push(`${r} ${st.mode.toString(8)} ${st.uid}:${st.gid} ${st.isDirectory() ? '' : st.size} ${what}`);
      if (st.isDirectory()) walk(r);
    }
  };
  walk('');
  return out;
}

async function storedLayers(store: ImageStore, img: ImageRecord): Promise<{ layers: Digest[]; diffIds: Digest[] }> {
  return {
    layers: (await store.manifestOf(img)).layers.map((l) => l.digest),
    diffIds: (await store.configOf(img)).rootfs.diff_ids,
  };
}

describe('image save/load', { skip }, () => {
  let fx: Fixture;
  let ociStore: ImageStore; // holds busybox:1 loaded from an OCI layout (layer 2 stored gzip'd)
  let busybox: ImageRecord;

  before(() => {
    fx = makeFixture();
  });
  after(async () => {
    for (const s of stores) await s.close().catch(() => undefined);
    if (skip) return;
    await unmountUnder(work);
    rmSync(work, { recursive: true, force: true });
  });

  it('loads skopeo docker-archive output: same image ID, diff IDs as layers, tag', async () => {
    const file = join(work, 'skopeo-docker.tar');
    skopeo('copy', `oci:${fx.layout}:busybox:1`, `docker-archive:${file}:busybox:1`);
    const store = await newStore();
    const result = await loadImages(store, fileSource(file));
    assert.deepEqual(result, { images: [{ id: fx.config.digest, refs: ['docker.io/library/busybox:1'] }], messages: ['Loaded image: busybox:1'] });
    const img = await store.resolve('busybox:1');
    assert.equal(img.id, fx.config.digest);
    assert.deepEqual(await storedLayers(store, img), { layers: fx.diffIds, diffIds: fx.diffIds });
    const tree = await treeOf(store, img);
    assert.ok(tree.some((l) => l.startsWith('etc/hello ')), 'layer 2 file present');
    assert.ok(!tree.some((l) => l.startsWith('etc/group ')), 'whited-out file gone');
    assert.ok(tree.some((l) => l.startsWith('bin/busybox ')));
  });

  it('loads an OCI layout (tarred directory from skopeo oci:): same manifest, layers, tag', async () => {
    const dir = join(work, 'skopeo-oci');
    skopeo('copy', '--dest-oci-accept-uncompressed-layers', `oci:${fx.layout}:busybox:1`, `oci:${dir}:busybox:1`);
    const file = join(work, 'skopeo-oci-dir.tar');
    run(['tar', '-C', dir, '-cf', file, '.']); // members named ./blobs/…, ./index.json
    ociStore = await newStore();
    const result = await loadImages(ociStore, fileSource(file));
    assert.deepEqual(result.images, [{ id: fx.config.digest, refs: ['docker.io/library/busybox:1'] }]);
    busybox = await ociStore.resolve('busybox:1');
    assert.equal(busybox.manifest.digest, fx.manifest.digest);
    assert.deepEqual(await storedLayers(ociStore, busybox), { layers: fx.layers.map((l) => l.digest), diffIds: fx.diffIds });
  });

  it('loads skopeo oci-archive output (layers recompressed by skopeo)', async () => {
    const file = join(work, 'skopeo-oci.tar');
    skopeo('copy', `oci:${fx.layout}:busybox:1`, `oci-archive:${file}:busybox:1`);
    const raw = JSON.parse(skopeo('inspect', '--raw', `oci-archive:${file}`)) as { layers: Descriptor[] };
    const store = await newStore();
    const result = await loadImages(store, fileSource(file));
    assert.deepEqual(result.images, [{ id: fx.config.digest, refs: ['docker.io/library/busybox:1'] }]);
    const img = await store.resolve(fx.config.digest);
    assert.deepEqual(await storedLayers(store, img), { layers: raw.layers.map((l) => l.digest), diffIds: fx.diffIds });
  });

  it('saves in Docker 25 layout: OCI layout plus docker-archive, deterministic', async () => {
    const archive = await collect(saveImages(ociStore, ['busybox:1']));
    assert.deepEqual(await collect(saveImages(ociStore, ['busybox:1'])), archive, 'same bytes every time');
    const { names, files } = await readArchive(archive);
    // layer 2 is stored gzip'd, so the docker side gets its uncompressed form as an extra blob
    const blobs = [fx.manifest.digest, fx.config.digest, ...fx.layers.map((l) => l.digest), fx.diffIds[1]!].map((d) => `blobs/sha256/${d.slice(7)}`).sort();
    assert.deepEqual(names, ['blobs/', 'blobs/sha256/', ...blobs, 'index.json', 'manifest.json', 'oci-layout', 'repositories']);
    assert.deepEqual(JSON.parse(files.get('manifest.json')!.toString()), [
      { Config: `blobs/sha256/${fx.config.digest.slice(7)}`, RepoTags: ['busybox:1'], Layers: fx.diffIds.map((d) => `blobs/sha256/${d.slice(7)}`) },
    ]);
    assert.deepEqual(JSON.parse(files.get('repositories')!.toString()), { busybox: { '1': fx.diffIds[1]!.slice(7) } });
    const index = JSON.parse(files.get('index.json')!.toString()) as { manifests: Descriptor[] };
    assert.deepEqual(index.manifests, [
      { ...fx.manifest, annotations: { 'io.containerd.image.name': 'docker.io/library/busybox:1', 'org.opencontainers.image.ref.name': '1' } },
    ]);
    assert.deepEqual(JSON.parse(files.get('oci-layout')!.toString()), { imageLayoutVersion: '1.0.0' });
    writeFileSync(join(work, 'berth-save.tar'), archive);
  });

  it('skopeo reads berth save output as docker-archive and as oci-archive', () => {
    const file = join(work, 'berth-save.tar');
    const raw = JSON.parse(skopeo('inspect', '--raw', `docker-archive:${file}`)) as { config: Descriptor; layers: Descriptor[] };
    assert.equal(raw.config.digest, fx.config.digest);
    assert.deepEqual(raw.layers.map((l) => l.digest), fx.diffIds);
    const inspect = JSON.parse(skopeo('inspect', `docker-archive:${file}`)) as { RepoTags: string[]; Layers: string[] };
    assert.deepEqual(inspect.Layers, fx.diffIds);

    const viaDocker = join(work, 'skopeo-from-docker-archive');
    skopeo('copy', `docker-archive:${file}`, `oci:${viaDocker}:x`);
    assert.equal(configOfLayout(viaDocker), fx.config.digest);

    const viaOci = join(work, 'skopeo-from-oci-archive');
    skopeo('copy', `oci-archive:${file}`, `oci:${viaOci}:y`);
    assert.equal(configOfLayout(viaOci), fx.config.digest);
    const ociRaw = JSON.parse(skopeo('inspect', '--raw', `oci-archive:${file}`)) as { layers: Descriptor[] };
    assert.deepEqual(ociRaw.layers.map((l) => l.digest), fx.layers.map((l) => l.digest), 'OCI side keeps the stored (compressed) layers');
  });

  it('round-trips save → load into another store: IDs, tags, unpacked tree', async () => {
    // a second, untagged image (layer 1 only), saved by ID
    const base = await ociStore.addImage(await baseOnly(ociStore, busybox));
    const archive = await collect(saveImages(ociStore, ['busybox:1', base.id.slice(7, 19)]));
    const { files } = await readArchive(archive);
    const items = JSON.parse(files.get('manifest.json')!.toString()) as Array<{ RepoTags: string[] }>;
    assert.deepEqual(items.map((i) => i.RepoTags), [['busybox:1'], []]);

    const store = await newStore();
    const result = await loadImages(store, once(archive));
    assert.deepEqual(result, {
      images: [
        { id: busybox.id, refs: ['docker.io/library/busybox:1'] },
        { id: base.id, refs: [] },
      ],
      messages: ['Loaded image: busybox:1', `Loaded image ID: ${base.id}`],
    });
    const loaded = await store.resolve('busybox:1');
    assert.equal(loaded.manifest.digest, busybox.manifest.digest, 'the OCI side wins: the original manifest');
    assert.deepEqual(loaded.repoTags, ['docker.io/library/busybox:1']);
    assert.deepEqual(await treeOf(store, loaded), await treeOf(ociStore, busybox));
    assert.deepEqual(await treeOf(store, await store.resolve(base.id)), await treeOf(ociStore, base));

    // loading again: the same images, nothing renamed
    const again = await loadImages(store, once(archive));
    assert.deepEqual(again.messages, ['Loaded image: busybox:1', `Loaded image ID: ${base.id}`]);
  });

  it('loads the docker-archive side alone, and tells when a tag moves', async () => {
    const archive = await collect(saveImages(ociStore, ['busybox:1']));
    const dockerOnly = await withoutMembers(archive, ['index.json', 'oci-layout']);
    const store = await newStore();
    const other = await store.addImage(await baseOnly(ociStore, busybox, store), { refs: ['busybox:1'] });
    const result = await loadImages(store, once(dockerOnly));
    assert.deepEqual(result.images, [{ id: busybox.id, refs: ['docker.io/library/busybox:1'] }]);
    assert.deepEqual(result.messages, [`The image busybox:1 already exists, renaming the old one with ID ${other.id} to empty string`, 'Loaded image: busybox:1']);
    const img = await store.resolve('busybox:1');
    assert.equal(img.manifest.mediaType, MediaTypes.dockerManifest);
    assert.deepEqual(await storedLayers(store, img), { layers: fx.diffIds, diffIds: fx.diffIds });
  });

  it('saves by name@digest (no tag) and a gzip-compressed archive loads', async () => {
    const digestRef = `docker.io/library/busybox@${busybox.manifest.digest}`;
    await ociStore.addImage(busybox.manifest, { refs: [digestRef] });
    const archive = await collect(saveImages(ociStore, [`busybox@${busybox.manifest.digest}`]));
    const { files } = await readArchive(archive);
    assert.deepEqual((JSON.parse(files.get('manifest.json')!.toString()) as Array<{ RepoTags: string[] }>)[0]!.RepoTags, []);
    const index = JSON.parse(files.get('index.json')!.toString()) as { manifests: Descriptor[] };
    assert.deepEqual(index.manifests, [fx.manifest]);
    const store = await newStore();
    const result = await loadImages(store, once(gzipSync(archive)));
    assert.deepEqual(result.images, [{ id: busybox.id, refs: [] }]);
  });

  it('saves every tag of a repository named without a tag, and refuses unknown names', async () => {
    await ociStore.tag('busybox:1', 'busybox:musl');
    const { files } = await readArchive(await collect(saveImages(ociStore, ['busybox'])));
    assert.deepEqual((JSON.parse(files.get('manifest.json')!.toString()) as Array<{ RepoTags: string[] }>)[0]!.RepoTags, ['busybox:1', 'busybox:musl']);
    await ociStore.untag('busybox:musl');
    await assert.rejects(collect(saveImages(ociStore, ['nosuch:1'])), (err: unknown) => isBerthError(err, 'NotFound'));
  });

  describe('other shapes', () => {
    const layer = tarBuffer([{ name: 'hello', type: 'file', data: 'hi\n' }]);
    const diffId = digestOf(layer);
    const p = hostPlatform();
    const configJson = JSON.stringify({ architecture: p.architecture, os: p.os, rootfs: { type: 'layers', diff_ids: [diffId] } });
    const configId = digestOf(configJson);

    it('docker-archive with a gzip-compressed layer.tar (Docker accepts those) and a shared-layer symlink', async () => {
      const members: Member[] = [
        { name: `${configId.slice(7)}.json`, type: 'file', data: configJson },
        { name: 'a/layer.tar', type: 'file', data: gzipSync(layer) },
        { name: 'b/layer.tar', type: 'symlink', linkname: '../a/layer.tar' },
        { name: 'manifest.json', type: 'file', data: JSON.stringify([{ Config: `${configId.slice(7)}.json`, RepoTags: ['gz:1'], Layers: ['b/layer.tar'] }]) },
      ];
      const store = await newStore();
      const result = await loadImages(store, once(tarBuffer(members)));
      assert.deepEqual(result.images, [{ id: configId, refs: ['docker.io/library/gz:1'] }]);
      assert.deepEqual(await storedLayers(store, await store.resolve('gz:1')), { layers: [diffId], diffIds: [diffId] });
    });

    it('OCI layout with a multi-platform index: the host platform is chosen, named by io.containerd.image.name', async () => {
      const manifest = JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaTypes.ociManifest,
        config: { mediaType: MediaTypes.ociConfig, digest: configId, size: configJson.length },
        layers: [{ mediaType: MediaTypes.ociLayer, digest: diffId, size: layer.length }],
      });
      const other = p.architecture === 'arm64' ? 'amd64' : 'arm64';
      const index = JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaTypes.ociIndex,
        manifests: [
          // the other platform's blobs are not in the archive, as with `docker save --platform`
          { mediaType: MediaTypes.ociManifest, digest: digestOf('elsewhere'), size: 9, platform: { architecture: other, os: 'linux' } },
          { mediaType: MediaTypes.ociManifest, digest: digestOf(manifest), size: manifest.length, platform: { architecture: p.architecture, os: p.os } },
        ],
      });
      const top = { mediaType: MediaTypes.ociIndex, digest: digestOf(index), size: index.length, annotations: { 'io.containerd.image.name': 'localhost:5000/multi:2' } };
      const members: Member[] = [
        { name: 'oci-layout', type: 'file', data: '{"imageLayoutVersion":"1.0.0"}' },
        { name: 'index.json', type: 'file', data: JSON.stringify({ schemaVersion: 2, manifests: [top] }) },
        ...[layer, configJson, manifest, index].map((d): Member => ({ name: `blobs/sha256/${digestOf(d).slice(7)}`, type: 'file', data: d })),
      ];
      const store = await newStore();
      const result = await loadImages(store, once(tarBuffer(members)));
      assert.deepEqual(result, { images: [{ id: configId, refs: ['localhost:5000/multi:2'] }], messages: ['Loaded image: localhost:5000/multi:2'] });
      const img = await store.resolve('localhost:5000/multi:2');
      assert.equal(img.manifest.digest, digestOf(manifest));
      assert.equal(img.index?.digest, top.digest);
    });
  });

  describe('hostile and broken archives', () => {
    let store: ImageStore;
    before(async () => {
      store = await newStore();
    });

    const blob = (data: string): Member => ({ name: `blobs/sha256/${digestOf(data).slice(7)}`, type: 'file', data });
    const configJson = JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [digestOf('layer')] } });

    async function refused(members: Member[] | Buffer, pattern: RegExp): Promise<void> {
      const buf = Buffer.isBuffer(members) ? members : tarBuffer(members);
      await assert.rejects(loadImages(store, once(buf)), (err: unknown) => {
        assert.ok(isBerthError(err, 'InvalidArgument'), `want InvalidArgument, got ${String(err)}`);
        assert.match((err as Error).message, pattern);
        return true;
      });
      assert.deepEqual(store.list(), [], 'no image registered');
      assert.deepEqual(await store.content.listIngests(), [], 'no ingest left');
      assert.deepEqual(await store.content.listLeases(), [], 'no lease left');
    }

    it('refuses a member climbing out with ..', () => refused([{ name: '../evil', type: 'file', data: 'x' }], /archive member "\.\.\/evil": "\.\." would point outside/));
    it('refuses an absolute member name', () => refused([{ name: '/etc/evil', type: 'file', data: 'x' }], /"\/etc\/evil": absolute names are not allowed/));
    it('refuses a symlinked blob', () =>
      refused([{ name: `blobs/sha256/${digestOf('x').slice(7)}`, type: 'symlink', linkname: '/etc/passwd' }], /blobs must be regular files, not symlinks/));
    it('refuses a symlink pointing outside the archive', () =>
      refused([{ name: 'manifest.json', type: 'symlink', linkname: '../../etc/passwd' }], /"manifest\.json": symlink to "\.\.\/\.\.\/etc\/passwd" points outside the archive/));
    it('refuses hardlinks and devices', async () => {
      await refused([{ name: 'a.tar', type: 'hardlink', linkname: 'b.tar' }], /"a\.tar": hardlink members are not allowed/);
      await refused([{ name: 'dev', type: 'char', devmajor: 1, devminor: 3 }], /"dev": char members are not allowed/);
    });
    it('refuses a blob whose content does not match its name', () =>
      refused([{ name: `blobs/sha256/${digestOf('a').slice(7)}`, type: 'file', data: 'b' }], new RegExp(`archive member "blobs/sha256/${digestOf('a').slice(7)}": digest mismatch`)));
    it('refuses a malformed manifest.json', () => refused([{ name: 'manifest.json', type: 'file', data: '[{"Config": ' }], /manifest\.json is not valid JSON/));
    it('refuses a manifest.json of the wrong shape', () =>
      refused([{ name: 'manifest.json', type: 'file', data: '[{"Config": 5, "Layers": []}]' }], /manifest\.json\[0\]\.Config: want a string/));
    it('refuses a manifest.json naming a missing layer', () =>
      refused(
        [
          { name: 'cfg.json', type: 'file', data: configJson },
          { name: 'manifest.json', type: 'file', data: JSON.stringify([{ Config: 'cfg.json', RepoTags: ['evil:1'], Layers: ['nope/layer.tar'] }]) },
        ],
        /manifest\.json\[0\]\.Layers\[0\]: "nope\/layer\.tar" is not in the archive/,
      ));
    it('refuses a layer that does not match its diff_id', () =>
      refused(
        [
          { name: 'cfg.json', type: 'file', data: configJson },
          { name: 'l/layer.tar', type: 'file', data: 'not the layer' },
          { name: 'manifest.json', type: 'file', data: JSON.stringify([{ Config: 'cfg.json', RepoTags: ['evil:1'], Layers: ['l/layer.tar'] }]) },
        ],
        /manifest\.json\[0\]\.Layers\[0\] "l\/layer\.tar": hashes to sha256:[0-9a-f]+, but the image config's diff_id is/,
      ));
    it('refuses an OCI index naming a manifest the archive lacks', () =>
      refused(
        [
          { name: 'oci-layout', type: 'file', data: '{"imageLayoutVersion":"1.0.0"}' },
          { name: 'index.json', type: 'file', data: JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: MediaTypes.ociManifest, digest: digestOf('m'), size: 1 }] }) },
        ],
        /index\.json manifests\[0\]: blob sha256:[0-9a-f]+ is not in the archive/,
      ));
    it('refuses an OCI manifest whose layer is missing', () => {
      const config = blob(configJson);
      const manifest = JSON.stringify({
        schemaVersion: 2,
        config: { mediaType: MediaTypes.ociConfig, digest: digestOf(configJson), size: configJson.length },
        layers: [{ mediaType: MediaTypes.ociLayer, digest: digestOf('layer'), size: 5 }],
      });
      return refused(
        [
          config,
          blob(manifest),
          { name: 'index.json', type: 'file', data: JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: MediaTypes.ociManifest, digest: digestOf(manifest), size: manifest.length }] }) },
        ],
        /index\.json manifests\[0\] layers\[0\]: layer sha256:[0-9a-f]+ is not in the archive/,
      );
    });
    it('refuses a symlink loop', () =>
      refused(
        [
          { name: 'cfg.json', type: 'symlink', linkname: 'other.json' },
          { name: 'other.json', type: 'symlink', linkname: 'cfg.json' },
          { name: 'manifest.json', type: 'file', data: JSON.stringify([{ Config: 'cfg.json', RepoTags: [], Layers: [] }]) },
        ],
        /manifest\.json\[0\]\.Config: "cfg\.json" is a symlink loop/,
      ));
    it('refuses a legacy archive without manifest.json', () =>
      refused([{ name: 'repositories', type: 'file', data: '{"busybox":{"latest":"abc"}}' }], /pre-1\.10 docker save format is not supported/));
    it('refuses an oversized JSON member', async () => {
      const big = Buffer.alloc(5 * 1024 * 1024, 0x20);
      await refused([{ name: 'index.json', type: 'file', data: big }], /"index\.json" is 5242880 bytes, more than the 4194304-byte limit/);
    });
    it('refuses a truncated archive', async () => {
      const full = readFileSync(join(work, 'berth-save.tar'));
      await refused(full.subarray(0, Math.floor(full.length / 2)), /truncated tar/);
    });
    it('refuses something that is not an image archive', () => refused([{ name: 'hello.txt', type: 'file', data: 'hi' }], /not an image archive/));
  });
});

/** A one-layer image of busybox's layer 1 (in `into`'s content store), not tagged. */
async function baseOnly(from: ImageStore, img: ImageRecord, into: ImageStore = from): Promise<Descriptor> {
  const manifest = await from.manifestOf(img);
  const config = await from.configOf(img);
  const layer = manifest.layers[0]!;
  if (into !== from) await into.content.ingestStream(`copy-${layer.digest}`, (await from.content.createReadStream(layer.digest)) as AsyncIterable<Buffer>, { digest: layer.digest });
  const cfg = Buffer.from(JSON.stringify({ ...config, rootfs: { type: 'layers', diff_ids: [config.rootfs.diff_ids[0]] }, history: [config.history![0]] }));
  const configDesc: Descriptor = { mediaType: MediaTypes.ociConfig, digest: await into.content.writeBlob(cfg), size: cfg.length };
  const m = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaTypes.ociManifest, config: configDesc, layers: [layer] }));
  return { mediaType: MediaTypes.ociManifest, digest: await into.content.writeBlob(m), size: m.length };
}

/** The config digest of the one image in an OCI layout directory. */
function configOfLayout(dir: string): Digest {
  const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as { manifests: Descriptor[] };
  const m = JSON.parse(readFileSync(join(dir, 'blobs/sha256', index.manifests[0]!.digest.slice(7)), 'utf8')) as { config: Descriptor };
  return m.config.digest;
}

/** The archive without some members (rewritten with berth's tar writer). */
async function withoutMembers(archive: Buffer, drop: string[]): Promise<Buffer> {
  const r = new TarReader(once(archive));
  const kept: Member[] = [];
  for (let e = await r.next(); e; e = await r.next()) {
    if (drop.includes(e.name)) continue;
    kept.push(e.type === 'file' ? { ...e, data: await collect(r.data()) } : { ...e });
  }
  return tarBuffer(kept);
}
