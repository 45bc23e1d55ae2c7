// The Engine API's input parsing: query values as moby's httputils reads them, filters,
// timestamps, X-Registry-Auth, version negotiation, Go-style JSON body checks, --host
// values and image references of pull/tag/commit.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { QueryParams, parseFilters, parsePlatform, parseRegistryAuth, parseUnixTimestamp } from '../../src/api/query.js';
import { compareVersions, negotiateVersion } from '../../src/api/versions.js';
import { CREATE_REQUEST, EXEC_START_REQUEST, decodeGoJson } from '../../src/api/go-json.js';
import { parseHost } from '../../src/api/listen.js';
import { pullReference } from '../../src/api/routes-images.js';
import { repoTagReference } from '../../src/api/routes-containers.js';
import { familiarString } from '../../src/images/reference.js';
import { BerthError } from '../../src/util/errors.js';
import type { ContainerCreateRequest } from '../../src/oci/engine-api.js';

const q = (s: string): QueryParams => QueryParams.fromUrl(`/x?${s}`);

function rejects400(fn: () => unknown, message: RegExp | string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof BerthError, `expected a BerthError, got ${String(err)}`);
    assert.equal(err.code, 'InvalidArgument');
    if (typeof message === 'string') assert.equal(err.message, message);
    else assert.match(err.message, message);
    return true;
  });
}

describe('query booleans and integers', () => {
  it('reads booleans as moby does: "", 0, no, false, none are false; anything else true', () => {
    for (const v of ['', '0', 'no', 'false', 'False', 'NONE', ' 0 ']) assert.equal(q(`a=${encodeURIComponent(v)}`).bool('a'), false, v);
    for (const v of ['1', 'true', 'True', 'yes', 'x']) assert.equal(q(`a=${v}`).bool('a'), true, v);
    assert.equal(q('').bool('a'), false);
  });

  it('falls back to the default only when the parameter is absent', () => {
    assert.equal(q('').boolOrDefault('stream', true), true);
    assert.equal(q('stream=0').boolOrDefault('stream', true), false);
    assert.equal(q('stream=').boolOrDefault('stream', true), false);
  });

  it('parses integers and names the parameter when one is not', () => {
    assert.equal(q('t=5').int('t'), 5);
    assert.equal(q('t=-1').int('t'), -1);
    assert.equal(q('t=').int('t'), undefined);
    rejects400(() => q('t=ten').int('t'), 'invalid value for "t": "ten" is not an integer');
    rejects400(() => q('t=1.5').int('t'), /"t"/);
  });

  it('checks resize dimensions as unsigned 32-bit values with moby\'s wording', () => {
    assert.equal(q('h=24').uint32('h', 'resize height'), 24);
    rejects400(() => q('h=x').uint32('h', 'resize height'), 'invalid resize height "x": invalid syntax');
    rejects400(() => q('').uint32('h', 'resize height'), 'invalid resize height "": invalid syntax');
    rejects400(() => q('w=-1').uint32('w', 'resize width'), 'invalid resize width "-1": value out of range');
  });
});

describe('filters', () => {
  it('accepts the map form and the legacy list form', () => {
    assert.deepEqual(parseFilters('{"status":{"running":true},"label":{"a=b":true}}'), { status: ['running'], label: ['a=b'] });
    assert.deepEqual(parseFilters('{"status":["running","exited"]}'), { status: ['running', 'exited'] });
    assert.deepEqual(parseFilters(''), {});
  });

  it('refuses anything else as moby\'s "invalid filter"', () => {
    for (const bad of ['{', '[]', '"x"', '{"status":"running"}', '{"status":[1]}', '{"status":{"running":"yes"}}']) {
      rejects400(() => parseFilters(bad), 'invalid filter');
    }
  });
});

describe('timestamps', () => {
  it('reads unix seconds with an optional fraction, as the CLI sends since/until', () => {
    assert.equal(parseUnixTimestamp('since', ''), 0);
    assert.equal(parseUnixTimestamp('since', '1767323045'), 1767323045);
    assert.equal(parseUnixTimestamp('since', '1767323045.5'), 1767323045.5);
    assert.equal(parseUnixTimestamp('since', '10.000000001'), 10.000000001);
    assert.equal(parseUnixTimestamp('since', '-1.5'), -0.5);
  });

  it('refuses RFC 3339 and durations, naming the parameter', () => {
    rejects400(() => parseUnixTimestamp('until', '2026-01-01T00:00:00Z'), /^invalid value for "until": invalid timestamp/);
    rejects400(() => parseUnixTimestamp('since', '10m'), /"since"/);
  });
});

