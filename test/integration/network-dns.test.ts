// The embedded DNS server over real sockets, loopback only: a DnsServer on 127.0.0.1
// with a fake resolver, fake upstream DNS servers written here (UDP and TCP on
// 127.0.0.1), and clients written here (plus busybox nslookup when it exists).
// Nothing is ever sent to the host's real resolvers.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import dgram from 'node:dgram';
import { existsSync } from 'node:fs';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { DnsServer, type DnsResolver, type DnsServerOptions } from '../../src/network/dns/index.js';
import {
  RCode,
  RRType,
  decodeMessage,
  defaultFlags,
  encodeMessage,
  optRecord,
  type DnsMessage,
  type DnsRecord,
} from '../../src/network/dns/message.js';

const LOOPBACK = '127.0.0.1';

function query(name: string, type: number = RRType.A, id = 0x4242, extra: Partial<DnsMessage> = {}): DnsMessage {
  return {
    id,
    flags: { ...defaultFlags(), rd: true },
    questions: [{ name, type, class: 1 }],
    answers: [],
    authorities: [],
    additionals: [],
    ...extra,
  };
}

// ---------------------------------------------------------------------------
// Clients

/** Sends one datagram and waits for one reply (undefined after `ms`). */
function udpExchange(port: number, payload: Buffer, ms = 3000): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket('udp4');
    const timer = setTimeout(() => {
      sock.close();
      resolve(undefined);
    }, ms);
    sock.on('error', (err) => {
      clearTimeout(timer);
      sock.close();
      reject(err);
    });
    sock.on('message', (msg) => {
      clearTimeout(timer);
      sock.close();
      resolve(msg);
    });
    sock.send(payload, port, LOOPBACK);
  });
}

async function udpQuery(port: number, q: DnsMessage, ms?: number): Promise<DnsMessage> {
  const reply = await udpExchange(port, encodeMessage(q), ms);
  assert.ok(reply, `no UDP reply for ${q.questions[0]?.name}`);
  return decodeMessage(reply);
}

function frame(msg: Buffer): Buffer {
  const out = Buffer.alloc(2 + msg.length);
  out.writeUInt16BE(msg.length, 0);
  msg.copy(out, 2);
  return out;
}

/** Opens a TCP connection, writes `chunks` (with `gapMs` between them), collects
 * `want` length-prefixed replies; also reports whether the server closed it. */
function tcpExchange(
  port: number,
  chunks: Buffer[],
  want: number,
  ms = 3000,
  gapMs = 0,
): Promise<{ replies: Buffer[]; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, LOOPBACK);
    const replies: Buffer[] = [];
    let buf = Buffer.alloc(0);
    let settled = false;
    const done = (closed: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.destroy();
      resolve({ replies, closed });
    };
    const timer = setTimeout(() => done(false), ms);
    sock.on('error', (err) => {
      if (!settled) {
        settled = true;
        clearTimeout(timer);
        reject(err);
      }
    });
    sock.on('close', () => done(true));
    sock.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        replies.push(buf.subarray(2, 2 + buf.readUInt16BE(0)));
        buf = buf.subarray(2 + buf.readUInt16BE(0));
      }
      if (replies.length >= want) done(false);
    });
    sock.on('connect', async () => {
      for (const c of chunks) {
        if (sock.destroyed) return;
        sock.write(c);
        if (gapMs) await new Promise((r) => setTimeout(r, gapMs));
      }
    });
  });
}

// ---------------------------------------------------------------------------
// Fake upstream DNS server

interface Seen {
  proto: 'udp' | 'tcp';
  id: number;
  name: string;
}

