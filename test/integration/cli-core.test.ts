// `node bin/berth.js` against a fake daemon: what a user sees (stdout, stderr, exit
// status) and what the CLI asks the daemon, in order, for run, stop, logs and cp.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ServerResponse } from 'node:http';
import { TarReader } from '../../src/images/tar/reader.js';
import { tarBuffer } from '../../src/images/tar/writer.js';
import { FakeDaemon, frame, json } from '../unit/cli-fake-daemon.js';

const BIN = join(process.cwd(), 'bin', 'berth.js');

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function berth(d: FakeDaemon, args: string[], input?: string, cwd?: string): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: cwd ?? process.cwd(),
      env: { ...process.env, BERTH_HOST: d.host, BERTH_NO_AUTOSTART: '1', DOCKER_CONFIG: join(d.dir, 'docker-config') },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`berth ${args.join(' ')} did not exit; stdout=${stdout} stderr=${stderr}`));
    }, 15_000);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    if (input !== undefined) child.stdin.end(input);
    else child.stdin.end();
  });
}

async function withDaemon(setup: (d: FakeDaemon) => void, fn: (d: FakeDaemon) => Promise<void>): Promise<void> {
  const d = new FakeDaemon();
  setup(d);
  await d.listen();
  try {
    await fn(d);
  } finally {
    await d.close();
  }
}

/** A container whose wait answers (headers at once) once start was called, with `status`. */
function containerLifecycle(d: FakeDaemon, status: number, startError?: { code: number; message: string }): void {
  let release: (() => void) | undefined;
  let started = false;
  d.on('POST /containers/[^/]+/wait', (_r, res: ServerResponse) => {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.flushHeaders();
    release = () => res.end(JSON.stringify({ StatusCode: status, Error: null }));
    if (started) release();
  });
  d.on('POST /containers/[^/]+/start', (_r, res) => {
    if (startError) return json(res, startError.code, { message: startError.message });
    started = true;
    res.writeHead(204);
    res.end();
    setTimeout(() => release?.(), 50);
  });
}

test('run pulls a missing image, attaches before start and exits with the container status', async () => {
  let creates = 0;
  await withDaemon(
    (d) => {
      d.on('POST /containers/create', (_r, res) => {
        if (creates++ === 0) return json(res, 404, { message: 'No such image: busybox:latest' });
        json(res, 201, { Id: 'c0ffee', Warnings: [] });
      });
      d.on('POST /images/create', (_r, res) => {
        res.end('{"status":"Pulling from library/busybox","id":"latest"}\n{"status":"Pulling fs layer","progressDetail":{},"id":"aaa"}\n{"status":"Downloading","progressDetail":{"current":5,"total":10},"id":"aaa"}\n{"status":"Pull complete","progressDetail":{},"id":"aaa"}\n');
      });
      d.onHijack('POST /containers/c0ffee/attach', (_r, socket) => {
        socket.write(Buffer.concat([frame(1, 'hi\n'), frame(2, 'warn\n')]));
        setTimeout(() => socket.end(), 100);
      });
      containerLifecycle(d, 3);
    },
    async (d) => {
      const r = await berth(d, ['run', 'busybox', 'echo', 'hi']);
      assert.equal(r.stdout, 'hi\n');
      assert.equal(r.stderr, "Unable to find image 'busybox:latest' locally\nlatest: Pulling from library/busybox\naaa: Pulling fs layer\naaa: Pull complete\nwarn\n");
      assert.equal(r.code, 3);
      const order = d.requests.filter((q) => q.path !== '/_ping').map((q) => `${q.method} ${q.path}`);
      assert.deepEqual(order, [
        'POST /containers/create',
        'POST /images/create',
        'POST /containers/create',
        'POST /containers/c0ffee/attach',
        'POST /containers/c0ffee/wait',
        'POST /containers/c0ffee/start',
      ]);
      assert.equal(d.requests.find((q) => q.path === '/containers/c0ffee/wait')!.query.get('condition'), 'next-exit');
      const body = JSON.parse(d.requests.find((q) => q.path === '/containers/create')!.body.toString());
      assert.deepEqual(body.Cmd, ['echo', 'hi']);
      assert.equal(body.AttachStdout, true);
    },
  );
});

