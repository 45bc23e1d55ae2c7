// The Engine API server on a unix socket, driven over HTTP against a fake Backend: headers,
// version negotiation, status codes and error bodies, malformed and oversized input,
// streams and their cancellation, and both forms of connection hijacking.
import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { request, type IncomingHttpHeaders } from 'node:http';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { MuxDecoder } from '../../src/api/streams.js';
import { REQUEST_CHANNEL, type RequestRecord } from '../../src/api/server.js';
import { startFakeApi, type FakeApi, FAKE_VERSION } from '../helpers/api-fake-backend.js';

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  text: string;
}

let api: FakeApi;

function call(method: string, path: string, opts: { headers?: Record<string, string>; body?: string | Buffer } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: api.socketPath, method, path, headers: opts.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text: body.toString() });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

const json = (body: unknown): { headers: Record<string, string>; body: string } => ({
  headers: { 'Content-Type': 'application/json' },
  body: JSON.stringify(body),
});

function lines(text: string): Record<string, unknown>[] {
  return text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
}

async function waitFor(what: string, condition: () => boolean): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.fail(`timed out waiting for ${what}`);
}

/** A raw connection: sends `text`, resolves with the response head and the bytes after it. */
function rawExchange(text: string | Buffer): Promise<{ socket: Socket; head: string; rest: Buffer }> {
  return new Promise((resolve, reject) => {
    const socket = connect(api.socketPath);
    let buf = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      buf = Buffer.concat([buf, chunk]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', onData);
      socket.pause();
      resolve({ socket, head: buf.subarray(0, end).toString(), rest: buf.subarray(end + 4) });
    };
    socket.on('data', onData);
    socket.on('error', reject);
    socket.write(text);
  });
}

/** Reads from a socket until it ends; resolves with everything after `already`. */
function readToEnd(socket: Socket, already: Buffer): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks = [already];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('end', () => resolve(Buffer.concat(chunks)));
    socket.resume();
  });
}

function readFrames(socket: Socket, already: Buffer, count: number): Promise<{ stream: number; text: string }[]> {
  return new Promise((resolve) => {
    const decoder = new MuxDecoder();
    const frames: { stream: number; text: string }[] = [];
    const take = (chunk: Buffer): void => {
      for (const f of decoder.push(chunk)) frames.push({ stream: f.stream, text: f.payload.toString() });
      if (frames.length >= count) {
        socket.off('data', take);
        resolve(frames);
      }
    };
    socket.on('data', take);
    take(already);
    socket.resume();
  });
}

before(async () => {
  api = await startFakeApi({ maxBodyBytes: 16 * 1024 });
});
after(async () => {
  await api.close();
});

describe('headers and version negotiation', () => {
  it('answers /_ping with OK and Docker\'s headers, on GET and HEAD', async () => {
    const get = await call('GET', '/_ping');
    assert.equal(get.status, 200);
    assert.equal(get.text, 'OK');
    assert.equal(get.headers['api-version'], '1.47');
    assert.equal(get.headers['docker-experimental'], 'false');
    assert.equal(get.headers['ostype'], 'linux');
    assert.equal(get.headers['server'], `Docker/${FAKE_VERSION} (linux)`);
    assert.equal(get.headers['cache-control'], 'no-cache, no-store, must-revalidate');
    assert.equal(get.headers['pragma'], 'no-cache');
    assert.equal(get.headers['builder-version'], '1');
    const head = await call('HEAD', '/v1.41/_ping');
    assert.equal(head.status, 200);
    assert.equal(head.text, '');
    assert.equal(head.headers['api-version'], '1.47');
  });

  it('serves every route with and without the version prefix', async () => {
    for (const path of ['/version', '/v1.41/version', '/v1.47/version']) {
      const r = await call('GET', path);
      assert.equal(r.status, 200, path);
      assert.equal((JSON.parse(r.text) as { ApiVersion: string }).ApiVersion, '1.47');
    }
  });

  it('refuses versions outside 1.41-1.47 with Docker\'s messages', async () => {
    const old = await call('GET', '/v1.40/version');
    assert.equal(old.status, 400);
    assert.deepEqual(JSON.parse(old.text), {
      message: 'client version 1.40 is too old. Minimum supported API version is 1.41, please upgrade your client to a newer version',
    });
    assert.equal(old.headers['api-version'], '1.47');
    const young = await call('GET', '/v1.48/containers/json');
    assert.equal(young.status, 400);
    assert.equal((JSON.parse(young.text) as { message: string }).message, 'client version 1.48 is too new. Maximum supported API version is 1.47');
  });

  it('answers unknown paths and wrong methods with 404 page not found, as moby', async () => {
    for (const [method, path] of [['GET', '/nope'], ['GET', '/v1.47/nope/deeper'], ['POST', '/containers/json'], ['DELETE', '/_ping']] as const) {
      const r = await call(method, path);
      assert.equal(r.status, 404, `${method} ${path}`);
      assert.equal(r.headers['content-type'], 'application/json');
      assert.deepEqual(JSON.parse(r.text), { message: 'page not found' });
    }
  });
});