describe('X-Registry-Auth', () => {
  const json = JSON.stringify({ username: 'me', password: 'p?>s', serveraddress: 'localhost:5000' });
  it('decodes base64url with or without padding, and standard base64', () => {
    const want = { username: 'me', password: 'p?>s', serveraddress: 'localhost:5000' };
    const url = Buffer.from(json).toString('base64url');
    assert.deepEqual(parseRegistryAuth(url), want);
    assert.deepEqual(parseRegistryAuth(`${url}${'='.repeat((4 - (url.length % 4)) % 4)}`), want);
    assert.deepEqual(parseRegistryAuth(Buffer.from(json).toString('base64')), want);
  });

  it('ignores an absent or undecodable header, as moby does for pull and push', () => {
    assert.equal(parseRegistryAuth(undefined), undefined);
    assert.equal(parseRegistryAuth(''), undefined);
    assert.equal(parseRegistryAuth('%%%'), undefined);
    assert.equal(parseRegistryAuth(Buffer.from('[1]').toString('base64url')), undefined);
  });

  it('drops empty and non-string fields', () => {
    assert.deepEqual(parseRegistryAuth(Buffer.from('{"username":"","auth":"eDp5","password":5}').toString('base64url')), { auth: 'eDp5' });
  });
});

describe('platform', () => {
  it('accepts os[/arch[/variant]] and refuses junk', () => {
    assert.equal(parsePlatform('linux/amd64'), 'linux/amd64');
    assert.equal(parsePlatform('linux/arm/v7'), 'linux/arm/v7');
    assert.equal(parsePlatform(''), undefined);
    rejects400(() => parsePlatform('linux/amd64/v1/x'), /unknown operating system or architecture/);
    rejects400(() => parsePlatform('{"os":"linux"}'), /unknown operating system or architecture/);
  });
});

describe('version negotiation', () => {
  it('compares versions numerically', () => {
    assert.equal(compareVersions('1.9', '1.41'), -1);
    assert.equal(compareVersions('1.41', '1.41.0'), 0);
    assert.equal(compareVersions('2', '1.47'), 1);
  });

  it('accepts 1.41 to 1.47 and defaults to 1.47', () => {
    assert.equal(negotiateVersion(undefined), '1.47');
    assert.equal(negotiateVersion('1.41'), '1.41');
    assert.equal(negotiateVersion('1.44'), '1.44');
  });

  it('refuses older and newer clients with Docker\'s messages', () => {
    rejects400(() => negotiateVersion('1.40'),
      'client version 1.40 is too old. Minimum supported API version is 1.41, please upgrade your client to a newer version');
    rejects400(() => negotiateVersion('1.48'), 'client version 1.48 is too new. Maximum supported API version is 1.47');
  });
});

describe('Go-style JSON bodies', () => {
  const create = (body: unknown): ContainerCreateRequest | undefined => decodeGoJson<ContainerCreateRequest>(body, CREATE_REQUEST);

  it('names the field and types of a mismatch as Go\'s encoding/json does', () => {
    rejects400(() => create({ Cmd: 5 }), 'json: cannot unmarshal number into Go struct field ContainerConfig.Cmd of type []string');
    rejects400(() => create({ Env: 'x' }), 'json: cannot unmarshal string into Go struct field ContainerConfig.Env of type []string');
    rejects400(() => create({ HostConfig: { Memory: 'big' } }), 'json: cannot unmarshal string into Go struct field ContainerConfig.HostConfig.Memory of type int64');
    rejects400(() => create({ HostConfig: { Memory: 1.5 } }), 'json: cannot unmarshal number 1.5 into Go struct field ContainerConfig.HostConfig.Memory of type int64');
    rejects400(() => create({ Tty: 'true' }), /ContainerConfig\.Tty of type bool/);
    rejects400(() => create({ Labels: { a: 1 } }), /ContainerConfig\.Labels of type string/);
    rejects400(() => create({ HostConfig: { BlkioWeight: -1 } }), /HostConfig\.BlkioWeight of type uint16/);
    rejects400(() => create({ HostConfig: { RestartPolicy: { MaximumRetryCount: '3' } } }), /HostConfig\.RestartPolicy\.MaximumRetryCount of type int/);
    rejects400(() => create([1]), 'json: cannot unmarshal array into Go value of type ContainerConfig');
    rejects400(() => decodeGoJson({ ConsoleSize: [1, 2, 3] }, EXEC_START_REQUEST), /array of 3 elements/);
  });

  it('takes a lone string for a StrSlice, matches names case-insensitively and keeps unknown fields', () => {
    const req = create({ cmd: 'echo hi', image: 'busybox', hostconfig: { capadd: 'NET_ADMIN', Memory: 1024 }, Future: { x: 1 } });
    assert.deepEqual(req, { Cmd: ['echo hi'], Image: 'busybox', HostConfig: { CapAdd: ['NET_ADMIN'], Memory: 1024 }, Future: { x: 1 } });
  });

  it('treats null as unset', () => {
    assert.equal(create(null), undefined);
    assert.deepEqual(create({ Cmd: null, HostConfig: { Binds: null } }), { Cmd: null, HostConfig: { Binds: null } });
  });
});

