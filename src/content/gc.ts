// Mark and sweep over blobs. The caller holds the store lock: nothing gc reads
// (blobs, labels, leases) can change between mark and sweep.
import { unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fsyncDir } from '../util/atomic.js';
import { errnoCode, internal } from '../util/errors.js';
import type { Digest } from '../util/digest.js';
import { listBlobs, lstatOrUndefined } from './blob-files.js';
import { fsError } from '../util/fs-errors.js';
import { GC_ROOT_LABEL, gcRefs, scanMeta } from './labels.js';
import type { Layout } from './layout.js';
import { isExpired, readLeases } from './leases.js';
import type { GcResult, Labels, Lease } from './types.js';

export async function collectGarbage(layout: Layout, roots: Digest[], dryRun: boolean): Promise<GcResult> {
  const meta = await scanMeta(layout);
  const { leases, broken } = await readLeases(layout.leases);
  // An unreadable label or lease file may be the only thing keeping a blob alive.
  const unreadable = [...meta.broken.map((b) => b.path), ...broken.map((b) => `${layout.leases}/${b.name}`)];
  if (unreadable.length > 0) {
    throw internal(`refusing to collect garbage: cannot read ${unreadable.join(', ')} (see check)`);
  }
  const now = Date.now();
  const live = leases.filter((l) => !isExpired(l, now));
  const marked = mark(startSet(roots, meta.labels, live), meta.labels);
  const result = await sweep(layout, marked, dryRun);
  if (!dryRun) {
    await dropOrphanMeta(layout, meta.labels);
    await dropExpiredLeases(layout, leases.filter((l) => isExpired(l, now)));
  }
  return result;
}

function startSet(roots: Digest[], labels: Map<Digest, Labels>, leases: Lease[]): Digest[] {
  const start = [...roots, ...leases.flatMap((l) => l.resources)];
  for (const [digest, l] of labels) if (l[GC_ROOT_LABEL] !== undefined) start.push(digest);
  return start;
}

/** Everything reachable from start through gc.ref labels. */
export function mark(start: Iterable<Digest>, labels: Map<Digest, Labels>): Set<Digest> {
  const marked = new Set<Digest>();
  const todo = [...start];
  for (let d = todo.pop(); d !== undefined; d = todo.pop()) {
    if (marked.has(d)) continue;
    marked.add(d);
    todo.push(...gcRefs(labels.get(d) ?? {}));
  }
  return marked;
}

async function sweep(layout: Layout, marked: Set<Digest>, dryRun: boolean): Promise<GcResult> {
  const result: GcResult = { removed: [], bytes: 0 };
  const touched = new Set<string>();
  for (const { digest, path } of await listBlobs(layout)) {
    if (marked.has(digest)) continue;
    const st = await lstatOrUndefined(path);
    if (!st?.isFile()) continue; // not a blob check() would accept; leave it for a human
    if (!dryRun) {
      await removeFile(path);
      await removeFile(layout.metaPath(digest));
      touched.add(dirname(path));
    }
    result.removed.push(digest);
    result.bytes += st.size;
  }
  for (const dir of touched) fsyncDir(dir);
  return result;
}

async function dropOrphanMeta(layout: Layout, labels: Map<Digest, Labels>): Promise<void> {
  for (const digest of labels.keys()) {
    if (!(await lstatOrUndefined(layout.blobPath(digest)))) await removeFile(layout.metaPath(digest));
  }
}

async function dropExpiredLeases(layout: Layout, expired: Lease[]): Promise<void> {
  for (const lease of expired) await removeFile(layout.leasePath(lease.id));
}

async function removeFile(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw fsError(err, `removing ${path}`);
  }
}
