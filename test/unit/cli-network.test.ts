// `berth network …` against a fake Engine API: the requests each command sends and what it
// prints (docker/cli 28.2's cli/command/network), plus the run/create network flags that
// become the create request's NetworkingConfig (cli/command/container/opts.go parseNetworkOpts).
import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import type { CommandDef, FlagSpec } from '../../src/cli/command.js';
import { parseFlags } from '../../src/cli/flags.js';
import { CONTAINER_FLAGS, CREATE_FLAGS, buildCreateRequest } from '../../src/cli/commands/container-opts.js';
import {
  networkConnectCommand, networkCreateCommand, networkDisconnectCommand, networkInspectCommand, networkListCommand,
  networkPruneCommand, networkRemoveCommand, readCsv,
} from '../../src/cli/commands/network.js';
import { systemPruneCommand } from '../../src/cli/commands/system.js';
import { goTimeOfRfc3339 } from '../../src/cli/format/network.js';
import type { NetworkResource } from '../../src/oci/engine-api.js';
import { FakeDaemon, json, type Recorded } from './cli-fake-daemon.js';
import { runBerth, type RunResult } from './cli-read-harness.js';

const ID1 = 'a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b2';
const ID2 = 'b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b2c3';
const ID3 = 'c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b2c3d4';
const ID4 = 'd4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5';

function network(id: string, name: string, extra: Partial<NetworkResource> = {}): NetworkResource {
  return {
    Name: name, Id: id, Created: '2024-05-06T07:08:09.123456789Z', Scope: 'local', Driver: 'bridge', EnableIPv4: true, EnableIPv6: false,
    IPAM: { Driver: 'default', Options: null, Config: [{ Subnet: '172.18.0.0/16', Gateway: '172.18.0.1' }] }, Internal: false, Attachable: false,
    Ingress: false, ConfigFrom: { Network: '' }, ConfigOnly: false, Containers: {}, Options: {}, Labels: {}, ...extra,
  };
}

const NETWORKS: NetworkResource[] = [
  network(ID1, 'net10', { Labels: { b: '2', a: '1' }, Internal: true }),
  network(ID2, 'bridge'),
  network(ID3, 'net2', { EnableIPv6: true, Driver: 'macvlan' }),
  network(ID4, 'host', { Driver: 'host', IPAM: { Driver: 'default', Config: [] } }),
];

let daemon: FakeDaemon;
const savedTz = process.env['TZ'];

before(async () => {
  process.env['TZ'] = 'UTC';
  daemon = new FakeDaemon();
  daemon
    .on('GET /networks', (_req, res) => json(res, 200, NETWORKS))
    .on('POST /networks/create', (_req, res) => json(res, 201, { Id: ID1, Warning: '' }))
    .on('POST /networks/prune', (req, res) => json(res, 200, { NetworksDeleted: req.query.get('filters') ? [] : ['net2', 'net10'] }))
    .on('POST /networks/[^/]+/(connect|disconnect)', (req, res) => {
      if (req.path.startsWith('/networks/missing/')) json(res, 404, { message: 'network missing not found' });
      else res.writeHead(200).end();
    })
    .on('GET /networks/[^/]+', (req, res) => {
      const name = req.path.slice('/networks/'.length);
      const found = [...NETWORKS, network(ID4, 'ingress', { Ingress: true, Scope: 'swarm', Driver: 'overlay' })].find((n) => n.Name === name || n.Id.startsWith(name));
      if (found) json(res, 200, found);
      else json(res, 404, { message: `network ${name} not found` });
    })
    .on('DELETE /networks/[^/]+', (req, res) => {
      const name = req.path.slice('/networks/'.length);
      if (name === 'missing') json(res, 404, { message: `network ${name} not found` });
      else if (name === 'busy') json(res, 403, { message: `error while removing network: network busy id ${ID2} has active endpoints` });
      else res.writeHead(204).end();
    })
    .on('POST /containers/prune', (_req, res) => json(res, 200, { ContainersDeleted: null, SpaceReclaimed: 0 }))
    .on('POST /images/prune', (_req, res) => json(res, 200, { ImagesDeleted: null, SpaceReclaimed: 0 }));
  await daemon.listen();
});

after(async () => {
  await daemon.close();
  if (savedTz === undefined) delete process.env['TZ'];
  else process.env['TZ'] = savedTz;
});

