// `berth registry serve` over real HTTP on 127.0.0.1: groups after the OCI
// distribution-spec conformance suite (pull, push, content discovery, content
// management, error codes), one test per hostile or broken input — each checking on
// disk that nothing unverified was stored — then read-only mode, htpasswd auth, TLS,
// gc, and the CLI itself (port 0, SIGTERM, the lock).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { existsSync, lstatSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { MediaTypes } from '../../src/oci/image-spec.js';
import { Htpasswd } from '../../src/registry/server/auth.js';
import { collectGarbage } from '../../src/registry/server/gc.js';
import { startRegistry, type RegistryServerOptions, type RunningRegistry } from '../../src/registry/server/server.js';
import { digestOf, type Digest } from '../../src/util/digest.js';
import { fetchRaw, listFiles, makeHtpasswd, makeTls, removeDir, runCli, startCli, tempDir, type RequestOptions, type Response } from '../helpers/registry-server.js';

const work = tempDir('berth-registry-server');
const servers: RunningRegistry[] = [];
let nRoot = 0;

after(async () => {
  try {
    for (const s of servers) await s.close(200);
  } finally {
    removeDir(work);
  }
});

interface Client {
  reg: RunningRegistry;
  root: string;
  req(method: string, path: string, opts?: RequestOptions): Promise<Response>;
}

async function serve(opts: Partial<RegistryServerOptions> = {}, clientOpts: RequestOptions = {}): Promise<Client> {
  const root = opts.root ?? join(work, `root-${++nRoot}`);
  const reg = await startRegistry({ host: '127.0.0.1', port: 0, log: () => undefined, ...opts, root });
  servers.push(reg);
  return {
    reg,
    root,
    req: (method, path, o = {}) => fetchRaw(reg.url, path, { ...clientOpts, ...o, method, headers: { ...clientOpts.headers, ...o.headers } }),
  };
}

interface Blob {
  data: Buffer;
  digest: Digest;
  size: number;
}

function blob(content: string | Buffer): Blob {
  const data = Buffer.from(content);
  return { data, digest: digestOf(data), size: data.length };
}

function desc(b: Blob, mediaType: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { mediaType, digest: b.digest, size: b.size, ...extra };
}

function manifestOf(config: Blob, layers: Blob[], extra: Record<string, unknown> = {}, configType: string = MediaTypes.ociConfig): Blob {
  return blob(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaTypes.ociManifest,
      config: desc(config, configType),
      layers: layers.map((l) => desc(l, MediaTypes.ociLayerGzip)),
      ...extra,
    }),
  );
}

function errorCodes(r: Response): string[] {
  return (r.json<{ errors: { code: string }[] }>().errors ?? []).map((e) => e.code);
}

async function pushBlob(c: Client, repo: string, b: Blob): Promise<void> {
  const r = await c.req('POST', `/v2/${repo}/blobs/uploads/?digest=${b.digest}`, {
    body: b.data,
    headers: { 'Content-Type': 'application/octet-stream' },
  });
  assert.equal(r.status, 201, r.body.toString());
}

async function putManifest(c: Client, repo: string, ref: string, m: Blob, mediaType: string = MediaTypes.ociManifest): Promise<Response> {
  return c.req('PUT', `/v2/${repo}/manifests/${ref}`, { body: m.data, headers: { 'Content-Type': mediaType } });
}

/** Config, one layer, manifest tagged `tag`; returns all three. */
async function pushImage(c: Client, repo: string, tag: string, seed: string): Promise<{ config: Blob; layer: Blob; manifest: Blob }> {
  const config = blob(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, seed }));
  const layer = blob(`layer of ${seed} `.repeat(200));
  await pushBlob(c, repo, config);
  await pushBlob(c, repo, layer);
  const manifest = manifestOf(config, [layer]);
  const r = await putManifest(c, repo, tag, manifest);
  assert.equal(r.status, 201, r.body.toString());
  return { config, layer, manifest };
}

/** What is stored for good: blobs and repository links (uploads are in progress by definition). */
function committed(root: string): string[] {
  return [...listFiles(join(root, 'blobs')).map((f) => `blobs/${f}`), ...listFiles(join(root, 'repositories')).map((f) => `repositories/${f}`)];
}

async function until(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** Send headers announcing `contentLength` bytes, then only `body`, then close the connection. */
async function truncatedRequest(port: number, method: string, path: string, contentLength: number, body: Buffer, headers: Record<string, string> = {}): Promise<void> {
  const sock = connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    sock.once('connect', resolve);
    sock.once('error', reject);
  });
  const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
  sock.write(`${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/octet-stream\r\nContent-Length: ${contentLength}\r\n${extra}\r\n`);
  sock.write(body);
  await sleep(100);
  sock.destroy();
}

function uploadsOf(root: string): string[] {
  return listFiles(join(root, 'uploads'));
}

// ---------------------------------------------------------------------------

describe('registry server: pull', () => {
  let c: Client;
  let img: Awaited<ReturnType<typeof pushImage>>;
  before(async () => {
    c = await serve();
    img = await pushImage(c, 'library/pull', 'v1', 'pull');
  });

  it('GET /v2/ answers 200 {} with the API version header', async () => {
    const r = await c.req('GET', '/v2/');
    assert.equal(r.status, 200);
    assert.equal(r.headers['docker-distribution-api-version'], 'registry/2.0');
    assert.deepEqual(r.json(), {});
  });

  it('every response carries Docker-Distribution-API-Version, errors too', async () => {
    for (const path of ['/v2/library/pull/manifests/nope', '/v2/NOPE/tags/list', '/nothing-here']) {
      const r = await c.req('GET', path);
      assert.ok(r.status >= 400);
      assert.equal(r.headers['docker-distribution-api-version'], 'registry/2.0', path);
    }
  });

  it('GET manifest by tag: body as pushed, stored Content-Type, Docker-Content-Digest', async () => {
    const r = await c.req('GET', '/v2/library/pull/manifests/v1', { headers: { Accept: MediaTypes.ociManifest } });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, img.manifest.data);
    assert.equal(r.headers['content-type'], MediaTypes.ociManifest);
    assert.equal(r.headers['docker-content-digest'], img.manifest.digest);
    assert.equal(r.headers['content-length'], String(img.manifest.size));
  });

  it('GET and HEAD manifest by digest', async () => {
    const g = await c.req('GET', `/v2/library/pull/manifests/${img.manifest.digest}`);
    assert.equal(g.status, 200);
    assert.deepEqual(g.body, img.manifest.data);
    const h = await c.req('HEAD', `/v2/library/pull/manifests/${img.manifest.digest}`);
    assert.equal(h.status, 200);
    assert.equal(h.body.length, 0);
    assert.equal(h.headers['content-length'], String(img.manifest.size));
    assert.equal(h.headers['docker-content-digest'], img.manifest.digest);
  });

  it('GET and HEAD blob', async () => {
    const g = await c.req('GET', `/v2/library/pull/blobs/${img.layer.digest}`);
    assert.equal(g.status, 200);
    assert.deepEqual(g.body, img.layer.data);
    assert.equal(g.headers['docker-content-digest'], img.layer.digest);
    assert.equal(g.headers['content-length'], String(img.layer.size));
    const h = await c.req('HEAD', `/v2/library/pull/blobs/${img.config.digest}`);
    assert.equal(h.status, 200);
    assert.equal(h.body.length, 0);
    assert.equal(h.headers['content-length'], String(img.config.size));
  });

  it('blob Range: 206 with Content-Range for a-b, a- and -n; 416 past the end', async () => {
    const path = `/v2/library/pull/blobs/${img.layer.digest}`;
    const size = img.layer.size;
    const r1 = await c.req('GET', path, { headers: { Range: 'bytes=10-19' } });
    assert.equal(r1.status, 206);
    assert.deepEqual(r1.body, img.layer.data.subarray(10, 20));
    assert.equal(r1.headers['content-range'], `bytes 10-19/${size}`);
    const r2 = await c.req('GET', path, { headers: { Range: `bytes=${size - 5}-` } });
    assert.equal(r2.status, 206);
    assert.deepEqual(r2.body, img.layer.data.subarray(size - 5));
    const r3 = await c.req('GET', path, { headers: { Range: 'bytes=-7' } });
    assert.equal(r3.status, 206);
    assert.deepEqual(r3.body, img.layer.data.subarray(size - 7));
    const r4 = await c.req('GET', path, { headers: { Range: `bytes=${size}-` } });
    assert.equal(r4.status, 416);
    assert.equal(r4.headers['content-range'], `bytes */${size}`);
  });

  it('unknown manifest and blob: 404 MANIFEST_UNKNOWN / BLOB_UNKNOWN', async () => {
    const m = await c.req('GET', '/v2/library/pull/manifests/nope');
    assert.equal(m.status, 404);
    assert.deepEqual(errorCodes(m), ['MANIFEST_UNKNOWN']);
    const b = await c.req('GET', `/v2/library/pull/blobs/${digestOf('nothing')}`);
    assert.equal(b.status, 404);
    assert.deepEqual(errorCodes(b), ['BLOB_UNKNOWN']);
  });

  it('a blob stored for another repository is BLOB_UNKNOWN here', async () => {
    const r = await c.req('GET', `/v2/other/repo/blobs/${img.layer.digest}`);
    assert.equal(r.status, 404);
    assert.deepEqual(errorCodes(r), ['BLOB_UNKNOWN']);
    const m = await c.req('GET', `/v2/other/repo/manifests/${img.manifest.digest}`);
    assert.equal(m.status, 404);
  });

  it('Docker schema2 manifest and manifest list come back with their media types', async () => {
    const config = blob('{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}');
    const layer = blob('docker layer');
    await pushBlob(c, 'docker/img', config);
    await pushBlob(c, 'docker/img', layer);
    const m = blob(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaTypes.dockerManifest,
        config: desc(config, MediaTypes.dockerConfig),
        layers: [desc(layer, MediaTypes.dockerLayerGzip)],
      }),
    );
    assert.equal((await putManifest(c, 'docker/img', 'v2', m, MediaTypes.dockerManifest)).status, 201);
    const list = blob(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaTypes.dockerManifestList,
        manifests: [desc(m, MediaTypes.dockerManifest, { platform: { architecture: 'amd64', os: 'linux' } })],
      }),
    );
    assert.equal((await putManifest(c, 'docker/img', 'list', list, MediaTypes.dockerManifestList)).status, 201);
    const g1 = await c.req('GET', '/v2/docker/img/manifests/v2');
    assert.equal(g1.headers['content-type'], MediaTypes.dockerManifest);
    const g2 = await c.req('GET', '/v2/docker/img/manifests/list');
    assert.equal(g2.headers['content-type'], MediaTypes.dockerManifestList);
    assert.deepEqual(g2.body, list.data);
  });
});

