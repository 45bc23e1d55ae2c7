// Records docker's answers to the read-only command cases into cli-read-docker-golden.json:
//   node dist/test/unit/cli-read-record-golden.js [/usr/local/bin/docker]
// (docker 28.2.2 recorded the committed file). Not a test: it needs a docker CLI binary.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeEngine } from './cli-read-fake-engine.js';
import { readRoutes } from './cli-read-engine-routes.js';
import { READ_CASES, caseName } from './cli-read-cases.js';

// Only when run on purpose (a test runner that loads every file must not rewrite the golden file).
if (!process.argv[1]?.endsWith('cli-read-record-golden.js')) process.exit(0);
const docker = process.argv[2] ?? '/usr/local/bin/docker';
const config = mkdtempSync(join(tmpdir(), 'berth-docker-config-'));
const engine = await startFakeEngine(readRoutes(Math.floor(Date.now() / 1000)));
const golden: { case: string; stdout: string; stderr: string; code: number | null }[] = [];
try {
  for (const c of READ_CASES) {
    const result = await new Promise<{ stdout: string; stderr: string; code: number | null }>((resolve) => {
      const child = spawn(docker, ['-H', engine.host, ...c.words, ...c.argv], {
        env: { PATH: process.env['PATH'] ?? '', HOME: config, TZ: 'UTC', DOCKER_CONFIG: config },
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (x: Buffer) => (stdout += x.toString()));
      child.stderr.on('data', (x: Buffer) => (stderr += x.toString()));
      child.stdin.end(c.stdin ?? '');
      child.on('close', (code) => resolve({ stdout, stderr, code }));
    });
    if (c.from) result.stdout = result.stdout.slice(result.stdout.indexOf(c.from));
    golden.push({ case: caseName(c), ...result });
  }
  writeFileSync(new URL('../../../test/unit/cli-read-docker-golden.json', import.meta.url), JSON.stringify(golden, null, 2) + '\n');
} finally {
  await engine.close();
  rmSync(config, { recursive: true, force: true });
}