beforeEach(() => {
  daemon.requests.length = 0;
});

const run = (def: CommandDef, argv: string[], stdin = ''): Promise<RunResult> => runBerth(def, argv, daemon.host, stdin);

/** The requests after version negotiation, as "METHOD /path?query". */
function calls(): string[] {
  return daemon.requests.filter((r) => r.path !== '/_ping').map((r) => `${r.method} ${r.path}${r.query.size > 0 ? `?${r.query.toString()}` : ''}`);
}

function bodyOf(method: string, path: string): unknown {
  const r = daemon.requests.find((x: Recorded) => x.method === method && x.path === path);
  assert.ok(r, `no ${method} ${path} request`);
  return JSON.parse(r.body.toString());
}

// ---------------------------------------------------------------- create

test('network create sends docker’s request and prints the new ID', async () => {
  const got = await run(networkCreateCommand, ['foo']);
  assert.deepEqual(got, { code: 0, stdout: `${ID1}\n`, stderr: '' });
  assert.deepEqual(bodyOf('POST', '/networks/create'), {
    Name: 'foo', Driver: 'bridge', Scope: '', IPAM: { Driver: 'default', Options: {}, Config: [] },
    Internal: false, Attachable: false, Ingress: false, ConfigOnly: false, Options: {}, Labels: {},
  });
});

test('network create: every flag, subnets consolidated with their ranges, gateways and aux addresses', async () => {
  const got = await run(networkCreateCommand, [
    '-d', 'macvlan', '--subnet', '10.1.0.0/16,10.2.0.0/16', '--subnet=2001:db8::/64', '--gateway', '10.2.0.1', '--gateway', '2001:db8::1',
    '--ip-range', '10.1.4.0/24', '--aux-address', 'router=10.1.0.2', '--aux-address', 'v6=2001:db8::2', '--ipam-driver', 'mine', '--ipam-opt', 'k=v',
    '--internal', '--attachable', '--ingress', '--config-only', '--config-from', 'base', '--scope', 'local', '--ipv6', '--ipv4=false',
    '--label', 'a=b', '--label', 'flag', '-o', 'com.docker.network.bridge.name=br-x', '--opt', 'mtu=1400', 'foo',
  ]);
  assert.deepEqual(got, { code: 0, stdout: `${ID1}\n`, stderr: '' });
  assert.deepEqual(bodyOf('POST', '/networks/create'), {
    Name: 'foo', Driver: 'macvlan', Scope: 'local', EnableIPv4: false, EnableIPv6: true,
    IPAM: {
      Driver: 'mine', Options: { k: 'v' },
      Config: [
        { Subnet: '10.1.0.0/16', IPRange: '10.1.4.0/24', AuxiliaryAddresses: { router: '10.1.0.2' } },
        { Subnet: '10.2.0.0/16', Gateway: '10.2.0.1' },
        { Subnet: '2001:db8::/64', Gateway: '2001:db8::1', AuxiliaryAddresses: { v6: '2001:db8::2' } },
      ],
    },
    Internal: true, Attachable: true, Ingress: true, ConfigOnly: true, ConfigFrom: { Network: 'base' },
    Options: { 'com.docker.network.bridge.name': 'br-x', mtu: '1400' }, Labels: { a: 'b', flag: '' },
  });
});