describe('status codes and errors', () => {
  it('maps backend errors to statuses with {"message"} bodies', async () => {
    const missing = await call('GET', '/containers/nope/json');
    assert.equal(missing.status, 404);
    assert.deepEqual(JSON.parse(missing.text), { message: 'No such container: nope' });
    const kill = await call('POST', '/containers/done/kill');
    assert.equal(kill.status, 409);
    assert.match((JSON.parse(kill.text) as { message: string }).message, /^cannot kill container: done: container [0-9a-f]+ is not running$/);
    const condition = await call('POST', '/containers/web/wait?condition=bogus');
    assert.equal(condition.status, 400);
    assert.deepEqual(JSON.parse(condition.text), { message: 'invalid condition: "bogus"' });
  });

  it('answers start/stop with 204, and 304 when nothing changes', async () => {
    const c = api.backend.addContainer({ name: 'lifecycle', state: 'created', openStdin: true });
    assert.equal((await call('POST', `/containers/${c.id}/start`)).status, 204);
    const again = await call('POST', '/containers/lifecycle/start');
    assert.equal(again.status, 304);
    assert.equal(again.text, '');
    assert.equal((await call('POST', '/containers/web/stop?t=3&signal=SIGINT')).status, 204);
    assert.deepEqual(api.backend.callsTo('stopContainer').at(-1), ['web', { signal: 'SIGINT', timeout: 3 }]);
    await call('POST', '/v1.41/containers/web/restart?t=1&signal=SIGINT');
    assert.deepEqual(api.backend.callsTo('restartContainer').at(-1), ['web', { timeout: 1 }], 'signal only from API 1.42');
    const badT = await call('POST', '/containers/web/stop?t=soon');
    assert.equal(badT.status, 400);
    assert.deepEqual(JSON.parse(badT.text), { message: 'invalid value for "t": "soon" is not an integer' });
    const withBody = await call('POST', '/containers/web/start', json({ Binds: ['/a:/b'] }));
    assert.equal(withBody.status, 400);
    assert.match(withBody.text, /non-empty request body/);
  });

  it('turns anything a handler throws into a 500, and keeps serving', async () => {
    const original = api.backend.topContainer.bind(api.backend);
    const version = api.backend.version.bind(api.backend);
    api.backend.topContainer = async () => {
      throw new TypeError('cannot read properties of undefined');
    };
    api.backend.version = () => {
      throw new Error('synchronous failure');
    };
    try {
      const top = await call('GET', '/containers/web/top');
      assert.equal(top.status, 500);
      assert.deepEqual(JSON.parse(top.text), { message: 'cannot read properties of undefined' });
      assert.equal((await call('GET', '/version')).status, 500);
      assert.ok(api.logLines.some((l) => l.includes('synchronous failure')));
    } finally {
      api.backend.topContainer = original;
      api.backend.version = version;
    }
    assert.equal((await call('GET', '/_ping')).text, 'OK');
  });
});

