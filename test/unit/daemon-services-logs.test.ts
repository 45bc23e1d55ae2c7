// docker logs over the shim's json-file log (src/daemon/services/logs.ts): tail across rotated
// files, the since/until window, stream selection, corrupt and partial lines, and following
// the log through rotations (renames as native/shim/monitor_log.c does them) until the
// container stops.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { LogEntry, LogsOptions } from '../../src/daemon/backend.js';
import { parseLogTime, readJsonLog } from '../../src/daemon/services/logs.js';

const base = mkdtempSync(join(tmpdir(), 'berth-logs-'));
after(() => rmSync(base, { recursive: true, force: true }));
let n = 0;
const newLog = (): string => join(base, `c${++n}`, 'container.log');

const all: LogsOptions = { follow: false, stdout: true, stderr: true, since: 0, until: 0, timestamps: false };

/** Second s of 2026-01-01 as the shim writes it. */
const T0 = Date.UTC(2026, 0, 1) / 1000;
const time = (s: number, nsec = 123456789): string => `2026-01-01T00:${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}.${String(nsec).padStart(9, '0')}Z`;

function line(text: string, s: number, stream: 'stdout' | 'stderr' = 'stdout'): string {
  return `${JSON.stringify({ log: `${text}\n`, stream, time: time(s) })}\n`;
}

function write(path: string, ...lines: string[]): void {
  appendFileSync(path, lines.join(''));
}

/** A log path in a directory of its own. */
function fresh(): string {
  const path = newLog();
  mkdirSync(join(path, '..'), { recursive: true });
  return path;
}

/** The shim's rotation: drop log.(max-1), log.i → log.i+1, log → log.1. */
function rotate(path: string, maxFiles: number): void {
  for (let i = maxFiles - 1; i > 1; i--) if (existsSync(`${path}.${i - 1}`)) renameSync(`${path}.${i - 1}`, `${path}.${i}`);
  renameSync(path, `${path}.1`);
  writeFileSync(path, '');
}

async function collect(it: AsyncIterable<LogEntry>): Promise<string[]> {
  const out: string[] = [];
  for await (const e of it) out.push(`${e.stream}:${e.line.toString().trimEnd()}`);
  return out;
}

const never = new Promise<void>(() => undefined);
const read = (path: string, opts: Partial<LogsOptions> = {}): Promise<string[]> =>
  collect(readJsonLog(path, { ...all, ...opts }, never, new AbortController().signal));

/** Follows in the background; entries gather in `got`. */
function follow(path: string, opts: Partial<LogsOptions> = {}) {
  let stop!: () => void;
  const stopped = new Promise<void>((r) => (stop = r));
  const ac = new AbortController();
  const got: string[] = [];
  const done = (async () => {
    for await (const e of readJsonLog(path, { ...all, follow: true, ...opts }, stopped, ac.signal)) got.push(e.line.toString().trimEnd());
  })();
  return { got, stop, abort: () => ac.abort(), done };
}

async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await sleep(5);
}

