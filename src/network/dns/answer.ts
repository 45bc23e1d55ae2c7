// What the embedded DNS server does with one query: answer it from berth's own names,
// forward it upstream, or reject it. Pure (no sockets) so it is unit-tested directly.
//
// Behaviour follows Docker's embedded resolver (moby libnetwork/resolver.go):
// - A for a known name: one A record per address, TTL 600, RA set, not authoritative.
// - AAAA (or MX, or any other type but A/ANY/PTR) for a known name: NOERROR with no
//   answers — the name exists, it just has no such record — so clients fall back to A
//   instead of failing on NXDOMAIN.
// - PTR for <d>.<c>.<b>.<a>.in-addr.arpa of a known container address.
// - Anything else (unknown names, reverse lookups of unknown addresses, other classes)
//   is forwarded; berth never answers NXDOMAIN for names it does not own.

import { isIPv4 } from 'node:net';
import {
  Opcode,
  RCode,
  RRClass,
  RRType,
  canonicalName,
  defaultFlags,
  optRecord,
  type DnsMessage,
  type DnsRecord,
} from './message.js';

/** TTL of berth's own records (Docker uses 600). */
export const LOCAL_TTL = 600;
/** UDP payload size berth advertises in its own OPT records. */
export const SERVER_UDP_SIZE = 4096;

export interface DnsResolver {
  /** IPv4 addresses for `name` (lower-cased, no trailing dot) as seen by the client at
   * `clientIp`; undefined when the name is not berth's (then forward). An empty array
   * means "known name, no A record" (NOERROR, no answers). */
  lookupA(name: string, clientIp: string): string[] | undefined;
  /** The name for a PTR query of `ip` from `clientIp`, or undefined (forward). */
  lookupPtr(ip: string, clientIp: string): string | undefined;
}

export type Decision =
  | { kind: 'answer'; response: DnsMessage }
  | { kind: 'forward' }
  /** Not something to reply to at all (a response, no question...). */
  | { kind: 'drop' };

/** A reply skeleton: same ID, question, opcode, RD and CD; QR and RA set; an OPT
 * record when the query had one. */
export function replyTo(query: DnsMessage, rcode: number, answers: DnsRecord[] = []): DnsMessage {
  const hasOpt = query.additionals.some((r) => r.type === RRType.OPT);
  return {
    id: query.id,
    flags: {
      ...defaultFlags(),
      qr: true,
      opcode: query.flags.opcode,
      rd: query.flags.rd,
      cd: query.flags.cd,
      ra: true,
      rcode,
    },
    questions: query.questions.slice(0, 1),
    answers,
    authorities: [],
    additionals: hasOpt ? [optRecord(SERVER_UDP_SIZE)] : [],
  };
}

/** The IPv4 address named by a reverse-lookup name, or undefined. */
export function ptrNameToIPv4(name: string): string | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.in-addr\.arpa$/.exec(canonicalName(name));
  if (!m) return undefined;
  const ip = [m[4], m[3], m[2], m[1]].map((o) => String(Number(o))).join('.');
  // Reject leading zeros ("01") and octets > 255: such names are not berth's.
  if (!isIPv4(ip) || [m[1], m[2], m[3], m[4]].some((o) => o !== String(Number(o)))) return undefined;
  return ip;
}

/** Looks a name up as is, then (if it ends with one) without each search domain. */
function lookupName(
  resolver: DnsResolver,
  name: string,
  clientIp: string,
  searchDomains: readonly string[],
): string[] | undefined {
  const direct = resolver.lookupA(name, clientIp);
  if (direct !== undefined) return direct;
  for (const d of searchDomains) {
    const domain = canonicalName(d);
    if (domain === '' || !name.endsWith('.' + domain)) continue;
    const short = name.slice(0, -(domain.length + 1));
    const found = resolver.lookupA(short, clientIp);
    if (found !== undefined) return found;
  }
  return undefined;
}

export interface DecideOptions {
  /** Search domains the client may have appended to a container name. */
  searchDomains?: readonly string[];
  /** Shuffle multiple addresses (round robin for clients that take the first); default true. */
  shuffle?: boolean;
}

/**
 * Decides how to handle a parsed query from `clientIp`. Never throws for anything the
 * resolver returns; a resolver that throws is the caller's to catch.
 */
export function decide(query: DnsMessage, resolver: DnsResolver, clientIp: string, opts: DecideOptions = {}): Decision {
  if (query.flags.qr) return { kind: 'drop' }; // never answer a response (reflection loops)
  if (query.flags.opcode !== Opcode.Query) return { kind: 'answer', response: replyTo(query, RCode.NotImp) };
  if (query.questions.length !== 1) return { kind: 'answer', response: replyTo(query, RCode.FormErr) };
  const q = query.questions[0]!;
  if (q.class !== RRClass.IN) return { kind: 'forward' };
  const name = canonicalName(q.name);

  if (q.type === RRType.PTR) {
    const ip = ptrNameToIPv4(name);
    if (ip === undefined) return { kind: 'forward' };
    const target = resolver.lookupPtr(ip, clientIp);
    if (target === undefined) return { kind: 'forward' };
    const rr: DnsRecord = { name: q.name, type: RRType.PTR, class: RRClass.IN, ttl: LOCAL_TTL, target };
    return { kind: 'answer', response: replyTo(query, RCode.NoError, [rr]) };
  }

  if (name === '') return { kind: 'forward' };
  const found = lookupName(resolver, name, clientIp, opts.searchDomains ?? []);
  if (found === undefined) return { kind: 'forward' };
  if (q.type !== RRType.A && q.type !== RRType.ANY) return { kind: 'answer', response: replyTo(query, RCode.NoError) };

  let addrs = [...new Set(found.filter((a) => isIPv4(a)))];
  if (addrs.length > 1 && opts.shuffle !== false) addrs = shuffle(addrs);
  const answers = addrs.map(
    (address): DnsRecord => ({ name: q.name, type: RRType.A, class: RRClass.IN, ttl: LOCAL_TTL, address }),
  );
  return { kind: 'answer', response: replyTo(query, RCode.NoError, answers) };
}

function shuffle<T>(a: T[]): T[] {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}
