// The firewall backends' pure parts: the nft script and iptables-restore text each state
// renders to, the removal scripts, and the validation that keeps hostile input out of both.
import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import { isBerthError, type ErrorCode } from '../../src/util/errors.js';
import {
  parseIptablesSave,
  renderIptablesRemove,
  renderIptablesRestore,
  renderNftRemoveScript,
  renderNftScript,
  validateState,
  type FirewallState,
  type PortMapping,
} from '../../src/network/nat/index.js';
import { requiredSysctls } from '../../src/network/nat/plan.js';
import { netnsPath } from '../../src/network/nat/host.js';

const port = (over: Partial<PortMapping> = {}): PortMapping => ({
  proto: 'tcp',
  hostIp: '',
  hostPort: 8080,
  containerIp: '172.18.0.2',
  containerPort: 80,
  bridge: 'br-a',
  ...over,
});

const STATE: FirewallState = {
  networks: [
    { bridge: 'br-a', subnet: '172.18.0.0/16', internal: false, icc: true },
    { bridge: 'br-b', subnet: '172.19.0.0/16', internal: false, icc: false },
    { bridge: 'br-i', subnet: '172.20.0.0/16', internal: true, icc: true },
  ],
  ports: [
    port(),
    port({ proto: 'udp', hostIp: '192.0.2.7', hostPort: 53, containerIp: '172.19.0.3', containerPort: 5353, bridge: 'br-b' }),
    // Ignored, as by Docker: internal networks publish nothing.
    port({ hostPort: 9000, containerIp: '172.20.0.2', bridge: 'br-i' }),
  ],
};

const NFT_EXPECTED = `table ip berth {}
delete table ip berth
table ip berth {
	chain prerouting {
		type nat hook prerouting priority dstnat; policy accept;
		fib daddr type local jump published_ports
	}
	chain output {
		type nat hook output priority -100; policy accept;
		fib daddr type local jump published_ports
	}
	chain published_ports {
		tcp dport 8080 dnat to 172.18.0.2:80
		ip daddr 192.0.2.7 udp dport 53 dnat to 172.19.0.3:5353
	}
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		ip saddr 172.18.0.0/16 oifname != "br-a" masquerade
		ip saddr 172.19.0.0/16 oifname != "br-b" masquerade
		oifname "br-a" ip saddr 127.0.0.0/8 masquerade
		oifname "br-a" ip saddr 172.18.0.0/16 ip daddr 172.18.0.0/16 ct status dnat masquerade
		oifname "br-b" ip saddr 172.19.0.0/16 ip daddr 172.19.0.0/16 ct status dnat masquerade
	}
	chain forward {
		type filter hook forward priority filter; policy accept;
		iifname "br-i" oifname != "br-i" drop
		oifname "br-i" iifname != "br-i" drop
		iifname "br-a" oifname "br-b" drop
		iifname "br-b" oifname "br-a" drop
		oifname { "br-a", "br-b" } ct state established,related accept
		oifname "br-a" ip daddr 172.18.0.2 tcp dport 80 ct status dnat accept
		oifname "br-b" ip daddr 172.19.0.3 udp dport 5353 ct status dnat accept
		iifname "br-a" oifname != "br-a" accept
		iifname "br-b" oifname != "br-b" accept
		iifname "br-a" oifname "br-a" accept
		iifname "br-b" oifname "br-b" drop
		iifname "br-i" oifname "br-i" accept
	}
}
`;

const IPT_NAT = `*nat
:BERTH-PREROUTING - [0:0]
:BERTH-OUTPUT - [0:0]
:BERTH-PORTS - [0:0]
:BERTH-POSTROUTING - [0:0]
-A BERTH-PREROUTING -m addrtype --dst-type LOCAL -j BERTH-PORTS
-A BERTH-OUTPUT -m addrtype --dst-type LOCAL -j BERTH-PORTS
-A BERTH-PORTS -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.18.0.2:80
-A BERTH-PORTS -d 192.0.2.7/32 -p udp -m udp --dport 53 -j DNAT --to-destination 172.19.0.3:5353
-A BERTH-POSTROUTING -s 172.18.0.0/16 ! -o br-a -j MASQUERADE
-A BERTH-POSTROUTING -s 172.19.0.0/16 ! -o br-b -j MASQUERADE
-A BERTH-POSTROUTING -s 127.0.0.0/8 -o br-a -j MASQUERADE
-A BERTH-POSTROUTING -s 172.18.0.0/16 -d 172.18.0.0/16 -o br-a -m conntrack --ctstate DNAT -j MASQUERADE
-A BERTH-POSTROUTING -s 172.19.0.0/16 -d 172.19.0.0/16 -o br-b -m conntrack --ctstate DNAT -j MASQUERADE
`;