describe('request bodies', () => {
  it('creates with 201, decoding the body as Go would', async () => {
    const r = await call('POST', '/containers/create?name=made&platform=linux/amd64', json({
      image: 'busybox', Cmd: 'echo hi', HostConfig: { PidsLimit: -1, CapAdd: 'NET_ADMIN' },
    }));
    assert.equal(r.status, 201);
    const body = JSON.parse(r.text) as { Id: string; Warnings: string[] };
    assert.match(body.Id, /^[0-9a-f]{64}$/);
    assert.deepEqual(body.Warnings, []);
    const [req, name, platform] = api.backend.callsTo('createContainer').at(-1)!;
    assert.deepEqual(req, { Image: 'busybox', Cmd: ['echo hi'], HostConfig: { PidsLimit: null, CapAdd: ['NET_ADMIN'] } });
    assert.equal(name, 'made');
    assert.equal(platform, 'linux/amd64');
  });

  it('drops fields newer than the client\'s version', async () => {
    await call('POST', '/v1.41/containers/create', json({ Image: 'busybox', HostConfig: { Annotations: { a: 'b' } } }));
    const [req] = api.backend.callsTo('createContainer').at(-1)! as [{ HostConfig: Record<string, unknown> }];
    assert.equal(req.HostConfig['Annotations'], undefined);
    assert.deepEqual(req.HostConfig['ConsoleSize'], [0, 0]);
  });

  it('refuses malformed JSON, wrong types, wrong content types and empty configs with 400', async () => {
    const cases: [string | Buffer, Record<string, string>, RegExp][] = [
      ['{"Image": "busybox",', { 'Content-Type': 'application/json' }, /^invalid JSON: /],
      ['{"Image":"busybox"}{}', { 'Content-Type': 'application/json' }, /^invalid JSON: /],
      ['{"Image":"busybox","Cmd":5}', { 'Content-Type': 'application/json' }, /Go struct field ContainerConfig\.Cmd of type \[\]string/],
      ['{"Env":"x"}', { 'Content-Type': 'application/json' }, /ContainerConfig\.Env of type \[\]string/],
      ['{"HostConfig":{"Memory":"big"}}', { 'Content-Type': 'application/json' }, /ContainerConfig\.HostConfig\.Memory of type int64/],
      ['{"Image":"busybox"}', { 'Content-Type': 'text/plain' }, /unsupported Content-Type header \(text\/plain\): must be 'application\/json'/],
      ['', { 'Content-Type': 'application/json' }, /config cannot be empty/],
      ['null', { 'Content-Type': 'application/json' }, /config cannot be empty/],
    ];
    for (const [body, headers, message] of cases) {
      const r = await call('POST', '/containers/create', { headers, body });
      assert.equal(r.status, 400, String(body));
      assert.match((JSON.parse(r.text) as { message: string }).message, message);
    }
    const exec = await call('POST', '/containers/web/exec', json({ Cmd: [] }));
    assert.equal(exec.status, 400);
    assert.deepEqual(JSON.parse(exec.text), { message: 'No exec command specified' });
  });

  it('refuses JSON bodies over the limit with 413, declared or chunked', async () => {
    const big = JSON.stringify({ Image: 'busybox', Env: ['X='.padEnd(20 * 1024, 'x')] });
    const declared = await call('POST', '/containers/create', json(JSON.parse(big)));
    assert.equal(declared.status, 413);
    assert.match((JSON.parse(declared.text) as { message: string }).message, /request body is too large: the limit for JSON bodies is 16384 bytes/);
    const chunked = await new Promise<number>((resolve, reject) => {
      const req = request({ socketPath: api.socketPath, method: 'POST', path: '/containers/create', headers: { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      for (let i = 0; i < big.length; i += 4096) req.write(big.slice(i, i + 4096));
      req.end();
    });
    assert.equal(chunked, 413);
    assert.equal((await call('GET', '/_ping')).text, 'OK');
  });

  it('streams archive and load bodies without a size limit', async () => {
    const payload = Buffer.alloc(256 * 1024, 7);
    const put = await call('PUT', '/containers/web/archive?path=/tmp&noOverwriteDirNonDir=1', { headers: { 'Content-Type': 'application/x-tar' }, body: payload });
    assert.equal(put.status, 200);
    assert.equal(api.backend.received.at(-1)?.length, payload.length);
    assert.deepEqual(api.backend.callsTo('putArchive').at(-1), ['web', '/tmp', { noOverwriteDirNonDir: true, copyUIDGID: false }]);
    const load = await call('POST', '/images/load?quiet=0', { body: payload });
    assert.equal(load.status, 200);
    assert.deepEqual(lines(load.text), [{ stream: 'Loaded image: busybox:latest\n' }]);
    assert.deepEqual(api.backend.callsTo('loadImages').at(-1), [false]);
  });
});

describe('queries reach the backend as moby passes them', () => {
  it('lists containers with filters in both forms, and no limit for limit=-1', async () => {
    await call('GET', `/containers/json?all=1&limit=-1&filters=${encodeURIComponent('{"status":{"running":true}}')}`);
    assert.deepEqual(api.backend.callsTo('listContainers').at(-1), [{ all: true, size: false, filters: { status: ['running'] } }]);
    await call('GET', `/containers/json?all=True&size=0&limit=2&filters=${encodeURIComponent('{"label":["a=b"]}')}`);
    assert.deepEqual(api.backend.callsTo('listContainers').at(-1), [{ all: true, size: false, limit: 2, filters: { label: ['a=b'] } }]);
    const bad = await call('GET', '/containers/json?filters=%7Bnope');
    assert.equal(bad.status, 400);
    assert.deepEqual(JSON.parse(bad.text), { message: 'invalid filter' });
  });

  it('shows HostConfig.Annotations only from API 1.46', async () => {
    const old = JSON.parse((await call('GET', '/v1.45/containers/json')).text) as { HostConfig: Record<string, unknown> }[];
    assert.equal(old[0]?.HostConfig['Annotations'], undefined);
    const current = JSON.parse((await call('GET', '/containers/json')).text) as { HostConfig: Record<string, unknown> }[];
    assert.deepEqual(current[0]?.HostConfig['Annotations'], { a: 'b' });
  });

  it('maps delete, commit, tag, resize and image list parameters', async () => {
    const c = api.backend.addContainer({ name: 'doomed', state: 'exited' });
    assert.equal((await call('DELETE', `/containers/${c.id}?force=1&v=true`)).status, 204);
    assert.deepEqual(api.backend.callsTo('removeContainer').at(-1), [c.id, { force: true, volumes: true, link: false }]);
    const commit = await call('POST', '/commit?container=web&repo=localhost:5000/snap&comment=c&pause=0&changes=CMD%20sh&changes=ENV%20A%3Db', json(null));
    assert.equal(commit.status, 201);
    assert.deepEqual(api.backend.callsTo('commitContainer').at(-1), [{
      container: 'web', repo: 'localhost:5000/snap', tag: 'latest', comment: 'c', pause: false, changes: ['CMD sh', 'ENV A=b'],
    }]);
    assert.equal((await call('POST', '/images/busybox/tag?repo=docker.io/library/mine&tag=v1')).status, 201);
    assert.deepEqual(api.backend.callsTo('tagImage').at(-1), ['busybox', 'mine', 'v1']);
    assert.equal((await call('POST', '/images/busybox/tag')).status, 400);
    assert.equal((await call('POST', '/containers/web/resize?h=40&w=120')).status, 200);
    assert.deepEqual(api.backend.callsTo('resizeContainer').at(-1), ['web', 40, 120]);
    const old = JSON.parse((await call('GET', '/v1.42/images/json')).text) as { RepoTags: string[]; VirtualSize?: number }[];
    assert.deepEqual(old[1]?.RepoTags, ['<none>:<none>']);
    assert.equal(old[0]?.VirtualSize, 4_000_000);
    const current = JSON.parse((await call('GET', '/images/json')).text) as { RepoTags: string[]; VirtualSize?: number }[];
    assert.deepEqual(current[1]?.RepoTags, []);
    assert.equal(current[0]?.VirtualSize, undefined);
  });
});

describe('streams', () => {
  it('multiplexes logs for non-tty containers, labelled by API version', async () => {
    const r = await call('GET', '/containers/web/logs?stdout=1&stderr=1&timestamps=1');
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'application/vnd.docker.multiplexed-stream');
    const frames = new MuxDecoder().push(r.body).map((f) => [f.stream, f.payload.toString()]);
    assert.deepEqual(frames, [
      [1, '2026-01-02T03:04:05.500000000Z hello from web\n'],
      [2, '2026-01-02T03:04:06.123000000Z warning from web\n'],
    ]);
    const old = await call('GET', '/v1.41/containers/web/logs?stderr=1');
    assert.equal(old.headers['content-type'], 'application/vnd.docker.raw-stream');
    assert.deepEqual(new MuxDecoder().push(old.body).map((f) => f.stream), [2]);
    const tty = await call('GET', '/containers/tty/logs?stdout=1&stderr=1&tail=1');
    assert.equal(tty.headers['content-type'], 'application/vnd.docker.raw-stream');
    assert.equal(tty.text, 'warning from tty\n');
    const none = await call('GET', '/containers/web/logs');
    assert.equal(none.status, 400);
    assert.deepEqual(JSON.parse(none.text), { message: "must specify at least one of 'stdout' or 'stderr'" });
  });

  it('stops following logs and stats when the client goes away', async () => {
    const before = { ...api.backend.closed };
    for (const path of ['/containers/web/logs?follow=1&stdout=1', '/containers/web/stats']) {
      await new Promise<void>((resolve, reject) => {
        const req = request({ socketPath: api.socketPath, path }, (res) => {
          res.once('data', () => {
            req.destroy();
            resolve();
          });
        });
        req.on('error', (err) => (req.destroyed ? undefined : reject(err)));
        req.end();
      });
    }
    await waitFor('the log follow to be closed', () => api.backend.closed.logs > before.logs);
    await waitFor('the stats stream to be aborted', () => api.backend.closed.stats > before.stats);
  });

  it('answers one stats sample with stream=0, and 404 for an unknown container', async () => {
    const r = await call('GET', '/containers/web/stats?stream=0&one-shot=1');
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'application/json');
    assert.equal(lines(r.text).length, 1);
    assert.deepEqual(api.backend.callsTo('containerStats').at(-1), ['web', { stream: false, oneShot: true }]);
    assert.equal((await call('GET', '/containers/nope/stats?stream=0')).status, 404);
  });

  it('streams past events with the legacy fields, and hides image create before 1.46', async () => {
    const until = Math.floor(Date.now() / 1000) - 1;
    const r = await call('GET', `/events?since=0&until=${until}&filters=${encodeURIComponent('{"type":["container"]}')}`);
    assert.equal(r.headers['content-type'], 'application/json');
    const events = lines(r.text);
    assert.deepEqual(events.map((e) => [e['Type'], e['Action'], e['status']]), [['container', 'start', 'start'], ['image', 'create', 'create'], ['image', 'tag', 'tag']]);
    assert.equal(events[0]?.['from'], 'busybox');
    assert.equal(events[0]?.['id'], (events[0]?.['Actor'] as { ID: string }).ID);
    assert.deepEqual(api.backend.callsTo('subscribe').at(-1), [{ until, filters: { type: ['container'] } }]);
    const old = lines((await call('GET', `/v1.45/events?until=${until}`)).text);
    assert.deepEqual(old.map((e) => e['Action']), ['start', 'tag']);
    const backwards = await call('GET', '/events?since=200&until=100');
    assert.equal(backwards.status, 400);
  });

  it('sends wait\'s 200 at once and the exit status when the container exits', async () => {
    const c = api.backend.addContainer({ name: 'waited', state: 'running' });
    const result = await new Promise<string>((resolve, reject) => {
      const req = request({ socketPath: api.socketPath, method: 'POST', path: '/containers/waited/wait?condition=next-exit' }, (res) => {
        assert.equal(res.statusCode, 200);
        // The headers came while the container still runs: only now does it exit.
        assert.equal(c.state, 'running');
        api.backend.exit(c, 5);
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => resolve(text));
      });
      req.on('error', reject);
      req.end();
    });
    assert.deepEqual(JSON.parse(result), { StatusCode: 5, Error: null });
    const missing = await call('POST', '/containers/nope/wait');
    assert.equal(missing.status, 404);
  });

  it('streams pull progress; an error before it is a status, after it a last errorDetail line', async () => {
    const auth = Buffer.from(JSON.stringify({ username: 'u', password: 'p' })).toString('base64url');
    const ok = await call('POST', '/images/create?fromImage=busybox&tag=1.36', { headers: { 'X-Registry-Auth': auth } });
    assert.equal(ok.status, 200);
    assert.equal(ok.headers['content-type'], 'application/json');
    assert.equal(lines(ok.text).length, 3);
    assert.deepEqual(api.backend.callsTo('pullImage').at(-1), ['busybox:1.36', { platform: undefined, auth: { username: 'u', password: 'p' } }]);
    const missing = await call('POST', '/images/create?fromImage=missing&tag=latest');
    assert.equal(missing.status, 404);
    assert.deepEqual(JSON.parse(missing.text), { message: 'pull access denied for missing, repository does not exist' });
    const broken = await call('POST', '/images/create?fromImage=broken&tag=latest');
    assert.equal(broken.status, 200);
    assert.deepEqual(lines(broken.text).at(-1), {
      errorDetail: { message: 'unexpected EOF while downloading layer' }, error: 'unexpected EOF while downloading layer',
    });
    const scratch = await call('POST', '/images/create?fromImage=scratch');
    assert.equal(scratch.status, 403);
  });

  it('aborts a pull whose client went away', async () => {
    const before = api.backend.closed.pull;
    await new Promise<void>((resolve) => {
      const req = request({ socketPath: api.socketPath, method: 'POST', path: '/images/create?fromImage=slow&tag=1' }, (res) => {
        res.once('data', () => {
          req.destroy();
          resolve();
        });
      });
      req.on('error', () => undefined);
      req.end();
    });
    await waitFor('the pull to be aborted', () => api.backend.closed.pull > before);
  });

  it('imports from the request body or a URL (http:// when no scheme is given), refusing other schemes', async () => {
    const r = await call('POST', '/images/create?fromSrc=-&repo=imported&tag=v1&changes=CMD%20sh', { body: Buffer.from('tar bytes') });
    assert.equal(r.status, 200);
    assert.match(String(lines(r.text).at(-1)?.['status']), /^sha256:[0-9a-f]{64}$/);
    assert.deepEqual(api.backend.callsTo('importImage').at(-1), [{ repo: 'imported', tag: 'v1', message: 'Imported from -', changes: ['CMD sh'] }]);
    assert.equal(api.backend.received.at(-1)?.toString(), 'tar bytes');
    const url = await call('POST', `/images/create?fromSrc=${encodeURIComponent('127.0.0.1:1/x.tar')}&repo=fromurl`);
    assert.equal(url.status, 200);
    assert.deepEqual(api.backend.callsTo('importImage').at(-1), [{ repo: 'fromurl', tag: 'latest', message: 'Imported from 127.0.0.1:1/x.tar', changes: [], url: 'http://127.0.0.1:1/x.tar' }]);
    const ftp = await call('POST', `/images/create?fromSrc=${encodeURIComponent('ftp://127.0.0.1/x.tar')}`);
    assert.equal(ftp.status, 400);
    assert.match(ftp.text, /cannot import from ftp:\/\/ URLs/);
  });

  it('answers failed loads in-band, as moby does', async () => {
    const r = await call('POST', '/images/load', { body: 'bad tar' });
    assert.equal(r.status, 200);
    assert.deepEqual(lines(r.text).at(-1), { errorDetail: { message: 'archive/tar: invalid tar header' }, error: 'archive/tar: invalid tar header' });
  });

  it('sends tars for save, export and archive GET, with the path stat header', async () => {
    const save = await call('GET', '/images/get?names=busybox&names=busybox:1');
    assert.equal(save.headers['content-type'], 'application/x-tar');
    assert.equal(save.text, 'fake save of busybox,busybox:1\n');
    assert.equal((await call('GET', '/images/busybox/get')).text, 'fake save of busybox\n');
    assert.equal((await call('GET', '/images/nope/get')).status, 404);
    assert.equal((await call('GET', '/containers/web/export')).headers['content-type'], 'application/x-tar');
    const head = await call('HEAD', '/containers/web/archive?path=/etc/motd');
    assert.equal(head.status, 200);
    const stat = JSON.parse(Buffer.from(String(head.headers['x-docker-container-path-stat']), 'base64').toString()) as Record<string, unknown>;
    assert.deepEqual(stat, { name: 'motd', size: 6, mode: 0o644, mtime: '2026-01-02T03:04:05.123456789Z', linkTarget: '' });
    const get = await call('GET', '/containers/web/archive?path=/etc/motd');
    assert.equal(get.headers['content-type'], 'application/x-tar');
    assert.equal(get.headers['x-docker-container-path-stat'], head.headers['x-docker-container-path-stat']);
    assert.equal((await call('HEAD', '/containers/web/archive?path=/nope')).status, 404);
    const noPath = await call('GET', '/containers/web/archive');
    assert.equal(noPath.status, 400);
    assert.deepEqual(JSON.parse(noPath.text), { message: 'bad parameter: path cannot be empty' });
  });
});

