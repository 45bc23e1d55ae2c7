// pull and push against a real registry: Debian's docker-registry (distribution 2.8) on
// loopback, fed and read back by skopeo. A hand-made busybox image (and one sharing its
// base layer, and a two-platform index) goes up with skopeo; berth pulls it into fresh
// stores (unpacked rootfs has busybox; progress in Docker's words; already-present layers
// skipped; by digest; host platform picked from the index; mirrors that fail fall back);
// an interrupted pull resumes with a Range request through a proxy that cuts the
// connection mid-layer; berth pushes back (monolithic, chunked, cross-repository mount,
// the whole index) and skopeo copies out the very same digests.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ImageStore, type ImageRecord } from '../../src/images/store.js';
import { MediaTypes, chainIds, hostPlatform, type Descriptor } from '../../src/oci/image-spec.js';
import { withTempMount } from '../../src/snapshots/mount.js';
import type { Digest } from '../../src/util/digest.js';
import { isBerthError } from '../../src/util/errors.js';
import { createResolver } from '../../src/registry/client/session.js';
import { closeIdleConnections } from '../../src/registry/client/http.js';
import { pull, type PullOptions, type PullResult } from '../../src/registry/client/pull.js';
import { push } from '../../src/registry/client/push.js';
import { resolve } from '../../src/registry/client/resolve.js';
import { pullIngestRef } from '../../src/registry/client/fetch-blob.js';
import { shortId, type JSONMessage } from '../../src/registry/client/progress.js';
import { sourceLabelKey } from '../../src/registry/client/source-label.js';
import type { RegistryResolver } from '../../src/registry/client/types.js';
import { unmountUnder } from '../helpers/snapshotter-suite.js';
import { Layout, Proxy, freePort, smallLayer, tarDir, waitForHttp, type Image } from '../helpers/registry-fixtures.js';
import { BUSYBOX, isRoot, makeRootfs } from '../helpers/runtime.js';

const has = (cmd: string, arg: string): boolean => spawnSync(cmd, [arg]).status === 0;
const REGISTRY_BIN = '/usr/bin/docker-registry';
const skip = !isRoot
  ? 'needs root (mounts)'
  : !existsSync(BUSYBOX)
    ? 'needs /bin/busybox (busybox-static)'
    : !has('skopeo', '--version')
      ? 'needs skopeo'
      : !existsSync(REGISTRY_BIN)
        ? 'needs docker-registry'
        : false;
const work = skip ? '/nonexistent' : mkdtempSync('/var/tmp/berth-registry-');

function run(argv: string[]): string {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, `${argv.join(' ')}: ${r.stderr}`);
  return r.stdout;
}
const skopeo = (...args: string[]): string => run(['skopeo', '--insecure-policy', '--tmpdir', work, ...args]);

// ---- the test world ------------------------------------------------------------------

let registry: ChildProcess | undefined;
let port = 0;
let host = '';
let proxy: Proxy | undefined;
const stores: ImageStore[] = [];
let nStore = 0;

const fx: { base: Buffer; a: Image; b: Image; amd: Image; arm: Image; index: Descriptor } = {} as never;

function resolver(opts: Parameters<typeof createResolver>[0] = {}): RegistryResolver {
  return createResolver({ certsDir: join(work, 'certs.d'), authConfigPath: join(work, 'auth.json'), ...opts });
}

async function newStore(): Promise<ImageStore> {
  const s = await ImageStore.open({ root: join(work, `store-${++nStore}`) });
  stores.push(s);
  return s;
}

async function pullCollect(store: ImageStore, ref: string, opts: Omit<PullOptions, 'onProgress'> & { resolver?: RegistryResolver } = {}): Promise<{ result: PullResult; messages: JSONMessage[] }> {
  const messages: JSONMessage[] = [];
  const result = await pull(store, opts.resolver ?? resolver(), ref, { ...opts, onProgress: (m) => messages.push(m) });
  return { result, messages };
}

function statuses(messages: JSONMessage[], id: string): string[] {
  return [...new Set(messages.filter((m) => m.id === id).map((m) => m.status ?? ''))];
}

