// Tables ported from distribution/reference (reference_test.go, normalize_test.go,
// regexp_test.go). Where berth deliberately differs, the case says why.
import * as assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
  familiarName,
  familiarString,
  isFullId,
  looksLikeIdPrefix,
  parseDockerRef,
  parseRawReference,
  parseReference,
  parseRepositoryName,
  repositoryOf,
  withDefaultTag,
  withDigest,
  withTag,
  type Reference,
} from '../../src/images/reference.js';
import { isBerthError } from '../../src/util/errors.js';

const F64 = 'f'.repeat(64);
const SHA_F = `sha256:${F64}`;

function assertInvalid(fn: () => unknown, message: RegExp, label?: string): void {
  assert.throws(
    fn,
    (err: unknown) => {
      assert.ok(isBerthError(err, 'InvalidArgument'), `${label ?? ''}: expected InvalidArgument, got ${String(err)}`);
      assert.match((err as Error).message, message, label);
      return true;
    },
    label,
  );
}

describe('parseRawReference (reference_test.go TestReferenceParse)', () => {
  interface Case {
    input: string;
    err?: RegExp;
    repository?: string;
    domain?: string;
    tag?: string;
    digest?: string;
  }
  const cases: Case[] = [
    { input: 'test_com', repository: 'test_com' },
    { input: 'test.com:tag', repository: 'test.com', tag: 'tag' },
    { input: 'test.com:5000', repository: 'test.com', tag: '5000' },
    { input: 'test.com/repo:tag', domain: 'test.com', repository: 'test.com/repo', tag: 'tag' },
    { input: 'test:5000/repo', domain: 'test:5000', repository: 'test:5000/repo' },
    { input: 'test:5000/repo:tag', domain: 'test:5000', repository: 'test:5000/repo', tag: 'tag' },
    { input: `test:5000/repo@${SHA_F}`, domain: 'test:5000', repository: 'test:5000/repo', digest: SHA_F },
    { input: `test:5000/repo:tag@${SHA_F}`, domain: 'test:5000', repository: 'test:5000/repo', tag: 'tag', digest: SHA_F },
    { input: '', err: /^repository name must have at least one component$/ },
    { input: ':justtag', err: /^invalid reference format$/ },
    { input: `@${SHA_F}`, err: /^invalid reference format$/ },
    { input: 'repo@sha256:ffffffffffffffffffffffffffffffffff', err: /invalid reference format: invalid digest/ },
    { input: `validname@invaliddigest:${F64}`, err: /invalid reference format: invalid digest/ },
    // Upstream refuses sha512 only because Go's crypto/sha512 is not linked in its test;
    // berth's digests support sha512.
    { input: `validname@sha512:${'f'.repeat(128)}`, repository: 'validname', digest: `sha512:${'f'.repeat(128)}` },
    { input: 'Uppercase:tag', err: /^invalid reference format: repository name must be lowercase$/ },
    // "Uppercase/lowercase:tag" parses with "Uppercase" as a domain (upstream FIXME).
    { input: 'Uppercase/lowercase:tag', domain: 'Uppercase', repository: 'Uppercase/lowercase', tag: 'tag' },
    { input: 'test:5000/Uppercase/lowercase:tag', err: /must be lowercase/ },
    { input: 'lowercase:Uppercase', repository: 'lowercase', tag: 'Uppercase' },
    { input: `domain/${'a'.repeat(256)}:tag`, err: /^repository name must not be more than 255 characters$/ },
    {
      input: `${'a/'.repeat(127)}a:tag-puts-this-over-max`,
      domain: 'a',
      repository: `${'a/'.repeat(127)}a`,
      tag: 'tag-puts-this-over-max',
    },
    { input: 'aa/asdf$$^/aa', err: /^invalid reference format$/ },
    { input: 'sub-dom1.foo.com/bar/baz/quux', domain: 'sub-dom1.foo.com', repository: 'sub-dom1.foo.com/bar/baz/quux' },
    {
      input: 'sub-dom1.foo.com/bar/baz/quux:some-long-tag',
      domain: 'sub-dom1.foo.com',
      repository: 'sub-dom1.foo.com/bar/baz/quux',
      tag: 'some-long-tag',
    },
    {
      input: 'b.gcr.io/test.example.com/my-app:test.example.com',
      domain: 'b.gcr.io',
      repository: 'b.gcr.io/test.example.com/my-app',
      tag: 'test.example.com',
    },
    { input: 'xn--n3h.com/myimage:xn--n3h.com', domain: 'xn--n3h.com', repository: 'xn--n3h.com/myimage', tag: 'xn--n3h.com' },
    {
      input: `xn--7o8h.com/myimage:xn--7o8h.com@${SHA_F}`,
      domain: 'xn--7o8h.com',
      repository: 'xn--7o8h.com/myimage',
      tag: 'xn--7o8h.com',
      digest: SHA_F,
    },
    { input: 'foo_bar.com:8080', repository: 'foo_bar.com', tag: '8080' },
    { input: 'foo/foo_bar.com:8080', domain: 'foo', repository: 'foo/foo_bar.com', tag: '8080' },
    { input: '192.168.1.1', repository: '192.168.1.1' },
    { input: '192.168.1.1:tag', repository: '192.168.1.1', tag: 'tag' },
    { input: '192.168.1.1:5000', repository: '192.168.1.1', tag: '5000' },
    { input: '192.168.1.1/repo', domain: '192.168.1.1', repository: '192.168.1.1/repo' },
    { input: '192.168.1.1:5000/repo', domain: '192.168.1.1:5000', repository: '192.168.1.1:5000/repo' },
    { input: '192.168.1.1:5000/repo:5050', domain: '192.168.1.1:5000', repository: '192.168.1.1:5000/repo', tag: '5050' },
    { input: '[2001:db8::1]', err: /^invalid reference format$/ },
    { input: '[2001:db8::1]:5000', err: /^invalid reference format$/ },
    { input: '[2001:db8::1]:tag', err: /^invalid reference format$/ },
    { input: '[2001:db8::1]/repo', domain: '[2001:db8::1]', repository: '[2001:db8::1]/repo' },
    {
      input: '[2001:db8:1:2:3:4:5:6]/repo:tag',
      domain: '[2001:db8:1:2:3:4:5:6]',
      repository: '[2001:db8:1:2:3:4:5:6]/repo',
      tag: 'tag',
    },
    { input: '[2001:db8::1]:5000/repo', domain: '[2001:db8::1]:5000', repository: '[2001:db8::1]:5000/repo' },
    { input: '[2001:db8::1]:5000/repo:tag', domain: '[2001:db8::1]:5000', repository: '[2001:db8::1]:5000/repo', tag: 'tag' },
    {
      input: `[2001:db8::1]:5000/repo@${SHA_F}`,
      domain: '[2001:db8::1]:5000',
      repository: '[2001:db8::1]:5000/repo',
      digest: SHA_F,
    },
    {
      input: `[2001:db8::1]:5000/repo:tag@${SHA_F}`,
      domain: '[2001:db8::1]:5000',
      repository: '[2001:db8::1]:5000/repo',
      tag: 'tag',
      digest: SHA_F,
    },
    { input: '[2001:db8::]:5000/repo', domain: '[2001:db8::]:5000', repository: '[2001:db8::]:5000/repo' },
    { input: '[::1]:5000/repo', domain: '[::1]:5000', repository: '[::1]:5000/repo' },
    { input: '[fe80::1%eth0]:5000/repo', err: /^invalid reference format$/ },
    { input: '[fe80::1%@invalidzone]:5000/repo', err: /^invalid reference format$/ },
    {
      input: `example.com/${'a'.repeat(255)}:tag`,
      domain: 'example.com',
      repository: `example.com/${'a'.repeat(255)}`,
      tag: 'tag',
    },
    // regexp_test.go TestReferenceRegexp
    { input: 'registry.com:8080/myapp:tag', domain: 'registry.com:8080', repository: 'registry.com:8080/myapp', tag: 'tag' },
    { input: 'registry.com:8080/myapp@sha256:badbadbadbad', err: /^invalid reference format$/ },
    { input: 'registry.com:8080/myapp:invalid~tag', err: /^invalid reference format$/ },
    { input: 'bad_hostname.com:8080/myapp:tag', err: /^invalid reference format$/ },
    { input: `localhost:8080@${SHA_F}`, repository: 'localhost', tag: '8080', digest: SHA_F },
    { input: `localhost:8080/name@${SHA_F}`, domain: 'localhost:8080', repository: 'localhost:8080/name', digest: SHA_F },
    { input: `localhost:http/name@${SHA_F}`, err: /^invalid reference format$/ },
    { input: `localhost@${SHA_F}`, repository: 'localhost', digest: SHA_F },
    { input: 'registry.com:8080/myapp@bad', err: /^invalid reference format$/ },
    { input: 'registry.com:8080/myapp@2bad', err: /^invalid reference format$/ },
    // Tags: [\w][\w.-]{0,127}
    { input: `repo:${'t'.repeat(128)}`, repository: 'repo', tag: 't'.repeat(128) },
    { input: `repo:${'t'.repeat(129)}`, err: /^invalid reference format$/ },
    { input: 'repo:.tag', err: /^invalid reference format$/ },
    { input: 'repo:-tag', err: /^invalid reference format$/ },
    { input: 'repo:_tag', repository: 'repo', tag: '_tag' },
  ];
  for (const c of cases) {
    test(c.input.length > 80 ? `${c.input.slice(0, 77)}...` : c.input || '(empty)', () => {
      if (c.err !== undefined) {
        assertInvalid(() => parseRawReference(c.input), c.err, c.input);
        return;
      }
      const ref = parseRawReference(c.input);
      assert.equal(ref.toString(), c.input);
      assert.equal(ref.name, c.repository);
      assert.equal(ref.domain, c.domain ?? '');
      assert.equal(ref.tag, c.tag);
      assert.equal(ref.digest, c.digest);
    });
  }
});

