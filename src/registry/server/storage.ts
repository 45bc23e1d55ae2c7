// Filesystem storage of `berth registry serve`.
//
// Layout under the root (--root, default /var/lib/berth/registry):
//
//   blobs/<alg>/<hex>                   every blob and every manifest body, once per digest,
//                                       shared by all repositories; 0444; only ever created
//                                       by renaming a verified, fsynced file into place
//   repositories/<name>/                one directory per repository; <name> may have
//                                       several components (library/busybox → two levels)
//     _blobs/<alg>/<hex>                link: the blob belongs to this repository (pushed
//                                       or mounted here); content is the digest
//     _manifests/<alg>/<hex>            link: the manifest belongs to this repository;
//                                       JSON {"mediaType","size"} — the media type it was
//                                       pushed with, returned as Content-Type
//     _tags/<tag>                       the digest the tag points to (one line)
//     _referrers/<alg>/<hex>/<alg>-<hex>
//                                       a manifest of this repository whose subject is
//                                       <alg>:<hex> (the directory); JSON: its descriptor
//                                       as the referrers API lists it
//   uploads/<uuid>/data, info.json      a blob upload in progress (see uploads.ts)
//   tmp/                                temporary files on the same filesystem as blobs/
//   registry.lock                       held by a writable server and by gc (lockfile.ts)
//
// Names beginning with "_" cannot be repository components (the name grammar starts
// every component with [a-z0-9]), so repositories nest without colliding with the
// link directories — distribution's trick. Dot-files are temporary files and are
// skipped by every listing (no tag starts with a dot).
//
// Every commit is atomic: write a temporary file in the target directory (or tmp/),
// fsync it, rename it into place, fsync the directory. A blob is visible only once its
// digest has been verified; a link is written only after its blob exists; a tag only
// after its manifest link. A crash therefore leaves at worst an unreferenced blob or an
// unused link, which gc removes, never a name pointing at missing or partial content.
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { access, mkdir, open, readdir, readFile, rename, rm, stat, unlink, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { isDigest, type Digest } from '../../util/digest.js';
import { errnoCode, invalidArgument } from '../../util/errors.js';
import { fsError } from '../../util/fs-errors.js';
import { ByteLru } from './lru.js';
import { isRepositoryName, isTag } from './names.js';

export interface ManifestLink {
  digest: Digest;
  mediaType: string;
  size: number;
}

/** A referrer as the referrers API lists it (OCI image index entry). */
export interface ReferrerDescriptor {
  mediaType: string;
  digest: Digest;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
}

export interface OpenBlob {
  file: FileHandle;
  size: number;
}

const HEX_RE = /^[a-f0-9]+$/;
const ALGORITHMS = ['sha256', 'sha512'] as const;

export class RegistryStorage {
  readonly blobsDir: string;
  readonly reposDir: string;
  readonly uploadsDir: string;
  readonly tmpDir: string;
  readonly lockPath: string;
  // Manifests are read on every pull and never change under their digest.
  private readonly manifestBodies = new ByteLru<Buffer>(32 * 1024 * 1024, 4 * 1024 * 1024);

  constructor(readonly root: string) {
    this.blobsDir = join(root, 'blobs');
    this.reposDir = join(root, 'repositories');
    this.uploadsDir = join(root, 'uploads');
    this.tmpDir = join(root, 'tmp');
    this.lockPath = join(root, 'registry.lock');
  }

  /** Create the top-level directories (a writable server, gc). */
  async init(): Promise<void> {
    for (const d of [this.root, this.blobsDir, this.reposDir, this.uploadsDir, this.tmpDir]) await ensureDir(d);
  }

  /** Remove temporary files left by a crash; only while holding the lock. */
  async clearTmp(): Promise<void> {
    for (const name of await listDir(this.tmpDir)) await rm(join(this.tmpDir, name), { recursive: true, force: true });
  }

  // ---------------------------------------------------------------- paths

  blobPath(digest: Digest): string {
    const [alg, hex] = splitDigest(digest);
    return join(this.blobsDir, alg, hex);
  }

  repoDir(name: string): string {
    // Callers validate, but a path is never built from an unchecked name.
    if (!isRepositoryName(name)) throw invalidArgument(`invalid repository name "${name.slice(0, 300)}"`);
    return join(this.reposDir, ...name.split('/'));
  }

  private blobLinkPath(name: string, digest: Digest): string {
    const [alg, hex] = splitDigest(digest);
    return join(this.repoDir(name), '_blobs', alg, hex);
  }

  private manifestLinkPath(name: string, digest: Digest): string {
    const [alg, hex] = splitDigest(digest);
    return join(this.repoDir(name), '_manifests', alg, hex);
  }

  private tagPath(name: string, tag: string): string {
    if (!isTag(tag)) throw invalidArgument(`invalid tag "${tag.slice(0, 200)}"`);
    return join(this.repoDir(name), '_tags', tag);
  }

  private referrersDir(name: string, subject: Digest): string {
    const [alg, hex] = splitDigest(subject);
    return join(this.repoDir(name), '_referrers', alg, hex);
  }

  uploadDir(id: string): string {
    return join(this.uploadsDir, id);
  }

  // ---------------------------------------------------------------- blobs

  /** Size of a stored blob, or undefined when there is none. */
  async blobSize(digest: Digest): Promise<number | undefined> {
    try {
      return (await stat(this.blobPath(digest))).size;
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return undefined;
      throw fsError(err, `reading blob ${digest}`);
    }
  }

  async openBlob(digest: Digest): Promise<OpenBlob | undefined> {
    let file: FileHandle;
    try {
      file = await open(this.blobPath(digest), constants.O_RDONLY);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return undefined;
      throw fsError(err, `opening blob ${digest}`);
    }
    try {
      return { file, size: (await file.stat()).size };
    } catch (err) {
      await file.close();
      throw fsError(err, `reading blob ${digest}`);
    }
  }

  /** A small blob's bytes (manifests); undefined when missing. */
  async readBlob(digest: Digest): Promise<Buffer | undefined> {
    const cached = this.manifestBodies.get(digest);
    if (cached) return cached;
    try {
      const data = await readFile(this.blobPath(digest));
      this.manifestBodies.set(digest, data);
      return data;
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return undefined;
      throw fsError(err, `reading blob ${digest}`);
    }
  }

  /**
   * Make a verified, fsynced file the blob `digest` (renamed, so the file is consumed).
   * When the blob already exists the file is removed instead: same digest, same bytes.
   */
  async commitBlobFile(file: string, digest: Digest): Promise<void> {
    const target = this.blobPath(digest);
    try {
      if ((await this.blobSize(digest)) !== undefined) {
        await rm(file, { force: true });
        return;
      }
      await ensureDir(dirname(target));
      await rename(file, target);
      await fsyncDir(dirname(target));
    } catch (err) {
      throw fsError(err, `storing blob ${digest}`);
    }
  }

  /** Store small verified bytes (a manifest body) as a blob. */
  async putBlobBytes(digest: Digest, bytes: Uint8Array): Promise<void> {
    if ((await this.blobSize(digest)) !== undefined) return;
    const tmp = join(this.tmpDir, `${digest.replace(':', '-')}.${randomBytes(6).toString('hex')}`);
    await writeSynced(tmp, bytes, 0o444);
    await this.commitBlobFile(tmp, digest);
  }

  async deleteBlob(digest: Digest): Promise<void> {
    this.manifestBodies.delete(digest);
    await removeFile(this.blobPath(digest), `removing blob ${digest}`);
  }

  /** Every stored blob, with its size. */
  async listBlobs(): Promise<{ digest: Digest; size: number }[]> {
    const out: { digest: Digest; size: number }[] = [];
    for (const alg of ALGORITHMS) {
      for (const hex of await listDir(join(this.blobsDir, alg))) {
        const digest = `${alg}:${hex}`;
        if (!isDigest(digest)) continue;
        const size = await this.blobSize(digest);
        if (size !== undefined) out.push({ digest, size });
      }
    }
    return out;
  }

  // ---------------------------------------------------------------- blob links

  async hasBlobLink(name: string, digest: Digest): Promise<boolean> {
    return exists(this.blobLinkPath(name, digest));
  }

  async linkBlob(name: string, digest: Digest): Promise<void> {
    if (await this.hasBlobLink(name, digest)) return;
    await writeAtomic(this.blobLinkPath(name, digest), `${digest}\n`);
  }

  /** Remove the link; false when there was none. */
  async unlinkBlob(name: string, digest: Digest): Promise<boolean> {
    return removeFile(this.blobLinkPath(name, digest), `removing blob link ${name}@${digest}`);
  }

  async listBlobLinks(name: string): Promise<Digest[]> {
    return listDigests(join(this.repoDir(name), '_blobs'));
  }

  // ---------------------------------------------------------------- manifests

  async getManifestLink(name: string, digest: Digest): Promise<ManifestLink | undefined> {
    const text = await readOptional(this.manifestLinkPath(name, digest), `reading manifest link ${name}@${digest}`);
    if (text === undefined) return undefined;
    let doc: { mediaType?: unknown; size?: unknown };
    try {
      doc = JSON.parse(text) as typeof doc;
    } catch {
      return undefined; // links are written atomically; this one was not written by us
    }
    if (typeof doc.mediaType !== 'string' || typeof doc.size !== 'number') return undefined;
    return { digest, mediaType: doc.mediaType, size: doc.size };
  }

  async putManifestLink(name: string, link: ManifestLink): Promise<void> {
    await writeAtomic(this.manifestLinkPath(name, link.digest), JSON.stringify({ mediaType: link.mediaType, size: link.size }));
  }

  async deleteManifestLink(name: string, digest: Digest): Promise<boolean> {
    return removeFile(this.manifestLinkPath(name, digest), `removing manifest ${name}@${digest}`);
  }

  async listManifestLinks(name: string): Promise<Digest[]> {
    return listDigests(join(this.repoDir(name), '_manifests'));
  }

  // ---------------------------------------------------------------- tags

  async resolveTag(name: string, tag: string): Promise<Digest | undefined> {
    const digest = (await readOptional(this.tagPath(name, tag), `reading tag ${name}:${tag}`))?.trim();
    if (digest === undefined) return undefined;
    return isDigest(digest) ? digest : undefined;
  }

  async putTag(name: string, tag: string, digest: Digest): Promise<void> {
    await writeAtomic(this.tagPath(name, tag), `${digest}\n`);
  }

  async deleteTag(name: string, tag: string): Promise<boolean> {
    return removeFile(this.tagPath(name, tag), `removing tag ${name}:${tag}`);
  }

  /** Tags of the repository, sorted; undefined when the repository does not exist. */
  async listTags(name: string): Promise<string[] | undefined> {
    if (!(await this.repositoryExists(name))) return undefined;
    const tags = (await listDir(join(this.repoDir(name), '_tags'))).filter(isTag);
    return tags.sort(compareBytes);
  }

  // ---------------------------------------------------------------- referrers

  async addReferrer(name: string, subject: Digest, desc: ReferrerDescriptor): Promise<void> {
    const [alg, hex] = splitDigest(desc.digest);
    await writeAtomic(join(this.referrersDir(name, subject), `${alg}-${hex}`), JSON.stringify(desc));
  }

  async removeReferrer(name: string, subject: Digest, referrer: Digest): Promise<void> {
    const [alg, hex] = splitDigest(referrer);
    await removeFile(join(this.referrersDir(name, subject), `${alg}-${hex}`), `removing referrer ${referrer}`);
  }

  /** Referrers of `subject` whose manifests are still in the repository, sorted by digest. */
  async listReferrers(name: string, subject: Digest): Promise<ReferrerDescriptor[]> {
    const dir = this.referrersDir(name, subject);
    const out: ReferrerDescriptor[] = [];
    for (const file of (await listDir(dir)).sort()) {
      const digest = file.replace('-', ':');
      if (!isDigest(digest)) continue;
      let desc: ReferrerDescriptor;
      try {
        desc = JSON.parse(await readFile(join(dir, file), 'utf8')) as ReferrerDescriptor;
      } catch (err) {
        if (errnoCode(err) === 'ENOENT' || err instanceof SyntaxError) continue;
        throw fsError(err, `reading referrer ${digest}`);
      }
      if (desc.digest !== digest) continue;
      if (await exists(this.manifestLinkPath(name, digest))) out.push(desc);
    }
    return out;
  }

  /** Subjects that have referrer entries in the repository (gc). */
  async listReferrerSubjects(name: string): Promise<Digest[]> {
    return listDigests(join(this.repoDir(name), '_referrers'));
  }

  // ---------------------------------------------------------------- repositories

  async repositoryExists(name: string): Promise<boolean> {
    const dir = this.repoDir(name);
    return (await exists(join(dir, '_manifests'))) || (await exists(join(dir, '_tags')));
  }

  /**
   * Every repository with manifests, sorted (the catalog); with `withoutManifests`, also
   * those holding only blob links or tags (gc sweeps those too).
   */
  async listRepositories(withoutManifests = false): Promise<string[]> {
    const out: string[] = [];
    const marks = withoutManifests ? ['_manifests', '_blobs', '_tags'] : ['_manifests'];
    const walk = async (dir: string, prefix: string): Promise<void> => {
      const entries = await listDir(dir);
      if (prefix !== '' && marks.some((m) => entries.includes(m))) out.push(prefix);
      for (const e of entries) {
        if (e.startsWith('_') || e.startsWith('.')) continue;
        const name = prefix === '' ? e : `${prefix}/${e}`;
        if (isRepositoryName(name)) await walk(join(dir, e), name);
      }
    };
    await walk(this.reposDir, '');
    return out.sort(compareBytes);
  }
}

// -------------------------------------------------------------------- helpers

function splitDigest(digest: Digest): [string, string] {
  if (!isDigest(digest)) throw invalidArgument(`invalid digest "${String(digest).slice(0, 200)}"`);
  const i = digest.indexOf(':');
  return [digest.slice(0, i), digest.slice(i + 1)];
}

/** Byte order, which is what "lexically sorted" means for ASCII names and tags. */
export function compareBytes(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOENT' || code === 'ENOTDIR') return false;
    throw fsError(err, `looking at ${path}`);
  }
}

