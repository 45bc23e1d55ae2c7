// The embedded DNS server's pieces without sockets: the message codec (round trips,
// compression, hostile packets, truncation), the answer decisions (A, AAAA-empty, PTR,
// forward rather than NXDOMAIN) and resolv.conf parsing.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  MIN_UDP_SIZE,
  RCode,
  RRType,
  decodeMessage,
  decodeQuestions,
  defaultFlags,
  encodeMessage,
  nameToLabels,
  optRecord,
  readName,
  udpPayloadLimit,
  type DnsMessage,
  type DnsRecord,
} from '../../src/network/dns/message.js';
import { LOCAL_TTL, decide, ptrNameToIPv4, type DnsResolver } from '../../src/network/dns/answer.js';
import { upstreamsFromResolvConf } from '../../src/network/dns/resolv-conf.js';
import { isBerthError } from '../../src/util/errors.js';

function query(name: string, type: number = RRType.A, extra: Partial<DnsMessage> = {}): DnsMessage {
  return {
    id: 0x1234,
    flags: { ...defaultFlags(), rd: true },
    questions: [{ name, type, class: 1 }],
    answers: [],
    authorities: [],
    additionals: [],
    ...extra,
  };
}

function a(name: string, address: string, ttl = 60): DnsRecord {
  return { name, type: RRType.A, class: 1, ttl, address };
}

function assertMalformed(buf: Buffer): void {
  assert.throws(
    () => decodeMessage(buf),
    (err: unknown) => isBerthError(err, 'InvalidArgument'),
  );
}

