// Bridge plumbing on a fake host (root only): a network namespace made by the test plays
// the host, with a bridge in it and two "container" namespaces attached by veth pairs.
// Traffic stays inside those namespaces; the real host's links, routes, sysctls and
// firewall are never touched (only read, to check nothing leaked). Everything is removed
// in t.after even when an assertion fails.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isBerthError } from '../../src/util/errors.js';
import { runTool } from '../../src/util/host-tool.js';
import { chooseSubnet, hostSubnets, macFromIp } from '../../src/network/ipam.js';
import { createNetns, netnsExists, releaseNetnsDir, removeNetns } from '../../src/network/netns.js';
import {
  attachEndpoint,
  detachEndpoint,
  ensureBridge,
  listLinks,
  readSysctl,
  removeBridge,
  setSysctl,
  showLink,
  type EndpointSpec,
} from '../../src/network/links.js';

function has(tool: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status === 0;
}

function skipReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (creates network namespaces)';
  for (const tool of ['ip', 'unshare', 'nsenter', 'mount', 'umount', 'busybox']) {
    if (!has(tool)) return `${tool} is not installed`;
  }
  return undefined;
}

const skip = skipReason();

/** Ping from inside a namespace, a few times: the first packet may wait for ARP. */
async function pings(netns: string, ip: string): Promise<boolean> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const ok = await runTool(['nsenter', `--net=${netns}`, '--', 'busybox', 'ping', '-c', '1', '-W', '1', ip]).then(
      () => true,
      () => false,
    );
    if (ok) return true;
  }
  return false;
}

async function ipJsonIn<T>(netns: string, args: string[]): Promise<T[]> {
  const { stdout } = await runTool(['nsenter', `--net=${netns}`, '--', 'ip', '-j', ...args]);
  return stdout.trim() === '' ? [] : (JSON.parse(stdout) as T[]);
}

interface AddrJson {
  ifname: string;
  mtu: number;
  address: string;
  flags: string[];
  addr_info: { family: string; local: string; prefixlen: number }[];
}

/** mountinfo writes a blank in a path as \040 (the test directory has one on purpose). */
function mountinfoPath(path: string): string {
  return path.replace(/ /g, '\\040');
}

function mountinfoMentions(pid: number | 'self', path: string): boolean {
  return readFileSync(`/proc/${pid}/mountinfo`, 'utf8').includes(mountinfoPath(path));
}