describe('--host values', () => {
  it('reads unix sockets, with the default for an empty path', () => {
    assert.deepEqual(parseHost('unix:///tmp/b.sock'), { kind: 'unix', path: '/tmp/b.sock' });
    assert.deepEqual(parseHost('unix://', { defaultSocket: '/run/x.sock', group: 'staff' }), { kind: 'unix', path: '/run/x.sock', group: 'staff' });
    assert.deepEqual(parseHost(''), { kind: 'unix', path: '/run/berth/berth.sock' });
  });

  it('refuses tcp without TLS unless TLS was explicitly turned off', () => {
    rejects400(() => parseHost('tcp://127.0.0.1:2375'), 'tcp://127.0.0.1:2375: tcp without TLS needs --tls=false');
    assert.deepEqual(parseHost('tcp://127.0.0.1:2375', { tls: false }), { kind: 'tcp', host: '127.0.0.1', port: 2375 });
    assert.deepEqual(parseHost('tcp://:4000', { tls: false }), { kind: 'tcp', host: '127.0.0.1', port: 4000 });
    assert.deepEqual(parseHost('0.0.0.0', { tls: false }), { kind: 'tcp', host: '0.0.0.0', port: 2375 });
    const tls = { certPath: '/c', keyPath: '/k', verify: false };
    assert.deepEqual(parseHost('tcp://[::1]', { tls }), { kind: 'tcp', host: '::1', port: 2376, tls });
  });

  it('refuses fd://, unknown schemes and paths on tcp with clear errors', () => {
    rejects400(() => parseHost('fd://'), /fd:\/\/ \(systemd socket activation\) is not supported/);
    rejects400(() => parseHost('ssh://x'), 'invalid bind address format: ssh://x');
    rejects400(() => parseHost('tcp://1.2.3.4:5/path', { tls: false }), /should not contain a path element/);
    rejects400(() => parseHost('unix://relative.sock'), /must be absolute/);
  });
});

describe('image references of pull, tag and commit', () => {
  it('composes fromImage and tag as moby does, a digest "tag" included', () => {
    assert.equal(familiarString(pullReference('busybox', 'latest')), 'busybox:latest');
    assert.equal(familiarString(pullReference('busybox:', '')), 'busybox');
    assert.equal(familiarString(pullReference('localhost:5000/a/b', '1.0')), 'localhost:5000/a/b:1.0');
    const digest = `sha256:${'a'.repeat(64)}`;
    assert.equal(familiarString(pullReference('busybox:1', digest)), `busybox@${digest}`);
  });

  it('refuses scratch and malformed names', () => {
    assert.throws(() => pullReference('scratch', ''), (err: unknown) => err instanceof BerthError && err.code === 'Forbidden');
    rejects400(() => pullReference('Busybox', ''), /must be lowercase/);
    rejects400(() => pullReference('busybox', 'bad tag'), /invalid tag format/);
  });

  it('defaults the tag to latest and refuses digests for commit/import/tag targets', () => {
    assert.deepEqual(repoTagReference('docker.io/library/app', ''), { repo: 'app', tag: 'latest' });
    assert.deepEqual(repoTagReference('localhost:5000/app', 'v2'), { repo: 'localhost:5000/app', tag: 'v2' });
    assert.equal(repoTagReference('', 'v2'), undefined);
    rejects400(() => repoTagReference(`app@sha256:${'b'.repeat(64)}`, ''), 'cannot import digest reference');
  });
});