describe('registry server: push', () => {
  let c: Client;
  before(async () => {
    c = await serve();
  });

  it('monolithic POST ?digest=: 201, Location, Docker-Content-Digest; the blob is on disk and linked', async () => {
    const b = blob('monolithic');
    const r = await c.req('POST', `/v2/push/mono/blobs/uploads/?digest=${b.digest}`, { body: b.data });
    assert.equal(r.status, 201);
    assert.equal(r.headers.location, `/v2/push/mono/blobs/${b.digest}`);
    assert.equal(r.headers['docker-content-digest'], b.digest);
    const file = join(c.root, 'blobs/sha256', b.digest.slice(7));
    assert.deepEqual(readFileSync(file), b.data);
    assert.equal(statSync(file).mode & 0o777, 0o444);
    assert.ok(existsSync(join(c.root, 'repositories/push/mono/_blobs/sha256', b.digest.slice(7))));
    assert.deepEqual(uploadsOf(c.root), []);
    assert.deepEqual((await c.req('GET', r.headers.location!)).body, b.data);
  });

  it('POST then PUT with the body', async () => {
    const b = blob('post then put');
    const p = await c.req('POST', '/v2/push/two/blobs/uploads/');
    assert.equal(p.status, 202);
    assert.match(p.headers.location!, /^\/v2\/push\/two\/blobs\/uploads\/[0-9a-f-]{36}$/);
    assert.equal(p.headers['docker-upload-uuid'], p.headers.location!.split('/').pop());
    assert.equal(p.headers.range, '0-0');
    const u = await c.req('PUT', `${p.headers.location}?digest=${b.digest}`, { body: b.data });
    assert.equal(u.status, 201);
    assert.equal(u.headers['docker-content-digest'], b.digest);
    assert.deepEqual((await c.req('GET', `/v2/push/two/blobs/${b.digest}`)).body, b.data);
    assert.deepEqual(uploadsOf(c.root), []);
  });

  it('chunked: PATCH with Content-Range, status GET, PATCH without a range, final PUT', async () => {
    const b = blob(Buffer.alloc(300_000, 'abcdefgh'));
    const p = await c.req('POST', '/v2/push/chunks/blobs/uploads/');
    const loc = p.headers.location!;
    const id = p.headers['docker-upload-uuid'];
    const c1 = await c.req('PATCH', loc, { body: b.data.subarray(0, 100_000), headers: { 'Content-Range': '0-99999', 'Content-Type': 'application/octet-stream' } });
    assert.equal(c1.status, 202);
    assert.equal(c1.headers.range, '0-99999');
    assert.equal(c1.headers.location, loc);
    assert.equal(c1.headers['docker-upload-uuid'], id);
    const s = await c.req('GET', loc);
    assert.equal(s.status, 204);
    assert.equal(s.headers.range, '0-99999');
    assert.equal(s.headers['docker-upload-uuid'], id);
    assert.equal(s.headers.location, loc);
    const c2 = await c.req('PATCH', c1.headers.location!, { body: b.data.subarray(100_000, 250_000) });
    assert.equal(c2.status, 202);
    assert.equal(c2.headers.range, '0-249999');
    const done = await c.req('PUT', `${c2.headers.location}?digest=${b.digest}`, {
      body: b.data.subarray(250_000),
      headers: { 'Content-Range': '250000-299999' },
    });
    assert.equal(done.status, 201, done.body.toString());
    assert.deepEqual((await c.req('GET', `/v2/push/chunks/blobs/${b.digest}`)).body, b.data);
  });

  it('chunked upload survives a server restart (hash state rebuilt from the partial file)', async () => {
    const root = join(work, 'restart-root');
    const first = await serve({ root });
    const b = blob(Buffer.alloc(64_000, 'restart!'));
    const p = await first.req('POST', '/v2/push/restart/blobs/uploads/');
    await first.req('PATCH', p.headers.location!, { body: b.data.subarray(0, 40_000), headers: { 'Content-Range': '0-39999' } });
    await first.reg.close();
    const second = await serve({ root });
    const s = await second.req('GET', p.headers.location!);
    assert.equal(s.status, 204);
    assert.equal(s.headers.range, '0-39999');
    await second.req('PATCH', p.headers.location!, { body: b.data.subarray(40_000), headers: { 'Content-Range': '40000-63999' } });
    const done = await second.req('PUT', `${p.headers.location}?digest=${b.digest}`);
    assert.equal(done.status, 201, done.body.toString());
    assert.deepEqual((await second.req('GET', `/v2/push/restart/blobs/${b.digest}`)).body, b.data);
  });

  it('cross-repository mount: 201 when the source has the blob, else a new upload (202)', async () => {
    const b = blob('mount me');
    await pushBlob(c, 'push/source', b);
    const m = await c.req('POST', `/v2/push/target/blobs/uploads/?mount=${b.digest}&from=push/source`);
    assert.equal(m.status, 201);
    assert.equal(m.headers.location, `/v2/push/target/blobs/${b.digest}`);
    assert.equal(m.headers['docker-content-digest'], b.digest);
    assert.deepEqual((await c.req('GET', `/v2/push/target/blobs/${b.digest}`)).body, b.data);

    const missing = blob('not in source');
    const f = await c.req('POST', `/v2/push/target2/blobs/uploads/?mount=${missing.digest}&from=push/source`);
    assert.equal(f.status, 202);
    assert.match(f.headers.location!, /^\/v2\/push\/target2\/blobs\/uploads\//);
    // A blob the source repository does not link is not mounted, even if stored for another.
    const g = await c.req('POST', `/v2/push/target3/blobs/uploads/?mount=${b.digest}&from=push/nothing`);
    assert.equal(g.status, 202);
    await c.req('DELETE', f.headers.location!);
    await c.req('DELETE', g.headers.location!);
  });

  it('DELETE cancels an upload: 204, then BLOB_UPLOAD_UNKNOWN, nothing left', async () => {
    const p = await c.req('POST', '/v2/push/cancel/blobs/uploads/');
    await c.req('PATCH', p.headers.location!, { body: 'some bytes' });
    const d = await c.req('DELETE', p.headers.location!);
    assert.equal(d.status, 204);
    const s = await c.req('GET', p.headers.location!);
    assert.equal(s.status, 404);
    assert.deepEqual(errorCodes(s), ['BLOB_UPLOAD_UNKNOWN']);
    assert.deepEqual(uploadsOf(c.root), []);
  });

  it('manifest PUT by tag and by digest: 201, Location, Docker-Content-Digest', async () => {
    const config = blob('{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}');
    await pushBlob(c, 'push/man', config);
    const m = manifestOf(config, []);
    const t = await putManifest(c, 'push/man', 'latest', m);
    assert.equal(t.status, 201);
    assert.equal(t.headers.location, `/v2/push/man/manifests/${m.digest}`);
    assert.equal(t.headers['docker-content-digest'], m.digest);
    const m2 = manifestOf(config, [], { annotations: { n: '2' } });
    const d = await putManifest(c, 'push/man', m2.digest, m2);
    assert.equal(d.status, 201);
    assert.equal(d.headers['docker-content-digest'], m2.digest);
    assert.deepEqual((await c.req('GET', `/v2/push/man/manifests/${m2.digest}`)).body, m2.data);
  });

  it('image index referencing pushed manifests', async () => {
    const a = await pushImage(c, 'push/index', 'amd64', 'a');
    const b = await pushImage(c, 'push/index', 'arm64', 'b');
    const index = blob(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaTypes.ociIndex,
        manifests: [
          desc(a.manifest, MediaTypes.ociManifest, { platform: { architecture: 'amd64', os: 'linux' } }),
          desc(b.manifest, MediaTypes.ociManifest, { platform: { architecture: 'arm64', os: 'linux' } }),
        ],
      }),
    );
    const r = await putManifest(c, 'push/index', 'multi', index, MediaTypes.ociIndex);
    assert.equal(r.status, 201, r.body.toString());
    const g = await c.req('GET', '/v2/push/index/manifests/multi');
    assert.equal(g.headers['content-type'], MediaTypes.ociIndex);
    assert.deepEqual(g.body, index.data);
  });

  it('sha512 blobs and manifests by sha512 digest', async () => {
    const data = Buffer.from('sha512 content');
    const d512 = digestOf(data, 'sha512');
    const r = await c.req('POST', `/v2/push/sha512/blobs/uploads/?digest=${d512}`, { body: data });
    assert.equal(r.status, 201, r.body.toString());
    assert.deepEqual((await c.req('GET', `/v2/push/sha512/blobs/${d512}`)).body, data);
    const config = blob('{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}');
    await pushBlob(c, 'push/sha512', config);
    const m = manifestOf(config, []);
    const md = digestOf(m.data, 'sha512');
    const p = await putManifest(c, 'push/sha512', md, m);
    assert.equal(p.status, 201, p.body.toString());
    assert.equal(p.headers['docker-content-digest'], md);
  });
});

