// OCI runtime-tools conformance: berth-runtime must pass every validation
// program of opencontainers/runtime-tools that runc passes on this machine.
// Both runtimes run in the same test, through scripts/conformance/run.sh (which
// builds the suite first, offline, from the vendored source tarball).
//
// By hand: bash scripts/conformance/run.sh --runtime /usr/sbin/runc --runtime $PWD/bin/berth-runtime.js
//
// Environment knobs: BERTH_CONFORMANCE_TARBALL (source tarball),
// BERTH_CONFORMANCE_DIR (build/cache dir, default build/conformance),
// BERTH_CONFORMANCE_REFERENCE (default /usr/sbin/runc),
// BERTH_CONFORMANCE_TIMEOUT (per program, default 60 s),
// BERTH_CONFORMANCE_BUDGET (per runtime, default 300 s).
import { test, type TestContext } from 'node:test';
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = findRoot();
const runScript = path.join(root, 'scripts', 'conformance', 'run.sh');
const tarball = process.env.BERTH_CONFORMANCE_TARBALL ?? path.join(root, '..', 'shared', 'conformance', 'runtime-tools-260e151.tar.gz');
const reference = process.env.BERTH_CONFORMANCE_REFERENCE ?? '/usr/sbin/runc';
const berthRuntime = path.join(root, 'bin', 'berth-runtime.js');
const perProgramTimeout = Number(process.env.BERTH_CONFORMANCE_TIMEOUT ?? 60);
const budget = Number(process.env.BERTH_CONFORMANCE_BUDGET ?? 300);

function findRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(path.join(dir, 'scripts', 'conformance', 'run.sh')))
      return dir;
    const up = path.dirname(dir);
    if (up === dir) throw new Error('cannot find the berth repository root (scripts/conformance/run.sh)');
    dir = up;
  }
}

function skipReason(): string | undefined {
  if (!fs.existsSync(tarball))
    return `runtime-tools source tarball not found at ${tarball} (set BERTH_CONFORMANCE_TARBALL)`;
  if (process.getuid?.() !== 0) return 'needs root: the validation suite creates containers, mounts and cgroups';
  if (!fs.existsSync(reference)) return `reference runtime ${reference} is not installed`;
  return undefined;
}

type Status = 'pass' | 'fail' | 'timeout';
type Results = Record<string, Record<string, Status>>;

interface RunOutcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

// Runs run.sh; its progress (stderr) is forwarded so a CI log shows it live.
function runSuite(args: string[]): Promise<RunOutcome> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [runScript, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      process.stderr.write(d);
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function passed(results: Record<string, Status>): string[] {
  return Object.keys(results).filter((p) => results[p] === 'pass');
}

// program -> note, from run.sh's per-runtime summary.tsv (for failure messages)
function notes(runtimeName: string): Map<string, string> {
  const dir = process.env.BERTH_CONFORMANCE_DIR ?? path.join(root, 'build', 'conformance');
  const file = path.join(dir, 'results', runtimeName, 'summary.tsv');
  const m = new Map<string, string>();
  if (!fs.existsSync(file)) return m;
  for (const line of fs.readFileSync(file, 'utf8').split('\n').slice(1)) {
    const [prog, status, secs, note] = line.split('\t');
    if (prog) m.set(prog, `${status} ${secs}: ${note ?? ''}`);
  }
  return m;
}

const reason = skipReason();

test(
  'berth-runtime passes every runtime-tools validation program that runc passes',
  { skip: reason ?? false, timeout: 30 * 60_000 },
  async (t: TestContext) => {
    const haveBerth = fs.existsSync(berthRuntime);
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-conformance-test-'));
    try {
      const jsonFile = path.join(tmp, 'results.json');
      const args = ['--runtime', reference];
      if (haveBerth) args.push('--runtime', berthRuntime);
      args.push(
        '--json', jsonFile,
        '--timeout', String(perProgramTimeout),
        '--budget', String(budget),
        '--retries', '2',
      );
      const started = Date.now();
      const out = await runSuite(args);
      t.diagnostic(`run.sh finished in ${((Date.now() - started) / 1000).toFixed(1)}s with exit code ${out.code}`);
      // 0: ran, no regressions; 1: ran, regressions (judged below); else: harness error.
      const tail = out.stderr.split('\n').slice(-30).join('\n');
      assert.ok(out.code === 0 || out.code === 1, `scripts/conformance/run.sh failed (exit ${out.code}):\n${tail}`);
      assert.ok(fs.existsSync(jsonFile), `scripts/conformance/run.sh wrote no results (exit ${out.code}):\n${tail}`);
      const results = JSON.parse(fs.readFileSync(jsonFile, 'utf8')) as Results;
      const names = Object.keys(results);
      const refName = names[0]!;
      const refResults = results[refName]!;
      const total = Object.keys(refResults).length;
      const refPassed = passed(refResults);
      t.diagnostic(`${refName}: ${refPassed.length}/${total} programs passed`);

      assert.ok(haveBerth, `${berthRuntime} does not exist, so nothing could be compared with ${refName}`);
      const berthName = names[1]!;
      const berthResults = results[berthName]!;
      const berthPassed = passed(berthResults);
      t.diagnostic(`${berthName}: ${berthPassed.length}/${total} programs passed`);
      // run.sh's own summary lines: "<runtime>: N/58 programs passed (time)", racy programs
      for (const line of out.stdout.split('\n'))
        if (/^\S+: \d+\/\d+ programs passed/.test(line) || line.startsWith('racy')) t.diagnostic(line);

      const missing = refPassed.filter((p) => berthResults[p] !== 'pass');
      const why = notes(berthName);
      assert.deepEqual(
        missing,
        [],
        `${berthName} fails ${missing.length} program(s) that ${refName} passes:\n` +
          missing.map((p) => `  ${p}: ${why.get(p) ?? berthResults[p]}`).join('\n') +
          `\n(TAP and stderr per program: build/conformance/results/${berthName}/)`,
      );
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  },
);
