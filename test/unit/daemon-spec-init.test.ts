// berth-init (native/init/init.c), run directly on the host: it must behave as tini/docker-init does
// for `docker run --init` — the program's exit status, 128+n for a signal, signals forwarded, and
// orphans reaped (outside a pid namespace it is a child subreaper, so orphans come to it here too).
import * as assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { once } from 'node:events';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import { REPO } from '../helpers/runtime.js';

const INIT = join(REPO, 'build/native/berth-init');
const skip = existsSync(INIT) ? false : 'build/native/berth-init is not built (make -C native)';

interface Exit { code: number | null; signal: NodeJS.Signals | null }

function start(args: string[]): { child: ChildProcess; exited: Promise<Exit>; lines: AsyncIterator<string> } {
  const child = spawn(INIT, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = once(child, 'exit').then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null }));
  return { child, exited, lines: readLines(child) };
}

async function* lineGenerator(child: ChildProcess): AsyncGenerator<string> {
  let buffered = '';
  for await (const chunk of child.stdout!) {
    buffered += String(chunk);
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      yield buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
    }
  }
}

function readLines(child: ChildProcess): AsyncIterator<string> {
  return lineGenerator(child)[Symbol.asyncIterator]();
}

async function nextLine(lines: AsyncIterator<string>): Promise<string> {
  const { value, done } = await lines.next();
  assert.ok(!done, 'berth-init\'s program ended before printing');
  return value;
}

/** Stops what a test started, whatever happened: the init (its program follows: it is our child's group). */
function stop(child: ChildProcess): void {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

test('the program\'s exit status is berth-init\'s', { skip }, async () => {
  assert.deepEqual(await start(['--', 'sh', '-c', 'exit 7']).exited, { code: 7, signal: null });
  assert.deepEqual(await start(['sh', '-c', 'exit 0']).exited, { code: 0, signal: null });
});

test('a program killed by signal n gives 128+n', { skip }, async () => {
  assert.deepEqual(await start(['--', 'sh', '-c', 'kill -KILL $$']).exited, { code: 137, signal: null });
});

test('a program that cannot be run gives 127, bad usage 2', { skip }, async () => {
  assert.deepEqual(await start(['--', '/nonexistent/program']).exited, { code: 127, signal: null });
  assert.deepEqual(await start([]).exited, { code: 2, signal: null });
});

test('signals sent to berth-init reach the program', { skip }, async () => {
  const trapped = start(['--', 'sh', '-c', 'trap "exit 42" USR1; echo ready; while :; do sleep 0.05; done']);
  try {
    assert.equal(await nextLine(trapped.lines), 'ready');
    trapped.child.kill('SIGUSR1');
    assert.deepEqual(await trapped.exited, { code: 42, signal: null });
  } finally {
    stop(trapped.child);
  }
  const plain = start(['--', 'sh', '-c', 'echo ready; exec sleep 100']);
  try {
    assert.equal(await nextLine(plain.lines), 'ready');
    plain.child.kill('SIGTERM');
    assert.deepEqual(await plain.exited, { code: 143, signal: null });
  } finally {
    stop(plain.child);
  }
});

function procStatus(pid: number): { ppid: number; state: string } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8');
    return { ppid: Number(/^PPid:\s+(\d+)/m.exec(text)?.[1]), state: /^State:\s+(\S)/m.exec(text)?.[1] ?? '?' };
  } catch {
    return undefined;
  }
}

test('an orphan is re-parented to berth-init and reaped when it exits', { skip }, async () => {
  // The inner shell starts a sleeper and exits at once: the sleeper is orphaned while the program runs on.
  const run = start(['--', 'sh', '-c', 'sh -c "sleep 0.5 & echo \\$!"; echo ready; exec sleep 100']);
  try {
    const orphan = Number(await nextLine(run.lines));
    assert.equal(await nextLine(run.lines), 'ready');
    const status = procStatus(orphan);
    assert.ok(status === undefined || status.ppid === run.child.pid, `the orphan's parent is ${status?.ppid}, not berth-init`);
    // Reaped means gone from /proc; an unreaped orphan would stay a zombie ('Z') for as long as berth-init lives.
    for (let i = 0; i < 200 && procStatus(orphan) !== undefined; i++) await sleep(50);
    assert.equal(procStatus(orphan), undefined, `orphan ${orphan} was not reaped (state ${procStatus(orphan)?.state})`);
    run.child.kill('SIGTERM');
    assert.deepEqual(await run.exited, { code: 143, signal: null });
  } finally {
    stop(run.child);
  }
});
