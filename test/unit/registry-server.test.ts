// The registry server's pure parts: URL grammar, Range and Content-Range, pagination,
// htpasswd parsing and Basic auth, --addr, the error body both sides speak, the LRU.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import bcrypt from 'bcryptjs';
import { RegistryError, errorBody, parseErrorBody, registryError } from '../../src/registry/errors.js';
import { Htpasswd } from '../../src/registry/server/auth.js';
import { parseRange } from '../../src/registry/server/blobs.js';
import { parseAddr } from '../../src/registry/server/cli.js';
import { ByteLru } from '../../src/registry/server/lru.js';
import { checkDigest, isRepositoryName, isTag, parseManifestRef } from '../../src/registry/server/names.js';
import { matchRoute } from '../../src/registry/server/router.js';
import { paginate } from '../../src/registry/server/tags.js';
import { parseContentRange } from '../../src/registry/server/upload-handlers.js';

const code = (fn: () => unknown): string => {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof RegistryError, String(err));
    return err.registryCode;
  }
  return 'none';
};

describe('registry names, tags, digests', () => {
  it('repository names follow the distribution-spec grammar and 255 characters', () => {
    for (const ok of ['a', 'library/busybox', 'a.b_c__d---e/f0', 'x/y/z/w', '0', 'a'.repeat(255), 'a-b', 'a__b']) {
      assert.ok(isRepositoryName(ok), ok);
    }
    for (const bad of ['', 'A', 'a/', '/a', 'a//b', '-a', 'a-', 'a..b', 'a._b', 'a___b', '_a', 'a/_blobs', 'a/..', '.', 'a b', 'a'.repeat(256), 'a:b', 'a@b']) {
      assert.ok(!isRepositoryName(bad), bad);
    }
  });

  it('tags: [A-Za-z0-9_][A-Za-z0-9._-]{0,127}', () => {
    for (const ok of ['latest', 'V1.0', '_x', '1', 'a'.repeat(128), 'a-b_c.d']) assert.ok(isTag(ok), ok);
    for (const bad of ['', '.a', '-a', 'a'.repeat(129), 'a/b', 'a:b', 'a b', 'a+b']) assert.ok(!isTag(bad), bad);
  });

  it('digests: sha256 and sha512 with exact lowercase hex lengths', () => {
    assert.equal(checkDigest(`sha256:${'a'.repeat(64)}`), `sha256:${'a'.repeat(64)}`);
    assert.equal(checkDigest(`sha512:${'0'.repeat(128)}`), `sha512:${'0'.repeat(128)}`);
    for (const bad of [`sha256:${'a'.repeat(63)}`, `sha256:${'A'.repeat(64)}`, `sha384:${'a'.repeat(96)}`, `md5:${'a'.repeat(32)}`, 'sha256:', `sha512:${'a'.repeat(64)}`]) {
      assert.equal(code(() => checkDigest(bad)), 'DIGEST_INVALID', bad);
    }
  });

  it('manifest references: a colon means a digest, else a tag', () => {
    assert.deepEqual(parseManifestRef('v1'), { kind: 'tag', tag: 'v1' });
    assert.equal(parseManifestRef(`sha256:${'b'.repeat(64)}`).kind, 'digest');
    assert.equal(code(() => parseManifestRef('sha256:xyz')), 'DIGEST_INVALID');
    assert.equal(code(() => parseManifestRef('-bad')), 'TAG_INVALID');
  });
});

describe('registry routes', () => {
  it('names with slashes, the fixed suffixes, decoded last components', () => {
    assert.deepEqual(matchRoute('/v2/'), { kind: 'base' });
    assert.deepEqual(matchRoute('/v2'), { kind: 'base' });
    assert.deepEqual(matchRoute('/v2/_catalog'), { kind: 'catalog' });
    assert.deepEqual(matchRoute('/v2/a/b/tags/list'), { kind: 'tags', name: 'a/b' });
    assert.deepEqual(matchRoute('/v2/a/b/manifests/sha256%3Aab'), { kind: 'manifest', name: 'a/b', reference: 'sha256:ab' });
    assert.deepEqual(matchRoute('/v2/a/blobs/uploads/'), { kind: 'uploads', name: 'a' });
    assert.deepEqual(matchRoute('/v2/a/blobs/uploads/x-y'), { kind: 'upload', name: 'a', id: 'x-y' });
    assert.deepEqual(matchRoute('/v2/a/blobs/sha256:1'), { kind: 'blob', name: 'a', digest: 'sha256:1' });
    assert.deepEqual(matchRoute('/v2/a/referrers/sha256:1'), { kind: 'referrers', name: 'a', digest: 'sha256:1' });
    assert.deepEqual(matchRoute('/v2/a/../b/blobs/x'), { kind: 'blob', name: 'a/../b', digest: 'x' });
    assert.equal(matchRoute('/v1/'), undefined);
    assert.equal(matchRoute(`/v2/${'a'.repeat(2000)}/tags/list`), undefined);
  });
});

