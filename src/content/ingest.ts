// The on-disk state of one ingest: ingest/<sha256(ref)>/{ref, data, startedat, total?, expected?}.
// The files besides data are small facts written once when the ingest starts;
// anything odd about them on resume means "start over", never "trust the data".
import { createReadStream } from 'node:fs';
import { lstat, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createHash, type Hash } from 'node:crypto';
import { errnoCode } from '../util/errors.js';
import { isDigest, type Digest, type DigestAlgorithm } from '../util/digest.js';
import { fsError } from '../util/fs-errors.js';

export interface IngestExpected {
  digest?: Digest;
  size?: number;
}

export interface IngestState {
  ref: string;
  startedAt: Date;
  updatedAt: Date;
  expected: IngestExpected;
  /** Size of data: where the ingest resumes. */
  offset: number;
  /** More than 1 once data has been linked into blobs/ (a commit interrupted before cleanup). */
  links: number;
}

export const dataPath = (dir: string): string => join(dir, 'data');

/** Read an ingest dir; undefined if it is absent or not a usable ingest. */
export async function readIngest(dir: string): Promise<IngestState | undefined> {
  try {
    const [ref, started, data] = await Promise.all([
      readFile(join(dir, 'ref'), 'utf8'),
      readFile(join(dir, 'startedat'), 'utf8'),
      lstat(dataPath(dir)),
    ]);
    if (!data.isFile()) return undefined;
    const startedAt = new Date(started.trim());
    if (Number.isNaN(startedAt.getTime())) return undefined;
    return {
      ref,
      startedAt,
      updatedAt: data.mtime,
      expected: await readExpected(dir),
      offset: data.size,
      links: data.nlink,
    };
  } catch (err) {
    if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') return undefined;
    throw fsError(err, `reading ingest ${dir}`);
  }
}

async function readExpected(dir: string): Promise<IngestExpected> {
  const expected: IngestExpected = {};
  const total = await readOptional(join(dir, 'total'));
  if (total !== undefined && /^\d+$/.test(total.trim())) expected.size = Number(total.trim());
  const digest = (await readOptional(join(dir, 'expected')))?.trim();
  if (digest !== undefined && isDigest(digest)) expected.digest = digest;
  return expected;
}

async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw err;
  }
}

/** Start an ingest from nothing, replacing whatever the dir held. */
export async function createIngest(dir: string, ref: string, expected: IngestExpected, now = new Date()): Promise<IngestState> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { mode: 0o700 });
  await writeFile(join(dir, 'ref'), ref);
  await writeFile(join(dir, 'startedat'), `${now.toISOString()}\n`);
  await writeExpected(dir, expected);
  await writeFile(dataPath(dir), new Uint8Array(0), { mode: 0o644 });
  return { ref, startedAt: now, updatedAt: now, expected, offset: 0, links: 1 };
}

export async function writeExpected(dir: string, expected: IngestExpected): Promise<void> {
  if (expected.size !== undefined) await writeFile(join(dir, 'total'), `${expected.size}\n`);
  if (expected.digest !== undefined) await writeFile(join(dir, 'expected'), `${expected.digest}\n`);
}

export async function removeIngest(dir: string): Promise<void> {
  try {
    await rm(dir, { recursive: true, force: true });
  } catch (err) {
    throw fsError(err, `removing ingest ${dir}`);
  }
}

/** Hash a file from the start: how a resumed ingest rebuilds its digest state. */
export async function hashFile(path: string, algorithm: DigestAlgorithm): Promise<{ hash: Hash; size: number }> {
  const hash = createHash(algorithm);
  let size = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { hash, size };
}
