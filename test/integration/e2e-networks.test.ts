// Networks end to end (issue 6, Done means 1 and 2): published ports answer from the host,
// -P picks a free port that `port` reports, containers on a user-defined network reach each
// other by name and alias while a third on another network cannot until `network connect`,
// container:<x> shares x's stack, --internal has no route out, ports stop answering after
// rm -f; after a SIGKILL of berthd and a restart ports and names still work; and nothing
// berth made (bridges, veths, namespaces, firewall table) is left afterwards. All traffic
// stays on this machine: loopback, the host's own address and the test's containers.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomInt } from 'node:crypto';
import { join } from 'node:path';
import { BERTH_CLI, startBerthd, type Berthd } from '../helpers/berthd.js';
import { DOCKER_20, DockerCli, logTail, poll } from '../helpers/e2e-fixtures.js';
import { isRoot, makeRootfs } from '../helpers/runtime.js';

const skip = !isRoot ? 'needs root' : !existsSync('/bin/busybox') ? 'needs busybox-static' : false;

let daemon: Berthd | undefined;
const daemonLog = (): string => (daemon ? `berthd log:\n${logTail(daemon.log())}` : '');

/** GET http://host:port/ from the host with busybox wget (its -T crashes: timeout instead). */
function fetchFromHost(host: string, port: number): { code: number; body: string } {
  const r = spawnSync('timeout', ['5', '/bin/busybox', 'wget', '-qO-', `http://${host}:${port}/`], { encoding: 'utf8' });
  return { code: r.status ?? -1, body: r.stdout };
}

function freePort(): number {
  return 20000 + randomInt(20000);
}

interface NetworkConfig {
  bridge: string;
  'firewall-name': string;
}

function networkConfig(d: Berthd): NetworkConfig {
  return JSON.parse(readFileSync(join(d.root, 'daemon.json'), 'utf8')) as NetworkConfig;
}

/** The daemon's bridge and firewall table, and namespaces of its containers, still on the host. */
function leftovers(d: Berthd, config: NetworkConfig): string[] {
  const out: string[] = [];
  const links = spawnSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' }).stdout;
  if (links.includes(`${config.bridge}:`)) out.push(`bridge ${config.bridge}`);
  const tables = spawnSync('nft', ['list', 'tables'], { encoding: 'utf8' }).stdout;
  if (tables.includes(`ip ${config['firewall-name']}`)) out.push(`nft table ${config['firewall-name']}`);
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const point = line.split(' ')[4] ?? '';
    if (point.startsWith(`${d.execRoot}/netns/`)) out.push(`netns ${point}`);
  }
  return out;
}

function hostAddress(): string | undefined {
  const r = spawnSync('ip', ['-4', '-o', 'route', 'get', '192.0.2.123'], { encoding: 'utf8' });
  return /\bsrc (\d+\.\d+\.\d+\.\d+)/.exec(r.stdout)?.[1];
}

