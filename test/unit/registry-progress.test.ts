// Docker's JSON progress messages as dockerd writes them, byte for byte where it matters
// (field order, progressDetail presence, the bar, Go's escaping), plus the small pure
// helpers of the registry client: error wording, upload URLs, Content-Range checks.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import {
  ProgressThrottle,
  formatJSONMessage,
  humanSize,
  progressBar,
  progressMessage,
  pullMessages,
  pushMessages,
  shortId,
  statusMessage,
} from '../../src/registry/client/progress.js';
import { pullError, isTransient, unexpectedResponse } from '../../src/registry/client/errors.js';
import { parseErrorBody } from '../../src/registry/errors.js';
import { rangeMatches } from '../../src/registry/client/fetch-blob.js';
import { uploadUrl, withQuery } from '../../src/registry/client/blob-upload.js';
import { withSourceRepository, sourceRepositories, sourceLabelKey } from '../../src/registry/client/source-label.js';
import { Limiter, runAll } from '../../src/registry/client/limit.js';
import { parseReference } from '../../src/images/reference.js';
import type { RegistryResponse, RegistrySession } from '../../src/registry/client/types.js';
import { BerthError } from '../../src/util/errors.js';

const DIGEST = 'sha256:a3ed95caeb02ffe68cdd9fd84406680ae93d633cb16422d00e8a7c22955b46d4';

describe('progress messages', () => {
  it('status lines carry no progressDetail', () => {
    assert.deepEqual(pullMessages.pullingFrom('library/busybox', 'latest'), { status: 'Pulling from library/busybox', id: 'latest' });
    assert.equal(formatJSONMessage(pullMessages.pullingFrom('library/busybox', 'latest')), '{"status":"Pulling from library/busybox","id":"latest"}\r\n');
    assert.equal(formatJSONMessage(pullMessages.digest(DIGEST)), `{"status":"Digest: ${DIGEST}"}\r\n`);
    assert.equal(formatJSONMessage(pullMessages.downloadedNewer('busybox:latest')), '{"status":"Status: Downloaded newer image for busybox:latest"}\r\n');
    assert.equal(formatJSONMessage(pullMessages.upToDate('busybox:latest')), '{"status":"Status: Image is up to date for busybox:latest"}\r\n');
    assert.equal(formatJSONMessage(pushMessages.refersTo('localhost:5000/x')), '{"status":"The push refers to repository [localhost:5000/x]"}\r\n');
    assert.equal(formatJSONMessage(pushMessages.digest('latest', DIGEST, 527)), `{"status":"latest: digest: ${DIGEST} size: 527"}\r\n`);
  });

  it('layer updates carry an empty progressDetail and the short ID', () => {
    const id = shortId(DIGEST);
    assert.equal(id, 'a3ed95caeb02');
    for (const [m, status] of [
      [pullMessages.pullingFsLayer(id), 'Pulling fs layer'],
      [pullMessages.waiting(id), 'Waiting'],
      [pullMessages.verifying(id), 'Verifying Checksum'],
      [pullMessages.downloadComplete(id), 'Download complete'],
      [pullMessages.pullComplete(id), 'Pull complete'],
      [pullMessages.alreadyExists(id), 'Already exists'],
      [pushMessages.preparing(id), 'Preparing'],
      [pushMessages.waiting(id), 'Waiting'],
      [pushMessages.pushed(id), 'Pushed'],
      [pushMessages.alreadyExists(id), 'Layer already exists'],
      [pushMessages.mountedFrom(id, 'library/busybox'), 'Mounted from library/busybox'],
    ] as const) {
      assert.equal(formatJSONMessage(m), `{"status":"${status}","progressDetail":{},"id":"a3ed95caeb02"}\r\n`);
    }
  });

  it('downloads render a bar as dockerd does (width 200, Go escaping of >)', () => {
    const m = pullMessages.downloading('a3ed95caeb02', 1024, 2167);
    assert.deepEqual(m.progressDetail, { current: 1024, total: 2167 });
    assert.equal(m.progress, `[${'='.repeat(23)}>${' '.repeat(27)}]  1.024kB/2.167kB`);
    assert.equal(
      formatJSONMessage(m),
      `{"status":"Downloading","progressDetail":{"current":1024,"total":2167},"progress":"[${'='.repeat(23)}\\u003e${' '.repeat(27)}]  1.024kB/2.167kB","id":"a3ed95caeb02"}\r\n`,
    );
    const p = pushMessages.pushing('a3ed95caeb02', 2167, 2167);
    assert.equal(p.status, 'Pushing');
    assert.equal(p.progress, `[${'='.repeat(50)}>]  2.167kB/2.167kB`);
  });

  it('the push aux message', () => {
    assert.equal(formatJSONMessage(pushMessages.aux('latest', DIGEST, 527)), `{"progressDetail":{},"aux":{"Tag":"latest","Digest":"${DIGEST}","Size":527}}\r\n`);
  });

  it('errors and field order', () => {
    assert.equal(formatJSONMessage({ id: 'x', status: 'y', progressDetail: {} }), '{"status":"y","progressDetail":{},"id":"x"}\r\n');
    assert.deepEqual(progressMessage('', 'Extracting', 0, 0), { status: 'Extracting', progressDetail: {} });
    assert.deepEqual(statusMessage('a'), { status: 'a' });
  });

  it('humanSize is go-units HumanSize', () => {
    const cases: [number, string][] = [
      [0, '0B'],
      [1, '1B'],
      [999, '999B'],
      [1000, '1kB'],
      [1024, '1.024kB'],
      [1500, '1.5kB'],
      [10_000, '10kB'],
      [123_456, '123.5kB'],
      [999_999, '1000kB'],
      [2_167_000, '2.167MB'],
      [5 * 1000 ** 3, '5GB'],
    ];
    for (const [n, s] of cases) assert.equal(humanSize(n), s, String(n));
  });

  it('progress bars at the edges', () => {
    assert.equal(progressBar(0, 0), '');
    assert.equal(progressBar(0, 100), `[>${' '.repeat(50)}]       0B/100B`);
    assert.equal(progressBar(150, 100), `[${'='.repeat(50)}>]     150B`);
    assert.equal(progressBar(5, 0), '      5B');
    assert.equal(progressBar(50, 100, 80), '     50B/100B');
  });

  it('throttles to one update per interval, always passing the last', () => {
    let now = 0;
    const t = new ProgressThrottle(100, () => now);
    assert.equal(t.shouldEmit(1, 10), true);
    now = 50;
    assert.equal(t.shouldEmit(2, 10), false);
    now = 100;
    assert.equal(t.shouldEmit(3, 10), true);
    now = 101;
    assert.equal(t.shouldEmit(10, 10), true);
  });
});