describe('parseRepositoryName (WithName, TestFullNameRegexp, TestDomainAndPath)', () => {
  const failures: [string, RegExp][] = [
    ['', /^invalid reference format$/],
    [':justtag', /^invalid reference format$/],
    [`@${SHA_F}`, /^invalid reference format$/],
    [`validname@invaliddigest:${F64}`, /^invalid reference format$/],
    ['example.com/repo:tag', /^invalid reference format$/],
    [`example.com/${'a'.repeat(256)}`, /^repository name must not be more than 255 characters$/],
    ['aa/asdf$$^/aa', /^invalid reference format$/],
  ];
  for (const [input, err] of failures) {
    test(`refuses ${input.slice(0, 60) || '(empty)'}`, () => assertInvalid(() => parseRepositoryName(input), err, input));
  }

  // [input, domain, path] or [input, null] for no match.
  const names: [string, string, string][] = [
    ['short', '', 'short'],
    ['simple/name', 'simple', 'name'],
    ['library/ubuntu', 'library', 'ubuntu'],
    ['docker/stevvooe/app', 'docker', 'stevvooe/app'],
    ['aa/aa/aa/aa/aa/aa/aa/aa/aa/bb/bb/bb/bb/bb/bb', 'aa', 'aa/aa/aa/aa/aa/aa/aa/aa/bb/bb/bb/bb/bb/bb'],
    ['aa/aa/bb/bb/bb', 'aa', 'aa/bb/bb/bb'],
    ['a/a/a/a', 'a', 'a/a/a'],
    ['a', '', 'a'],
    ['a/aa', 'a', 'aa'],
    ['a/aa/a', 'a', 'aa/a'],
    ['foo.com', '', 'foo.com'],
    ['foo.com:8080/bar', 'foo.com:8080', 'bar'],
    ['foo.com/bar', 'foo.com', 'bar'],
    ['foo.com/bar/baz', 'foo.com', 'bar/baz'],
    ['localhost:8080/bar', 'localhost:8080', 'bar'],
    ['sub-dom1.foo.com/bar/baz/quux', 'sub-dom1.foo.com', 'bar/baz/quux'],
    ['blog.foo.com/bar/baz', 'blog.foo.com', 'bar/baz'],
    ['aa-a/a', 'aa-a', 'a'],
    [`${'a/'.repeat(128)}a`, 'a', `${'a/'.repeat(127)}a`],
    ['foo_bar', '', 'foo_bar'],
    ['foo_bar.com', '', 'foo_bar.com'],
    ['foo.com/foo_bar', 'foo.com', 'foo_bar'],
    ['b.gcr.io/test.example.com/my-app', 'b.gcr.io', 'test.example.com/my-app'],
    ['xn--n3h.com/myimage', 'xn--n3h.com', 'myimage'],
    ['xn--7o8h.com/myimage', 'xn--7o8h.com', 'myimage'],
    ['example.com/xn--7o8h.com/myimage', 'example.com', 'xn--7o8h.com/myimage'],
    ['example.com/some_separator__underscore/myimage', 'example.com', 'some_separator__underscore/myimage'],
    ['do__cker/docker', '', 'do__cker/docker'],
    ['registry.io/foo/project--id.module--name.ver---sion--name', 'registry.io', 'foo/project--id.module--name.ver---sion--name'],
    ['Asdf.com/foo/bar', 'Asdf.com', 'foo/bar'],
    // TestDomainAndPath
    ['test.com/foo', 'test.com', 'foo'],
    ['test_com/foo', '', 'test_com/foo'],
    ['test:8080/foo', 'test:8080', 'foo'],
    ['test.com:8080/foo', 'test.com:8080', 'foo'],
    ['test-com:8080/foo', 'test-com:8080', 'foo'],
    ['xn--n3h.com:18080/foo', 'xn--n3h.com:18080', 'foo'],
  ];
  for (const [input, domain, path] of names) {
    test(`splits ${input.slice(0, 60)}`, () => {
      const ref = parseRepositoryName(input);
      assert.equal(ref.domain, domain);
      assert.equal(ref.path, path);
      assert.equal(ref.name, input);
    });
  }

  const nonNames = [
    '', 'a/a/a/a/', 'a//a/a', 'foo.com/', 'foo.com:http/bar', 'a^a', 'aa/asdf$$^/aa', 'asdf$$^/aa', 'a-/a/a/a',
    'foo.com/a-/a/a', '-foo/bar', 'foo/bar-', 'foo-/bar', 'foo/-bar', '_foo/bar', 'foo_bar.com:8080',
    'foo_bar.com:8080/app', '____/____', '_docker/_docker', 'docker_/docker_', 'example.com/__underscore/myimage',
    'example.com/..dots/myimage', 'example.com/.dots/myimage', 'example.com/nodouble..dots/myimage', 'docker./docker',
    '.docker/docker', 'docker-/docker', '-docker/docker', 'do..cker/docker', 'do__cker:8080/docker', 'Foo/FarB',
  ];
  for (const input of nonNames) {
    test(`no name: ${input || '(empty)'}`, () => assertInvalid(() => parseRepositoryName(input), /invalid reference format/, input));
  }
});

