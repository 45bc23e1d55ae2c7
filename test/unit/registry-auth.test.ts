// The registry client's pure parts: WWW-Authenticate parsing, config.json credentials as
// docker reads and writes them, and which endpoints and TLS settings a registry gets.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseChallenges, scopeString } from '../../src/registry/client/auth.js';
import { eraseCredentials, lookupCredentials, storeCredentials } from '../../src/registry/client/credentials.js';
import { RegistryHosts } from '../../src/registry/client/hosts.js';

describe('WWW-Authenticate', () => {
  it('parses a Bearer challenge with quoted parameters', () => {
    const [c] = parseChallenges('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"');
    assert.deepEqual(c, { scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/busybox:pull' } });
  });

  it('parses several challenges, escapes and unquoted values, and skips unknown schemes', () => {
    const got = parseChallenges('Negotiate abc, Basic realm="a \\"b\\", c", Bearer realm=https://x/t , service=s');
    assert.deepEqual(got, [
      { scheme: 'basic', params: { realm: 'a "b", c' } },
      { scheme: 'bearer', params: { realm: 'https://x/t', service: 's' } },
    ]);
  });

  it('survives garbage', () => {
    assert.deepEqual(parseChallenges(''), []);
    assert.deepEqual(parseChallenges(undefined), []);
    assert.deepEqual(parseChallenges('=,,"unterminated'), []);
  });

  it('writes scopes as the token spec wants them', () => {
    assert.equal(scopeString({ repository: 'a/b', actions: ['push', 'pull'] }), 'repository:a/b:pull,push');
  });
});

describe('config.json credentials', () => {
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), 'berth-creds-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('reads docker-written entries under any key form', async () => {
    const path = join(dir, 'read.json');
    writeFileSync(path, JSON.stringify({
      auths: {
        'https://index.docker.io/v1/': { auth: Buffer.from('hub:secret').toString('base64') },
        'http://localhost:5000/v2/': { auth: Buffer.from('me:p:w').toString('base64') },
        'reg.example': { identitytoken: 'refresh-123' },
      },
    }));
    assert.deepEqual(await lookupCredentials('docker.io', path), { username: 'hub', password: 'secret' });
    assert.deepEqual(await lookupCredentials('localhost:5000', path), { username: 'me', password: 'p:w' });
    assert.deepEqual(await lookupCredentials('reg.example', path), { identityToken: 'refresh-123' });
    assert.deepEqual(await lookupCredentials('other:1', path), {});
    assert.deepEqual(await lookupCredentials('x', join(dir, 'missing.json')), {});
  });

  it('refuses a broken file with its path in the message', async () => {
    const path = join(dir, 'broken.json');
    writeFileSync(path, '{"auths":');
    await assert.rejects(lookupCredentials('x', path), (e: Error) => e.message.includes(path) && /JSON/.test(e.message));
  });

  it('stores as docker does (0600, base64 auth), keeps other keys, and erases', async () => {
    const path = join(dir, 'sub', 'config.json');
    mkdirSync(join(dir, 'sub'));
    writeFileSync(path, JSON.stringify({ psFormat: 'table {{.ID}}', auths: { 'localhost:5000': { auth: 'b2xkOm9sZA==' } } }));
    await storeCredentials('localhost:5000', { username: 'u', password: 'p' }, path);
    await storeCredentials('docker.io', { username: 'h', password: 'q' }, path);
    const doc = JSON.parse(readFileSync(path, 'utf8')) as { psFormat: string; auths: Record<string, { auth: string }> };
    assert.equal(doc.psFormat, 'table {{.ID}}');
    assert.equal(doc.auths['localhost:5000']!.auth, Buffer.from('u:p').toString('base64'));
    assert.equal(doc.auths['https://index.docker.io/v1/']!.auth, Buffer.from('h:q').toString('base64'));
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.equal(await eraseCredentials('localhost:5000', path), true);
    assert.equal(await eraseCredentials('localhost:5000', path), false);
    assert.deepEqual(await lookupCredentials('localhost:5000', path), {});
    assert.deepEqual(await lookupCredentials('docker.io', path), { username: 'h', password: 'q' });
  });
});

describe('registry hosts', () => {
  it('maps docker.io to registry-1.docker.io and puts mirrors first for pulls only', () => {
    const hosts = new RegistryHosts({ registryMirrors: ['https://mirror.example'], mirrors: { 'reg.example:5000': ['http://127.0.0.1:5001'] } });
    assert.deepEqual(hosts.endpoints('docker.io', 'pull').map((e) => [e.base.href, e.mirror]), [
      ['https://mirror.example/', true],
      ['https://registry-1.docker.io/', false],
    ]);
    assert.deepEqual(hosts.endpoints('docker.io', 'push').map((e) => e.base.href), ['https://registry-1.docker.io/']);
    const [mirror, own] = hosts.endpoints('reg.example:5000', 'pull');
    assert.equal(mirror!.base.href, 'http://127.0.0.1:5001/');
    assert.equal(mirror!.insecure, true);
    assert.equal(own!.base.href, 'https://reg.example:5000/');
    assert.equal(own!.insecure, false);
  });

  it('treats loopback as insecure, and honours names and CIDRs', () => {
    const hosts = new RegistryHosts({ insecureRegistries: ['reg.example:5000', '10.1.0.0/16', 'plain.example'] });
    for (const h of ['127.0.0.1:5000', 'localhost:5000', '[::1]:5000', 'reg.example:5000', '10.1.200.3:443', 'plain.example:1234']) assert.equal(hosts.isInsecure(h), true, h);
    for (const h of ['reg.example:5001', '10.2.0.1', 'example.com']) assert.equal(hosts.isInsecure(h), false, h);
  });

  it('refuses bad configuration with the bad value named', () => {
    assert.throws(() => new RegistryHosts({ insecureRegistries: ['10.0.0.0/99'] }), /10\.0\.0\.0\/99/);
    assert.throws(() => new RegistryHosts({ insecureRegistries: ['http://x'] }), /http:\/\/x/);
    assert.throws(() => new RegistryHosts({ registryMirrors: ['ftp://m'] }), /ftp:\/\/m/);
    assert.throws(() => new RegistryHosts({ registryMirrors: ['https://m/path'] }), /no path/);
  });

  it('reads CAs and a client certificate pair from certs.d', () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-certs-'));
    try {
      mkdirSync(join(dir, 'reg:5000'));
      writeFileSync(join(dir, 'reg:5000', 'ca.crt'), 'CA-PEM');
      writeFileSync(join(dir, 'reg:5000', 'client.cert'), 'CERT');
      writeFileSync(join(dir, 'reg:5000', 'client.key'), 'KEY');
      const hosts = new RegistryHosts({ certsDir: dir });
      assert.deepEqual(hosts.tls('reg:5000', true), { verify: true, ca: ['CA-PEM'], cert: 'CERT', key: 'KEY' });
      assert.deepEqual(hosts.tls('other:1', true), { verify: true });
      mkdirSync(join(dir, 'half'));
      writeFileSync(join(dir, 'half', 'c.cert'), 'CERT');
      assert.throws(() => hosts.tls('half', true), /c\.key/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
