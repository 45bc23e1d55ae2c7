// The registry transport against small fake registries on loopback: the Bearer token
// flow (challenge, token per scope, cache, refresh on 401), basic auth from config.json,
// login/logout, redirects that must not carry credentials to another host, an insecure
// registry reached over plain HTTP after HTTPS fails, and TLS trust from certs.d.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closeIdleConnections } from '../../src/registry/client/http.js';
import { login, logout } from '../../src/registry/client/login.js';
import { createResolver } from '../../src/registry/client/session.js';
import type { RegistrySession } from '../../src/registry/client/types.js';
import { isBerthError } from '../../src/util/errors.js';
import { makeTestCa, type TestCa } from '../helpers/test-ca.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

async function listen(handler: Handler, server: Server = createServer()): Promise<{ server: Server; host: string }> {
  server.on('request', handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, host: `127.0.0.1:${(server.address() as AddressInfo).port}` };
}

const close = (s: Server): Promise<void> => new Promise((r) => { s.closeAllConnections(); s.close(() => r()); });
const basic = (u: string, p: string): string => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;

let work: string;
const servers: Server[] = [];
before(() => (work = mkdtempSync(join(tmpdir(), 'berth-transport-'))));
after(async () => {
  closeIdleConnections();
  await Promise.all(servers.map(close));
  rmSync(work, { recursive: true, force: true });
});

function authFile(name: string, auths: Record<string, { auth: string }>): string {
  const path = join(work, `${name}.json`);
  writeFileSync(path, JSON.stringify({ auths }));
  return path;
}

async function get(session: RegistrySession, path: string, repo = 'team/app'): Promise<{ status: number; body: string }> {
  const res = await session.request({ method: 'GET', path, scopes: [{ repository: repo, actions: ['pull'] }] });
  return { status: res.status, body: await res.text(1 << 20) };
}