async function rejectsWithCode(promise: Promise<unknown>, code: string, message?: RegExp): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(isBerthError(err), `expected a BerthError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    if (message) assert.match(err.message, message);
    return true;
  });
}

interface FakeHost {
  dir: string;
  host: string;
  c1: string;
  c2: string;
  tag: string;
  holders: ChildProcess[];
  cleanup(): Promise<void>;
}

function fakeHost(t: TestContext): FakeHost {
  // A blank in the path checks that paths are never split or left unescaped.
  const dir = mkdtempSync(join(tmpdir(), 'berth net-'));
  const tag = `bt${randomBytes(3).toString('hex')}`;
  const fake: FakeHost = {
    dir,
    tag,
    host: join(dir, 'host'),
    c1: join(dir, 'c1'),
    c2: join(dir, 'c2'),
    holders: [],
    async cleanup() {
      for (const child of fake.holders) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      // Removing the namespaces destroys every link in them (bridge and veths included).
      for (const ns of [fake.c1, fake.c2, fake.host]) await removeNetns(ns).catch(() => undefined);
      await releaseNetnsDir(dir).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  t.after(() => fake.cleanup());
  return fake;
}

test('bridge networks on a fake host: namespaces, bridge, veths, pings, cleanup', { skip }, async (t) => {
  const f = fakeHost(t);
  const onHost = { netns: f.host };
  const bridge = f.tag;

  await t.test('createNetns makes a namespace with lo up under a shared directory', async () => {
    await createNetns(f.host);
    assert.equal(await netnsExists(f.host), true);
    assert.equal(await netnsExists(join(f.dir, 'nothing')), false);
    const [lo] = await ipJsonIn<AddrJson>(f.host, ['addr', 'show', 'dev', 'lo']);
    assert.ok(lo!.flags.includes('UP'));
    assert.ok(lo!.addr_info.some((a) => a.local === '127.0.0.1'));
    // Like `ip netns add`: the directory is a shared mount of itself.
    const dirLine = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').find((l) => l.split(' ')[4] === mountinfoPath(f.dir));
    assert.match(dirLine ?? '', / shared:\d+/);
    await rejectsWithCode(createNetns(f.host), 'Conflict', /already exists/);
    await createNetns(f.c1);
    await createNetns(f.c2);
  });

  await t.test('ensureBridge creates, then only reconciles', async () => {
    assert.deepEqual(await ensureBridge({ name: bridge, address: '10.203.0.1/24', mtu: 1400 }, onHost), { created: true });
    assert.deepEqual(await ensureBridge({ name: bridge, address: '10.203.0.1/24', mtu: 1400 }, onHost), { created: false });
    // A different address replaces the old one; then back.
    await ensureBridge({ name: bridge, address: '10.204.0.1/24', mtu: 1400 }, onHost);
    assert.deepEqual(
      (await showLink(bridge, onHost))!.addr_info!.filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`),
      ['10.204.0.1/24'],
    );
    await ensureBridge({ name: bridge, address: '10.203.0.1/24', mtu: 1400 }, onHost);
    const link = await showLink(bridge, onHost);
    assert.ok(link);
    assert.equal(link.linkinfo?.info_kind, 'bridge');
    assert.equal(link.mtu, 1400);
    assert.ok(link.flags.includes('UP'));
    assert.deepEqual(
      link.addr_info!.filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`),
      ['10.203.0.1/24'],
    );
    assert.equal(await showLink(`${f.tag}zz`, onHost), undefined);
    await rejectsWithCode(ensureBridge({ name: `${f.tag}-too-long`, address: '10.203.0.1/24' }, onHost), 'InvalidArgument', /too long/);
  });

  const endpoint = (over: Partial<EndpointSpec>): EndpointSpec => ({
    bridge,
    netnsPath: f.c1,
    hostIf: `${f.tag}a`,
    containerIf: 'eth0',
    address: '10.203.0.2/24',
    gateway: '10.203.0.1',
    mac: macFromIp('10.203.0.2'),
    mtu: 1400,
    hairpin: true,
    ...over,
  });

  await t.test('attachEndpoint wires two containers to the bridge', async () => {
    await attachEndpoint(endpoint({}), onHost);
    // The second one is on an --internal network: no default route.
    await attachEndpoint(
      endpoint({ netnsPath: f.c2, hostIf: `${f.tag}b`, address: '10.203.0.3/24', mac: macFromIp('10.203.0.3'), gateway: undefined, hairpin: false }),
      onHost,
    );

    const [eth0] = await ipJsonIn<AddrJson>(f.c1, ['addr', 'show', 'dev', 'eth0']);
    assert.equal(eth0!.address, '02:42:0a:cb:00:02');
    assert.equal(eth0!.mtu, 1400);
    assert.ok(eth0!.flags.includes('UP'));
    assert.deepEqual(eth0!.addr_info.filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`), ['10.203.0.2/24']);
    assert.deepEqual(
      (await ipJsonIn<{ dst: string; gateway?: string; dev: string }>(f.c1, ['route', 'show', 'default'])).map((r) => [r.gateway, r.dev]),
      [['10.203.0.1', 'eth0']],
    );
    assert.deepEqual(await ipJsonIn(f.c2, ['route', 'show', 'default']), []);

    const a = await showLink(`${f.tag}a`, onHost);
    const b = await showLink(`${f.tag}b`, onHost);
    assert.equal(a?.master, bridge);
    assert.equal(b?.master, bridge);
    assert.equal(a?.linkinfo?.info_slave_data?.hairpin, true);
    assert.equal(b?.linkinfo?.info_slave_data?.hairpin, false);
    assert.equal(a?.mtu, 1400);
    assert.ok(a?.flags.includes('UP'));
    // The peers never appeared on the fake host under their container names.
    assert.deepEqual((await listLinks('', onHost)).sort(), ['lo', bridge, `${f.tag}a`, `${f.tag}b`].sort());
    assert.deepEqual((await listLinks(f.tag, onHost)).sort(), [bridge, `${f.tag}a`, `${f.tag}b`].sort());
  });

  await t.test('containers reach each other and the gateway', async () => {
    assert.ok(await pings(f.c1, '10.203.0.3'), 'c1 → c2');
    assert.ok(await pings(f.c2, '10.203.0.2'), 'c2 → c1');
    assert.ok(await pings(f.c1, '10.203.0.1'), 'c1 → gateway');
    assert.ok(await pings(f.c2, '10.203.0.1'), 'c2 → gateway');
    assert.ok(await pings(f.host, '10.203.0.2'), 'fake host → c1');
  });

  await t.test('hostSubnets sees the bridge subnet in the fake host', async () => {
    const subnets = await hostSubnets(onHost);
    assert.ok(subnets.includes('10.203.0.0/24'), subnets.join(' '));
    assert.ok(subnets.includes('127.0.0.0/8'), subnets.join(' '));
    assert.ok(!subnets.includes('0.0.0.0/0'));
    assert.equal(chooseSubnet([{ base: '10.203.0.0/16', size: 24 }], subnets), '10.203.1.0/24');
  });

  await t.test('setSysctl writes in the fake host namespace only', async () => {
    const path = `/proc/sys/net/ipv4/conf/${bridge}/route_localnet`;
    assert.equal(existsSync(path), false, 'the bridge must not exist on the real host');
    await setSysctl(path, '1', onHost);
    assert.equal(await readSysctl(path, onHost), '1');
    await rejectsWithCode(setSysctl('/proc/sys/kernel/hostname', 'x', onHost), 'InvalidArgument');
    await rejectsWithCode(setSysctl('/proc/sys/net/../kernel/hostname', 'x', onHost), 'InvalidArgument');
  });

  await t.test('a failed attach removes what it made, and only that', async () => {
    // The bridge is missing: the pair was made, then enslaving failed.
    await assert.rejects(attachEndpoint(endpoint({ hostIf: `${f.tag}c`, containerIf: 'eth1', bridge: `${f.tag}no` }), onHost));
    // The container side fails: c1 already has a default route.
    await assert.rejects(attachEndpoint(endpoint({ hostIf: `${f.tag}c`, containerIf: 'eth1' }), onHost), /File exists/);
    assert.deepEqual((await listLinks(f.tag, onHost)).sort(), [bridge, `${f.tag}a`, `${f.tag}b`].sort());
    assert.deepEqual((await listLinks('eth', { netns: f.c1 })), ['eth0']);
    // The host name is taken: the existing link must survive.
    await assert.rejects(attachEndpoint(endpoint({ netnsPath: f.c2, containerIf: 'eth1' }), onHost), /File exists/);
    assert.ok(await showLink(`${f.tag}a`, onHost));
    assert.deepEqual((await listLinks('eth', { netns: f.c2 })), ['eth0']);
    await rejectsWithCode(attachEndpoint(endpoint({ hostIf: 'veth0123456789abc' }), onHost), 'InvalidArgument', /at most 15/);
    await rejectsWithCode(attachEndpoint(endpoint({ mac: '03:42:0a:cb:00:02' }), onHost), 'InvalidArgument', /MAC/);
    await rejectsWithCode(attachEndpoint(endpoint({ gateway: '10.9.9.9' }), onHost), 'InvalidArgument', /not in the endpoint's subnet/);
    await rejectsWithCode(attachEndpoint(endpoint({ netnsPath: 'c1' }), onHost), 'InvalidArgument', /must be absolute/);
    await rejectsWithCode(ensureBridge({ name: `${f.tag}b`, address: '10.205.0.1/24' }, onHost), 'Conflict', /type veth/);
  });

  await t.test('removing a namespace reaches copies held by other mount namespaces', async () => {
    // A process with its own mount namespace made now holds a copy of c2's bind mount (as a
    // container's setup does before pivot_root). The shared directory propagates the unmount.
    const holder = spawn('unshare', ['--mount', '--propagation', 'unchanged', 'sleep', '60'], { stdio: 'ignore' });
    f.holders.push(holder);
    const pid = holder.pid!;
    for (let i = 0; i < 100 && !(existsSync(`/proc/${pid}/mountinfo`) && mountinfoMentions(pid, f.c2) && readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'sleep'); i++) {
      await sleep(20);
    }
    assert.ok(mountinfoMentions(pid, f.c2), 'the holder has a copy of the mount');
    await removeNetns(f.c2);
    assert.equal(mountinfoMentions(pid, f.c2), false, 'the unmount propagated to the copy');
    // With c2 gone its veth pair went with it: the fake host's end disappears.
    for (let i = 0; i < 50 && (await showLink(`${f.tag}b`, onHost)); i++) await sleep(20);
    assert.equal(await showLink(`${f.tag}b`, onHost), undefined);
    holder.kill('SIGKILL');
  });

  await t.test('detach, remove are idempotent', async () => {
    await detachEndpoint(`${f.tag}a`, onHost);
    await detachEndpoint(`${f.tag}a`, onHost);
    await detachEndpoint(`${f.tag}b`, onHost);
    assert.deepEqual(await listLinks('eth', { netns: f.c1 }), []);
    await removeBridge(bridge, onHost);
    await removeBridge(bridge, onHost);
    assert.deepEqual(await listLinks(f.tag, onHost), []);
    await removeNetns(f.c1);
    await removeNetns(f.c1);
    await removeNetns(join(f.dir, 'never-made'));
    await removeNetns(join(f.dir, 'no-such-dir', 'x'));
    assert.equal(await netnsExists(f.c1), false);
    assert.equal(existsSync(f.c1), false);
  });

  await t.test('nothing is left behind', async () => {
    await f.cleanup();
    assert.equal(mountinfoMentions('self', f.dir), false, 'no mount under the test directory');
    assert.equal(existsSync(f.dir), false);
    assert.deepEqual(await listLinks(f.tag), [], 'no link with the test tag on the real host');
  });
});
