// Wire compatibility of the API layer on its own: the real docker CLIs (Debian's 20.10 at
// API 1.41 and docker 28 negotiating 1.47) and docker-py, against the server with a fake
// Backend of canned containers and streams.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startFakeApi, type FakeApi } from '../helpers/api-fake-backend.js';

let api: FakeApi;
let configDir: string;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], input?: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: configDir, DOCKER_HOST: `unix://${api.socketPath}`, DOCKER_CONFIG: configDir },
      stdio: ['pipe', 'pipe', 'pipe'],
      // A wedged client must fail its test, not hang the suite.
      timeout: 60_000,
      killSignal: 'SIGKILL',
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

before(async () => {
  api = await startFakeApi();
  configDir = mkdtempSync(join(tmpdir(), 'berth-api-clients-'));
});
after(async () => {
  await api.close();
  rmSync(configDir, { recursive: true, force: true });
});

for (const docker of ['/usr/bin/docker', '/usr/local/bin/docker']) {
  describe(`docker CLI ${docker}`, { skip: !existsSync(docker) && `${docker} is not installed` }, () => {
    it('shows the server in `docker version`', async () => {
      const r = await run(docker, ['version']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /Server: berth \(fake\)/);
      assert.match(r.stdout, /Version:\s+0\.1\.0-fake/);
      assert.match(r.stdout, /API version:\s+1\.47 \(minimum version 1\.41\)/);
    });

    it('lists containers with `docker ps -a`', async () => {
      const r = await run(docker, ['ps', '-a', '--format', '{{.Names}} {{.Status}}']);
      assert.equal(r.code, 0, r.stderr);
      const rows = r.stdout.trim().split('\n');
      assert.ok(rows.includes('web Up 5 minutes'));
      assert.ok(rows.includes('done Exited (3) 1 minute ago'));
    });

    it('splits stdout and stderr in `docker logs`, with -t timestamps', async () => {
      const r = await run(docker, ['logs', 'web']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, 'hello from web\n');
      assert.equal(r.stderr, 'warning from web\n');
      const t = await run(docker, ['logs', '-t', '--tail', '1', 'web']);
      assert.equal(t.stderr, '2026-01-02T03:04:06.123000000Z warning from web\n');
      const tty = await run(docker, ['logs', 'tty']);
      assert.equal(tty.stdout, 'hello from tty\nwarning from tty\n', 'a tty container has one stream');
    });

    it('inspects, and reports unknown objects', async () => {
      const r = await run(docker, ['inspect', '-f', '{{.State.Status}} {{.Name}}', 'web']);
      assert.equal(r.stdout, 'running /web\n');
      const missing = await run(docker, ['inspect', 'nope']);
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /No such object: nope/);
    });

    it('runs a container, printing its output and exiting with its code', async () => {
      const r = await run(docker, ['run', '--label', 'fake.exit=7', 'busybox', 'echo', 'hi']);
      assert.equal(r.stdout, 'fake output of echo hi\n');
      assert.equal(r.code, 7, r.stderr);
    });

    it('pipes stdin through `docker run -i` and `docker attach`', async () => {
      const r = await run(docker, ['run', '-i', 'busybox', 'cat'], 'line one\nline two\n');
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, 'line one\nline two\n');
      const c = api.backend.addContainer({ name: `cat-${docker.length}`, state: 'running', openStdin: true });
      const attached = await run(docker, ['attach', c.name], 'attached!\n');
      assert.equal(attached.code, 0, attached.stderr);
      assert.equal(attached.stdout, 'attached!\n');
    });

    it('execs with split streams and the exec\'s exit code', async () => {
      const r = await run(docker, ['exec', 'web', 'sh', '3']);
      assert.equal(r.stdout, 'exec output: sh 3\n');
      assert.equal(r.stderr, 'exec stderr\n');
      assert.equal(r.code, 3);
    });

    it('treats starting a running container as success and shows daemon errors', async () => {
      const start = await run(docker, ['start', 'web']);
      assert.equal(start.code, 0, start.stderr);
      const rm = await run(docker, ['rm', 'web']);
      assert.equal(rm.code, 1);
      assert.match(rm.stderr, /container is running: stop the container before removing or force remove/);
    });
  });
}

describe('docker-py', () => {
  it('pings, reads the version, lists, reads logs, execs and attaches', async () => {
    const script = `
import docker, json, time
c = docker.DockerClient(base_url='unix://${api.socketPath}', version='auto')
out = {}
out['ping'] = c.ping()
out['api'] = c.api.api_version
out['version'] = c.version()['Version']
out['names'] = sorted(x.name for x in c.containers.list(all=True))
web = c.containers.get('web')
out['logs'] = web.logs().decode()
out['stderr'] = web.logs(stdout=False).decode()
r = web.exec_run(['echo', '0'], demux=True)
out['exec'] = [r.exit_code, r.output[0].decode(), r.output[1].decode()]
out['run'] = c.containers.run('busybox', ['echo', 'x']).decode()
cat = c.containers.create('busybox', 'cat', stdin_open=True)
cat.start()
s = c.api.attach_socket(cat.id, params={'stdin': 1, 'stdout': 1, 'stream': 1})
s._sock.sendall(b'via socket\\n')
got = b''
while len(got) < 19:
    got += s._sock.recv(100)
out['attach'] = got[8:].decode()
s._sock.shutdown(1)
out['wait'] = cat.wait()['StatusCode']
out['pull'] = [m.get('status') for m in c.api.pull('busybox', tag='latest', stream=True, decode=True)]
out['events'] = [e['Action'] for e in c.events(decode=True, since=0, until=int(time.time()) - 1)]
print(json.dumps(out))
`;
    const r = await run('python3', ['-c', script]);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as Record<string, unknown>;
    assert.equal(out['ping'], true);
    assert.equal(out['api'], '1.47');
    assert.equal(out['version'], '0.1.0-fake');
    assert.ok((out['names'] as string[]).includes('web'));
    assert.equal(out['logs'], 'hello from web\nwarning from web\n');
    assert.equal(out['stderr'], 'warning from web\n');
    assert.deepEqual(out['exec'], [0, 'exec output: echo 0\n', 'exec stderr\n']);
    assert.equal(out['run'], 'fake output of echo x\n');
    assert.equal(out['attach'], 'via socket\n');
    assert.equal(out['wait'], 0);
    assert.equal((out['pull'] as string[]).at(-1), 'Status: Downloaded newer image for busybox:latest');
    assert.deepEqual(out['events'], ['start', 'create', 'tag']);
  });
});
