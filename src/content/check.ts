// Read-only inspection of a store: what is wrong, and what is merely left over.
// Nothing here changes a file; repairs are gc's, abortIngest's or a human's.
import { join, relative } from 'node:path';
import { isDigest, type Digest } from '../util/digest.js';
import { hashOpenBlob, lstatOrUndefined, openBlob, readdirOrEmpty } from './blob-files.js';
import { dataPath, readIngest } from './ingest.js';
import { gcRefs, scanMeta } from './labels.js';
import { ALGORITHMS, ingestKey, type Layout } from './layout.js';
import { isExpired, readLeases } from './leases.js';
import { lockHolder, parseSideFile, pidAlive } from '../util/lockfile.js';
import type { Problem, ProblemSeverity } from './types.js';

export interface VerifyResult {
  ok: boolean;
  problem?: string;
}

/** Re-hash one blob against its name. */
export async function verifyBlob(layout: Layout, digest: Digest): Promise<VerifyResult> {
  const { file } = await openBlob(layout.blobPath(digest), digest);
  try {
    const got = await hashOpenBlob(file, digest);
    return got === digest ? { ok: true } : { ok: false, problem: `content hashes to ${got}` };
  } finally {
    await file.close();
  }
}

export async function checkStore(layout: Layout): Promise<Problem[]> {
  const report = new Report(layout.root);
  await checkBlobs(layout, report);
  await checkMeta(layout, report);
  await checkIngests(layout, report);
  await checkLeases(layout, report);
  await checkLocks(layout, report);
  return report.problems;
}

class Report {
  readonly problems: Problem[] = [];
  constructor(private readonly root: string) {}

  add(severity: ProblemSeverity, path: string, message: string, digest?: Digest): void {
    const p: Problem = { severity, path: relative(this.root, path), message };
    if (digest) p.digest = digest;
    this.problems.push(p);
  }
}

async function checkUnknownDirs(parent: string, report: Report, what: string): Promise<void> {
  for (const name of await readdirOrEmpty(parent)) {
    if (!(ALGORITHMS as readonly string[]).includes(name)) report.add('error', join(parent, name), `unknown ${what} algorithm directory`);
  }
}

async function checkBlobs(layout: Layout, report: Report): Promise<void> {
  await checkUnknownDirs(layout.blobs, report, 'blob');
  for (const alg of ALGORITHMS) {
    const dir = join(layout.blobs, alg);
    for (const name of await readdirOrEmpty(dir)) {
      const path = join(dir, name);
      const digest = `${alg}:${name}`;
      if (!isDigest(digest)) report.add('error', path, `not a ${alg} digest: a blob's name must be its hex digest`);
      else await checkBlob(layout, path, digest, report);
    }
  }
}

async function checkBlob(layout: Layout, path: string, digest: Digest, report: Report): Promise<void> {
  const st = await lstatOrUndefined(path);
  if (!st) return; // removed while we looked
  if (!st.isFile()) {
    report.add('error', path, 'not a regular file', digest);
    return;
  }
  if ((st.mode & 0o222) !== 0) report.add('warning', path, `writable (mode ${(st.mode & 0o777).toString(8)}); blobs are 0444`, digest);
  try {
    const v = await verifyBlob(layout, digest);
    if (!v.ok) report.add('error', path, `size ${st.size}: ${v.problem ?? 'corrupt'}`, digest);
  } catch (err) {
    report.add('error', path, `cannot read: ${err instanceof Error ? err.message : String(err)}`, digest);
  }
}

async function checkMeta(layout: Layout, report: Report): Promise<void> {
  await checkUnknownDirs(layout.meta, report, 'meta');
  for (const alg of ALGORITHMS) {
    const dir = join(layout.meta, alg);
    for (const name of await readdirOrEmpty(dir)) {
      const ok = name.endsWith('.json') && isDigest(`${alg}:${name.slice(0, -5)}`);
      if (ok) continue;
      const leftover = name.startsWith('.') && name.endsWith('.tmp');
      report.add(leftover ? 'info' : 'error', join(dir, name), leftover ? 'leftover temporary file' : 'not <hex>.json');
    }
  }
  const scan = await scanMeta(layout);
  for (const b of scan.broken) report.add('error', b.path, `unreadable labels: ${String(b.error)}`);
  for (const [digest, labels] of scan.labels) {
    const path = layout.metaPath(digest);
    if (!(await lstatOrUndefined(layout.blobPath(digest)))) report.add('warning', path, 'labels of a blob that is not in the store', digest);
    for (const ref of gcRefs(labels)) {
      if (!(await lstatOrUndefined(layout.blobPath(ref)))) report.add('info', path, `refers to missing blob ${ref}`, digest);
    }
  }
}

async function checkIngests(layout: Layout, report: Report): Promise<void> {
  for (const name of await readdirOrEmpty(layout.ingest)) {
    const dir = join(layout.ingest, name);
    const state = await readIngest(dir);
    if (!state) {
      report.add('warning', dir, 'unusable ingest (files missing); abortIngest or cleanIngests removes it');
      continue;
    }
    if (ingestKey(state.ref) !== name) {
      report.add('error', dir, `ingest dir does not match its ref ${JSON.stringify(state.ref)}`);
      continue;
    }
    const holder = await lockHolder(layout.ingestLockByKey(name));
    const what = `ingest ${JSON.stringify(state.ref)}: ${state.offset} bytes, last written ${state.updatedAt.toISOString()}`;
    if (state.links > 1) report.add('info', dataPath(dir), `${what}; committed but not cleaned up`);
    else if (holder) report.add('info', dir, `${what}; in progress (pid ${holder.pid})`);
    else report.add('info', dir, `stale ${what}`);
  }
}

async function checkLeases(layout: Layout, report: Report): Promise<void> {
  const { leases, broken } = await readLeases(layout.leases);
  for (const b of broken) report.add('error', join(layout.leases, b.name), `unreadable lease: ${String(b.error)}`);
  for (const l of leases) if (isExpired(l)) report.add('info', layout.leasePath(l.id), `lease ${l.id} expired; the next gc removes it`);
}

async function checkLocks(layout: Layout, report: Report): Promise<void> {
  for (const name of await readdirOrEmpty(layout.locks)) {
    const path = join(layout.locks, name);
    const side = parseSideFile(name);
    if (side) {
      // A live process's side file is a stale lock being broken right now.
      if (!pidAlive(side.pid)) report.add('info', path, 'leftover lock temporary file (its process is gone); cleanIngests removes it');
    } else if (!name.endsWith('.lock') && !name.endsWith('.lock.break')) report.add('info', path, 'leftover lock temporary file');
    else if ((await lstatOrUndefined(path)) && !(await lockHolder(path))) report.add('info', path, 'stale lock (its process is gone); the next taker breaks it');
  }
}
