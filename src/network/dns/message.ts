// DNS message codec (RFC 1035 §4, EDNS0 OPT from RFC 6891): just what the embedded
// server needs — header, questions and resource records, with name compression.
//
// Reading is defensive: every offset is bounds-checked, a compression pointer must
// point strictly backwards (so pointer chains cannot loop), labels are at most 63
// bytes and names at most 255 bytes on the wire. Any violation throws a BerthError
// (InvalidArgument); callers drop the packet.
//
// Names are strings of dot-separated labels without the trailing dot (the root is
// ''). Bytes that cannot appear literally in such a string (a '.', a '\', anything
// outside printable ASCII) are escaped as \DDD, as dig prints them, so every wire
// name round-trips.

import { isIPv4, isIPv6 } from 'node:net';
import { invalidArgument } from '../../util/errors.js';

export const RRType = {
  A: 1,
  NS: 2,
  CNAME: 5,
  SOA: 6,
  PTR: 12,
  MX: 15,
  TXT: 16,
  AAAA: 28,
  SRV: 33,
  OPT: 41,
  ANY: 255,
} as const;

export const RRClass = { IN: 1 } as const;

export const RCode = { NoError: 0, FormErr: 1, ServFail: 2, NXDomain: 3, NotImp: 4, Refused: 5 } as const;

export const Opcode = { Query: 0 } as const;

/** The size every DNS client accepts over UDP (RFC 1035 §4.2.1). */
export const MIN_UDP_SIZE = 512;
/** The largest DNS message (TCP length prefix is 16 bits). */
export const MAX_MESSAGE_SIZE = 65535;
export const HEADER_SIZE = 12;
const MAX_NAME_WIRE = 255;
const MAX_LABEL = 63;

export interface DnsFlags {
  qr: boolean; // response
  opcode: number; // 4 bits
  aa: boolean; // authoritative answer
  tc: boolean; // truncated
  rd: boolean; // recursion desired
  ra: boolean; // recursion available
  ad: boolean; // authentic data (RFC 4035)
  cd: boolean; // checking disabled
  rcode: number; // low 4 bits (the OPT record carries the high 8)
}

export interface DnsQuestion {
  name: string;
  type: number;
  class: number;
}

export interface DnsRecord {
  name: string;
  type: number;
  /** For OPT: the requestor's UDP payload size. */
  class: number;
  /** For OPT: extended RCODE, version and flags. */
  ttl: number;
  /** A / AAAA: the address. */
  address?: string;
  /** PTR, CNAME, NS: the target name. */
  target?: string;
  /** Raw RDATA. Written as is for other types; always filled in by decode (for
   * name-carrying types it may contain compression pointers into the message). */
  rdata?: Buffer;
}

export interface DnsMessage {
  id: number;
  flags: DnsFlags;
  questions: DnsQuestion[];
  answers: DnsRecord[];
  authorities: DnsRecord[];
  additionals: DnsRecord[];
}

export function defaultFlags(): DnsFlags {
  return { qr: false, opcode: 0, aa: false, tc: false, rd: false, ra: false, ad: false, cd: false, rcode: 0 };
}

function malformed(what: string): never {
  throw invalidArgument(`malformed DNS message: ${what}`);
}

// ---------------------------------------------------------------------------
// Names

