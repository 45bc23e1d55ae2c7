// Where the API listens: the unix socket's mode, group and stale-file handling, plain TCP
// only when asked for, and TLS with client-certificate verification.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createApiServer, type ApiServer } from '../../src/api/server.js';
import { parseHost } from '../../src/api/listen.js';
import { FakeBackend, FAKE_VERSION } from '../helpers/api-fake-backend.js';
import { makeTestCa, type TestCa } from '../helpers/test-ca.js';
import { BerthError } from '../../src/util/errors.js';

let dir: string;
const servers: ApiServer[] = [];

function newServer(): ApiServer {
  const server = createApiServer(new FakeBackend(), { serverVersion: FAKE_VERSION });
  servers.push(server);
  return server;
}

function pingUnix(socketPath: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ socketPath, path: '/_ping' }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve(text));
    });
    req.on('error', reject);
    req.end();
  });
}

function dockerGid(): number {
  const line = readFileSync('/etc/group', 'utf8').split('\n').find((l) => l.startsWith('docker:'));
  return line === undefined ? 0 : Number(line.split(':')[2]);
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'berth-api-listen-'));
});
after(async () => {
  await Promise.all(servers.map((s) => s.close()));
  rmSync(dir, { recursive: true, force: true });
});

describe('unix socket', () => {
  it('creates the directory and a 0660 socket owned by root and the docker group (root when absent)', async () => {
    const path = join(dir, 'a', 'b', 'berth.sock');
    const server = newServer();
    await server.listen([parseHost(`unix://${path}`)]);
    const st = statSync(path);
    assert.equal(st.mode & 0o777, 0o660);
    assert.equal(st.uid, 0);
    assert.equal(st.gid, dockerGid());
    assert.deepEqual(server.addresses(), [`unix://${path}`]);
    assert.equal(await pingUnix(path), 'OK');
    await server.close();
    assert.throws(() => statSync(path), /ENOENT/, 'close removes the socket file');
  });

  it('replaces a stale socket nobody answers on, and refuses one that answers', async () => {
    const path = join(dir, 'stale.sock');
    // A socket file left by a process that died: bound, never listening.
    execFileSync('python3', ['-c', `import socket; s = socket.socket(socket.AF_UNIX); s.bind(${JSON.stringify(path)})`]);
    assert.ok(statSync(path).isSocket());
    const first = newServer();
    await first.listen([parseHost(`unix://${path}`)]);
    assert.equal(await pingUnix(path), 'OK');
    const second = newServer();
    await assert.rejects(second.listen([parseHost(`unix://${path}`)]), (err: unknown) =>
      err instanceof BerthError && err.code === 'Conflict' && /another daemon is already listening/.test(err.message));
    assert.equal(await pingUnix(path), 'OK', 'the first server is untouched');
  });

  it('refuses to remove a file that is not a socket', async () => {
    const path = join(dir, 'regular');
    writeFileSync(path, 'data');
    await assert.rejects(newServer().listen([parseHost(`unix://${path}`)]), /exists and is not a socket/);
    assert.equal(readFileSync(path, 'utf8'), 'data');
  });
});

describe('tcp', () => {
  let ca: TestCa;
  before(() => {
    ca = makeTestCa(mkdtempSync(join(dir, 'ca-')));
    const openssl = (...args: string[]): void => void execFileSync('openssl', args, { cwd: ca.dir, stdio: ['ignore', 'ignore', 'pipe'] });
    openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'client.key', '-out', 'client.csr', '-subj', '/CN=client');
    writeFileSync(join(ca.dir, 'client.ext'), 'extendedKeyUsage=clientAuth\n');
    openssl('x509', '-req', '-in', 'client.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'client.crt', '-days', '2', '-extfile', 'client.ext');
  });

  function httpsPing(port: number, withClientCert: boolean): Promise<string> {
    return new Promise((resolve, reject) => {
      const req = httpsRequest({
        host: '127.0.0.1', port, path: '/_ping', ca: ca.caCert,
        ...(withClientCert ? { cert: readFileSync(join(ca.dir, 'client.crt')), key: readFileSync(join(ca.dir, 'client.key')) } : {}),
      }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve(text));
      });
      req.on('error', reject);
      req.end();
    });
  }

  it('serves plain TCP when TLS was explicitly turned off', async () => {
    const server = newServer();
    await server.listen([parseHost('tcp://127.0.0.1:0', { tls: false })]);
    const port = Number(server.addresses()[0]!.split(':').pop());
    const text = await new Promise<string>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, path: '/v1.41/_ping' }, (res) => {
        res.setEncoding('utf8');
        res.on('data', resolve);
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(text, 'OK');
  });

  it('requires a client certificate signed by the CA with verification on (mutual TLS)', async () => {
    const server = newServer();
    const tls = { certPath: ca.serverCertPath, keyPath: ca.serverKeyPath, caPath: ca.caCertPath, verify: true };
    await server.listen([parseHost('tcp://127.0.0.1:0', { tls })]);
    const port = Number(server.addresses()[0]!.split(':').pop());
    assert.equal(await httpsPing(port, true), 'OK');
    await assert.rejects(httpsPing(port, false));
  });

  it('serves TLS without client certificates when verification is off', async () => {
    const server = newServer();
    await server.listen([parseHost('tcp://127.0.0.1:0', { tls: { certPath: ca.serverCertPath, keyPath: ca.serverKeyPath, verify: false } })]);
    const port = Number(server.addresses()[0]!.split(':').pop());
    assert.equal(await httpsPing(port, false), 'OK');
  });
});