function networkWorkflow(cli: DockerCli, tag: string): void {
  const name = (n: string): string => cli.container(`${tag}-${n}`);
  const net = (n: string): string => `${tag}-${n}`;
  // Each client gets its own subnets, so a failure of one run leaves the other's free.
  const third = tag === 'dk' ? 10 : 20;
  const subnet = (n: number): string => `10.250.${third + n}.0/24`;
  const address = (n: number, host: number): string => `10.250.${third + n}.${host}`;
  const httpd = ['httpd', '-f', '-p', '80', '-h', '/www'];
  const wgetIn = (container: string, target: string): { code: number; out: string } => {
    const r = cli.run(['exec', container, 'timeout', '5', 'wget', '-qO-', `http://${target}/`]);
    return { code: r.code, out: r.out };
  };

  it(`${tag}: -p 127.0.0.1:port:80 and -P answer from the host; rm -f stops them`, async () => {
    const port = freePort();
    cli.ok(['run', '-d', '--name', name('web'), '-p', `127.0.0.1:${port}:80`, 'netbox', ...httpd]);
    const page = await poll('the published port', () => (fetchFromHost('127.0.0.1', port).body || undefined), 10_000);
    assert.equal(page.trim(), 'hello from a container');
    assert.equal(cli.ok(['port', name('web')]).trim(), `80/tcp -> 127.0.0.1:${port}`);
    assert.match(cli.ok(['ps', '--filter', `name=${name('web')}`, '--format', '{{.Ports}}']), new RegExp(`127.0.0.1:${port}->80/tcp`));

    cli.ok(['run', '-d', '--name', name('any'), '-P', 'netbox', ...httpd]);
    const line = cli.ok(['port', name('any'), '80']).trim().split('\n')[0]!;
    const m = /^0\.0\.0\.0:(\d+)$/.exec(line);
    assert.ok(m, `docker port prints ${line}`);
    const random = Number(m[1]);
    assert.ok(random >= 1024, `a random port: ${random}`);
    await poll('the -P port on 127.0.0.1', () => (fetchFromHost('127.0.0.1', random).body || undefined), 10_000);
    const own = hostAddress();
    if (own) assert.equal(fetchFromHost(own, random).body.trim(), 'hello from a container', `via the host's own address ${own}`);
    const clash = cli.run(['run', '-d', '--name', name('clash'), '-p', `127.0.0.1:${port}:80`, 'netbox', ...httpd]);
    assert.notEqual(clash.code, 0);
    assert.match(clash.err, /port is already allocated|address already in use/);

    cli.ok(['rm', '-f', name('web'), name('any'), name('clash')]);
    assert.notEqual(fetchFromHost('127.0.0.1', port).code, 0, 'the port stopped answering');
    assert.notEqual(fetchFromHost('127.0.0.1', random).code, 0);
  });

  it(`${tag}: names and aliases on a user-defined network; other networks cannot reach; connect; internal; container:`, () => {
    cli.ok(['network', 'create', net('front')]);
    cli.ok(['network', 'create', '--subnet', subnet(0), net('side')]);
    cli.ok(['network', 'create', '--internal', net('inside')]);
    cli.ok(['run', '-d', '--name', name('srv'), '--network', net('front'), '--network-alias', 'svc', 'netbox', ...httpd]);
    cli.ok(['run', '-d', '--name', name('peer'), '--network', net('front'), 'netbox', 'sleep', '300']);
    cli.ok(['run', '-d', '--name', name('other'), '--network', net('side'), '--ip', address(0, 77), 'netbox', 'sleep', '300']);
    assert.equal(wgetIn(name('peer'), name('srv')).out.trim(), 'hello from a container', 'by container name');
    assert.equal(wgetIn(name('peer'), 'svc').out.trim(), 'hello from a container', 'by network alias');
    const srvIp = cli.inspect(name('srv'), `{{(index .NetworkSettings.Networks "${net('front')}").IPAddress}}`);
    assert.match(srvIp, /^\d+\.\d+\.\d+\.\d+$/);
    assert.equal(cli.inspect(name('other'), `{{(index .NetworkSettings.Networks "${net('side')}").IPAddress}}`), address(0, 77));
    assert.notEqual(wgetIn(name('other'), name('srv')).code, 0, 'no name for a container on another network');
    assert.notEqual(wgetIn(name('other'), srvIp).code, 0, 'and no route through to its address');

    cli.ok(['network', 'connect', net('front'), name('other')]);
    assert.equal(wgetIn(name('other'), 'svc').out.trim(), 'hello from a container', 'connected: reachable');
    const members = JSON.parse(cli.ok(['network', 'inspect', net('front'), '-f', '{{json .Containers}}'])) as Record<string, { Name: string }>;
    assert.deepEqual(Object.values(members).map((c) => c.Name).sort(), [name('other'), name('peer'), name('srv')].sort());
    cli.ok(['network', 'disconnect', net('front'), name('other')]);
    assert.notEqual(wgetIn(name('other'), 'svc').code, 0, 'disconnected again');

    cli.ok(['run', '-d', '--name', name('shut'), '--network', net('inside'), 'netbox', 'sleep', '300']);
    const routes = cli.ok(['exec', name('shut'), 'ip', 'route']);
    assert.doesNotMatch(routes, /default/, `an internal network has no way out: ${routes}`);

    const shared = cli.ok(['run', '--rm', '--network', `container:${name('srv')}`, 'netbox', 'sh', '-c', 'timeout 5 wget -qO- http://127.0.0.1/; ip -4 -o addr show eth0']);
    assert.match(shared, /hello from a container/);
    assert.match(shared, new RegExp(`inet ${srvIp.replace(/\./g, '\\.')}/`), 'the same interface and address');

    if (tag !== 'dk') {
      // Two networks at create (docker 20.10's CLI takes one --network): eth0 and eth1, names on both.
      const both = cli.ok(['run', '--rm', '--network', net('front'), '--network', net('side'), 'netbox', 'sh', '-c', 'ip -4 -o addr show; timeout 5 wget -qO- http://svc/']);
      assert.match(both, /eth0\s+inet /);
      assert.match(both, new RegExp(`eth1\\s+inet ${address(0, 2).replace(/\./g, '\\.').replace(/2$/, '\\d+')}/24`));
      assert.match(both, /hello from a container/);
    }
    const busy = cli.run(['network', 'rm', net('front')]);
    assert.notEqual(busy.code, 0);
    assert.match(busy.err, /has active endpoints/);
    cli.ok(['rm', '-f', name('srv'), name('peer'), name('other'), name('shut')]);
    cli.ok(['network', 'rm', net('front'), net('side'), net('inside')]);
    assert.doesNotMatch(cli.ok(['network', 'ls', '--format', '{{.Name}}']), new RegExp(tag));
  });

  it(`${tag}: bad network input`, () => {
    assert.match(cli.run(['network', 'create', 'bridge']).err, /predefined bridge network|already exists/);
    assert.match(cli.run(['network', 'rm', 'bridge']).err, /pre-defined network and cannot be removed/);
    cli.ok(['network', 'create', '--subnet', subnet(1), net('a')]);
    assert.match(cli.run(['network', 'create', '--subnet', `${address(1, 128)}/25`, net('b')]).err, /overlaps/);
    assert.match(cli.run(['network', 'create', '--subnet', subnet(2), '--gateway', address(3, 1), net('c')]).err, /gateway|subnet/);
    // docker 20.10's CLI drops --ip for the default network; later ones send it and dockerd refuses.
    if (tag !== 'dk') assert.match(cli.run(['run', '--rm', '--ip', '172.31.250.5', 'netbox', 'true']).err, /user specified IP address is supported on user defined networks only/);
    assert.match(cli.run(['run', '--rm', '--network', net('a'), '--ip', '10.99.0.5', 'netbox', 'true']).err, /IP address/);
    cli.ok(['network', 'rm', net('a')]);
  });
}

