// skopeo against `berth registry serve`: a hand-made busybox image (an OCI layout with a
// plain and a gzip'd layer, plus a one-entry image index) is copied into the registry
// and back out, over plain HTTP, with Basic auth, and over TLS with a test CA, and
// must come back byte for byte: same manifest digests, same blobs.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { MediaTypes, hostPlatform, type Descriptor } from '../../src/oci/image-spec.js';
import { digestOf } from '../../src/util/digest.js';
import { fetchRaw, makeHtpasswd, makeTls, removeDir, startCli, tempDir, type CliServer } from '../helpers/registry-server.js';
import { BUSYBOX, makeRootfs } from '../helpers/runtime.js';
import { Layout, tarDir } from '../helpers/registry-fixtures.js';

const hasSkopeo = spawnSync('skopeo', ['--version']).status === 0;
const skip = !existsSync(BUSYBOX) ? 'needs /bin/busybox (busybox-static)' : !hasSkopeo ? 'needs skopeo' : false;
const work = skip ? '/nonexistent' : tempDir('berth-registry-skopeo');

function run(argv: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function skopeo(...args: string[]): string {
  const r = run(['skopeo', '--insecure-policy', '--tmpdir', work, ...args]);
  assert.equal(r.status, 0, `skopeo ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

function skopeoFails(...args: string[]): string {
  const r = run(['skopeo', '--insecure-policy', '--tmpdir', work, ...args]);
  assert.notEqual(r.status, 0, `skopeo ${args.join(' ')} should have failed`);
  return r.stderr;
}

interface Fixture {
  layout: string;
  manifest: Descriptor;
  index: Descriptor;
  blobs: string[];
}

/** busybox:1 (a manifest) and busybox:multi (an index holding it) in one OCI layout. */
function makeFixture(): Fixture {
  const rootfs = makeRootfs(join(work, 'src'));
  const extra = join(work, 'extra');
  mkdirSync(join(extra, 'etc'), { recursive: true });
  writeFileSync(join(extra, 'etc/motd'), 'pushed through berth registry\n');
  const tars = [tarDir(work, rootfs), tarDir(work, extra)];
  const oci = new Layout(join(work, 'oci-src'));
  const layout = oci.dir;
  const layers = [oci.put(tars[0]!, MediaTypes.ociLayer), oci.put(gzipSync(tars[1]!), MediaTypes.ociLayerGzip)];
  const p = hostPlatform();
  const cfg = {
    created: '2024-01-01T00:00:00Z',
    architecture: p.architecture,
    os: p.os,
    config: { Env: ['PATH=/bin'], Cmd: ['/bin/sh'] },
    rootfs: { type: 'layers', diff_ids: tars.map((t) => digestOf(t)) },
    history: [{ created_by: 'busybox' }, { created_by: 'motd' }],
  };
  const config = oci.put(Buffer.from(JSON.stringify(cfg)), MediaTypes.ociConfig);
  const manifest = oci.put(Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaTypes.ociManifest, config, layers })), MediaTypes.ociManifest);
  const index = oci.put(
    Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaTypes.ociIndex, manifests: [{ ...manifest, platform: { architecture: p.architecture, os: p.os } }] })),
    MediaTypes.ociIndex,
  );
  const top = {
    schemaVersion: 2,
    manifests: [
      { ...manifest, annotations: { 'org.opencontainers.image.ref.name': 'busybox:1' } },
      { ...index, annotations: { 'org.opencontainers.image.ref.name': 'busybox:multi' } },
    ],
  };
  writeFileSync(join(layout, 'index.json'), JSON.stringify(top));
  return { layout, manifest, index, blobs: readdirSync(join(layout, 'blobs/sha256')).sort() };
}

/** Every blob of `out` is byte-identical to the fixture's; returns the digest index.json names for `ref`. */
function compareLayout(fx: Fixture, out: string, ref: string, wantBlobs: string[]): string {
  const got = readdirSync(join(out, 'blobs/sha256')).sort();
  assert.deepEqual(got, [...wantBlobs].sort());
  for (const name of got) {
    const data = readFileSync(join(out, 'blobs/sha256', name));
    assert.equal(digestOf(data), `sha256:${name}`, `${name} matches its name`);
    assert.deepEqual(data, readFileSync(join(fx.layout, 'blobs/sha256', name)), `${name} identical`);
  }
  const index = JSON.parse(readFileSync(join(out, 'index.json'), 'utf8')) as { manifests: Descriptor[] };
  const entry = index.manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === ref);
  assert.ok(entry, `index.json names ${ref}`);
  return entry.digest;
}

describe('registry server with skopeo', { skip }, () => {
  let fx: Fixture;
  let n = 0;
  const servers: CliServer[] = [];
  const singleBlobs = (): string[] => fx.blobs.filter((b) => b !== fx.index.digest.slice(7));

  before(() => {
    fx = makeFixture();
  });
  after(async () => {
    try {
      for (const s of servers) await s.stop();
    } finally {
      removeDir(work);
    }
  });

  async function serve(...args: string[]): Promise<CliServer> {
    const s = await startCli(['--addr', '127.0.0.1:0', '--root', join(work, `root-${++n}`), ...args]);
    servers.push(s);
    return s;
  }

  it('plain HTTP: copy in and out with --preserve-digests, byte for byte', async () => {
    const s = await serve();
    const host = `127.0.0.1:${s.port}`;
    skopeo('copy', '--preserve-digests', '--dest-tls-verify=false', `oci:${fx.layout}:busybox:1`, `docker://${host}/library/busybox:1`);
    const served = await fetchRaw(s.url, '/v2/library/busybox/manifests/1');
    assert.equal(served.headers['docker-content-digest'], fx.manifest.digest);
    assert.equal(served.headers['content-type'], MediaTypes.ociManifest);
    assert.deepEqual(served.body, readFileSync(join(fx.layout, 'blobs/sha256', fx.manifest.digest.slice(7))));

    const out = join(work, 'out-http');
    skopeo('copy', '--src-tls-verify=false', '--preserve-digests', `docker://${host}/library/busybox:1`, `oci:${out}:busybox:1`);
    assert.equal(compareLayout(fx, out, 'busybox:1', singleBlobs()), fx.manifest.digest);
    assert.match(skopeo('inspect', '--tls-verify=false', `docker://${host}/library/busybox:1`), /"Digest": "sha256:/);
    assert.deepEqual(JSON.parse(skopeo('list-tags', '--tls-verify=false', `docker://${host}/library/busybox`)).Tags, ['1']);
  });

  it('plain HTTP: an image index with --all, and a second repository (blob mounts) ', async () => {
    const s = await serve();
    const host = `127.0.0.1:${s.port}`;
    skopeo('copy', '--all', '--preserve-digests', '--dest-tls-verify=false', `oci:${fx.layout}:busybox:multi`, `docker://${host}/multi/busybox:multi`);
    skopeo('copy', '--all', '--preserve-digests', '--src-tls-verify=false', '--dest-tls-verify=false', `docker://${host}/multi/busybox:multi`, `docker://${host}/other/busybox:copy`);
    const served = await fetchRaw(s.url, '/v2/other/busybox/manifests/copy');
    assert.equal(served.headers['content-type'], MediaTypes.ociIndex);
    assert.equal(served.headers['docker-content-digest'], fx.index.digest);
    const out = join(work, 'out-multi');
    skopeo('copy', '--all', '--preserve-digests', '--src-tls-verify=false', `docker://${host}/other/busybox:copy`, `oci:${out}:busybox:multi`);
    assert.equal(compareLayout(fx, out, 'busybox:multi', fx.blobs), fx.index.digest);
  });

  it('Docker schema2 (--format v2s2) is stored and served as pushed', async () => {
    const s = await serve();
    const host = `127.0.0.1:${s.port}`;
    skopeo('copy', '--format', 'v2s2', '--dest-tls-verify=false', `oci:${fx.layout}:busybox:1`, `docker://${host}/docker/busybox:v2s2`);
    const raw = skopeo('inspect', '--raw', '--tls-verify=false', `docker://${host}/docker/busybox:v2s2`);
    const served = await fetchRaw(s.url, '/v2/docker/busybox/manifests/v2s2');
    assert.equal(served.headers['content-type'], MediaTypes.dockerManifest);
    assert.equal(served.body.toString(), raw);
    const dir = join(work, 'out-v2s2');
    skopeo('copy', '--src-tls-verify=false', `docker://${host}/docker/busybox:v2s2`, `dir:${dir}`);
    assert.equal(readFileSync(join(dir, 'manifest.json'), 'utf8'), raw);
    assert.equal(served.headers['docker-content-digest'], digestOf(raw));
  });

  it('Basic auth: --dest-creds / --src-creds work, no or wrong credentials are refused', async () => {
    const htpasswd = makeHtpasswd(join(work, 'htpasswd'), { pusher: 's3cret pass', other: 'x' });
    const s = await serve('--htpasswd', htpasswd);
    const host = `127.0.0.1:${s.port}`;
    const denied = skopeoFails('copy', '--dest-tls-verify=false', `oci:${fx.layout}:busybox:1`, `docker://${host}/auth/busybox:1`);
    assert.match(denied, /unauthorized|authentication required/i);
    skopeoFails('copy', '--dest-tls-verify=false', '--dest-creds', 'pusher:wrong', `oci:${fx.layout}:busybox:1`, `docker://${host}/auth/busybox:1`);
    skopeo('copy', '--preserve-digests', '--dest-tls-verify=false', '--dest-creds', 'pusher:s3cret pass', `oci:${fx.layout}:busybox:1`, `docker://${host}/auth/busybox:1`);
    const out = join(work, 'out-auth');
    skopeo('copy', '--src-tls-verify=false', '--src-creds', 'pusher:s3cret pass', '--preserve-digests', `docker://${host}/auth/busybox:1`, `oci:${out}:busybox:1`);
    assert.equal(compareLayout(fx, out, 'busybox:1', singleBlobs()), fx.manifest.digest);
  });

  it('TLS with a test CA (--dest-cert-dir) and Basic auth; an untrusted CA is refused', async () => {
    const tls = makeTls(join(work, 'tls'));
    const htpasswd = makeHtpasswd(join(work, 'htpasswd-tls'), { tls: 'over tls' });
    const s = await serve('--tls-cert', tls.certFile, '--tls-key', tls.keyFile, '--htpasswd', htpasswd);
    assert.match(s.url, /^https:/);
    const host = `127.0.0.1:${s.port}`;
    const untrusted = skopeoFails('copy', '--dest-creds', 'tls:over tls', `oci:${fx.layout}:busybox:1`, `docker://${host}/tls/busybox:1`);
    assert.match(untrusted, /certificate|x509/i);
    skopeo('copy', '--preserve-digests', '--dest-cert-dir', tls.certDir, '--dest-creds', 'tls:over tls', `oci:${fx.layout}:busybox:1`, `docker://${host}/tls/busybox:1`);
    const out = join(work, 'out-tls');
    skopeo('copy', '--src-cert-dir', tls.certDir, '--src-creds', 'tls:over tls', '--preserve-digests', `docker://${host}/tls/busybox:1`, `oci:${out}:busybox:1`);
    assert.equal(compareLayout(fx, out, 'busybox:1', singleBlobs()), fx.manifest.digest);
  });
});