/** Binds UDP and TCP on the same ephemeral loopback port. */
async function bindPair(
  onUdp: ((msg: Buffer, rinfo: dgram.RemoteInfo, sock: dgram.Socket) => void) | undefined,
  onTcp: (sock: net.Socket) => void,
): Promise<{ port: number; close: () => Promise<void> }> {
  for (let attempt = 0; ; attempt++) {
    const udp = dgram.createSocket('udp4');
    await new Promise<void>((r) => udp.bind(0, LOOPBACK, () => r()));
    const port = udp.address().port;
    const conns = new Set<net.Socket>();
    const tcp = net.createServer((s) => {
      conns.add(s);
      s.on('close', () => conns.delete(s));
      s.on('error', () => undefined);
      onTcp(s);
    });
    try {
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', reject);
        tcp.listen(port, LOOPBACK, () => resolve());
      });
    } catch (err) {
      udp.close();
      if (attempt < 5) continue;
      throw err;
    }
    if (onUdp) udp.on('message', (m, r) => onUdp(m, r, udp));
    return {
      port,
      close: async () => {
        for (const c of conns) c.destroy();
        await Promise.all([new Promise<void>((r) => tcp.close(() => r())), new Promise<void>((r) => udp.close(() => r()))]);
      },
    };
  }
}

/** An upstream that knows a few names and records every query it gets. */
async function fakeUpstream(): Promise<{ port: number; seen: Seen[]; close: () => Promise<void> }> {
  const seen: Seen[] = [];
  const answer = (raw: Buffer, proto: 'udp' | 'tcp'): Buffer => {
    const q = decodeMessage(raw);
    const name = q.questions[0]!.name;
    seen.push({ proto, id: q.id, name });
    const reply = (rcode: number, answers: DnsRecord[] = [], tc = false): Buffer =>
      encodeMessage({
        id: q.id,
        flags: { ...defaultFlags(), qr: true, rd: q.flags.rd, ra: true, rcode, tc },
        questions: q.questions,
        answers,
        authorities: [],
        additionals: [],
      });
    const A = (address: string): DnsRecord => ({ name, type: RRType.A, class: 1, ttl: 33, address });
    switch (name.toLowerCase()) {
      case 'external.test':
        return reply(RCode.NoError, [A('203.0.113.7')]);
      case 'missing.test':
        return reply(RCode.NXDomain);
      case 'fail.test':
        return reply(RCode.ServFail);
      case 'big.test':
        return proto === 'udp' ? reply(RCode.NoError, [], true) : reply(RCode.NoError, Array.from({ length: 100 }, (_, i) => A(`198.51.100.${i}`)));
      default:
        return reply(RCode.NXDomain);
    }
  };
  const pair = await bindPair(
    (msg, rinfo, sock) => {
      try {
        sock.send(answer(msg, 'udp'), rinfo.port, rinfo.address);
      } catch {
        /* ignore */
      }
    },
    (s) => {
      let buf = Buffer.alloc(0);
      s.on('data', (chunk: Buffer) => {
        buf = Buffer.concat([buf, chunk]);
        while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
          const msg = buf.subarray(2, 2 + buf.readUInt16BE(0));
          buf = buf.subarray(2 + msg.length);
          s.write(frame(answer(msg, 'tcp')));
        }
      });
    },
  );
  return { ...pair, seen };
}

/** An upstream that never answers (UDP swallowed, TCP accepted and left hanging). */
async function silentUpstream(): Promise<{ port: number; close: () => Promise<void> }> {
  return bindPair(() => undefined, () => undefined);
}

/** A loopback port nobody listens on (UDP gets ICMP port unreachable, TCP RST). */
async function deadPort(): Promise<number> {
  const pair = await bindPair(undefined, () => undefined);
  await pair.close();
  return pair.port;
}

// ---------------------------------------------------------------------------

const names: Record<string, string[]> = {
  web: ['10.0.0.2'],
  'web.mynet': ['10.0.0.2'],
  db: ['10.0.0.3', '10.0.0.4'],
  many: Array.from({ length: 60 }, (_, i) => `10.1.0.${i + 1}`),
};
const lookups: string[] = [];
const resolver: DnsResolver = {
  lookupA(name, clientIp) {
    lookups.push(`${name}@${clientIp}`);
    if (name === 'explode') throw new Error('resolver bug');
    return names[name];
  },
  lookupPtr(ip) {
    if (ip === '10.0.0.66') return 'not..a..name';
    return ip === '10.0.0.2' ? 'web.mynet' : undefined;
  },
};