describe('registry server: content discovery', () => {
  let c: Client;
  let subject: Awaited<ReturnType<typeof pushImage>>;
  const tags = ['b', 'a', 'c', 'v1.0', 'V2', '_x', 'latest'];
  before(async () => {
    c = await serve();
    subject = await pushImage(c, 'disc/repo', tags[0]!, 'disc');
    for (const t of tags.slice(1)) assert.equal((await putManifest(c, 'disc/repo', t, subject.manifest)).status, 201);
  });

  it('tags list: every tag, lexically sorted', async () => {
    const r = await c.req('GET', '/v2/disc/repo/tags/list');
    assert.equal(r.status, 200);
    assert.deepEqual(r.json(), { name: 'disc/repo', tags: [...tags].sort() });
    assert.equal(r.headers.link, undefined);
  });

  it('tags list pagination: n, last and the Link header, followed to the end', async () => {
    const sorted = [...tags].sort();
    const seen: string[] = [];
    let next: string | undefined = '/v2/disc/repo/tags/list?n=3';
    let pages = 0;
    while (next !== undefined) {
      const r = await c.req('GET', next);
      assert.equal(r.status, 200);
      const page = r.json<{ tags: string[] }>().tags;
      assert.ok(page.length <= 3);
      seen.push(...page);
      pages++;
      const link = r.headers.link as string | undefined;
      if (link === undefined) break;
      const m = /^<([^>]+)>; rel="next"$/.exec(link);
      assert.ok(m, link);
      assert.equal(m[1], `/v2/disc/repo/tags/list?n=3&last=${encodeURIComponent(page[page.length - 1]!)}`);
      next = m[1];
    }
    assert.deepEqual(seen, sorted);
    assert.equal(pages, 3);
    const after = await c.req('GET', '/v2/disc/repo/tags/list?n=2&last=a');
    assert.deepEqual(after.json<{ tags: string[] }>().tags, sorted.filter((t) => t > 'a').slice(0, 2));
    const none = await c.req('GET', '/v2/disc/repo/tags/list?n=0');
    assert.deepEqual(none.json<{ tags: string[] }>().tags, []);
  });

  it('tags list of an unknown repository: 404 NAME_UNKNOWN; bad n: 400', async () => {
    const r = await c.req('GET', '/v2/disc/none/tags/list');
    assert.equal(r.status, 404);
    assert.deepEqual(errorCodes(r), ['NAME_UNKNOWN']);
    const bad = await c.req('GET', '/v2/disc/repo/tags/list?n=-1');
    assert.equal(bad.status, 400);
  });

  it('referrers: subject → OCI-Subject on PUT; listed with artifactType and annotations; filtered', async () => {
    const empty = blob('{}');
    await pushBlob(c, 'disc/repo', empty);
    const sig = blob('signature bytes');
    await pushBlob(c, 'disc/repo', sig);
    const subjectDesc = desc(subject.manifest, MediaTypes.ociManifest);
    // Artifact type from the config's media type ...
    const r1 = manifestOf(empty, [sig], { subject: subjectDesc, annotations: { 'org.example.kind': 'one' } }, 'application/vnd.example.sig.v1');
    // ... from artifactType ...
    const r2 = manifestOf(empty, [sig], { subject: subjectDesc, artifactType: 'application/vnd.example.sbom.v1', annotations: { 'org.example.kind': 'two' } }, MediaTypes.ociEmpty);
    // ... and an index as a referrer.
    const r3 = blob(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaTypes.ociIndex,
        artifactType: 'application/vnd.example.sig.v1',
        manifests: [],
        subject: subjectDesc,
        annotations: { 'org.example.kind': 'three' },
      }),
    );
    for (const [m, type] of [
      [r1, MediaTypes.ociManifest],
      [r2, MediaTypes.ociManifest],
      [r3, MediaTypes.ociIndex],
    ] as const) {
      const p = await putManifest(c, 'disc/repo', m.digest, m, type);
      assert.equal(p.status, 201, p.body.toString());
      assert.equal(p.headers['oci-subject'], subject.manifest.digest);
    }
    const all = await c.req('GET', `/v2/disc/repo/referrers/${subject.manifest.digest}`);
    assert.equal(all.status, 200);
    assert.equal(all.headers['content-type'], MediaTypes.ociIndex);
    const index = all.json<{ schemaVersion: number; mediaType: string; manifests: Record<string, unknown>[] }>();
    assert.equal(index.schemaVersion, 2);
    assert.equal(index.mediaType, MediaTypes.ociIndex);
    const byDigest = new Map(index.manifests.map((m) => [m['digest'], m]));
    assert.equal(byDigest.size, 3);
    assert.deepEqual(byDigest.get(r1.digest), { mediaType: MediaTypes.ociManifest, digest: r1.digest, size: r1.size, artifactType: 'application/vnd.example.sig.v1', annotations: { 'org.example.kind': 'one' } });
    assert.deepEqual(byDigest.get(r2.digest), { mediaType: MediaTypes.ociManifest, digest: r2.digest, size: r2.size, artifactType: 'application/vnd.example.sbom.v1', annotations: { 'org.example.kind': 'two' } });
    assert.deepEqual(byDigest.get(r3.digest), { mediaType: MediaTypes.ociIndex, digest: r3.digest, size: r3.size, artifactType: 'application/vnd.example.sig.v1', annotations: { 'org.example.kind': 'three' } });
    assert.equal(all.headers['oci-filters-applied'], undefined);

    const filtered = await c.req('GET', `/v2/disc/repo/referrers/${subject.manifest.digest}?artifactType=${encodeURIComponent('application/vnd.example.sig.v1')}`);
    assert.equal(filtered.headers['oci-filters-applied'], 'artifactType');
    assert.deepEqual(filtered.json<{ manifests: { digest: string }[] }>().manifests.map((m) => m.digest).sort(), [r1.digest, r3.digest].sort());
  });

  it('referrers of an unknown digest: 200 and an empty index; pushed before its subject: listed', async () => {
    const unknown = await c.req('GET', `/v2/disc/repo/referrers/${digestOf('nothing here')}`);
    assert.equal(unknown.status, 200);
    assert.deepEqual(unknown.json(), { schemaVersion: 2, mediaType: MediaTypes.ociIndex, manifests: [] });
    const absent = blob('a subject that was never pushed');
    const empty = blob('{}');
    const ref = manifestOf(empty, [], { subject: desc(absent, MediaTypes.ociManifest) }, 'application/vnd.example.early');
    const p = await putManifest(c, 'disc/repo', ref.digest, ref);
    assert.equal(p.status, 201);
    assert.equal(p.headers['oci-subject'], absent.digest);
    const r = await c.req('GET', `/v2/disc/repo/referrers/${absent.digest}`);
    assert.deepEqual(r.json<{ manifests: { digest: string }[] }>().manifests.map((m) => m.digest), [ref.digest]);
  });

  it('_catalog lists repositories sorted, with n/last pagination', async () => {
    for (const repo of ['disc/zeta', 'disc/alpha', 'disc/alpha/nested']) await pushImage(c, repo, 'x', repo);
    const r = await c.req('GET', '/v2/_catalog');
    assert.equal(r.status, 200);
    const all = ['disc/alpha', 'disc/alpha/nested', 'disc/repo', 'disc/zeta'];
    assert.deepEqual(r.json(), { repositories: all });
    const p1 = await c.req('GET', '/v2/_catalog?n=2');
    assert.deepEqual(p1.json<{ repositories: string[] }>().repositories, all.slice(0, 2));
    assert.equal(p1.headers.link, `</v2/_catalog?n=2&last=${encodeURIComponent('disc/alpha/nested')}>; rel="next"`);
    const p2 = await c.req('GET', '/v2/_catalog?n=2&last=disc%2Falpha%2Fnested');
    assert.deepEqual(p2.json<{ repositories: string[] }>().repositories, all.slice(2));
    assert.equal(p2.headers.link, undefined);
  });
});

