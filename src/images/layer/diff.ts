// Layer diff: a snapshot's changes as a tar stream with whiteouts, in a deterministic
// order (names sorted, parents first). berth-unpack reads the tree (nothing followed,
// see native/unpack/scan.c); this file turns its records into tar members.
import { spawn } from 'node:child_process';
import { posix } from 'node:path';
import { internal } from '../../util/errors.js';
import type { EntryType } from '../tar/header.js';
import { ByteSource } from '../tar/reader.js';
import { dataPadding, END_OF_ARCHIVE, entryHeader, type WriteEntry } from '../tar/writer.js';
import { UNPACK_PATH } from '../../util/native-tools.js';
import { allowedXattrs, OPAQUE_MARKER, WHITEOUT_PREFIX } from './policy.js';
import { decodeRecordHeader, decodeXattrs, Op, RECORD_HEADER_BYTES, type RecordHeader } from './records.js';

export type DiffSource =
  /** An overlay upper dir: everything in it is the change; 0:0 char devices and opaque dirs are whiteouts. */
  | { style: 'overlay'; upper: string }
  /** Two full trees (native snapshots): what upper changes relative to lower. */
  | { style: 'native'; lower: string; upper: string }
  /** A whole tree as it is (a mounted rootfs, for export): nothing is read as a whiteout. */
  | { style: 'tree'; dir: string };

interface ScanRecord extends RecordHeader {
  path: string;
  link: string;
  xattrs: Map<string, Buffer>;
}

/** Exactly n bytes of the record stream; berth-unpack always ends it with an End record. */
async function exact(src: ByteSource, n: number, what: string): Promise<Buffer> {
  const b = await src.read(n);
  if (b.length < n) throw internal(`berth-unpack: record stream ended inside ${what}`);
  return b;
}

async function readRecord(src: ByteSource): Promise<ScanRecord> {
  const h = decodeRecordHeader(await exact(src, RECORD_HEADER_BYTES, 'a record header'));
  const path = (await exact(src, h.pathLen, 'a path')).toString('utf8');
  const link = (await exact(src, h.linkLen, 'a link')).toString('utf8');
  const xattrs = decodeXattrs(await exact(src, h.xattrLen, 'xattrs'));
  return { ...h, path, link, xattrs };
}

/** The tar entry type of each berth-unpack record op. */
export const ENTRY_TYPES: Partial<Record<Op, EntryType>> = {
  [Op.File]: 'file',
  [Op.Dir]: 'dir',
  [Op.Symlink]: 'symlink',
  [Op.Hardlink]: 'hardlink',
  [Op.Char]: 'char',
  [Op.Block]: 'block',
  [Op.Fifo]: 'fifo',
};

function whiteoutFor(path: string, r: ScanRecord): WriteEntry {
  const dir = posix.dirname(path);
  const name = `${dir === '.' ? '' : `${dir}/`}${WHITEOUT_PREFIX}${posix.basename(path)}`;
  return { name, type: 'file', mode: 0o644, mtimeSec: 0, size: 0, uid: r.uid, gid: r.gid };
}

function toEntries(r: ScanRecord, style: DiffSource['style']): WriteEntry[] {
  if (r.op === Op.Whiteout) return [whiteoutFor(r.path, r)];
  if (style === 'overlay' && r.op === Op.Char && r.size === 0n) return [whiteoutFor(r.path, r)];
  const type = ENTRY_TYPES[r.op];
  if (!type) throw internal(`berth-unpack: unexpected record op ${r.op} for ${r.path}`);
  const entry: WriteEntry = {
    name: type === 'dir' ? `${r.path}/` : r.path,
    type,
    mode: r.mode,
    uid: r.uid,
    gid: r.gid,
    mtimeSec: r.mtimeSec,
    mtimeNsec: r.mtimeNsec,
    size: type === 'file' ? Number(r.size) : 0,
    linkname: type === 'symlink' || type === 'hardlink' ? r.link : '',
    // overlayfs's bookkeeping never goes into a layer; opaque is expressed as a marker file.
    xattrs: allowedXattrs(r.xattrs) ?? new Map(),
    devmajor: type === 'char' || type === 'block' ? Number(r.size >> 32n) : 0,
    devminor: type === 'char' || type === 'block' ? Number(r.size & 0xffffffffn) : 0,
  };
  const opaque = style === 'overlay' && type === 'dir' && r.xattrs.get('trusted.overlay.opaque')?.toString() === 'y';
  return opaque ? [entry, { name: `${r.path}/${OPAQUE_MARKER}`, type: 'file', mode: 0o644, size: 0, uid: 0, gid: 0 }] : [entry];
}

/** The changes of source as an uncompressed tar stream. */
export async function* diffLayer(source: DiffSource): AsyncGenerator<Buffer> {
  const argv =
    source.style === 'overlay' ? ['scan', source.upper] : source.style === 'tree' ? ['scan', source.dir] : ['diff', source.lower, source.upper];
  const child = spawn(UNPACK_PATH, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const exit = new Promise<number | null>((resolve) => {
    child.on('error', () => resolve(-1));
    child.on('close', resolve);
  });
  const pull = new ByteSource((child.stdout as AsyncIterable<Buffer>)[Symbol.asyncIterator]());
  try {
    for (let r = await readRecord(pull); r.op !== Op.End; r = await readRecord(pull)) {
      for (const e of toEntries(r, source.style)) yield entryHeader(e);
      if (r.op !== Op.File) continue;
      for (let left = Number(r.size); left > 0; ) {
        const part = await pull.some(left);
        if (part.length === 0) throw internal('berth-unpack: record stream ended inside file data');
        left -= part.length;
        yield part;
      }
      yield dataPadding(Number(r.size));
    }
    yield END_OF_ARCHIVE;
  } catch (err) {
    const code = await exit;
    if (code !== 0) throw internal(`layer diff: ${stderr.trim().replace(/^berth-unpack: /, '') || `berth-unpack exit ${code}`}`, err);
    throw err;
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
  if ((await exit) !== 0) throw internal(`layer diff: ${stderr.trim().replace(/^berth-unpack: /, '')}`);
}
