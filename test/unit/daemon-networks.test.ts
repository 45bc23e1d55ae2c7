// Published-port planning and reservation, and the network list filters.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { PortReservations, wantedPorts } from '../../src/daemon/networks/ports.js';
import { filterNetworks } from '../../src/daemon/networks/views.js';
import type { NetworkRecord } from '../../src/network/store.js';
import { isBerthError } from '../../src/util/errors.js';

test('wantedPorts: bindings, ranges, -P over exposed ports, and what is refused', () => {
  const hc = {
    PortBindings: { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '8080' }, { HostIp: '', HostPort: '' }], '53/udp': [{ HostIp: '0.0.0.0', HostPort: '5300-5302' }] },
    PublishAllPorts: true,
  };
  assert.deepEqual(wantedPorts(hc, ['80/tcp', '443/tcp']), [
    { proto: 'tcp', hostIp: '127.0.0.1', range: [8080, 8080], containerPort: 80 },
    { proto: 'tcp', hostIp: '', range: [0, 0], containerPort: 80 },
    { proto: 'udp', hostIp: '', range: [5300, 5302], containerPort: 53 },
    { proto: 'tcp', hostIp: '', range: [0, 0], containerPort: 443 },
  ]);
  assert.deepEqual(wantedPorts({}, ['80/tcp']), [], 'exposed only: nothing published without -P');
  const refused = (bindings: Record<string, { HostIp?: string; HostPort?: string }[]>, message: RegExp): void => {
    assert.throws(() => wantedPorts({ PortBindings: bindings }, []), (e: unknown) => isBerthError(e, 'InvalidArgument') && message.test(e.message));
  };
  refused({ '80/sctp': [{ HostPort: '1' }] }, /tcp and udp ports only/);
  refused({ 'http/tcp': [{ HostPort: '1' }] }, /invalid port specification/);
  refused({ '80/tcp': [{ HostPort: '70000' }] }, /invalid hostPort: 70000/);
  refused({ '80/tcp': [{ HostPort: '9-8' }] }, /invalid hostPort: 9-8/);
  refused({ '80/tcp': [{ HostIp: '::1', HostPort: '80' }] }, /IPv4 addresses only/);
  refused({ '80/tcp': [{ HostIp: 'localhost', HostPort: '80' }] }, /invalid host IP address/);
});

test('PortReservations: a port is held until released; clashes and busy host ports are errors; ranges skip taken ports', async (t) => {
  const ports = new PortReservations();
  t.after(() => ports.closeAll());
  const [first] = await ports.reserve('c1', [{ proto: 'tcp', hostIp: '127.0.0.1', range: [0, 0], containerPort: 80 }]);
  assert.ok(first && first.hostPort >= 1024);
  await assert.rejects(ports.reserve('c2', [{ proto: 'tcp', hostIp: '', range: [first.hostPort, first.hostPort], containerPort: 80 }]),
    (e: unknown) => isBerthError(e, 'Conflict') && e.message === `Bind for 0.0.0.0:${first.hostPort} failed: port is already allocated`);
  // Someone else's listener on the host: the reservation fails with the listen error.
  const other = createServer();
  await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
  t.after(() => other.close());
  const busy = (other.address() as { port: number }).port;
  await assert.rejects(ports.reserve('c3', [{ proto: 'tcp', hostIp: '127.0.0.1', range: [busy, busy], containerPort: 80 }]), /address already in use/);
  // A range moves on past the busy port; udp and tcp of the same number do not clash.
  const [inRange] = await ports.reserve('c4', [{ proto: 'tcp', hostIp: '127.0.0.1', range: [busy, busy + 1], containerPort: 80 }]);
  assert.equal(inRange!.hostPort, busy + 1);
  await ports.reserve('c5', [{ proto: 'udp', hostIp: '127.0.0.1', range: [first.hostPort, first.hostPort], containerPort: 53 }]);
  // All or nothing: a failing second port releases the first.
  await assert.rejects(ports.reserve('c6', [
    { proto: 'tcp', hostIp: '127.0.0.1', range: [0, 0], containerPort: 1 },
    { proto: 'tcp', hostIp: '127.0.0.1', range: [first.hostPort, first.hostPort], containerPort: 2 },
  ]));
  ports.release('c1');
  const [again] = await ports.reserve('c7', [{ proto: 'tcp', hostIp: '127.0.0.1', range: [first.hostPort, first.hostPort], containerPort: 80 }]);
  assert.equal(again!.hostPort, first.hostPort, 'released ports can be taken again');
});

function net(name: string, extra: Partial<NetworkRecord> = {}): NetworkRecord {
  return {
    Id: `${name.padEnd(4, 'x')}`.repeat(16).slice(0, 64), Name: name, Created: '2026-11-01T00:00:00Z', Driver: 'bridge', Internal: false, Attachable: false,
    IPAM: { Driver: 'default', Options: {}, Config: [] }, Options: {}, Labels: {}, ...extra,
  };
}

test('filterNetworks: Docker keys, types, dangling, until', () => {
  const nets = [net('bridge'), net('host', { Driver: 'host' }), net('none', { Driver: 'null' }), net('front', { Labels: { tier: 'web' } }), net('back', { Created: '2026-11-20T00:00:00Z' })];
  const names = (filters: Record<string, string[]>, allowed?: string[]): string[] => filterNetworks(nets, filters, (n) => n.Name === 'back', allowed).map((n) => n.Name);
  assert.deepEqual(names({ type: ['custom'] }), ['front', 'back']);
  assert.deepEqual(names({ type: ['builtin'] }), ['bridge', 'host', 'none']);
  assert.deepEqual(names({ driver: ['bridge'] }), ['bridge', 'front', 'back']);
  assert.deepEqual(names({ name: ['ro'] }), ['front']);
  assert.deepEqual(names({ label: ['tier=web'] }), ['front']);
  assert.deepEqual(names({ dangling: ['true'] }), ['back']);
  assert.deepEqual(names({ until: ['2026-11-10T00:00:00Z'] }, ['until']), ['bridge', 'host', 'none', 'front']);
  assert.throws(() => names({ colour: ['red'] }), /invalid filter 'colour'/);
  assert.throws(() => names({ type: ['other'] }), /invalid filter: 'type'='other'/);
  assert.throws(() => names({ name: ['x'] }, ['label']), /invalid filter 'name'/);
});