describe('registry server: content management', () => {
  it('deletion disabled (the default): DELETE of manifests, tags and blobs is 405 UNSUPPORTED', async () => {
    const c = await serve();
    const img = await pushImage(c, 'mgmt/nodelete', 'v1', 'nodelete');
    for (const path of ['/v2/mgmt/nodelete/manifests/v1', `/v2/mgmt/nodelete/manifests/${img.manifest.digest}`, `/v2/mgmt/nodelete/blobs/${img.layer.digest}`]) {
      const r = await c.req('DELETE', path);
      assert.equal(r.status, 405, path);
      assert.deepEqual(errorCodes(r), ['UNSUPPORTED']);
    }
    assert.equal((await c.req('GET', '/v2/mgmt/nodelete/manifests/v1')).status, 200);
  });

  it('--delete-enabled: delete a tag, a manifest (with its tags and referrer entry), a blob', async () => {
    const c = await serve({ deleteEnabled: true });
    const img = await pushImage(c, 'mgmt/del', 'v1', 'del');
    await putManifest(c, 'mgmt/del', 'v2', img.manifest);
    await putManifest(c, 'mgmt/del', 'keep', img.manifest);

    const t = await c.req('DELETE', '/v2/mgmt/del/manifests/v2');
    assert.equal(t.status, 202);
    assert.deepEqual((await c.req('GET', '/v2/mgmt/del/tags/list')).json<{ tags: string[] }>().tags, ['keep', 'v1']);
    assert.equal((await c.req('GET', `/v2/mgmt/del/manifests/${img.manifest.digest}`)).status, 200);
    assert.equal((await c.req('DELETE', '/v2/mgmt/del/manifests/v2')).status, 404);

    const empty = blob('{}');
    await pushBlob(c, 'mgmt/del', empty);
    const ref = manifestOf(empty, [], { subject: desc(img.manifest, MediaTypes.ociManifest) }, 'application/vnd.example.x');
    await putManifest(c, 'mgmt/del', ref.digest, ref);
    assert.equal((await c.req('GET', `/v2/mgmt/del/referrers/${img.manifest.digest}`)).json<{ manifests: unknown[] }>().manifests.length, 1);
    const d = await c.req('DELETE', `/v2/mgmt/del/manifests/${ref.digest}`);
    assert.equal(d.status, 202);
    assert.equal((await c.req('GET', `/v2/mgmt/del/referrers/${img.manifest.digest}`)).json<{ manifests: unknown[] }>().manifests.length, 0);

    const m = await c.req('DELETE', `/v2/mgmt/del/manifests/${img.manifest.digest}`);
    assert.equal(m.status, 202);
    assert.equal((await c.req('GET', `/v2/mgmt/del/manifests/${img.manifest.digest}`)).status, 404);
    assert.equal((await c.req('GET', '/v2/mgmt/del/manifests/v1')).status, 404);
    assert.deepEqual((await c.req('GET', '/v2/mgmt/del/tags/list')).json<{ tags: string[] }>().tags, []);
    assert.equal((await c.req('DELETE', `/v2/mgmt/del/manifests/${img.manifest.digest}`)).status, 404);

    const b = await c.req('DELETE', `/v2/mgmt/del/blobs/${img.layer.digest}`);
    assert.equal(b.status, 202);
    const g = await c.req('GET', `/v2/mgmt/del/blobs/${img.layer.digest}`);
    assert.equal(g.status, 404);
    assert.deepEqual(errorCodes(g), ['BLOB_UNKNOWN']);
    assert.equal((await c.req('DELETE', `/v2/mgmt/del/blobs/${img.layer.digest}`)).status, 404);
  });
});

