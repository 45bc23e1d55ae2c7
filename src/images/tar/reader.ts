// A streaming tar reader with bounds: entries come one at a time and their data is
// streamed as slices of the input chunks (no copies for large files). Every limit
// exists because a layer is hostile until proven otherwise (DESIGN §6).
import { invalidArgument } from '../../util/errors.js';
import { BLOCK, TYPEFLAG, decodeHeader, isZeroBlock, parsePax, type RawHeader, type TarEntry } from './header.js';

export interface TarLimits {
  /** Members in one archive. */
  maxEntries: number;
  /** Bytes of one PAX header or GNU long name/link. */
  maxHeaderBytes: number;
  /** Accept a stream that ends in the last member's padding (build contexts from docker's CLI). */
  allowMissingEnd?: boolean;
}

export const DEFAULT_TAR_LIMITS: TarLimits = { maxEntries: 4_000_000, maxHeaderBytes: 1024 * 1024 };

/** Where the reader's bytes come from. */
export interface TarByteSource {
  position: number;
  read(n: number): Promise<Buffer>;
  some(n: number): Promise<Buffer>;
  drain(): Promise<void>;
  /** Pass over n bytes of member data without reading them, when the source can seek. */
  skip?(n: number): Promise<number>;
}

/** Pulls exact byte counts out of an async chunk source (also read by the layer differ). */
export class ByteSource implements TarByteSource {
  private chunks: Buffer[] = [];
  private available = 0;
  private done = false;
  /** Bytes handed out so far: the stream offset of the next byte. */
  position = 0;

  constructor(private readonly it: AsyncIterator<Buffer>) {}

  private async pull(): Promise<boolean> {
    if (this.done) return false;
    const r = await this.it.next();
    if (r.done) {
      this.done = true;
      return false;
    }
    if (r.value.length > 0) {
      this.chunks.push(r.value);
      this.available += r.value.length;
    }
    return true;
  }

  /** Exactly n bytes, or fewer only at the end of the stream. */
  async read(n: number): Promise<Buffer> {
    while (this.available < n && (await this.pull()));
    const take = Math.min(n, this.available);
    const first = this.chunks[0];
    if (first && first.length >= take) return this.consume(take);
    const out = Buffer.allocUnsafe(take);
    let off = 0;
    while (off < take) {
      const part = this.consume(Math.min(take - off, this.chunks[0]!.length));
      part.copy(out, off);
      off += part.length;
    }
    return out;
  }

  private consume(n: number): Buffer {
    const first = this.chunks[0]!;
    this.available -= n;
    this.position += n;
    if (n === first.length) return this.chunks.shift()!;
    this.chunks[0] = first.subarray(n);
    return first.subarray(0, n);
  }

  /** Up to n bytes as they arrive (a slice of one chunk); empty at the end of the stream. */
  async some(n: number): Promise<Buffer> {
    if (this.available === 0) await this.pull();
    if (this.available === 0) return Buffer.alloc(0);
    return this.consume(Math.min(n, this.chunks[0]!.length));
  }

  /** Whatever follows the archive: read and drop (callers hash it). */
  async drain(): Promise<void> {
    this.chunks = [];
    this.available = 0;
    while (await this.pull()) {
      this.chunks = [];
      this.available = 0;
    }
  }
}

const padding = (size: number): number => (BLOCK - (size % BLOCK)) % BLOCK;

export class TarReader {
  private readonly src: TarByteSource;
  private readonly limits: TarLimits;
  private remaining = 0; // unread data bytes of the current entry
  private pad = 0;
  private count = 0;
  private ended = false;

  constructor(source: AsyncIterable<Buffer> | TarByteSource, limits: Partial<TarLimits> = {}) {
    this.src = Symbol.asyncIterator in source ? new ByteSource(source[Symbol.asyncIterator]()) : source;
    this.limits = { ...DEFAULT_TAR_LIMITS, ...limits };
  }

  get entries(): number {
    return this.count;
  }

  /** Stream offset of the current entry's unread data. */
  get dataOffset(): number {
    return this.src.position;
  }

  /** The next member, or null after the end-of-archive marker (or a clean end of stream). */
  async next(): Promise<TarEntry | null> {
    await this.skipData();
    let longName: string | undefined;
    let longLink: string | undefined;
    let pax: Map<string, Buffer> | undefined;
    for (;;) {
      const block = await this.src.read(BLOCK);
      if (block.length === 0) return this.finish(longName ?? longLink ?? pax);
      if (block.length < BLOCK) throw invalidArgument('truncated tar: stream ends inside a header');
      if (isZeroBlock(block)) return this.finish(longName ?? longLink ?? pax);
      const raw = decodeHeader(block);
      const kind = TYPEFLAG[raw.typeflag];
      if (kind === undefined) throw invalidArgument(`tar: unsupported entry type '${printable(raw.typeflag)}' for ${raw.name}`);
      if (kind === 'gnuSparse') throw invalidArgument(`tar: sparse files are not supported (${raw.name})`);
      if (kind === 'pax' || kind === 'paxGlobal' || kind === 'gnuLongName' || kind === 'gnuLongLink') {
        const body = await this.readExtension(raw);
        if (kind === 'pax') pax = parsePax(body);
        else if (kind === 'gnuLongName') longName = nulTrimmed(body);
        else if (kind === 'gnuLongLink') longLink = nulTrimmed(body);
        // Global PAX headers carry archive comments in practice; they change no member here.
        continue;
      }
      if (++this.count > this.limits.maxEntries) throw invalidArgument(`tar: more than ${this.limits.maxEntries} entries`);
      const entry = toEntry(raw, kind, longName, longLink, pax);
      this.remaining = entry.type === 'file' ? entry.size : 0;
      this.pad = entry.type === 'file' ? padding(entry.size) : padding(raw.size);
      if (entry.type !== 'file') this.remaining = raw.size; // data of non-files is skipped
      return entry;
    }
  }

