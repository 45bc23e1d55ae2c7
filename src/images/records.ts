// The image index on disk (images/images.json): which manifests berth has as images, and
// which references point at them. One atomic file; every change is read-modify-write
// under a process-local queue (the daemon is the one writer).
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Descriptor } from '../oci/image-spec.js';
import { writeFileAtomic } from '../util/atomic.js';
import type { Digest } from '../util/digest.js';
import { errnoCode, internal } from '../util/errors.js';

export interface StoredImage {
  manifest: Descriptor;
  index?: Descriptor;
  /** When berth first had this image (RFC 3339). */
  added: string;
  lastTagTime?: string;
  /** Unpacked bytes of all layers (tar sizes), filled by unpack. */
  size?: number;
}

export interface IndexFile {
  version: 1;
  images: Record<string, StoredImage>;
  /** Normalised "domain/path:tag" → image ID. */
  tags: Record<string, Digest>;
  /** Normalised "domain/path@digest" → image ID. */
  digests: Record<string, Digest>;
}

const empty = (): IndexFile => ({ version: 1, images: {}, tags: {}, digests: {} });

export class ImageIndex {
  private readonly path: string;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(dir: string) {
    mkdirSync(dir, { recursive: true });
    this.path = join(dir, 'images.json');
  }

  read(): IndexFile {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return empty();
      throw err;
    }
    try {
      const data = JSON.parse(text) as IndexFile;
      if (data.version !== 1 || typeof data.images !== 'object') throw new Error('unknown format');
      return data;
    } catch (err) {
      throw internal(`image index ${this.path} is corrupt: ${(err as Error).message}`, err);
    }
  }

  /** Run change on the current index and write the result atomically; serialised. */
  update<T>(change: (idx: IndexFile) => T | Promise<T>): Promise<T> {
    const run = this.queue.then(async () => {
      const idx = this.read();
      const result = await change(idx);
      writeFileAtomic(this.path, JSON.stringify(idx, null, 1));
      return result;
    });
    this.queue = run.catch(() => undefined);
    return run;
  }
}
