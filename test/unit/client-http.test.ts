// EngineClient against a fake daemon on a temporary unix socket: version negotiation,
// docker's error shapes, hijacked connections, the two-phase wait and JSON streams.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ClientError, EngineClient, StdStream, demuxFrames, readAll } from '../../src/client/index.js';
import { FakeDaemon, frame, json } from './cli-fake-daemon.js';

async function withDaemon(fn: (d: FakeDaemon, c: EngineClient) => Promise<void>, setup?: (d: FakeDaemon) => void): Promise<void> {
  const d = new FakeDaemon();
  setup?.(d);
  await d.listen();
  const c = new EngineClient({ host: d.host });
  try {
    await fn(d, c);
  } finally {
    c.close();
    await d.close();
  }
}

test('negotiates the older of the two API versions and prefixes every request', async () => {
  await withDaemon(
    async (d, c) => {
      await c.info();
      assert.equal(c.apiVersion, '1.43');
      const info = d.requests.find((r) => r.path === '/info')!;
      assert.equal(info.version, '1.43');
      assert.equal(d.requests[0]!.path, '/_ping');
      assert.equal(d.requests[0]!.version, '');
    },
    (d) => {
      d.apiVersion = '1.43';
      d.on('GET /info', (_r, res) => json(res, 200, { ID: 'x' }));
    },
  );
  await withDaemon(
    async (_d, c) => {
      await c.negotiate();
      assert.equal(c.apiVersion, '1.47');
    },
    (d) => {
      d.apiVersion = '1.50';
    },
  );
});

test("daemon errors read as docker's: the message behind 'Error response from daemon: '", async () => {
  await withDaemon(
    async (_d, c) => {
      await assert.rejects(c.inspectContainer('nope'), (err: unknown) => {
        assert.ok(err instanceof ClientError);
        assert.equal(err.status, 404);
        assert.equal(err.code, 'NotFound');
        assert.equal(err.message, 'Error response from daemon: No such container: nope');
        return true;
      });
      await assert.rejects(c.startContainer('x'), { message: 'Error response from daemon: plain text failure' });
    },
    (d) => {
      d.on('GET /containers/[^/]+/json', (r, res) => json(res, 404, { message: `No such container: ${r.path.split('/')[2]}` }));
      d.on('POST /containers/[^/]+/start', (_r, res) => {
        res.writeHead(500, { 'Content-Type': 'text/plain' });
        res.end('plain text failure\n');
      });
    },
  );
});

test('a socket nobody listens on is reported with the host and berthd named', async () => {
  const d = new FakeDaemon();
  try {
    const c = new EngineClient({ host: `unix://${join(d.dir, 'absent.sock')}` });
    await assert.rejects(c.ping(), { message: `Cannot connect to the berth daemon at unix://${join(d.dir, 'absent.sock')}. Is berthd running?` });
    c.close();
  } finally {
    await d.close();
  }
});

test('query parameters: booleans as 1, filters in docker’s map form, repeated names', async () => {
  await withDaemon(
    async (d, c) => {
      await c.listContainers({ all: true, filters: { status: ['running', 'exited'] } });
      const q = d.requests.find((r) => r.path === '/containers/json')!.query;
      assert.equal(q.get('all'), '1');
      assert.deepEqual(JSON.parse(q.get('filters')!), { status: { running: true, exited: true } });
      assert.equal(q.has('size'), false);
      await c.saveImages(['a:1', 'b']).then(readAll);
      assert.deepEqual(d.requests.find((r) => r.path === '/images/get')!.query.getAll('names'), ['a:1', 'b']);
      await c.createContainer({ Image: 'busybox' }, 'web');
      const create = d.requests.find((r) => r.path === '/containers/create')!;
      assert.equal(create.query.get('name'), 'web');
      assert.equal(create.headers['content-type'], 'application/json');
      assert.deepEqual(JSON.parse(create.body.toString()), { Image: 'busybox' });
    },
    (d) => {
      d.on('GET /containers/json', (_r, res) => json(res, 200, []));
      d.on('GET /images/get', (_r, res) => void res.end('tar'));
      d.on('POST /containers/create', (_r, res) => json(res, 201, { Id: 'abc', Warnings: [] }));
    },
  );
});

