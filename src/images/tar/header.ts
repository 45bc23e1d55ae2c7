// The 512-byte tar header (ustar, GNU and PAX extensions): decoding for the reader and
// encoding for the writer. Numbers are octal, or base-256 when the high bit is set (GNU).
import { invalidArgument } from '../../util/errors.js';

export const BLOCK = 512;

export type EntryType = 'file' | 'hardlink' | 'symlink' | 'char' | 'block' | 'dir' | 'fifo';

/** What one tar member describes, after long names and PAX records are merged in. */
export interface TarEntry {
  name: string;
  type: EntryType;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtimeSec: number;
  mtimeNsec: number;
  linkname: string;
  uname: string;
  gname: string;
  devmajor: number;
  devminor: number;
  xattrs: ReadonlyMap<string, Buffer>;
}

/** Raw typeflags: members plus the extension headers that modify the next member. */
export const TYPEFLAG: Record<string, EntryType | 'pax' | 'paxGlobal' | 'gnuLongName' | 'gnuLongLink' | 'gnuSparse'> = {
  '0': 'file',
  '\0': 'file',
  '7': 'file', // contiguous file: a regular file everywhere that matters
  '1': 'hardlink',
  '2': 'symlink',
  '3': 'char',
  '4': 'block',
  '5': 'dir',
  '6': 'fifo',
  x: 'pax',
  g: 'paxGlobal',
  L: 'gnuLongName',
  K: 'gnuLongLink',
  S: 'gnuSparse',
};

export interface RawHeader {
  name: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  typeflag: string;
  linkname: string;
  uname: string;
  gname: string;
  devmajor: number;
  devminor: number;
}

function cString(buf: Buffer, off: number, len: number): string {
  const end = buf.indexOf(0, off);
  return buf.toString('utf8', off, end === -1 || end > off + len ? off + len : end);
}

function readNumber(buf: Buffer, off: number, len: number, field: string): number {
  if (buf[off]! & 0x80) {
    // base-256: big-endian two's complement with the marker bit cleared
    if (buf[off] === 0xff) throw invalidArgument(`tar header: negative ${field}`);
    let v = buf[off]! & 0x7f;
    for (let i = 1; i < len; i++) v = v * 256 + buf[off + i]!;
    if (!Number.isSafeInteger(v)) throw invalidArgument(`tar header: ${field} too large`);
    return v;
  }
  // Octal digits, optionally padded with spaces and NULs on either side (every tar writer differs).
  let i = off;
  const end = off + len;
  while (i < end && (buf[i] === 0x20 || buf[i] === 0)) i++;
  let v = 0;
  for (; i < end; i++) {
    const c = buf[i]!;
    if (c < 0x30 || c > 0x37) break;
    v = v * 8 + (c - 0x30);
  }
  for (; i < end; i++) {
    if (buf[i] !== 0x20 && buf[i] !== 0) {
      throw invalidArgument(`tar header: ${field} is not an octal number: "${buf.toString('latin1', off, end).replace(/\0/g, '')}"`);
    }
  }
  if (!Number.isSafeInteger(v)) throw invalidArgument(`tar header: ${field} too large`);
  return v;
}

/** Whether a first block carries the ustar magic (POSIX "ustar\0" or GNU "ustar "). */
export function hasTarMagic(head: Buffer): boolean {
  return head.length >= 262 && head.toString('latin1', 257, 262) === 'ustar';
}

export function isZeroBlock(buf: Buffer): boolean {
  for (let i = 0; i < BLOCK; i++) if (buf[i] !== 0) return false;
  return true;
}

function checksumOk(buf: Buffer): boolean {
  const want = readNumber(buf, 148, 8, 'checksum');
  let unsigned = 8 * 0x20; // the checksum field counts as spaces
  for (let i = 0; i < 148; i++) unsigned += buf[i]!;
  for (let i = 156; i < BLOCK; i++) unsigned += buf[i]!;
  if (want === unsigned) return true;
  // Some old writers summed signed bytes.
  let signed = 8 * 0x20;
  for (let i = 0; i < BLOCK; i++) if (i < 148 || i >= 156) signed += buf[i]! > 127 ? buf[i]! - 256 : buf[i]!;
  return want === signed;
}

export function decodeHeader(buf: Buffer): RawHeader {
  if (!checksumOk(buf)) throw invalidArgument('tar header checksum mismatch (not a tar stream, or corrupt)');
  const magic = buf.toString('latin1', 257, 263);
  let name = cString(buf, 0, 100);
  if (magic === 'ustar\0' || magic === 'ustar ') {
    const prefix = magic === 'ustar\0' ? cString(buf, 345, 155) : '';
    if (prefix) name = `${prefix}/${name}`;
  }
  return {
    name,
    mode: readNumber(buf, 100, 8, 'mode'),
    uid: readNumber(buf, 108, 8, 'uid'),
    gid: readNumber(buf, 116, 8, 'gid'),
    size: readNumber(buf, 124, 12, 'size'),
    mtime: readNumber(buf, 136, 12, 'mtime'),
    typeflag: String.fromCharCode(buf[156]!),
    linkname: cString(buf, 157, 100),
    uname: cString(buf, 265, 32),
    gname: cString(buf, 297, 32),
    devmajor: readNumber(buf, 329, 8, 'devmajor'),
    devminor: readNumber(buf, 337, 8, 'devminor'),
  };
}