const IPT_FILTER = `*filter
:BERTH-FORWARD - [0:0]
:BERTH-ISOLATION - [0:0]
-A BERTH-FORWARD -i br-i ! -o br-i -j DROP
-A BERTH-FORWARD ! -i br-i -o br-i -j DROP
-A BERTH-FORWARD -i br-a ! -o br-a -j BERTH-ISOLATION
-A BERTH-FORWARD -i br-b ! -o br-b -j BERTH-ISOLATION
-A BERTH-ISOLATION -o br-a -j DROP
-A BERTH-ISOLATION -o br-b -j DROP
-A BERTH-FORWARD -o br-a -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A BERTH-FORWARD -o br-b -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A BERTH-FORWARD -d 172.18.0.2/32 -o br-a -p tcp -m tcp --dport 80 -m conntrack --ctstate DNAT -j ACCEPT
-A BERTH-FORWARD -d 172.19.0.3/32 -o br-b -p udp -m udp --dport 5353 -m conntrack --ctstate DNAT -j ACCEPT
-A BERTH-FORWARD -i br-a ! -o br-a -j ACCEPT
-A BERTH-FORWARD -i br-b ! -o br-b -j ACCEPT
-A BERTH-FORWARD -i br-a -o br-a -j ACCEPT
-A BERTH-FORWARD -i br-b -o br-b -j DROP
-A BERTH-FORWARD -i br-i -o br-i -j ACCEPT
`;

const JUMPS_NAT = '-I PREROUTING 1 -j BERTH-PREROUTING\n-I OUTPUT 1 -j BERTH-OUTPUT\n-I POSTROUTING 1 -j BERTH-POSTROUTING\n';
const JUMP_FILTER = '-I FORWARD 1 -j BERTH-FORWARD\n';

/** What iptables-save prints once berth's chains exist, next to another tool's rules. */
const SAVED = `# Generated by iptables-save v1.8.9 (nf_tables)
*nat
:PREROUTING ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:BERTH-PREROUTING - [0:0]
:BERTH-OUTPUT - [0:0]
:BERTH-PORTS - [0:0]
:BERTH-POSTROUTING - [0:0]
:BERTH-EXTRA - [0:0]
-A PREROUTING -j BERTH-PREROUTING
-A OUTPUT -j BERTH-OUTPUT
-A POSTROUTING -j BERTH-POSTROUTING
-A POSTROUTING -s 10.99.0.0/16 -j MASQUERADE
-A POSTROUTING -s 10.99.0.0/16 -j BERTH-POSTROUTING
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:BERTH-FORWARD - [0:0]
:DOCKER - [0:0]
-A FORWARD -j BERTH-FORWARD
-A FORWARD -j DOCKER
COMMIT
`;

function assertRejected(fn: () => unknown, code: ErrorCode, pattern?: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(isBerthError(err, code), `expected ${code}, got ${String(err)}`);
    if (pattern) assert.match(err.message, pattern);
    return true;
  });
}

