// docker top (src/daemon/services/top.ts): moby's ps output parsing and argument checks, and
// the host's ps run against processes this test starts.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { parsePsOutput, top, validatePsArgs } from '../../src/daemon/services/top.js';
import { isBerthError } from '../../src/util/errors.js';

const PS_EF = `UID          PID    PPID  C STIME TTY          TIME CMD
root           1       0  0 10:00 ?        00:00:01 /sbin/init splash
root         100       1  0 10:01 ?        00:00:00 sleep 1000
root         101       1  0 10:01 ?        00:00:00 sh -c echo  two   spaces
`;

describe('docker top (top.ts)', () => {
  const children = [spawn('sleep', ['1000']), spawn('sleep', ['1001'])];
  after(() => {
    for (const c of children) c.kill('SIGKILL');
  });

  it('keeps the rows of the container\'s pids, the command joined into the last column', () => {
    const r = parsePsOutput(PS_EF, [100, 101]);
    assert.deepEqual(r.Titles, ['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD']);
    assert.deepEqual(r.Processes, [
      ['root', '100', '1', '0', '10:01', '?', '00:00:00', 'sleep 1000'],
      ['root', '101', '1', '0', '10:01', '?', '00:00:00', 'sh -c echo two spaces'],
    ]);
  });

  it('keeps thread rows ("-" as PID) after a process of the container only', () => {
    const out = 'PID TID CMD\n100 - sleep\n- 100 -\n200 - other\n- 200 -\n';
    assert.deepEqual(parsePsOutput(out, [100]).Processes, [['100', '-', 'sleep'], ['-', '100', '-']]);
  });

  it('fails with moby\'s messages without a PID column or with a PID that is not a number', () => {
    assert.throws(() => parsePsOutput('USER CMD\nroot x\n', [1]), { message: "Couldn't find PID field in ps output" });
    assert.throws(() => parsePsOutput('PID CMD\nabc x\n', [1]), { message: /^Unexpected pid 'abc'/ });
  });

  it('refuses renaming another column to PID', () => {
    assert.doesNotThrow(() => validatePsArgs('-o pid=PID,comm'));
    assert.throws(() => validatePsArgs('-o user=PID'), (err: unknown) => isBerthError(err, 'InvalidArgument') && err.message === 'specifying "user=PID" is not allowed');
  });

  it('runs the host\'s ps and lists exactly the given processes', async () => {
    const pids = children.map((c) => c.pid!);
    const r = await top(pids, '');
    assert.ok(r.Titles.includes('PID') && r.Titles.includes('CMD'));
    const pidColumn = r.Titles.indexOf('PID');
    assert.deepEqual(r.Processes.map((p) => Number(p[pidColumn])).sort(), [...pids].sort());
    assert.deepEqual(r.Processes.map((p) => p[p.length - 1]).sort(), ['sleep 1000', 'sleep 1001']);
    const custom = await top(pids, '-o pid,comm');
    assert.deepEqual(custom.Titles, ['PID', 'COMMAND']);
    assert.deepEqual(custom.Processes.map((p) => p[1]), ['sleep', 'sleep']);
  });

  it('reports ps\'s own complaint for arguments it rejects', async () => {
    await assert.rejects(top([children[0]!.pid!], '--no-such-option'), (err: unknown) => isBerthError(err, 'Internal') && /^ps: /.test(err.message));
  });
});