test('network create: docker’s IPAM errors, and no request', async () => {
  const cases: [string[], string][] = [
    [['--gateway', '10.0.0.1'], 'every ip-range or gateway must have a corresponding subnet'],
    [['--subnet', '10.0.0.0/24', '--ip-range', '10.0.0.0/25,10.0.0.128/25'], 'every ip-range or gateway must have a corresponding subnet'],
    [['--subnet', '10.0.0.0/16', '--subnet', '10.0.1.0/24'], 'multiple overlapping subnet configuration is not supported'],
    [['--subnet', '10.0.0.0/24', '--subnet', '10.0.0.0/24'], 'multiple overlapping subnet configuration is not supported'],
    [['--subnet', '10.0.0.0/24,10.1.0.0/24', '--gateway', '10.0.0.1,10.0.0.2'], 'cannot configure multiple gateways (10.0.0.2, 10.0.0.1) for the same subnet (10.0.0.0/24)'],
    [['--subnet', '10.0.0.0/24,10.1.0.0/24', '--ip-range', '10.0.0.0/25,10.0.0.128/25'], 'cannot configure multiple ranges (10.0.0.128/25, 10.0.0.0/25) on the same subnet (10.0.0.0/24)'],
    [['--subnet', '10.0.0.0/24', '--gateway', '10.9.0.1'], 'no matching subnet for gateway 10.9.0.1'],
    [['--subnet', '10.0.0.0/24', '--gateway', 'nonsense'], 'no matching subnet for gateway nonsense'],
    [['--subnet', '10.0.0.0/24', '--ip-range', '10.9.0.0/25'], 'no matching subnet for range 10.9.0.0/25'],
    [['--subnet', '10.0.0.0/24', '--ip-range', '10.0.0.5'], 'invalid CIDR address: 10.0.0.5'],
    [['--subnet', '10.0.0.0/24', '--aux-address', 'a=10.5.0.1'], 'no matching subnet for aux-address 10.5.0.1'],
    [['--subnet', 'bad', '--subnet', '10.0.0.0/24'], 'invalid subnet: invalid CIDR address: bad'],
    [['--subnet', '10.0.0.0/33', '--gateway', '10.0.0.1'], 'invalid subnet: invalid CIDR address: 10.0.0.0/33'],
    [['--subnet', '2001:db8::/64', '--gateway', '10.0.0.1'], 'no matching subnet for gateway 10.0.0.1'],
  ];
  for (const [flags, message] of cases) {
    daemon.requests.length = 0;
    const got = await run(networkCreateCommand, [...flags, 'foo']);
    assert.deepEqual(got, { code: 1, stdout: '', stderr: `${message}\n` }, flags.join(' '));
    assert.deepEqual(calls(), [], flags.join(' '));
  }
});

test('network create: a bad label is a usage error (125); a daemon refusal is printed as docker prints it', async () => {
  assert.deepEqual(await run(networkCreateCommand, ['--label', '=x', 'foo']), {
    code: 125, stdout: '', stderr: 'invalid argument "=x" for "--label" flag: invalid label \'=x\': empty name\n',
  });
  assert.deepEqual(await run(networkCreateCommand, ['--label', 'a b=x', 'foo']), {
    code: 125, stdout: '', stderr: 'invalid argument "a b=x" for "--label" flag: label \'a b\' contains whitespaces\n',
  });
});