describe('registry server: error codes and hostile input', () => {
  let c: Client;
  before(async () => {
    c = await serve();
    await pushImage(c, 'err/base', 'v1', 'base');
  });

  it('errors are {"errors":[{code,message,detail}]} JSON', async () => {
    const r = await c.req('GET', '/v2/err/base/manifests/missing');
    assert.equal(r.headers['content-type'], 'application/json');
    const body = r.json<{ errors: { code: string; message: string; detail: unknown }[] }>();
    assert.equal(body.errors.length, 1);
    assert.equal(body.errors[0]!.code, 'MANIFEST_UNKNOWN');
    assert.equal(typeof body.errors[0]!.message, 'string');
    assert.deepEqual(body.errors[0]!.detail, { reference: 'missing' });
  });

  it('wrong digest (monolithic): 400 DIGEST_INVALID, no blob, no link, no upload left', async () => {
    const before = committed(c.root);
    const r = await c.req('POST', `/v2/err/wrong/blobs/uploads/?digest=${digestOf('something else')}`, { body: 'actual bytes' });
    assert.equal(r.status, 400);
    assert.deepEqual(errorCodes(r), ['DIGEST_INVALID']);
    assert.deepEqual(committed(c.root), before);
    assert.deepEqual(uploadsOf(c.root), []);
  });

  it('wrong digest (chunked PUT): 400 DIGEST_INVALID and the session is gone', async () => {
    const before = committed(c.root);
    const p = await c.req('POST', '/v2/err/wrong2/blobs/uploads/');
    await c.req('PATCH', p.headers.location!, { body: 'chunk one', headers: { 'Content-Range': '0-8' } });
    const r = await c.req('PUT', `${p.headers.location}?digest=${digestOf('chunk one!')}`);
    assert.equal(r.status, 400);
    assert.deepEqual(errorCodes(r), ['DIGEST_INVALID']);
    assert.equal((await c.req('GET', p.headers.location!)).status, 404);
    assert.deepEqual(committed(c.root), before);
    assert.deepEqual(uploadsOf(c.root), []);
  });

  it('truncated monolithic upload (Content-Length longer than the body, connection closed): nothing stored', async () => {
    const before = committed(c.root);
    const full = blob(Buffer.alloc(200_000, 'trunc'));
    await truncatedRequest(c.reg.port, 'POST', `/v2/err/trunc/blobs/uploads/?digest=${full.digest}`, full.size, full.data.subarray(0, 50_000));
    await until('the upload session to be removed', () => uploadsOf(c.root).length === 0);
    assert.deepEqual(committed(c.root), before);
    assert.equal((await c.req('GET', `/v2/err/trunc/blobs/${full.digest}`)).status, 404);
  });

  it('truncated PUT with the whole body after POST: nothing stored, the session keeps what it had', async () => {
    const before = committed(c.root);
    const full = blob(Buffer.alloc(100_000, 'put-trunc'));
    const p = await c.req('POST', '/v2/err/trunc2/blobs/uploads/');
    await truncatedRequest(c.reg.port, 'PUT', `${p.headers.location}?digest=${full.digest}`, full.size, full.data.subarray(0, 30_000));
    await until('the session to be back at 0 bytes', async () => (await c.req('GET', p.headers.location!)).headers.range === '0-0' && statSync(join(c.root, 'uploads', p.headers['docker-upload-uuid'] as string, 'data')).size === 0);
    assert.deepEqual(committed(c.root), before);
    // The client can still finish it properly.
    const ok = await c.req('PUT', `${p.headers.location}?digest=${full.digest}`, { body: full.data });
    assert.equal(ok.status, 201);
  });

  it('truncated chunk: cut off again, the upload resumes from the last complete chunk', async () => {
    const full = blob(Buffer.alloc(90_000, 'chunky'));
    const p = await c.req('POST', '/v2/err/trunc3/blobs/uploads/');
    const loc = p.headers.location!;
    const id = p.headers['docker-upload-uuid'] as string;
    assert.equal((await c.req('PATCH', loc, { body: full.data.subarray(0, 30_000), headers: { 'Content-Range': '0-29999' } })).status, 202);
    await truncatedRequest(c.reg.port, 'PATCH', loc, 30_000, full.data.subarray(30_000, 45_000), { 'Content-Range': '30000-59999' });
    const data = join(c.root, 'uploads', id, 'data');
    await until('the partial chunk to be cut off', async () => statSync(data).size === 30_000 && (await c.req('GET', loc)).headers.range === '0-29999');
    assert.equal((await c.req('PATCH', loc, { body: full.data.subarray(30_000), headers: { 'Content-Range': '30000-89999' } })).status, 202);
    const done = await c.req('PUT', `${loc}?digest=${full.digest}`);
    assert.equal(done.status, 201, done.body.toString());
    assert.deepEqual((await c.req('GET', `/v2/err/trunc3/blobs/${full.digest}`)).body, full.data);
  });

  it('out-of-order chunk: 416 with the Range held and the Location', async () => {
    const p = await c.req('POST', '/v2/err/order/blobs/uploads/');
    const loc = p.headers.location!;
    await c.req('PATCH', loc, { body: 'abcde', headers: { 'Content-Range': '0-4' } });
    const r = await c.req('PATCH', loc, { body: 'klmno', headers: { 'Content-Range': '10-14' } });
    assert.equal(r.status, 416);
    assert.equal(r.headers.range, '0-4');
    assert.equal(r.headers.location, loc);
    assert.deepEqual(errorCodes(r), ['BLOB_UPLOAD_INVALID']);
    const first = await c.req('POST', '/v2/err/order/blobs/uploads/');
    const r2 = await c.req('PATCH', first.headers.location!, { body: 'xyz', headers: { 'Content-Range': '3-5' } });
    assert.equal(r2.status, 416);
    assert.equal(r2.headers.range, '0-0');
    const data = join(c.root, 'uploads', p.headers['docker-upload-uuid'] as string, 'data');
    assert.equal(readFileSync(data).toString(), 'abcde');
    // Content-Range and the body disagree: refused, nothing appended.
    const r3 = await c.req('PATCH', loc, { body: 'fgh', headers: { 'Content-Range': '5-9' } });
    assert.equal(r3.status, 400);
    assert.deepEqual(errorCodes(r3), ['SIZE_INVALID']);
    assert.equal(readFileSync(data).toString(), 'abcde');
    await c.req('DELETE', loc);
    await c.req('DELETE', first.headers.location!);
  });

  it('invalid repository names: 400 NAME_INVALID, no directory created', async () => {
    const before = listFiles(join(c.root, 'repositories'));
    const b = blob('name test');
    const names = ['UPPER/case', 'a//b', '-lead', 'trail-', 'a/_blobs', 'a..b', 'a/./b', 'a/../../etc', 'x'.repeat(256), `${'a/'.repeat(127)}ab`];
    for (const name of names) {
      const r = await c.req('POST', `/v2/${name}/blobs/uploads/?digest=${b.digest}`, { body: b.data });
      assert.equal(r.status, 400, `${name}: ${r.status} ${r.body.toString()}`);
      assert.deepEqual(errorCodes(r), ['NAME_INVALID'], name);
    }
    const long = await c.req('GET', `/v2/${'a'.repeat(256)}/tags/list`);
    assert.deepEqual(errorCodes(long), ['NAME_INVALID']);
    assert.equal((await c.req('GET', `/v2/${'a'.repeat(255)}/tags/list`)).status, 404);
    assert.deepEqual(listFiles(join(c.root, 'repositories')), before);
    assert.equal(existsSync(join(c.root, 'repositories/a')), false);
  });

  it('invalid tags: 400 TAG_INVALID, nothing stored', async () => {
    const config = blob('{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}');
    await pushBlob(c, 'err/tags', config);
    const m = manifestOf(config, []);
    const before = committed(c.root);
    for (const tag of ['-dash', '.dot', 'x'.repeat(129), 'sp%20ace', 'a+b']) {
      const r = await putManifest(c, 'err/tags', tag, m);
      assert.equal(r.status, 400, tag);
      assert.deepEqual(errorCodes(r), ['TAG_INVALID'], tag);
    }
    assert.deepEqual(committed(c.root), before);
    assert.equal((await putManifest(c, 'err/tags', 'x'.repeat(128), m)).status, 201);
  });

  it('invalid digests: 400 DIGEST_INVALID everywhere a digest goes', async () => {
    const bad = ['sha256:abc', `md5:${'a'.repeat(32)}`, `sha256:${'A'.repeat(64)}`, `sha384:${'a'.repeat(96)}`, `sha512:${'a'.repeat(64)}`, 'sha256:'];
    for (const d of bad) {
      for (const [method, path] of [
        ['GET', `/v2/err/base/blobs/${d}`],
        ['HEAD', `/v2/err/base/manifests/${d}`],
        ['GET', `/v2/err/base/referrers/${d}`],
        ['POST', `/v2/err/base/blobs/uploads/?digest=${d}`],
      ] as const) {
        const r = await c.req(method, path, method === 'POST' ? { body: 'x' } : {});
        assert.equal(r.status, 400, `${method} ${path}`);
        if (method !== 'HEAD') assert.deepEqual(errorCodes(r), ['DIGEST_INVALID'], path);
      }
    }
    const p = await c.req('POST', '/v2/err/base/blobs/uploads/');
    const r = await c.req('PUT', `${p.headers.location}?digest=sha256:nothex`);
    assert.deepEqual(errorCodes(r), ['DIGEST_INVALID']);
    const missing = await c.req('PUT', p.headers.location!);
    assert.deepEqual(errorCodes(missing), ['DIGEST_INVALID']);
    await c.req('DELETE', p.headers.location!);
  });

  it('manifest PUT by a digest that does not match the body: 400 DIGEST_INVALID, nothing stored', async () => {
    const config = blob('{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}');
    await pushBlob(c, 'err/mdigest', config);
    const before = committed(c.root);
    const m = manifestOf(config, []);
    const r = await putManifest(c, 'err/mdigest', digestOf('another body'), m);
    assert.equal(r.status, 400);
    assert.deepEqual(errorCodes(r), ['DIGEST_INVALID']);
    assert.deepEqual(committed(c.root), before);
  });

  it('oversize manifest (> 4 MiB): 413 MANIFEST_INVALID, nothing stored', async () => {
    const config = blob('{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}');
    await pushBlob(c, 'err/big', config);
    const before = committed(c.root);
    const m = manifestOf(config, [], { annotations: { pad: 'x'.repeat(4 * 1024 * 1024) } });
    const r = await putManifest(c, 'err/big', 'big', m);
    assert.equal(r.status, 413);
    assert.deepEqual(errorCodes(r), ['MANIFEST_INVALID']);
    // Chunked, without a Content-Length: counted as it arrives.
    const r2 = await c.req('PUT', '/v2/err/big/manifests/big2', { body: m.data, chunked: true, headers: { 'Content-Type': MediaTypes.ociManifest } });
    assert.equal(r2.status, 413);
    assert.deepEqual(committed(c.root), before);
    assert.equal((await c.req('GET', '/v2/_catalog')).status, 200, 'server still up');
  });

  it('manifest referencing missing blobs: 400 MANIFEST_BLOB_UNKNOWN naming each, nothing stored', async () => {
    const config = blob('{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}');
    await pushBlob(c, 'err/missing', config);
    const layerA = blob('never pushed A');
    const layerB = blob('never pushed B');
    const before = committed(c.root);
    const m = manifestOf(config, [layerA, layerB]);
    const r = await putManifest(c, 'err/missing', 'v1', m);
    assert.equal(r.status, 400);
    const errors = r.json<{ errors: { code: string; detail: { digest: string } }[] }>().errors;
    assert.deepEqual(errors.map((e) => [e.code, e.detail.digest]), [
      ['MANIFEST_BLOB_UNKNOWN', layerA.digest],
      ['MANIFEST_BLOB_UNKNOWN', layerB.digest],
    ]);
    // A config that exists in another repository only does not count either.
    const foreignConfig = blob('{"architecture":"arm64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}');
    await pushBlob(c, 'err/elsewhere', foreignConfig);
    const before2 = committed(c.root);
    const r2 = await putManifest(c, 'err/missing', 'v2', manifestOf(foreignConfig, []));
    assert.deepEqual(errorCodes(r2), ['MANIFEST_BLOB_UNKNOWN']);
    const index = blob(JSON.stringify({ schemaVersion: 2, mediaType: MediaTypes.ociIndex, manifests: [desc(m, MediaTypes.ociManifest)] }));
    const r3 = await putManifest(c, 'err/missing', 'idx', index, MediaTypes.ociIndex);
    assert.deepEqual(errorCodes(r3), ['MANIFEST_BLOB_UNKNOWN']);
    assert.deepEqual(committed(c.root), before2);
    assert.ok(before.every((f) => before2.includes(f)));
    assert.equal((await c.req('GET', '/v2/err/missing/manifests/v1')).status, 404);
  });

  it('malformed manifests: 400 MANIFEST_INVALID (bad JSON, schema1, wrong mediaType, missing config)', async () => {
    const before = committed(c.root);
    const cases: [string, string][] = [
      ['{not json', MediaTypes.ociManifest],
      [JSON.stringify({ schemaVersion: 1, name: 'x', tag: 'y', fsLayers: [] }), MediaTypes.dockerSchema1SignedManifest],
      [JSON.stringify({ schemaVersion: 2, mediaType: MediaTypes.dockerManifest, config: {}, layers: [] }), MediaTypes.ociManifest],
      [JSON.stringify({ schemaVersion: 2, mediaType: MediaTypes.ociManifest, layers: [] }), MediaTypes.ociManifest],
      [JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: MediaTypes.ociManifest, digest: 'sha256:short', size: 1 }] }), MediaTypes.ociIndex],
    ];
    for (const [body, type] of cases) {
      const r = await c.req('PUT', '/v2/err/bad/manifests/v1', { body, headers: { 'Content-Type': type } });
      assert.equal(r.status, 400, body);
      assert.deepEqual(errorCodes(r), ['MANIFEST_INVALID'], body);
    }
    assert.deepEqual(committed(c.root), before);
  });

  it('unknown and foreign upload sessions: 404 BLOB_UPLOAD_UNKNOWN', async () => {
    const fake = '/v2/err/base/blobs/uploads/00000000-0000-4000-8000-000000000000';
    for (const method of ['GET', 'PATCH', 'PUT', 'DELETE']) {
      const r = await c.req(method, method === 'PUT' ? `${fake}?digest=${digestOf('x')}` : fake, method === 'PATCH' ? { body: 'x' } : {});
      assert.equal(r.status, 404, method);
      assert.deepEqual(errorCodes(r), ['BLOB_UPLOAD_UNKNOWN'], method);
    }
    assert.equal((await c.req('GET', '/v2/err/base/blobs/uploads/..%2F..%2Fblobs')).status, 404);
    const p = await c.req('POST', '/v2/err/base/blobs/uploads/');
    const id = p.headers['docker-upload-uuid'];
    const foreign = await c.req('PATCH', `/v2/err/other/blobs/uploads/${id}`, { body: 'mine' });
    assert.equal(foreign.status, 404);
    await c.req('DELETE', p.headers.location!);
  });

  it('wrong methods: 405 UNSUPPORTED; unknown paths: 404', async () => {
    const r = await c.req('POST', '/v2/err/base/manifests/v1');
    assert.equal(r.status, 405);
    assert.deepEqual(errorCodes(r), ['UNSUPPORTED']);
    assert.equal((await c.req('PUT', '/v2/_catalog')).status, 405);
    assert.equal((await c.req('GET', '/v3/')).status, 404);
  });

  it('clients vanishing at random points of every kind of request do not take the server down', async () => {
    const img = await pushImage(c, 'err/chaos', 'v1', 'chaos');
    const requests = [
      `GET /v2/err/chaos/blobs/${img.layer.digest} HTTP/1.1\r\nHost: x\r\n\r\n`,
      `GET /v2/err/chaos/blobs/${img.layer.digest} HTTP/1.1\r\nHost: x\r\nRange: bytes=10-\r\n\r\n`,
      `POST /v2/err/chaos/blobs/uploads/?digest=${img.layer.digest} HTTP/1.1\r\nHost: x\r\nContent-Length: 5000000\r\n\r\n${'x'.repeat(20_000)}`,
      `PUT /v2/err/chaos/manifests/t HTTP/1.1\r\nHost: x\r\nContent-Type: ${MediaTypes.ociManifest}\r\nContent-Length: 4000\r\n\r\n{"schemaVersion":`,
      `PUT /v2/err/chaos/manifests/t HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nabcde\r\n`,
      `GET /v2/err/chaos/manifests/v1 HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nab`,
      `PATCH /v2/err/chaos/blobs/uploads/00000000-0000-4000-8000-000000000000 HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc`,
      '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03',
    ];
    await Promise.all(
      Array.from({ length: 160 }, (_, i) => new Promise<void>((resolve) => {
        const sock = connect(c.reg.port, '127.0.0.1', () => {
          sock.write(requests[i % requests.length]!);
          setTimeout(() => {
            sock.destroy();
            resolve();
          }, (i * 7) % 25);
        });
        sock.on('data', () => undefined);
        sock.on('error', () => resolve());
      })),
    );
    assert.equal((await c.req('GET', '/v2/')).status, 200);
    assert.deepEqual((await c.req('GET', '/v2/err/chaos/manifests/v1')).body, img.manifest.data);
    await until('aborted uploads to be cleaned up', () => uploadsOf(c.root).length === 0);
    assert.equal((await c.req('GET', '/v2/err/chaos/manifests/t')).status, 404);
  });

  it('garbage on the socket gets a 400 and the server keeps serving', async () => {
    const sock = connect(c.reg.port, '127.0.0.1');
    const reply = await new Promise<string>((resolve) => {
      let text = '';
      sock.on('data', (d: Buffer) => (text += d.toString()));
      sock.on('close', () => resolve(text));
      sock.on('error', () => resolve(text));
      sock.write('NOT HTTP AT ALL\r\n\r\n');
    });
    assert.match(reply, /^HTTP\/1\.1 400/);
    assert.equal((await c.req('GET', '/v2/')).status, 200);
  });
});

