// The Engine API's output framing and routing: multiplexed frames, log timestamps, the
// hijack response head, the route table and its error statuses.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MuxDecoder, StdStream, fixedNanoTimestamp, forEachUntilAborted, muxFrame } from '../../src/api/streams.js';
import { hijackContentType, hijackHead, outputGapFor } from '../../src/api/hijack.js';
import { matchRoute, route, splitVersion } from '../../src/api/router.js';
import { statusForError } from '../../src/api/http-errors.js';
import { BerthError, conflict, forbidden, internal, invalidArgument, notFound, unauthorized, unavailable, type ErrorCode } from '../../src/util/errors.js';

describe('multiplexed stream frames', () => {
  it('writes the 8-byte header: stream, three zeros, big-endian length', () => {
    const frame = muxFrame(StdStream.Stderr, Buffer.from('oops\n'));
    assert.deepEqual([...frame.subarray(0, 8)], [2, 0, 0, 0, 0, 0, 0, 5]);
    assert.equal(frame.subarray(8).toString(), 'oops\n');
    assert.deepEqual([...muxFrame(StdStream.Stdout, Buffer.alloc(300)).subarray(0, 8)], [1, 0, 0, 0, 0, 0, 1, 44]);
  });

  it('decodes frames split anywhere across chunks', () => {
    const bytes = Buffer.concat([muxFrame(StdStream.Stdout, Buffer.from('hello')), muxFrame(StdStream.Stderr, Buffer.from('world!'))]);
    const decoder = new MuxDecoder();
    const frames = [];
    for (let i = 0; i < bytes.length; i += 3) frames.push(...decoder.push(bytes.subarray(i, i + 3)));
    assert.deepEqual(frames.map((f) => [f.stream, f.payload.toString()]), [[1, 'hello'], [2, 'world!']]);
    assert.equal(decoder.leftover, 0);
  });
});

describe('log timestamps', () => {
  it('pads or cuts the fraction to nine digits as docker logs -t prints it', () => {
    assert.equal(fixedNanoTimestamp('2026-01-02T03:04:05.5Z'), '2026-01-02T03:04:05.500000000Z');
    assert.equal(fixedNanoTimestamp('2026-01-02T03:04:05Z'), '2026-01-02T03:04:05.000000000Z');
    assert.equal(fixedNanoTimestamp('2026-01-02T03:04:05.1234567891Z'), '2026-01-02T03:04:05.123456789Z');
    assert.equal(fixedNanoTimestamp('2026-01-02T03:04:05.25+02:00'), '2026-01-02T03:04:05.250000000+02:00');
  });
});

describe('hijack response head', () => {
  it('answers 101 UPGRADED with Docker\'s headers, or a plain 200 for clients that did not ask', () => {
    assert.equal(hijackHead(true, 'application/vnd.docker.raw-stream', { 'Api-Version': '1.47' }),
      'HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nApi-Version: 1.47\r\n\r\n');
    assert.equal(hijackHead(false, 'application/vnd.docker.raw-stream', {}), 'HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.raw-stream\r\n\r\n');
  });

  it('labels a multiplexed stream only for upgraded non-tty streams at API 1.42+', () => {
    assert.equal(hijackContentType(true, false, '1.47'), 'application/vnd.docker.multiplexed-stream');
    assert.equal(hijackContentType(true, false, '1.41'), 'application/vnd.docker.raw-stream');
    assert.equal(hijackContentType(true, true, '1.47'), 'application/vnd.docker.raw-stream');
    assert.equal(hijackContentType(false, false, '1.47'), 'application/vnd.docker.raw-stream');
  });
});

describe('docker-py output gap', () => {
  it('holds output back only for docker-py, whose reader loses bytes that come with the head', () => {
    assert.ok(outputGapFor('docker-sdk-python/7.1.0') > 0);
    assert.equal(outputGapFor('Docker-Client/20.10.24+dfsg1 (linux)'), 0);
    assert.equal(outputGapFor(undefined), 0);
  });
});

describe('routing', () => {
  const noop = async (): Promise<void> => undefined;
  const routes = [
    route('GET', '/images/json', noop),
    route('GET', '/images/{name:.*}/json', noop),
    route('DELETE', '/images/{name:.*}', noop),
    route('GET', '/exec/{id}/json', noop),
  ];

  it('splits the version prefix off', () => {
    assert.deepEqual(splitVersion('/v1.41/containers/json'), { version: '1.41', path: '/containers/json' });
    assert.deepEqual(splitVersion('/containers/json'), { path: '/containers/json' });
    assert.deepEqual(splitVersion('/v1/x'), { version: '1', path: '/x' });
  });

  it('matches greedy names with slashes, first registered route first', () => {
    assert.equal(matchRoute(routes, 'GET', '/images/json')?.route.pattern, '/images/json');
    assert.deepEqual(matchRoute(routes, 'GET', '/images/localhost:5000/a/b:1/json')?.params, { name: 'localhost:5000/a/b:1' });
    assert.deepEqual(matchRoute(routes, 'DELETE', '/images/a/b')?.params, { name: 'a/b' });
    assert.equal(matchRoute(routes, 'GET', '/exec/a/b/json'), undefined);
  });

  it('does not match another method on a known path (moby answers 404 there too)', () => {
    assert.equal(matchRoute(routes, 'POST', '/images/json'), undefined);
  });
});

describe('error statuses', () => {
  it('maps each error code to moby\'s status', () => {
    assert.equal(statusForError(notFound('x')), 404);
    assert.equal(statusForError(conflict('x')), 409);
    assert.equal(statusForError(invalidArgument('x')), 400);
    assert.equal(statusForError(unauthorized('x')), 401);
    assert.equal(statusForError(forbidden('x')), 403);
    assert.equal(statusForError(unavailable('x')), 503);
    assert.equal(statusForError(internal('x')), 500);
    assert.equal(statusForError(new BerthError('NotModified' as ErrorCode, 'x')), 304);
    assert.equal(statusForError(Object.assign(new Error('already started'), { notModified: true })), 304);
    assert.equal(statusForError(new TypeError('x')), 500);
    assert.equal(statusForError('a string'), 500);
  });
});

describe('iteration that stops when the client leaves', () => {
  it('returns at once on abort, even while next() is pending, and calls return()', async () => {
    let returned = false;
    const iterable: AsyncIterable<number> = {
      [Symbol.asyncIterator]: () => ({
        next: () => new Promise<IteratorResult<number>>(() => undefined),
        return: async () => {
          returned = true;
          return { done: true, value: undefined };
        },
      }),
    };
    const controller = new AbortController();
    const done = forEachUntilAborted(iterable, controller.signal, () => undefined);
    controller.abort();
    await done;
    assert.equal(returned, true);
  });
});