describe('bearer token flow', () => {
  const issued: { scope: string[]; authorization: string | undefined; service: string | null }[] = [];
  const valid = new Map<string, string[]>();
  let registryHost: string;

  before(async () => {
    const token = await listen((req, res) => {
      const url = new URL(req.url!, 'http://x');
      const scope = url.searchParams.getAll('scope');
      issued.push({ scope, authorization: req.headers.authorization, service: url.searchParams.get('service') });
      if (req.headers.authorization !== basic('alice', 's3cret')) {
        res.writeHead(401).end();
        return;
      }
      const t = `tok-${issued.length}`;
      valid.set(t, scope);
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: t, expires_in: 300 }));
    });
    servers.push(token.server);
    const registry = await listen((req, res) => {
      const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
      const repo = /^\/v2\/(.+)\/manifests\//.exec(req.url!)?.[1];
      const ok = bearer !== undefined && (repo === undefined || (valid.get(bearer) ?? []).includes(`repository:${repo}:pull`));
      if (!ok) {
        const scope = repo ? `,scope="repository:${repo}:pull"` : '';
        res.writeHead(401, { 'www-authenticate': `Bearer realm="http://${token.host}/token",service="fake-registry"${scope}` }).end('{"errors":[{"code":"UNAUTHORIZED"}]}');
        return;
      }
      res.writeHead(200).end(`hello ${repo}`);
    });
    servers.push(registry.server);
    registryHost = registry.host;
  });

  it('gets a token for the scope, caches it, asks again for a new scope, and refreshes after a 401', async () => {
    const resolver = createResolver({ authConfigPath: authFile('bearer', { [registryHost]: { auth: Buffer.from('alice:s3cret').toString('base64') } }) });
    const [endpoint] = resolver.endpoints(registryHost, 'pull');
    const session = resolver.session(registryHost, endpoint!);
    assert.equal(endpoint!.base.protocol, 'https:'); // loopback is insecure: HTTPS first, then HTTP
    assert.deepEqual(await get(session, '/v2/team/app/manifests/latest'), { status: 200, body: 'hello team/app' });
    assert.equal(issued.length, 1);
    assert.deepEqual(issued[0]!.scope, ['repository:team/app:pull']);
    assert.equal(issued[0]!.service, 'fake-registry');
    await get(session, '/v2/team/app/manifests/v2');
    assert.equal(issued.length, 1, 'the cached token serves the same scope');
    assert.equal((await get(session, '/v2/team/other/manifests/latest', 'team/other')).status, 200);
    assert.equal(issued.length, 2, 'a new scope gets a new token');
    valid.clear(); // the registry forgets every token: the next request meets a 401
    assert.equal((await get(session, '/v2/team/app/manifests/latest')).status, 200);
    assert.equal(issued.length, 3, 'a 401 with a cached token fetches a fresh one');
  });

  it('reports the token server refusing bad credentials as Unauthorized', async () => {
    const resolver = createResolver({ authConfigPath: authFile('bad', { [registryHost]: { auth: Buffer.from('alice:wrong').toString('base64') } }) });
    const session = resolver.session(registryHost, resolver.endpoints(registryHost, 'pull')[0]!);
    await assert.rejects(get(session, '/v2/team/app/manifests/latest'), (e: unknown) => isBerthError(e, 'Unauthorized') && /refused the credentials/.test((e as Error).message));
  });

  it('login checks the credentials with the token server and stores them; logout removes them', async () => {
    const path = join(work, 'login', 'config.json');
    await assert.rejects(login(registryHost, { username: 'alice', password: 'nope' }, { authConfigPath: path }), (e: unknown) => isBerthError(e, 'Unauthorized'));
    assert.throws(() => readFileSync(path), /ENOENT/, 'a failed login stores nothing');
    assert.equal(await login(registryHost, { username: 'alice', password: 's3cret' }, { authConfigPath: path }), 'Login Succeeded');
    const auths = (JSON.parse(readFileSync(path, 'utf8')) as { auths: Record<string, { auth: string }> }).auths;
    assert.equal(auths[registryHost]!.auth, Buffer.from('alice:s3cret').toString('base64'));
    assert.equal(await logout(registryHost, { authConfigPath: path }), `Removing login credentials for ${registryHost}`);
    assert.equal(await logout(registryHost, { authConfigPath: path }), `Not logged in to ${registryHost}`);
  });
});

describe('basic auth and redirects', () => {
  let registryHost: string;
  let storageHost: string;
  const storageAuth: (string | undefined)[] = [];
  let bodiesSeen = 0;

  before(async () => {
    const storage = await listen((req, res) => {
      storageAuth.push(req.headers.authorization);
      res.writeHead(200).end('blob bytes');
    });
    servers.push(storage.server);
    storageHost = storage.host;
    const registry = await listen((req, res) => {
      if (req.headers.authorization !== basic('bob', 'pw')) {
        req.resume();
        res.writeHead(401, { 'www-authenticate': 'Basic realm="fake"' }).end();
        return;
      }
      if (req.method === 'PUT') {
        const parts: Buffer[] = [];
        req.on('data', (c: Buffer) => parts.push(c));
        req.on('end', () => {
          bodiesSeen++;
          res.writeHead(201).end(Buffer.concat(parts));
        });
        return;
      }
      res.writeHead(307, { location: `http://${storageHost}/data/blob?sig=1` }).end();
    });
    servers.push(registry.server);
    registryHost = registry.host;
  });

  it('sends basic credentials from config.json and follows a redirect without them', async () => {
    const resolver = createResolver({ authConfigPath: authFile('basic', { [registryHost]: { auth: Buffer.from('bob:pw').toString('base64') } }) });
    const session = resolver.session(registryHost, resolver.endpoints(registryHost, 'pull')[0]!);
    const res = await get(session, '/v2/x/blobs/sha256:00');
    assert.deepEqual(res, { status: 200, body: 'blob bytes' });
    assert.deepEqual(storageAuth, [undefined], 'the storage host never sees the registry credentials');
  });

  it('learns the challenge before sending a streamed body, so the body goes once', async () => {
    const resolver = createResolver({ authConfigPath: authFile('basic2', { [registryHost]: { auth: Buffer.from('bob:pw').toString('base64') } }) });
    const session = resolver.session(registryHost, resolver.endpoints(registryHost, 'push')[0]!);
    let opened = 0;
    const body = async function* (): AsyncIterable<Uint8Array> {
      opened++;
      yield Buffer.from('chunk-1 ');
      yield Buffer.from('chunk-2');
    };
    const res = await session.request({ method: 'PUT', path: '/v2/x/blobs/uploads/1?digest=sha256:00', body, scopes: [{ repository: 'x', actions: ['pull', 'push'] }] });
    assert.equal(res.status, 201);
    assert.equal(await res.text(100), 'chunk-1 chunk-2');
    assert.equal(opened, 1);
    assert.equal(bodiesSeen, 1);
  });

  it('returns the 401 when the stored password is wrong', async () => {
    const resolver = createResolver({ authConfigPath: authFile('basic3', { [registryHost]: { auth: Buffer.from('bob:bad').toString('base64') } }) });
    const session = resolver.session(registryHost, resolver.endpoints(registryHost, 'pull')[0]!);
    assert.equal((await get(session, '/v2/x/blobs/sha256:00')).status, 401);
  });
});