test('run -d prints the full ID; --rm waits for removal', async () => {
  await withDaemon(
    (d) => {
      d.on('POST /containers/create', (_r, res) => json(res, 201, { Id: 'f'.repeat(64), Warnings: ['low memory'] }));
      containerLifecycle(d, 0);
    },
    async (d) => {
      const r = await berth(d, ['run', '-d', '--rm', 'img']);
      assert.equal(r.code, 0);
      assert.equal(r.stdout, `${'f'.repeat(64)}\n`);
      assert.equal(r.stderr, 'WARNING: low memory\n');
      assert.equal(d.requests.some((q) => q.path.endsWith('/attach')), false);
      const body = JSON.parse(d.requests.find((q) => q.path === '/containers/create')!.body.toString());
      assert.equal(body.AttachStdout, false);
      assert.equal(body.HostConfig.AutoRemove, true);
    },
  );
});

test('run exits 127 when the command is not found, 126 when it cannot be run', async () => {
  for (const [message, code] of [
    ['failed to create task: exec: "nosuch": executable file not found in $PATH', 127],
    ['exec /etc/passwd: permission denied', 126],
    ['cgroup setup failed', 125],
  ] as const) {
    await withDaemon(
      (d) => {
        d.on('POST /containers/create', (_r, res) => json(res, 201, { Id: 'abc', Warnings: [] }));
        d.onHijack('POST /containers/abc/attach', (_r, socket) => socket.on('end', () => socket.end()));
        containerLifecycle(d, 0, { code: 400, message });
      },
      async (d) => {
        const r = await berth(d, ['run', 'img', 'nosuch']);
        assert.equal(r.code, code);
        assert.equal(r.stderr, `berth: Error response from daemon: ${message}.\n`);
      },
    );
  }
});

test('run -i pipes stdin and half-closes it at EOF', async () => {
  await withDaemon(
    (d) => {
      d.on('POST /containers/create', (_r, res) => json(res, 201, { Id: 'cat1', Warnings: [] }));
      d.onHijack('POST /containers/cat1/attach', (_r, socket) => {
        let got = '';
        socket.on('data', (b: Buffer) => (got += b.toString()));
        socket.on('end', () => socket.end(frame(1, got.toUpperCase())));
      });
      containerLifecycle(d, 0);
    },
    async (d) => {
      const r = await berth(d, ['run', '-i', 'img', 'cat'], 'some input\n');
      assert.equal(r.stdout, 'SOME INPUT\n');
      assert.equal(r.code, 0);
      const body = JSON.parse(d.requests.find((q) => q.path === '/containers/create')!.body.toString());
      assert.equal(body.OpenStdin, true);
      assert.equal(body.StdinOnce, true);
      assert.equal(d.requests.find((q) => q.path === '/containers/cat1/attach')!.query.get('stdin'), '1');
    },
  );
});

test('usage errors exit 125 with docker’s wording; -it without a terminal is refused', async () => {
  await withDaemon(
    () => undefined,
    async (d) => {
      let r = await berth(d, ['run', '--foo', 'img']);
      assert.equal(r.code, 125);
      assert.equal(r.stderr, "unknown flag: --foo\nSee 'berth run --help'.\n");
      r = await berth(d, ['container', 'stop']);
      assert.equal(r.code, 125);
      assert.match(r.stderr, /^"berth container stop" requires at least 1 argument\.\nSee 'berth container stop --help'\.\n\nUsage:  berth container stop \[OPTIONS\] CONTAINER \[CONTAINER\.\.\.\]\n/);
      r = await berth(d, ['run', '-it', 'img']);
      assert.equal(r.code, 125);
      assert.equal(r.stderr, "berth: the input device is not a TTY.\nSee 'berth run --help'.\n");
      r = await berth(d, ['frobnicate']);
      assert.equal(r.code, 1);
      assert.equal(r.stderr, "berth: 'frobnicate' is not a berth command.\nSee 'berth --help'\n");
    },
  );
});

test('stop prints what it stopped and reports the rest, exit 1', async () => {
  await withDaemon(
    (d) =>
      d.on('POST /containers/[^/]+/stop', (r, res) => {
        if (r.path.includes('/b/')) return json(res, 404, { message: 'No such container: b' });
        res.writeHead(204);
        res.end();
      }),
    async (d) => {
      const r = await berth(d, ['stop', '-t', '3', 'a', 'b']);
      assert.equal(r.stdout, 'a\n');
      assert.equal(r.stderr, 'Error response from daemon: No such container: b\n');
      assert.equal(r.code, 1);
      assert.equal(d.requests.find((q) => q.path === '/containers/a/stop')!.query.get('t'), '3');
    },
  );
});