describe('registry byte ranges', () => {
  it('Range: one range, clamped; suffixes; unsatisfiable; ignored when unreadable', () => {
    assert.equal(parseRange(undefined, 100), undefined);
    assert.deepEqual(parseRange('bytes=0-9', 100), [0, 9]);
    assert.deepEqual(parseRange('bytes=90-200', 100), [90, 99]);
    assert.deepEqual(parseRange('bytes=50-', 100), [50, 99]);
    assert.deepEqual(parseRange('bytes=-10', 100), [90, 99]);
    assert.deepEqual(parseRange('bytes=-1000', 100), [0, 99]);
    assert.equal(parseRange('bytes=100-', 100), 'unsatisfiable');
    assert.equal(parseRange('bytes=100-200', 100), 'unsatisfiable');
    assert.equal(parseRange('bytes=-0', 100), 'unsatisfiable');
    assert.equal(parseRange('bytes=0-', 0), 'unsatisfiable');
    assert.equal(parseRange('bytes=5-1', 100), undefined);
    assert.equal(parseRange('bytes=0-1,5-6', 100), undefined);
    assert.equal(parseRange('items=0-1', 100), undefined);
    assert.equal(parseRange('bytes=-', 100), undefined);
  });

  it('Content-Range of a chunk: start-end, with or without the bytes unit and total', () => {
    assert.equal(parseContentRange(undefined), undefined);
    assert.deepEqual(parseContentRange('0-99'), { start: 0, end: 99 });
    assert.deepEqual(parseContentRange('bytes 100-199/1000'), { start: 100, end: 199 });
    assert.deepEqual(parseContentRange('bytes=5-5'), { start: 5, end: 5 });
    assert.deepEqual(parseContentRange('bytes 5-9/*'), { start: 5, end: 9 });
    for (const bad of ['9-5', '-5', 'abc', '5-', '1-2-3']) {
      assert.equal(code(() => parseContentRange(bad)), 'BLOB_UPLOAD_INVALID', bad);
    }
  });
});

describe('registry pagination', () => {
  const all = ['a', 'b', 'c', 'd', 'e'];
  const q = (s: string): URLSearchParams => new URLSearchParams(s);

  it('everything without n; n pages with a Link to the next; last skips past', () => {
    assert.deepEqual(paginate(all, q(''), '/p'), { items: all });
    assert.deepEqual(paginate(all, q('n=2'), '/p'), { items: ['a', 'b'], link: '</p?n=2&last=b>; rel="next"' });
    assert.deepEqual(paginate(all, q('n=2&last=b'), '/p'), { items: ['c', 'd'], link: '</p?n=2&last=d>; rel="next"' });
    assert.deepEqual(paginate(all, q('n=2&last=d'), '/p'), { items: ['e'] });
    assert.deepEqual(paginate(all, q('n=5'), '/p'), { items: all });
    assert.deepEqual(paginate(all, q('last=bb'), '/p'), { items: ['c', 'd', 'e'] });
    assert.deepEqual(paginate(all, q('n=0'), '/p'), { items: [] });
    assert.deepEqual(paginate(['a/b', 'c'], q('n=1'), '/v2/_catalog').link, '</v2/_catalog?n=1&last=a%2Fb>; rel="next"');
  });

  it('n that is not a count: PAGINATION_NUMBER_INVALID', () => {
    for (const n of ['-1', 'x', '1.5', '', '9999999999']) assert.equal(code(() => paginate(all, q(`n=${n}`), '/p')), 'PAGINATION_NUMBER_INVALID', n);
  });
});

