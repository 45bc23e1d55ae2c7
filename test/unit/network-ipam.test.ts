// IPv4 address management: CIDR parsing and arithmetic, Docker's default pools, subnet
// choice around taken subnets, user IPAM validation, endpoint allocation and MACs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isBerthError, type ErrorCode } from '../../src/util/errors.js';
import {
  DEFAULT_ADDRESS_POOLS,
  allocateAddress,
  chooseSubnet,
  cidrBounds,
  contains,
  defaultGateway,
  ipv4ToUint32,
  macFromIp,
  networkOf,
  overlaps,
  parseCidr,
  uint32ToIpv4,
  validateNetworkIpam,
} from '../../src/network/ipam.js';

function throwsCode(fn: () => unknown, code: ErrorCode, message: RegExp | string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(isBerthError(err, code), `expected a ${code} error, got ${String(err)}`);
    if (typeof message === 'string') assert.equal(err.message, message);
    else assert.match(err.message, message);
    return true;
  });
}

test('IPv4 addresses convert to and from uint32', () => {
  assert.equal(ipv4ToUint32('0.0.0.0'), 0);
  assert.equal(ipv4ToUint32('255.255.255.255'), 0xffffffff);
  assert.equal(ipv4ToUint32('172.17.0.1'), 0xac110001);
  assert.equal(uint32ToIpv4(0xac110001), '172.17.0.1');
  assert.equal(uint32ToIpv4(0xffffffff), '255.255.255.255');
  for (const bad of ['', '1.2.3', '1.2.3.4.5', '256.0.0.1', '01.2.3.4', '1.2.3.-4', ' 1.2.3.4', '1.2.3.4 ', 'a.b.c.d', '::1']) {
    throwsCode(() => ipv4ToUint32(bad), 'InvalidArgument', `invalid IPv4 address: ${bad}`);
  }
  assert.throws(() => uint32ToIpv4(2 ** 32));
  assert.throws(() => uint32ToIpv4(-1));
});

test('parseCidr keeps the address as written and validates like Docker', () => {
  assert.deepEqual(parseCidr('172.18.0.5/16'), { address: '172.18.0.5', prefix: 16 });
  assert.deepEqual(parseCidr('0.0.0.0/0'), { address: '0.0.0.0', prefix: 0 });
  assert.deepEqual(parseCidr('10.1.2.3/32'), { address: '10.1.2.3', prefix: 32 });
  for (const bad of ['172.18.0.0', '172.18.0.0/', '172.18.0.0/33', '172.18.0.0/016', '172.18.0/16', '172.18.0.0/-1', '/16', '172.18.0.0/16/1', 'x']) {
    throwsCode(() => parseCidr(bad), 'InvalidArgument', `invalid CIDR address: ${bad}`);
  }
});

test('networkOf, cidrBounds, contains and overlaps', () => {
  assert.equal(networkOf('172.18.0.5/16'), '172.18.0.0/16');
  assert.equal(networkOf('192.168.17.200/20'), '192.168.16.0/20');
  assert.equal(networkOf('10.9.8.7/32'), '10.9.8.7/32');
  assert.equal(networkOf('10.9.8.7/0'), '0.0.0.0/0');
  assert.deepEqual(cidrBounds('192.168.16.9/20'), { network: ipv4ToUint32('192.168.16.0'), broadcast: ipv4ToUint32('192.168.31.255') });
  assert.ok(contains('172.18.0.0/16', '172.18.255.255'));
  assert.ok(contains('172.18.0.0/16', '172.18.0.0'));
  assert.ok(!contains('172.18.0.0/16', '172.19.0.0'));
  assert.ok(contains('0.0.0.0/0', '255.255.255.255'));
  assert.ok(overlaps('10.0.0.0/8', '10.200.0.0/16'));
  assert.ok(overlaps('10.200.0.0/16', '10.0.0.0/8'));
  assert.ok(overlaps('192.168.16.0/20', '192.168.31.255/32'));
  assert.ok(!overlaps('192.168.16.0/20', '192.168.32.0/20'));
  assert.ok(!overlaps('172.17.0.0/16', '172.18.0.0/16'));
});

