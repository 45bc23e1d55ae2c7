// Builds end to end (issue 7): a suite of Dockerfiles built with the real `docker build`
// (docker 20.10, classic builder: DOCKER_BUILDKIT=0) and with `berth build` against berthd,
// the images run and inspected; rebuilds re-run exactly the steps whose inputs changed; a
// failing step and a syntax error leave nothing behind. No image comes from a registry: the
// base is a busybox rootfs imported by the test.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { connect, createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { BERTH_CLI, startBerthd, type Berthd } from '../helpers/berthd.js';
import { DOCKER_20, DockerCli, logTail } from '../helpers/e2e-fixtures.js';
import { isRoot, makeRootfs } from '../helpers/runtime.js';

const skip = !isRoot ? 'needs root' : !existsSync('/bin/busybox') ? 'needs busybox-static' : false;

let daemon: Berthd | undefined;
const daemonLog = (): string => (daemon ? `berthd log:\n${logTail(daemon.log())}` : '');

/** Writes files (path → content) under dir. */
function writeTree(dir: string, files: Record<string, string>): string {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return dir;
}

const MULTI_STAGE = `# syntax=docker/dockerfile:1
ARG BASE=bbox
FROM \${BASE} AS builder
ARG GREETING=hello
ENV APP_HOME=/src \\
    MODE=release
WORKDIR $APP_HOME
COPY app/ ./
RUN <<EOF
set -e
echo "$GREETING from $MODE" > built.txt
cat data.txt >> built.txt
EOF
RUN --mount=type=cache,target=/cache,id=counter echo run >> /cache/runs && wc -l < /cache/runs > runs-seen.txt

FROM bbox AS unused
RUN exit 99

FROM bbox
LABEL org.example.purpose="build test" version=1
COPY --from=builder /src/built.txt /src/runs-seen.txt /out/
ARG TARGETARCH
COPY --chown=1000:1000 --chmod=0640 <<EOT /out/inline.txt
inline for \${TARGETARCH:-some arch}
EOT
RUN adduser -D -u 1000 app 2>/dev/null || echo 'app:x:1000:1000::/home/app:/bin/sh' >> /etc/passwd
USER app
WORKDIR /home/app/work
EXPOSE 8080 53/udp
VOLUME ["/data"]
HEALTHCHECK --interval=30s --timeout=3s --retries=2 CMD test -f /out/built.txt
STOPSIGNAL SIGTERM
ENTRYPOINT ["sh", "-c"]
CMD ["cat /out/built.txt"]
`;

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const up = await new Promise<boolean>((resolve) => {
      const c = connect(port, '127.0.0.1', () => (c.destroy(), resolve(true)));
      c.on('error', () => resolve(false));
    });
    if (up) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing listens on 127.0.0.1:${port}`);
}

/** Which steps ran (not cached) in a build's output, by step number. */
function ranSteps(cli: 'docker' | 'berth', output: string): number[] {
  const ran: number[] = [];
  if (cli === 'docker') {
    const blocks = output.split(/^Step /m).slice(1);
    for (const b of blocks) {
      const n = Number(/^(\d+)\//.exec(b)?.[1]);
      const instruction = b.split('\n')[0] ?? '';
      if (!/ : (FROM|ARG) /.test(instruction) && !b.includes(' ---> Using cache')) ran.push(n);
    }
  } else {
    for (const m of output.matchAll(/^#(\d+) \[\d+\/\d+\] (\S+)/gm)) {
      if (m[2] === 'FROM' || m[2] === 'ARG') continue;
      if (!new RegExp(`^#${m[1]} CACHED$`, 'm').test(output)) ran.push(Number(m[1]));
    }
  }
  return ran;
}

