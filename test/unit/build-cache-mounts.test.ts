// RUN --mount=type=cache directories: sharing modes, and prune taking only what no step holds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CacheMounts } from '../../src/daemon/build/cache-mounts.js';
import type { StepMount } from '../../src/build/worker.js';

const cache = (id: string, sharing: 'shared' | 'private' | 'locked'): StepMount => ({
  type: 'cache', target: '/c', id, sharing, readonly: false, mode: 0o755, uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0,
});

test('cache mounts: shared is one directory, private a second one while the first is held', async () => {
  const root = mkdtempSync(join(tmpdir(), 'berth-cache-mounts-'));
  try {
    const mounts = new CacheMounts(root);
    const a = cache('x', 'shared');
    const b = cache('x', 'shared');
    const p = cache('x', 'private');
    const first = await mounts.acquire([a]);
    const second = await mounts.acquire([b, p]);
    assert.equal(second.paths.get(b), first.paths.get(a));
    assert.notEqual(second.paths.get(p), first.paths.get(a));
    first.release();
    second.release();
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('cache mounts: locked waits for the holder', async () => {
  const root = mkdtempSync(join(tmpdir(), 'berth-cache-mounts-'));
  try {
    const mounts = new CacheMounts(root);
    const held = await mounts.acquire([cache('l', 'locked')]);
    let got = false;
    const waiting = mounts.acquire([cache('l', 'locked')]).then((h) => ((got = true), h));
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(got, false);
    held.release();
    (await waiting).release();
    assert.equal(got, true);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('cache mounts: prune removes the directories no step holds, and a later step starts empty', async () => {
  const root = mkdtempSync(join(tmpdir(), 'berth-cache-mounts-'));
  try {
    const mounts = new CacheMounts(root);
    const free = cache('free', 'shared');
    const busy = cache('busy', 'shared');
    const f = await mounts.acquire([free]);
    writeFileSync(join(f.paths.get(free)!, 'data'), 'old');
    f.release();
    const held = await mounts.acquire([busy]);
    writeFileSync(join(held.paths.get(busy)!, 'data'), 'kept');

    assert.equal(await mounts.prune(), 1);
    assert.deepEqual(readdirSync(root), [held.paths.get(busy)!.split('/').at(-1)]);
    assert.ok(existsSync(join(held.paths.get(busy)!, 'data')));
    held.release();

    const again = await mounts.acquire([free]);
    assert.deepEqual(readdirSync(again.paths.get(free)!), []);
    again.release();
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