async function hasBusybox(store: ImageStore, img: ImageRecord): Promise<boolean> {
  const top = chainIds((await store.configOf(img)).rootfs.diff_ids).pop();
  const key = `registry-test-view-${++nStore}`;
  const mounts = await store.snapshots.view(key, top);
  try {
    return await withTempMount(mounts, async (dir) => readFileSync(join(dir, 'bin/busybox')).equals(readFileSync(BUSYBOX)), { tmpRoot: work });
  } finally {
    await store.snapshots.remove(key);
  }
}

/** skopeo copies an image out of the registry; the digests it wrote. */
function copyOut(repoTag: string, all = false): { manifest: Digest; blobs: Set<string> } {
  const out = join(work, `out-${++nStore}`);
  skopeo('copy', ...(all ? ['--all'] : []), '--src-tls-verify=false', `docker://${host}/${repoTag}`, `oci:${out}:x`);
  const index = JSON.parse(readFileSync(join(out, 'index.json'), 'utf8')) as { manifests: Descriptor[] };
  const blobs = new Set(spawnSync('ls', [join(out, 'blobs/sha256')], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean).map((h) => `sha256:${h}`));
  return { manifest: index.manifests[0]!.digest, blobs };
}

describe('registry pull and push', { skip }, () => {
  before(async () => {
    const rootfs = makeRootfs(join(work, 'src'));
    fx.base = tarDir(work, rootfs);
    const layout = new Layout(join(work, 'oci-src'));
    fx.a = layout.image([fx.base, smallLayer(work, 'a', 'image a\n')]);
    fx.b = layout.image([fx.base, smallLayer(work, 'b', 'image b\n')]);
    const amd = { os: 'linux', architecture: 'amd64' };
    const arm = { os: 'linux', architecture: 'arm64', variant: 'v8' };
    fx.amd = layout.image([fx.base, smallLayer(work, 'amd', 'amd64\n')], amd);
    fx.arm = layout.image([fx.base, smallLayer(work, 'arm', 'arm64\n')], arm);
    const index = { schemaVersion: 2, mediaType: MediaTypes.ociIndex, manifests: [{ ...fx.amd.manifest, platform: amd }, { ...fx.arm.manifest, platform: arm }] };
    fx.index = layout.put(Buffer.from(JSON.stringify(index)), MediaTypes.ociIndex);
    layout.writeIndex([['a', fx.a.manifest], ['b', fx.b.manifest], ['multi', fx.index]]);

    port = await freePort();
    host = `127.0.0.1:${port}`;
    const config = join(work, 'registry.yml');
    writeFileSync(
      config,
      [
        'version: 0.1',
        'log:',
        '  level: error',
        'storage:',
        '  filesystem:',
        `    rootdirectory: ${join(work, 'registry-data')}`,
        '  delete:',
        '    enabled: true',
        'http:',
        `  addr: ${host}`,
        '',
      ].join('\n'),
    );
    // distribution logs every 404 at level error; its output is noise here.
    registry = spawn(REGISTRY_BIN, ['serve', config], { stdio: 'ignore' });
    await waitForHttp(port);
    const dest = (repo: string): string => `docker://${host}/${repo}`;
    skopeo('copy', '--dest-tls-verify=false', `oci:${layout.dir}:a`, dest('src/busybox:1'));
    skopeo('copy', '--dest-tls-verify=false', `oci:${layout.dir}:b`, dest('src/busybox:2'));
    skopeo('copy', '--all', '--dest-tls-verify=false', `oci:${layout.dir}:multi`, dest('multi:latest'));
    proxy = new Proxy(port);
    await proxy.start();
  });

  after(async () => {
    closeIdleConnections();
    await proxy?.close();
    if (registry?.pid) {
      registry.kill('SIGKILL');
      await new Promise((r) => (registry!.exitCode !== null || registry!.signalCode !== null ? r(undefined) : registry!.once('exit', r)));
    }
    for (const s of stores) await s.close().catch(() => undefined);
    await unmountUnder(work);
    rmSync(work, { recursive: true, force: true });
  });

  it('pulls an image skopeo pushed, with dockerd\'s progress messages; the rootfs has busybox', async () => {
    const store = await newStore();
    const ref = `${host}/src/busybox:1`;
    const { result, messages } = await pullCollect(store, ref);
    assert.equal(result.digest, fx.a.manifest.digest);
    assert.equal(result.id, fx.a.config.digest);
    assert.equal(result.updated, true);
    assert.ok(await hasBusybox(store, result.image));
    assert.deepEqual(result.image.repoTags, [ref]);
    assert.deepEqual(result.image.repoDigests, [`${host}/src/busybox@${fx.a.manifest.digest}`]);

    assert.deepEqual(messages[0], { status: 'Pulling from src/busybox', id: '1' });
    for (const layer of fx.a.layers) {
      const id = shortId(layer.digest);
      assert.deepEqual(statuses(messages, id), ['Pulling fs layer', 'Downloading', 'Verifying Checksum', 'Download complete', 'Extracting', 'Pull complete']);
      const last = messages.filter((m) => m.id === id && m.status === 'Downloading').at(-1)!;
      assert.deepEqual(last.progressDetail, { current: layer.size, total: layer.size });
      assert.match(last.progress!, /^\[=+>\] +[\d.]+[kM]?B\/[\d.]+[kM]?B$/);
    }
    assert.deepEqual(messages.slice(-2), [{ status: `Digest: ${fx.a.manifest.digest}` }, { status: `Status: Downloaded newer image for ${ref}` }]);

    // The provenance that lets a later push mount instead of upload.
    const info = await store.content.info(fx.a.layers[0]!.digest);
    assert.equal(info?.labels[sourceLabelKey(host)], 'src/busybox');
    assert.deepEqual(await store.content.listIngests(), []);
    assert.deepEqual(await store.content.listLeases(), []);

    const again = await pullCollect(store, ref);
    assert.equal(again.result.updated, false);
    for (const layer of fx.a.layers) assert.deepEqual(statuses(again.messages, shortId(layer.digest)), ['Already exists']);
    assert.deepEqual(again.messages.at(-1), { status: `Status: Image is up to date for ${ref}` });
  });

  it('skips layers already present and makes queued layers wait', async () => {
    const store = await newStore();
    await pullCollect(store, `${host}/src/busybox:1`);
    const { result, messages } = await pullCollect(store, `${host}/src/busybox:2`, { concurrency: 1 });
    assert.equal(result.id, fx.b.config.digest);
    assert.deepEqual(statuses(messages, shortId(fx.b.layers[0]!.digest)), ['Already exists']);
    assert.ok(statuses(messages, shortId(fx.b.layers[1]!.digest)).includes('Download complete'));

    const fresh = await newStore();
    const queued = await pullCollect(fresh, `${host}/src/busybox:1`, { concurrency: 1 });
    assert.deepEqual(statuses(queued.messages, shortId(fx.a.layers[1]!.digest)).slice(0, 2), ['Pulling fs layer', 'Waiting']);
    assert.ok(!statuses(queued.messages, shortId(fx.a.layers[0]!.digest)).includes('Waiting'));
  });

  it('pulls by digest', async () => {
    const store = await newStore();
    const ref = `${host}/src/busybox@${fx.b.manifest.digest}`;
    const { result, messages } = await pullCollect(store, ref);
    assert.equal(result.digest, fx.b.manifest.digest);
    assert.equal(result.id, fx.b.config.digest);
    assert.equal(result.ref, ref);
    assert.deepEqual(result.image.repoTags, []);
    assert.deepEqual(result.image.repoDigests, [ref]);
    assert.deepEqual(messages[0], { status: 'Pulling from src/busybox', id: fx.b.manifest.digest });
    assert.deepEqual(messages.at(-1), { status: `Status: Downloaded newer image for ${ref}` });
    assert.ok(await hasBusybox(store, result.image));
  });

  it('picks the host platform from an index, or the one asked for', async () => {
    const store = await newStore();
    const { result } = await pullCollect(store, `${host}/multi`);
    assert.equal(result.digest, fx.index.digest);
    const host64 = hostPlatform().architecture === 'arm64' ? fx.arm : fx.amd;
    assert.equal(result.image.manifest.digest, host64.manifest.digest);
    assert.equal(result.image.index?.digest, fx.index.digest);
    assert.ok(await hasBusybox(store, result.image));
    const r = await resolve(resolver(), `${host}/multi:latest`, { platform: { os: 'linux', architecture: 'arm64' } });
    assert.equal(r.manifest.descriptor.digest, fx.arm.manifest.digest);
    assert.equal(r.root.digest, fx.index.digest);
    await assert.rejects(resolve(resolver(), `${host}/multi:latest`, { platform: { os: 'linux', architecture: 's390x' } }), /no matching manifest for linux\/s390x/);
  });

  it('fails as docker does for missing tags, repositories and local images', async () => {
    const store = await newStore();
    await assert.rejects(pull(store, resolver(), `${host}/src/busybox:nope`), (err: unknown) => {
      assert.ok(isBerthError(err, 'NotFound'));
      assert.equal((err as Error).message, `manifest for ${host}/src/busybox:nope not found: manifest unknown: manifest unknown`);
      return true;
    });
    // distribution 2.8 says MANIFEST_UNKNOWN for a repository it never saw; others say NAME_UNKNOWN.
    await assert.rejects(pull(store, resolver(), `${host}/no/such:1`), (err: unknown) => {
      assert.ok(isBerthError(err, 'NotFound'));
      assert.match((err as Error).message, new RegExp(`^(manifest for ${host}/no/such:1|repository ${host}/no/such) not found: `));
      return true;
    });
    await assert.rejects(push(store, resolver(), `${host}/nothing:here`), /An image does not exist locally with the tag: 127\.0\.0\.1:\d+\/nothing/);
    assert.deepEqual(await store.content.listLeases(), []);
  });

  it('falls back from mirrors that fail to the registry', async () => {
    const deadPort = await freePort();
    const notFound = new Proxy(port);
    notFound.notFound = true;
    await notFound.start();
    try {
      const r = resolver({ mirrors: { [host]: [`http://127.0.0.1:${deadPort}`, `http://127.0.0.1:${notFound.port}`] } });
      const store = await newStore();
      const { result } = await pullCollect(store, `${host}/src/busybox:1`, { resolver: r });
      assert.equal(result.digest, fx.a.manifest.digest);
      assert.equal(result.fallbacks.length, 2);
      assert.match(result.fallbacks[0]!.endpoint, new RegExp(`:${deadPort}/$`));
      assert.match(result.fallbacks[1]!.reason, /not found/);
      assert.ok(notFound.log.some((l) => l.url.includes('/manifests/1')));
    } finally {
      await notFound.close();
    }
  });

  it('resumes an interrupted pull with a Range request', async () => {
    const store = await newStore();
    const ref = `127.0.0.1:${proxy!.port}/src/busybox:1`;
    const big = fx.a.layers[0]!;
    proxy!.log.length = 0;
    proxy!.dropDigest = big.digest;
    await assert.rejects(pull(store, resolver(), ref, { attempts: 1 }), (err: unknown) => isBerthError(err, 'Unavailable'));
    const partial = (await store.content.listIngests()).find((i) => i.ref === pullIngestRef(big.digest));
    assert.ok(partial && partial.offset > 0 && partial.offset < big.size, `a partial ingest is kept: ${JSON.stringify(partial)}`);
    assert.deepEqual(await store.content.listLeases(), []);

    const { result } = await pullCollect(store, ref);
    assert.equal(result.digest, fx.a.manifest.digest);
    const ranged = proxy!.log.filter((l) => l.range !== undefined);
    assert.deepEqual(ranged.map((l) => l.range), [`bytes=${partial.offset}-`]);
    assert.equal(ranged[0]!.status, 206);
    assert.ok(await hasBusybox(store, result.image));
    assert.deepEqual(await store.content.listIngests(), []);
  });

  it('retries within one pull, resuming where the connection dropped', async () => {
    const store = await newStore();
    const big = fx.a.layers[0]!;
    proxy!.log.length = 0;
    proxy!.dropDigest = big.digest;
    const { result, messages } = await pullCollect(store, `127.0.0.1:${proxy!.port}/src/busybox:1`);
    assert.equal(result.id, fx.a.config.digest);
    assert.ok(statuses(messages, shortId(big.digest)).includes('Retrying in 1 second'));
    const ranged = proxy!.log.filter((l) => l.range !== undefined);
    assert.equal(ranged.length, 1);
    assert.match(ranged[0]!.range!, /^bytes=[1-9]\d*-$/);
  });

  it('starts a layer over when the server ignores Range', async () => {
    const store = await newStore();
    const big = fx.a.layers[0]!;
    proxy!.log.length = 0;
    proxy!.dropDigest = big.digest;
    proxy!.stripRange = true;
    try {
      const { result } = await pullCollect(store, `127.0.0.1:${proxy!.port}/src/busybox:1`);
      assert.equal(result.id, fx.a.config.digest);
      const ranged = proxy!.log.filter((l) => l.range !== undefined);
      assert.equal(ranged.length, 1);
      assert.equal(ranged[0]!.status, 200);
      assert.ok(await hasBusybox(store, result.image));
    } finally {
      proxy!.stripRange = false;
    }
  });

  it('stops at once when aborted, keeping the partial layer and no lease', async () => {
    const store = await newStore();
    const ctl = new AbortController();
    const big = fx.a.layers[0]!;
    const onProgress = (m: JSONMessage): void => {
      if (m.status === 'Downloading' && m.id === shortId(big.digest)) ctl.abort();
    };
    await assert.rejects(pull(store, resolver(), `${host}/src/busybox:1`, { signal: ctl.signal, onProgress }), (err: unknown) => (err as Error).name === 'AbortError');
    assert.deepEqual(await store.content.listLeases(), []);
    assert.equal(await store.content.has(big.digest), false);
    const partial = (await store.content.listIngests()).find((i) => i.ref === pullIngestRef(big.digest));
    assert.ok(partial && partial.offset > 0, 'the bytes so far stay for the next pull');
    assert.deepEqual(store.list(), []);
  });

  it('pushes an image that skopeo copies out with the same digests, then finds its layers there', async () => {
    const store = await newStore();
    await pullCollect(store, `${host}/src/busybox:1`);
    // Under the name "localhost" the blobs have no provenance on this registry, so they are uploaded.
    const target = `localhost:${port}/copy/busybox:1`;
    await store.tag(`${host}/src/busybox:1`, target);
    const messages: JSONMessage[] = [];
    const result = await push(store, resolver(), target, { onProgress: (m) => messages.push(m) });
    assert.equal(result.digest, fx.a.manifest.digest);
    assert.equal(result.size, fx.a.manifest.size);
    assert.equal(result.tag, '1');
    assert.deepEqual(messages[0], { status: `The push refers to repository [localhost:${port}/copy/busybox]` });
    const diffIds = (await store.configOf(await store.resolve(target))).rootfs.diff_ids;
    for (const d of diffIds) {
      const seen = statuses(messages, shortId(d));
      assert.deepEqual([seen[0], seen.at(-1)], ['Preparing', 'Pushed']);
      assert.ok(seen.includes('Pushing'));
    }
    assert.deepEqual(messages.slice(-2), [
      { status: `1: digest: ${fx.a.manifest.digest} size: ${fx.a.manifest.size}` },
      { progressDetail: {}, aux: { Tag: '1', Digest: fx.a.manifest.digest, Size: fx.a.manifest.size } },
    ]);
    const out = copyOut('copy/busybox:1');
    assert.equal(out.manifest, fx.a.manifest.digest);
    for (const d of [fx.a.config.digest, ...fx.a.layers.map((l) => l.digest)]) assert.ok(out.blobs.has(d), d);

    const again: JSONMessage[] = [];
    await push(store, resolver(), target, { onProgress: (m) => again.push(m) });
    for (const d of diffIds) assert.deepEqual(statuses(again, shortId(d)), ['Preparing', 'Layer already exists']);
  });

  it('pushes in chunks (PATCH with Content-Range, then PUT)', async () => {
    const store = await newStore();
    await pullCollect(store, `${host}/src/busybox:2`);
    const target = `127.0.0.1:${proxy!.port}/chunked/busybox:2`;
    await store.tag(`${host}/src/busybox:2`, target);
    proxy!.log.length = 0;
    const result = await push(store, resolver(), target, { chunkSize: 256 * 1024 });
    assert.equal(result.digest, fx.b.manifest.digest);
    const patches = proxy!.log.filter((l) => l.method === 'PATCH');
    assert.ok(patches.length >= Math.ceil(fx.b.layers[0]!.size / (256 * 1024)), `${patches.length} PATCH requests`);
    const big = fx.b.layers[0]!.size;
    assert.ok(patches.some((p) => p.contentRange === `0-${256 * 1024 - 1}`));
    assert.ok(patches.some((p) => p.contentRange === `${Math.floor(big / (256 * 1024)) * 256 * 1024}-${big - 1}`), 'the last chunk ends at the last byte');
    assert.ok(proxy!.log.some((l) => l.method === 'PUT' && /[?&]digest=sha256%3A/.test(l.url)));
    const out = copyOut('chunked/busybox:2');
    assert.equal(out.manifest, fx.b.manifest.digest);
    for (const l of fx.b.layers) assert.ok(out.blobs.has(l.digest));
  });

  it('mounts blobs from the repository they were pulled from', async () => {
    const store = await newStore();
    await pullCollect(store, `${host}/src/busybox:1`);
    const target = `${host}/mounted/busybox:1`;
    await store.tag(`${host}/src/busybox:1`, target);
    const messages: JSONMessage[] = [];
    const result = await push(store, resolver(), target, { onProgress: (m) => messages.push(m) });
    assert.equal(result.digest, fx.a.manifest.digest);
    const diffIds = (await store.configOf(await store.resolve(target))).rootfs.diff_ids;
    for (const d of diffIds) assert.deepEqual(statuses(messages, shortId(d)), ['Preparing', 'Mounted from src/busybox']);
    // Pushing records the new home too.
    const info = await store.content.info(fx.a.layers[0]!.digest);
    assert.equal(info?.labels[sourceLabelKey(host)], 'src/busybox,mounted/busybox');
    assert.equal(copyOut('mounted/busybox:1').manifest, fx.a.manifest.digest);
  });

  it('pushes the whole index when every platform is present, else the platform manifest', async () => {
    const store = await newStore();
    await pullCollect(store, `${host}/multi:latest`);
    const one = `localhost:${port}/multi-one:latest`;
    await store.tag(`${host}/multi:latest`, one);
    const host64 = hostPlatform().architecture === 'arm64' ? fx.arm : fx.amd;
    assert.equal((await push(store, resolver(), one)).digest, host64.manifest.digest);

    const other = hostPlatform().architecture === 'arm64' ? { os: 'linux', architecture: 'amd64' } : { os: 'linux', architecture: 'arm64' };
    await pullCollect(store, `${host}/multi:latest`, { platform: other });
    const all = `localhost:${port}/multi-all:latest`;
    await store.tag(`${host}/multi:latest`, all);
    const result = await push(store, resolver(), all);
    assert.equal(result.digest, fx.index.digest);
    assert.equal(result.mediaType, MediaTypes.ociIndex);
    const out = copyOut('multi-all:latest', true);
    assert.equal(out.manifest, fx.index.digest);
    for (const d of [fx.amd.manifest.digest, fx.arm.manifest.digest, fx.amd.config.digest, fx.arm.config.digest]) assert.ok(out.blobs.has(d), d);
  });
});
