// Blob uploads: a session per upload (uploads/<uuid>/{info.json,data}), bytes hashed
// as they arrive, verified against the client's digest, then renamed into blobs/.
//
// The running sha256 of each upload lives in memory between requests, so completing a
// chunked upload costs no re-read. After a restart (or for a sha512 digest) the partial
// file is hashed again instead. Each chunk is hashed into a copy of the running hash and
// becomes part of the upload only when all of it arrived: a chunk cut short is cut off
// the file again, so the session stays at the offset the client last saw acknowledged.
// Requests to one upload run one after another (a retried PATCH may overlap the one it
// replaces).
import { createHash, randomUUID, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { chmod, open, readdir, readFile, rm, stat, writeFile, type FileHandle } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import type { Digest, DigestAlgorithm } from '../../util/digest.js';
import { errnoCode } from '../../util/errors.js';
import { fsError } from '../../util/fs-errors.js';
import { inProcessQueue } from '../../util/lockfile.js';
import { registryError } from '../errors.js';
import { writeBodyToFile } from './body.js';
import { isUploadId } from './names.js';
import { ensureDir, type RegistryStorage } from './storage.js';

export interface UploadStatus {
  id: string;
  repo: string;
  /** Bytes received so far. */
  size: number;
}

/** What a Content-Range header said about a chunk: where it starts and (optionally) ends. */
export interface ChunkRange {
  start: number;
  end: number;
}

interface Live {
  hash: Hash;
  size: number;
}

interface Info {
  repo: string;
  startedAt: string;
}

const DEFAULT_ALGORITHM: DigestAlgorithm = 'sha256';

export class Uploads {
  private readonly live = new Map<string, Live>();

  constructor(private readonly storage: RegistryStorage) {}

  async create(repo: string): Promise<UploadStatus> {
    const id = randomUUID();
    const dir = this.storage.uploadDir(id);
    try {
      await ensureDir(this.storage.uploadsDir);
      await ensureDir(dir);
      await writeFile(join(dir, 'data'), new Uint8Array(0), { flag: 'wx', mode: 0o600 });
      // Written last: an upload without info.json is unknown and is purged as a leftover.
      const info: Info = { repo, startedAt: new Date().toISOString() };
      await writeFile(join(dir, 'info.json'), JSON.stringify(info), { mode: 0o600 });
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      throw fsError(err, `creating upload ${id}`);
    }
    this.live.set(id, { hash: createHash(DEFAULT_ALGORITHM), size: 0 });
    return { id, repo, size: 0 };
  }

  async status(repo: string, id: string): Promise<UploadStatus> {
    return this.serial(id, async () => ({ id, repo, size: (await this.load(repo, id)).size }));
  }

  /**
   * Append the request body. With a range, its start must be the current size (else
   * 416 with the held range) and the body must be exactly end-start+1 bytes.
   */
  async append(repo: string, id: string, req: IncomingMessage, range?: ChunkRange): Promise<UploadStatus> {
    return this.serial(id, async () => {
      const live = await this.load(repo, id);
      await this.write(id, live, req, range);
      return { id, repo, size: live.size };
    });
  }

  /**
   * Take the final body (if any), verify the digest, commit the blob and link it into
   * the repository. A mismatch cancels the upload, as distribution does: the bytes are
   * wrong and the client starts over.
   */
  async complete(repo: string, id: string, digest: Digest, req: IncomingMessage | undefined, range?: ChunkRange): Promise<number> {
    return this.serial(id, async () => {
      const live = await this.load(repo, id);
      if (req !== undefined) await this.write(id, live, req, range);
      const data = join(this.storage.uploadDir(id), 'data');
      const algorithm = digest.slice(0, digest.indexOf(':')) as DigestAlgorithm;
      const actual: Digest =
        algorithm === DEFAULT_ALGORITHM ? `${algorithm}:${live.hash.copy().digest('hex')}` : await hashFile(data, algorithm);
      if (actual !== digest) {
        await this.remove(id);
        throw registryError('DIGEST_INVALID', 'provided digest did not match uploaded content', {
          detail: { expected: digest, actual, size: live.size },
        });
      }
      try {
        const fh = await open(data, 'r');
        try {
          await fh.sync();
        } finally {
          await fh.close();
        }
        await chmod(data, 0o444);
      } catch (err) {
        throw fsError(err, `committing upload ${id}`);
      }
      await this.storage.commitBlobFile(data, digest);
      await this.remove(id);
      await this.storage.linkBlob(repo, digest);
      return live.size;
    });
  }

  /** Monolithic upload (POST ?digest= with the body): a session that lives for one request. */
  async putWhole(repo: string, digest: Digest, req: IncomingMessage): Promise<number> {
    const { id } = await this.create(repo);
    try {
      return await this.complete(repo, id, digest, req);
    } catch (err) {
      await this.remove(id);
      throw err;
    }
  }

  async cancel(repo: string, id: string): Promise<void> {
    await this.serial(id, async () => {
      await this.load(repo, id);
      await this.remove(id);
    });
  }

  /** Remove sessions started before maxAgeMs ago, and leftovers of crashed creates. */
  async purgeStale(maxAgeMs: number): Promise<string[]> {
    const removed: string[] = [];
    let names: string[];
    try {
      names = await readdir(this.storage.uploadsDir);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return removed;
      throw fsError(err, 'listing uploads');
    }
    const cutoff = Date.now() - maxAgeMs;
    for (const id of names) {
      const info = isUploadId(id) ? await this.readInfo(id) : undefined;
      let stale = info === undefined || Date.parse(info.startedAt) < cutoff;
      if (info === undefined && isUploadId(id)) {
        // A create in progress has no info.json for a moment: only purge it when old.
        const st = await stat(this.storage.uploadDir(id)).catch(() => undefined);
        stale = st === undefined || st.mtimeMs < cutoff;
      }
      if (stale) {
        await this.remove(id);
        removed.push(id);
      }
    }
    return removed;
  }

  // -------------------------------------------------------------------------

  private serial<T>(id: string, fn: () => Promise<T>): Promise<T> {
    if (!isUploadId(id)) return Promise.reject(unknownUpload(id));
    return inProcessQueue(`berth-registry-upload:${this.storage.uploadDir(id)}`, fn);
  }

  private async readInfo(id: string): Promise<Info | undefined> {
    try {
      const doc = JSON.parse(await readFile(join(this.storage.uploadDir(id), 'info.json'), 'utf8')) as Partial<Info>;
      return typeof doc.repo === 'string' && typeof doc.startedAt === 'string' ? { repo: doc.repo, startedAt: doc.startedAt } : undefined;
    } catch (err) {
      if (errnoCode(err) === 'ENOENT' || err instanceof SyntaxError) return undefined;
      throw fsError(err, `reading upload ${id}`);
    }
  }

  /** The session's running state; rebuilt from the partial file when not in memory. */
  private async load(repo: string, id: string): Promise<Live> {
    const info = await this.readInfo(id);
    if (info === undefined || info.repo !== repo) throw unknownUpload(id);
    const known = this.live.get(id);
    if (known) return known;
    const data = join(this.storage.uploadDir(id), 'data');
    const hash = createHash(DEFAULT_ALGORITHM);
    let size = 0;
    try {
      for await (const chunk of createReadStream(data, { highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>) {
        hash.update(chunk);
        size += chunk.length;
      }
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') throw unknownUpload(id);
      throw fsError(err, `reading upload ${id}`);
    }
    const live = { hash, size };
    this.live.set(id, live);
    return live;
  }

  private async write(id: string, live: Live, req: IncomingMessage, range: ChunkRange | undefined): Promise<void> {
    if (range !== undefined && range.start !== live.size) {
      throw registryError('BLOB_UPLOAD_INVALID', `chunk starts at ${range.start} but the upload holds ${live.size} bytes`, {
        status: 416,
        detail: { start: range.start, held: live.size },
        headers: { Range: rangeHeader(live.size) },
      });
    }
    const data = join(this.storage.uploadDir(id), 'data');
    let fh: FileHandle;
    try {
      fh = await open(data, 'r+');
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') throw unknownUpload(id);
      throw fsError(err, `opening upload ${id}`);
    }
    const hash = live.hash.copy();
    try {
      const n = await writeBodyToFile(req, fh, live.size, hash);
      if (range !== undefined && n !== range.end - range.start + 1) {
        throw registryError('SIZE_INVALID', `Content-Range ${range.start}-${range.end} announced ${range.end - range.start + 1} bytes, the body had ${n}`);
      }
      live.hash = hash;
      live.size += n;
    } catch (err) {
      await fh.truncate(live.size).catch(() => undefined);
      throw err;
    } finally {
      await fh.close();
    }
  }

  private async remove(id: string): Promise<void> {
    this.live.delete(id);
    await rm(this.storage.uploadDir(id), { recursive: true, force: true });
  }
}

/** The Range header of an upload holding `size` bytes (distribution writes 0-0 for none). */
export function rangeHeader(size: number): string {
  return `0-${Math.max(size - 1, 0)}`;
}

function unknownUpload(id: string): Error {
  return registryError('BLOB_UPLOAD_UNKNOWN', 'blob upload unknown to registry', { detail: { uuid: id.slice(0, 100) } });
}

async function hashFile(path: string, algorithm: DigestAlgorithm): Promise<Digest> {
  const hash = createHash(algorithm);
  try {
    for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>) hash.update(chunk);
  } catch (err) {
    throw fsError(err, `hashing ${path}`);
  }
  return `${algorithm}:${hash.digest('hex')}`;
}
