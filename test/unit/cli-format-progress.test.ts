// Progress streams rendered as moby's pkg/jsonmessage does; cases from its jsonmessage_test.go
// (TestProgressString, TestDisplayJSONMessagesStream) and a pull recorded from docker 28.2.2.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import type { JSONMessage } from '../../src/oci/engine-api.js';
import { JSONMessageError, displayJSONMessages, progressString, type WireJSONMessage } from '../../src/cli/format/progress.js';

async function render(messages: WireJSONMessage[], isTerminal: boolean, width = 200): Promise<string> {
  const out = new PassThrough();
  let text = '';
  out.on('data', (c: Buffer) => (text += c.toString()));
  async function* stream(): AsyncGenerator<JSONMessage> {
    yield* messages;
  }
  await displayJSONMessages(stream(), out, isTerminal, { width });
  return text;
}

test('TestProgressString: bars only on wide terminals, counts, units, time left', () => {
  const start = Date.UTC(2017, 11, 3, 15, 10, 1) / 1000;
  const after1s = (start + 1) * 1000;
  const cases: [WireJSONMessage['progressDetail'] & object, string, string][] = [
    [{}, '', ''],
    [{ current: 1 }, '      1B', '      1B'],
    [{ current: 20, total: 100, start }, '     20B/100B 4s', '[==========>                                        ]      20B/100B 4s'],
    [{ current: 50, total: 100 }, '     50B/100B', '[=========================>                         ]      50B/100B'],
    [{ current: 50, total: 40 }, '     50B', '[==================================================>]      50B'],
    [{ current: 50, total: 100, units: 'units' }, '50/100 units', '[=========================>                         ] 50/100 units'],
    [{ current: 50, total: 40, units: 'units' }, '50 units', '[==================================================>] 50 units'],
    [{ current: 50, total: 100, hidecounts: true }, '', '[=========================>                         ] '],
  ];
  for (const [p, short, long] of cases) {
    assert.equal(progressString(p, 100, after1s), short, JSON.stringify(p));
    assert.equal(progressString(p, 200, after1s), long, JSON.stringify(p));
  }
});

test('TestDisplayJSONMessagesStream: with and without a terminal', async () => {
  const cases: [WireJSONMessage, string, string][] = [
    [{ status: 'status' }, 'status\n', 'status\n'],
    [{ id: 'ID', status: 'status' }, 'ID: status\n', 'ID: status\n'],
    [{ id: 'ID', status: 'status', progress: 'ProgressMessage' }, 'ID: status ProgressMessage', '\n\x1b[1AID: status ProgressMessage\x1b[1B'],
    [{ id: 'ID', status: 'status', progressDetail: { current: 1 } }, '', '\n\x1b[1A\x1b[2K\rID: status       1B\r\x1b[1B'],
  ];
  for (const [message, plain, terminal] of cases) {
    assert.equal(await render([message], false), plain, JSON.stringify(message));
    assert.equal(await render([message], true), terminal, JSON.stringify(message));
  }
});

const PULL: WireJSONMessage[] = [
  { status: 'Pulling from library/busybox', id: 'latest' },
  { status: 'Pulling fs layer', progressDetail: {}, id: 'aaa111' },
  { status: 'Pulling fs layer', progressDetail: {}, id: 'bbb222' },
  { status: 'Downloading', progressDetail: { current: 1000, total: 2000000 }, progress: '[>   ]  1kB/2MB', id: 'aaa111' },
  { status: 'Downloading', progressDetail: { current: 1500000, total: 2000000 }, progress: '[==> ]  1.5MB/2MB', id: 'aaa111' },
  { status: 'Download complete', progressDetail: {}, id: 'aaa111' },
  { status: 'Pull complete', progressDetail: {}, id: 'aaa111' },
  { status: 'Already exists', progressDetail: {}, id: 'bbb222' },
  { status: 'Digest: sha256:abcdef' },
  { status: 'Status: Downloaded newer image for busybox:latest' },
];

test('a pull as docker pull prints it, piped and on a 150-column terminal', async () => {
  assert.equal(
    await render(PULL, false),
    'latest: Pulling from library/busybox\naaa111: Pulling fs layer\nbbb222: Pulling fs layer\naaa111: Download complete\naaa111: Pull complete\nbbb222: Already exists\nDigest: sha256:abcdef\nStatus: Downloaded newer image for busybox:latest\n',
  );
  assert.equal(
    await render(PULL, true, 150),
    'latest: Pulling from library/busybox\n' +
      '\n\x1b[1A\x1b[2K\raaa111: Pulling fs layer \r\x1b[1B' +
      '\n\x1b[1A\x1b[2K\rbbb222: Pulling fs layer \r\x1b[1B' +
      '\x1b[2A\x1b[2K\raaa111: Downloading [>                                                  ]      1kB/2MB\r\x1b[2B' +
      '\x1b[2A\x1b[2K\raaa111: Downloading [=====================================>             ]    1.5MB/2MB\r\x1b[2B' +
      '\x1b[2A\x1b[2K\raaa111: Download complete \r\x1b[2B' +
      '\x1b[2A\x1b[2K\raaa111: Pull complete \r\x1b[2B' +
      '\x1b[1A\x1b[2K\rbbb222: Already exists \r\x1b[1B' +
      'Digest: sha256:abcdef\nStatus: Downloaded newer image for busybox:latest\n',
  );
});

test('an error message ends the stream with its message; aux messages go to the callback', async () => {
  const out = new PassThrough();
  let text = '';
  out.on('data', (c: Buffer) => (text += c.toString()));
  const aux: unknown[] = [];
  async function* stream(): AsyncGenerator<JSONMessage> {
    yield { status: 'The push refers to repository [localhost:5000/x]' };
    yield { aux: { Tag: 'latest', Digest: 'sha256:1', Size: 1 } };
    yield { errorDetail: { message: 'unauthorized: authentication required' }, error: 'unauthorized: authentication required' };
    yield { status: 'never shown' };
  }
  await assert.rejects(displayJSONMessages(stream(), out, false, { onAux: (m) => aux.push(m.aux) }), (err: unknown) => {
    assert.ok(err instanceof JSONMessageError);
    assert.equal(err.message, 'unauthorized: authentication required');
    return true;
  });
  assert.equal(text, 'The push refers to repository [localhost:5000/x]\n');
  assert.deepEqual(aux, [{ Tag: 'latest', Digest: 'sha256:1', Size: 1 }]);
});