function buildWorkflow(cli: DockerCli, kind: 'docker' | 'berth', tag: string): void {
  const image = (n: string): string => cli.image(`${tag}-${n}:latest`);
  const build = (args: string[], input?: string): { code: number; out: string } => {
    const r = cli.run(['build', ...(kind === 'berth' ? ['--progress=plain'] : []), ...args], { timeoutMs: 120_000, ...(input !== undefined ? { input } : {}) });
    return { code: r.code, out: r.out + r.err };
  };
  let ctx = '';
  before(() => {
    ctx = writeTree(mkdtempSync(join(daemon!.root, `ctx-${tag}-`)), {
      Dockerfile: MULTI_STAGE,
      'app/data.txt': 'data v1\n',
      'app/notes/readme.md': 'notes\n',
      'app/secret.key': 'do not send\n',
      '.dockerignore': '# comments are ignored\n**/*.key\napp/notes\n!app/notes/readme.md\n',
    });
  });

  it(`${tag}: a multi-stage build runs and inspects as written`, () => {
    const r = build(['-t', image('multi'), '--build-arg', 'GREETING=hi', ctx]);
    assert.equal(r.code, 0, `${r.out}\n${daemonLog()}`);
    assert.doesNotMatch(r.out, /exit 99/, 'the unused stage is skipped');
    assert.equal(cli.ok(['run', '--rm', '--pull=never', image('multi')]), 'hi from release\ndata v1\n');
    const files = cli.ok(['run', '--rm', '--pull=never', '--entrypoint', 'sh', image('multi'), '-c', 'ls /out; stat -c "%a %u:%g" /out/inline.txt; cat /out/inline.txt /out/runs-seen.txt; pwd; id -u']);
    const arch = cli.ok(['version', '-f', '{{.Server.Arch}}']).trim();
    assert.equal(files, `built.txt\ninline.txt\nruns-seen.txt\n640 1000:1000\ninline for ${arch}\n1\n/home/app/work\n1000\n`);
    const config = JSON.parse(cli.inspect(image('multi'), '{{json .Config}}')) as Record<string, unknown>;
    assert.deepEqual(config['Entrypoint'], ['sh', '-c']);
    assert.deepEqual(config['Cmd'], ['cat /out/built.txt']);
    assert.equal(config['User'], 'app');
    assert.equal(config['WorkingDir'], '/home/app/work');
    assert.equal(config['StopSignal'], 'SIGTERM');
    assert.deepEqual(Object.keys(config['ExposedPorts'] as object).sort(), ['53/udp', '8080/tcp']);
    assert.deepEqual(Object.keys(config['Volumes'] as object), ['/data']);
    assert.deepEqual(config['Healthcheck'], { Test: ['CMD-SHELL', 'test -f /out/built.txt'], Interval: 30e9, Timeout: 3e9, Retries: 2 });
    assert.deepEqual(config['Labels'], { 'org.example.purpose': 'build test', version: '1' });
    assert.ok((config['Env'] as string[]).some((e) => e.startsWith('PATH=')), 'PATH kept');
    assert.ok(!(config['Env'] as string[]).some((e) => e.startsWith('APP_HOME=')), 'the first stage\'s ENV stays there');
    const history = cli.lines(['history', '--no-trunc', '--format', '{{.CreatedBy}}', image('multi')]);
    assert.match(history[0]!, /CMD \["cat \/out\/built.txt"\]/);
    assert.ok(history.some((h) => /COPY --from=[0-9a-f]{12} \/src\/built.txt \/src\/runs-seen.txt in \/out\//.test(h)), history.join('\n'));
    assert.ok(history.some((h) => /COPY file:[0-9a-f]{64} in \/out\/inline.txt/.test(h)), history.join('\n'));
  });

  it(`${tag}: .dockerignore keeps files out of the context, with its exceptions`, () => {
    writeFileSync(join(ctx, 'Dockerfile.ls'), 'FROM bbox\nCOPY . /ctx\nCMD ["find", "/ctx", "-type", "f"]\n');
    assert.equal(build(['-f', join(ctx, 'Dockerfile.ls'), '-t', image('ls'), ctx]).code, 0);
    const files = cli.ok(['run', '--rm', '--pull=never', image('ls')]).trim().split('\n').sort();
    assert.ok(files.includes('/ctx/app/data.txt') && files.includes('/ctx/app/notes/readme.md'), files.join('\n'));
    assert.ok(!files.some((f) => f.endsWith('.key')), 'ignored: **/*.key');
  });

  it(`${tag}: rebuilds re-run exactly the steps whose inputs changed`, () => {
    const again = build(['-t', image('multi'), '--build-arg', 'GREETING=hi', ctx]);
    assert.equal(again.code, 0, again.out);
    assert.deepEqual(ranSteps(kind, again.out), [], `nothing changed: all cached\n${again.out}`);
    const before = cli.inspect(image('multi'), '{{.Id}}');
    utimesSync(join(ctx, 'app/data.txt'), new Date(2001, 1, 1), new Date(2001, 1, 1));
    const touched = build(['-t', image('multi'), '--build-arg', 'GREETING=hi', ctx]);
    assert.deepEqual(ranSteps(kind, touched.out), [], `an mtime alone changes nothing\n${touched.out}`);
    assert.equal(cli.inspect(image('multi'), '{{.Id}}'), before, 'the same image');
    // Content of this client's own: the other client's builds are in the same cache.
    writeFileSync(join(ctx, 'app/data.txt'), `data v2 ${tag}\n`);
    const changed = build(['-t', image('multi'), '--build-arg', 'GREETING=hi', ctx]);
    assert.equal(changed.code, 0, changed.out);
    // COPY app/ (5), both RUNs (6, 7), and in the last stage the COPY --from (10) that takes
    // their output (the unused stage has no steps); what follows builds on a new layer too.
    const ran = ranSteps(kind, changed.out);
    assert.deepEqual(ran.slice(0, 4), [5, 6, 7, 10], changed.out);
    assert.ok(!ran.includes(3) && !ran.includes(4) && !ran.includes(9), 'ENV, WORKDIR and LABEL before them stay cached');
    assert.equal(cli.ok(['run', '--rm', '--pull=never', image('multi')]), `hi from release\ndata v2 ${tag}\n`);
    // The cache mount kept its file across builds: the RUN saw the earlier runs' lines.
    assert.ok(Number(cli.ok(['run', '--rm', '--pull=never', '--entrypoint', 'cat', image('multi'), '/out/runs-seen.txt']).trim()) >= 2);
    const otherArg = build(['-t', image('multi'), '--build-arg', 'GREETING=hey', ctx]);
    assert.deepEqual(ranSteps(kind, otherArg.out).slice(0, 1), [6], `a build arg re-runs the first RUN that sees it\n${otherArg.out}`);
  });

  it(`${tag}: ONBUILD triggers run in the child build and are not inherited further`, () => {
    const dir = writeTree(mkdtempSync(join(daemon!.root, `onbuild-${tag}-`)), {
      'parent/Dockerfile': 'FROM bbox\nONBUILD COPY marker.txt /marker.txt\nONBUILD RUN echo triggered > /triggered.txt\n',
      'child/Dockerfile': `FROM ${tag}-parent\nCMD ["cat", "/marker.txt", "/triggered.txt"]\n`,
      'child/marker.txt': 'marker\n',
    });
    assert.equal(build(['-t', image('parent'), join(dir, 'parent')]).code, 0);
    assert.deepEqual(JSON.parse(cli.inspect(image('parent'), '{{json .Config.OnBuild}}')), ['COPY marker.txt /marker.txt', 'RUN echo triggered > /triggered.txt']);
    const child = build(['-t', image('child'), join(dir, 'child')]);
    assert.equal(child.code, 0, child.out);
    assert.equal(cli.ok(['run', '--rm', '--pull=never', image('child')]), 'marker\ntriggered\n');
    assert.equal(cli.inspect(image('child'), '{{json .Config.OnBuild}}'), 'null');
  });

  it(`${tag}: a failing step stops the build with its exit code and leaves nothing behind`, () => {
    const dir = writeTree(mkdtempSync(join(daemon!.root, `fail-${tag}-`)), {
      Dockerfile: 'FROM bbox\nRUN echo before the failure\nRUN echo failing >&2; exit 7\nRUN echo never\n',
    });
    const containersBefore = cli.lines(['ps', '-aq']);
    const r = build(['-t', image('failed'), dir]);
    assert.equal(r.code, kind === 'docker' ? 7 : 7, r.out);
    assert.match(r.out, /failing/);
    assert.match(r.out, /The command '\/bin\/sh -c echo failing >&2; exit 7' returned a non-zero code: 7/);
    assert.doesNotMatch(r.out, /never/);
    assert.notEqual(cli.run(['image', 'inspect', image('failed')]).code, 0, 'nothing tagged');
    assert.deepEqual(cli.lines(['ps', '-aq']), containersBefore, 'no intermediate container left');
    const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(`${daemon!.root}/exec/build`));
    assert.deepEqual(mounts, [], 'no build mount left');
  });

  it(`${tag}: Dockerfile errors name the file, the line and the problem`, () => {
    const dir = writeTree(mkdtempSync(join(daemon!.root, `bad-${tag}-`)), {
      Dockerfile: 'FROM bbox\nRUN true\nFROMM bbox\n',
      'Dockerfile.stage': 'FROM bbox\nCOPY --from=nowhere /x /y\n',
      'Dockerfile.missing': 'FROM bbox\nCOPY missing.txt /\n',
    });
    const bad = build([dir]);
    assert.notEqual(bad.code, 0);
    assert.match(bad.out, /Dockerfile:3: unknown instruction: FROMM/);
    const missing = build(['-f', join(dir, 'Dockerfile.missing'), dir]);
    assert.notEqual(missing.code, 0);
    assert.match(missing.out, /missing\.txt: file does not exist|file not found in build context/);
  });

  it(`${tag}: --cache-from lets an image's layers stand in for the steps that made them`, () => {
    const dir = writeTree(mkdtempSync(join(daemon!.root, `cachefrom-${tag}-`)), {
      Dockerfile: 'FROM bbox\nCOPY f.txt /f.txt\nRUN echo ran > /ran.txt\nCMD ["cat", "/f.txt", "/ran.txt"]\n',
      'f.txt': `from the context of ${tag}\n`,
    });
    assert.equal(build(['-t', image('cachefrom'), dir]).code, 0);
    const id = cli.inspect(image('cachefrom'), '{{.Id}}');
    cli.ok(['builder', 'prune', '-af']);
    const cold = build(['-t', image('cachefrom2'), dir]);
    assert.deepEqual(ranSteps(kind, cold.out), [2, 3, 4], 'without the cache everything runs');
    cli.ok(['builder', 'prune', '-af']);
    const borrowed = build(['--cache-from', image('cachefrom'), '-t', image('cachefrom3'), dir]);
    assert.equal(borrowed.code, 0, borrowed.out);
    assert.deepEqual(ranSteps(kind, borrowed.out), [4], `only CMD is not taken from the image (metadata steps are recomputed)\n${borrowed.out}`);
    assert.doesNotMatch(borrowed.out, /Running in/);
    assert.deepEqual(cli.inspect(image('cachefrom3'), '{{json .RootFS.Layers}}'), cli.inspect(id, '{{json .RootFS.Layers}}'));
    assert.equal(cli.ok(['run', '--rm', '--pull=never', image('cachefrom3')]), `from the context of ${tag}\nran\n`);
  });

  it(`${tag}: ADD archives and URLs, COPY --parents/--exclude, RUN --network, -f -, --iidfile, secrets`, async () => {
    const dir = writeTree(mkdtempSync(join(daemon!.root, `forms-${tag}-`)), {
      'tree/a/keep.txt': 'keep\n', 'tree/a/skip.log': 'skip\n', 'tree/b/keep.txt': 'b\n',
    });
    assert.equal(spawnSync('tar', ['-C', join(dir, 'tree'), '-czf', join(dir, 'bundle.tar.gz'), 'a']).status, 0);
    // The CLI runs synchronously here: the file server must be a process of its own.
    const port = await freePort();
    writeTree(join(dir, 'www'), { 'remote.txt': 'from the server\n' });
    const server = spawn('/bin/busybox', ['httpd', '-f', '-p', `127.0.0.1:${port}`, '-h', join(dir, 'www')], { stdio: 'ignore' });
    try {
      await waitForPort(port);
      const dockerfile = [
        'FROM bbox',
        'ADD bundle.tar.gz /unpacked/',
        `ADD http://127.0.0.1:${port}/remote.txt /remote.txt`,
        'COPY --parents tree/*/keep.txt /parents/',
        'COPY --exclude=*.log tree/a /excluded/',
        'RUN --network=none sh -c "ip -o link 2>/dev/null | grep -vc lo: > /links.txt || true"',
        'CMD ["sh", "-c", "find /unpacked /parents /excluded -type f | sort; stat -c %a /remote.txt; cat /remote.txt"]',
      ].join('\n') + '\n';
      const iid = join(dir, 'iid.txt');
      const r = build(['-f', '-', '--iidfile', iid, '-t', image('forms'), dir], dockerfile);
      assert.equal(r.code, 0, r.out);
      assert.equal(readFileSync(iid, 'utf8'), cli.inspect(image('forms'), '{{.Id}}'));
      assert.equal(cli.ok(['run', '--rm', '--pull=never', image('forms')]),
        '/excluded/keep.txt\n/parents/tree/a/keep.txt\n/parents/tree/b/keep.txt\n/unpacked/a/keep.txt\n/unpacked/a/skip.log\n600\nfrom the server\n');
      const closed = await freePort();
      const unreachable = build(['-f', '-', dir], `FROM bbox\nADD http://127.0.0.1:${closed}/nothing.txt /x\n`);
      assert.notEqual(unreachable.code, 0);
      assert.match(unreachable.out, new RegExp(`Dockerfile:2: ADD http://127\\.0\\.0\\.1:${closed}/nothing\\.txt: .*ECONNREFUSED`));
      const secret = build(['-f', '-', dir], 'FROM bbox\nRUN --mount=type=secret,id=token,required=true cat /run/secrets/token\n');
      assert.notEqual(secret.code, 0);
      assert.match(secret.out, /secret token not found/);
    } finally {
      server.kill('SIGKILL');
    }
  });

  it(`${tag}: a changed HEALTHCHECK or ONBUILD never reuses the old step's result`, () => {
    const dir = mkdtempSync(join(daemon!.root, `poison-${tag}-`));
    const df = (health: string, trigger: string): string => `FROM bbox\nLABEL client=${tag}\nHEALTHCHECK CMD ${health}\nONBUILD RUN ${trigger}\nRUN echo same > /same\n`;
    assert.equal(build(['-f', '-', '-t', image('poison'), dir], df('true', 'echo one')).code, 0);
    const changed = build(['-f', '-', '-t', image('poison'), dir], df('false', 'echo one'));
    assert.deepEqual(ranSteps(kind, changed.out), [3, 4, 5], changed.out);
    assert.deepEqual(JSON.parse(cli.inspect(image('poison'), '{{json .Config.Healthcheck.Test}}')), ['CMD-SHELL', 'false']);
    const trigger = build(['-f', '-', '-t', image('poison'), dir], df('false', 'echo two'));
    assert.deepEqual(ranSteps(kind, trigger.out), [4, 5], trigger.out);
    assert.deepEqual(JSON.parse(cli.inspect(image('poison'), '{{json .Config.OnBuild}}')), ['RUN echo two']);
  });

  it(`${tag}: proxy build args reach RUN without an ARG, stay out of history and do not rebuild`, () => {
    const dir = mkdtempSync(join(daemon!.root, `proxy-${tag}-`));
    const df = `FROM bbox\nLABEL client=${tag}\nRUN echo "proxy=$HTTP_PROXY no=$no_proxy" > /proxy.txt\nARG FTP_PROXY\nRUN echo "ftp=$FTP_PROXY" > /ftp.txt\n`;
    // Never contacted: the RUN steps only print the values.
    const proxies = (n: number): string[] => ['--build-arg', `HTTP_PROXY=http://proxy-${n}.invalid:3128`, '--build-arg', 'no_proxy=localhost', '--build-arg', 'FTP_PROXY=ftp-proxy'];
    const first = build(['-f', '-', '-t', image('proxy'), ...proxies(1), dir], df);
    assert.equal(first.code, 0, first.out);
    assert.doesNotMatch(first.out, /not consumed/);
    assert.equal(cli.ok(['run', '--rm', '--pull=never', image('proxy'), 'cat', '/proxy.txt', '/ftp.txt']), 'proxy=http://proxy-1.invalid:3128 no=localhost\nftp=ftp-proxy\n');
    const history = cli.ok(['history', '--no-trunc', '--format', '{{.CreatedBy}}', image('proxy')]);
    assert.doesNotMatch(history, /HTTP_PROXY=|no_proxy=/, history);
    assert.match(history, /\|1 FTP_PROXY=ftp-proxy /, history); // declared by an ARG: recorded, as in Docker
    const again = build(['-f', '-', '-t', image('proxy'), ...proxies(2), dir], df);
    assert.deepEqual(ranSteps(kind, again.out), [], again.out);
  });

  it(`${tag}: a Dockerfile alone on stdin builds without a context`, () => {
    const r = build(['-t', image('stdin'), '-'], 'FROM bbox\nENV FROM_STDIN=yes\nCMD ["sh", "-c", "echo $FROM_STDIN"]\n');
    assert.equal(r.code, 0, r.out);
    assert.equal(cli.ok(['run', '--rm', '--pull=never', image('stdin')]), 'yes\n');
  });
}

describe('builds end to end', { skip, timeout: 900_000 }, () => {
  before(async () => {
    daemon = await startBerthd();
    const work = mkdtempSync(join(daemon.root, 'img-'));
    const rootfs = makeRootfs(work);
    const tar = join(work, 'rootfs.tar');
    assert.equal(spawnSync('tar', ['-C', rootfs, '-cf', tar, '.']).status, 0);
    const cli = new DockerCli(BERTH_CLI, () => ({ ...daemon!.env(), BERTH_NO_AUTOSTART: '1' }), daemonLog);
    cli.ok(['import', '-c', 'CMD ["sh"]', tar, 'bbox:latest']);
    rmSync(work, { recursive: true, force: true });
  });
  after(async () => {
    await daemon?.cleanup();
  });

  describe('with docker 20.10 (classic builder)', { skip: existsSync(DOCKER_20) ? false : 'needs the docker CLI (docker.io)' }, () => {
    const cli = new DockerCli(DOCKER_20, () => ({ ...daemon!.env(), DOCKER_BUILDKIT: '0' }), daemonLog);
    after(() => cli.cleanup());
    buildWorkflow(cli, 'docker', 'dk');
  });

  describe('with the berth CLI', () => {
    const cli = new DockerCli(BERTH_CLI, () => ({ ...daemon!.env(), BERTH_NO_AUTOSTART: '1' }), daemonLog);
    after(() => cli.cleanup());
    buildWorkflow(cli, 'berth', 'bt');
  });

  it('the build cache shows in system df and goes with builder prune', () => {
    const cli = new DockerCli(DOCKER_20, () => daemon!.env(), daemonLog);
    if (!existsSync(DOCKER_20)) return;
    assert.match(cli.ok(['system', 'df']), /Build Cache\s+[1-9]\d*\s/);
    const pruned = cli.ok(['builder', 'prune', '-f']);
    assert.match(pruned, /Total reclaimed space/);
    assert.match(cli.ok(['system', 'df']), /Build Cache\s+0\s/);
  });
});