function fakeResponse(status: number, body: string, headers: Record<string, string> = {}): RegistryResponse {
  const stream = new PassThrough();
  stream.end(body);
  return {
    status,
    headers,
    url: new URL('http://127.0.0.1:5000/v2/x/manifests/latest'),
    body: stream,
    text: async () => body,
    bytes: async () => Buffer.from(body),
    discard: () => stream.resume(),
  };
}

describe('registry errors', () => {
  const names = { familiarName: 'busybox', familiarRef: 'busybox:nope' };
  const body = (code: string, message: string): string => JSON.stringify({ errors: [{ code, message, detail: {} }] });

  it('words pull failures as dockerd does', async () => {
    let e = await pullError(fakeResponse(404, body('MANIFEST_UNKNOWN', 'manifest unknown')), names);
    assert.equal(e.code, 'NotFound');
    assert.equal(e.message, 'manifest for busybox:nope not found: manifest unknown: manifest unknown');
    e = await pullError(fakeResponse(404, body('NAME_UNKNOWN', 'repository name not known to registry')), names);
    assert.equal(e.message, 'repository busybox not found: name unknown: repository name not known to registry');
    e = await pullError(fakeResponse(403, body('DENIED', 'requested access to the resource is denied')), names);
    assert.equal(e.code, 'NotFound');
    assert.equal(e.message, "pull access denied for busybox, repository does not exist or may require 'docker login': denied: requested access to the resource is denied");
    e = await pullError(fakeResponse(401, '', { 'www-authenticate': 'Bearer realm="x",error="insufficient_scope"' }), names);
    assert.match(e.message, /^pull access denied for busybox, .*: denied: requested access to the resource is denied$/);
    e = await pullError(fakeResponse(401, ''), names);
    assert.equal(e.code, 'Unauthorized');
    assert.match(e.message, /^pull access denied for busybox, repository does not exist or may require 'docker login': unauthorized: authentication required$/);
    e = await pullError(fakeResponse(404, ''), names);
    assert.equal(e.message, 'manifest for busybox:nope not found: manifest unknown: manifest unknown');
    e = await pullError(fakeResponse(503, 'busy'), names);
    assert.equal(e.code, 'Unavailable');
    assert.equal(isTransient(e), true);
  });

  it('other failures keep the registry\'s words', async () => {
    const e = await unexpectedResponse('PUT', fakeResponse(400, body('MANIFEST_INVALID', 'manifest invalid')));
    assert.equal(e.code, 'InvalidArgument');
    assert.equal(e.message, 'manifest invalid: manifest invalid');
    assert.equal(isTransient(e), false);
    const bare = await unexpectedResponse('GET', fakeResponse(418, 'teapot'));
    assert.equal(bare.message, 'GET /v2/x/manifests/latest: received unexpected HTTP status: 418');
    assert.deepEqual(parseErrorBody('not json'), []);
    assert.equal(isTransient(new BerthError('Unavailable', 'reset')), true);
    assert.equal(isTransient(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })), true);
    assert.equal(isTransient(new TypeError('bug')), false);
  });
});