describe('registry server: read-only', () => {
  it('serves pulls, refuses every write with 405 UNSUPPORTED, holds no lock', async () => {
    const root = join(work, 'ro-root');
    const w = await serve({ root });
    const img = await pushImage(w, 'ro/img', 'v1', 'ro');
    await w.reg.close();
    const c = await serve({ root, readOnly: true, deleteEnabled: true });
    assert.equal(lstatSync(join(root, 'registry.lock'), { throwIfNoEntry: false }), undefined);
    assert.deepEqual((await c.req('GET', '/v2/ro/img/manifests/v1')).body, img.manifest.data);
    assert.deepEqual((await c.req('GET', `/v2/ro/img/blobs/${img.layer.digest}`)).body, img.layer.data);
    const before = committed(root);
    const b = blob('ro');
    for (const [method, path] of [
      ['POST', '/v2/ro/img/blobs/uploads/'],
      ['POST', `/v2/ro/img/blobs/uploads/?digest=${b.digest}`],
      ['PUT', '/v2/ro/img/manifests/v2'],
      ['DELETE', '/v2/ro/img/manifests/v1'],
      ['DELETE', `/v2/ro/img/blobs/${img.layer.digest}`],
      ['PATCH', '/v2/ro/img/blobs/uploads/00000000-0000-4000-8000-000000000000'],
    ] as const) {
      const r = await c.req(method, path, { body: b.data });
      assert.equal(r.status, 405, `${method} ${path}`);
      assert.deepEqual(errorCodes(r), ['UNSUPPORTED']);
    }
    assert.deepEqual(committed(root), before);
  });
});

