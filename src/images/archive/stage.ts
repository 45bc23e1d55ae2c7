// The one pass over an image archive. A tar stream is read once and its members come in
// any order (manifest.json is usually last), so every member that may be needed is put
// away before anything is interpreted:
//   blobs/<alg>/<hex>        → the content store, verified against the digest in the name
//   *.tar, <dir>/layer.tar   → the content store, named by what they hash to (old docker
//   <hex>.json                 save and skopeo's docker-archive layers and configs)
//   manifest.json, index.json, oci-layout, repositories → memory (a few MiB at most)
// Nothing is registered here: a blob in the content store is not an image, and the
// caller's lease keeps gc off it until the image records reference it.
import { randomBytes } from 'node:crypto';
import type { ContentStore, Expected } from '../../content/store.js';
import { parseDigest, type Digest } from '../../util/digest.js';
import { invalidArgument } from '../../util/errors.js';
import type { TarEntry } from '../tar/header.js';
import { TarReader } from '../tar/reader.js';
import { within } from './load-plan.js';
import { memberName, showName, symlinkTarget } from './members.js';

export interface ArchiveLimits {
  /** Members in the archive (directories included). */
  maxMembers: number;
  /** Bytes of one JSON document (manifest.json, index.json, a config). */
  maxJsonBytes: number;
}

export const DEFAULT_ARCHIVE_LIMITS: ArchiveLimits = { maxMembers: 100_000, maxJsonBytes: 4 * 1024 * 1024 };

export interface StagedFile {
  digest: Digest;
  size: number;
}

const META_FILES = new Set(['manifest.json', 'index.json', 'oci-layout', 'repositories']);
/** Archive symlinks followed before giving up (a loop, or a chain no writer makes). */
const MAX_LINK_HOPS = 8;

export class StagedArchive {
  /** The small top-level metadata files, by name. */
  readonly meta = new Map<string, Buffer>();
  /** Regular files put into the content store, by member name. */
  readonly files = new Map<string, StagedFile>();
  /** Symlink members: name → the member name they point at. */
  readonly links = new Map<string, string>();
  /** Regular files that were present but not kept (e.g. <id>/json, <id>/VERSION). */
  readonly skipped = new Set<string>();

  /** The staged file a path names (following archive symlinks); InvalidArgument naming `where` otherwise. */
  file(path: string, where: string): StagedFile {
    let name = path;
    for (let hop = 0; hop <= MAX_LINK_HOPS; hop++) {
      const found = this.files.get(name);
      if (found) return found;
      const next = this.links.get(name);
      if (next === undefined) break;
      name = next;
    }
    if (this.links.has(name)) throw invalidArgument(`${where}: ${showName(path)} is a symlink loop in the archive`);
    const why = this.skipped.has(name) ? 'is not a layer tar or JSON file' : 'is not in the archive';
    throw invalidArgument(`${where}: ${showName(path)} ${why}`);
  }
}

export interface StageOptions {
  /** Lease every ingested blob joins, so gc leaves it alone until images reference it. */
  lease: string;
  limits: ArchiveLimits;
}

export async function stageArchive(content: ContentStore, source: AsyncIterable<Buffer>, opts: StageOptions): Promise<StagedArchive> {
  const staged = new StagedArchive();
  const seen = new Set<string>();
  const reader = new TarReader(source, { maxEntries: opts.limits.maxMembers });
  for (let entry = await nextMember(reader); entry !== null; entry = await nextMember(reader)) {
    const name = memberName(entry.name);
    if (entry.type === 'dir' || name === '') continue;
    // Two members of one name: tar would keep the last, a map the first; neither is honest.
    if (seen.has(name)) throw invalidArgument(`archive member ${showName(name)} appears twice`);
    seen.add(name);
    if (entry.type === 'symlink') staged.links.set(name, checkedLink(name, entry));
    else if (entry.type === 'file') await stageFile(content, reader, entry, name, staged, opts);
    else throw invalidArgument(`archive member ${showName(name)}: ${entry.type} members are not allowed in an image archive`);
  }
  // Whatever follows the end-of-archive marker is not ours to read, but the stream is drained
  // so a producer blocked on writing it (a pipe, an HTTP body) is not left hanging.
  await reader.drain();
  return staged;
}

async function nextMember(reader: TarReader): Promise<TarEntry | null> {
  try {
    return await reader.next();
  } catch (err) {
    throw within(`reading the image archive (after ${reader.entries} members)`, err);
  }
}

function checkedLink(name: string, entry: TarEntry): string {
  // Blobs are named by their content: a blob that is a link to something else is a lie.
  if (name.startsWith('blobs/')) throw invalidArgument(`archive member ${showName(name)}: blobs must be regular files, not symlinks`);
  return symlinkTarget(name, entry.linkname);
}

async function stageFile(
  content: ContentStore,
  reader: TarReader,
  entry: TarEntry,
  name: string,
  staged: StagedArchive,
  opts: StageOptions,
): Promise<void> {
  const parts = name.split('/');
  const isJson = name.endsWith('.json') || META_FILES.has(name);
  if (isJson && entry.size > opts.limits.maxJsonBytes) {
    throw invalidArgument(`archive member ${showName(name)} is ${entry.size} bytes, more than the ${opts.limits.maxJsonBytes}-byte limit for JSON`);
  }
  if (parts.length === 1 && META_FILES.has(name)) {
    staged.meta.set(name, await readAll(reader, name));
  } else if (parts[0] === 'blobs') {
    const expected = { digest: blobDigest(name, parts), size: entry.size };
    staged.files.set(name, await ingestMember(content, reader, name, expected, opts.lease));
  } else if ((parts.length === 1 && name.endsWith('.json')) || (parts.length <= 2 && name.endsWith('.tar'))) {
    staged.files.set(name, await ingestMember(content, reader, name, { size: entry.size }, opts.lease));
  } else {
    staged.skipped.add(name); // its data is skipped by the next next()
  }
}

function blobDigest(name: string, parts: string[]): Digest {
  if (parts.length !== 3) throw invalidArgument(`archive member ${showName(name)}: want blobs/<algorithm>/<hex> under blobs/`);
  try {
    return parseDigest(`${parts[1]}:${parts[2]}`).digest;
  } catch (err) {
    throw invalidArgument(`archive member ${showName(name)}: its name is not a valid digest (${(err as Error).message})`, err);
  }
}

async function readAll(reader: TarReader, name: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of reader.data()) chunks.push(chunk);
  } catch (err) {
    throw withMember(err, name);
  }
  return Buffer.concat(chunks); // a copy: the reader hands out slices of its input buffers
}

async function ingestMember(content: ContentStore, reader: TarReader, name: string, expected: Expected, lease: string): Promise<StagedFile> {
  const ref = `archive-load-${randomBytes(8).toString('hex')}`;
  try {
    return await content.ingestStream(ref, reader.data(), expected, { lease });
  } catch (err) {
    // A truncated stream leaves a resumable ingest; nobody will resume a random ref.
    await content.abortIngest(ref).catch(() => undefined);
    throw withMember(err, name);
  }
}

function withMember(err: unknown, name: string): unknown {
  return within(`archive member ${showName(name)}`, err);
}