describe('registry htpasswd', () => {
  const hash = bcrypt.hashSync('pw', 4);

  it('parses bcrypt lines, skips comments and blank lines, accepts $2a$/$2b$/$2y$', async () => {
    const text = `# users\n\nalice:${hash}\r\nbob:${hash.replace(/^\$2b\$/, '$2y$')}\ncarol:${hash.replace(/^\$2b\$/, '$2a$')}\n`;
    const h = Htpasswd.parse(text);
    for (const user of ['alice', 'bob', 'carol']) {
      assert.equal(await h.authenticate(`Basic ${Buffer.from(`${user}:pw`).toString('base64')}`), user);
    }
  });

  it('refuses malformed files, naming the line', () => {
    const cases: [string, RegExp][] = [
      [`alice:${hash}\nbob\n`, /line 2: want "user:bcrypt-hash"/],
      [`alice:$apr1$abc$def\n`, /line 1: .*bcrypt/],
      [`alice:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=\n`, /line 1/],
      [`:${hash}\n`, /line 1/],
      [`alice:${hash}\nalice:${hash}\n`, /line 2: user "alice" is already defined on line 1/],
      [`alice:${hash.replace('$04$', '$99$')}\n`, /line 1: bcrypt cost 99/],
      ['# nobody\n', /no users/],
    ];
    for (const [text, re] of cases) assert.throws(() => Htpasswd.parse(text, 'pw.txt'), re, text);
  });

  it('Basic credentials: wrong password, unknown user, malformed header → UNAUTHORIZED with a challenge', async () => {
    const h = Htpasswd.parse(`alice:${hash}\n`);
    for (const header of [undefined, 'Basic', 'Bearer x', `Basic ${Buffer.from('alice:no').toString('base64')}`, `Basic ${Buffer.from('bob:pw').toString('base64')}`, `Basic ${Buffer.from('nocolon').toString('base64')}`]) {
      await assert.rejects(h.authenticate(header), (err: unknown) => {
        assert.ok(err instanceof RegistryError);
        assert.equal(err.registryCode, 'UNAUTHORIZED');
        assert.equal(err.status, 401);
        assert.equal(err.headers['WWW-Authenticate'], 'Basic realm="berth-registry"');
        return true;
      });
    }
  });

  it('a password with a colon, and the cache: one bcrypt for repeated and concurrent checks', async () => {
    const h = Htpasswd.parse(`alice:${bcrypt.hashSync('p:w', 4)}\n`);
    const header = `Basic ${Buffer.from('alice:p:w').toString('base64')}`;
    assert.deepEqual(await Promise.all([h.authenticate(header), h.authenticate(header), h.authenticate(header)]), ['alice', 'alice', 'alice']);
    await h.authenticate(header);
    assert.equal(h.bcryptRuns, 1);
  });
});

describe('registry --addr', () => {
  it('host:port, [v6]:port, :port; port 0 allowed', () => {
    assert.deepEqual(parseAddr('127.0.0.1:5000'), { host: '127.0.0.1', port: 5000 });
    assert.deepEqual(parseAddr('localhost:0'), { host: 'localhost', port: 0 });
    assert.deepEqual(parseAddr('[::1]:5000'), { host: '::1', port: 5000 });
    assert.deepEqual(parseAddr(':5000'), { host: '0.0.0.0', port: 5000 });
    for (const bad of ['5000', 'host', 'host:', 'host:99999', '::1:5000', 'a:b']) assert.throws(() => parseAddr(bad), /--addr/, bad);
  });
});

describe('registry error bodies', () => {
  it('errorBody and parseErrorBody round-trip; junk yields []', () => {
    const err = registryError('MANIFEST_BLOB_UNKNOWN', 'blob unknown to registry', {
      detail: { digest: 'sha256:1' },
      more: [{ code: 'MANIFEST_BLOB_UNKNOWN', message: 'm', detail: { digest: 'sha256:2' } }],
    });
    const body = errorBody(err.entries());
    assert.deepEqual(JSON.parse(body), {
      errors: [
        { code: 'MANIFEST_BLOB_UNKNOWN', message: 'blob unknown to registry', detail: { digest: 'sha256:1' } },
        { code: 'MANIFEST_BLOB_UNKNOWN', message: 'm', detail: { digest: 'sha256:2' } },
      ],
    });
    assert.deepEqual(parseErrorBody(body), err.entries());
    assert.deepEqual(parseErrorBody('<html>'), []);
    assert.deepEqual(parseErrorBody('{"errors":"x"}'), []);
    assert.deepEqual(parseErrorBody('{"errors":[{"code":1},{"code":"X"}]}'), [{ code: 'X', message: '' }]);
  });
});

describe('registry LRU', () => {
  it('evicts least recently used past the byte budget; skips oversized values', () => {
    const lru = new ByteLru<Buffer>(10, 6);
    lru.set('a', Buffer.alloc(4));
    lru.set('b', Buffer.alloc(4));
    assert.ok(lru.get('a'));
    lru.set('c', Buffer.alloc(4));
    assert.equal(lru.get('b'), undefined);
    assert.ok(lru.get('a'));
    assert.ok(lru.get('c'));
    lru.set('big', Buffer.alloc(7));
    assert.equal(lru.get('big'), undefined);
    lru.delete('a');
    assert.equal(lru.get('a'), undefined);
  });
});
