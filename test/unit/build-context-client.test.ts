// The context as the CLI sends it: a directory walked into a deterministic tar, ignored
// paths left out but the build files kept, read back by the daemon's BuildContext.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, link, mkdir, open, symlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BuildContext, IgnoreMatcher, contextTar, loadIgnoreFile } from '../../src/build/context/index.js';
import { isBerthError } from '../../src/util/errors.js';
import { readTar, withTmp } from './build-context-fixtures.js';

const T = 1_650_000_000;

async function makeTree(root: string): Promise<void> {
  await mkdir(join(root, 'src/lib'), { recursive: true });
  await mkdir(join(root, 'empty'));
  await mkdir(join(root, 'secret/public'), { recursive: true });
  await writeFile(join(root, 'Dockerfile'), 'FROM scratch\nCOPY . /\n');
  await writeFile(join(root, '.dockerignore'), '*.log\nsecret\n!secret/public/ok.txt\nDockerfile\n.dockerignore\n');
  await writeFile(join(root, 'src/main.c'), 'int main(void) { return 0; }\n');
  await writeFile(join(root, 'src/lib/run.sh'), '#!/bin/sh\n', { mode: 0o755 });
  await chmod(join(root, 'src/lib/run.sh'), 0o4755);
  await writeFile(join(root, 'debug.log'), 'noise');
  await writeFile(join(root, 'secret/key'), 'k');
  await writeFile(join(root, 'secret/public/ok.txt'), 'ok');
  await link(join(root, 'src/main.c'), join(root, 'src/main-link.c'));
  await symlink('lib/run.sh', join(root, 'src/run'));
  await symlink('/etc/passwd', join(root, 'passwd'));
  for (const p of ['src/main.c', 'src/lib/run.sh', 'src', 'Dockerfile']) await utimes(join(root, p), T, T + 0.75);
}

async function bytes(stream: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const p of stream) parts.push(p);
  return Buffer.concat(parts);
}

