// The Engine API's stream encodings: multiplexed stdio frames and JSON message streams,
// decoded whatever the chunking.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StdStream, decodeJsonStream, demuxFrames, demuxTo, encodeFrame } from '../../src/client/index.js';

async function* chunks(buf: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
}

test('frames split anywhere — inside headers and payloads — decode the same', async () => {
  const stream = Buffer.concat([encodeFrame(StdStream.Stdout, 'hello\n'), encodeFrame(StdStream.Stderr, ''), encodeFrame(StdStream.Stderr, 'oops'), encodeFrame(StdStream.Stdout, 'x'.repeat(70000))]);
  for (const size of [1, 3, 8, 9, 65536]) {
    const got = [];
    for await (const f of demuxFrames(chunks(stream, size))) got.push([f.stream, f.data.length, f.data.toString().slice(0, 6)]);
    assert.deepEqual(got, [[1, 6, 'hello\n'], [2, 0, ''], [2, 4, 'oops'], [1, 70000, 'xxxxxx']], `chunk size ${size}`);
  }
});

test('a stream cut inside a frame is an error, not silent loss', async () => {
  const cut = encodeFrame(StdStream.Stdout, 'abcdef').subarray(0, 10);
  await assert.rejects(async () => {
    for await (const _ of demuxFrames(chunks(cut, 4))) void _;
  }, /unexpected EOF/);
});

test('demuxTo routes stdout and stderr; a system error frame ends with its message', async () => {
  const out: string[] = [];
  const err: string[] = [];
  const sink = (to: string[]) => ({ write: (d: Buffer, cb?: () => void) => (to.push(d.toString()), cb?.(), true) }) as unknown as NodeJS.WritableStream;
  await demuxTo(chunks(Buffer.concat([encodeFrame(1, 'o1'), encodeFrame(2, 'e1'), encodeFrame(1, 'o2')]), 5), sink(out), sink(err));
  assert.deepEqual(out, ['o1', 'o2']);
  assert.deepEqual(err, ['e1']);
  await assert.rejects(demuxTo(chunks(encodeFrame(StdStream.Systemerr, 'boom'), 64), sink(out), sink(err)), { message: 'Error from daemon in stream: boom' });
});

test('JSON documents split across chunks, back to back, or CRLF-separated', async () => {
  const text = Buffer.from('{"a":"x}y\\"{"}\r\n{"b":[1,{"c":2}]}{"d":3}\n\n');
  for (const size of [1, 2, 7, 100]) {
    const docs = [];
    for await (const d of decodeJsonStream(chunks(text, size))) docs.push(d);
    assert.deepEqual(docs, [{ a: 'x}y"{' }, { b: [1, { c: 2 }] }, { d: 3 }], `chunk size ${size}`);
  }
});