describe('json-file log reading (logs.ts)', () => {
  it('parses RFC 3339 times with nanoseconds and zones', () => {
    assert.deepEqual(parseLogTime('2026-01-01T00:00:01.5Z'), { sec: T0 + 1, nsec: 500_000_000 });
    assert.deepEqual(parseLogTime('2026-01-01T01:00:00+01:00'), { sec: T0, nsec: 0 });
    assert.equal(parseLogTime('yesterday'), undefined);
  });

  it('reads every entry of the rotated files, oldest first', async () => {
    const path = fresh();
    write(`${path}.2`, line('a', 1), line('b', 2));
    write(`${path}.1`, line('c', 3));
    write(path, line('d', 4, 'stderr'), line('e', 5));
    assert.deepEqual(await read(path), ['stdout:a', 'stdout:b', 'stdout:c', 'stderr:d', 'stdout:e']);
  });

  it('tails the last lines across rotated files; tail 0 gives nothing', async () => {
    const path = fresh();
    write(`${path}.2`, line('a', 1), line('b', 2));
    write(`${path}.1`, line('c', 3));
    write(path, line('d', 4), line('e', 5));
    assert.deepEqual(await read(path, { tail: 4 }), ['stdout:b', 'stdout:c', 'stdout:d', 'stdout:e']);
    assert.deepEqual(await read(path, { tail: 2 }), ['stdout:d', 'stdout:e']);
    assert.deepEqual(await read(path, { tail: 100 }), ['stdout:a', 'stdout:b', 'stdout:c', 'stdout:d', 'stdout:e']);
    assert.deepEqual(await read(path, { tail: 0 }), []);
  });

  it('applies since (from the first entry at or after it) and until (ends at the first entry after it)', async () => {
    const path = fresh();
    write(path, line('a', 1), line('b', 2), line('c', 3), line('d', 4));
    assert.deepEqual(await read(path, { since: T0 + 2.123456789 }), ['stdout:b', 'stdout:c', 'stdout:d']);
    assert.deepEqual(await read(path, { since: T0 + 2.2 }), ['stdout:c', 'stdout:d']);
    assert.deepEqual(await read(path, { until: T0 + 3.5 }), ['stdout:a', 'stdout:b', 'stdout:c']);
    assert.deepEqual(await read(path, { since: T0 + 2, until: T0 + 3.2 }), ['stdout:b', 'stdout:c']);
  });

  it('selects stdout or stderr after the tail is counted, as Docker does', async () => {
    const path = fresh();
    write(path, line('o1', 1), line('e1', 2, 'stderr'), line('o2', 3), line('e2', 4, 'stderr'));
    assert.deepEqual(await read(path, { stdout: false }), ['stderr:e1', 'stderr:e2']);
    assert.deepEqual(await read(path, { stderr: false, tail: 2 }), ['stdout:o2']);
  });

  it('skips corrupt lines and holds back a partial last line', async () => {
    const path = fresh();
    write(path, line('a', 1), 'garbage\n', '{"log":"x\\n","stream":"stdin","time":"2026-01-01T00:00:00Z"}\n',
      '{"log":"x\\n","stream":"stdout","time":"soon"}\n', `${'z'.repeat(1_200_000)}\n`, line('b', 2), line('partial', 3).slice(0, 20));
    assert.deepEqual(await read(path), ['stdout:a', 'stdout:b']);
    assert.deepEqual(await read(path, { tail: 1 }), ['stdout:b']);
  });

  it('reads nothing, without failing, when there is no log yet', async () => {
    assert.deepEqual(await read(join(base, 'none', 'container.log')), []);
  });

  it('follows appended lines and rotations without losing or repeating one, then ends after the stop', async () => {
    const path = fresh();
    write(path, line('old', 1));
    const f = follow(path, { tail: 1 });
    await until(() => f.got.length === 1);
    write(path, line('l1', 2));
    await until(() => f.got.length === 2);
    write(path, line('l2', 3));
    rotate(path, 3);
    write(path, line('l3', 4));
    // Two rotations before the reader looks again: l4 is in log.1 by then, l5 in log.
    rotate(path, 3);
    write(path, line('l4', 5));
    rotate(path, 3);
    write(path, line('l5', 6));
    await until(() => f.got.length === 6);
    write(path, line('l6', 7), line('half', 8).slice(0, 25));
    await until(() => f.got.length === 7);
    appendFileSync(path, line('half', 8).slice(25));
    write(path, line('last', 9));
    f.stop();
    await f.done;
    assert.deepEqual(f.got, ['old', 'l1', 'l2', 'l3', 'l4', 'l5', 'l6', 'half', 'last']);
  });

  it('follows a single-file log that is truncated in place', async () => {
    const path = fresh();
    write(path, line('a', 1));
    const f = follow(path);
    await until(() => f.got.length === 1);
    truncateSync(path, 0);
    write(path, line('b', 2));
    await until(() => f.got.length === 2);
    f.stop();
    await f.done;
    assert.deepEqual(f.got, ['a', 'b']);
  });

  it('waits for a log that does not exist yet, and stops at until', async () => {
    const path = fresh();
    const f = follow(path, { until: T0 + 2.5 });
    await sleep(20);
    write(path, line('a', 1), line('b', 2), line('c', 3));
    await f.done; // c is after until: the follow ends by itself
    assert.deepEqual(f.got, ['a', 'b']);
  });

  it('ends when aborted', async () => {
    const path = fresh();
    write(path, line('a', 1));
    const f = follow(path);
    await until(() => f.got.length === 1);
    f.abort();
    await f.done;
    assert.deepEqual(f.got, ['a']);
    unlinkSync(path);
  });
});