describe('domains (regexp_test.go TestDomainRegexp)', () => {
  const cases: [string, boolean][] = [
    ['test.com', true],
    ['test.com:10304', true],
    ['test.com:http', false],
    ['localhost', true],
    ['localhost:8080', true],
    ['a', true],
    ['a.b', true],
    ['ab.cd.com', true],
    ['a-b.com', true],
    ['-ab.com', false],
    ['ab-.com', false],
    ['ab.c-om', true],
    ['ab.-com', false],
    ['ab.com-', false],
    ['0101.com', true],
    ['001a.com', true],
    ['b.gbc.io:443', true],
    ['b.gbc.io', true],
    ['xn--n3h.com', true],
    ['Asdf.com', true],
    ['192.168.1.1:75050', true],
    ['192.168.1.1:750050', true],
    ['[fd00:1:2::3]:75050', true],
    ['[fd00:1:2::3]75050', false],
    ['[fd00:1:2::3]::75050', false],
    ['[fd00:1:2::3%eth0]:75050', false],
    ['[fd00123123123]:75050', true],
    ['[2001:0db8:85a3:0000:0000:8a2e:0370:7334]:75050', true],
    ['[2001:0db8:85a3:0000:0000:8a2e:0370:7334]:750505', true],
    ['fd00:1:2::3:75050', false],
  ];
  for (const [domain, ok] of cases) {
    test(`${domain} ${ok ? 'is' : 'is not'} a domain`, () => {
      let got: string | undefined;
      try {
        got = parseRepositoryName(`${domain}/repo`).domain;
      } catch {
        got = undefined;
      }
      assert.equal(got === domain, ok);
    });
  }
});

