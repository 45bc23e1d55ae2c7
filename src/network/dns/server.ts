// The embedded DNS server of one user-defined network (Docker's libnetwork resolver).
//
// It listens on the network's gateway address (host side of the bridge), port 53, UDP
// and TCP; containers' resolv.conf points there. A query's source address tells the
// resolver which network/container asks. Names berth owns are answered locally (see
// answer.ts); everything else is relayed to the upstream resolvers with the client's
// transport, one upstream after another, each with a timeout; SERVFAIL when none
// answers.
//
// Robustness rules: nothing a client sends can throw out of a handler. Malformed UDP
// packets are dropped; a malformed TCP message closes its connection. Local UDP answers
// respect the client's size (512 bytes, or its EDNS0 size) and set TC when cut. TCP
// messages are length-prefixed (at most 65535 bytes) and each must arrive complete
// within tcpTimeoutMs, so slow or idle clients are disconnected. At most maxInFlight
// forwards run at once; UDP queries beyond that are dropped (the client retries), TCP
// ones get SERVFAIL. Upstream replies must come from the upstream's address and port
// (connected sockets), carry the random ID berth sent and the same question.

import { randomInt } from 'node:crypto';
import dgram from 'node:dgram';
import net from 'node:net';
import { errnoCode, invalidArgument, unavailable } from '../../util/errors.js';
import { decide, replyTo, type Decision, type DnsResolver } from './answer.js';
import {
  HEADER_SIZE,
  MAX_MESSAGE_SIZE,
  RCode,
  canonicalName,
  decodeMessage,
  decodeQuestions,
  encodeMessage,
  udpPayloadLimit,
  type DnsMessage,
} from './message.js';
import type { Upstream } from './resolv-conf.js';

export type { DnsResolver } from './answer.js';

export interface DnsServerOptions {
  /** Address to listen on, e.g. the bridge gateway '172.18.0.1' (tests: 127.0.0.x). */
  address: string;
  /** Default 53; 0 picks a free port (the same one for UDP and TCP). */
  port?: number;
  resolver: DnsResolver;
  /** Upstream resolvers, read for every forwarded query; may be empty. */
  upstreams: () => Upstream[];
  /** Per-upstream timeout, default 2000 ms. */
  timeoutMs?: number;
  log?: (level: 'debug' | 'warn', msg: string) => void;
  /** Search domains clients may append to container names (stripped before lookup). */
  searchDomains?: () => readonly string[];
  /** Concurrent forwarded queries, default 100. */
  maxInFlight?: number;
  /** Time a TCP client has to send each complete message, default 5000 ms. */
  tcpTimeoutMs?: number;
  /** Concurrent TCP connections, default 100; more are closed at once. */
  maxTcpConnections?: number;
}

type Proto = 'udp' | 'tcp';

/** Bytes a TCP client may have buffered (pipelined queries) before it is cut off. */
const MAX_TCP_BUFFER = 2 * (MAX_MESSAGE_SIZE + 2);
/** Unsent response bytes a TCP client may leave unread before it is cut off. */
const MAX_TCP_BACKLOG = 256 * 1024;
const FLOOD_LOG_INTERVAL_MS = 2000;

interface Pending {
  abort(): void;
}

export class DnsServer {
  private readonly o: DnsServerOptions;
  private readonly timeoutMs: number;
  private readonly maxInFlight: number;
  private readonly tcpTimeoutMs: number;
  private readonly maxTcpConnections: number;
  private udp: dgram.Socket | undefined;
  private tcp: net.Server | undefined;
  private readonly conns = new Set<net.Socket>();
  private readonly pending = new Set<Pending>();
  private inFlight = 0;
  private lastFloodLog = 0;
  private closed = false;
  private started = false;
  private boundPort: number;

  constructor(o: DnsServerOptions) {
    if (net.isIP(o.address) === 0) throw invalidArgument(`DNS listen address is not an IP address: ${o.address}`);
    this.o = o;
    this.timeoutMs = o.timeoutMs ?? 2000;
    this.maxInFlight = o.maxInFlight ?? 100;
    this.tcpTimeoutMs = o.tcpTimeoutMs ?? 5000;
    this.maxTcpConnections = o.maxTcpConnections ?? 100;
    this.boundPort = o.port ?? 53;
  }

  /** The port UDP and TCP listen on (the real one once started with port 0). */
  get port(): number {
    return this.boundPort;
  }

  get address(): string {
    return this.o.address;
  }

  /** Forwards currently in flight (for tests and diagnostics). */
  get inFlightCount(): number {
    return this.inFlight;
  }