/** Splits a presentation name into raw label bytes, undoing \DDD and \X escapes. */
export function nameToLabels(name: string): Buffer[] {
  let n = name;
  if (n.endsWith('.') && !n.endsWith('\\.')) n = n.slice(0, -1);
  if (n === '') return [];
  const labels: Buffer[] = [];
  let cur: number[] = [];
  for (let i = 0; i < n.length; i++) {
    const ch = n.charCodeAt(i);
    if (ch === 0x2e /* . */) {
      labels.push(Buffer.from(cur));
      cur = [];
    } else if (ch === 0x5c /* \ */) {
      const digits = n.slice(i + 1, i + 4);
      if (/^[0-9]{3}$/.test(digits)) {
        const v = Number(digits);
        if (v > 255) throw invalidArgument(`bad escape in DNS name ${JSON.stringify(name)}`);
        cur.push(v);
        i += 3;
      } else if (i + 1 < n.length) {
        cur.push(n.charCodeAt(i + 1) & 0xff);
        i += 1;
      } else {
        throw invalidArgument(`trailing backslash in DNS name ${JSON.stringify(name)}`);
      }
    } else {
      if (ch > 0xff) throw invalidArgument(`non-ASCII character in DNS name ${JSON.stringify(name)}`);
      cur.push(ch);
    }
  }
  labels.push(Buffer.from(cur));
  let wire = 1;
  for (const l of labels) {
    if (l.length === 0) throw invalidArgument(`empty label in DNS name ${JSON.stringify(name)}`);
    if (l.length > MAX_LABEL) throw invalidArgument(`label longer than 63 bytes in DNS name ${JSON.stringify(name)}`);
    wire += 1 + l.length;
  }
  if (wire > MAX_NAME_WIRE) throw invalidArgument(`DNS name longer than 255 bytes: ${JSON.stringify(name)}`);
  return labels;
}

function labelToString(label: Buffer): string {
  let s = '';
  for (const b of label) {
    if (b === 0x2e || b === 0x5c) s += '\\' + String.fromCharCode(b);
    else if (b > 0x20 && b < 0x7f) s += String.fromCharCode(b);
    else s += '\\' + String(b).padStart(3, '0');
  }
  return s;
}

/** Lower-cases ASCII letters only (DNS names compare case-insensitively, RFC 4343). */
export function canonicalName(name: string): string {
  let n = name.replace(/[A-Z]/g, (c) => c.toLowerCase());
  if (n.endsWith('.') && !n.endsWith('\\.')) n = n.slice(0, -1);
  return n;
}

/** Reads a possibly compressed name at `offset`; returns it and the offset just past it
 * (past the first pointer, if any). */
export function readName(buf: Buffer, offset: number): { name: string; next: number } {
  const labels: string[] = [];
  let pos = offset;
  let next = -1; // where the caller continues: after the first pointer
  let wire = 1;
  let lowest = offset; // a pointer must point strictly before every byte read so far
  for (;;) {
    if (pos >= buf.length) malformed('name runs past the end');
    const len = buf[pos]!;
    if (len === 0) {
      if (next < 0) next = pos + 1;
      break;
    }
    const kind = len & 0xc0;
    if (kind === 0xc0) {
      if (pos + 1 >= buf.length) malformed('compression pointer runs past the end');
      const target = ((len & 0x3f) << 8) | buf[pos + 1]!;
      if (next < 0) next = pos + 2;
      if (target >= lowest) malformed('compression pointer does not point backwards');
      lowest = target;
      pos = target;
      continue;
    }
    if (kind !== 0) malformed('reserved label type');
    if (pos + 1 + len > buf.length) malformed('label runs past the end');
    wire += 1 + len;
    if (wire > MAX_NAME_WIRE) malformed('name longer than 255 bytes');
    labels.push(labelToString(buf.subarray(pos + 1, pos + 1 + len)));
    pos += 1 + len;
  }
  return { name: labels.join('.'), next };
}

// ---------------------------------------------------------------------------
// Decoding

function u16(buf: Buffer, off: number, what: string): number {
  if (off + 2 > buf.length) malformed(`${what} runs past the end`);
  return buf.readUInt16BE(off);
}