test("Docker's default pools: 172.17-31 as /16s, then 192.168/16 as /20s", () => {
  assert.equal(DEFAULT_ADDRESS_POOLS.length, 16);
  assert.deepEqual(DEFAULT_ADDRESS_POOLS[0], { base: '172.17.0.0/16', size: 16 });
  assert.deepEqual(DEFAULT_ADDRESS_POOLS[14], { base: '172.31.0.0/16', size: 16 });
  assert.deepEqual(DEFAULT_ADDRESS_POOLS[15], { base: '192.168.0.0/16', size: 20 });
  assert.equal(chooseSubnet(DEFAULT_ADDRESS_POOLS, []), '172.17.0.0/16');
});

test('chooseSubnet skips subnets overlapping taken ones, in pool order', () => {
  // The host has docker0 and a /32 host route in 172.18; 172.19.5.0/24 is in another network.
  const taken = ['172.17.0.0/16', '172.18.3.4/32', '172.19.5.0/24', '127.0.0.0/8'];
  assert.equal(chooseSubnet(DEFAULT_ADDRESS_POOLS, taken), '172.20.0.0/16');
  // A taken supernet covering all of 172.16/12 pushes to the 192.168 /20s.
  assert.equal(chooseSubnet(DEFAULT_ADDRESS_POOLS, ['172.16.0.0/12']), '192.168.0.0/20');
  assert.equal(chooseSubnet(DEFAULT_ADDRESS_POOLS, ['172.16.0.0/12', '192.168.0.0/24', '192.168.16.1/32']), '192.168.32.0/20');
  // A taken subnet larger than the pool's size blocks every block it covers.
  assert.equal(chooseSubnet([{ base: '10.0.0.0/16', size: 24 }], ['10.0.0.128/23']), '10.0.2.0/24');
});

test('chooseSubnet jumps past a large taken subnet without stepping through it', () => {
  const pools = [{ base: '10.0.0.0/8', size: 24 }];
  assert.equal(chooseSubnet(pools, ['10.0.0.0/9']), '10.128.0.0/24');
  // 65536 /24s, all taken by many small neighbours and one big one: must still be quick.
  const taken = ['10.0.0.0/9', ...Array.from({ length: 2000 }, (_, i) => `10.${128 + (i >> 8)}.${i & 255}.0/24`)];
  assert.equal(chooseSubnet(pools, taken), '10.135.208.0/24');
});

test('chooseSubnet fails with Docker\'s message when every pool is used', () => {
  const message = 'could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network';
  throwsCode(() => chooseSubnet(DEFAULT_ADDRESS_POOLS, ['172.16.0.0/12', '192.168.0.0/16']), 'Unavailable', message);
  throwsCode(() => chooseSubnet([], []), 'Unavailable', message);
  // Exhausting a pool block by block (every /20 of 192.168 taken singly).
  const all20s = Array.from({ length: 16 }, (_, i) => `192.168.${i * 16}.0/20`);
  throwsCode(() => chooseSubnet([{ base: '192.168.0.0/16', size: 20 }], all20s), 'Unavailable', message);
});

test('chooseSubnet rejects malformed pools and taken entries', () => {
  throwsCode(() => chooseSubnet([{ base: '10.0.0.0/16', size: 8 }], []), 'InvalidArgument', /size 8 must be between 16 and 32/);
  throwsCode(() => chooseSubnet([{ base: '10.0.0.0/16', size: 33 }], []), 'InvalidArgument', /size 33/);
  throwsCode(() => chooseSubnet([{ base: '10.0.0/16', size: 24 }], []), 'InvalidArgument', 'invalid CIDR address: 10.0.0/16');
  throwsCode(() => chooseSubnet(DEFAULT_ADDRESS_POOLS, ['nonsense']), 'InvalidArgument', 'invalid CIDR address: nonsense');
});

test('defaultGateway is the first host address', () => {
  assert.equal(defaultGateway('172.18.0.0/16'), '172.18.0.1');
  assert.equal(defaultGateway('192.168.16.77/20'), '192.168.16.1');
  assert.equal(defaultGateway('10.0.0.4/31'), '10.0.0.4');
});

