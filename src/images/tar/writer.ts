// A tar writer (ustar, with PAX records for what ustar cannot hold: long names, xattrs,
// sub-second times, large ids and sizes). Output is deterministic for the same input.
import { BLOCK, encodeHeader, paxRecord, type EntryType } from './header.js';

export interface WriteEntry {
  name: string;
  type: EntryType;
  mode?: number;
  uid?: number;
  gid?: number;
  size?: number;
  mtimeSec?: number;
  mtimeNsec?: number;
  linkname?: string;
  uname?: string;
  gname?: string;
  devmajor?: number;
  devminor?: number;
  xattrs?: ReadonlyMap<string, Buffer>;
}

const USTAR_MAX_ID = 0o7777777;
const USTAR_MAX_SIZE = 0o77777777777;

function paxRecordsFor(e: WriteEntry, fits: boolean): Buffer[] {
  const recs: Buffer[] = [];
  if (!fits) {
    recs.push(paxRecord('path', e.name));
    if (e.linkname) recs.push(paxRecord('linkpath', e.linkname));
  }
  if ((e.uid ?? 0) > USTAR_MAX_ID) recs.push(paxRecord('uid', String(e.uid)));
  if ((e.gid ?? 0) > USTAR_MAX_ID) recs.push(paxRecord('gid', String(e.gid)));
  if ((e.size ?? 0) > USTAR_MAX_SIZE) recs.push(paxRecord('size', String(e.size)));
  if (e.mtimeNsec) recs.push(paxRecord('mtime', `${e.mtimeSec ?? 0}.${String(e.mtimeNsec).padStart(9, '0')}`));
  for (const [k, v] of [...(e.xattrs ?? [])].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) recs.push(paxRecord(`SCHILY.xattr.${k}`, v));
  return recs;
}

function padTo(n: number): Buffer {
  const pad = (BLOCK - (n % BLOCK)) % BLOCK;
  return Buffer.alloc(pad);
}

/** The header block(s) of one member: an optional PAX header, then the ustar header. */
export function entryHeader(e: WriteEntry): Buffer {
  const fields = {
    name: e.name,
    type: e.type,
    mode: e.mode ?? (e.type === 'dir' ? 0o755 : 0o644),
    uid: Math.min(e.uid ?? 0, USTAR_MAX_ID),
    gid: Math.min(e.gid ?? 0, USTAR_MAX_ID),
    size: e.type === 'file' ? Math.min(e.size ?? 0, USTAR_MAX_SIZE) : 0,
    mtimeSec: e.mtimeSec ?? 0,
    linkname: e.linkname ?? '',
    uname: e.uname ?? '',
    gname: e.gname ?? '',
    devmajor: e.devmajor ?? 0,
    devminor: e.devminor ?? 0,
  };
  const plain = encodeHeader(fields);
  const recs = paxRecordsFor(e, plain !== undefined);
  const header = plain ?? encodeHeader({ ...fields, name: truncatedName(e.name), linkname: '' })!;
  if (recs.length === 0) return header;
  const body = Buffer.concat(recs);
  const paxName = truncatedName(`PaxHeaders/${e.name.split('/').pop() ?? ''}`);
  const paxHeader = encodeHeader({ name: paxName, type: 'pax', mode: 0o644, uid: 0, gid: 0, size: body.length, mtimeSec: 0 })!;
  return Buffer.concat([paxHeader, body, padTo(body.length), header]);
}

function truncatedName(name: string): string {
  let n = name;
  while (Buffer.byteLength(n) > 100) n = n.slice(0, -1);
  return n;
}

/** Padding after size bytes of member data. */
export function dataPadding(size: number): Buffer {
  return padTo(size);
}

/** Two zero blocks end an archive. */
export const END_OF_ARCHIVE = Buffer.alloc(BLOCK * 2);

/** A whole archive in memory (tests, small layers): [entry, data?] pairs. */
export function tarBuffer(entries: Array<WriteEntry & { data?: Buffer | string }>): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const data = e.data === undefined ? undefined : Buffer.from(e.data);
    const withSize = data ? { ...e, size: data.length } : e;
    parts.push(entryHeader(withSize));
    if (data && e.type === 'file') parts.push(data, dataPadding(data.length));
  }
  parts.push(END_OF_ARCHIVE);
  return Buffer.concat(parts);
}