describe('networks end to end', { skip, timeout: 600_000 }, () => {
  before(async () => {
    daemon = await startBerthd();
    const work = mkdtempSync(join(daemon.root, 'img-'));
    const rootfs = makeRootfs(work);
    mkdirSync(join(rootfs, 'www'));
    writeFileSync(join(rootfs, 'www/index.html'), 'hello from a container\n');
    const tar = join(work, 'rootfs.tar');
    assert.equal(spawnSync('tar', ['-C', rootfs, '-cf', tar, '.']).status, 0);
    new DockerCli(BERTH_CLI, () => daemon!.env(), daemonLog).ok(['import', '-c', 'CMD ["sh"]', '-c', 'EXPOSE 80', tar, 'netbox:latest']);
    rmSync(work, { recursive: true, force: true });
  });
  after(async () => {
    const d = daemon;
    if (!d) return;
    const config = networkConfig(d);
    await d.cleanup();
    assert.deepEqual(leftovers(d, config), [], 'cleanup removes what the daemon made');
  });

  describe('with docker 20.10', { skip: existsSync(DOCKER_20) ? false : 'needs the docker CLI (docker.io)' }, () => {
    const cli = new DockerCli(DOCKER_20, () => daemon!.env(), daemonLog);
    after(() => cli.cleanup());
    networkWorkflow(cli, 'dk');
  });

  describe('with the berth CLI', () => {
    const cli = new DockerCli(BERTH_CLI, () => daemon!.env(), daemonLog);
    after(() => cli.cleanup());
    networkWorkflow(cli, 'bt');
  });

  it('live restore: published ports and names keep working across a SIGKILL of berthd; removal leaves nothing', async () => {
    const d = daemon!;
    const cli = new DockerCli(BERTH_CLI, () => d.env(), daemonLog);
    const port = freePort();
    cli.ok(['network', 'create', 'lr-net']);
    cli.ok(['run', '-d', '--name', cli.container('lr-web'), '--network', 'lr-net', '-p', `127.0.0.1:${port}:80`, 'netbox', 'httpd', '-f', '-p', '80', '-h', '/www']);
    cli.ok(['run', '-d', '--name', cli.container('lr-client'), '--network', 'lr-net', 'netbox', 'sleep', '300']);
    await poll('the published port', () => (fetchFromHost('127.0.0.1', port).body || undefined), 10_000);
    await d.kill();
    assert.equal(fetchFromHost('127.0.0.1', port).body.trim(), 'hello from a container', 'while berthd is down');
    await d.start();
    assert.equal(fetchFromHost('127.0.0.1', port).body.trim(), 'hello from a container', 'after the restart');
    assert.equal(cli.ok(['exec', 'lr-client', 'timeout', '5', 'wget', '-qO-', 'http://lr-web/']).trim(), 'hello from a container', 'names after the restart');
    cli.ok(['rm', '-f', 'lr-web', 'lr-client']);
    assert.notEqual(fetchFromHost('127.0.0.1', port).code, 0);
    cli.ok(['network', 'rm', 'lr-net']);
    const netns = join(d.execRoot, 'netns');
    const mounted = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4] ?? '').filter((p) => p.startsWith(`${netns}/`));
    assert.deepEqual(mounted, [], 'no container network namespace is left mounted');
    const veths = spawnSync('ip', ['-o', 'link', 'show', 'type', 'veth'], { encoding: 'utf8' }).stdout;
    assert.doesNotMatch(veths, new RegExp(`master ${networkConfig(d).bridge}\\b`), 'no veth left on the default bridge');
  });
});