describe('nftables rendering', () => {
  test('one transaction: ensure the table, delete it, define it in full', () => {
    assert.equal(renderNftScript('berth', STATE), NFT_EXPECTED);
  });

  test('rendering is deterministic and canonical', () => {
    assert.equal(renderNftScript('berth', STATE), renderNftScript('berth', structuredClone(STATE)));
    const spelledDifferently: FirewallState = {
      networks: STATE.networks.map((n) => (n.bridge === 'br-a' ? { ...n, subnet: '172.18.5.9/16' } : n)),
      ports: STATE.ports.map((p, i) => (i === 0 ? { ...p, hostIp: '0.0.0.0' } : p)),
    };
    assert.equal(renderNftScript('berth', spelledDifferently), NFT_EXPECTED);
  });

  test('an empty state still owns an (empty) table; one open bridge has no isolation rule', () => {
    const script = renderNftScript('berth', { networks: [STATE.networks[0]!], ports: [] });
    assert.ok(!script.includes(' drop'), script);
    assert.match(script, /chain published_ports {\n\t}/);
    assert.match(renderNftScript('b', { networks: [], ports: [] }), /^table ip b {}\ndelete table ip b\ntable ip b {\n/);
  });

  test('a port bound to another host address is not reachable on 127.0.0.1', () => {
    const script = renderNftScript('berth', { networks: [STATE.networks[0]!], ports: [port({ hostIp: '192.0.2.1' })] });
    assert.ok(!script.includes('127.0.0.0/8'), script);
  });

  test('removal script deletes the table whether or not it exists', () => {
    assert.equal(renderNftRemoveScript('berth_t1'), 'table ip berth_t1 {}\ndelete table ip berth_t1\n');
  });
});

describe('iptables rendering', () => {
  test('first apply declares the chains, fills them and inserts the four jumps', () => {
    assert.equal(renderIptablesRestore('berth', STATE), `${IPT_NAT}${JUMPS_NAT}COMMIT\n${IPT_FILTER}${JUMP_FILTER}COMMIT\n`);
  });

  test('later applies do not insert jumps that are already there', () => {
    const saved = parseIptablesSave(SAVED);
    assert.equal(renderIptablesRestore('berth', STATE, saved), `${IPT_NAT}COMMIT\n${IPT_FILTER}COMMIT\n`);
    assert.equal(renderIptablesRestore('berth', STATE, saved), renderIptablesRestore('berth', structuredClone(STATE), saved));
  });

  test('chain names are the upper-cased backend name', () => {
    assert.match(renderIptablesRestore('berth_t1a2b', STATE), /^:BERTH_T1A2B-POSTROUTING - \[0:0\]$/m);
  });

  test('removal deletes only the exact jumps and berth chains', () => {
    const script = renderIptablesRemove('berth', parseIptablesSave(SAVED));
    assert.equal(
      script,
      [
        '*nat',
        '-D PREROUTING -j BERTH-PREROUTING',
        '-D OUTPUT -j BERTH-OUTPUT',
        '-D POSTROUTING -j BERTH-POSTROUTING',
        '-F BERTH-PREROUTING',
        '-F BERTH-OUTPUT',
        '-F BERTH-PORTS',
        '-F BERTH-POSTROUTING',
        '-X BERTH-PREROUTING',
        '-X BERTH-OUTPUT',
        '-X BERTH-PORTS',
        '-X BERTH-POSTROUTING',
        'COMMIT',
        '*filter',
        '-D FORWARD -j BERTH-FORWARD',
        '-F BERTH-FORWARD',
        '-X BERTH-FORWARD',
        'COMMIT',
        '',
      ].join('\n'),
    );
  });

  test('removal with nothing of berth left is empty', () => {
    assert.equal(renderIptablesRemove('berth', parseIptablesSave('*filter\n:FORWARD ACCEPT [0:0]\nCOMMIT\n')), '');
    assert.equal(renderIptablesRemove('berth', new Map()), '');
    assert.equal(renderIptablesRemove('other', parseIptablesSave(SAVED)), '');
  });
});

describe('sysctls', () => {
  test('forwarding with any open network; route_localnet where 127.0.0.1 is published', () => {
    assert.deepEqual(requiredSysctls(validateState(STATE)), ['net/ipv4/ip_forward', 'net/ipv4/conf/br-a/route_localnet']);
    const loopbackOnly: FirewallState = {
      networks: [{ bridge: 'br.5', subnet: '10.0.0.0/8', internal: false, icc: true }],
      ports: [port({ hostIp: '127.0.0.2', containerIp: '10.1.1.1', bridge: 'br.5' })],
    };
    assert.deepEqual(requiredSysctls(validateState(loopbackOnly)), ['net/ipv4/ip_forward', 'net/ipv4/conf/br.5/route_localnet']);
    assert.deepEqual(requiredSysctls(validateState({ networks: [STATE.networks[2]!], ports: [] })), []);
  });

  test('netns by name or path', () => {
    assert.equal(netnsPath('bt-1'), '/run/netns/bt-1');
    assert.equal(netnsPath('/proc/1/ns/net'), '/proc/1/ns/net');
    assertRejected(() => netnsPath('../x'), 'InvalidArgument');
  });
});

describe('validation keeps hostile input out of rulesets', () => {
  const net = (bridge: string, subnet = '172.18.0.0/16') => ({ bridge, subnet, internal: false, icc: true });
  const withNetworks = (...networks: ReturnType<typeof net>[]): FirewallState => ({ networks, ports: [] });
  const withPort = (over: Partial<PortMapping>): FirewallState => ({ networks: [net('br-a')], ports: [port(over)] });

  test('bridge names must be plain interface names', () => {
    for (const bad of ['', 'br 0', 'br0" accept', 'eth*', 'br+', 'a/b', 'a:b', '.', '..', 'x'.repeat(16), 'br0\n', 'br\\0', '-br']) {
      assertRejected(() => renderNftScript('berth', withNetworks(net(bad))), 'InvalidArgument', /bridge interface name/);
    }
    for (const good of ['berth0', 'br-1a2b3c4d5e6f', 'br.10', 'x'.repeat(15)]) {
      assert.doesNotThrow(() => validateState(withNetworks(net(good))));
    }
  });

  test('subnets must be IPv4 CIDRs', () => {
    for (const bad of ['172.18.0.0', '172.18.0.0/33', '172.18.0.0/08', '172.18.0/16', '256.0.0.0/8', 'fd00::/64', '1.2.3.4/16; drop']) {
      assertRejected(() => validateState(withNetworks(net('br-a', bad))), 'InvalidArgument', /subnet/);
    }
  });

  test('addresses, ports and protocols', () => {
    const cases: Array<[Partial<PortMapping>, RegExp]> = [
      [{ hostIp: '::' }, /host IP/],
      [{ hostIp: '01.2.3.4' }, /host IP/],
      [{ hostIp: '1.2.3.4 ' }, /host IP/],
      [{ containerIp: '172.18.0.256' }, /container IP/],
      [{ containerIp: '10.0.0.2' }, /not in the subnet/],
      [{ hostPort: 0 }, /host port/],
      [{ hostPort: 65536 }, /host port/],
      [{ containerPort: 1.5 }, /container port/],
      [{ containerPort: Number.NaN }, /container port/],
      [{ proto: 'sctp' as 'tcp' }, /protocol/],
      [{ bridge: 'br-zz' }, /not one of the networks/],
    ];
    for (const [over, pattern] of cases) assertRejected(() => validateState(withPort(over)), 'InvalidArgument', pattern);
  });

  test('conflicts: a bridge twice, a host port twice', () => {
    assertRejected(() => validateState(withNetworks(net('br-a'), net('br-a', '10.0.0.0/8'))), 'Conflict');
    const twice = (a: Partial<PortMapping>, b: Partial<PortMapping>): FirewallState => ({ networks: [net('br-a')], ports: [port(a), port(b)] });
    assertRejected(() => validateState(twice({}, { hostIp: '192.0.2.1' })), 'Conflict');
    assertRejected(() => validateState(twice({ hostIp: '192.0.2.1' }, { hostIp: '192.0.2.1' })), 'Conflict');
    assert.doesNotThrow(() => validateState(twice({ hostIp: '192.0.2.1' }, { hostIp: '192.0.2.2' })));
    assert.doesNotThrow(() => validateState(twice({}, { proto: 'udp' })));
  });

  test('backend names must fit a table name and an iptables chain name', () => {
    for (const bad of ['', '1berth', 'berth-x', 'berth x', 'b'.repeat(17), 'berth;']) {
      assertRejected(() => renderNftScript(bad, STATE), 'InvalidArgument', /firewall name/);
      assertRejected(() => renderIptablesRestore(bad, STATE), 'InvalidArgument', /firewall name/);
    }
  });
});