/** Reads just the 12-byte header: id, flags and the four counts. */
export function decodeHeader(buf: Buffer): { id: number; flags: DnsFlags; counts: [number, number, number, number] } {
  if (buf.length < HEADER_SIZE) malformed('shorter than a header');
  const id = buf.readUInt16BE(0);
  const f = buf.readUInt16BE(2);
  const flags: DnsFlags = {
    qr: (f & 0x8000) !== 0,
    opcode: (f >> 11) & 0xf,
    aa: (f & 0x0400) !== 0,
    tc: (f & 0x0200) !== 0,
    rd: (f & 0x0100) !== 0,
    ra: (f & 0x0080) !== 0,
    ad: (f & 0x0020) !== 0,
    cd: (f & 0x0010) !== 0,
    rcode: f & 0xf,
  };
  return { id, flags, counts: [buf.readUInt16BE(4), buf.readUInt16BE(6), buf.readUInt16BE(8), buf.readUInt16BE(10)] };
}

function readQuestion(buf: Buffer, off: number): { q: DnsQuestion; next: number } {
  const { name, next } = readName(buf, off);
  const type = u16(buf, next, 'question type');
  const cls = u16(buf, next + 2, 'question class');
  return { q: { name, type, class: cls }, next: next + 4 };
}

function readRecord(buf: Buffer, off: number): { rr: DnsRecord; next: number } {
  const { name, next: p } = readName(buf, off);
  if (p + 10 > buf.length) malformed('record header runs past the end');
  const type = buf.readUInt16BE(p);
  const cls = buf.readUInt16BE(p + 2);
  const ttl = buf.readUInt32BE(p + 4);
  const rdlen = buf.readUInt16BE(p + 8);
  const start = p + 10;
  const end = start + rdlen;
  if (end > buf.length) malformed('record data runs past the end');
  const rdata = buf.subarray(start, end);
  const rr: DnsRecord = { name, type, class: cls, ttl, rdata };
  if (type === RRType.A && cls === RRClass.IN) {
    if (rdlen !== 4) malformed('A record is not 4 bytes');
    rr.address = [...rdata].join('.');
  } else if (type === RRType.AAAA && cls === RRClass.IN) {
    if (rdlen !== 16) malformed('AAAA record is not 16 bytes');
    rr.address = formatIPv6(rdata);
  } else if (type === RRType.PTR || type === RRType.CNAME || type === RRType.NS) {
    // The name may be compressed against the whole message, but must end inside RDATA.
    const t = readName(buf.subarray(0, end), start);
    if (t.next !== end) malformed('name in record data does not fill it');
    rr.target = t.name;
  }
  return { rr, next: end };
}

/** Parses a whole message. Trailing bytes after the last record are ignored. */
export function decodeMessage(buf: Buffer): DnsMessage {
  if (buf.length > MAX_MESSAGE_SIZE) malformed('longer than 65535 bytes');
  const { id, flags, counts } = decodeHeader(buf);
  let off = HEADER_SIZE;
  const questions: DnsQuestion[] = [];
  for (let i = 0; i < counts[0]; i++) {
    const r = readQuestion(buf, off);
    questions.push(r.q);
    off = r.next;
  }
  const sections: DnsRecord[][] = [[], [], []];
  for (let s = 0; s < 3; s++) {
    for (let i = 0; i < counts[s + 1]!; i++) {
      const r = readRecord(buf, off);
      sections[s]!.push(r.rr);
      off = r.next;
    }
  }
  return { id, flags, questions, answers: sections[0]!, authorities: sections[1]!, additionals: sections[2]! };
}

/** Reads only the header and the questions (enough to route or check a reply). */
export function decodeQuestions(buf: Buffer): { id: number; flags: DnsFlags; questions: DnsQuestion[] } {
  const { id, flags, counts } = decodeHeader(buf);
  let off = HEADER_SIZE;
  const questions: DnsQuestion[] = [];
  for (let i = 0; i < counts[0]; i++) {
    const r = readQuestion(buf, off);
    questions.push(r.q);
    off = r.next;
  }
  return { id, flags, questions };
}

// ---------------------------------------------------------------------------
// Encoding

class Writer {
  private buf = Buffer.alloc(512);
  len = 0;
  private readonly names = new Map<string, number>();
  constructor(private readonly compress: boolean) {}

