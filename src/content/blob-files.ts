// Reading what is under blobs/: listing, opening without following links, hashing.
import { constants, type Stats } from 'node:fs';
import { lstat, open, readdir, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { errnoCode, internal, notFound } from '../util/errors.js';
import { isDigest, parseDigest, type Digest } from '../util/digest.js';
import { fsError } from '../util/fs-errors.js';
import { ALGORITHMS, type Layout } from './layout.js';

export interface BlobFile {
  digest: Digest;
  path: string;
}

/** Blobs with well-formed names; anything else is for check() to report, not for us to touch. */
export async function listBlobs(layout: Layout): Promise<BlobFile[]> {
  const out: BlobFile[] = [];
  for (const alg of ALGORITHMS) {
    const dir = join(layout.blobs, alg);
    for (const name of await readdirOrEmpty(dir)) {
      const digest = `${alg}:${name}`;
      if (isDigest(digest)) out.push({ digest, path: join(dir, name) });
    }
  }
  return out;
}

export async function readdirOrEmpty(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).sort();
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return [];
    throw fsError(err, `listing ${dir}`);
  }
}

export async function lstatOrUndefined(path: string): Promise<Stats | undefined> {
  try {
    return await lstat(path);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw fsError(err, `inspecting ${path}`);
  }
}

/** Open a blob for reading; never through a symlink planted in blobs/. */
export async function openBlob(path: string, digest: Digest): Promise<{ file: FileHandle; size: number }> {
  let file: FileHandle;
  try {
    file = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') throw notFound(`blob ${digest} not found`, err);
    if (errnoCode(err) === 'ELOOP') throw internal(`blob ${digest} is a symlink, not a blob`, err);
    throw fsError(err, `opening blob ${digest}`);
  }
  const st = await file.stat();
  if (!st.isFile()) {
    await file.close();
    throw internal(`blob ${digest} is not a regular file`);
  }
  return { file, size: st.size };
}

/** Re-hash an open blob in the algorithm its name uses. */
export async function hashOpenBlob(file: FileHandle, digest: Digest): Promise<Digest> {
  const { algorithm } = parseDigest(digest);
  const hash = createHash(algorithm);
  for await (const chunk of file.createReadStream({ start: 0, autoClose: false, highWaterMark: 1 << 20 })) {
    hash.update(chunk as Buffer);
  }
  return `${algorithm}:${hash.digest('hex')}`;
}
