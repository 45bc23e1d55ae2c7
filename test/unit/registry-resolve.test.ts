// resolve() against an in-memory registry: what it refuses (oversized manifests, digests
// that do not match the bytes, the pin or the header), how it follows an index, and how
// mirrors fall back (network error, 5xx, 404, 401) with the fallbacks recorded.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { MediaTypes, MAX_MANIFEST_SIZE } from '../../src/oci/image-spec.js';
import { resolve, MANIFEST_ACCEPT } from '../../src/registry/client/resolve.js';
import type { Endpoint, RegistryRequest, RegistryResolver, RegistryResponse, RegistrySession } from '../../src/registry/client/types.js';
import { digestOf } from '../../src/util/digest.js';
import { isBerthError, unavailable } from '../../src/util/errors.js';

interface Answer {
  status: number;
  headers?: Record<string, string>;
  body?: Buffer | string;
}
type Handler = (req: RegistryRequest) => Answer | Error;

function response(req: RegistryRequest, a: Answer, base: URL): RegistryResponse {
  const body = Buffer.from(a.body ?? '');
  const stream = new PassThrough();
  stream.end(req.method === 'HEAD' ? undefined : body);
  const headers = { 'content-length': String(body.length), ...a.headers };
  const bytes = async (max: number): Promise<Buffer> => {
    if (body.length > max) throw new Error(`larger than ${max}`);
    return body;
  };
  return { status: a.status, headers, url: new URL(req.path, base), body: stream, bytes, text: async (m) => (await bytes(m)).toString(), discard: () => stream.resume() };
}

class FakeSession implements RegistrySession {
  readonly registry = 'reg.test';
  readonly requests: RegistryRequest[] = [];
  constructor(
    readonly endpoint: Endpoint,
    private readonly handler: Handler,
  ) {}

  async request(req: RegistryRequest): Promise<RegistryResponse> {
    this.requests.push(req);
    const a = this.handler(req);
    if (a instanceof Error) throw a;
    return response(req, a, this.endpoint.base);
  }
}

function fakeResolver(handlers: { base: string; mirror: boolean; handler: Handler }[]): RegistryResolver & { sessions: FakeSession[] } {
  const sessions = handlers.map((h) => new FakeSession({ base: new URL(h.base), mirror: h.mirror }, h.handler));
  return {
    sessions,
    endpoints: () => sessions.map((s) => s.endpoint),
    session: (_registry, endpoint) => sessions.find((s) => s.endpoint === endpoint)!,
  };
}

const config = { mediaType: MediaTypes.ociConfig, digest: digestOf('{}'), size: 2 };
const manifestBytes = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaTypes.ociManifest, config, layers: [] }));
const manifestDigest = digestOf(manifestBytes);
const armBytes = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaTypes.ociManifest, config: { ...config, annotations: { a: 'arm' } }, layers: [] }));
const indexBytes = Buffer.from(
  JSON.stringify({
    schemaVersion: 2,
    mediaType: MediaTypes.ociIndex,
    manifests: [
      { mediaType: MediaTypes.ociManifest, digest: digestOf(armBytes), size: armBytes.length, platform: { os: 'linux', architecture: 'arm64' } },
      { mediaType: MediaTypes.ociManifest, digest: manifestDigest, size: manifestBytes.length, platform: { os: 'linux', architecture: 'amd64' } },
    ],
  }),
);

