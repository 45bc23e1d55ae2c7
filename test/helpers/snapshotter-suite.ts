// The conformance suite every Snapshotter must pass (after containerd's snapshots/testsuite):
// registers node:test cases that build snapshots, mount them for real and read files back.
// Each case gets its own store root; whatever a case mounted is unmounted after it, even
// when it fails.
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { chmod, link, mkdir, readdir, readFile, readlink, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { isBerthError, type ErrorCode } from '../../src/util/errors.js';
import { compactOverlayOptions, unmount, withTempMount } from '../../src/snapshots/mount.js';
import { mountPointsUnder } from '../../src/snapshots/mountinfo.js';
import { writableDir, type Mount, type Snapshotter } from '../../src/snapshots/snapshotter.js';

export type SnapshotterFactory = (root: string) => Promise<Snapshotter>;

export interface ConformanceOptions {
  /** Directory the per-case store roots are created in (default: a new one under /var/tmp). */
  tmpBase?: string;
  /** For the SIGKILL test: a module (file URL) exporting `exportName`, a class with static open(root). */
  child?: { moduleUrl: string; exportName: string };
  skip?: string | false;
}

const MiB = 1024 * 1024;

/** Unmount everything mounted at or below dir, deepest first, detaching busy mounts. */
export async function unmountUnder(dir: string): Promise<void> {
  for (const point of mountPointsUnder(dir)) await unmount(point, { detach: true });
}

async function rejectsWith(p: Promise<unknown>, code: ErrorCode, re?: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(isBerthError(err, code), `want ${code}, got ${String(err)}`);
    if (re) assert.match((err as Error).message, re);
    return true;
  });
}

const readText = (path: string): Promise<string> => readFile(path, 'utf8');