test('validateNetworkIpam canonicalises and fills the gateway', () => {
  assert.deepEqual(validateNetworkIpam({ subnet: '172.28.5.3/16' }), { subnet: '172.28.0.0/16', gateway: '172.28.0.1' });
  assert.deepEqual(validateNetworkIpam({ subnet: '172.28.0.0/16', gateway: '172.28.5.254', ipRange: '172.28.5.9/24' }), {
    subnet: '172.28.0.0/16',
    gateway: '172.28.5.254',
    ipRange: '172.28.5.0/24',
  });
  assert.deepEqual(validateNetworkIpam({ subnet: '10.1.0.0/24', gateway: '', ipRange: '' }), { subnet: '10.1.0.0/24', gateway: '10.1.0.1' });
  // A range equal to the subnet is fine.
  assert.equal(validateNetworkIpam({ subnet: '10.1.0.0/24', ipRange: '10.1.0.0/24' }).ipRange, '10.1.0.0/24');
});

test('validateNetworkIpam rejects gateways and ranges outside the subnet', () => {
  throwsCode(() => validateNetworkIpam({ subnet: '10.1.0/24' }), 'InvalidArgument', 'invalid CIDR address: 10.1.0/24');
  throwsCode(() => validateNetworkIpam({ subnet: '10.1.0.0/24', gateway: '10.1.1.1' }), 'InvalidArgument', 'no matching subnet for gateway 10.1.1.1');
  throwsCode(() => validateNetworkIpam({ subnet: '10.1.0.0/24', gateway: 'gw' }), 'InvalidArgument', /invalid gateway: gw is not an IPv4 address/);
  throwsCode(() => validateNetworkIpam({ subnet: '10.1.0.0/24', gateway: '10.1.0.0' }), 'InvalidArgument', /network or broadcast address of 10.1.0.0\/24/);
  throwsCode(() => validateNetworkIpam({ subnet: '10.1.0.0/24', gateway: '10.1.0.255' }), 'InvalidArgument', /network or broadcast/);
  throwsCode(() => validateNetworkIpam({ subnet: '10.1.0.0/24', ipRange: '10.1.1.0/28' }), 'InvalidArgument', 'no matching subnet for range 10.1.1.0/28');
  // Overlapping but larger than the subnet is still outside it.
  throwsCode(() => validateNetworkIpam({ subnet: '10.1.0.0/24', ipRange: '10.1.0.0/23' }), 'InvalidArgument', 'no matching subnet for range 10.1.0.0/23');
  throwsCode(() => validateNetworkIpam({ subnet: '10.1.0.0/24', ipRange: '10.1.0.0' }), 'InvalidArgument', 'invalid CIDR address: 10.1.0.0');
});

test('allocateAddress hands out the lowest free address, skipping gateway and used ones', () => {
  const base = { subnet: '172.18.0.0/16', gateway: '172.18.0.1' };
  assert.equal(allocateAddress({ ...base, used: new Set() }), '172.18.0.2');
  assert.equal(allocateAddress({ ...base, used: new Set(['172.18.0.2', '172.18.0.3', '172.18.0.5']) }), '172.18.0.4');
  // Order of `used` does not matter; addresses freed earlier are reused first.
  assert.equal(allocateAddress({ ...base, used: new Set(['172.18.0.4', '172.18.0.2', '172.18.0.3']) }), '172.18.0.5');
  // A gateway elsewhere in the subnet frees .1.
  assert.equal(allocateAddress({ subnet: '172.18.0.0/16', gateway: '172.18.0.2', used: new Set() }), '172.18.0.1');
});

test('allocateAddress draws from the ip range only, which may start at a .0', () => {
  const req = { subnet: '172.20.0.0/16', ipRange: '172.20.10.0/24', gateway: '172.20.0.1', used: new Set<string>() };
  // As Docker: only the subnet's network/broadcast are reserved, not the range's.
  assert.equal(allocateAddress(req), '172.20.10.0');
  assert.equal(allocateAddress({ ...req, used: new Set(['172.20.10.0', '172.20.0.2']) }), '172.20.10.1');
  const full = new Set(Array.from({ length: 256 }, (_, i) => `172.20.10.${i}`));
  throwsCode(() => allocateAddress({ ...req, used: full }), 'Unavailable', "no available IPv4 addresses on this network's address pools");
  // A range at the end of the subnet never yields the broadcast address.
  const tail = { subnet: '10.0.0.0/24', ipRange: '10.0.0.252/30', gateway: '10.0.0.1', used: new Set(['10.0.0.252', '10.0.0.253']) };
  assert.equal(allocateAddress(tail), '10.0.0.254');
  throwsCode(() => allocateAddress({ ...tail, used: new Set([...tail.used, '10.0.0.254']) }), 'Unavailable', /no available IPv4 addresses/);
});