describe('hijacked connections', () => {
  const attachRequest = (container: string, upgrade: boolean, prefix = '/v1.47'): string =>
    `POST ${prefix}/containers/${container}/attach?stream=1&stdin=1&stdout=1&stderr=1 HTTP/1.1\r\nHost: docker\r\n` +
    (upgrade ? 'Connection: Upgrade\r\nUpgrade: tcp\r\n' : '') + 'Content-Length: 0\r\n\r\n';

  it('upgrades attach with 101 and pumps stdin and output until the client half-closes', async () => {
    const c = api.backend.addContainer({ name: 'cat-upgrade', state: 'running', openStdin: true });
    const { socket, head, rest } = await rawExchange(attachRequest(c.name, true));
    const headLines = head.split('\r\n');
    assert.equal(headLines[0], 'HTTP/1.1 101 UPGRADED');
    assert.ok(headLines.includes('Content-Type: application/vnd.docker.multiplexed-stream'));
    assert.ok(headLines.includes('Connection: Upgrade'));
    assert.ok(headLines.includes('Upgrade: tcp'));
    assert.ok(headLines.includes('Api-Version: 1.47'));
    socket.write('ping\n');
    assert.deepEqual(await readFrames(socket, rest, 1), [{ stream: 1, text: 'ping\n' }]);
    socket.end();
    await readToEnd(socket, Buffer.alloc(0));
    assert.equal(c.state, 'exited', 'stdin closed, so the cat exited');
  });

  it('takes the raw connection over for clients that do not ask to upgrade', async () => {
    const c = api.backend.addContainer({ name: 'cat-plain', state: 'running', openStdin: true });
    const { socket, head, rest } = await rawExchange(attachRequest(c.name, false));
    assert.deepEqual(head.split('\r\n').slice(0, 2), ['HTTP/1.1 200 OK', 'Content-Type: application/vnd.docker.raw-stream']);
    // Bytes that look nothing like HTTP: node:http must not see them.
    socket.write('GARBAGE \x00\x01\r\n\r\n');
    assert.deepEqual(await readFrames(socket, rest, 1), [{ stream: 1, text: 'GARBAGE \x00\x01\r\n\r\n' }]);
    socket.end();
    await readToEnd(socket, Buffer.alloc(0));
  });

  it('reads exec start\'s JSON body off an upgraded connection, and labels by version', async () => {
    const created = await call('POST', '/containers/web/exec', json({ Cmd: ['echo', '4'], AttachStdout: true, AttachStderr: true }));
    assert.equal(created.status, 201);
    const id = (JSON.parse(created.text) as { Id: string }).Id;
    const body = JSON.stringify({ Detach: false, Tty: false });
    const { socket, head, rest } = await rawExchange(
      `POST /v1.41/exec/${id}/start HTTP/1.1\r\nHost: docker\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}stdin-bytes`,
    );
    assert.ok(head.startsWith('HTTP/1.1 101 UPGRADED\r\n'));
    assert.ok(head.includes('Content-Type: application/vnd.docker.raw-stream'), 'API 1.41 says raw-stream');
    const all = await readToEnd(socket, rest);
    assert.deepEqual(new MuxDecoder().push(all).map((f) => [f.stream, f.payload.toString()]), [[1, 'exec output: echo 4\n'], [2, 'exec stderr\n']]);
    const inspect = JSON.parse((await call('GET', `/exec/${id}/json`)).text) as { ExitCode: number };
    assert.equal(inspect.ExitCode, 4);
  });

  it('reports an exec that fails to start on its output stream, as moby does', async () => {
    const created = await call('POST', '/containers/web/exec', json({ Cmd: ['fail'] }));
    const id = (JSON.parse(created.text) as { Id: string }).Id;
    const body = '{}';
    const { socket, head, rest } = await rawExchange(
      `POST /exec/${id}/start HTTP/1.1\r\nHost: d\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n${body}`,
    );
    assert.ok(head.startsWith('HTTP/1.1 101 UPGRADED'));
    const frames = new MuxDecoder().push(await readToEnd(socket, rest));
    assert.deepEqual(frames.map((f) => [f.stream, f.payload.toString()]), [[1, 'exec failed to start: fake failure\r\n']]);
    const detached = await call('POST', `/exec/${id}/start`, json({ Detach: true }));
    assert.equal(detached.status, 409);
    const unknown = await call('POST', '/exec/nope/start', json({ Detach: false }));
    assert.equal(unknown.status, 404);
  });

  it('closes the container stream when a hijacked client is cut off', async () => {
    const c = api.backend.addContainer({ name: 'cat-cut', state: 'running', openStdin: true });
    const before = api.backend.closed.attach;
    const { socket } = await rawExchange(attachRequest(c.name, true));
    socket.destroy();
    await waitFor('the attach stream to be closed', () => api.backend.closed.attach > before);
    assert.equal((await call('GET', '/_ping')).text, 'OK');
  });

  it('answers attach to an unknown container with a 404 before hijacking', async () => {
    const { socket, head, rest } = await rawExchange(attachRequest('nope', true));
    assert.ok(head.startsWith('HTTP/1.1 404 '));
    assert.match((await readToEnd(socket, rest)).toString(), /No such container: nope/);
  });
});