describe('upload URLs and ranges', () => {
  const session = { endpoint: { base: new URL('https://127.0.0.1:5000'), mirror: false }, registry: '127.0.0.1:5000' } as RegistrySession;
  const ctx = { session, ref: parseReference('127.0.0.1:5000/x') };
  const res = fakeResponse(202, '');

  it('keeps the registry\'s query when appending the digest', () => {
    assert.equal(withQuery('/v2/x/blobs/uploads/u?_state=a%3D%3D&b=1', 'digest', DIGEST), `/v2/x/blobs/uploads/u?_state=a%3D%3D&b=1&digest=sha256%3A${DIGEST.slice(7)}`);
    assert.equal(withQuery('/v2/x/blobs/uploads/u', 'digest', 'sha256:ab'), '/v2/x/blobs/uploads/u?digest=sha256%3Aab');
    assert.equal(withQuery('/u?', 'digest', 'd'), '/u?digest=d');
  });

  it('relative and absolute Locations', () => {
    assert.equal(uploadUrl(ctx, res, '/v2/x/blobs/uploads/u?_state=s'), '/v2/x/blobs/uploads/u?_state=s');
    assert.equal(uploadUrl(ctx, res, 'http://127.0.0.1:5000/v2/x/blobs/uploads/u?_state=s'), '/v2/x/blobs/uploads/u?_state=s');
    assert.equal(uploadUrl(ctx, res, 'https://storage.example/upload?sig=1'), 'https://storage.example/upload?sig=1');
    assert.equal(uploadUrl(ctx, res, 'u2?x=1'), '/v2/x/manifests/u2?x=1');
    assert.throws(() => uploadUrl(ctx, res, 'file:///etc/passwd'), /not HTTP/);
  });

  it('Content-Range must be exactly the rest of the blob', () => {
    assert.equal(rangeMatches('bytes 100-999/1000', 100, 1000), true);
    assert.equal(rangeMatches('bytes 100-999/*', 100, 1000), true);
    assert.equal(rangeMatches('bytes 0-999/1000', 100, 1000), false);
    assert.equal(rangeMatches('bytes 100-998/1000', 100, 1000), false);
    assert.equal(rangeMatches('bytes 100-999/1001', 100, 1000), false);
    assert.equal(rangeMatches(undefined, 100, 1000), false);
  });
});

describe('source labels and limits', () => {
  it('records repositories, most recent last, bounded', () => {
    assert.equal(withSourceRepository(undefined, 'a/b'), 'a/b');
    assert.equal(withSourceRepository('a/b,c/d', 'a/b'), 'c/d,a/b');
    const long = Array.from({ length: 400 }, (_, i) => `repo/number-${i}`).join(',');
    const v = withSourceRepository(long, 'new/one');
    assert.ok(Buffer.byteLength(v) <= 3072);
    assert.ok(v.endsWith(',new/one'));
    assert.deepEqual(sourceRepositories({ [sourceLabelKey('r:5000')]: 'a,b' }, 'r:5000'), ['a', 'b']);
  });

  it('the limiter runs at most N at once and says who waits', async () => {
    const limiter = new Limiter(2);
    let active = 0;
    let peak = 0;
    const waited: number[] = [];
    await Promise.all(
      [0, 1, 2, 3].map((i) =>
        limiter.run(
          async () => {
            peak = Math.max(peak, ++active);
            await new Promise((r) => setTimeout(r, 5));
            active--;
          },
          () => waited.push(i),
        ),
      ),
    );
    assert.equal(peak, 2);
    assert.deepEqual(waited, [2, 3]);
  });

  it('runAll reports the first failure and aborts the rest', async () => {
    let aborted = false;
    await assert.rejects(
      runAll([
        async () => {
          throw new Error('first');
        },
        (signal) =>
          new Promise((_, reject) =>
            signal.addEventListener('abort', () => {
              aborted = true;
              reject(new Error('aborted'));
            }),
          ),
      ]),
      /first/,
    );
    assert.equal(aborted, true);
  });
});