export function snapshotterConformance(name: string, factory: SnapshotterFactory, opts: ConformanceOptions = {}): void {
  let base = opts.tmpBase;
  const baseDir = (): string => (base ??= mkdtempSync(join(existsSync('/var/tmp') ? '/var/tmp' : '/tmp', `berth-snap-${name}-`)));

  /** A fresh store for one case, closed, unmounted and removed after it. */
  async function open(t: TestContext): Promise<{ s: Snapshotter; root: string; mounted: Mounter }> {
    const root = mkdtempSync(join(baseDir(), 'case-'));
    const opened: Snapshotter[] = [];
    t.after(async () => {
      for (const s of opened) await s.close().catch(() => undefined);
      await unmountUnder(root);
      rmSync(root, { recursive: true, force: true });
    });
    const s = await factory(root);
    opened.push(s);
    const mounted: Mounter = (mounts, fn) => withTempMount(mounts, fn, { tmpRoot: root });
    return { s, root, mounted };
  }

  /** Commits `name` whose tree is written by fill through a real mount of the active snapshot. */
  async function layer(s: Snapshotter, mounted: Mounter, name: string, parent: string | undefined, fill: (dir: string) => Promise<void>): Promise<void> {
    const key = `${name}-active`;
    await mounted(await s.prepare(key, parent), fill);
    await s.commit(name, key);
  }

  describe(`snapshotter conformance: ${name}`, { skip: opts.skip ?? false }, () => {
    test('prepare, write through the mount, commit, view reads the files back', async (t) => {
      const { s, mounted } = await open(t);
      const mounts = await s.prepare('a');
      assert.deepEqual(await s.mounts('a'), mounts);
      await mounted(mounts, async (dir) => {
        await writeFile(join(dir, 'hello'), 'world');
        await mkdir(join(dir, 'etc'));
        await writeFile(join(dir, 'etc/conf'), 'c');
        await symlink('etc/conf', join(dir, 'link'));
      });
      await s.commit('base', 'a');
      await rejectsWith(s.stat('a'), 'NotFound');
      assert.equal((await s.stat('base')).kind, 'committed');
      await mounted(await s.view('v', 'base'), async (dir) => {
        assert.equal(await readText(join(dir, 'hello')), 'world');
        assert.equal(await readText(join(dir, 'etc/conf')), 'c');
        assert.equal(await readlink(join(dir, 'link')), 'etc/conf');
      });
      assert.equal((await s.stat('v')).kind, 'view');
      assert.deepEqual(await s.check(), []);
    });

    test('a child sees its parent; its changes stay out of the parent', async (t) => {
      const { s, mounted } = await open(t);
      await layer(s, mounted, 'base', undefined, async (dir) => writeFile(join(dir, 'f'), 'base'));
      await mounted(await s.prepare('child', 'base'), async (dir) => {
        assert.equal(await readText(join(dir, 'f')), 'base');
        await writeFile(join(dir, 'f'), 'child');
        await writeFile(join(dir, 'g'), 'new');
      });
      await mounted(await s.view('v-base', 'base'), async (dir) => {
        assert.equal(await readText(join(dir, 'f')), 'base');
        assert.equal(existsSync(join(dir, 'g')), false);
      });
      await mounted(await s.mounts('child'), async (dir) => {
        assert.equal(await readText(join(dir, 'f')), 'child');
        assert.equal(await readText(join(dir, 'g')), 'new');
      });
      assert.equal((await s.stat('child')).parent, 'base');
    });

    test('layered chain: changes, deletions and replaced directories show in a view', async (t) => {
      const { s, mounted } = await open(t);
      await layer(s, mounted, 'l1', undefined, async (dir) => {
        await writeFile(join(dir, 'keep'), '1');
        await writeFile(join(dir, 'change'), '1');
        await writeFile(join(dir, 'delete'), '1');
        await mkdir(join(dir, 'gone'));
        await writeFile(join(dir, 'gone/x'), '1');
        await mkdir(join(dir, 'replaced'));
        await writeFile(join(dir, 'replaced/old'), '1');
        await writeFile(join(dir, 'a'), 'linked');
        await link(join(dir, 'a'), join(dir, 'b'));
        await writeFile(join(dir, 'suid'), '#!/bin/sh\n');
        await chmod(join(dir, 'suid'), 0o4755);
      });
      // Deleting through the mount: overlay records whiteouts and opaque dirs in the upper
      // directory, native deletes from its copy.
      await layer(s, mounted, 'l2', 'l1', async (dir) => {
        await writeFile(join(dir, 'change'), '2');
        await rm(join(dir, 'delete'));
        await rm(join(dir, 'gone'), { recursive: true });
        await rm(join(dir, 'replaced'), { recursive: true });
        await mkdir(join(dir, 'replaced'));
        await writeFile(join(dir, 'replaced/new'), '2');
      });
      await layer(s, mounted, 'l3', 'l2', async (dir) => writeFile(join(dir, 'top'), '3'));
      await mounted(await s.view('v', 'l3'), async (dir) => {
        assert.equal(await readText(join(dir, 'keep')), '1');
        assert.equal(await readText(join(dir, 'change')), '2');
        assert.equal(await readText(join(dir, 'top')), '3');
        assert.equal(existsSync(join(dir, 'delete')), false);
        assert.equal(existsSync(join(dir, 'gone')), false);
        assert.deepEqual(await readdir(join(dir, 'replaced')), ['new']);
        const [a, b] = [await stat(join(dir, 'a')), await stat(join(dir, 'b'))];
        assert.equal(a.ino, b.ino, 'hardlinks stay one inode');
        assert.equal(a.nlink, 2);
        assert.equal((await stat(join(dir, 'suid'))).mode & 0o7777, 0o4755);
      });
      await mounted(await s.view('v1', 'l1'), async (dir) => {
        assert.equal(await readText(join(dir, 'delete')), '1');
        assert.deepEqual(await readdir(join(dir, 'replaced')), ['old']);
      });
    });

    test('writableDir: layers unpacked without mounting', async (t) => {
      const { s, mounted } = await open(t);
      const first = writableDir(await s.prepare('a'));
      assert.equal(first.style, s.name);
      await writeFile(join(first.dir, 'one'), '1');
      await s.commit('one', 'a');
      const second = writableDir(await s.prepare('b', 'one'));
      assert.equal(second.style, s.name);
      await writeFile(join(second.dir, 'two'), '2');
      if (second.style === 'native') await rm(join(second.dir, 'one'));
      await s.commit('two', 'b');
      await mounted(await s.view('v', 'two'), async (dir) => {
        assert.equal(await readText(join(dir, 'two')), '2');
        if (second.style === 'native') assert.equal(existsSync(join(dir, 'one')), false);
        else assert.equal(await readText(join(dir, 'one')), '1');
      });
      assert.throws(() => writableDir([{ type: 'bind', source: '/x', options: ['ro', 'rbind'] }]), (e: unknown) => isBerthError(e, 'InvalidArgument'));
      for (const v of [await s.view('v0'), await s.view('v2', 'two')]) {
        assert.throws(() => writableDir(v), (e: unknown) => isBerthError(e, 'InvalidArgument'));
      }
    });

    test('a view is read-only (EROFS)', async (t) => {
      const { s, mounted } = await open(t);
      await layer(s, mounted, 'l1', undefined, async (dir) => writeFile(join(dir, 'f'), '1'));
      await layer(s, mounted, 'l2', 'l1', async (dir) => writeFile(join(dir, 'g'), '2'));
      for (const [key, parent] of [['v0', undefined], ['v1', 'l1'], ['v2', 'l2']] as const) {
        await mounted(await s.view(key, parent), async (dir) => {
          await assert.rejects(writeFile(join(dir, 'new'), 'x'), { code: 'EROFS' }, `view of ${parent ?? 'nothing'}`);
        });
      }
      await rejectsWith(s.commit('c', 'v1'), 'InvalidArgument');
    });

    test('remove refuses a snapshot with children, then works bottom-up', async (t) => {
      const { s, root } = await open(t);
      await s.prepare('a');
      await s.commit('base', 'a');
      await s.prepare('child', 'base');
      await s.view('view', 'base');
      await rejectsWith(s.remove('base'), 'Conflict', /depend/);
      await s.remove('child');
      await rejectsWith(s.remove('base'), 'Conflict');
      await s.remove('view');
      await s.remove('base');
      await rejectsWith(s.stat('base'), 'NotFound');
      assert.deepEqual(await readdir(join(root, 'snapshots')), []);
    });

    test('a removed or committed key can be used again', async (t) => {
      const { s, mounted } = await open(t);
      await mounted(await s.prepare('k'), (dir) => writeFile(join(dir, 'old'), 'x'));
      await s.remove('k');
      await mounted(await s.prepare('k'), async (dir) => assert.deepEqual(await readdir(dir), []));
      await s.commit('c', 'k');
      await s.prepare('k', 'c');
      assert.equal((await s.stat('k')).parent, 'c');
    });

    test('remove an active snapshot after unmounting it', async (t) => {
      const { s, root, mounted } = await open(t);
      await s.prepare('a');
      await s.commit('base', 'a');
      const mounts = await s.prepare('busy', 'base');
      await mounted(mounts, async (dir) => {
        await writeFile(join(dir, 'f'), 'x');
        assert.ok(mountPointsUnder(root).includes(dir));
      });
      assert.deepEqual(mountPointsUnder(root), []);
      await s.remove('busy');
      await rejectsWith(s.mounts('busy'), 'NotFound');
      assert.deepEqual(await s.check(), []);
    });

    test('stat and update labels', async (t) => {
      const { s } = await open(t);
      const before = Date.now();
      await s.prepare('a', undefined, { labels: { 'x.y/z': '1' } });
      const info = await s.stat('a');
      assert.equal(info.key, 'a');
      assert.equal(info.kind, 'active');
      assert.equal(info.parent, undefined);
      assert.deepEqual(info.labels, { 'x.y/z': '1' });
      assert.ok(info.created.getTime() >= before - 1000 && info.created.getTime() <= Date.now());
      const updated = await s.update('a', { other: 'v' });
      assert.deepEqual(updated.labels, { other: 'v' });
      assert.ok(updated.updated.getTime() >= info.updated.getTime());
      assert.deepEqual((await s.stat('a')).labels, { other: 'v' });
      await s.commit('c', 'a', { labels: { committed: 'yes' } });
      assert.deepEqual((await s.stat('c')).labels, { committed: 'yes' });
      await rejectsWith(s.update('missing', {}), 'NotFound');
      await rejectsWith(s.update('c', { '': 'x' }), 'InvalidArgument');
    });

    test('walk lists every snapshot', async (t) => {
      const { s } = await open(t);
      await s.prepare('a');
      await s.commit('base', 'a');
      await s.prepare('b', 'base');
      await s.view('v', 'base');
      await s.prepare('__proto__');
      const seen = new Map<string, string>();
      await s.walk((info) => void seen.set(info.key, info.kind));
      assert.deepEqual([...seen].sort(), [['__proto__', 'active'], ['b', 'active'], ['base', 'committed'], ['v', 'view']]);
      // walk's callback may use the store
      await s.walk(async (info) => void (await s.stat(info.key)));
    });

    test('usage counts the bytes and inodes of the snapshot\'s own layer', async (t) => {
      const { s, mounted } = await open(t);
      await mounted(await s.prepare('a'), async (dir) => {
        await writeFile(join(dir, 'big'), Buffer.alloc(MiB, 1));
        await mkdir(join(dir, 'd'));
      });
      const active = await s.usage('a');
      assert.ok(active.size >= MiB, `size ${active.size}`);
      assert.ok(active.inodes >= 3, `inodes ${active.inodes}`);
      await s.commit('c', 'a');
      assert.deepEqual(await s.usage('c'), active);
      await mounted(await s.prepare('child', 'c'), (dir) => writeFile(join(dir, 'small'), 'x'));
      const child = await s.usage('child');
      // An overlay layer holds only its own changes; a native snapshot is a full copy.
      if (s.name === 'overlay') assert.ok(child.size < MiB && child.inodes <= 3, JSON.stringify(child));
      else assert.ok(child.size >= MiB && child.inodes >= 4, JSON.stringify(child));
      await s.view('v', 'c');
      assert.deepEqual(await s.usage('v'), { size: 0, inodes: 0 });
    });

    test('unknown parents, duplicates and bad keys are refused', async (t) => {
      const { s } = await open(t);
      await rejectsWith(s.prepare('a', 'nope'), 'NotFound', /parent/);
      await rejectsWith(s.view('v', 'nope'), 'NotFound');
      await s.prepare('a');
      await rejectsWith(s.prepare('a'), 'Conflict', /already exists/);
      await rejectsWith(s.view('a'), 'Conflict');
      await rejectsWith(s.prepare('b', 'a'), 'InvalidArgument', /not committed/);
      await s.prepare('b');
      await rejectsWith(s.commit('b', 'a'), 'Conflict');
      await rejectsWith(s.commit('x', 'nope'), 'NotFound');
      await rejectsWith(s.remove('nope'), 'NotFound');
      await rejectsWith(s.stat('nope'), 'NotFound');
      await rejectsWith(s.usage('nope'), 'NotFound');
      await s.commit('c', 'a');
      await rejectsWith(s.mounts('c'), 'InvalidArgument');
      for (const bad of ['', 'a\0b', 'k'.repeat(1025)]) {
        await rejectsWith(s.prepare(bad), 'InvalidArgument');
        await rejectsWith(s.commit(bad, 'b'), 'InvalidArgument');
      }
      await s.prepare('k'.repeat(1024));
      assert.deepEqual(await s.check(), []);
    });

    test('a chain of 128 layers mounts (compacted lowerdir)', async (t) => {
      const { s, mounted } = await open(t);
      let parent: string | undefined;
      for (let i = 0; i < 128; i++) {
        const { dir } = writableDir(await s.prepare(`k${i}`, parent));
        await writeFile(join(dir, `f${i}`), String(i));
        await writeFile(join(dir, 'top'), String(i));
        await s.commit(`l${i}`, `k${i}`);
        parent = `l${i}`;
      }
      const active = await s.prepare('active', parent);
      if (s.name === 'overlay') {
        const long = active[0]!.options.join(',').length;
        assert.ok(long > 4096, `options are ${long} bytes: the test must need compaction`);
        assert.ok(compactOverlayOptions(active[0]!.options).cwd, 'compacted');
      }
      await mounted(active, async (dir) => {
        assert.equal(await readText(join(dir, 'top')), '127');
        for (let i = 0; i < 128; i++) assert.equal(await readText(join(dir, `f${i}`)), String(i));
        await writeFile(join(dir, 'mine'), 'x');
      });
      await mounted(await s.view('v', parent), async (dir) => {
        assert.equal((await readdir(dir)).length, 129);
        assert.equal(await readText(join(dir, 'f0')), '0');
      });
    });

    test('crash leftovers: check() reports, reopening removes them', async (t) => {
      const { s, root } = await open(t);
      await s.prepare('a');
      await s.commit('base', 'a');
      await s.prepare('b', 'base');
      mkdirSync(join(root, 'snapshots/999/fs'), { recursive: true });
      mkdirSync(join(root, 'snapshots/tmp-stray'));
      const problems = await s.check();
      assert.equal(problems.length, 2, problems.join('\n'));
      assert.ok(problems.every((p) => p.startsWith('leftover: ')), problems.join('\n'));
      assert.ok(existsSync(join(root, 'snapshots/999')), 'check changes nothing');
      await s.close();
      await rejectsWith(s.stat('base'), 'Unavailable');
      const again = await factory(root);
      t.after(() => again.close());
      assert.deepEqual(await again.check(), []);
      assert.equal(existsSync(join(root, 'snapshots/999')), false);
      assert.equal((await again.stat('b')).parent, 'base');
      await again.prepare('c', 'base');
    });

    test('concurrent prepares with distinct keys, also from a second instance', async (t) => {
      const { s, root } = await open(t);
      await s.prepare('a');
      await s.commit('base', 'a');
      const other = await factory(root);
      t.after(() => other.close());
      const all = await Promise.all(
        Array.from({ length: 24 }, (_, i) => (i % 2 ? s : other).prepare(`c${i}`, i % 3 ? 'base' : undefined)),
      );
      const dirs = all.map((m) => writableDir(m).dir);
      assert.equal(new Set(dirs).size, 24);
      const keys: string[] = [];
      await other.walk((info) => void keys.push(info.key));
      assert.equal(keys.length, 25);
      await Promise.all(Array.from({ length: 24 }, (_, i) => (i % 2 ? other : s).remove(`c${i}`)));
      assert.deepEqual(await s.check(), []);
    });

    test('SIGKILL at any point leaves a store that opens clean', { skip: opts.child ? false : 'no child module given' }, async (t) => {
      const { s, root } = await open(t);
      await s.prepare('a');
      await s.commit('base', 'a');
      await s.close();
      for (let round = 0; round < 6; round++) await killChildMidway(root, opts.child!, 20 + round * 37);
      const again = await factory(root);
      t.after(() => again.close());
      assert.deepEqual(await again.check(), []);
      const keys: string[] = [];
      await again.walk((info) => void keys.push(info.key));
      for (const key of keys) if ((await again.stat(key)).kind !== 'committed') await again.mounts(key);
      await again.prepare('after', 'base');
      await again.remove('after');
    });
  });
}

type Mounter = <T>(mounts: Mount[], fn: (dir: string) => Promise<T>) => Promise<T>;

// The child loops prepare/commit/remove on the store as fast as it can; killing it after a
// delay lands somewhere in the middle of an operation.
async function killChildMidway(root: string, child: { moduleUrl: string; exportName: string }, delayMs: number): Promise<void> {
  const script = `
    const m = await import(${JSON.stringify(child.moduleUrl)});
    const s = await m[${JSON.stringify(child.exportName)}].open(${JSON.stringify(root)});
    process.stdout.write('ready\\n');
    for (let i = 0; ; i++) {
      const k = 'k' + process.pid + '-' + i;
      await s.prepare(k, i % 2 ? 'base' : undefined, { labels: { i: String(i) } });
      if (i % 3 === 0) await s.commit('c' + k, k);
      else await s.remove(k);
    }`;
  const proc = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    proc.stdout.once('data', () => resolve());
    proc.once('exit', (code) => reject(new Error(`child exited early with ${code}`)));
  });
  await new Promise((r) => setTimeout(r, delayMs));
  proc.kill('SIGKILL');
  await new Promise((r) => proc.once('exit', r));
}