describe('hostile input', () => {
  it('answers garbage and broken requests with 4xx and keeps serving', async () => {
    const garbage = await rawExchange('GARBAGE\r\n\r\n');
    assert.ok(garbage.head.startsWith('HTTP/1.1 400 '));
    garbage.socket.destroy();
    const chunkedUpgrade = await rawExchange(
      'POST /exec/x/start HTTP/1.1\r\nHost: d\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\n2\r\n{}\r\n0\r\n\r\n',
    );
    assert.ok(chunkedUpgrade.head.startsWith('HTTP/1.1 400 '));
    chunkedUpgrade.socket.destroy();
    const badEscape = await call('GET', '/containers/%E0%A4%A/json');
    assert.equal(badEscape.status, 400);
    const cut = connect(api.socketPath);
    cut.write('POST /containers/create HTTP/1.1\r\nHost: d\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"Ima');
    cut.destroy();
    assert.equal((await call('GET', '/_ping')).text, 'OK');
  });
});

describe('observability', () => {
  it('logs one line per request and publishes it on berth:api:request', async () => {
    const seen: RequestRecord[] = [];
    const onRecord = (message: unknown): void => {
      seen.push(message as RequestRecord);
    };
    subscribe(REQUEST_CHANNEL, onRecord);
    try {
      await call('GET', '/v1.44/containers/nope/json');
      await waitFor('the request record', () => seen.length > 0);
    } finally {
      unsubscribe(REQUEST_CHANNEL, onRecord);
    }
    assert.equal(seen[0]?.method, 'GET');
    assert.equal(seen[0]?.path, '/v1.44/containers/nope/json');
    assert.equal(seen[0]?.status, 404);
    assert.equal(typeof seen[0]?.durationMs, 'number');
    assert.ok(api.logLines.some((l) => /^GET \/v1\.44\/containers\/nope\/json 404 [0-9.]+ms$/.test(l)));
  });
});