describe('registry server: htpasswd auth', () => {
  const users = { alice: 'wonderland', bob: 'builder' };
  let c: Client;
  let htpasswd: Htpasswd;
  before(async () => {
    const file = makeHtpasswd(join(work, 'htpasswd'), users);
    htpasswd = await Htpasswd.load(file);
    c = await serve({ htpasswd });
  });

  it('no credentials: 401 UNAUTHORIZED with WWW-Authenticate Basic realm', async () => {
    for (const path of ['/v2/', '/v2/_catalog', '/v2/a/manifests/x']) {
      const r = await c.req('GET', path);
      assert.equal(r.status, 401);
      assert.equal(r.headers['www-authenticate'], 'Basic realm="berth-registry"');
      assert.deepEqual(errorCodes(r), ['UNAUTHORIZED']);
    }
  });

  it('wrong password and unknown user: 401; right ones: 200 and pushes work', async () => {
    assert.equal((await c.req('GET', '/v2/', { auth: { user: 'alice', password: 'nope' } })).status, 401);
    assert.equal((await c.req('GET', '/v2/', { auth: { user: 'mallory', password: 'wonderland' } })).status, 401);
    assert.equal((await c.req('GET', '/v2/', { headers: { Authorization: 'Bearer abc' } })).status, 401);
    assert.equal((await c.req('GET', '/v2/', { auth: { user: 'alice', password: users.alice } })).status, 200);
    const authed: Client = { ...c, req: (m, p, o = {}) => c.req(m, p, { ...o, auth: { user: 'bob', password: users.bob } }) };
    const img = await pushImage(authed, 'auth/img', 'v1', 'auth');
    assert.deepEqual((await authed.req('GET', '/v2/auth/img/manifests/v1')).body, img.manifest.data);
  });

  it('verified credentials are cached: bcrypt runs once for many requests', async () => {
    const fresh = await Htpasswd.load(join(work, 'htpasswd'));
    const c2 = await serve({ htpasswd: fresh });
    const auth = { user: 'alice', password: users.alice };
    await Promise.all(Array.from({ length: 8 }, () => c2.req('GET', '/v2/', { auth })));
    for (let i = 0; i < 20; i++) assert.equal((await c2.req('GET', '/v2/', { auth })).status, 200);
    assert.equal(fresh.bcryptRuns, 1);
    await c2.req('GET', '/v2/', { auth: { user: 'alice', password: 'bad' } });
    await c2.req('GET', '/v2/', { auth: { user: 'alice', password: 'bad' } });
    assert.equal(fresh.bcryptRuns, 3, 'failures are not cached');
  });

  it('malformed htpasswd: the CLI refuses to start and names the line', () => {
    const file = join(work, 'bad-htpasswd');
    writeFileSync(file, `${readFileSync(join(work, 'htpasswd'), 'utf8')}carol:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=\n`);
    const r = runCli(['serve', '--addr', '127.0.0.1:0', '--root', join(work, 'never'), '--htpasswd', file]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /line 3/);
    assert.match(r.stderr, /bcrypt/);
    assert.equal(existsSync(join(work, 'never')), false);
  });
});