  private ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    if (this.len + n > MAX_MESSAGE_SIZE) throw invalidArgument('DNS message longer than 65535 bytes');
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const b = Buffer.alloc(Math.min(size, MAX_MESSAGE_SIZE));
    this.buf.copy(b, 0, 0, this.len);
    this.buf = b;
  }
  u8(v: number): void {
    this.ensure(1);
    this.buf.writeUInt8(v, this.len);
    this.len += 1;
  }
  u16(v: number): void {
    this.ensure(2);
    this.buf.writeUInt16BE(v & 0xffff, this.len);
    this.len += 2;
  }
  u32(v: number): void {
    this.ensure(4);
    this.buf.writeUInt32BE(v >>> 0, this.len);
    this.len += 4;
  }
  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }
  setU16(at: number, v: number): void {
    this.buf.writeUInt16BE(v, at);
  }
  name(name: string, compress = this.compress): void {
    const labels = nameToLabels(name);
    for (let i = 0; i < labels.length; i++) {
      // Suffix keys are exact (case-preserving) so compression never changes a name's case.
      const key = labels.slice(i).map((l) => l.toString('latin1')).join('\0');
      if (compress) {
        const at = this.names.get(key);
        if (at !== undefined) {
          this.u16(0xc000 | at);
          return;
        }
      }
      if (this.compress && this.len < 0x4000) this.names.set(key, this.len);
      this.u8(labels[i]!.length);
      this.bytes(labels[i]!);
    }
    this.u8(0);
  }
  result(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.len));
  }
}

function ipv4Bytes(address: string): Buffer {
  if (!isIPv4(address)) throw invalidArgument(`not an IPv4 address: ${address}`);
  return Buffer.from(address.split('.').map(Number));
}

function ipv6Bytes(address: string): Buffer {
  if (!isIPv6(address)) throw invalidArgument(`not an IPv6 address: ${address}`);
  let a = address;
  const out = Buffer.alloc(16);
  // An embedded dotted IPv4 tail (::ffff:1.2.3.4) becomes two groups.
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(a);
  if (v4) {
    const b = ipv4Bytes(v4[1]!);
    a = a.slice(0, -v4[1]!.length) + b.readUInt16BE(0).toString(16) + ':' + b.readUInt16BE(2).toString(16);
  }
  const [head, tail] = a.includes('::') ? a.split('::') : [a, undefined];
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

export function formatIPv6(b: Buffer): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(b.readUInt16BE(i));
  // Compress the longest run (length >= 2) of zero groups (RFC 5952).
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return hex.slice(0, bestStart).join(':') + '::' + hex.slice(bestStart + bestLen).join(':');
}

function writeRecord(w: Writer, rr: DnsRecord): void {
  w.name(rr.name);
  w.u16(rr.type);
  w.u16(rr.class);
  w.u32(rr.ttl);
  const lenAt = w.len;
  w.u16(0);
  const start = w.len;
  if ((rr.type === RRType.A || rr.type === RRType.AAAA) && rr.address !== undefined) {
    w.bytes(rr.type === RRType.A ? ipv4Bytes(rr.address) : ipv6Bytes(rr.address));
  } else if ((rr.type === RRType.PTR || rr.type === RRType.CNAME || rr.type === RRType.NS) && rr.target !== undefined) {
    w.name(rr.target);
  } else {
    const raw = rr.rdata ?? Buffer.alloc(0);
    // Decoded RDATA of name-carrying types may hold pointers into another message.
    if (raw.length > 0 && (rr.type === RRType.PTR || rr.type === RRType.CNAME || rr.type === RRType.NS)) {
      throw invalidArgument(`record of type ${rr.type} needs a target name`);
    }
    w.bytes(raw);
  }
  w.setU16(lenAt, w.len - start);
}

export function encodeFlags(f: DnsFlags): number {
  return (
    (f.qr ? 0x8000 : 0) |
    ((f.opcode & 0xf) << 11) |
    (f.aa ? 0x0400 : 0) |
    (f.tc ? 0x0200 : 0) |
    (f.rd ? 0x0100 : 0) |
    (f.ra ? 0x0080 : 0) |
    (f.ad ? 0x0020 : 0) |
    (f.cd ? 0x0010 : 0) |
    (f.rcode & 0xf)
  );
}