async function startServer(o: Partial<DnsServerOptions>): Promise<DnsServer> {
  const s = new DnsServer({ address: LOOPBACK, port: 0, resolver, upstreams: () => [], timeoutMs: 300, ...o });
  await s.start();
  return s;
}

describe('embedded DNS server', () => {
  let up: Awaited<ReturnType<typeof fakeUpstream>>;
  let server: DnsServer;
  let upstreams: { address: string; port: number }[] = [];
  const logs: string[] = [];

  before(async () => {
    up = await fakeUpstream();
    upstreams = [{ address: LOOPBACK, port: up.port }];
    server = await startServer({
      upstreams: () => upstreams,
      log: (level, msg) => logs.push(`${level} ${msg}`),
      tcpTimeoutMs: 400,
      searchDomains: () => ['corp.example'],
    });
  });
  after(async () => {
    await server.close();
    await up.close();
  });

  it('listens on one port for UDP and TCP', () => {
    assert.ok(server.port > 0);
    assert.equal(new DnsServer({ address: LOOPBACK, resolver, upstreams: () => [] }).port, 53);
  });

  it('answers container names over UDP: A with TTL 600, AAAA empty, several addresses, PTR', async () => {
    lookups.length = 0;
    const r = await udpQuery(server.port, query('Web', RRType.A, 0x0101));
    assert.equal(r.id, 0x0101);
    assert.equal(r.flags.rcode, RCode.NoError);
    assert.deepEqual(r.answers.map((x) => [x.name, x.address, x.ttl]), [['Web', '10.0.0.2', 600]]);
    assert.deepEqual(lookups, [`web@${LOOPBACK}`], 'the resolver gets the client address');

    const six = await udpQuery(server.port, query('web', RRType.AAAA));
    assert.equal(six.flags.rcode, RCode.NoError);
    assert.equal(six.answers.length, 0);

    const both = await udpQuery(server.port, query('db.'));
    assert.deepEqual(both.answers.map((x) => x.address).sort(), ['10.0.0.3', '10.0.0.4']);

    const ptr = await udpQuery(server.port, query('2.0.0.10.in-addr.arpa', RRType.PTR));
    assert.deepEqual(ptr.answers.map((x) => x.target), ['web.mynet']);

    const searched = await udpQuery(server.port, query('web.corp.example'));
    assert.deepEqual(searched.answers.map((x) => [x.name, x.address]), [['web.corp.example', '10.0.0.2']]);
    assert.equal(up.seen.length, 0, 'nothing of berth\'s was forwarded');
  });

  it('truncates big local answers to 512 bytes with TC, or to the EDNS0 size', async () => {
    const raw = await udpExchange(server.port, encodeMessage(query('many')));
    assert.ok(raw && raw.length <= 512, `${raw?.length} bytes`);
    const r = decodeMessage(raw);
    assert.equal(r.flags.tc, true);
    assert.ok(r.answers.length > 0 && r.answers.length < 60);

    const big = await udpQuery(server.port, query('many', RRType.A, 7, { additionals: [optRecord(4096)] }));
    assert.equal(big.flags.tc, false);
    assert.equal(big.answers.length, 60);
    assert.equal(big.additionals[0]?.type, RRType.OPT);

    const tcp = await tcpExchange(server.port, [frame(encodeMessage(query('many')))], 1);
    const viaTcp = decodeMessage(tcp.replies[0]!);
    assert.equal(viaTcp.flags.tc, false);
    assert.equal(viaTcp.answers.length, 60);
  });

  it('forwards other names over UDP with a fresh ID and relays the reply with the client\'s ID', async () => {
    up.seen.length = 0;
    const r = await udpQuery(server.port, query('external.test', RRType.A, 0xabcd));
    assert.equal(r.id, 0xabcd);
    assert.equal(r.flags.rcode, RCode.NoError);
    assert.deepEqual(r.answers.map((x) => [x.address, x.ttl]), [['203.0.113.7', 33]], 'relayed unchanged');
    assert.equal(up.seen.length, 1);
    assert.equal(up.seen[0]!.proto, 'udp');
    assert.equal(up.seen[0]!.name, 'external.test');

    const nx = await udpQuery(server.port, query('missing.test', RRType.A, 0x0042));
    assert.equal(nx.id, 0x0042);
    assert.equal(nx.flags.rcode, RCode.NXDomain, 'the upstream\'s NXDOMAIN is relayed');

    const unknownLocal = await udpQuery(server.port, query('nosuchcontainer'));
    assert.equal(unknownLocal.flags.rcode, RCode.NXDomain);
    assert.equal(up.seen.at(-1)!.name, 'nosuchcontainer', 'unknown single names are forwarded too');
  });

  it('relays a truncated upstream UDP reply, and the client\'s TCP retry goes upstream over TCP', async () => {
    up.seen.length = 0;
    const udp = await udpQuery(server.port, query('big.test'));
    assert.equal(udp.flags.tc, true);
    const tcp = await tcpExchange(server.port, [frame(encodeMessage(query('big.test', RRType.A, 0x7777)))], 1);
    const r = decodeMessage(tcp.replies[0]!);
    assert.equal(r.id, 0x7777);
    assert.equal(r.answers.length, 100);
    assert.deepEqual(up.seen.map((s) => s.proto), ['udp', 'tcp']);
  });

  it('answers TCP queries, pipelined or split into pieces, on one connection', async () => {
    const a = frame(encodeMessage(query('web', RRType.A, 1)));
    const b = frame(encodeMessage(query('external.test', RRType.A, 2)));
    const c = frame(encodeMessage(query('2.0.0.10.in-addr.arpa', RRType.PTR, 3)));
    const all = Buffer.concat([a, b, c]);
    const pipelined = await tcpExchange(server.port, [all], 3);
    assert.deepEqual(pipelined.replies.map((x) => decodeMessage(x).id), [1, 2, 3]);
    assert.equal(decodeMessage(pipelined.replies[1]!).answers[0]!.address, '203.0.113.7');

    const pieces = [all.subarray(0, 1), all.subarray(1, 7), all.subarray(7, a.length + 3), all.subarray(a.length + 3)];
    const split = await tcpExchange(server.port, pieces, 3, 3000, 20);
    assert.deepEqual(split.replies.map((x) => decodeMessage(x).id), [1, 2, 3]);
  });

  it('answers a TCP client that half-closes after its query', async () => {
    const reply = await new Promise<Buffer>((resolve, reject) => {
      const sock = net.connect(server.port, LOOPBACK, () => sock.end(frame(encodeMessage(query('web', RRType.A, 9)))));
      const chunks: Buffer[] = [];
      sock.on('data', (c: Buffer) => chunks.push(c));
      sock.on('end', () => resolve(Buffer.concat(chunks)));
      sock.on('error', reject);
    });
    assert.equal(decodeMessage(reply.subarray(2)).id, 9);
  });

  it('drops UDP garbage and answers the next query', async () => {
    const junk = [
      Buffer.alloc(0),
      Buffer.from([1]),
      Buffer.from('this is not a dns message at all'),
      Buffer.from('000001000001000000000000c00c00010001', 'hex'), // pointer loop
      encodeMessage({ ...query('web'), flags: { ...defaultFlags(), qr: true } }), // a response
    ];
    for (const j of junk) assert.equal(await udpExchange(server.port, j, 150), undefined);
    const r = await udpQuery(server.port, query('web'));
    assert.equal(r.answers[0]!.address, '10.0.0.2');
  });

  it('closes a TCP connection that sends garbage, and keeps serving', async () => {
    const bad = await tcpExchange(server.port, [Buffer.from([0, 3, 1, 2, 3])], 1, 2000);
    assert.equal(bad.closed, true, 'a message shorter than a header');
    const loop = Buffer.from('000001000001000000000000c00c00010001', 'hex');
    const bad2 = await tcpExchange(server.port, [frame(loop)], 1, 2000);
    assert.equal(bad2.closed, true, 'a malformed message');
    assert.equal(bad2.replies.length, 0);
    const good = await tcpExchange(server.port, [frame(encodeMessage(query('web')))], 1);
    assert.equal(decodeMessage(good.replies[0]!).answers[0]!.address, '10.0.0.2');
  });

  it('times out a slow or idle TCP client', async () => {
    const started = Date.now();
    const partial = await tcpExchange(server.port, [Buffer.from([0, 40, 0, 1])], 1, 3000);
    assert.equal(partial.closed, true);
    const idle = await tcpExchange(server.port, [], 1, 3000);
    assert.equal(idle.closed, true);
    // Dripping bytes does not extend the deadline.
    const q = frame(encodeMessage(query('web')));
    const drip = await tcpExchange(server.port, [...q].map((b) => Buffer.from([b])), 1, 4000, 60);
    assert.equal(drip.closed, true);
    assert.equal(drip.replies.length, 0);
    assert.ok(Date.now() - started < 3500, `${Date.now() - started} ms`);
  });

  it('answers SERVFAIL when the resolver throws or returns junk, and keeps serving', async () => {
    const r = await udpQuery(server.port, query('explode'));
    assert.equal(r.flags.rcode, RCode.ServFail);
    const badPtr = await udpQuery(server.port, query('66.0.0.10.in-addr.arpa', RRType.PTR));
    assert.equal(badPtr.flags.rcode, RCode.ServFail, 'an unencodable name from the resolver');
    const badTcp = await tcpExchange(server.port, [frame(encodeMessage(query('66.0.0.10.in-addr.arpa', RRType.PTR)))], 1);
    assert.equal(decodeMessage(badTcp.replies[0]!).flags.rcode, RCode.ServFail);
    assert.equal((await udpQuery(server.port, query('web'))).answers.length, 1);
  });

  it('tries the next upstream after a SERVFAIL, a silent one or a dead one', async () => {
    const silent = await silentUpstream();
    const dead = await deadPort();
    const saved = upstreams;
    try {
      upstreams = [
        { address: LOOPBACK, port: dead },
        { address: LOOPBACK, port: silent.port },
        { address: LOOPBACK, port: up.port },
      ];
      const started = Date.now();
      const r = await udpQuery(server.port, query('external.test', RRType.A, 0x5151));
      assert.equal(r.id, 0x5151);
      assert.equal(r.answers[0]!.address, '203.0.113.7');
      const took = Date.now() - started;
      assert.ok(took >= 250 && took < 2000, `${took} ms: one timeout (300 ms) for the silent upstream`);

      const viaTcp = await tcpExchange(server.port, [frame(encodeMessage(query('external.test', RRType.A, 0x5252)))], 1);
      assert.equal(decodeMessage(viaTcp.replies[0]!).answers[0]!.address, '203.0.113.7');

      // A SERVFAIL from the only upstream: berth answers SERVFAIL itself.
      upstreams = [{ address: LOOPBACK, port: up.port }];
      const sf = await udpQuery(server.port, query('fail.test', RRType.A, 0x5353));
      assert.equal(sf.id, 0x5353);
      assert.equal(sf.flags.rcode, RCode.ServFail);
    } finally {
      upstreams = saved;
      await silent.close();
    }
  });

  it('answers SERVFAIL when every upstream is dead or silent, or there are none', async () => {
    const silent = await silentUpstream();
    const dead = await deadPort();
    const saved = upstreams;
    try {
      upstreams = [
        { address: LOOPBACK, port: dead },
        { address: LOOPBACK, port: silent.port },
      ];
      const r = await udpQuery(server.port, query('external.test', RRType.A, 0x6161));
      assert.equal(r.id, 0x6161);
      assert.equal(r.flags.rcode, RCode.ServFail);
      assert.deepEqual(r.questions, [{ name: 'external.test', type: RRType.A, class: 1 }]);
      const t = await tcpExchange(server.port, [frame(encodeMessage(query('external.test', RRType.A, 0x6262)))], 1);
      assert.equal(decodeMessage(t.replies[0]!).flags.rcode, RCode.ServFail);

      upstreams = [];
      const none = await udpQuery(server.port, query('external.test'));
      assert.equal(none.flags.rcode, RCode.ServFail);

      // Its own address and port is never an upstream (no forwarding loop).
      upstreams = [{ address: LOOPBACK, port: server.port }];
      const started = Date.now();
      const self = await udpQuery(server.port, query('external.test'));
      assert.equal(self.flags.rcode, RCode.ServFail);
      assert.ok(Date.now() - started < 250);
    } finally {
      upstreams = saved;
      await silent.close();
    }
  });

  it('answers through busybox nslookup', { skip: !existsSync('/bin/busybox') && 'no /bin/busybox' }, async () => {
    // busybox parses "IP:port" numerically (no lookup of its own); -type=a keeps it to one query.
    const run = (args: string[]): Promise<string> =>
      new Promise((resolve) => {
        execFile('/bin/busybox', ['nslookup', ...args, `${LOOPBACK}:${server.port}`], { timeout: 10000 }, (_err, stdout, stderr) =>
          resolve(stdout + stderr),
        );
      });
    const out = await run(['-type=a', 'web.mynet']);
    assert.match(out, /10\.0\.0\.2/, out);
    const ext = await run(['-type=a', 'external.test']);
    assert.match(ext, /203\.0\.113\.7/, ext);
    const ptr = await run(['10.0.0.2']);
    assert.match(ptr, /web\.mynet/, ptr);
  });
});

