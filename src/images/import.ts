// `docker import` (a rootfs tarball becomes a one-layer image), `docker commit` (a
// container's changes become a new layer on its image) and `docker export` (a
// container's whole filesystem as a tar).
import { randomBytes } from 'node:crypto';
import type { ImageConfig } from '../oci/image-spec.js';
import { mkdtemp, rmdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mountAll, unmount, withTempMount } from '../snapshots/mount.js';
import { writableDir } from '../snapshots/snapshotter.js';
import { createImage, storeLayer } from './create.js';
import { applyChanges } from './changes.js';
import { diffLayer, type DiffSource } from './layer/diff.js';
import { normalizedTag, type ImageRecord, type ImageStore } from './store.js';

export interface ImportOptions {
  ref?: string;
  changes?: string[];
  message?: string;
}

export async function importImage(store: ImageStore, tarball: AsyncIterable<Buffer>, opts: ImportOptions = {}): Promise<ImageRecord> {
  const config = applyChanges(undefined, opts.changes ?? []);
  const refs = opts.ref ? [normalizedTag(opts.ref)] : []; // a bad reference fails before any work
  return store.withLease(async (lease) =>
    createImage(
      store,
      { layer: await storeLayer(store, tarball, lease), config, history: { created_by: 'berth import', ...(opts.message ? { comment: opts.message } : {}) }, refs },
      lease,
    ),
  );
}

export interface CommitOptions extends ImportOptions {
  author?: string;
  /** Replaces the image's config before changes apply (Docker: the container's config). */
  config?: ImageConfig['config'];
}

/** The diff of an active snapshot against its parent, however the snapshotter stores it. */
async function snapshotDiff(store: ImageStore, key: string, use: (src: DiffSource) => Promise<ImageRecord>): Promise<ImageRecord> {
  const target = writableDir(await store.snapshots.mounts(key));
  if (target.style === 'overlay') return use({ style: 'overlay', upper: target.dir });
  const parent = (await store.snapshots.stat(key)).parent;
  const viewKey = `commit-view-${randomBytes(6).toString('hex')}`;
  const view = await store.snapshots.view(viewKey, parent);
  try {
    return await withTempMount(view, (lower) => use({ style: 'native', lower, upper: target.dir }));
  } finally {
    await store.snapshots.remove(viewKey);
  }
}

/** Commit the container snapshot `key` (made by prepareRootfs from `image`) as a new image. */
export async function commitSnapshot(store: ImageStore, key: string, image: ImageRecord | undefined, opts: CommitOptions = {}): Promise<ImageRecord> {
  const base = image ? await store.configOf(image) : undefined;
  const baseLayers = image ? (await store.manifestOf(image)).layers : [];
  const config = applyChanges(opts.config ?? base?.config, opts.changes ?? []);
  const refs = opts.ref ? [normalizedTag(opts.ref)] : [];
  return store.withLease((lease) =>
    snapshotDiff(store, key, async (src) =>
      createImage(
        store,
        {
          ...(base ? { base } : {}),
          baseLayers,
          layer: await storeLayer(store, diffLayer(src), lease),
          config,
          history: { created_by: 'berth commit', ...(opts.message ? { comment: opts.message } : {}) },
          ...(opts.author !== undefined ? { author: opts.author } : {}),
          refs,
        },
        lease,
      ),
    ),
  );
}

/** The whole filesystem of snapshot `key` as an uncompressed tar, read through a read-only mount. */
export async function* exportSnapshot(store: ImageStore, key: string): AsyncGenerator<Buffer> {
  const mounts = await store.snapshots.mounts(key);
  const ro = mounts.map((m) => ({ ...m, options: [...m.options.filter((o) => o !== 'rw'), 'ro'] }));
  const dir = await mkdtemp(join(tmpdir(), 'berth-export-'));
  try {
    await mountAll(ro, dir);
    try {
      yield* diffLayer({ style: 'tree', dir });
    } finally {
      await unmount(dir);
    }
  } finally {
    await rmdir(dir); // never recursive: a mount that failed to go away must not be emptied
  }
}
