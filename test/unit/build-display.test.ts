// berth build's rendering of the classic builder's stream (src/cli/format/build-progress.ts).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { BuildDisplay } from '../../src/cli/format/build-progress.js';
import { JSONMessageError } from '../../src/cli/format/progress.js';
import type { JSONMessage } from '../../src/oci/engine-api.js';

async function* messages(list: JSONMessage[]): AsyncGenerator<JSONMessage> {
  for (const m of list) yield m;
}

function sink(): { out: PassThrough; text: () => string } {
  const out = new PassThrough();
  let text = '';
  out.on('data', (d: Buffer) => (text += d.toString()));
  return { out, text: () => text };
}

const STREAM: JSONMessage[] = [
  { stream: 'Step 1/3 : FROM busybox\n' },
  { stream: ' ---> 0123456789ab\n' },
  { stream: 'Step 2/3 : COPY . /app\n' },
  { stream: ' ---> Using cache\n ---> 1123456789ab\n' },
  { stream: 'Step 3/3 : RUN make\n' },
  { stream: ' ---> Running in 2223456789ab\n' },
  // Output may arrive split mid-line.
  { stream: 'compil' },
  { stream: 'ing\ndone\n' },
  { stream: 'Removing intermediate container 2223456789ab\n ---> 3323456789ab\n' },
  { aux: { ID: 'sha256:33' } },
  { stream: 'Successfully built 3323456789ab\n' },
];

describe('BuildDisplay', () => {
  it('plain: one numbered line per step, its output prefixed, CACHED or DONE', async () => {
    const s = sink();
    const result = await new BuildDisplay(s.out, false).consume(messages(STREAM));
    assert.equal(result.imageId, 'sha256:33');
    const lines = s.text().split('\n').filter(Boolean);
    assert.deepEqual(lines.map((l) => l.replace(/DONE \d+\.\ds/, 'DONE t')), [
      '#1 [1/3] FROM busybox', '#1 DONE t',
      '#2 [2/3] COPY . /app', '#2 CACHED',
      '#3 [3/3] RUN make', '#3 compiling', '#3 done', '#3 DONE t',
    ]);
  });

  it('an errorDetail ends the display with that message and exit code, marking the step', async () => {
    const s = sink();
    const failing: JSONMessage[] = [
      { stream: 'Step 1/2 : FROM busybox\n ---> 01\nStep 2/2 : RUN false\n ---> Running in 02\n' },
      { errorDetail: { code: 1, message: "The command '/bin/sh -c false' returned a non-zero code: 1" }, error: 'x' },
    ];
    await assert.rejects(new BuildDisplay(s.out, false).consume(messages(failing)), (err: unknown) => {
      assert.ok(err instanceof JSONMessageError);
      assert.equal(err.errorCode, 1);
      assert.match(err.message, /returned a non-zero code: 1/);
      return true;
    });
    assert.match(s.text(), /#2 ERROR/);
  });

  it('tty: redraws in place, finished steps collapsed to one line with CACHED or a time', async () => {
    const s = sink();
    await new BuildDisplay(s.out, true, 60).consume(messages(STREAM));
    const text = s.text();
    const last = text.slice(text.lastIndexOf('[+] Building'));
    assert.match(last, /^\[\+\] Building \d+\.\ds \(3\/3\) FINISHED/);
    assert.match(last, / => CACHED \[2\/3\] COPY \. \/app +CACHED/);
    assert.match(last, / => \[3\/3\] RUN make +\d+\.\ds/);
    assert.doesNotMatch(last, /compiling/, 'a finished step shows no output');
    assert.ok(text.includes('\x1b[2K'), 'lines are cleared as they are redrawn');
    for (const line of last.split('\n')) assert.ok(line.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '').length <= 60, `fits 60 columns: ${line}`);
  });
});