/** Entries of a directory except dot-files; [] when it does not exist. */
async function listDir(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).filter((n) => !n.startsWith('.'));
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOENT' || code === 'ENOTDIR') return [];
    throw fsError(err, `listing ${dir}`);
  }
}

/** Digests stored as <dir>/<alg>/<hex>. */
async function listDigests(dir: string): Promise<Digest[]> {
  const out: Digest[] = [];
  for (const alg of ALGORITHMS) {
    for (const hex of await listDir(join(dir, alg))) {
      const d = `${alg}:${hex}`;
      if (HEX_RE.test(hex) && isDigest(d)) out.push(d);
    }
  }
  return out.sort(compareBytes);
}

/** A small file's text; undefined when it (or a directory above it) is not there. */
async function readOptional(path: string, doing: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw fsError(err, doing);
  }
}

/** Remove a file; false when it was not there. */
async function removeFile(path: string, doing: string): Promise<boolean> {
  try {
    await unlink(path);
    return true;
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOENT' || code === 'ENOTDIR') return false;
    throw fsError(err, doing);
  }
}

/** mkdir -p, then fsync the parent of every directory it created, so the new entries survive a crash. */
export async function ensureDir(dir: string): Promise<void> {
  let first: string | undefined;
  try {
    first = await mkdir(dir, { recursive: true });
  } catch (err) {
    throw fsError(err, `creating ${dir}`);
  }
  if (first === undefined) return;
  for (let d = dir; ; d = dirname(d)) {
    await fsyncDir(dirname(d));
    if (d === first || dirname(d) === d) break;
  }
}

export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function writeSynced(path: string, data: string | Uint8Array, mode: number): Promise<void> {
  const fh = await open(path, 'wx', mode);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } catch (err) {
    await fh.close();
    await rm(path, { force: true });
    throw err;
  }
  await fh.close();
}

/** Write temp, fsync, rename, fsync the directory (creating the directory first). */
export async function writeAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const dir = dirname(path);
  const tmp = join(dir, `.tmp-${randomBytes(8).toString('hex')}`);
  try {
    await ensureDir(dir);
    await writeSynced(tmp, data, 0o644);
    try {
      await rename(tmp, path);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
    await fsyncDir(dir);
  } catch (err) {
    throw fsError(err, `writing ${path}`);
  }
}
