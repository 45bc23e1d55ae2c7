// berth's read-only commands print what docker 28.2.2 prints: each case of cli-read-cases.ts
// runs against a fake Engine API on a temporary unix socket, and its stdout, stderr and exit
// status are compared with docker's, recorded against the same answers in
// cli-read-docker-golden.json. Times in the fixtures are relative to now, so "5 minutes ago"
// reads the same whenever the test runs.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startFakeEngine, type FakeEngine } from './cli-read-fake-engine.js';
import { readRoutes } from './cli-read-engine-routes.js';
import { READ_CASES, caseName } from './cli-read-cases.js';
import { runBerth } from './cli-read-harness.js';
import type { CommandDef } from '../../src/cli/command.js';

interface Golden {
  case: string;
  stdout: string;
  stderr: string;
  code: number;
}

const golden = JSON.parse(readFileSync(new URL('../../../test/unit/cli-read-docker-golden.json', import.meta.url), 'utf8')) as Golden[];
let engine: FakeEngine;
const savedTz = process.env['TZ'];

before(async () => {
  // docker's answers were recorded with TZ=UTC (the event times are local times).
  process.env['TZ'] = 'UTC';
  engine = await startFakeEngine(readRoutes(Math.floor(Date.now() / 1000)));
});

after(async () => {
  await engine.close();
  if (savedTz === undefined) delete process.env['TZ'];
  else process.env['TZ'] = savedTz;
});

for (const c of READ_CASES) {
  const name = caseName(c);
  test(`berth ${name} prints what docker prints`, async () => {
    const expected = golden.find((g) => g.case === name);
    assert.ok(expected, `no docker output recorded for "${name}"`);
    const mod = (await import(`../../src/cli/commands/${c.module}.js`)) as Record<string, CommandDef>;
    const def = mod[c.command] as CommandDef;
    const got = await runBerth(def, c.argv, engine.host, c.stdin ?? '');
    const stdout = c.from ? got.stdout.slice(got.stdout.indexOf(c.from)) : got.stdout;
    assert.equal(stdout, expected.stdout);
    assert.equal(got.stderr, expected.stderr);
    assert.equal(got.code, expected.code);
  });
}