test('logs demultiplexes stdout and stderr and passes tail/timestamps', async () => {
  await withDaemon(
    (d) => {
      d.on('GET /containers/web/json', (_r, res) => json(res, 200, { Id: 'web1', Config: { Tty: false } }));
      d.on('GET /containers/web1/logs', (_r, res) => void res.end(Buffer.concat([frame(1, 'line1\n'), frame(2, 'err1\n'), frame(1, 'line2\n')])));
    },
    async (d) => {
      const r = await berth(d, ['logs', '-t', '--tail', '2', 'web']);
      assert.equal(r.stdout, 'line1\nline2\n');
      assert.equal(r.stderr, 'err1\n');
      const q = d.requests.find((x) => x.path === '/containers/web1/logs')!.query;
      assert.equal(q.get('tail'), '2');
      assert.equal(q.get('timestamps'), '1');
      assert.equal(q.get('follow'), null);
    },
  );
});

test('cp from a container extracts (renamed) on the host; cp to a container sends a tar of the host path', async () => {
  const work = mkdtempSync(join(tmpdir(), 'berth-cp-'));
  let putTar: Buffer | undefined;
  let putPath: string | null = null;
  try {
    await withDaemon(
      (d) => {
        const stat = Buffer.from(JSON.stringify({ name: 'hosts', size: 9, mode: 0o644, mtime: '2024-01-01T00:00:00Z', linkTarget: '' })).toString('base64');
        d.on('GET /containers/c/archive', (_r, res) => {
          res.writeHead(200, { 'Content-Type': 'application/x-tar', 'X-Docker-Container-Path-Stat': stat });
          res.end(tarBuffer([{ name: 'hosts', type: 'file', mode: 0o644, data: '127.0.0.1' }]));
        });
        const dirStat = Buffer.from(JSON.stringify({ name: 'tmp', size: 0, mode: 2 ** 31 + 0o755, mtime: '2024-01-01T00:00:00Z', linkTarget: '' })).toString('base64');
        d.on('HEAD /containers/c/archive', (_r, res) => {
          res.writeHead(200, { 'X-Docker-Container-Path-Stat': dirStat });
          res.end();
        });
        d.on('PUT /containers/c/archive', (r, res) => {
          putTar = r.body;
          putPath = r.query.get('path');
          res.writeHead(200);
          res.end();
        });
      },
      async (d) => {
        let r = await berth(d, ['cp', 'c:/etc/hosts', join(work, 'copied')]);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(readFileSync(join(work, 'copied'), 'utf8'), '127.0.0.1');
        mkdirSync(join(work, 'src', 'sub'), { recursive: true });
        writeFileSync(join(work, 'src', 'sub', 'f.txt'), 'data');
        r = await berth(d, ['cp', 'src', 'c:/tmp'], undefined, work);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(putPath, '/tmp');
        const names: string[] = [];
        const reader = new TarReader((async function* () {
          yield putTar!;
        })());
        for (let e = await reader.next(); e; e = await reader.next()) names.push(e.name);
        assert.deepEqual(names, ['src/', 'src/sub/', 'src/sub/f.txt']);
      },
    );
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

test('without a tty, signals the CLI receives are sent to the container', async () => {
  let child: ReturnType<typeof spawn> | undefined;
  await withDaemon(
    (d) => {
      let release: ((code: number) => void) | undefined;
      d.on('POST /containers/create', (_r, res) => json(res, 201, { Id: 'sig1', Warnings: [] }));
      d.on('POST /containers/sig1/wait', (_r, res) => {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.flushHeaders();
        release = (code) => res.end(JSON.stringify({ StatusCode: code }));
      });
      d.on('POST /containers/sig1/start', (_r, res) => {
        res.writeHead(204);
        res.end();
        setTimeout(() => child?.kill('SIGINT'), 100);
      });
      let attached: import('node:stream').Duplex | undefined;
      d.onHijack('POST /containers/sig1/attach', (_r, socket) => {
        attached = socket;
        socket.resume();
      });
      d.on('POST /containers/sig1/kill', (r, res) => {
        res.writeHead(204);
        res.end();
        attached?.end(frame(1, `got ${r.query.get('signal')}\n`));
        release?.(130);
      });
    },
    async (d) => {
      const result = await new Promise<Result>((resolve) => {
        child = spawn(process.execPath, [BIN, 'run', 'img', 'sleep', '100'], { env: { ...process.env, BERTH_HOST: d.host, BERTH_NO_AUTOSTART: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        child.stdout!.on('data', (b: Buffer) => (stdout += b.toString()));
        child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
        child.once('close', (code) => resolve({ code, stdout, stderr }));
      });
      assert.equal(result.stdout, 'got INT\n');
      assert.equal(result.code, 130);
    },
  );
});