/** A registry holding one repository "app" with tag "1" → manifest and tag "multi" → index. */
function registry(overrides: Partial<Record<string, Answer>> = {}): Handler {
  const docs = new Map<string, Buffer>([
    [manifestDigest, manifestBytes],
    [digestOf(armBytes), armBytes],
    [digestOf(indexBytes), indexBytes],
  ]);
  const tags: Record<string, Buffer> = { '1': manifestBytes, multi: indexBytes };
  return (req) => {
    const override = overrides[`${req.method} ${req.path}`];
    if (override) return override;
    const m = /^\/v2\/app\/manifests\/(.+)$/.exec(req.path);
    const bytes = m ? (tags[m[1]!] ?? docs.get(m[1]!)) : undefined;
    if (!bytes) return { status: 404, body: JSON.stringify({ errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown' }] }) };
    const type = (JSON.parse(bytes.toString()) as { mediaType: string }).mediaType;
    return { status: 200, headers: { 'content-type': type, 'docker-content-digest': digestOf(bytes) }, body: bytes };
  };
}

const amd64 = { os: 'linux', architecture: 'amd64' };

describe('resolve', () => {
  it('HEADs then GETs by digest, with every manifest type accepted', async () => {
    const r = fakeResolver([{ base: 'https://reg.test', mirror: false, handler: registry() }]);
    const got = await resolve(r, 'reg.test/app:1', { platform: amd64 });
    assert.equal(got.root.digest, manifestDigest);
    assert.equal(got.manifest.descriptor.mediaType, MediaTypes.ociManifest);
    assert.ok(got.manifest.bytes.equals(manifestBytes));
    assert.equal(got.index, undefined);
    const reqs = r.sessions[0]!.requests;
    assert.deepEqual(reqs.map((q) => `${q.method} ${q.path}`), ['HEAD /v2/app/manifests/1', `GET /v2/app/manifests/${manifestDigest}`]);
    assert.equal(reqs[0]!.headers?.accept, MANIFEST_ACCEPT);
    for (const t of [MediaTypes.ociManifest, MediaTypes.ociIndex, MediaTypes.dockerManifest, MediaTypes.dockerManifestList]) assert.ok(MANIFEST_ACCEPT.includes(t));
    assert.deepEqual(reqs[0]!.scopes, [{ repository: 'app', actions: ['pull'] }]);
  });

  it('follows an index to the wanted platform', async () => {
    const r = fakeResolver([{ base: 'https://reg.test', mirror: false, handler: registry() }]);
    const got = await resolve(r, 'reg.test/app:multi', { platform: amd64 });
    assert.equal(got.root.digest, digestOf(indexBytes));
    assert.equal(got.index?.descriptor.digest, digestOf(indexBytes));
    assert.equal(got.manifest.descriptor.digest, manifestDigest);
    const arm = await resolve(r, 'reg.test/app:multi', { platform: { os: 'linux', architecture: 'arm64' } });
    assert.equal(arm.manifest.descriptor.digest, digestOf(armBytes));
  });

  it('refuses manifests over 4 MiB before reading them', async () => {
    const big = { status: 200, headers: { 'content-length': String(MAX_MANIFEST_SIZE + 1), 'content-type': MediaTypes.ociManifest } };
    const r = fakeResolver([{ base: 'https://reg.test', mirror: false, handler: registry({ 'HEAD /v2/app/manifests/1': big }) }]);
    await assert.rejects(resolve(r, 'reg.test/app:1'), (err: unknown) => isBerthError(err, 'InvalidArgument') && /more than the 4194304 allowed/.test((err as Error).message));
    assert.equal(r.sessions[0]!.requests.filter((q) => q.method === 'GET').length, 0);
  });

  it('checks the bytes against the pin and against Docker-Content-Digest', async () => {
    const other = digestOf('something else');
    const lying = { status: 200, headers: { 'content-type': MediaTypes.ociManifest, 'docker-content-digest': other }, body: manifestBytes };
    let r = fakeResolver([{ base: 'https://reg.test', mirror: false, handler: registry({ 'GET /v2/app/manifests/1': lying, 'HEAD /v2/app/manifests/1': { status: 405 } }) }]);
    await assert.rejects(resolve(r, 'reg.test/app:1'), /the registry says sha256:.*, but the content hashes to/);
    const pinned = { status: 200, headers: { 'content-type': MediaTypes.ociManifest }, body: manifestBytes };
    r = fakeResolver([{ base: 'https://reg.test', mirror: false, handler: registry({ [`GET /v2/app/manifests/${other}`]: pinned, [`HEAD /v2/app/manifests/${other}`]: { status: 404 } }) }]);
    await assert.rejects(resolve(r, `reg.test/app@${other}`), new RegExp(`expected digest ${other}, but the content hashes to ${manifestDigest}`));
    r = fakeResolver([{ base: 'https://reg.test', mirror: false, handler: registry() }]);
    assert.equal((await resolve(r, `reg.test/app@${manifestDigest}`)).root.digest, manifestDigest);
  });

  it('falls back from failing mirrors and records why', async () => {
    const r = fakeResolver([
      { base: 'https://m1.test', mirror: true, handler: () => unavailable('https://m1.test: ECONNREFUSED') },
      { base: 'https://m2.test', mirror: true, handler: () => ({ status: 503, body: 'busy' }) },
      { base: 'https://m3.test', mirror: true, handler: () => ({ status: 404 }) },
      { base: 'https://m4.test', mirror: true, handler: () => ({ status: 401, body: JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }) }) },
      { base: 'https://reg.test', mirror: false, handler: registry() },
    ]);
    const got = await resolve(r, 'reg.test/app:1');
    assert.equal(got.session, r.sessions[4]);
    assert.deepEqual(got.fallbacks.map((f) => f.endpoint), ['https://m1.test/', 'https://m2.test/', 'https://m3.test/', 'https://m4.test/']);
    assert.match(got.fallbacks[0]!.reason, /ECONNREFUSED/);
    assert.deepEqual(got.sessions, [r.sessions[4]]);
  });

  it('the registry\'s own failure is final', async () => {
    const r = fakeResolver([{ base: 'https://reg.test', mirror: false, handler: registry() }]);
    await assert.rejects(resolve(r, 'reg.test/app:2'), (err: unknown) => isBerthError(err, 'NotFound') && (err as Error).message === 'manifest for reg.test/app:2 not found: manifest unknown: manifest unknown');
  });
});