describe('the client-side context tar', () => {
  it('walks without following symlinks, leaves out ignored paths but keeps the build files', () =>
    withTmp(async (tmp) => {
      const root = join(tmp, 'ctx');
      await mkdir(root);
      await makeTree(root);
      const { path, matcher } = await loadIgnoreFile(root, 'Dockerfile');
      assert.equal(path, '.dockerignore');
      const members = await readTar(contextTar(root, { dockerfile: 'Dockerfile', ignore: matcher }));
      assert.deepEqual(
        members.map((m) => `${m.entry.type} ${m.entry.name}${m.entry.linkname ? ` -> ${m.entry.linkname}` : ''}`),
        [
          'file .dockerignore',
          'file Dockerfile',
          'dir empty/',
          'symlink passwd -> /etc/passwd',
          'file secret/public/ok.txt', // re-included; its ignored directories are not sent
          'dir src/',
          'dir src/lib/',
          'file src/lib/run.sh',
          'file src/main-link.c',
          'hardlink src/main.c -> src/main-link.c',
          'symlink src/run -> lib/run.sh',
        ],
      );
      for (const { entry } of members) assert.deepEqual([entry.uid, entry.gid], [0, 0], entry.name);
      const run = members.find((m) => m.entry.name === 'src/lib/run.sh')!.entry;
      assert.equal(run.mode, 0o4755);
      const df = members.find((m) => m.entry.name === 'Dockerfile')!;
      assert.deepEqual([df.entry.mtimeSec, df.entry.mtimeNsec], [T, 0]); // whole seconds, as go-archive
      assert.equal(df.data.toString(), 'FROM scratch\nCOPY . /\n');
      // the same tree gives the same bytes
      const a = await bytes(contextTar(root, { dockerfile: 'Dockerfile', ignore: matcher }));
      const b = await bytes(contextTar(root, { dockerfile: './Dockerfile', ignore: matcher }));
      assert.ok(a.equals(b));
    }));

  it('round-trips through the daemon\'s BuildContext', () =>
    withTmp(async (tmp) => {
      const root = join(tmp, 'ctx');
      await mkdir(root);
      await makeTree(root);
      const ctx = await BuildContext.fromStream(contextTar(root, { dockerfile: 'Dockerfile', ignore: new IgnoreMatcher([]) }), tmp);
      try {
        assert.equal((await ctx.readFile('src/main.c', 1000)).toString(), 'int main(void) { return 0; }\n');
        assert.equal(ctx.stat('src/main.c')!.inode, ctx.stat('src/main-link.c')!.inode);
        assert.equal(ctx.stat('src/run')!.path, 'src/lib/run.sh');
        assert.equal(ctx.stat('passwd'), undefined); // /etc/passwd of the context, which has none
        assert.equal(ctx.lstat('passwd')!.linkname, '/etc/passwd');
        assert.equal(ctx.stat('src')!.mtimeSec, T);
        assert.equal(ctx.stat('src/lib/run.sh')!.mode, 0o4755);
        assert.equal(ctx.stat('secret/key')!.size, 1);
        assert.equal(ctx.stat('debug.log')!.type, 'file');
      } finally {
        await ctx.close();
      }
    }));

  it('keeps a Dockerfile in a subdirectory and its own ignore file', () =>
    withTmp(async (tmp) => {
      await mkdir(join(tmp, 'docker'));
      await writeFile(join(tmp, 'docker/app.Dockerfile'), 'FROM scratch\n');
      await writeFile(join(tmp, 'docker/app.Dockerfile.dockerignore'), '*\n');
      await writeFile(join(tmp, '.dockerignore'), 'nothing\n');
      await writeFile(join(tmp, 'x'), 'x');
      const { path, matcher } = await loadIgnoreFile(tmp, 'docker/app.Dockerfile');
      assert.equal(path, 'docker/app.Dockerfile.dockerignore');
      const members = await readTar(contextTar(tmp, { dockerfile: 'docker/app.Dockerfile', ignore: matcher }));
      assert.deepEqual(members.map((m) => m.entry.name), ['.dockerignore', 'docker/app.Dockerfile', 'docker/app.Dockerfile.dockerignore']);
      assert.equal((await loadIgnoreFile(join(tmp, 'docker'), 'Dockerfile')).matcher.empty, true);
    }));

  it('streams a large file without holding it in memory', () =>
    withTmp(async (tmp) => {
      const size = 200 * 1024 * 1024;
      const fh = await open(join(tmp, 'big.bin'), 'w');
      await fh.truncate(size); // sparse: costs no disk
      await fh.close();
      let total = 0;
      let peak = 0;
      const h = createHash('sha256');
      for await (const chunk of contextTar(tmp, { dockerfile: 'Dockerfile', ignore: new IgnoreMatcher([]) })) {
        total += (chunk as Buffer).length;
        if (total < size) h.update(chunk as Buffer);
        peak = Math.max(peak, process.memoryUsage().arrayBuffers);
      }
      assert.equal(total, 512 + size + 1024);
      assert.ok(peak < 64 * 1024 * 1024, `peak arrayBuffers ${peak}`);
    }));

  it('reports unreadable paths as docker/cli does, before sending anything', () =>
    withTmp(async (tmp) => {
      const root = join(tmp, 'ctx');
      await mkdir(join(root, 'locked'), { recursive: true });
      await writeFile(join(root, 'locked/f'), 'x');
      await writeFile(join(root, 'private'), 'x');
      await chmod(tmp, 0o755);
      await chmod(join(root, 'private'), 0o000);
      const run = (ignore: string[]): string => {
        // As root nothing is unreadable: run the walk as nobody.
        const script = `
          import { contextTar, IgnoreMatcher } from ${JSON.stringify(new URL('../../src/build/context/index.js', import.meta.url).href)};
          let sent = 0;
          try { for await (const c of contextTar(${JSON.stringify(root)}, { dockerfile: 'Dockerfile', ignore: new IgnoreMatcher(${JSON.stringify(ignore)}) })) sent += c.length; console.log('ok ' + sent); }
          catch (e) { console.log('sent ' + sent + ': ' + e.message); }`;
        const asNobody = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
        const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', ...asNobody });
        return r.stdout.trim() || r.stderr;
      };
      await chmod(join(root, 'locked'), 0o000);
      assert.equal(run(['private']), `sent 0: error checking context: can't stat '${join(root, 'locked')}'`);
      await chmod(join(root, 'locked'), 0o755);
      assert.equal(run([]), `sent 0: error checking context: no permission to read from '${join(root, 'private')}'`);
      assert.match(run(['private']), /^ok \d+$/);
      await assert.rejects(
        bytes(contextTar(join(tmp, 'missing'), { dockerfile: 'Dockerfile', ignore: new IgnoreMatcher([]) })),
        (e: unknown) => isBerthError(e, 'InvalidArgument') && /error checking context/.test((e as Error).message),
      );
    }));
});