describe('dns message codec', () => {
  it('encodes a query byte for byte as RFC 1035 lays it out', () => {
    const buf = encodeMessage(query('example.com'));
    assert.equal(
      buf.toString('hex'),
      '1234' + '0100' + '0001' + '0000' + '0000' + '0000' + '076578616d706c6503636f6d00' + '0001' + '0001',
    );
  });

  it('round-trips a response with A, AAAA, PTR, CNAME, TXT and OPT records, compressed or not', () => {
    const msg: DnsMessage = {
      id: 0xbeef,
      flags: { ...defaultFlags(), qr: true, aa: true, rd: true, ra: true, rcode: RCode.NoError },
      questions: [{ name: 'Web.Example.com', type: RRType.A, class: 1 }],
      answers: [
        a('Web.Example.com', '10.0.0.2'),
        { name: 'web.example.com', type: RRType.AAAA, class: 1, ttl: 5, address: '2001:db8::1' },
        { name: '2.0.0.10.in-addr.arpa', type: RRType.PTR, class: 1, ttl: 600, target: 'web.example.com' },
        { name: 'alias.example.com', type: RRType.CNAME, class: 1, ttl: 7, target: 'Web.Example.com' },
        { name: 'example.com', type: RRType.TXT, class: 1, ttl: 9, rdata: Buffer.from('\x05hello') },
      ],
      authorities: [],
      additionals: [optRecord(1232)],
    };
    for (const compress of [true, false]) {
      const buf = encodeMessage(msg, { compress });
      const back = decodeMessage(buf);
      assert.equal(back.id, 0xbeef);
      assert.deepEqual(back.flags, msg.flags);
      assert.deepEqual(back.questions, msg.questions);
      assert.deepEqual(
        back.answers.map((r) => [r.name, r.type, r.ttl, r.address ?? r.target ?? r.rdata?.toString()]),
        [
          ['Web.Example.com', RRType.A, 60, '10.0.0.2'],
          ['web.example.com', RRType.AAAA, 5, '2001:db8::1'],
          ['2.0.0.10.in-addr.arpa', RRType.PTR, 600, 'web.example.com'],
          ['alias.example.com', RRType.CNAME, 7, 'Web.Example.com'],
          ['example.com', RRType.TXT, 9, '\x05hello'],
        ],
      );
      assert.equal(back.additionals[0]!.type, RRType.OPT);
      assert.equal(udpPayloadLimit(back), 1232);
      // Re-encoding what was decoded gives the same bytes (targets are re-compressed the same way).
      assert.deepEqual(encodeMessage(back, { compress }), buf);
    }
    assert.ok(encodeMessage(msg).length < encodeMessage(msg, { compress: false }).length);
  });

  it('compresses repeated names with pointers and keeps their case exactly', () => {
    const msg: DnsMessage = { ...query('WeB.example.com'), answers: [a('WeB.example.com', '10.0.0.2'), a('web.example.com', '10.0.0.3')] };
    const buf = encodeMessage(msg);
    // The first answer's name is a pointer to the question name at offset 12.
    const afterQuestion = 12 + 'WeB.example.com'.length + 2 + 4;
    assert.deepEqual([...buf.subarray(afterQuestion, afterQuestion + 2)], [0xc0, 12]);
    const back = decodeMessage(buf);
    assert.deepEqual(back.answers.map((r) => r.name), ['WeB.example.com', 'web.example.com']);
  });

  it('escapes label bytes that are not plain text, and round-trips them', () => {
    const name = 'a\\.b.\\000\\255x.c\\\\d';
    assert.deepEqual(nameToLabels(name).map((l) => [...l]), [[0x61, 0x2e, 0x62], [0, 255, 0x78], [0x63, 0x5c, 0x64]]);
    const back = decodeMessage(encodeMessage(query(name)));
    assert.equal(back.questions[0]!.name, name);
    assert.equal(decodeMessage(encodeMessage(query(''))).questions[0]!.name, '', 'the root name');
    assert.equal(decodeMessage(encodeMessage(query('trailing.dot.'))).questions[0]!.name, 'trailing.dot');
  });

  it('refuses to encode over-long labels and names', () => {
    assert.throws(() => encodeMessage(query('x'.repeat(64) + '.com')), /63 bytes/);
    assert.doesNotThrow(() => encodeMessage(query('x'.repeat(63) + '.com')));
    const long = Array.from({ length: 5 }, () => 'y'.repeat(63)).join('.');
    assert.throws(() => encodeMessage(query(long)), /255 bytes/);
    assert.throws(() => encodeMessage(query('a..b')), /empty label/);
    assert.throws(() => encodeMessage({ ...query('x'), answers: [a('x', '300.1.1.1')] }), /IPv4/);
  });

  it('rejects compression pointers that loop, point forward or point out of bounds', () => {
    const header = Buffer.from('000001000001000000000000', 'hex');
    // A name that is a pointer to itself.
    assertMalformed(Buffer.concat([header, Buffer.from([0xc0, 12, 0, 1, 0, 1])]));
    // A label followed by a pointer back to that label: www.www.www...
    assertMalformed(Buffer.concat([header, Buffer.from([3, 0x77, 0x77, 0x77, 0xc0, 12, 0, 1, 0, 1])]));
    // A pointer forward (to a later valid name) — refused even though it would terminate.
    assertMalformed(Buffer.concat([header, Buffer.from([0xc0, 14, 1, 0x61, 0, 0, 1, 0, 1])]));
    // A pointer beyond the end, and one cut in half.
    assertMalformed(Buffer.concat([header, Buffer.from([0xc3, 0xff, 0, 1, 0, 1])]));
    assertMalformed(Buffer.concat([header, Buffer.from([0xc0])]));
    // Two names pointing at each other (the second name is the answer's).
    const twoLoop = Buffer.concat([
      Buffer.from('000081000001000100000000', 'hex'),
      Buffer.from([1, 0x61, 0xc0, 20, 0, 1, 0, 1]), // question: a.<ptr 20>
      Buffer.from([1, 0x62, 0xc0, 12]), // answer name at 20: b.<ptr 12>
      Buffer.from([0, 1, 0, 1, 0, 0, 0, 1, 0, 4, 1, 2, 3, 4]),
    ]);
    assertMalformed(twoLoop);
    // Reserved label types 0x40 and 0x80.
    assertMalformed(Buffer.concat([header, Buffer.from([0x41, 0x61, 0, 0, 1, 0, 1])]));
    assertMalformed(Buffer.concat([header, Buffer.from([0x81, 0x61, 0, 0, 1, 0, 1])]));
  });

  it('accepts a long but legal chain of backward pointers and caps names at 255 bytes', () => {
    // Build 'l0', then 'l1.<ptr l0>', ... as questions; each name adds one label.
    const parts: Buffer[] = [];
    let off = 12;
    let prev = -1;
    const n = 40;
    for (let i = 0; i < n; i++) {
      const label = Buffer.from([5, ...Buffer.from(`lab${String(i).padStart(2, '0')}`)]);
      const tail = prev < 0 ? Buffer.from([0]) : Buffer.from([0xc0 | (prev >> 8), prev & 0xff]);
      parts.push(label, tail, Buffer.from([0, 1, 0, 1]));
      prev = off;
      off += label.length + tail.length + 4;
    }
    const header = Buffer.alloc(12);
    header.writeUInt16BE(n, 4);
    const buf = Buffer.concat([header, ...parts]);
    // 40 labels of 6 wire bytes each = 241 bytes: legal. The 43rd would pass 255.
    const back = decodeMessage(buf);
    assert.equal(back.questions[n - 1]!.name.split('.').length, n);
    const tooLong = Buffer.concat([buf.subarray(0, 12), ...parts, Buffer.from([5, 0x6d, 0x6f, 0x72, 0x65, 0x31, 0xc0 | (prev >> 8), prev & 0xff, 0, 1, 0, 1])]);
    tooLong.writeUInt16BE(n + 1, 4);
    assert.doesNotThrow(() => decodeMessage(tooLong)); // 247 bytes
    const more2 = Buffer.concat([tooLong, Buffer.from([5, 0x6d, 0x6f, 0x72, 0x65, 0x32, 0xc0 | (off >> 8), off & 0xff, 0, 1, 0, 1])]);
    more2.writeUInt16BE(n + 2, 4);
    assert.doesNotThrow(() => decodeMessage(more2)); // 253 bytes
    const more3 = Buffer.concat([more2, Buffer.from([5, 0x6d, 0x6f, 0x72, 0x65, 0x33, 0xc0 | ((off + 12) >> 8), (off + 12) & 0xff, 0, 1, 0, 1])]);
    more3.writeUInt16BE(n + 3, 4);
    assertMalformed(more3); // 259 bytes
  });

  it('rejects every truncation of a valid message', () => {
    const msg: DnsMessage = {
      ...query('web.example.com'),
      flags: { ...defaultFlags(), qr: true },
      answers: [a('web.example.com', '10.0.0.2'), { name: 'p.arpa', type: RRType.PTR, class: 1, ttl: 1, target: 'web.example.com' }],
      additionals: [optRecord(4096)],
    };
    const buf = encodeMessage(msg);
    for (let len = 0; len < buf.length; len++) assertMalformed(buf.subarray(0, len));
    assert.doesNotThrow(() => decodeMessage(buf));
  });

  it('rejects records whose data lies about its length or type', () => {
    const good = encodeMessage({ ...query('x'), answers: [a('x', '1.2.3.4')] });
    const badLen = Buffer.from(good);
    badLen.writeUInt16BE(3, badLen.length - 6); // A with RDLENGTH 3
    assertMalformed(badLen);
    const ptr = encodeMessage({ ...query('x'), answers: [{ name: 'x', type: RRType.PTR, class: 1, ttl: 1, target: 'ab' }] });
    const overlong = Buffer.concat([ptr, Buffer.from([0])]);
    overlong.writeUInt16BE(5, ptr.length - 6); // PTR name shorter than its RDATA
    assertMalformed(overlong);
  });

  it('never throws anything but its own error on random garbage', () => {
    let seed = 42;
    const rand = (): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed;
    };
    const valid = encodeMessage({ ...query('web.example.com'), answers: [a('web.example.com', '10.0.0.2')] });
    for (let i = 0; i < 3000; i++) {
      let buf: Buffer;
      if (i % 2 === 0) {
        buf = Buffer.alloc(rand() % 80);
        for (let j = 0; j < buf.length; j++) buf[j] = rand() & 0xff;
        if (buf.length >= 6) buf.writeUInt16BE(1 + (rand() % 3), 4);
      } else {
        buf = Buffer.from(valid); // flip a few bytes of a valid message
        for (let k = 0; k < 3; k++) buf[rand() % buf.length] = rand() & 0xff;
      }
      try {
        decodeMessage(buf);
        decodeQuestions(buf);
      } catch (err) {
        assert.ok(isBerthError(err, 'InvalidArgument'), `unexpected ${String(err)} for ${buf.toString('hex')}`);
      }
    }
  });

  it('truncates to the size limit, keeps whole records and the OPT record, and sets TC', () => {
    const answers = Array.from({ length: 60 }, (_, i) => a('shared.example.com', `10.0.${i >> 8}.${i & 0xff}`));
    const msg: DnsMessage = {
      ...query('shared.example.com'),
      flags: { ...defaultFlags(), qr: true, ra: true },
      answers,
      additionals: [optRecord(4096)],
    };
    const full = encodeMessage(msg);
    assert.ok(full.length > MIN_UDP_SIZE);
    assert.equal(decodeMessage(full).flags.tc, false);

    const cut = encodeMessage(msg, { maxSize: MIN_UDP_SIZE });
    assert.ok(cut.length <= MIN_UDP_SIZE, `${cut.length} bytes`);
    const back = decodeMessage(cut);
    assert.equal(back.flags.tc, true);
    assert.ok(back.answers.length > 20 && back.answers.length < 60, `${back.answers.length} answers`);
    assert.deepEqual(back.answers.map((r) => r.address), answers.slice(0, back.answers.length).map((r) => r.address));
    assert.equal(back.additionals.length, 1);
    assert.equal(back.additionals[0]!.type, RRType.OPT);
    // One more answer would not have fitted.
    assert.ok(encodeMessage({ ...msg, answers: answers.slice(0, back.answers.length + 1) }).length > MIN_UDP_SIZE);
  });

  it('takes the UDP size from EDNS0, between 512 and a cap', () => {
    assert.equal(udpPayloadLimit(query('x')), 512);
    assert.equal(udpPayloadLimit(query('x', RRType.A, { additionals: [optRecord(1232)] })), 1232);
    assert.equal(udpPayloadLimit(query('x', RRType.A, { additionals: [optRecord(100)] })), 512);
    assert.equal(udpPayloadLimit(query('x', RRType.A, { additionals: [optRecord(65000)] })), 4096);
  });

  it('reads a name and reports where the caller continues', () => {
    const buf = Buffer.from([3, 0x61, 0x62, 0x63, 0, 1, 0x78, 0xc0, 0]);
    assert.deepEqual(readName(buf, 0), { name: 'abc', next: 5 });
    assert.deepEqual(readName(buf, 5), { name: 'x.abc', next: 9 });
  });
});