  /** The current entry's data, in slices of the input; call before next(). */
  async *data(): AsyncGenerator<Buffer> {
    while (this.remaining > 0) {
      const part = await this.src.some(this.remaining);
      if (part.length === 0) throw invalidArgument('truncated tar: stream ends inside file data');
      this.remaining -= part.length;
      yield part;
    }
  }

  /** Read the rest of the input after the archive (it still counts for the digest). */
  async drain(): Promise<void> {
    await this.src.drain();
  }

  private finish(pending: unknown): null {
    if (pending !== undefined) throw invalidArgument('truncated tar: extension header without a member');
    this.ended = true;
    return null;
  }

  private async readExtension(raw: RawHeader): Promise<Buffer> {
    if (raw.size > this.limits.maxHeaderBytes) {
      throw invalidArgument(`tar: extended header of ${raw.size} bytes exceeds the ${this.limits.maxHeaderBytes}-byte limit`);
    }
    const body = await this.src.read(raw.size + padding(raw.size));
    if (body.length < raw.size + padding(raw.size)) throw invalidArgument('truncated tar: stream ends inside an extended header');
    return body.subarray(0, raw.size);
  }

  private async skipData(): Promise<void> {
    if (this.ended) return;
    const data = this.remaining;
    const pad = this.pad;
    this.remaining = 0;
    this.pad = 0;
    if (!(await this.skipBytes(data))) throw invalidArgument('truncated tar: stream ends inside an entry');
    // docker's CLI ends some build contexts right after the last member's data, without its
    // padding or the end-of-archive blocks (Go's reader accepts that); layers stay strict.
    if (!(await this.skipBytes(pad)) && !this.limits.allowMissingEnd) throw invalidArgument('truncated tar: stream ends inside an entry');
  }

  /** Skips n bytes; false when the stream ends first. */
  private async skipBytes(n: number): Promise<boolean> {
    if (n === 0) return true;
    if (this.src.skip) return (await this.src.skip(n)) >= n;
    for (let left = n; left > 0; ) {
      const part = await this.src.some(left);
      if (part.length === 0) return false;
      left -= part.length;
    }
    return true;
  }
}

function nulTrimmed(b: Buffer): string {
  const end = b.indexOf(0);
  return b.toString('utf8', 0, end === -1 ? b.length : end);
}

function printable(c: string): string {
  return /^[\x21-\x7e]$/.test(c) ? c : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`;
}

function paxNumber(pax: ReadonlyMap<string, Buffer>, key: string, fallback: number): number {
  const v = pax.get(key);
  if (v === undefined) return fallback;
  const n = Number(v.toString('latin1'));
  if (!Number.isSafeInteger(n) || n < 0) throw invalidArgument(`tar: bad PAX ${key} "${v.toString('latin1').slice(0, 32)}"`);
  return n;
}

function paxTime(pax: ReadonlyMap<string, Buffer>, fallback: number): { sec: number; nsec: number } {
  const v = pax.get('mtime')?.toString('latin1');
  if (v === undefined) return { sec: fallback, nsec: 0 };
  const m = /^(-?\d+)(?:\.(\d{1,9})\d*)?$/.exec(v);
  if (!m) throw invalidArgument(`tar: bad PAX mtime "${v.slice(0, 32)}"`);
  return { sec: Number(m[1]), nsec: m[2] ? Number(m[2].padEnd(9, '0')) : 0 };
}

/** Shared by the (many) members without PAX records; never written to. */
const NO_RECORDS: ReadonlyMap<string, Buffer> = new Map();

function toEntry(
  raw: RawHeader,
  type: TarEntry['type'],
  longName: string | undefined,
  longLink: string | undefined,
  pax: Map<string, Buffer> | undefined,
): TarEntry {
  const p = pax ?? NO_RECORDS;
  let xattrs: ReadonlyMap<string, Buffer> = NO_RECORDS;
  for (const [k, v] of p) {
    if (k.startsWith('SCHILY.xattr.')) {
      if (xattrs === NO_RECORDS) xattrs = new Map<string, Buffer>();
      (xattrs as Map<string, Buffer>).set(k.slice(13), v);
    }
    else if (k.startsWith('GNU.sparse.')) throw invalidArgument(`tar: sparse files are not supported (${raw.name})`);
  }
  const time = paxTime(p, raw.mtime);
  return {
    name: p.get('path')?.toString('utf8') ?? longName ?? raw.name,
    type,
    mode: raw.mode & 0o7777,
    uid: paxNumber(p, 'uid', raw.uid),
    gid: paxNumber(p, 'gid', raw.gid),
    size: type === 'file' ? paxNumber(p, 'size', raw.size) : 0,
    mtimeSec: time.sec,
    mtimeNsec: time.nsec,
    linkname: p.get('linkpath')?.toString('utf8') ?? longLink ?? raw.linkname,
    uname: p.get('uname')?.toString('utf8') ?? raw.uname,
    gname: p.get('gname')?.toString('utf8') ?? raw.gname,
    devmajor: raw.devmajor,
    devminor: raw.devminor,
    xattrs,
  };
}