describe('embedded DNS server limits and shutdown', () => {
  it('bounds in-flight forwards, drops UDP beyond the bound, and close() ends pending forwards', async () => {
    const silent = await silentUpstream();
    const warnings: string[] = [];
    const server = await startServer({
      upstreams: () => [{ address: LOOPBACK, port: silent.port }],
      timeoutMs: 10000,
      maxInFlight: 3,
      log: (level, msg) => {
        if (level === 'warn') warnings.push(msg);
      },
    });
    try {
      const client = dgram.createSocket('udp4');
      const replies: Buffer[] = [];
      client.on('message', (m) => replies.push(m));
      await new Promise<void>((r) => client.bind(0, LOOPBACK, () => r()));
      for (let i = 0; i < 10; i++) client.send(encodeMessage(query(`flood${i}.test`, RRType.A, i)), server.port, LOOPBACK);
      const deadline = Date.now() + 2000;
      while (server.inFlightCount < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(server.inFlightCount, 3);
      assert.ok(warnings.some((w) => /concurrent/.test(w)), warnings.join('\n'));
      // Local names are still answered while forwards are stuck.
      const local = await udpQuery(server.port, query('web'));
      assert.equal(local.answers[0]!.address, '10.0.0.2');

      const started = Date.now();
      await server.close();
      assert.ok(Date.now() - started < 1000, 'close does not wait for upstream timeouts');
      assert.equal(server.inFlightCount, 0);
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(replies.length, 0, 'nothing is sent after close');
      client.close();
      await server.close(); // idempotent
    } finally {
      await server.close();
      await silent.close();
    }
  });

  it('bounds TCP connections and frees the port on close', async () => {
    const server = await startServer({ maxTcpConnections: 2, tcpTimeoutMs: 5000 });
    const port = server.port;
    const socks = await Promise.all(
      [0, 1].map(
        () =>
          new Promise<net.Socket>((resolve) => {
            const s = net.connect(port, LOOPBACK, () => resolve(s));
            s.on('error', () => undefined);
          }),
      ),
    );
    await new Promise((r) => setTimeout(r, 50));
    const third = await tcpExchange(port, [frame(encodeMessage(query('web')))], 1, 2000);
    assert.equal(third.closed, true);
    assert.equal(third.replies.length, 0);
    await server.close();
    for (const s of socks) s.destroy();
    // The same port can be bound again (UDP and TCP), so nothing leaked.
    const again = new DnsServer({ address: LOOPBACK, port, resolver, upstreams: () => [] });
    await again.start();
    assert.equal((await udpQuery(port, query('web'))).answers.length, 1);
    await again.close();
  });

  it('fails to start on an address it cannot bind', async () => {
    const s = new DnsServer({ address: '192.0.2.123', port: 0, resolver, upstreams: () => [] });
    await assert.rejects(s.start(), /cannot listen for DNS/);
    await s.close();
  });
});
