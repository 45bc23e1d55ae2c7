// The build context on the daemon side: the tar that POST /build received, spooled to a
// file and indexed. COPY sees a view of it with the .dockerignore applied; the builder
// still reads the Dockerfile and the ignore file from the whole archive.
import { createHash } from 'node:crypto';
import { mkdtemp, open, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { invalidArgument, notFound } from '../../util/errors.js';
import { DEFAULT_TAR_LIMITS } from '../../images/tar/reader.js';
import { contextRelative } from './go-path.js';
import type { IgnoreMatcher } from './ignore.js';
import { indexTar } from './index-tar.js';
import { spoolTar } from './spool.js';
import { EntryTree, parentOf, type ContextEntry } from './tree.js';

export interface ContextLimits {
  /** Uncompressed bytes of the context tar. */
  maxBytes: number;
  /** Members in the tar. */
  maxEntries: number;
  /** Bytes of one PAX header or GNU long name/link. */
  maxHeaderBytes: number;
}

export const DEFAULT_CONTEXT_LIMITS: ContextLimits = {
  maxBytes: 64 * 1024 ** 3,
  maxEntries: 1_000_000,
  maxHeaderBytes: DEFAULT_TAR_LIMITS.maxHeaderBytes,
};

const READ_CHUNK = 1024 * 1024;

export class BuildContext {
  /** What COPY sees: the archive minus what exclude() dropped. */
  private visible: EntryTree;
  private readonly digests = new Map<number, Promise<string>>();
  private closed = false;

  private constructor(
    /** Everything the archive holds (the builder reads its Dockerfile from here). */
    private readonly all: EntryTree,
    private readonly spoolDir: string | undefined,
    private readonly spool: FileHandle | undefined,
  ) {
    this.visible = all;
  }

  /**
   * Spool the body of POST /build (a tar: plain, gzip or zstd) into a new directory under
   * dir and index it. A malformed or hostile archive is refused with InvalidArgument and
   * leaves nothing behind.
   */
  static async fromStream(stream: AsyncIterable<Buffer> | Readable, dir: string, opts: { limits?: Partial<ContextLimits> } = {}): Promise<BuildContext> {
    const limits = { ...DEFAULT_CONTEXT_LIMITS, ...opts.limits };
    const work = await mkdtemp(join(dir, 'context-'));
    let fh: FileHandle | undefined;
    try {
      const file = join(work, 'context.tar');
      const size = await spoolTar(stream, file, limits.maxBytes);
      fh = await open(file, 'r');
      const tree = await indexTar(fh, size, { maxEntries: limits.maxEntries, maxHeaderBytes: limits.maxHeaderBytes });
      return new BuildContext(tree, work, fh);
    } catch (err) {
      await fh?.close().catch(() => undefined);
      await rm(work, { recursive: true, force: true });
      throw err;
    }
  }

  /** No context at all (a Dockerfile given on its own): only an empty root. */
  static empty(): BuildContext {
    return new BuildContext(new EntryTree(), undefined, undefined);
  }

  /** What path names for COPY, following every symlink inside the context; undefined if nothing. */
  stat(path: string): ContextEntry | undefined {
    return this.visible.resolve(contextRelative(path), true);
  }

  /** As stat, but a symlink in the last component is returned itself. */
  lstat(path: string): ContextEntry | undefined {
    return this.visible.resolve(contextRelative(path), false);
  }

  /** The entries of a directory (symlinks followed to reach it), sorted by name. */
  list(dir: string): ContextEntry[] {
    const d = this.stat(dir);
    if (!d) throw notFound(`${dir}: no such directory in the build context`);
    if (d.type !== 'dir') throw invalidArgument(`${dir}: not a directory`);
    return this.visible.children(d.path);
  }

  /** Every entry COPY can see except the root, depth first, names sorted in each directory. */
  walk(): Iterable<ContextEntry> {
    return this.visible.walk();
  }

  /**
   * A small file of the whole archive (the Dockerfile, the ignore file), ignore patterns
   * notwithstanding. Symlinks are followed inside the context.
   */
  async readFile(path: string, maxBytes: number): Promise<Buffer> {
    const e = this.all.resolve(contextRelative(path), true);
    if (!e) throw notFound(`${path}: no such file in the build context`);
    if (e.type !== 'file') throw invalidArgument(`${path} in the build context is a ${e.type === 'dir' ? 'directory' : e.type}, not a file`);
    if (e.size > maxBytes) throw invalidArgument(`${path} in the build context is larger than ${maxBytes} bytes`);
    const parts: Buffer[] = [];
    for await (const part of this.readData(e)) parts.push(part);
    return Buffer.concat(parts);
  }

  /**
   * Hide what the matcher ignores from COPY (stat, list, walk). A directory that is
   * ignored but holds something re-included by an exception stays, with its own metadata.
   */
  exclude(matcher: IgnoreMatcher): void {
    if (matcher.empty) return;
    const kept = new EntryTree(this.visible.get('')!);
    const visit = (dir: string): void => {
      for (const e of this.visible.children(dir)) {
        const ignored = matcher.matches(e.path);
        if (!ignored) {
          this.keepWithParents(kept, e);
          if (e.type === 'dir') visit(e.path);
        } else if (e.type === 'dir' && matcher.mustWalk(e.path)) visit(e.path);
      }
    };
    visit('');
    this.visible = kept;
  }

  private keepWithParents(kept: EntryTree, e: ContextEntry): void {
    const missing: ContextEntry[] = [];
    for (let p = parentOf(e.path); p !== '' && !kept.get(p); p = parentOf(p)) {
      missing.push(this.visible.get(p)!);
    }
    for (const m of missing.reverse()) kept.set(m);
    kept.set(e);
  }

  /** A file's bytes, straight from the spool. */
  openData(entry: ContextEntry): Readable {
    return Readable.from(this.readData(entry), { objectMode: false });
  }

  /** A file's bytes as chunks (at most 1 MiB each) read by position from the spool. */
  async *readData(entry: ContextEntry): AsyncGenerator<Buffer> {
    if (entry.type !== 'file') throw invalidArgument(`${entry.path} is not a regular file`);
    if (entry.size === 0) return;
    if (this.closed || !this.spool) throw invalidArgument('the build context is closed');
    let pos = entry.dataOffset;
    let left = entry.size;
    while (left > 0) {
      const buf = Buffer.allocUnsafe(Math.min(left, READ_CHUNK));
      const { bytesRead } = await this.spool.read(buf, 0, buf.length, pos);
      if (bytesRead === 0) throw invalidArgument(`build context: data of ${entry.path} is truncated`);
      pos += bytesRead;
      left -= bytesRead;
      yield bytesRead === buf.length ? buf : buf.subarray(0, bytesRead);
    }
  }

  /** "sha256:<hex>" of a file's contents, computed once per file of the archive. */
  fileDigest(entry: ContextEntry): Promise<string> {
    let d = this.digests.get(entry.dataOffset);
    if (!d) {
      d = (async () => {
        const h = createHash('sha256');
        for await (const part of this.readData(entry)) h.update(part);
        return `sha256:${h.digest('hex')}`;
      })();
      // A failed read is not cached: the next caller gets the error again, not a stale promise.
      d.catch(() => this.digests.delete(entry.dataOffset));
      this.digests.set(entry.dataOffset, d);
    }
    return d;
  }

  /** Close the spool and remove it. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.spool?.close().catch(() => undefined);
    if (this.spoolDir) await rm(this.spoolDir, { recursive: true, force: true });
  }
}