describe('parseReference (normalize_test.go)', () => {
  const valid = [
    'docker/docker', 'library/debian', 'debian', 'localhost/library/debian', 'localhost/debian',
    'LOCALDOMAIN/library/debian', 'LOCALDOMAIN/debian', 'docker.io/docker/docker', 'docker.io/library/debian',
    'docker.io/debian', 'index.docker.io/docker/docker', 'index.docker.io/library/debian', 'index.docker.io/debian',
    '127.0.0.1:5000/docker/docker', '127.0.0.1:5000/library/debian', '127.0.0.1:5000/debian', '192.168.0.1',
    '192.168.0.1:80', '192.168.0.1:8/debian', '192.168.0.2:25000/debian',
    'thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev', '[fc00::1]:5000/docker',
    '[fc00::1]:5000/docker/docker', '[fc00:1:2:3:4:5:6:7]:5000/library/debian',
    'docker.io/1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a', 'Docker/docker', 'DOCKER/docker',
    // TestValidateRemoteName
    'docker-rules/docker', 'docker---rules/docker', 'doc/docker', 'd/docker', 'jess/t', 'dock__er/docker',
  ];
  for (const name of valid) test(`accepts ${name}`, () => assert.doesNotThrow(() => parseReference(name)));

  const invalid = [
    'https://github.com/docker/docker', 'docker/Docker', '-docker', '-docker/docker', '-docker.io/docker/docker',
    'docker///docker', 'docker.io/docker/Docker', 'docker.io/docker///docker', '[fc00::1]', '[fc00::1]:5000',
    'fc00::1:5000/debian', '[fe80::1%eth0]:5000/debian', '[2001:db8:3:4::192.0.2.33]:5000/debian',
    '1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a',
    // TestValidateRemoteName
    'docker-/docker', '-docker-/docker', '____/____', '_docker/_docker', 'dock..er/docker', 'dock_.er/docker',
    'dock-.er/docker', 'docker/', '', 'x'.repeat(3000),
    'this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255_this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255_this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255_this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255/docker',
  ];
  for (const name of invalid) {
    test(`refuses ${name.slice(0, 60) || '(empty)'}`, () => assertInvalid(() => parseReference(name), /./, name));
  }

  test("Docker's messages", () => {
    assertInvalid(() => parseReference('Busybox'), /^invalid reference format: repository name \(library\/Busybox\) must be lowercase$/);
    assertInvalid(() => parseReference('docker/Docker'), /^invalid reference format: repository name \(docker\/Docker\) must be lowercase$/);
    assertInvalid(() => parseReference('test:5000/Uppercase/lowercase:tag'), /repository name \(Uppercase\/lowercase\) must be lowercase/);
    assertInvalid(() => parseReference('docker///docker'), /^invalid reference format$/);
    assertInvalid(() => parseReference('busybox:tag:x'), /^invalid reference format$/);
    assertInvalid(
      () => parseReference('1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a'),
      /^invalid repository name \(1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a\), cannot specify 64-byte hexadecimal strings$/,
    );
    assertInvalid(() => parseReference(`busybox@sha256:${'a'.repeat(63)}`), /invalid reference format: invalid digest/);
  });

  // TestParseRepositoryInfo: [path, familiar, full, ambiguous, domain]
  const infos: [string, string, string, string, string][] = [
    ['fooo', 'localhost/fooo', 'localhost/fooo', 'localhost/fooo', 'localhost'],
    ['fooo/bar', 'localhost/fooo/bar', 'localhost/fooo/bar', 'localhost/fooo/bar', 'localhost'],
    ['fooo', 'LOCALDOMAIN/fooo', 'LOCALDOMAIN/fooo', 'LOCALDOMAIN/fooo', 'LOCALDOMAIN'],
    ['fooo/bar', 'LOCALDOMAIN/fooo/bar', 'LOCALDOMAIN/fooo/bar', 'LOCALDOMAIN/fooo/bar', 'LOCALDOMAIN'],
    ['fooo/bar', 'fooo/bar', 'docker.io/fooo/bar', 'index.docker.io/fooo/bar', 'docker.io'],
    ['library/ubuntu', 'ubuntu', 'docker.io/library/ubuntu', 'library/ubuntu', 'docker.io'],
    ['nonlibrary/ubuntu', 'nonlibrary/ubuntu', 'docker.io/nonlibrary/ubuntu', '', 'docker.io'],
    ['other/library', 'other/library', 'docker.io/other/library', '', 'docker.io'],
    ['private/moonbase', '127.0.0.1:8000/private/moonbase', '127.0.0.1:8000/private/moonbase', '', '127.0.0.1:8000'],
    ['privatebase', '127.0.0.1:8000/privatebase', '127.0.0.1:8000/privatebase', '', '127.0.0.1:8000'],
    ['private/moonbase', 'example.com/private/moonbase', 'example.com/private/moonbase', '', 'example.com'],
    ['privatebase', 'example.com/privatebase', 'example.com/privatebase', '', 'example.com'],
    ['private/moonbase', 'example.com:8000/private/moonbase', 'example.com:8000/private/moonbase', '', 'example.com:8000'],
    ['privatebasee', 'example.com:8000/privatebasee', 'example.com:8000/privatebasee', '', 'example.com:8000'],
    ['library/ubuntu-12.04-base', 'ubuntu-12.04-base', 'docker.io/library/ubuntu-12.04-base', 'index.docker.io/library/ubuntu-12.04-base', 'docker.io'],
    ['library/foo', 'foo', 'docker.io/library/foo', 'docker.io/foo', 'docker.io'],
    ['library/foo/bar', 'library/foo/bar', 'docker.io/library/foo/bar', '', 'docker.io'],
    ['store/foo/bar', 'store/foo/bar', 'docker.io/store/foo/bar', '', 'docker.io'],
    ['bar', 'Foo/bar', 'Foo/bar', '', 'Foo'],
    ['bar', 'FOO/bar', 'FOO/bar', '', 'FOO'],
  ];
  for (const [path, familiar, full, ambiguous, domain] of infos) {
    for (const input of [familiar, full, ambiguous].filter((s) => s !== '')) {
      test(`repository info of ${input}`, () => {
        const ref = parseReference(input);
        assert.equal(familiarName(ref), familiar);
        assert.equal(ref.toString(), full);
        assert.equal(ref.name, full);
        assert.equal(ref.domain, domain);
        assert.equal(ref.path, path);
      });
    }
  }

  // TestNormalizedSplitHostname
  const splits: [string, string, string][] = [
    ['test.com/foo', 'test.com', 'foo'],
    ['test_com/foo', 'docker.io', 'test_com/foo'],
    ['docker/migrator', 'docker.io', 'docker/migrator'],
    ['test.com:8080/foo', 'test.com:8080', 'foo'],
    ['test-com:8080/foo', 'test-com:8080', 'foo'],
    ['foo', 'docker.io', 'library/foo'],
    ['xn--n3h.com/foo', 'xn--n3h.com', 'foo'],
    ['xn--n3h.com:18080/foo', 'xn--n3h.com:18080', 'foo'],
    ['docker.io/foo', 'docker.io', 'library/foo'],
    ['docker.io/library/foo', 'docker.io', 'library/foo'],
    ['docker.io/library/foo/bar', 'docker.io', 'library/foo/bar'],
    ['index.docker.io/x', 'docker.io', 'library/x'],
    ['localhost:5000/x', 'localhost:5000', 'x'],
    ['localhost/x', 'localhost', 'x'],
    // A lone word is a Docker Hub image even when it looks like a host.
    ['localhost:5000', 'docker.io', 'library/localhost'],
    ['example.com', 'docker.io', 'library/example.com'],
  ];
  for (const [input, domain, path] of splits) {
    test(`normalises ${input}`, () => {
      const ref = parseReference(input);
      assert.equal(ref.domain, domain);
      assert.equal(ref.path, path);
    });
  }

  // TestParseNamed: a name is canonical when normalising leaves it unchanged.
  const canonical: [string, boolean][] = [
    ['test.com/foo', true],
    ['test:8080/foo', true],
    ['test_com/foo', false],
    ['test.com', false],
    ['foo', false],
    ['library/foo', false],
    ['docker.io/library/foo', true],
    ['docker.io/foo', false],
  ];
  for (const [input, isCanonical] of canonical) {
    test(`${input} is ${isCanonical ? '' : 'not '}canonical`, () => {
      assert.equal(parseReference(input).toString() === input, isCanonical);
    });
  }

  test('tag and digest together (TestParseReferenceWithTagAndDigest)', () => {
    const short = 'busybox:latest@sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa';
    const ref = parseReference(short);
    assert.equal(ref.toString(), `docker.io/library/${short}`);
    assert.equal(ref.tag, 'latest');
    assert.equal(ref.digest, 'sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa');
    assert.equal(familiarString(ref), short);
  });

  test('familiar forms (what `docker images` shows)', () => {
    assert.equal(familiarString(withDefaultTag(parseReference('busybox'))), 'busybox:latest');
    assert.equal(withDefaultTag(parseReference('busybox')).toString(), 'docker.io/library/busybox:latest');
    assert.equal(familiarString(parseReference('docker.io/library/busybox:1.36')), 'busybox:1.36');
    assert.equal(familiarString(parseReference('user/img:v1')), 'user/img:v1');
    assert.equal(familiarString(parseReference('localhost:5000/x:y')), 'localhost:5000/x:y');
    assert.equal(familiarString(parseReference(`busybox@${SHA_F}`)), `busybox@${SHA_F}`);
    assert.equal(familiarName(parseRawReference('quay.io/a/b')), 'quay.io/a/b');
  });

  // TestParseAnyReference, with IDs handled by isFullId/looksLikeIdPrefix.
  const d = 'dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9c';
  const anyRefs: [string, string][] = [
    ['redis', 'docker.io/library/redis'],
    ['redis:latest', 'docker.io/library/redis:latest'],
    ['docker.io/library/redis:latest', 'docker.io/library/redis:latest'],
    [`redis@sha256:${d}`, `docker.io/library/redis@sha256:${d}`],
    [`docker.io/library/redis@sha256:${d}`, `docker.io/library/redis@sha256:${d}`],
    ['dmcgowan/myapp', 'docker.io/dmcgowan/myapp'],
    ['dmcgowan/myapp:latest', 'docker.io/dmcgowan/myapp:latest'],
    ['docker.io/mcgowan/myapp:latest', 'docker.io/mcgowan/myapp:latest'],
    [`dmcgowan/myapp@sha256:${d}`, `docker.io/dmcgowan/myapp@sha256:${d}`],
    [`docker.io/dmcgowan/myapp@sha256:${d}`, `docker.io/dmcgowan/myapp@sha256:${d}`],
    [d.slice(0, 63), `docker.io/library/${d.slice(0, 63)}`],
    ['dbcc1', 'docker.io/library/dbcc1'],
  ];
  for (const [input, equivalent] of anyRefs) {
    test(`any reference ${input}`, () => {
      const ref = parseReference(input);
      assert.equal(ref.toString(), equivalent);
      assert.equal(parseRawReference(equivalent).toString(), equivalent);
    });
  }
  test('IDs', () => {
    assert.ok(isFullId(d));
    assert.ok(looksLikeIdPrefix(d));
    assert.ok(looksLikeIdPrefix(`sha256:${d}`));
    assert.ok(looksLikeIdPrefix('dbcc1'));
    assert.ok(looksLikeIdPrefix(d.slice(0, 63)));
    assert.ok(!isFullId(d.slice(0, 63)));
    assert.ok(!looksLikeIdPrefix(''));
    assert.ok(!looksLikeIdPrefix('sha256:'));
    assert.ok(!looksLikeIdPrefix('redis'));
    assert.ok(!looksLikeIdPrefix(`${d}0`));
    assert.ok(!looksLikeIdPrefix('DBCC1'));
    // TestIdentifierRegexp
    assert.ok(isFullId('da304e823d8ca2b9d863a3c897baeb852ba21ea9a9f1414736394ae7fcaf9821'));
    assert.ok(!isFullId('7EC43B381E5AEFE6E04EFB0B3F0693FF2A4A50652D64AEC573905F2DB5889A1C'));
    assert.ok(!isFullId('da304e823d8ca2b9d863a3c897baeb852ba21ea9a9f1414736394ae7fcaf'));
    assert.ok(!isFullId('sha256:da304e823d8ca2b9d863a3c897baeb852ba21ea9a9f1414736394ae7fcaf9821'));
    assert.ok(!isFullId('da304e823d8ca2b9d863a3c897baeb852ba21ea9a9f1414736394ae7fcaf98218482'));
  });
});

