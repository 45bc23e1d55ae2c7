// `docker save`: images as one tar stream in Docker ≥ 25's layout (see save-plan.ts).
// Deterministic: blobs in digest order after their directories, then the top-level files
// in name order (the order `tar` of Docker's temp directory has), every time 0, owner 0:0.
// Every blob's bytes are hashed as they go out, so a corrupt store cannot yield an archive
// that would only fail when loaded somewhere else.
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, open, rm, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { ContentStore } from '../../content/store.js';
import { Digester, parseDigest, type Digest } from '../../util/digest.js';
import { internal, invalidArgument, notFound } from '../../util/errors.js';
import { decompress, peekCompression } from '../layer/compression.js';
import type { ImageStore } from '../store.js';
import { END_OF_ARCHIVE, dataPadding, entryHeader } from '../tar/writer.js';
import { blobPath, planSave, type BlobSource, type SavePlan } from './save-plan.js';

export async function* saveImages(store: ImageStore, names: string[]): AsyncGenerator<Buffer> {
  const plan = await planSave(store, names);
  const scratch = new Scratch(join(store.root, 'tmp'));
  try {
    yield* blobEntries(store.content, plan, scratch);
    for (const f of plan.files) yield* fileEntry(f.name, f.data);
    yield END_OF_ARCHIVE;
  } finally {
    await scratch.remove();
  }
}

async function* blobEntries(content: ContentStore, plan: SavePlan, scratch: Scratch): AsyncGenerator<Buffer> {
  const digests = [...plan.blobs.keys()].sort();
  yield dirEntry('blobs/');
  let dir = '';
  for (const digest of digests) {
    const alg = parseDigest(digest).algorithm;
    if (alg !== dir) {
      dir = alg;
      yield dirEntry(`blobs/${alg}/`);
    }
    yield* blobEntry(content, plan.blobs.get(digest)!, scratch);
  }
}

function dirEntry(name: string): Buffer {
  return entryHeader({ name, type: 'dir', mode: 0o755, mtimeSec: 0 });
}

function* fileEntry(name: string, data: Buffer): Generator<Buffer> {
  yield entryHeader({ name, type: 'file', mode: 0o644, size: data.length, mtimeSec: 0 });
  yield data;
  yield dataPadding(data.length);
}

async function* blobEntry(content: ContentStore, src: BlobSource, scratch: Scratch): AsyncGenerator<Buffer> {
  const name = blobPath(src.digest);
  if (src.kind === 'stored') {
    const info = await content.info(src.digest);
    if (!info) throw notFound(`cannot save: blob ${src.digest} is missing from the content store`);
    yield entryHeader({ name, type: 'file', mode: 0o644, size: info.size, mtimeSec: 0 });
    yield* verified((await content.createReadStream(src.digest)) as AsyncIterable<Buffer>, src.digest, info.size);
    yield dataPadding(info.size);
    return;
  }
  // The tar header needs the size first: decompress to a file, verified, then stream that.
  const path = await scratch.decompress(content, src.from, src.digest);
  try {
    const { size } = await stat(path);
    yield entryHeader({ name, type: 'file', mode: 0o644, size, mtimeSec: 0 });
    yield* verified(createReadStream(path) as AsyncIterable<Buffer>, src.digest, size);
    yield dataPadding(size);
  } finally {
    await unlink(path).catch(() => undefined);
  }
}

/** The chunks, passed on as they are; throws at the end unless they were exactly `size` bytes hashing to `digest`. */
async function* verified(chunks: AsyncIterable<Buffer>, digest: Digest, size: number): AsyncGenerator<Buffer> {
  const d = new Digester(parseDigest(digest).algorithm);
  for await (const chunk of chunks) {
    d.update(chunk);
    if (d.size > size) throw internal(`blob ${digest} grew while being saved`);
    yield chunk;
  }
  if (d.size !== size || d.digest() !== digest) throw internal(`blob ${digest} is corrupt: its content hashes to ${d.digest()} (${d.size} bytes)`);
}

/** A private directory under the store root for uncompressed layers, made on first use. */
class Scratch {
  private dir: string | undefined;

  constructor(private readonly parent: string) {}

  /** The layer `from`, decompressed into a file whose content must hash to `diffId`. */
  async decompress(content: ContentStore, from: Digest, diffId: Digest): Promise<string> {
    const path = join(await this.ensureDir(), randomBytes(8).toString('hex'));
    const blob = await content.createReadStream(from);
    const file = await open(path, 'wx', 0o600);
    const d = new Digester(parseDigest(diffId).algorithm);
    try {
      const { kind, stream } = await peekCompression(blob as AsyncIterable<Buffer>);
      for await (const chunk of decompress(stream, kind)) {
        d.update(chunk);
        await file.write(chunk);
      }
    } finally {
      blob.destroy(); // an early stop (corrupt gzip, full disk) leaves it open otherwise
      await file.close();
    }
    if (d.digest() !== diffId) {
      await unlink(path).catch(() => undefined);
      throw invalidArgument(`cannot save: layer ${from} uncompressed hashes to ${d.digest()}, but the image config's diff_id is ${diffId}`);
    }
    return path;
  }

  private async ensureDir(): Promise<string> {
    if (this.dir === undefined) {
      await mkdir(this.parent, { recursive: true, mode: 0o700 });
      this.dir = await mkdtemp(join(this.parent, 'save-'));
    }
    return this.dir;
  }

  async remove(): Promise<void> {
    if (this.dir !== undefined) await rm(this.dir, { recursive: true, force: true });
  }
}
