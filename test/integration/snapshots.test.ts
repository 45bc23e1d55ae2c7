// Both snapshotters against the conformance suite on this host's real kernel (root only),
// plus what is specific to each: overlay's mount shapes and layer limit, the option
// compaction, native's copies. Every store lives under one temporary directory; anything
// still mounted below it is unmounted after the file, whatever failed.
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { isBerthError } from '../../src/util/errors.js';
import { compactOverlayOptions, withTempMount } from '../../src/snapshots/mount.js';
import { NativeSnapshotter } from '../../src/snapshots/native.js';
import { OVERLAY_MAX_LAYERS, OverlaySnapshotter, overlaySupported } from '../../src/snapshots/overlay.js';
import { OVERLAY_STYLE_OPTION, writableDir, type Snapshotter } from '../../src/snapshots/snapshotter.js';
import { snapshotterConformance, unmountUnder } from '../helpers/snapshotter-suite.js';

const isRoot = process.getuid?.() === 0;
const tmpBase = isRoot ? mkdtempSync('/var/tmp/berth-snapshots-') : '/nonexistent';
after(async () => {
  if (!isRoot) return;
  await unmountUnder(tmpBase);
  rmSync(tmpBase, { recursive: true, force: true });
});

const overlaySkip = !isRoot ? 'needs root (mounts)' : await overlaySupported(join(tmpBase, 'probe')).then((ok) => (ok === true ? false : ok));
const moduleUrl = (name: string): string => new URL(`../../src/snapshots/${name}.js`, import.meta.url).href;

snapshotterConformance('overlay', (root) => OverlaySnapshotter.open(root), {
  tmpBase,
  skip: overlaySkip,
  child: { moduleUrl: moduleUrl('overlay'), exportName: 'OverlaySnapshotter' },
});
snapshotterConformance('native', (root) => NativeSnapshotter.open(root), {
  tmpBase,
  skip: isRoot ? false : 'needs root (mounts)',
  child: { moduleUrl: moduleUrl('native'), exportName: 'NativeSnapshotter' },
});

describe('overlay specifics', { skip: overlaySkip }, () => {
  let n = 0;
  const open = async (): Promise<Snapshotter> => OverlaySnapshotter.open(join(tmpBase, `overlay-${++n}`));

  test('mount shapes: bind without parents, upper over lowers, views by chain length', async () => {
    const s = await open();
    const root = join(tmpBase, `overlay-${n}`, 'snapshots');
    assert.deepEqual(await s.prepare('a'), [{ type: 'bind', source: `${root}/1/fs`, options: ['rw', 'rbind', OVERLAY_STYLE_OPTION] }]);
    assert.deepEqual(writableDir(await s.mounts('a')), { dir: `${root}/1/fs`, style: 'overlay' });
    await s.commit('l1', 'a');
    const [m] = await s.prepare('b', 'l1');
    assert.equal(m!.type, 'overlay');
    assert.deepEqual(m!.options.slice(-3), [`workdir=${root}/2/work`, `upperdir=${root}/2/fs`, `lowerdir=${root}/1/fs`]);
    assert.ok(m!.options.includes('index=off'));
    assert.deepEqual(writableDir([m!]), { dir: `${root}/2/fs`, style: 'overlay' });
    await s.commit('l2', 'b');
    assert.deepEqual(await s.view('v0'), [{ type: 'bind', source: `${root}/3/fs`, options: ['ro', 'rbind'] }]);
    assert.deepEqual(await s.view('v1', 'l1'), [{ type: 'bind', source: `${root}/1/fs`, options: ['ro', 'rbind'] }]);
    const [v2] = await s.view('v2', 'l2');
    assert.equal(v2!.type, 'overlay');
    assert.equal(v2!.options.at(-1), `lowerdir=${root}/2/fs:${root}/1/fs`);
    assert.ok(!v2!.options.some((o) => o.startsWith('upperdir=')));
    await s.close();
  });

  test(`at most ${OVERLAY_MAX_LAYERS} lower layers; the deepest chain still mounts`, async () => {
    const s = await open();
    let parent: string | undefined;
    for (let i = 0; i < OVERLAY_MAX_LAYERS; i++) {
      const { dir } = writableDir(await s.prepare(`k${i}`, parent));
      await writeFile(join(dir, `f${i}`), '');
      await s.commit(`l${i}`, `k${i}`);
      parent = `l${i}`;
    }
    const deepest = await s.prepare('top', parent);
    await withTempMount(deepest, async (dir) => writeFile(join(dir, 'ok'), 'x'), { tmpRoot: tmpBase });
    await s.commit('l500', 'top');
    await assert.rejects(s.prepare('too-deep', 'l500'), (e: unknown) => isBerthError(e, 'InvalidArgument') && /at most 500/.test((e as Error).message));
    await s.close();
  });

  test('an unusable root is reported, not thrown', async () => {
    assert.match(String(await overlaySupported(join(tmpBase, 'bad,root'))), /contains/);
    await assert.rejects(OverlaySnapshotter.open(join(tmpBase, 'bad:root')), (e: unknown) => isBerthError(e, 'Unavailable'));
  });
});

describe('compactOverlayOptions', () => {
  const dirs = Array.from({ length: 200 }, (_, i) => `/var/lib/berth/snapshots/${i + 1}/fs`);

  test('short options are left alone', () => {
    const opts = ['index=off', `lowerdir=${dirs.slice(0, 3).join(':')}`];
    assert.deepEqual(compactOverlayOptions(opts), { options: opts });
  });

  test('long lowerdir (and upper/work below the same dir) become relative', () => {
    const opts = ['index=off', 'workdir=/var/lib/berth/snapshots/300/work', 'upperdir=/var/lib/berth/snapshots/300/fs', `lowerdir=${dirs.join(':')}`];
    const { cwd, options } = compactOverlayOptions(opts);
    assert.equal(cwd, '/var/lib/berth/snapshots');
    assert.deepEqual(options.slice(0, 3), ['index=off', 'workdir=300/work', 'upperdir=300/fs']);
    assert.equal(options[3], `lowerdir=${dirs.map((_, i) => `${i + 1}/fs`).join(':')}`);
    assert.ok(options.join(',').length < 4096);
  });

  test('an upper dir elsewhere stays absolute', () => {
    const opts = ['upperdir=/elsewhere/fs', `lowerdir=${dirs.join(':')}`];
    assert.deepEqual(compactOverlayOptions(opts).options[0], 'upperdir=/elsewhere/fs');
  });
});
