// Both firewall backends against real traffic, on a fake host built from network namespaces
// (root only). Per backend: a "host" namespace with three bridges (two open, one internal) and
// an uplink veth to an "outside" namespace; four "container" namespaces on the bridges. Web
// servers (busybox httpd) run in the containers, in the host and outside; clients are
// `busybox wget` runs in whichever namespace the check is about. Nothing here touches the real
// host: rules, sysctls and interfaces all live in namespaces this file made and deletes after,
// and every address used exists only inside them.
import { strict as assert } from 'node:assert';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runTool, runToolSync, spawnTool } from '../../src/util/host-tool.js';
import { detectNatBackend, type FirewallState, type NatBackend, type NatBackendKind } from '../../src/network/nat/index.js';

const isRoot = process.getuid?.() === 0;

function toolWorks(argv: string[]): boolean {
  try {
    runToolSync(argv);
    return true;
  } catch {
    return false;
  }
}

const baseSkip: string | false = !isRoot
  ? 'needs root (network namespaces)'
  : !existsSync('/bin/busybox') || !toolWorks(['nsenter', '--version']) || !toolWorks(['ip', '-V'])
    ? 'needs busybox, nsenter and ip'
    : false;

const UPLINK_HOST = '198.51.100.1';
const UPLINK_OUTSIDE = '198.51.100.2';

interface Container {
  ns: string;
  bridge: string;
  ip: string;
  gateway: string;
}

/** One fake host with its containers and outside world; everything it makes, it can undo. */
class FakeHost {
  readonly prefix = `bt-${randomBytes(3).toString('hex')}`;
  readonly host = `${this.prefix}-host`;
  readonly outside = `${this.prefix}-out`;
  readonly containers: Record<'c1' | 'c2' | 'c3' | 'c4', Container> = {
    c1: { ns: `${this.prefix}-c1`, bridge: 'br-a', ip: '10.88.1.2', gateway: '10.88.1.1' },
    c2: { ns: `${this.prefix}-c2`, bridge: 'br-a', ip: '10.88.1.3', gateway: '10.88.1.1' },
    c3: { ns: `${this.prefix}-c3`, bridge: 'br-b', ip: '10.88.2.2', gateway: '10.88.2.1' },
    c4: { ns: `${this.prefix}-c4`, bridge: 'br-i', ip: '10.88.3.2', gateway: '10.88.3.1' },
  };
  readonly netnsPath = `/run/netns/${this.host}`;
  private readonly created: string[] = [];
  private readonly servers: ChildProcess[] = [];
  private webRoot = '';

  async build(): Promise<void> {
    this.webRoot = mkdtempSync('/var/tmp/berth-nat-');
    for (const ns of [this.host, this.outside, ...Object.values(this.containers).map((c) => c.ns)]) {
      await runTool(['ip', 'netns', 'add', ns]);
      this.created.push(ns);
      await this.ip(ns, 'link', 'set', 'lo', 'up');
    }
    // bridge-nf-call-iptables is per namespace; icc=false relies on bridged traffic being filtered.
    await this.exec(this.host, ['sysctl', '-q', '-w', 'net.bridge.bridge-nf-call-iptables=1']);
    // A new namespace inherits ip_forward from the host's (devconf_inherit_init_net=0), which a
    // running dockerd or berthd has turned on: the test starts the fake host from off.
    await this.exec(this.host, ['sysctl', '-q', '-w', 'net.ipv4.ip_forward=0']);
    for (const [bridge, gateway] of [['br-a', '10.88.1.1'], ['br-b', '10.88.2.1'], ['br-i', '10.88.3.1']] as const) {
      await this.ip(this.host, 'link', 'add', bridge, 'type', 'bridge');
      await this.ip(this.host, 'addr', 'add', `${gateway}/24`, 'dev', bridge);
      await this.ip(this.host, 'link', 'set', bridge, 'up');
    }
    await this.veth('uplink', this.outside, `${UPLINK_HOST}/24`, `${UPLINK_OUTSIDE}/24`);
    for (const [name, c] of Object.entries(this.containers)) {
      await this.veth(`v-${name}`, c.ns, undefined, `${c.ip}/24`, c.bridge);
      await this.ip(c.ns, 'route', 'add', 'default', 'via', c.gateway);
    }
    for (const [name, c] of Object.entries(this.containers)) this.serve(c.ns, name, 80);
    this.serve(this.host, 'host', 9000);
    this.serve(this.outside, 'outside', 8000);
    await this.waitForServers();
  }