describe('TLS', () => {
  let ca: TestCa;
  let tlsHost: string;

  before(async () => {
    const dir = join(work, 'ca');
    mkdirSync(dir);
    ca = makeTestCa(dir);
    const s = await listen((_req, res) => res.writeHead(200).end('tls ok'), createHttpsServer({ cert: ca.serverCert, key: ca.serverKey }));
    servers.push(s.server);
    tlsHost = s.host;
  });

  it('refuses an unknown CA, and trusts the CA from certs.d/<host:port>/ca.crt', async () => {
    const noCerts = createResolver({ loopbackInsecure: false, certsDir: join(work, 'no-certs.d') });
    const s1 = noCerts.session(tlsHost, noCerts.endpoints(tlsHost, 'pull')[0]!);
    await assert.rejects(get(s1, '/v2/'), (e: unknown) => isBerthError(e, 'Unavailable') && /certificate/i.test((e as Error).message));
    const certsDir = join(work, 'certs.d');
    mkdirSync(join(certsDir, tlsHost), { recursive: true });
    writeFileSync(join(certsDir, tlsHost, 'ca.crt'), ca.caCert);
    const trusted = createResolver({ loopbackInsecure: false, certsDir });
    const s2 = trusted.session(tlsHost, trusted.endpoints(tlsHost, 'pull')[0]!);
    assert.deepEqual(await get(s2, '/v2/'), { status: 200, body: 'tls ok' });
  });

  it('reaches an insecure registry over unverified HTTPS, and a plain-HTTP one after HTTPS fails', async () => {
    const insecure = createResolver({ certsDir: join(work, 'no-certs.d') });
    const s1 = insecure.session(tlsHost, insecure.endpoints(tlsHost, 'pull')[0]!);
    assert.deepEqual(await get(s1, '/v2/'), { status: 200, body: 'tls ok' });
    const plain = await listen((_req, res) => res.writeHead(200).end('plain ok'));
    servers.push(plain.server);
    const s2 = insecure.session(plain.host, insecure.endpoints(plain.host, 'pull')[0]!);
    assert.deepEqual(await get(s2, '/v2/'), { status: 200, body: 'plain ok' });
    const secure = createResolver({ loopbackInsecure: false });
    const s3 = secure.session(plain.host, secure.endpoints(plain.host, 'pull')[0]!);
    await assert.rejects(get(s3, '/v2/'), (e: unknown) => isBerthError(e, 'Unavailable'), 'a secure registry never falls back to HTTP');
  });
});