test('allocateAddress exhausts a small subnet', () => {
  const req = { subnet: '10.0.0.0/29', gateway: '10.0.0.1', used: new Set<string>() };
  const got: string[] = [];
  for (let i = 0; i < 5; i++) {
    const ip = allocateAddress(req);
    got.push(ip);
    req.used.add(ip);
  }
  assert.deepEqual(got, ['10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5', '10.0.0.6']);
  throwsCode(() => allocateAddress(req), 'Unavailable', "no available IPv4 addresses on this network's address pools");
  // /31 (RFC 3021): both addresses are hosts.
  assert.equal(allocateAddress({ subnet: '10.0.0.4/31', gateway: '10.0.0.4', used: new Set() }), '10.0.0.5');
});

test('allocateAddress checks a static address', () => {
  const base = { subnet: '172.18.0.0/16', ipRange: '172.18.1.0/24', gateway: '172.18.0.1', used: new Set(['172.18.0.9']) };
  assert.equal(allocateAddress({ ...base, preferred: '172.18.7.7' }), '172.18.7.7', 'static addresses may lie outside the ip range');
  assert.equal(allocateAddress({ ...base, preferred: '172.18.1.3' }), '172.18.1.3');
  throwsCode(() => allocateAddress({ ...base, preferred: '172.18.0.9' }), 'Conflict', 'Address already in use');
  throwsCode(() => allocateAddress({ ...base, preferred: '172.18.0.1' }), 'Conflict', /Address already in use: 172.18.0.1 is the network's gateway/);
  throwsCode(() => allocateAddress({ ...base, preferred: '172.19.0.2' }), 'InvalidArgument', /invalid address 172.19.0.2: it does not belong to any of this network's subnets/);
  throwsCode(() => allocateAddress({ ...base, preferred: '172.18.0.0' }), 'InvalidArgument', /network or broadcast address of 172.18.0.0\/16/);
  throwsCode(() => allocateAddress({ ...base, preferred: '172.18.255.255' }), 'InvalidArgument', /network or broadcast/);
  throwsCode(() => allocateAddress({ ...base, preferred: '172.18.0.300' }), 'InvalidArgument', /invalid IP address: 172.18.0.300 is not an IPv4 address/);
});

test('allocateAddress on a mostly free /8 does not walk the subnet', () => {
  const used = new Set(Array.from({ length: 5000 }, (_, i) => uint32ToIpv4(ipv4ToUint32('10.0.0.2') + i)));
  assert.equal(allocateAddress({ subnet: '10.0.0.0/8', gateway: '10.0.0.1', used }), '10.0.19.138');
  // Nearly all of a /8 range free, only its start used.
  assert.equal(allocateAddress({ subnet: '10.0.0.0/8', ipRange: '10.0.0.0/8', gateway: '10.255.255.254', used: new Set(['10.0.0.1']) }), '10.0.0.2');
  // Half the address space as one subnet: still immediate.
  assert.equal(allocateAddress({ subnet: '0.0.0.0/1', gateway: '0.0.0.1', used: new Set() }), '0.0.0.2');
});

test("macFromIp is Docker's 02:42 + the address bytes", () => {
  assert.equal(macFromIp('172.17.0.2'), '02:42:ac:11:00:02');
  assert.equal(macFromIp('10.255.0.1'), '02:42:0a:ff:00:01');
  assert.equal(macFromIp('0.0.0.0'), '02:42:00:00:00:00');
  throwsCode(() => macFromIp('1.2.3'), 'InvalidArgument', 'invalid IPv4 address: 1.2.3');
});