  async start(): Promise<void> {
    if (this.started || this.closed) throw unavailable('DNS server was already started');
    this.started = true;
    const wanted = this.o.port ?? 53;
    // With port 0 the UDP port the kernel picks may be taken for TCP: retry a few times.
    for (let attempt = 0; ; attempt++) {
      const udp = await this.bindUdp(wanted);
      const port = udp.address().port;
      try {
        this.tcp = await this.listenTcp(port);
        this.udp = udp;
        this.boundPort = port;
        break;
      } catch (err) {
        await closeUdp(udp);
        if (wanted === 0 && errnoCode(err) === 'EADDRINUSE' && attempt < 5) continue;
        throw unavailable(`cannot listen for DNS on tcp ${this.o.address}:${port}: ${(err as Error).message}`, err);
      }
    }
    this.udp.on('message', (msg, rinfo) => {
      this.handleUdp(msg, rinfo).catch((err: unknown) => this.log('debug', `udp query from ${rinfo.address}: ${String(err)}`));
    });
    this.udp.on('error', (err) => this.log('warn', `dns udp socket: ${err.message}`));
    this.log('debug', `dns listening on ${this.o.address}:${this.boundPort} (udp, tcp)`);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const p of [...this.pending]) p.abort();
    this.pending.clear();
    for (const c of this.conns) c.destroy();
    this.conns.clear();
    const tcp = this.tcp;
    const udp = this.udp;
    this.tcp = undefined;
    this.udp = undefined;
    await Promise.all([
      tcp ? new Promise<void>((resolve) => tcp.close(() => resolve())) : undefined,
      udp ? closeUdp(udp) : undefined,
    ]);
  }

  // -------------------------------------------------------------------------
  // Listening

  private bindUdp(port: number): Promise<dgram.Socket> {
    const sock = dgram.createSocket(net.isIPv6(this.o.address) ? 'udp6' : 'udp4');
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => {
        sock.close();
        reject(unavailable(`cannot listen for DNS on udp ${this.o.address}:${port}: ${err.message}`, err));
      };
      sock.once('error', onError);
      sock.bind({ address: this.o.address, port, exclusive: true }, () => {
        sock.off('error', onError);
        resolve(sock);
      });
    });
  }

  private listenTcp(port: number): Promise<net.Server> {
    const server = net.createServer({ allowHalfOpen: true }, (sock) => this.handleTcp(sock));
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: this.o.address, port, exclusive: true }, () => {
        server.off('error', reject);
        server.on('error', (err) => this.log('warn', `dns tcp listener: ${err.message}`));
        resolve(server);
      });
    });
  }

  // -------------------------------------------------------------------------
  // UDP

  private async handleUdp(msg: Buffer, rinfo: dgram.RemoteInfo): Promise<void> {
    let query: DnsMessage;
    try {
      query = decodeMessage(msg);
    } catch (err) {
      this.log('debug', `dropping malformed udp packet from ${rinfo.address}:${rinfo.port}: ${(err as Error).message}`);
      return;
    }
    const resp = await this.respond(query, msg, 'udp', rinfo.address);
    const udp = this.udp;
    if (resp === undefined || this.closed || !udp) return;
    const failed = (err: Error): void => this.log('debug', `udp reply to ${rinfo.address}:${rinfo.port}: ${err.message}`);
    try {
      udp.send(resp, rinfo.port, rinfo.address, (err) => err && failed(err));
    } catch (err) {
      failed(err as Error); // port 0 and the like throw synchronously
    }
  }

  // -------------------------------------------------------------------------
  // TCP

  private handleTcp(sock: net.Socket): void {
    sock.on('error', () => undefined); // reset by peer etc.: 'close' follows
    if (this.closed || this.conns.size >= this.maxTcpConnections) {
      sock.destroy();
      return;
    }
    this.conns.add(sock);
    const clientIp = unmapIPv4(sock.remoteAddress ?? '');
    let buf: Buffer = Buffer.alloc(0);
    let busy = false;
    let ended = false;
    let timer: NodeJS.Timeout | undefined;
    const arm = (): void => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        this.log('debug', `closing slow dns tcp client ${clientIp}`);
        sock.destroy();
      }, this.tcpTimeoutMs);
    };
    sock.on('close', () => {
      clearTimeout(timer);
      this.conns.delete(sock);
    });
    arm();

    const pump = async (): Promise<void> => {
      busy = true;
      try {
        while (!this.closed && !sock.destroyed && buf.length >= 2) {
          const len = buf.readUInt16BE(0);
          if (len < HEADER_SIZE) throw new Error(`message of ${len} bytes`);
          if (buf.length < 2 + len) break;
          const msg = Buffer.from(buf.subarray(2, 2 + len));
          buf = buf.subarray(2 + len);
          clearTimeout(timer);
          const query = decodeMessage(msg); // throws on garbage: the connection is closed
          const resp = await this.respond(query, msg, 'tcp', clientIp);
          if (this.closed || sock.destroyed) return;
          if (resp !== undefined) {
            const frame = Buffer.alloc(2 + resp.length);
            frame.writeUInt16BE(resp.length, 0);
            resp.copy(frame, 2);
            sock.write(frame);
            if (sock.writableLength > MAX_TCP_BACKLOG) throw new Error('client does not read its answers');
          }
          arm(); // the next message gets a fresh deadline
        }
      } catch (err) {
        this.log('debug', `closing dns tcp client ${clientIp}: ${(err as Error).message}`);
        sock.destroy();
      } finally {
        busy = false;
        if (ended && !sock.destroyed) sock.end();
      }
    };

    sock.on('data', (chunk: Buffer) => {
      if (buf.length + chunk.length > MAX_TCP_BUFFER) {
        this.log('debug', `closing dns tcp client ${clientIp}: too much pipelined data`);
        sock.destroy();
        return;
      }
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      if (!busy) void pump();
    });
    // Half-open (allowHalfOpen): a client may send its query and then shut down its
    // side; answer what it sent, then end ours.
    sock.on('end', () => {
      ended = true;
      if (!busy) sock.end();
    });
  }

  // -------------------------------------------------------------------------
  // Answering

  /** The encoded reply to `query` (whose wire form is `raw`), or undefined to send nothing. */
  private async respond(query: DnsMessage, raw: Buffer, proto: Proto, clientIp: string): Promise<Buffer | undefined> {
    const maxSize = proto === 'udp' ? udpPayloadLimit(query) : MAX_MESSAGE_SIZE;
    try {
      const searchDomains = this.o.searchDomains?.() ?? [];
      const decision: Decision = decide(query, this.o.resolver, clientIp, { searchDomains });
      if (decision.kind === 'drop') return undefined;
      // Encoding can fail only on what the resolver returned (say, an invalid PTR name).
      if (decision.kind === 'answer') return encodeMessage(decision.response, { maxSize });
    } catch (err) {
      this.log('warn', `dns resolver failed for ${describe(query)}: ${(err as Error).message}`);
      return encodeMessage(replyTo(query, RCode.ServFail), { maxSize });
    }

    const fwd = await this.forward(raw, query, proto);
    if (fwd === 'dropped') return proto === 'tcp' ? encodeMessage(replyTo(query, RCode.ServFail), { maxSize }) : undefined;
    if (this.closed) return undefined;
    return fwd ?? encodeMessage(replyTo(query, RCode.ServFail), { maxSize });
  }

  // -------------------------------------------------------------------------
  // Forwarding

  private upstreamList(): Upstream[] {
    let list: Upstream[];
    try {
      list = this.o.upstreams();
    } catch (err) {
      this.log('warn', `dns upstreams: ${(err as Error).message}`);
      return [];
    }
    return list.filter((u) => {
      if (net.isIP(u.address.split('%')[0]!) === 0 || !(u.port > 0 && u.port < 65536)) return false;
      // Never forward to ourselves.
      return !(u.port === this.boundPort && sameAddress(u.address, this.o.address));
    });
  }

  /** The upstream's reply with the client's ID; undefined when every upstream failed;
   * 'dropped' when too many forwards are already in flight. */
  private async forward(raw: Buffer, query: DnsMessage, proto: Proto): Promise<Buffer | undefined | 'dropped'> {
    if (this.inFlight >= this.maxInFlight) {
      const now = Date.now();
      if (now - this.lastFloodLog > FLOOD_LOG_INTERVAL_MS) {
        this.lastFloodLog = now;
        this.log('warn', `more than ${this.maxInFlight} concurrent dns queries to forward; dropping`);
      }
      return 'dropped';
    }
    this.inFlight++;
    try {
      const q = query.questions[0];
      for (const up of this.upstreamList()) {
        if (this.closed) return undefined;
        const id = randomInt(0x10000);
        const out = Buffer.from(raw);
        out.writeUInt16BE(id, 0);
        const matches = (reply: Buffer): boolean => {
          try {
            const r = decodeQuestions(reply);
            if (r.id !== id || !r.flags.qr) return false;
            if (!q) return r.questions.length === 0;
            const rq = r.questions[0];
            // Some servers send no question with an error rcode; accept that.
            if (!rq) return r.questions.length === 0 && r.flags.rcode !== RCode.NoError;
            return canonicalName(rq.name) === canonicalName(q.name) && rq.type === q.type && rq.class === q.class;
          } catch {
            return false;
          }
        };
        let reply: Buffer;
        try {
          reply = proto === 'udp' ? await this.exchangeUdp(out, up, matches) : await this.exchangeTcp(out, up, matches);
        } catch (err) {
          if (this.closed) return undefined;
          this.log('debug', `dns ${proto} upstream ${up.address}:${up.port} failed for ${describe(query)}: ${(err as Error).message}`);
          continue;
        }
        const rcode = reply.readUInt16BE(2) & 0xf;
        if (rcode === RCode.ServFail || rcode === RCode.Refused) {
          this.log('debug', `dns upstream ${up.address}:${up.port} answered rcode ${rcode} for ${describe(query)}`);
          continue;
        }
        reply.writeUInt16BE(query.id, 0);
        return reply;
      }
      return undefined;
    } finally {
      this.inFlight--;
    }
  }

  private exchangeUdp(out: Buffer, up: Upstream, matches: (b: Buffer) => boolean): Promise<Buffer> {
    return new Promise<Buffer>((resolve, reject) => {
      const sock = dgram.createSocket(net.isIPv6(up.address.split('%')[0]!) ? 'udp6' : 'udp4');
      let done = false;
      const finish = (err: Error | undefined, reply?: Buffer): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        this.pending.delete(pending);
        try {
          sock.close();
        } catch {
          /* already closed */
        }
        if (err) reject(err);
        else resolve(reply!);
      };
      const pending: Pending = { abort: () => finish(new Error('dns server closed')) };
      this.pending.add(pending);
      const timer = setTimeout(() => finish(new Error(`no answer within ${this.timeoutMs} ms`)), this.timeoutMs);
      sock.on('error', (err) => finish(err));
      // Connected: the kernel only delivers datagrams from the upstream's address and port.
      sock.on('message', (msg) => {
        if (matches(msg)) finish(undefined, Buffer.from(msg));
      });
      sock.connect(up.port, up.address, () => {
        if (done) return;
        sock.send(out, (err) => {
          if (err) finish(err);
        });
      });
    });
  }

  private exchangeTcp(out: Buffer, up: Upstream, matches: (b: Buffer) => boolean): Promise<Buffer> {
    return new Promise<Buffer>((resolve, reject) => {
      let done = false;
      let buf: Buffer = Buffer.alloc(0);
      const sock = net.connect({ host: up.address, port: up.port });
      const finish = (err: Error | undefined, reply?: Buffer): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        this.pending.delete(pending);
        sock.destroy();
        if (err) reject(err);
        else resolve(reply!);
      };
      const pending: Pending = { abort: () => finish(new Error('dns server closed')) };
      this.pending.add(pending);
      const timer = setTimeout(() => finish(new Error(`no answer within ${this.timeoutMs} ms`)), this.timeoutMs);
      sock.on('error', (err) => finish(err));
      sock.on('close', () => finish(new Error('upstream closed the connection')));
      sock.on('connect', () => {
        const frame = Buffer.alloc(2 + out.length);
        frame.writeUInt16BE(out.length, 0);
        out.copy(frame, 2);
        sock.write(frame);
      });
      sock.on('data', (chunk: Buffer) => {
        buf = Buffer.concat([buf, chunk]);
        if (buf.length > MAX_MESSAGE_SIZE + 2) return finish(new Error('upstream sent too much'));
        if (buf.length < 2) return;
        const len = buf.readUInt16BE(0);
        if (buf.length < 2 + len) return;
        const reply = Buffer.from(buf.subarray(2, 2 + len));
        if (len < HEADER_SIZE || !matches(reply)) return finish(new Error('upstream reply does not match the query'));
        finish(undefined, reply);
      });
    });
  }

  private log(level: 'debug' | 'warn', msg: string): void {
    try {
      this.o.log?.(level, msg);
    } catch {
      /* a logger must not break the server */
    }
  }
}

function closeUdp(sock: dgram.Socket): Promise<void> {
  return new Promise((resolve) => {
    try {
      sock.close(() => resolve());
    } catch {
      resolve();
    }
  });
}

function unmapIPv4(address: string): string {
  return address.startsWith('::ffff:') && net.isIPv4(address.slice(7)) ? address.slice(7) : address;
}

function sameAddress(a: string, b: string): boolean {
  return unmapIPv4(a.toLowerCase()) === unmapIPv4(b.toLowerCase());
}

function describe(query: DnsMessage): string {
  const q = query.questions[0];
  return q ? `${q.name || '.'} type ${q.type}` : 'empty query';
}