class FakeResolver implements DnsResolver {
  calls: string[] = [];
  constructor(
    private readonly names: Record<string, string[]>,
    private readonly ptrs: Record<string, string> = {},
  ) {}
  lookupA(name: string, clientIp: string): string[] | undefined {
    this.calls.push(`A ${name} ${clientIp}`);
    return this.names[name];
  }
  lookupPtr(ip: string, clientIp: string): string | undefined {
    this.calls.push(`PTR ${ip} ${clientIp}`);
    return this.ptrs[ip];
  }
}

describe('dns answers', () => {
  const resolver = (): FakeResolver =>
    new FakeResolver(
      { web: ['10.0.0.2'], db: ['10.0.0.3', '10.0.0.4', '10.0.0.5'], empty: [], 'web.mynet': ['10.0.0.2'] },
      { '10.0.0.2': 'web.mynet' },
    );

  it('answers A for a known name with TTL 600, in the query\'s own case', () => {
    const r = resolver();
    const d = decide(query('WEB'), r, '10.0.0.9');
    assert.equal(d.kind, 'answer');
    if (d.kind !== 'answer') return;
    const resp = decodeMessage(encodeMessage(d.response));
    assert.equal(resp.id, 0x1234);
    assert.equal(resp.flags.qr, true);
    assert.equal(resp.flags.ra, true);
    assert.equal(resp.flags.rd, true);
    assert.equal(resp.flags.rcode, RCode.NoError);
    assert.deepEqual(resp.questions, [{ name: 'WEB', type: RRType.A, class: 1 }]);
    assert.deepEqual(resp.answers.map((x) => [x.name, x.type, x.ttl, x.address]), [['WEB', RRType.A, LOCAL_TTL, '10.0.0.2']]);
    assert.deepEqual(r.calls, ['A web 10.0.0.9'], 'the resolver sees the lower-cased name and the client address');
  });

  it('answers every address of a shared name', () => {
    const d = decide(query('db.'), resolver(), '10.0.0.9');
    assert.equal(d.kind, 'answer');
    if (d.kind !== 'answer') return;
    assert.deepEqual(d.response.answers.map((x) => x.address).sort(), ['10.0.0.3', '10.0.0.4', '10.0.0.5']);
  });

  it('answers AAAA, MX and TXT for a known IPv4-only name with NOERROR and no records', () => {
    for (const type of [RRType.AAAA, RRType.MX, RRType.TXT]) {
      const d = decide(query('web', type), resolver(), '10.0.0.9');
      assert.equal(d.kind, 'answer');
      if (d.kind !== 'answer') return;
      assert.equal(d.response.flags.rcode, RCode.NoError);
      assert.deepEqual(d.response.answers, []);
    }
    const empty = decide(query('empty'), resolver(), '10.0.0.9');
    assert.ok(empty.kind === 'answer' && empty.response.flags.rcode === RCode.NoError && empty.response.answers.length === 0);
  });

  it('forwards unknown names rather than answering NXDOMAIN', () => {
    assert.deepEqual(decide(query('example.org'), resolver(), '10.0.0.9'), { kind: 'forward' });
    assert.deepEqual(decide(query('nosuch', RRType.AAAA), resolver(), '10.0.0.9'), { kind: 'forward' });
    assert.deepEqual(decide(query(''), resolver(), '10.0.0.9'), { kind: 'forward' }, 'the root');
    assert.deepEqual(decide({ ...query('web'), questions: [{ name: 'web', type: RRType.A, class: 3 }] }, resolver(), '1.1.1.1'), {
      kind: 'forward',
    });
  });

  it('answers PTR for known container addresses and forwards the rest', () => {
    const r = resolver();
    const d = decide(query('2.0.0.10.IN-ADDR.ARPA', RRType.PTR), r, '10.0.0.9');
    assert.equal(d.kind, 'answer');
    if (d.kind !== 'answer') return;
    const resp = decodeMessage(encodeMessage(d.response));
    assert.deepEqual(resp.answers.map((x) => [x.name, x.type, x.ttl, x.target]), [['2.0.0.10.IN-ADDR.ARPA', RRType.PTR, LOCAL_TTL, 'web.mynet']]);
    assert.deepEqual(r.calls, ['PTR 10.0.0.2 10.0.0.9']);
    assert.deepEqual(decide(query('3.0.0.10.in-addr.arpa', RRType.PTR), r, '10.0.0.9'), { kind: 'forward' });
    assert.deepEqual(decide(query('0.10.in-addr.arpa', RRType.PTR), r, '10.0.0.9'), { kind: 'forward' });
    assert.deepEqual(decide(query('1.ip6.arpa', RRType.PTR), r, '10.0.0.9'), { kind: 'forward' });
    assert.equal(ptrNameToIPv4('4.3.2.1.in-addr.arpa'), '1.2.3.4');
    assert.equal(ptrNameToIPv4('4.3.2.256.in-addr.arpa'), undefined);
    assert.equal(ptrNameToIPv4('04.3.2.1.in-addr.arpa'), undefined);
  });

  it('finds names queried with a search domain appended', () => {
    const d = decide(query('web.corp.example'), resolver(), '10.0.0.9', { searchDomains: ['corp.example.'] });
    assert.ok(d.kind === 'answer' && d.response.answers[0]!.address === '10.0.0.2' && d.response.answers[0]!.name === 'web.corp.example');
    assert.deepEqual(decide(query('web.other.example'), resolver(), '10.0.0.9', { searchDomains: ['corp.example'] }), {
      kind: 'forward',
    });
  });

  it('drops responses, refuses other opcodes and malformed question counts', () => {
    assert.deepEqual(decide({ ...query('web'), flags: { ...defaultFlags(), qr: true } }, resolver(), '1.1.1.1'), { kind: 'drop' });
    const notify = decide({ ...query('web'), flags: { ...defaultFlags(), opcode: 4 } }, resolver(), '1.1.1.1');
    assert.ok(notify.kind === 'answer' && notify.response.flags.rcode === RCode.NotImp && notify.response.flags.opcode === 4);
    const none = decide({ ...query('web'), questions: [] }, resolver(), '1.1.1.1');
    assert.ok(none.kind === 'answer' && none.response.flags.rcode === RCode.FormErr);
  });

  it('echoes EDNS0 with an OPT record of its own', () => {
    const d = decide(query('web', RRType.A, { additionals: [optRecord(1232)] }), resolver(), '1.1.1.1');
    assert.ok(d.kind === 'answer');
    if (d.kind !== 'answer') return;
    assert.equal(d.response.additionals.length, 1);
    assert.equal(d.response.additionals[0]!.type, RRType.OPT);
  });
});

describe('upstreams from resolv.conf', () => {
  it('takes nameserver lines in order, keeps loopback, skips own addresses, junk and duplicates, at most three', () => {
    const text = [
      '# generated',
      'search example.com',
      'nameserver 127.0.0.53 # systemd-resolved',
      'nameserver 172.18.0.1',
      'nameserver   10.1.2.3',
      'nameserver not-an-ip',
      'nameserver 10.1.2.3',
      ';nameserver 9.9.9.9',
      'nameserver ::1',
      'nameserver 192.0.2.1',
      'options ndots:2',
    ].join('\n');
    assert.deepEqual(upstreamsFromResolvConf(text, ['172.18.0.1']), [
      { address: '127.0.0.53', port: 53 },
      { address: '10.1.2.3', port: 53 },
      { address: '::1', port: 53 },
    ]);
    assert.deepEqual(upstreamsFromResolvConf(''), []);
    assert.deepEqual(upstreamsFromResolvConf('nameserver fe80::1%eth0\n'), [{ address: 'fe80::1%eth0', port: 53 }]);
  });
});
