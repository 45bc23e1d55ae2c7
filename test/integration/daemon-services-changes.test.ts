// docker diff from a container's snapshot (src/daemon/services/changes.ts), for both
// snapshotters: an image of two layers (the second whites a file out), a container snapshot
// on it changed through its mounted root the way a process would, then the changes read back
// from the snapshot's mounts. Also: the lower layers' symlinks never lead the lookup out.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, mkdir, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { FilesystemChange } from '../../src/oci/engine-api.js';
import { changesFromMounts, containerChanges } from '../../src/daemon/services/changes.js';
import { withTempMount } from '../../src/snapshots/mount.js';
import { NativeSnapshotter } from '../../src/snapshots/native.js';
import { OverlaySnapshotter, overlaySupported } from '../../src/snapshots/overlay.js';
import type { Snapshotter } from '../../src/snapshots/snapshotter.js';
import { isRoot } from '../helpers/runtime.js';
import { unmountUnder } from '../helpers/snapshotter-suite.js';

const base = isRoot ? mkdtempSync('/var/tmp/berth-changes-') : '/nonexistent';
after(async () => {
  if (!isRoot) return;
  await unmountUnder(base);
  rmSync(base, { recursive: true, force: true });
});

/** A committed snapshot `name` on `parent`, made by fn on its mounted tree. */
async function layer(s: Snapshotter, name: string, parent: string | undefined, fn: (root: string) => Promise<void>): Promise<void> {
  await withTempMount(await s.prepare(`${name}-active`, parent), fn, { tmpRoot: base });
  await s.commit(name, `${name}-active`);
}

async function image(s: Snapshotter): Promise<void> {
  await layer(s, 'l1', undefined, async (r) => {
    for (const d of ['a', 'b', 'opq', 'same-dir/sub']) await mkdir(join(r, d), { recursive: true });
    for (const f of ['a/file1', 'a/file2', 'b/x', 'opq/old1', 'opq/old2', 'gone']) await writeFile(join(r, f), f);
  });
  await layer(s, 'l2', 'l1', async (r) => {
    await unlink(join(r, 'gone'));
    await mkdir(join(r, 'c'));
    await writeFile(join(r, 'c', 'y'), 'y');
  });
}

/** What a container's process does to its root. */
async function work(r: string): Promise<void> {
  await appendFile(join(r, 'a', 'file1'), ' changed');
  await writeFile(join(r, 'a', 'new'), 'new');
  await unlink(join(r, 'b', 'x'));
  await rm(join(r, 'opq'), { recursive: true });
  await mkdir(join(r, 'opq'));
  await writeFile(join(r, 'opq', 'fresh'), 'fresh');
  await mkdir(join(r, 'newdir'));
  await writeFile(join(r, 'newdir', 'f'), 'f');
  await writeFile(join(r, 'gone'), 'back');
  await writeFile(join(r, 'same-dir', 'sub', 'f'), 'f');
}

const show = (changes: FilesystemChange[]): string[] => changes.map((c) => `${'CAD'[c.Kind]} ${c.Path}`);

function assertParentsFirst(changes: FilesystemChange[]): void {
  const seen = new Set<string>();
  for (const c of changes) {
    const parent = c.Path.slice(0, c.Path.lastIndexOf('/'));
    if (parent && changes.some((p) => p.Path === parent)) assert.ok(seen.has(parent), `${parent} is listed before ${c.Path}`);
    seen.add(c.Path);
  }
}

// Both snapshotters show the same changes; native also lists /same-dir (moby's ChangesDirs
// lists every directory something changed in, its overlay walk skips an unchanged one).
const EXPECTED = [
  'C /a', 'C /a/file1', 'A /a/new', 'C /b', 'D /b/x', 'A /gone', 'A /newdir', 'A /newdir/f',
  'C /opq', 'A /opq/fresh', 'D /opq/old1', 'D /opq/old2', 'C /same-dir/sub', 'A /same-dir/sub/f',
];

describe('docker diff from snapshots (changes.ts)', { skip: isRoot ? false : 'needs root (mounts)' }, () => {
  const styles: Array<[string, () => Promise<Snapshotter | string>, string[]]> = [
    ['overlay', async () => {
      const root = join(base, 'overlay');
      await mkdir(root, { recursive: true });
      const ok = await overlaySupported(root);
      return ok === true ? OverlaySnapshotter.open(root) : ok;
    }, [...EXPECTED]],
    ['native', () => NativeSnapshotter.open(join(base, 'native')), [...EXPECTED, 'C /same-dir'].sort()],
  ];
  for (const [style, open, expected] of styles) {
    it(`${style}: added, modified and deleted paths as docker diff lists them`, async (t) => {
      const s = await open();
      if (typeof s === 'string') return t.skip(s);
      try {
        await image(s);
        const mounts = await s.prepare('ctr', 'l2');
        await withTempMount(mounts, work, { tmpRoot: base });
        const parentView = style === 'native' ? await s.view('ctr-parent', 'l2') : undefined;
        const changes = await changesFromMounts(mounts, parentView);
        const byPath = (x: string, y: string): number => (x.slice(2) < y.slice(2) ? -1 : 1);
        assert.deepEqual(show(changes).sort(byPath), expected.sort(byPath));
        assertParentsFirst(changes);
        if (style === 'overlay') assert.deepEqual(show(changes), EXPECTED.slice(0, 9).concat(['D /opq/old1', 'D /opq/old2', 'A /opq/fresh'], EXPECTED.slice(12)), 'walk order');
        // A first layer has no parent: everything in it is added.
        const first = await changesFromMounts(await s.prepare('first', undefined));
        assert.deepEqual(first, []);
      } finally {
        await s.close();
      }
    });
  }

  it('looks lower layers up one real directory at a time: an image symlink does not lead to the host', async () => {
    const dir = join(base, 'symlinked');
    const lower = join(dir, 'lower');
    const upper = join(dir, 'upper');
    await mkdir(join(upper, 'etc'), { recursive: true });
    await mkdir(lower, { recursive: true });
    await symlink('/', join(lower, 'etc')); // in the image, /etc -> /
    await writeFile(join(upper, 'etc', 'hostname'), 'x');
    await symlink('/proc', join(lower, 'proc-link'));
    await mkdir(join(upper, 'proc-link'));
    await writeFile(join(upper, 'proc-link', 'version'), 'x');
    assert.ok(existsSync('/proc/version'), 'the host file the link would reach');
    const changes = show(await containerChanges({ style: 'overlay', upper, lowers: [lower] }));
    // /proc-link/version would be "modified" if the lookup followed the image's link to the host's /proc.
    assert.ok(changes.includes('A /proc-link/version'), changes.join(', '));
    assert.ok(changes.includes('A /etc/hostname'), changes.join(', '));
  });
});