/** PAX extended header records: "<len> <key>=<value>\n", values may be binary (xattrs). */
export function parsePax(data: Buffer): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  let off = 0;
  while (off < data.length) {
    if (data[off] === 0) break; // NUL padding after the last record
    const space = data.indexOf(0x20, off);
    if (space === -1 || space - off > 20) throw invalidArgument('tar: malformed PAX record length');
    const len = Number(data.toString('latin1', off, space));
    if (!Number.isSafeInteger(len) || len <= space - off + 1 || off + len > data.length || data[off + len - 1] !== 0x0a) {
      throw invalidArgument('tar: malformed PAX record');
    }
    const rec = data.subarray(space + 1, off + len - 1);
    const eq = rec.indexOf(0x3d);
    if (eq <= 0) throw invalidArgument('tar: PAX record without a key');
    out.set(rec.toString('utf8', 0, eq), Buffer.from(rec.subarray(eq + 1)));
    off += len;
  }
  return out;
}

// ---- encoding (writer side) ----

const TYPE_CODE: Record<EntryType, string> = {
  file: '0',
  hardlink: '1',
  symlink: '2',
  char: '3',
  block: '4',
  dir: '5',
  fifo: '6',
};

function writeString(buf: Buffer, off: number, len: number, s: string): boolean {
  const b = Buffer.from(s, 'utf8');
  if (b.length > len) return false;
  b.copy(buf, off);
  return true;
}

/** Octal when it fits (ustar), base-256 otherwise (GNU); returns false only for negatives. */
function writeNumber(buf: Buffer, off: number, len: number, v: number): void {
  const octal = v.toString(8);
  if (octal.length <= len - 1) {
    buf.write(octal.padStart(len - 1, '0'), off, 'latin1');
    buf[off + len - 1] = 0;
    return;
  }
  let rest = v;
  for (let i = len - 1; i > 0; i--) {
    buf[off + i] = rest % 256;
    rest = Math.floor(rest / 256);
  }
  buf[off] = 0x80;
}

export interface HeaderFields {
  name: string;
  type: EntryType | 'pax';
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtimeSec: number;
  linkname?: string;
  uname?: string;
  gname?: string;
  devmajor?: number;
  devminor?: number;
}

/** One ustar header block; returns undefined when name/linkname do not fit (caller adds PAX). */
export function encodeHeader(h: HeaderFields): Buffer | undefined {
  const buf = Buffer.alloc(BLOCK);
  let name = h.name;
  let prefix = '';
  if (Buffer.byteLength(name) > 100) {
    const cut = name.lastIndexOf('/', 155);
    if (cut <= 0 || Buffer.byteLength(name.slice(0, cut)) > 155 || Buffer.byteLength(name.slice(cut + 1)) > 100) return undefined;
    prefix = name.slice(0, cut);
    name = name.slice(cut + 1);
  }
  if (!writeString(buf, 0, 100, name) || !writeString(buf, 157, 100, h.linkname ?? '')) return undefined;
  writeString(buf, 345, 155, prefix);
  writeNumber(buf, 100, 8, h.mode & 0o7777);
  writeNumber(buf, 108, 8, h.uid);
  writeNumber(buf, 116, 8, h.gid);
  writeNumber(buf, 124, 12, h.size);
  writeNumber(buf, 136, 12, Math.max(0, Math.floor(h.mtimeSec)));
  buf[156] = (h.type === 'pax' ? 'x' : TYPE_CODE[h.type]).charCodeAt(0);
  buf.write('ustar\x0000', 257, 'latin1');
  writeString(buf, 265, 32, (h.uname ?? '').slice(0, 31));
  writeString(buf, 297, 32, (h.gname ?? '').slice(0, 31));
  writeNumber(buf, 329, 8, h.devmajor ?? 0);
  writeNumber(buf, 337, 8, h.devminor ?? 0);
  buf.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += buf[i]!;
  buf.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
  return buf;
}

/** PAX record "<len> key=value\n" where len counts itself. */
export function paxRecord(key: string, value: Buffer | string): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`), typeof value === 'string' ? Buffer.from(value) : value, Buffer.from('\n')]);
  let len = body.length + 1;
  while (String(len).length + body.length !== len) len = String(len).length + body.length;
  return Buffer.concat([Buffer.from(String(len)), body]);
}