describe('parseDockerRef / withDefaultTag (TestParseDockerRef)', () => {
  const dg = 'sha256:e6693c20186f837fc393390135d8a598a96a833917917789d63766cab6c59582';
  const cases: [string, string][] = [
    ['busybox', 'docker.io/library/busybox:latest'],
    ['busybox:latest', 'docker.io/library/busybox:latest'],
    [`busybox@${dg}`, `docker.io/library/busybox@${dg}`],
    ['library/busybox', 'docker.io/library/busybox:latest'],
    ['docker.io/busybox', 'docker.io/library/busybox:latest'],
    ['docker.io/library/busybox', 'docker.io/library/busybox:latest'],
    ['docker.io/busybox:latest', 'docker.io/library/busybox:latest'],
    ['library/busybox:latest', 'docker.io/library/busybox:latest'],
    ['docker.io/library/busybox:latest', 'docker.io/library/busybox:latest'],
    ['gcr.io/library/busybox', 'gcr.io/library/busybox:latest'],
    [`gcr.io/library/busybox:latest@${dg}`, `gcr.io/library/busybox@${dg}`],
  ];
  for (const [input, expected] of cases) {
    test(input, () => {
      const ref = parseDockerRef(input);
      assert.equal(ref.toString(), expected);
      assert.equal(parseRawReference(expected).toString(), expected);
    });
  }
  test('withDefaultTag keeps tag-and-digest references whole', () => {
    assert.equal(withDefaultTag(parseReference(`busybox:1@${dg}`)).toString(), `docker.io/library/busybox:1@${dg}`);
    assert.equal(withDefaultTag(parseReference(`busybox@${dg}`)).toString(), `docker.io/library/busybox@${dg}`);
  });
});