test('attach hijacks the connection: frames come out, stdin goes in, closeWrite is EOF', async () => {
  let received = '';
  await withDaemon(
    async (d, c) => {
      const conn = await c.attachContainer('ctr', { stream: true, logs: false, stdin: true, stdout: true, stderr: true, detachKeys: 'ctrl-x' });
      conn.socket.write('hello ');
      conn.socket.write('daemon');
      conn.closeWrite();
      const frames = [];
      for await (const f of demuxFrames(conn.socket)) frames.push([f.stream, f.data.toString()]);
      assert.deepEqual(frames, [
        [StdStream.Stdout, 'out\n'],
        [StdStream.Stderr, 'err\n'],
        [StdStream.Stdout, 'got: hello daemon'],
      ]);
      const rec = d.requests.find((r) => r.path === '/containers/ctr/attach')!;
      assert.equal(rec.query.get('stdin'), '1');
      assert.equal(rec.query.get('detachKeys'), 'ctrl-x');
      assert.equal(rec.headers.upgrade, 'tcp');
      assert.equal(received, 'hello daemon');
    },
    (d) =>
      d.onHijack('POST /containers/ctr/attach', (_r, socket) => {
        socket.write(Buffer.concat([frame(1, 'out\n'), frame(2, 'err\n')]));
        socket.on('data', (b: Buffer) => (received += b.toString()));
        socket.on('end', () => socket.end(frame(1, `got: ${received}`)));
      }),
  );
});

test('a refused hijack is a ClientError with the daemon message', async () => {
  await withDaemon(async (_d, c) => {
    await assert.rejects(c.attachContainer('missing', { stream: true, logs: false, stdin: false, stdout: true, stderr: true }), {
      message: 'Error response from daemon: no hijack',
    });
  });
});

test('exec start sends its JSON body on the hijacked request', async () => {
  await withDaemon(
    async (d, c) => {
      const conn = await c.startExec('e1', { tty: true, consoleSize: [24, 80] });
      assert.equal((await readAll(conn.socket)).toString(), 'raw tty output');
      const rec = d.requests.find((r) => r.path === '/exec/e1/start')!;
      assert.equal(rec.headers['content-type'], 'application/json');
      assert.equal(rec.headers['content-length'], String(JSON.stringify({ Detach: false, Tty: true, ConsoleSize: [24, 80] }).length));
    },
    (d) => d.onHijack('POST /exec/e1/start', (_r, socket) => socket.end('raw tty output')),
  );
});

test('startWait returns once the daemon has registered the waiter; the result comes later', async () => {
  let finish: (() => void) | undefined;
  await withDaemon(
    async (_d, c) => {
      const handle = await c.startWait('ctr', 'next-exit');
      let settled = false;
      void handle.result.then(() => (settled = true));
      await new Promise((r) => setImmediate(r));
      assert.equal(settled, false);
      finish!();
      assert.deepEqual(await handle.result, { StatusCode: 3, Error: null });
    },
    (d) =>
      d.on('POST /containers/ctr/wait', (r, res) => {
        assert.equal(r.query.get('condition'), 'next-exit');
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.flushHeaders();
        finish = () => res.end(JSON.stringify({ StatusCode: 3, Error: null }));
      }),
  );
});

test('events and pull progress arrive as decoded JSON messages', async () => {
  await withDaemon(
    async (d, c) => {
      const events = [];
      for await (const e of c.events({ filters: { type: ['container'] } })) events.push(e.Action);
      assert.deepEqual(events, ['create', 'start']);
      const msgs = [];
      for await (const m of c.pullImage('localhost:5000/team/app:v1', { auth: 'e30=' })) msgs.push(m.status);
      assert.deepEqual(msgs, ['Pulling from team/app', 'Done']);
      const pull = d.requests.find((r) => r.path === '/images/create')!;
      assert.equal(pull.query.get('fromImage'), 'localhost:5000/team/app');
      assert.equal(pull.query.get('tag'), 'v1');
      assert.equal(pull.headers['x-registry-auth'], 'e30=');
    },
    (d) => {
      d.on('GET /events', (_r, res) => {
        res.write('{"Type":"container","Action":"create"}\n{"Type":"container",');
        res.end('"Action":"start"}\n');
      });
      d.on('POST /images/create', (_r, res) => {
        res.write('{"status":"Pulling from team/app"}\r\n');
        res.end('{"status":"Done"}\r\n');
      });
    },
  );
});

test('a progress stream error surfaces as the message it carries', async () => {
  await withDaemon(
    async (_d, c) => {
      const { displayJSONMessages } = await import('../../src/cli/format/progress.js');
      const out: string[] = [];
      const sink = { write: (s: string) => out.push(s) } as unknown as NodeJS.WritableStream;
      await assert.rejects(displayJSONMessages(c.pullImage('x'), sink, false), { message: 'manifest unknown' });
      assert.deepEqual(out, ['a: Pulling fs layer\n']);
    },
    (d) =>
      d.on('POST /images/create', (_r, res) => {
        res.end('{"status":"Pulling fs layer","progressDetail":{},"id":"a"}\n{"errorDetail":{"message":"manifest unknown"},"error":"manifest unknown"}\n');
      }),
  );
});