export interface EncodeOptions {
  /** Compress names (default true). */
  compress?: boolean;
  /** Largest allowed result. When the message does not fit, trailing records are
   * dropped (additionals first, then authorities, then answers, but an OPT record is
   * kept) and TC is set. Default: no limit (65535). */
  maxSize?: number;
}

/** Encodes a message. With maxSize, truncates as described on EncodeOptions. */
export function encodeMessage(msg: DnsMessage, opts: EncodeOptions = {}): Buffer {
  const compress = opts.compress ?? true;
  const maxSize = Math.min(opts.maxSize ?? MAX_MESSAGE_SIZE, MAX_MESSAGE_SIZE);
  const full = encodeRaw(msg, compress);
  if (full.length <= maxSize) return full;

  // Keep as many whole records as fit. Records are tried in order; OPT is preserved.
  const opt = msg.additionals.filter((r) => r.type === RRType.OPT);
  const base: DnsMessage = {
    ...msg,
    flags: { ...msg.flags, tc: true },
    answers: [],
    authorities: [],
    additionals: opt,
  };
  let best = encodeRaw(base, compress);
  if (best.length > maxSize) {
    best = encodeRaw({ ...base, additionals: [] }, compress);
    if (best.length > maxSize) throw invalidArgument('DNS header and question do not fit the size limit');
    return best;
  }
  // Binary search for the largest prefix of answers that fits (then authorities, additionals).
  const order: ['answers' | 'authorities' | 'additionals', DnsRecord[]][] = [
    ['answers', msg.answers],
    ['authorities', msg.authorities],
    ['additionals', msg.additionals.filter((r) => r.type !== RRType.OPT)],
  ];
  const cur: DnsMessage = { ...base, answers: [], authorities: [], additionals: [...opt] };
  for (const [section, records] of order) {
    let lo = 0;
    let hi = records.length;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      const trial = { ...cur, [section]: section === 'additionals' ? [...records.slice(0, mid), ...opt] : records.slice(0, mid) };
      const enc = encodeRaw(trial, compress);
      if (enc.length <= maxSize) {
        lo = mid;
        best = enc;
      } else {
        hi = mid - 1;
      }
    }
    cur[section] = section === 'additionals' ? [...records.slice(0, lo), ...opt] : records.slice(0, lo);
    if (lo < records.length) break;
  }
  return best;
}

function encodeRaw(msg: DnsMessage, compress: boolean): Buffer {
  const w = new Writer(compress);
  w.u16(msg.id);
  w.u16(encodeFlags(msg.flags));
  w.u16(msg.questions.length);
  w.u16(msg.answers.length);
  w.u16(msg.authorities.length);
  w.u16(msg.additionals.length);
  for (const q of msg.questions) {
    w.name(q.name);
    w.u16(q.type);
    w.u16(q.class);
  }
  for (const rr of msg.answers) writeRecord(w, rr);
  for (const rr of msg.authorities) writeRecord(w, rr);
  for (const rr of msg.additionals) writeRecord(w, rr);
  return w.result();
}

// ---------------------------------------------------------------------------
// EDNS0

/** The client's advertised UDP payload size: 512 without EDNS0, else the OPT record's
 * class (at least 512, at most `cap`). */
export function udpPayloadLimit(query: DnsMessage, cap = 4096): number {
  const opt = query.additionals.find((r) => r.type === RRType.OPT);
  if (!opt) return MIN_UDP_SIZE;
  return Math.max(MIN_UDP_SIZE, Math.min(opt.class, cap));
}

/** An OPT pseudo-record advertising `udpSize` (version 0, no options). */
export function optRecord(udpSize: number): DnsRecord {
  return { name: '', type: RRType.OPT, class: udpSize, ttl: 0, rdata: Buffer.alloc(0) };
}