test('StringSlice values are CSV: quotes may hold commas', () => {
  assert.deepEqual(readCsv('a,b'), ['a', 'b']);
  assert.deepEqual(readCsv('"a,b",c'), ['a,b', 'c']);
  assert.deepEqual(readCsv('"say ""hi"""'), ['say "hi"']);
  assert.deepEqual(readCsv('a,'), ['a', '']);
  assert.throws(() => readCsv('a"b'), /bare " in non-quoted-field/);
});

// ---------------------------------------------------------------- ls

test('network ls: docker’s table, sorted naturally by name, IDs cut to 12', async () => {
  const got = await run(networkListCommand, []);
  assert.equal(got.stderr, '');
  assert.equal(got.stdout, [
    'NETWORK ID     NAME      DRIVER    SCOPE',
    'b2c3d4e5f6a7   bridge    bridge    local',
    'd4e5f6a7b8c9   host      host      local',
    'c3d4e5f6a7b8   net2      macvlan   local',
    'a1b2c3d4e5f6   net10     bridge    local',
    '',
  ].join('\n'));
  assert.deepEqual(calls(), ['GET /networks']);
});

test('network ls: -q, --no-trunc, --filter, --format fields and json', async () => {
  assert.equal((await run(networkListCommand, ['-q'])).stdout, 'b2c3d4e5f6a7\nd4e5f6a7b8c9\nc3d4e5f6a7b8\na1b2c3d4e5f6\n');
  assert.equal((await run(networkListCommand, ['-q', '--no-trunc'])).stdout, `${ID2}\n${ID4}\n${ID3}\n${ID1}\n`);
  daemon.requests.length = 0;
  await run(networkListCommand, ['--filter', 'driver=bridge', '-f', 'name=net']);
  assert.deepEqual(calls(), [`GET /networks?filters=${encodeURIComponent(JSON.stringify({ driver: { bridge: true }, name: { net: true } }))}`]);
  const fields = await run(networkListCommand, ['--format', '{{.Name}} {{.IPv4}} {{.IPv6}} {{.Internal}} {{.Labels}} [{{.Label "a"}}] {{.CreatedAt}}']);
  assert.equal(fields.stdout, [
    'bridge true false false  [] 2024-05-06 07:08:09.123456789 +0000 UTC',
    'host true false false  [] 2024-05-06 07:08:09.123456789 +0000 UTC',
    'net2 true true false  [] 2024-05-06 07:08:09.123456789 +0000 UTC',
    'net10 true false true a=1,b=2 [1] 2024-05-06 07:08:09.123456789 +0000 UTC',
    '',
  ].join('\n'));
  const table = await run(networkListCommand, ['--format', 'table {{.ID}}\t{{.Name}}\t{{.IPv6}}\t{{.Internal}}', '--no-trunc']);
  assert.equal(table.stdout.split('\n')[0], 'NETWORK ID                                                         NAME      IPV6      INTERNAL');
  const lines = (await run(networkListCommand, ['--format', 'json'])).stdout.trim().split('\n');
  assert.deepEqual(JSON.parse(lines[3]!), {
    CreatedAt: '2024-05-06 07:08:09.123456789 +0000 UTC', Driver: 'bridge', ID: 'a1b2c3d4e5f6', IPv4: 'true', IPv6: 'false', Internal: 'true',
    Labels: 'a=1,b=2', Name: 'net10', Scope: 'local',
  });
  assert.equal(Object.keys(JSON.parse(lines[0]!)).join(','), 'CreatedAt,Driver,ID,IPv4,IPv6,Internal,Labels,Name,Scope');
  assert.deepEqual(await run(networkListCommand, ['--format', '{{.Nope}}']), {
    code: 1, stdout: '', stderr: 'template parsing error: template: :1:2: executing "" at <.Nope>: can\'t evaluate field Nope in type *network.networkContext\n',
  });
});

test('CreatedAt reads as Go’s time.Time.String of the decoded time', () => {
  assert.equal(goTimeOfRfc3339('2024-05-06T07:08:09Z'), '2024-05-06 07:08:09 +0000 UTC');
  assert.equal(goTimeOfRfc3339('2024-05-06T07:08:09.120000000Z'), '2024-05-06 07:08:09.12 +0000 UTC');
  assert.equal(goTimeOfRfc3339('2024-05-06T07:08:09.5+02:00'), '2024-05-06 07:08:09.5 +0200 +0200');
  assert.equal(goTimeOfRfc3339('0001-01-01T00:00:00Z'), '0001-01-01 00:00:00 +0000 UTC');
});

// ---------------------------------------------------------------- inspect

test('network inspect: the daemon’s JSON as an indented array; -v asks for verbose; -f formats', async () => {
  const got = await run(networkInspectCommand, ['-v', 'net2']);
  assert.equal(got.code, 0);
  const doc = JSON.parse(got.stdout) as NetworkResource[];
  assert.equal(doc.length, 1);
  assert.equal(doc[0]!.Id, ID3);
  assert.match(got.stdout, /^\[\n {4}\{\n {8}"Name": "net2",\n/);
  assert.deepEqual(calls(), ['GET /networks/net2?verbose=true']);
  assert.deepEqual(await run(networkInspectCommand, ['-f', '{{.Name}} {{.Driver}} {{.EnableIPv6}}', 'net2', 'bridge']), {
    code: 0, stdout: 'net2 macvlan true\nbridge bridge false\n', stderr: '',
  });
  const missing = await run(networkInspectCommand, ['-f', '{{.Name}}', 'net2', 'nope']);
  assert.equal(missing.code, 1);
  assert.equal(missing.stdout, 'net2\n');
  assert.match(missing.stderr, /network nope not found/);
});

// ---------------------------------------------------------------- rm

test('network rm: each removed name printed, errors on stderr as they come, then "exit status 1"', async () => {
  const got = await run(networkRemoveCommand, ['net2', 'missing', 'busy', 'net10']);
  assert.deepEqual(got, {
    code: 1, stdout: 'net2\nnet10\n',
    stderr: 'Error response from daemon: network missing not found\n' +
      `Error response from daemon: error while removing network: network busy id ${ID2} has active endpoints\nexit status 1\n`,
  });
  assert.deepEqual(calls(), [
    'GET /networks/net2', 'DELETE /networks/net2', 'GET /networks/missing', 'DELETE /networks/missing',
    'GET /networks/busy', 'DELETE /networks/busy', 'GET /networks/net10', 'DELETE /networks/net10',
  ]);
});

test('network rm -f ignores networks that do not exist, not other errors', async () => {
  assert.deepEqual(await run(networkRemoveCommand, ['-f', 'missing', 'net2']), { code: 0, stdout: 'net2\n', stderr: '' });
  const busy = await run(networkRemoveCommand, ['--force', 'busy']);
  assert.equal(busy.code, 1);
  assert.match(busy.stderr, /has active endpoints\nexit status 1\n$/);
  assert.deepEqual(await run(networkRemoveCommand, [' ']), { code: 1, stdout: '', stderr: 'invalid network name or ID: value is empty\nexit status 1\n' });
});

test('network rm asks before removing the ingress network', async () => {
  const warning = 'WARNING! Before removing the routing-mesh network, make sure all the nodes in your swarm run the same docker engine version. ' +
    'Otherwise, removal may not be effective and functionality of newly create ingress networks will be impaired.\nAre you sure you want to continue? [y/N] ';
  assert.deepEqual(await run(networkRemoveCommand, ['ingress'], 'n\n'), { code: 0, stdout: warning, stderr: '' });
  assert.deepEqual(calls(), ['GET /networks/ingress']);
  assert.deepEqual(await run(networkRemoveCommand, ['ingress'], 'y\n'), { code: 0, stdout: `${warning}ingress\n`, stderr: '' });
});

// ---------------------------------------------------------------- prune

const PRUNE_PROMPT = 'WARNING! This will remove all custom networks not used by at least one container.\nAre you sure you want to continue? [y/N] ';

test('network prune: docker’s warning; "y" prunes and lists the names, anything else stops', async () => {
  assert.deepEqual(await run(networkPruneCommand, [], 'y\n'), { code: 0, stdout: `${PRUNE_PROMPT}Deleted Networks:\nnet2\nnet10\n\n`, stderr: '' });
  assert.deepEqual(calls(), ['POST /networks/prune']);
  daemon.requests.length = 0;
  assert.deepEqual(await run(networkPruneCommand, [], 'n\n'), { code: 0, stdout: PRUNE_PROMPT, stderr: '' });
  assert.deepEqual(await run(networkPruneCommand, [], ''), { code: 0, stdout: PRUNE_PROMPT, stderr: '' });
  assert.deepEqual(calls(), []);
});

test('network prune -f: no prompt; --filter is sent; nothing deleted prints nothing', async () => {
  assert.deepEqual(await run(networkPruneCommand, ['-f']), { code: 0, stdout: 'Deleted Networks:\nnet2\nnet10\n\n', stderr: '' });
  daemon.requests.length = 0;
  assert.deepEqual(await run(networkPruneCommand, ['--force', '--filter', 'until=24h', '--filter', 'label=a=b']), { code: 0, stdout: '', stderr: '' });
  assert.deepEqual(calls(), [`POST /networks/prune?filters=${encodeURIComponent(JSON.stringify({ until: { '24h': true }, label: { 'a=b': true } }))}`]);
  assert.deepEqual(await run(networkPruneCommand, ['--filter', 'nonsense', '-f']), {
    code: 125, stdout: '', stderr: 'invalid argument "nonsense" for "--filter" flag: bad format of filter (expected name=value)\n',
  });
});

test('system prune prunes networks after containers, before images', async () => {
  const got = await run(systemPruneCommand, ['-f']);
  assert.deepEqual(got, { code: 0, stdout: 'Deleted Networks:\nnet2\nnet10\n\nTotal reclaimed space: 0B\n', stderr: '' });
  assert.deepEqual(calls().map((c) => c.split('?')[0]), ['POST /containers/prune', 'POST /networks/prune', 'POST /images/prune']);
});

// ---------------------------------------------------------------- connect / disconnect

test('network connect: the flags become the endpoint config', async () => {
  const got = await run(networkConnectCommand, [
    '--ip', '172.20.0.5', '--ip6', '2001:db8::5', '--alias', 'a,b', '--alias', 'c', '--link', 'db:database', '--link-local-ip', '169.254.1.1',
    '--driver-opt', 'k1=v1, k2 = v2 ', '--gw-priority', '-3', 'net2', 'web',
  ]);
  assert.deepEqual(got, { code: 0, stdout: '', stderr: '' });
  assert.deepEqual(bodyOf('POST', '/networks/net2/connect'), {
    Container: 'web',
    EndpointConfig: {
      IPAMConfig: { IPv4Address: '172.20.0.5', IPv6Address: '2001:db8::5', LinkLocalIPs: ['169.254.1.1'] },
      Links: ['db:database'], Aliases: ['a', 'b', 'c'], DriverOpts: { k1: 'v1', k2: 'v2' }, GwPriority: -3,
    },
  });
  daemon.requests.length = 0;
  await run(networkConnectCommand, ['net2', 'web']);
  assert.deepEqual(bodyOf('POST', '/networks/net2/connect'), {
    Container: 'web',
    EndpointConfig: { IPAMConfig: { IPv4Address: '', IPv6Address: '', LinkLocalIPs: [] }, Links: null, Aliases: [], DriverOpts: {}, GwPriority: 0 },
  });
});

test('network connect: docker’s errors', async () => {
  assert.deepEqual(await run(networkConnectCommand, ['--driver-opt', 'novalue', 'net2', 'web']), {
    code: 1, stdout: '', stderr: 'invalid key/value pair format in driver options\n',
  });
  assert.deepEqual(await run(networkConnectCommand, ['--link', 'a:b:c', 'net2', 'web']), {
    code: 125, stdout: '', stderr: 'invalid argument "a:b:c" for "--link" flag: bad format for links: a:b:c\n',
  });
  assert.deepEqual(await run(networkConnectCommand, ['missing', 'web']), { code: 1, stdout: '', stderr: 'Error response from daemon: network missing not found\n' });
  assert.deepEqual(await run(networkConnectCommand, ['net2', '']), { code: 1, stdout: '', stderr: 'invalid container name or ID: value is empty\n' });
});

test('network disconnect [-f]', async () => {
  assert.deepEqual(await run(networkDisconnectCommand, ['net2', 'web']), { code: 0, stdout: '', stderr: '' });
  assert.deepEqual(bodyOf('POST', '/networks/net2/disconnect'), { Container: 'web', Force: false });
  daemon.requests.length = 0;
  await run(networkDisconnectCommand, ['-f', 'net2', 'web']);
  assert.deepEqual(bodyOf('POST', '/networks/net2/disconnect'), { Container: 'web', Force: true });
  assert.deepEqual(await run(networkDisconnectCommand, ['missing', 'web']), { code: 1, stdout: '', stderr: 'Error response from daemon: network missing not found\n' });
});

// ---------------------------------------------------------------- run/create flags

const RUN_FLAGS: FlagSpec[] = [...CONTAINER_FLAGS, ...CREATE_FLAGS];

function networking(argv: string[]) {
  const p = parseFlags([...argv, 'img'], RUN_FLAGS, { interspersed: false });
  const { body } = buildCreateRequest(p.values, p.changed, p.args[0]!, p.args.slice(1), {}, [0, 0]);
  return { mode: body.HostConfig?.NetworkMode, endpoints: body.NetworkingConfig?.EndpointsConfig, links: body.HostConfig?.Links };
}

test('run flags: --ip, --ip6, aliases, link-local IPs and MAC go to the first network’s endpoint', () => {
  assert.deepEqual(networking(['--network', 'mynet', '--ip', '10.0.0.5', '--ip6', '2001:db8::5', '--network-alias', 'a', '--net-alias', 'b',
    '--link-local-ip', '169.254.0.5', '--mac-address', '92:d0:c6:0a:29:33', '--link', 'db:database']), {
    mode: 'mynet',
    endpoints: {
      mynet: {
        Aliases: ['a', 'b'], Links: ['db:database'], MacAddress: '92:d0:c6:0a:29:33',
        IPAMConfig: { IPv4Address: '10.0.0.5', IPv6Address: '2001:db8::5', LinkLocalIPs: ['169.254.0.5'] },
      },
    },
    links: ['db:database'],
  });
});

test('run flags: a plain network sends no endpoint config, no network an empty "default" one; --net is --network', () => {
  assert.deepEqual(networking([]), { mode: 'default', endpoints: { default: {} }, links: [] });
  assert.deepEqual(networking(['--network', 'mynet']), { mode: 'mynet', endpoints: {}, links: [] });
  assert.deepEqual(networking(['--net=host']), { mode: 'host', endpoints: {}, links: [] });
  assert.deepEqual(networking(['--network', 'container:web']), { mode: 'container:web', endpoints: {}, links: [] });
  // On the default bridge --link is a legacy link only; --ip is passed on for the daemon to refuse.
  assert.deepEqual(networking(['--link', 'db', '--ip', '172.17.0.9']), {
    mode: 'default', endpoints: { default: { IPAMConfig: { IPv4Address: '172.17.0.9', IPv6Address: '', LinkLocalIPs: null } } }, links: ['db'],
  });
  assert.deepEqual(networking(['--network', 'bridge', '--ip', '172.17.0.9']).endpoints, {
    bridge: { IPAMConfig: { IPv4Address: '172.17.0.9', IPv6Address: '', LinkLocalIPs: null } },
  });
  assert.deepEqual(networking(['--network', 'a', '--network', 'b']), { mode: 'a', endpoints: { a: {}, b: {} }, links: [] });
});

test('run flags: docker’s advanced --network syntax', () => {
  assert.deepEqual(networking(['--network', 'name=MyNet,alias=x,alias=y,ip=10.0.0.9,ip6=2001:db8::9,mac-address=02:42:ac:11:00:02,link-local-ip=169.254.0.9,driver-opt=k=v,gw-priority=5']), {
    mode: 'mynet',
    endpoints: {
      mynet: {
        GwPriority: 5, Aliases: ['x', 'y'], DriverOpts: { k: 'v' }, MacAddress: '02:42:ac:11:00:02',
        IPAMConfig: { IPv4Address: '10.0.0.9', IPv6Address: '2001:db8::9', LinkLocalIPs: ['169.254.0.9'] },
      },
    },
    links: [],
  });
  assert.deepEqual(networking(['--network', 'name=a', '--network', 'name=b,alias=z', '--network-alias', 'first']), {
    mode: 'a', endpoints: { a: { Aliases: ['first'] }, b: { Aliases: ['z'] } }, links: [],
  });
});

test('run flags: docker’s network errors', () => {
  const cases: [string[], string][] = [
    [['--network-alias', 'a'], 'network-scoped aliases are only supported for user-defined networks'],
    [['--network', 'bridge', '--network-alias', 'a'], 'network-scoped aliases are only supported for user-defined networks'],
    [['--network', 'host', '--network', 'name=x,alias=a'], 'conflicting options: cannot attach both user-defined and non-user-defined network-modes'],
    [['--network', 'a', '--network', 'a'], 'network "a" is specified multiple times'],
    [['--network', 'name=a,alias=x', '--network-alias', 'y'], 'conflicting options: cannot specify both --network-alias and per-network alias'],
    [['--network', 'name=a,ip=10.0.0.1', '--ip', '10.0.0.2'], 'conflicting options: cannot specify both --ip and per-network IPv4 address'],
    [['--network', 'name=a,ip6=::1', '--ip6', '::2'], 'conflicting options: cannot specify both --ip6 and per-network IPv6 address'],
    [['--network', 'name=a,mac-address=02:42:ac:11:00:02', '--mac-address', '02:42:ac:11:00:03'], 'conflicting options: cannot specify both --mac-address and per-network MAC address'],
    [['--network', 'name=a,link-local-ip=169.254.0.1', '--link-local-ip', '169.254.0.2'], 'conflicting options: cannot specify both --link-local-ip and per-network link-local IP addresses'],
    [['--network', 'name=x,foo=bar'], 'invalid argument "name=x,foo=bar" for "--network" flag: invalid field key foo'],
    [['--network', 'alias=x'], 'invalid argument "alias=x" for "--network" flag: network name/id is not specified'],
    [['--network', 'name=x,gw-priority=high'], 'invalid argument "name=x,gw-priority=high" for "--network" flag: invalid gw-priority (high): invalid syntax'],
    [['--network', 'name=x,driver-opt=k'], 'invalid argument "name=x,driver-opt=k" for "--network" flag: invalid key value pair format in driver options'],
    [['--mac-address', 'zz:zz'], 'zz:zz is not a valid mac address'],
    [['--network', 'name=x,mac-address=12345'], '12345 is not a valid mac address'],
    [['--network', ' '], 'no name set for network'],
  ];
  for (const [argv, message] of cases) assert.throws(() => networking(argv), { message }, argv.join(' '));
});