describe('withTag / withDigest (TestWithTag, TestWithDigest, TestInvalidReferenceComponents)', () => {
  // Upstream uses short fake digests; berth validates digests, so these are full length.
  const dg = `sha256:${'1234567890'.repeat(6)}1234`;
  const tagCases: [string, string | undefined, string, string][] = [
    ['test.com/foo', undefined, 'tag', 'test.com/foo:tag'],
    ['foo', undefined, 'tag2', 'foo:tag2'],
    ['test.com:8000/foo', undefined, 'tag4', 'test.com:8000/foo:tag4'],
    ['test.com:8000/foo', undefined, 'TAG5', 'test.com:8000/foo:TAG5'],
    ['test.com:8000/foo', dg, 'TAG5', `test.com:8000/foo:TAG5@${dg}`],
  ];
  for (const [name, digest, tag, combined] of tagCases) {
    test(`withTag ${combined}`, () => {
      let ref: Reference = parseRepositoryName(name);
      if (digest !== undefined) ref = withDigest(ref, digest);
      assert.equal(withTag(ref, tag).toString(), combined);
    });
  }
  const digestCases: [string, string | undefined, string][] = [
    ['test.com/foo', undefined, `test.com/foo@${dg}`],
    ['foo', undefined, `foo@${dg}`],
    ['test.com:8000/foo', undefined, `test.com:8000/foo@${dg}`],
    ['test.com:8000/foo', 'latest', `test.com:8000/foo:latest@${dg}`],
  ];
  for (const [name, tag, combined] of digestCases) {
    test(`withDigest ${combined}`, () => {
      let ref: Reference = parseRepositoryName(name);
      if (tag !== undefined) ref = withTag(ref, tag);
      assert.equal(withDigest(ref, dg).toString(), combined);
    });
  }
  test('invalid components', () => {
    assertInvalid(() => parseReference('-foo'), /invalid reference format/);
    const ref = parseReference('busybox');
    assertInvalid(() => withTag(ref, '-foo'), /^invalid tag format: "-foo"$/);
    assertInvalid(() => withTag(ref, 'a'.repeat(129)), /invalid tag format/);
    assertInvalid(() => withDigest(ref, 'foo'), /invalid digest "foo"/);
    assertInvalid(() => withDigest(ref, 'sha256:1234567890098765432112345667890098765'), /invalid digest/);
  });
  test('repositoryOf drops tag and digest; references are immutable', () => {
    const ref = parseReference(`busybox:1@${dg}`);
    const repo = repositoryOf(ref);
    assert.equal(repo.toString(), 'docker.io/library/busybox');
    assert.equal(repo.tag, undefined);
    assert.ok(Object.isFrozen(ref));
    assert.deepEqual(Object.keys(repo).sort(), ['domain', 'name', 'path']);
    assert.equal(String(ref), `docker.io/library/busybox:1@${dg}`);
    assert.equal(`${ref}`, ref.toString());
  });
  test('hostile input stays fast', () => {
    const started = process.hrtime.bigint();
    for (const s of ['a'.repeat(2000) + '!', `${'a-'.repeat(1000)}!`, `${'a.'.repeat(1000)}/!`, `${'a'.repeat(2000)}/`]) {
      assertInvalid(() => parseReference(s), /invalid reference format/, s.slice(0, 20));
    }
    assert.ok(process.hrtime.bigint() - started < 500_000_000n, 'parsing took over 0.5 s');
  });
});
