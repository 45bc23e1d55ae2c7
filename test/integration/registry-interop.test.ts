// berth's client against berth's server, on loopback: push and pull (the unpacked rootfs
// is the one pushed), a multi-platform index (host platform picked, another on request),
// cross-repository mounts, tag listing with pagination, delete, a pull that resumes with
// Range after the server's connection drops mid-layer, and the server with basic auth
// (login, then push and pull with the stored credentials) and with TLS trusted through
// certs.d.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { createReadStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { importImage } from '../../src/images/import.js';
import { ImageStore, type ImageRecord } from '../../src/images/store.js';
import { MediaTypes, hostPlatform } from '../../src/oci/image-spec.js';
import { Htpasswd } from '../../src/registry/server/auth.js';
import { startRegistry, type RunningRegistry, type RegistryServerOptions } from '../../src/registry/server/server.js';
import { deleteManifest, listTags, listTagsPage } from '../../src/registry/client/catalog.js';
import { pullIngestRef } from '../../src/registry/client/fetch-blob.js';
import { closeIdleConnections } from '../../src/registry/client/http.js';
import { login } from '../../src/registry/client/login.js';
import type { JSONMessage } from '../../src/registry/client/progress.js';
import { pull } from '../../src/registry/client/pull.js';
import { push } from '../../src/registry/client/push.js';
import { createResolver, type ResolverOptions } from '../../src/registry/client/session.js';
import { withTempMount } from '../../src/snapshots/mount.js';
import { isBerthError } from '../../src/util/errors.js';
import { Layout, Proxy, smallLayer, tarDir } from '../helpers/registry-fixtures.js';
import { makeHtpasswd } from '../helpers/registry-server.js';
import { BUSYBOX, isRoot, makeRootfs } from '../helpers/runtime.js';
import { unmountUnder } from '../helpers/snapshotter-suite.js';
import { makeTestCa } from '../helpers/test-ca.js';

const hasSkopeo = spawnSync('skopeo', ['--version']).status === 0;
const skip = !isRoot ? 'needs root (mounts)' : !existsSync(BUSYBOX) ? 'needs /bin/busybox (busybox-static)' : !hasSkopeo ? 'needs skopeo' : false;
const work = skip ? '/nonexistent' : mkdtempSync('/var/tmp/berth-interop-');

const execFileAsync = promisify(execFile);
const servers: RunningRegistry[] = [];
const stores: ImageStore[] = [];

async function serve(name: string, opts: Partial<RegistryServerOptions> = {}): Promise<RunningRegistry> {
  const s = await startRegistry({ root: join(work, name), host: '127.0.0.1', port: 0, deleteEnabled: true, log: () => undefined, ...opts });
  servers.push(s);
  return s;
}

async function newStore(): Promise<ImageStore> {
  const s = await ImageStore.open({ root: join(work, `store-${stores.length + 1}`) });
  stores.push(s);
  return s;
}

function resolver(opts: ResolverOptions = {}) {
  return createResolver({ certsDir: join(work, 'no-certs.d'), authConfigPath: join(work, 'no-auth.json'), ...opts });
}

async function fileAt(store: ImageStore, img: ImageRecord, path: string): Promise<Buffer> {
  const key = `interop-view-${Math.random().toString(16).slice(2)}`;
  const mounts = await store.snapshots.view(key, await store.topChainId(img));
  try {
    return await withTempMount(mounts, async (dir) => readFileSync(join(dir, path)), { tmpRoot: work });
  } finally {
    await store.snapshots.remove(key);
  }
}

function collect(): { messages: JSONMessage[]; onProgress: (m: JSONMessage) => void } {
  const messages: JSONMessage[] = [];
  return { messages, onProgress: (m) => messages.push(m) };
}