describe('registry server: TLS', () => {
  it('serves HTTPS with the given certificate; a client trusting the CA pulls', async () => {
    const tls = makeTls(join(work, 'tls'));
    const c = await serve({ tls: { cert: tls.cert, key: tls.key } }, { ca: tls.ca });
    assert.match(c.reg.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    const img = await pushImage(c, 'tls/img', 'v1', 'tls');
    const r = await c.req('GET', `/v2/tls/img/blobs/${img.layer.digest}`);
    assert.deepEqual(r.body, img.layer.data);
    await assert.rejects(fetchRaw(c.reg.url, '/v2/'), /self.signed|unable to verify|certificate/i);
  });
});

describe('registry gc', () => {
  let root: string;
  let kept: Awaited<ReturnType<typeof pushImage>>;
  let untagged: Awaited<ReturnType<typeof pushImage>>;
  let child: Awaited<ReturnType<typeof pushImage>>;
  let orphan: Blob;
  let refBlob: Blob;
  let referrer: Blob;
  let index: Blob;

  before(async () => {
    root = join(work, 'gc-root');
    const c = await serve({ root, deleteEnabled: true });
    kept = await pushImage(c, 'gc/a', 'v1', 'kept');
    untagged = await pushImage(c, 'gc/a', 'tmp', 'untagged');
    assert.equal((await c.req('DELETE', '/v2/gc/a/manifests/tmp')).status, 202);
    orphan = blob('orphan blob nobody references');
    await pushBlob(c, 'gc/a', orphan);
    // A referrer of the tagged manifest, with a blob only it uses.
    refBlob = blob('signature only the referrer uses');
    const empty = blob('{}');
    await pushBlob(c, 'gc/a', refBlob);
    await pushBlob(c, 'gc/a', empty);
    referrer = manifestOf(empty, [refBlob], { subject: desc(kept.manifest, MediaTypes.ociManifest) }, 'application/vnd.example.sig');
    assert.equal((await putManifest(c, 'gc/a', referrer.digest, referrer)).status, 201);
    // Repository b: a tagged index whose child manifest is untagged.
    child = await pushImage(c, 'gc/b', 'child', 'child');
    assert.equal((await c.req('DELETE', '/v2/gc/b/manifests/child')).status, 202);
    index = blob(JSON.stringify({ schemaVersion: 2, mediaType: MediaTypes.ociIndex, manifests: [desc(child.manifest, MediaTypes.ociManifest)] }));
    assert.equal((await putManifest(c, 'gc/b', 'multi', index, MediaTypes.ociIndex)).status, 201);
    await c.reg.close();
  });

  const blobFile = (b: Blob): string => join(root, 'blobs/sha256', b.digest.slice(7));

  it('--dry-run lists what would go and deletes nothing', () => {
    const before = listFiles(root);
    const r = runCli(['gc', '--root', root, '--dry-run', '--delete-untagged']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`would delete blob ${orphan.digest} \\(${orphan.size} bytes\\)`));
    assert.match(r.stdout, new RegExp(`would delete manifest gc/a@${untagged.manifest.digest}`));
    assert.match(r.stdout, /would free \d+ bytes/);
    assert.deepEqual(listFiles(root), before);
  });

  it('gc frees unreferenced blobs and keeps every manifest and what it uses', async () => {
    const result = await collectGarbage({ root });
    assert.deepEqual(result.blobsDeleted, [{ digest: orphan.digest, size: orphan.size }]);
    assert.equal(result.bytesFreed, orphan.size);
    assert.deepEqual(result.manifestsDeleted, []);
    assert.equal(existsSync(blobFile(orphan)), false);
    assert.equal(existsSync(join(root, 'repositories/gc/a/_blobs/sha256', orphan.digest.slice(7))), false);
    for (const b of [kept.manifest, kept.layer, untagged.manifest, untagged.layer, untagged.config, refBlob, referrer, child.manifest, child.layer, index]) {
      assert.ok(existsSync(blobFile(b)), b.digest);
    }
  });

  it('--delete-untagged removes untagged manifests and their blobs; keeps referrers of tagged ones and index children', () => {
    const r = runCli(['gc', '--root', root, '--delete-untagged']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`delete manifest gc/a@${untagged.manifest.digest}`));
    const freed = untagged.manifest.size + untagged.config.size + untagged.layer.size;
    assert.match(r.stdout, new RegExp(`deleted 3 blobs and 1 manifest, freed ${freed} bytes`));
    for (const b of [untagged.manifest, untagged.config, untagged.layer]) assert.equal(existsSync(blobFile(b)), false, b.digest);
    assert.equal(existsSync(join(root, 'repositories/gc/a/_manifests/sha256', untagged.manifest.digest.slice(7))), false);
    for (const b of [kept.manifest, kept.config, kept.layer, refBlob, referrer, child.manifest, child.config, child.layer, index]) {
      assert.ok(existsSync(blobFile(b)), b.digest);
    }
    const again = runCli(['gc', '--root', root, '--delete-untagged']);
    assert.match(again.stdout, /deleted 0 blobs and 0 manifests, freed 0 bytes/);
  });

  it('the registry still serves everything kept after gc', async () => {
    const c = await serve({ root, readOnly: true });
    assert.deepEqual((await c.req('GET', '/v2/gc/a/manifests/v1')).body, kept.manifest.data);
    assert.deepEqual((await c.req('GET', `/v2/gc/b/manifests/${child.manifest.digest}`)).body, child.manifest.data);
    const refs = await c.req('GET', `/v2/gc/a/referrers/${kept.manifest.digest}`);
    assert.deepEqual(refs.json<{ manifests: { digest: string }[] }>().manifests.map((m) => m.digest), [referrer.digest]);
    await c.reg.close();
  });

  it('refuses while a writable server holds the root, naming its pid; runs beside a read-only one', async () => {
    const server = await startCli(['--addr', '127.0.0.1:0', '--root', root]);
    try {
      const r = runCli(['gc', '--root', root]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, new RegExp(`locked by process ${server.child.pid}\\b`));
      await assert.rejects(collectGarbage({ root }), new RegExp(`process ${server.child.pid}`));
    } finally {
      assert.equal(await server.stop(), 0);
    }
    const ro = await startCli(['--addr', '127.0.0.1:0', '--root', root, '--read-only']);
    try {
      const r = runCli(['gc', '--root', root, '--dry-run']);
      assert.equal(r.code, 0, r.stderr);
    } finally {
      await ro.stop();
    }
  });
});

describe('registry CLI', () => {
  it('port 0: prints the actual address; SIGTERM closes gracefully and releases the lock', async () => {
    const root = join(work, 'cli-root');
    const server = await startCli(['--listen', '127.0.0.1:0', '--root', root, '--delete-enabled']);
    try {
      assert.notEqual(server.port, 0);
      assert.match(server.stderr(), new RegExp(`^berth registry listening on http://127\\.0\\.0\\.1:${server.port} \\(root ${root}`, 'm'));
      assert.ok(lstatSync(join(root, 'registry.lock')).isSymbolicLink());
      const r = await fetchRaw(server.url, '/v2/');
      assert.equal(r.status, 200);
      const second = runCli(['serve', '--addr', '127.0.0.1:0', '--root', root]);
      assert.equal(second.code, 1);
      assert.match(second.stderr, new RegExp(`locked by process ${server.child.pid}`));
    } finally {
      assert.equal(await server.stop(), 0);
    }
    assert.equal(lstatSync(join(root, 'registry.lock'), { throwIfNoEntry: false }), undefined);
  });

  it('usage errors exit 2; --help exits 0', () => {
    assert.equal(runCli(['--help']).code, 0);
    assert.equal(runCli(['serve', '--bogus']).code, 2);
    assert.equal(runCli(['serve', '--addr', 'nohost']).code, 2);
    assert.equal(runCli(['frobnicate']).code, 2);
    assert.match(runCli(['gc', '--help']).stdout, /--delete-untagged/);
  });

  it('serves TLS from --tls-cert/--tls-key', async () => {
    const tls = makeTls(join(work, 'cli-tls'));
    const server = await startCli(['--addr', '127.0.0.1:0', '--root', join(work, 'cli-tls-root'), '--tls-cert', tls.certFile, '--tls-key', tls.keyFile]);
    try {
      assert.match(server.url, /^https:/);
      assert.equal((await fetchRaw(server.url, '/v2/', { ca: tls.ca })).status, 200);
    } finally {
      await server.stop();
    }
  });
});