  /** A veth pair: `hostSide` in the fake host (on `bridge` or with `hostAddr`), eth0 in `peerNs`. */
  private async veth(hostSide: string, peerNs: string, hostAddr: string | undefined, peerAddr: string, bridge?: string): Promise<void> {
    await this.ip(this.host, 'link', 'add', hostSide, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', peerNs);
    if (bridge) await this.ip(this.host, 'link', 'set', hostSide, 'master', bridge);
    if (hostAddr) await this.ip(this.host, 'addr', 'add', hostAddr, 'dev', hostSide);
    await this.ip(this.host, 'link', 'set', hostSide, 'up');
    await this.ip(peerNs, 'addr', 'add', peerAddr, 'dev', 'eth0');
    await this.ip(peerNs, 'link', 'set', 'eth0', 'up');
  }

  /** busybox httpd answering `name` at / and the client's address at /cgi-bin/ip. */
  private serve(ns: string, name: string, port: number): void {
    const dir = join(this.webRoot, name);
    mkdirSync(join(dir, 'cgi-bin'), { recursive: true });
    writeFileSync(join(dir, 'index.html'), name);
    writeFileSync(join(dir, 'cgi-bin', 'ip'), '#!/bin/sh\nprintf "Content-Type: text/plain\\r\\n\\r\\n%s" "$REMOTE_ADDR"\n');
    chmodSync(join(dir, 'cgi-bin', 'ip'), 0o755);
    // nsenter execs httpd (no fork), so this pid is the server's own.
    const child = spawnTool(['nsenter', `--net=/run/netns/${ns}`, '--', '/bin/busybox', 'httpd', '-f', '-p', String(port), '-h', dir], {
      stdio: 'ignore',
    });
    this.servers.push(child);
  }

  private async waitForServers(): Promise<void> {
    // The host reaches every server directly (its own output path is never filtered here).
    const targets = [...Object.values(this.containers).map((c) => `${c.ip}:80`), '127.0.0.1:9000', `${UPLINK_OUTSIDE}:8000`];
    for (const target of targets) {
      for (let attempt = 0; ; attempt++) {
        if ((await this.fetch(this.host, `http://${target}/`, 2)) !== undefined) break;
        if (attempt === 20) throw new Error(`server at ${target} did not come up`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  ip(ns: string, ...args: string[]): Promise<unknown> {
    return runTool(['ip', '-n', ns, ...args]);
  }

  async exec(ns: string, argv: string[]): Promise<string> {
    return (await runTool(['nsenter', `--net=/run/netns/${ns}`, '--', ...argv])).stdout;
  }

  /** The response body, or undefined when the connection fails or times out. */
  async fetch(ns: string, url: string, timeoutSeconds = 3): Promise<string | undefined> {
    const argv = ['timeout', String(timeoutSeconds), '/bin/busybox', 'wget', '-q', '-O', '-', url];
    return this.exec(ns, argv).then(
      (body) => body,
      () => undefined,
    );
  }

  async sysctl(key: string): Promise<string> {
    return (await this.exec(this.host, ['sysctl', '-n', key])).trim();
  }

  async destroy(): Promise<void> {
    for (const child of this.servers) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    for (const ns of this.created.reverse()) await runTool(['ip', 'netns', 'del', ns]).catch(() => undefined);
    if (this.webRoot) rmSync(this.webRoot, { recursive: true, force: true });
  }
}

/** The client address the outside server saw, from busybox's "[::ffff:a.b.c.d]" form. */
const seenAddress = (body: string | undefined): string | undefined => body?.match(/(\d+\.\d+\.\d+\.\d+)/)?.[1];

function stateFor(opts: { iccA?: boolean; ports?: boolean } = {}): FirewallState {
  return {
    networks: [
      { bridge: 'br-a', subnet: '10.88.1.0/24', internal: false, icc: opts.iccA ?? true },
      { bridge: 'br-b', subnet: '10.88.2.0/24', internal: false, icc: true },
      { bridge: 'br-i', subnet: '10.88.3.0/24', internal: true, icc: true },
    ],
    ports:
      opts.ports === false
        ? []
        : [
            { proto: 'tcp', hostIp: '', hostPort: 8080, containerIp: '10.88.1.2', containerPort: 80, bridge: 'br-a' },
            { proto: 'tcp', hostIp: '127.0.0.1', hostPort: 8081, containerIp: '10.88.2.2', containerPort: 80, bridge: 'br-b' },
          ],
  };
}

const backendTools: Record<NatBackendKind, { probe: string[]; foreign: string[][]; listing: string[] }> = {
  nftables: {
    probe: ['nft', '--version'],
    foreign: [['nft', 'add table ip other_tool; add chain ip other_tool keep { type filter hook forward priority 10; }']],
    listing: ['nft', 'list', 'ruleset'],
  },
  iptables: {
    probe: ['iptables', '--version'],
    foreign: [
      // As dockerd does: berth's own FORWARD accepts must carry its traffic past this policy.
      ['iptables', '-w', '-P', 'FORWARD', 'DROP'],
      ['iptables', '-w', '-N', 'OTHER-TOOL'],
      ['iptables', '-w', '-A', 'FORWARD', '-s', '10.99.0.0/16', '-j', 'OTHER-TOOL'],
      ['iptables', '-w', '-t', 'nat', '-A', 'POSTROUTING', '-s', '10.99.0.0/16', '-j', 'MASQUERADE'],
    ],
    listing: ['iptables-save'],
  },
};

/** Each [description, promise] pair must resolve to the expected body (or to undefined: blocked). */
async function expectAll(checks: Array<[string, Promise<string | undefined>, string | undefined]>): Promise<void> {
  const results = await Promise.all(checks.map(([, p]) => p));
  const wrong = checks
    .map(([what, , expected], i) => ({ what, expected, got: results[i] }))
    .filter((r) => r.got !== r.expected);
  assert.deepEqual(wrong, [], 'unexpected reachability');
}

for (const kind of ['nftables', 'iptables'] as const) {
  const tools = backendTools[kind];
  const skip = baseSkip || (toolWorks(tools.probe) ? false : `${tools.probe[0]} is not installed`);

  describe(`nat backend: ${kind}`, { skip, concurrency: false }, () => {
    const fake = new FakeHost();
    const name = `berth_t${fake.prefix.slice(3)}`;
    const ownMarker = kind === 'nftables' ? `table ip ${name}` : `${name.toUpperCase()}-`;
    let backend: NatBackend;
    const { c1, c2, c3, c4 } = fake.containers;
    const via = (host: string, port: number, path = ''): string => `http://${host}:${port}/${path}`;

    before(async () => {
      await fake.build();
      for (const argv of tools.foreign) await fake.exec(fake.host, argv);
      backend = await detectNatBackend({ name, prefer: kind, netns: fake.netnsPath });
    });
    after(() => fake.destroy());

    test('detection honours the preference and defaults to nftables', async () => {
      assert.equal(backend.kind, kind);
      assert.equal((await detectNatBackend({ name, netns: fake.netnsPath })).kind, 'nftables');
    });

    test('apply: published ports, masquerade, isolation, internal network, sysctls', async (t) => {
      assert.equal(await fake.sysctl('net.ipv4.ip_forward'), '0');
      const started = process.hrtime.bigint();
      await backend.apply(stateFor());
      t.diagnostic(`${kind} apply took ${Number(process.hrtime.bigint() - started) / 1e6} ms`);
      assert.equal(await fake.sysctl('net.ipv4.ip_forward'), '1');
      assert.equal(await fake.sysctl('net.ipv4.conf.br-a.route_localnet'), '1');
      assert.equal(await fake.sysctl('net.ipv4.conf.br-b.route_localnet'), '1');
      assert.equal(await fake.sysctl('net.ipv4.conf.br-i.route_localnet'), '0');

      const outsideSees = async (ns: string): Promise<string | undefined> =>
        seenAddress(await fake.fetch(ns, via(UPLINK_OUTSIDE, 8000, 'cgi-bin/ip')));
      await expectAll([
        ['outside → host:8080', fake.fetch(fake.outside, via(UPLINK_HOST, 8080)), 'c1'],
        ['host → 127.0.0.1:8080', fake.fetch(fake.host, via('127.0.0.1', 8080)), 'c1'],
        ['host → own uplink address:8080', fake.fetch(fake.host, via(UPLINK_HOST, 8080)), 'c1'],
        ['host → 127.0.0.1:8081 (loopback-only mapping)', fake.fetch(fake.host, via('127.0.0.1', 8081)), 'c3'],
        ['outside → host:8081 (loopback-only mapping)', fake.fetch(fake.outside, via(UPLINK_HOST, 8081)), undefined],
        ['c1 → outside, seen as the host', outsideSees(c1.ns), UPLINK_HOST],
        ['c3 → outside, seen as the host', outsideSees(c3.ns), UPLINK_HOST],
        ['c1 → c2 (icc on)', fake.fetch(c1.ns, via(c2.ip, 80)), 'c2'],
        ['c3 → c1 (other bridge)', fake.fetch(c3.ns, via(c1.ip, 80)), undefined],
        ['c1 → c3 (other bridge)', fake.fetch(c1.ns, via(c3.ip, 80)), undefined],
        ['c4 → host (internal network still reaches its gateway)', fake.fetch(c4.ns, via(c4.gateway, 9000)), 'host'],
        ['c4 → outside (internal)', fake.fetch(c4.ns, via(UPLINK_OUTSIDE, 8000)), undefined],
        ['c4 → c1 (internal)', fake.fetch(c4.ns, via(c1.ip, 80)), undefined],
        ['c1 → c4 (internal)', fake.fetch(c1.ns, via(c4.ip, 80)), undefined],
      ]);
    });

    test('apply is idempotent: same rules, one jump per built-in chain', async (t) => {
      const before = await fake.exec(fake.host, tools.listing);
      const started = process.hrtime.bigint();
      await backend.apply(stateFor());
      t.diagnostic(`${kind} re-apply took ${Number(process.hrtime.bigint() - started) / 1e6} ms`);
      const afterwards = await fake.exec(fake.host, tools.listing);
      const rules = (text: string): string[] => text.split('\n').filter((l) => !l.startsWith('#') && !/^:.*\[\d+:\d+\]$/.test(l));
      assert.deepEqual(rules(afterwards), rules(before));
      if (kind === 'iptables') {
        const jumps = afterwards.split('\n').filter((l) => /^-A (PREROUTING|OUTPUT|POSTROUTING|FORWARD) -j /.test(l) && l.includes(ownMarker));
        assert.equal(jumps.length, 4, jumps.join('\n'));
      }
    });

    test('icc=false blocks containers on one bridge, published ports still answer (hairpin too)', async () => {
      await backend.apply(stateFor({ iccA: false }));
      await expectAll([
        ['c2 → c1 direct (icc off)', fake.fetch(c2.ns, via(c1.ip, 80)), undefined],
        ['c1 → c2 direct (icc off)', fake.fetch(c1.ns, via(c2.ip, 80)), undefined],
        ['c2 → host uplink:8080 (hairpin)', fake.fetch(c2.ns, via(UPLINK_HOST, 8080)), 'c1'],
        ['c2 → gateway:8080 (hairpin)', fake.fetch(c2.ns, via(c2.gateway, 8080)), 'c1'],
        ['outside → host:8080', fake.fetch(fake.outside, via(UPLINK_HOST, 8080)), 'c1'],
        ['c2 → outside', fake.fetch(c2.ns, via(UPLINK_OUTSIDE, 8000)), 'outside'],
      ]);
    });

    test('a mapping dropped from the state stops answering', async () => {
      await backend.apply(stateFor({ ports: false }));
      await expectAll([
        ['outside → host:8080', fake.fetch(fake.outside, via(UPLINK_HOST, 8080)), undefined],
        ['host → 127.0.0.1:8080', fake.fetch(fake.host, via('127.0.0.1', 8080)), undefined],
        ['host → 127.0.0.1:8081', fake.fetch(fake.host, via('127.0.0.1', 8081)), undefined],
        ['c1 → outside still masqueraded', fake.fetch(c1.ns, via(UPLINK_OUTSIDE, 8000)), 'outside'],
      ]);
    });

    test('remove() leaves nothing of berth, keeps foreign rules, and is idempotent', async (t) => {
      await backend.apply(stateFor());
      const started = process.hrtime.bigint();
      await backend.remove();
      t.diagnostic(`${kind} remove took ${Number(process.hrtime.bigint() - started) / 1e6} ms`);
      await backend.remove();
      const listing = await fake.exec(fake.host, tools.listing);
      assert.ok(!listing.includes(ownMarker), listing);
      if (kind === 'nftables') {
        assert.ok(!(await fake.exec(fake.host, ['nft', 'list', 'tables'])).includes(name));
        assert.match(listing, /table ip other_tool/);
      } else {
        assert.match(listing, /-A FORWARD -s 10\.99\.0\.0\/16 -j OTHER-TOOL/);
        assert.match(listing, /-A POSTROUTING -s 10\.99\.0\.0\/16 -j MASQUERADE/);
        assert.match(listing, /^:OTHER-TOOL /m);
        assert.match(listing, /^:FORWARD DROP /m);
      }
      // Forwarding stays on (as with Docker), but without masquerade the outside cannot answer.
      await expectAll([
        ['c1 → outside after remove', fake.fetch(c1.ns, via(UPLINK_OUTSIDE, 8000)), undefined],
        ['outside → host:8080 after remove', fake.fetch(fake.outside, via(UPLINK_HOST, 8080)), undefined],
      ]);
    });
  });
}