describe('berth client ↔ berth registry', { skip }, () => {
  let registry: RunningRegistry;
  let host: string;
  let source: ImageStore;
  let rootfsTar: string;

  before(async () => {
    registry = await serve('registry');
    host = `127.0.0.1:${registry.port}`;
    source = await newStore();
    const rootfs = makeRootfs(join(work, 'rootfs'));
    writeFileSync(join(rootfs, 'etc', 'motd'), 'pushed by berth\n');
    rootfsTar = join(work, 'rootfs.tar');
    writeFileSync(rootfsTar, tarDir(work, rootfs));
    await importImage(source, createReadStream(rootfsTar), { ref: `${host}/team/busybox:1.0`, changes: ['CMD ["/bin/sh"]'] });
  });

  after(async () => {
    closeIdleConnections();
    for (const s of servers) await s.close(1000).catch(() => undefined);
    for (const s of stores) await s.close().catch(() => undefined);
    await unmountUnder(work);
    rmSync(work, { recursive: true, force: true });
  });

  it('pushes an image and pulls it into another store with the same ID, digest and files', async () => {
    const p = collect();
    const pushed = await push(source, resolver(), `${host}/team/busybox:1.0`, { onProgress: p.onProgress });
    assert.equal(pushed.tag, '1.0');
    assert.deepEqual(p.messages.at(-2), { status: `1.0: digest: ${pushed.digest} size: ${pushed.size}` });
    const target = await newStore();
    const pulled = await pull(target, resolver(), `${host}/team/busybox:1.0`);
    assert.equal(pulled.digest, pushed.digest);
    assert.equal(pulled.id, (await source.resolve(`${host}/team/busybox:1.0`)).id);
    assert.equal((await fileAt(target, pulled.image, 'etc/motd')).toString(), 'pushed by berth\n');
    assert.ok((await fileAt(target, pulled.image, 'bin/busybox')).equals(readFileSync(BUSYBOX)));
  });

  it('mounts blobs from another repository of the same registry instead of uploading them', async () => {
    const store = await newStore();
    await pull(store, resolver(), `${host}/team/busybox:1.0`);
    await store.tag(`${host}/team/busybox:1.0`, `${host}/other/copy:latest`);
    const p = collect();
    await push(store, resolver(), `${host}/other/copy:latest`, { onProgress: p.onProgress });
    assert.ok(p.messages.some((m) => m.status === 'Mounted from team/busybox'), JSON.stringify(p.messages));
  });

  it('lists tags page by page, and deletes a manifest so that pulling it fails', async () => {
    for (const tag of ['b', 'a', 'd', 'c']) {
      await source.tag(`${host}/team/busybox:1.0`, `${host}/team/busybox:${tag}`);
      await push(source, resolver(), `${host}/team/busybox:${tag}`);
    }
    const first = await listTagsPage(resolver(), `${host}/team/busybox`, { n: 2 });
    assert.deepEqual(first.tags, ['1.0', 'a']);
    assert.ok(first.next?.includes('last=a'), `next: ${first.next}`);
    assert.deepEqual(await listTags(resolver(), `${host}/team/busybox`, { n: 2 }), ['1.0', 'a', 'b', 'c', 'd']);
    assert.deepEqual(await listTags(resolver(), `${host}/team/busybox`), ['1.0', 'a', 'b', 'c', 'd']);

    await source.tag(`${host}/team/busybox:1.0`, `${host}/doomed/img:x`);
    const { digest } = await push(source, resolver(), `${host}/doomed/img:x`);
    assert.equal(await deleteManifest(resolver(), `${host}/doomed/img:x`), digest);
    await assert.rejects(pull(await newStore(), resolver(), `${host}/doomed/img:x`), (e: unknown) => isBerthError(e, 'NotFound') && /not found/.test((e as Error).message));
  });

  it('pulls the host platform from a multi-platform index, and another platform on request', async () => {
    const layout = new Layout(join(work, 'multi'));
    const base = readFileSync(rootfsTar);
    const amd = { os: 'linux', architecture: 'amd64' };
    const arm = { os: 'linux', architecture: 'arm64', variant: 'v8' };
    const amdImg = layout.image([base, smallLayer(work, 'arch', 'amd64\n')], amd);
    const armImg = layout.image([base, smallLayer(work, 'arch2', 'arm64\n')], arm);
    const index = layout.put(Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaTypes.ociIndex, manifests: [{ ...amdImg.manifest, platform: amd }, { ...armImg.manifest, platform: arm }] })), MediaTypes.ociIndex);
    layout.writeIndex([['multi', index]]);
    // The index goes up with berth: a store that has every platform pushes the whole index.
    const both = await newStore();
    const multiRef = `${host}/team/multi:latest`;
    // Asynchronously: the registry answering skopeo lives in this very process.
    await execFileAsync('skopeo', ['--insecure-policy', 'copy', '--all', '--dest-tls-verify=false', `oci:${layout.dir}:multi`, `docker://${host}/staging/multi:latest`], { timeout: 120_000 });
    await pull(both, resolver(), `${host}/staging/multi:latest`);
    await pull(both, resolver(), `${host}/staging/multi:latest`, { platform: hostPlatform().architecture === 'arm64' ? amd : arm });
    await both.tag(`${host}/staging/multi:latest`, multiRef);
    const pushed = await push(both, resolver(), multiRef);
    assert.equal(pushed.digest, index.digest, 'the index pushed is the index pulled, byte for byte');

    const hostImg = hostPlatform().architecture === 'arm64' ? armImg : amdImg;
    const target = await newStore();
    const got = await pull(target, resolver(), multiRef);
    assert.equal(got.digest, index.digest);
    assert.equal(got.id, hostImg.config.digest);
    const other = await pull(await newStore(), resolver(), multiRef, { platform: arm });
    assert.equal(other.id, armImg.config.digest);
  });

  it('resumes a pull with Range after the server drops the connection mid-layer', async () => {
    const proxy = new Proxy(registry.port);
    await proxy.start();
    try {
      const img = await source.resolve(`${host}/team/busybox:1.0`);
      const layer = (await source.manifestOf(img)).layers[0]!;
      assert.ok(layer.size > proxy.dropAfter, 'the layer is larger than what the proxy lets through');
      proxy.dropDigest = layer.digest;
      const store = await newStore();
      const viaProxy = `127.0.0.1:${proxy.port}/team/busybox:1.0`;
      await assert.rejects(pull(store, resolver(), viaProxy, { attempts: 1 }), (e: unknown) => isBerthError(e, 'Unavailable'));
      const partial = (await store.content.listIngests()).find((i) => i.ref === pullIngestRef(layer.digest));
      assert.ok(partial && partial.offset > 0, 'the interrupted download is kept');
      const again = await pull(store, resolver(), viaProxy);
      assert.equal(again.image.manifest.digest, img.manifest.digest);
      const ranged = proxy.log.filter((l) => l.url.endsWith(`/blobs/${layer.digest}`) && l.range);
      assert.deepEqual(ranged.map((l) => [l.range, l.status]), [[`bytes=${partial.offset}-`, 206]]);
    } finally {
      await proxy.close();
    }
  });

  it('works with basic auth: refuses the anonymous, accepts after login', async () => {
    const htpasswdFile = makeHtpasswd(join(work, 'htpasswd'), { alice: 'wonderland' });
    const secured = await serve('secured', { htpasswd: await Htpasswd.load(htpasswdFile) });
    const shost = `127.0.0.1:${secured.port}`;
    await source.tag(`${host}/team/busybox:1.0`, `${shost}/private/app:1`);
    await assert.rejects(push(source, resolver(), `${shost}/private/app:1`), (e: unknown) => isBerthError(e, 'Unauthorized'));
    const authConfigPath = join(work, 'auth', 'config.json');
    await assert.rejects(login(shost, { username: 'alice', password: 'wrong' }, { authConfigPath }), (e: unknown) => isBerthError(e, 'Unauthorized'));
    assert.equal(await login(shost, { username: 'alice', password: 'wonderland' }, { authConfigPath }), 'Login Succeeded');
    const pushed = await push(source, resolver({ authConfigPath }), `${shost}/private/app:1`);
    const pulled = await pull(await newStore(), resolver({ authConfigPath }), `${shost}/private/app:1`);
    assert.equal(pulled.digest, pushed.digest);
    await assert.rejects(pull(await newStore(), resolver(), `${shost}/private/app:1`), (e: unknown) => isBerthError(e, 'Unauthorized') || isBerthError(e, 'NotFound'));
  });

  it('works over TLS with the CA from certs.d, and refuses the server without it', async () => {
    const caDir = join(work, 'ca');
    mkdirSync(caDir);
    const ca = makeTestCa(caDir);
    const tls = await serve('tls', { tls: { cert: Buffer.from(ca.serverCert), key: Buffer.from(ca.serverKey) } });
    const thost = `127.0.0.1:${tls.port}`;
    const certsDir = join(work, 'certs.d');
    mkdirSync(join(certsDir, thost), { recursive: true });
    writeFileSync(join(certsDir, thost, 'ca.crt'), ca.caCert);
    await source.tag(`${host}/team/busybox:1.0`, `${thost}/secure/app:1`);
    await assert.rejects(push(source, resolver({ loopbackInsecure: false }), `${thost}/secure/app:1`), (e: unknown) => isBerthError(e, 'Unavailable') && /certificate/i.test((e as Error).message));
    const trusted = resolver({ loopbackInsecure: false, certsDir });
    const pushed = await push(source, trusted, `${thost}/secure/app:1`);
    const pulled = await pull(await newStore(), trusted, `${thost}/secure/app:1`);
    assert.equal(pulled.digest, pushed.digest);
  });
});
