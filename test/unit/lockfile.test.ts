// The shared cross-process lock (src/util/lockfile.ts): symlink owner records, stale
// locks of dead, zombie and recycled pids, racing breakers, and a full disk.

import { strict as assert } from 'node:assert';
import { test, type TestContext } from 'node:test';
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { closeSync, lstatSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, readlinkSync, rmSync, statfsSync, symlinkSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ContentStore } from '../../src/content/store.js';
import { NativeSnapshotter } from '../../src/snapshots/native.js';
import { conflict, errnoCode, isBerthError, type ErrorCode } from '../../src/util/errors.js';
import { acquireLock, breakStale, deadLockLeftovers, FileLock, lockHolder, tryAcquire, withLock, type LockHolder } from '../../src/util/lockfile.js';

const LOCK_JS = fileURLToPath(new URL('../../src/util/lockfile.js', import.meta.url));
const isRoot = process.getuid?.() === 0;
const busy = (h: LockHolder) => conflict(`locked by pid ${h.pid}`);

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'berth-lockfile-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function code(c: ErrorCode, message?: RegExp): (err: unknown) => boolean {
  return (err) => {
    assert.ok(isBerthError(err, c), `expected ${c}, got ${String(err)}`);
    if (message) assert.match(err.message, message);
    return true;
  };
}

/** A pid that is certainly not running (a child that has exited and been reaped). */
const deadPid = (): number => spawnSync(process.execPath, ['-e', '']).pid!;
const exists = (p: string): boolean => lstatSync(p, { throwIfNoEntry: false }) !== undefined;

async function mustAcquire(path: string): Promise<FileLock> {
  const got = await tryAcquire(path);
  assert.ok(got instanceof FileLock, `lock ${path} is held by ${JSON.stringify(got)}`);
  return got;
}

/** A node child running script (an ES module; LOCK is the lock module, PATH the lock path). */
function child(script: string, path: string): ChildProcessWithoutNullStreams {
  const prelude = `const L = await import(${JSON.stringify(LOCK_JS)}); const PATH = ${JSON.stringify(path)};\n`;
  return spawn(process.execPath, ['--input-type=module', '-e', prelude + script], { stdio: 'pipe' });
}

/** Resolves with the child's next stdout line. */
function line(proc: ChildProcessWithoutNullStreams): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const onData = (d: Buffer): void => {
      buf += d.toString();
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      proc.stdout.off('data', onData);
      proc.off('exit', onExit);
      resolve(buf.slice(0, nl));
    };
    const onExit = (c: number | null, s: string | null): void => reject(new Error(`child exited (${c ?? s}) before writing a line`));
    proc.stdout.on('data', onData);
    proc.once('exit', onExit);
  });
}

const exited = (proc: ChildProcessWithoutNullStreams): Promise<void> =>
  proc.exitCode !== null || proc.signalCode !== null ? Promise.resolve() : new Promise((r) => proc.once('exit', () => r()));

test('acquire and release: a symlink to a short owner record, nothing else on disk', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'a.lock');
  const lock = await mustAcquire(path);
  assert.ok(lstatSync(path).isSymbolicLink());
  const record = readlinkSync(path);
  assert.match(record, new RegExp(`^berth-lock:${process.pid}:\\d+:[0-9a-f]{16}$`));
  assert.ok(Buffer.byteLength(record) < 60, 'fits in the inode (fast symlink)');
  assert.equal(lock.record, record);
  assert.deepEqual(readdirSync(dir), ['a.lock']);
  assert.equal(await lock.held(), true);
  assert.deepEqual(await lockHolder(path), { pid: process.pid, startTime: record.split(':')[2] });

  // Held by a live owner (ourselves): no second lock, with the holder named.
  const other = await tryAcquire(path);
  assert.ok(!(other instanceof FileLock));
  assert.equal(other.pid, process.pid);
  await assert.rejects(acquireLock(path, { busy }), code('Conflict', new RegExp(`locked by pid ${process.pid}`)));

  await lock.release();
  assert.deepEqual(readdirSync(dir), []);
  assert.equal(await lock.held(), false);
  assert.equal(await lockHolder(path), undefined);
  await lock.release(); // idempotent

  // A released FileLock never removes a later owner's lock.
  const next = await mustAcquire(path);
  await lock.release();
  assert.equal(await next.held(), true);
  await next.release();
  assert.deepEqual(readdirSync(dir), []);
});

test('waiting: polls until released, honours timeout and AbortSignal; filesystem errors are BerthErrors', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'w.lock');
  const first = await mustAcquire(path);
  let got: FileLock | undefined;
  const waiting = acquireLock(path, { wait: true, busy }).then((l) => (got = l));
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(got, undefined, 'still waiting while held');
  await first.release();
  const second = await waiting;
  assert.equal(await second.held(), true);

  const started = Date.now();
  await assert.rejects(acquireLock(path, { wait: true, timeoutMs: 60, busy }), code('Conflict'));
  assert.ok(Date.now() - started >= 60);

  const ac = new AbortController();
  setTimeout(() => ac.abort(), 20);
  await assert.rejects(acquireLock(path, { wait: true, signal: ac.signal, busy }), { name: 'AbortError' });
  await second.release();

  await assert.rejects(tryAcquire(join(dir, 'missing/x.lock')), code('NotFound', /taking lock/));
  mkdirSync(join(dir, 'd.lock'));
  await assert.rejects(tryAcquire(join(dir, 'd.lock')), (err) => isBerthError(err));
});

test('withLock: callers in one process queue in order, one at a time', async (t) => {
  const path = join(tempDir(t), 'q.lock');
  const events: string[] = [];
  let inside = 0;
  await Promise.all(
    Array.from({ length: 20 }, (_, i) =>
      withLock(path, { wait: true, busy }, async () => {
        inside++;
        assert.equal(inside, 1, 'never two holders');
        events.push(`in ${i}`);
        await new Promise((r) => setTimeout(r, 1));
        events.push(`out ${i}`);
        inside--;
        if (i === 7) throw new Error('a failing holder still hands over');
      }).catch((err: Error) => assert.match(err.message, /hands over/)),
    ),
  );
  assert.deepEqual(events, Array.from({ length: 20 }, (_, i) => [`in ${i}`, `out ${i}`]).flat());
  assert.equal(exists(path), false);
});

test('across processes: a held lock names its holder, and a waiter gets it when released', async (t) => {
  const path = join(tempDir(t), 'x.lock');
  const proc = child(
    `const lock = await L.acquireLock(PATH, { busy: () => new Error('busy') });
     process.stdout.write('held\\n');
     process.stdin.once('data', async () => { await lock.release(); process.exit(0); });`,
    path,
  );
  t.after(() => proc.kill('SIGKILL'));
  assert.equal(await line(proc), 'held');
  const holder = await tryAcquire(path);
  assert.ok(!(holder instanceof FileLock));
  assert.equal(holder.pid, proc.pid);
  assert.equal((await lockHolder(path))?.pid, proc.pid);

  let got: FileLock | undefined;
  const waiting = acquireLock(path, { wait: true, busy }).then((l) => (got = l));
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(got, undefined);
  proc.stdin.write('release\n');
  const lock = await waiting;
  await exited(proc);
  assert.equal(proc.exitCode, 0);
  assert.equal(await lock.held(), true);
  await lock.release();
});

test('a lock whose holder was SIGKILLed is stale and broken by the next taker', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'k.lock');
  const script = `const L = await import(${JSON.stringify(LOCK_JS)}); await L.tryAcquire(${JSON.stringify(path)}); process.kill(process.pid, 'SIGKILL');`;
  const killed = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(killed.signal, 'SIGKILL', killed.stderr);
  assert.ok(lstatSync(path).isSymbolicLink(), 'the killed holder left its lock');
  assert.match(readlinkSync(path), new RegExp(`^berth-lock:${killed.pid}:`));
  assert.equal(await lockHolder(path), undefined, 'a dead pid holds nothing');
  const lock = await mustAcquire(path);
  assert.deepEqual(readdirSync(dir), ['k.lock'], 'no side files');
  await lock.release();
  assert.deepEqual(readdirSync(dir), []);
});

test('a lock whose holder is a zombie (killed, not yet reaped) is stale', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'z.lock');
  const script = `const L = await import(${JSON.stringify(LOCK_JS)}); await L.tryAcquire(${JSON.stringify(path)}); process.kill(process.pid, 'SIGKILL');`;
  // The node holder's parent execs sleep, which never reaps it: it stays a zombie.
  const sh = spawn('sh', ['-c', `"$NODE" --input-type=module -e "$SCRIPT" & exec sleep 60`], {
    env: { ...process.env, NODE: process.execPath, SCRIPT: script },
    stdio: 'ignore',
  });
  t.after(() => sh.kill('SIGKILL'));
  let pid = 0;
  for (let i = 0; i < 500 && pid === 0; i++) {
    await new Promise((r) => setTimeout(r, 10));
    const m = /^berth-lock:(\d+):/.exec(exists(path) ? readlinkSync(path) : '');
    let stat = '';
    try {
      if (m) stat = readFileSync(`/proc/${m[1]}/stat`, 'utf8');
    } catch {
      // not there yet, or gone
    }
    if (m && stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) pid = Number(m[1]);
  }
  assert.ok(pid > 0, 'the holder became a zombie');
  assert.equal(await lockHolder(path), undefined);
  const lock = await mustAcquire(path);
  await lock.release();
  assert.deepEqual(readdirSync(dir), []);
});

test('pid reuse: our own pid with another start time is stale; older lock files are understood', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'r.lock');
  const own = readlinkSync((await mustAcquire(path)).path);
  unlinkSync(path);
  const startTime = own.split(':')[2]!;

  symlinkSync(`berth-lock:${process.pid}:1:0123abcd`, path);
  assert.equal(await lockHolder(path), undefined, 'the process that took it is gone: its pid was reused');
  await (await mustAcquire(path)).release();

  // Lock files (not symlinks) written by earlier berth versions.
  writeFileSync(path, `${process.pid} ${startTime} 00ff\n`);
  assert.equal((await lockHolder(path))?.pid, process.pid, 'a live older-format owner still holds');
  assert.ok(!((await tryAcquire(path)) instanceof FileLock));
  writeFileSync(path, `${process.pid} abcd\n`); // the snapshot store's format (no start time)
  assert.ok(!((await tryAcquire(path)) instanceof FileLock));
  writeFileSync(path, `${process.pid} 1 00ff\n`);
  await (await mustAcquire(path)).release();
  writeFileSync(path, `${deadPid()} 00ff\n`);
  await (await mustAcquire(path)).release();
  writeFileSync(path, 'garbage');
  await (await mustAcquire(path)).release();
  symlinkSync('not-a-record', path);
  await (await mustAcquire(path)).release();
  assert.deepEqual(readdirSync(dir), []);
});

test('breaking: only the stale owner is removed; a live lock moved aside is put back', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'b.lock');
  await breakStale(path, 'berth-lock:1:1:00'); // nothing there: nothing to do
  const live = await mustAcquire(path);
  // A breaker that judged an older owner stale, but the lock changed hands since.
  assert.equal(await breakStale(path, `berth-lock:${deadPid()}:1:00`), undefined);
  assert.equal(await live.held(), true);
  assert.deepEqual(readdirSync(dir), ['b.lock']);
  await live.release();

  const stale = `berth-lock:${deadPid()}:1:00`;
  symlinkSync(stale, path);
  await breakStale(path, stale);
  assert.deepEqual(readdirSync(dir), []);

  // A breaker killed while breaking left its break lock: it is stale as well.
  symlinkSync(stale, path);
  symlinkSync(`berth-lock:${deadPid()}:1:01`, `${path}.break`);
  await (await mustAcquire(path)).release();
  assert.deepEqual(readdirSync(dir), []);

  // While a live process is breaking it, that process is named as the holder.
  symlinkSync(stale, path);
  const breaking = await mustAcquire(`${path}.break`);
  const got = await tryAcquire(path);
  assert.ok(!(got instanceof FileLock));
  assert.equal(got.pid, process.pid);
  await breaking.release();
  await (await mustAcquire(path)).release();
  assert.deepEqual(readdirSync(dir), []);

  // Side files of killed breakers (and older berths' temp files) are recognised by pid.
  const dead = deadPid();
  for (const n of [`b.lock.${dead}.abc123.stale`, `b.lock.break.${dead}.abc123.stale`, `b.lock.${dead}.abc123.tmp`, `b.lock.stale.${dead}.abc123`, `b.lock.${process.pid}.abc123.stale`, 'other']) {
    writeFileSync(join(dir, n), '');
  }
  assert.deepEqual(deadLockLeftovers(dir, 'b.lock').map((p) => p.slice(dir.length + 1)).sort(), [
    `b.lock.${dead}.abc123.stale`,
    `b.lock.${dead}.abc123.tmp`,
    `b.lock.break.${dead}.abc123.stale`,
    `b.lock.stale.${dead}.abc123`,
  ]);
  assert.deepEqual(deadLockLeftovers(dir, 'c.lock'), []);
});

test('racing breakers in one process: exactly one takes a stale lock', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'race.lock');
  const dead = deadPid();
  for (let round = 0; round < 100; round++) {
    symlinkSync(`berth-lock:${dead}:1:${round.toString(16).padStart(4, '0')}`, path);
    const results = await Promise.all(Array.from({ length: 8 }, () => tryAcquire(path)));
    const winners = results.filter((r): r is FileLock => r instanceof FileLock);
    assert.equal(winners.length, 1, `round ${round}: ${winners.length} winners`);
    for (const r of results) if (!(r instanceof FileLock)) assert.equal(r.pid, process.pid);
    assert.equal(await winners[0]!.held(), true);
    await winners[0]!.release();
    assert.deepEqual(readdirSync(dir), [], `round ${round}: leftovers`);
  }
});

test('racing breakers in several processes: exactly one takes a stale lock', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'race.lock');
  const dead = deadPid();
  for (let round = 0; round < 4; round++) {
    const procs = Array.from({ length: 6 }, () =>
      child(
        `process.stdout.write('ready\\n');
         await new Promise((r) => process.stdin.once('data', r));
         const got = await L.tryAcquire(PATH);
         const won = got instanceof L.FileLock;
         process.stdout.write(won ? 'won\\n' : 'lost ' + got.pid + '\\n');
         process.stdin.resume();
         process.stdin.once('end', async () => { if (won) await got.release(); process.exit(0); });`,
        path,
      ),
    );
    t.after(() => procs.forEach((p) => p.kill('SIGKILL')));
    for (const p of procs) assert.equal(await line(p), 'ready');
    symlinkSync(`berth-lock:${dead}:1:${round}`, path);
    const outcomes = procs.map((p) => line(p));
    for (const p of procs) p.stdin.write('go\n');
    const said = await Promise.all(outcomes);
    const winners = procs.filter((_, i) => said[i] === 'won');
    assert.equal(winners.length, 1, `round ${round}: ${said.join(', ')}`);
    // A loser names the winner, or a racer that was breaking the stale lock at that moment.
    for (const s of said) if (s !== 'won') assert.ok(procs.some((p) => s === `lost ${p.pid}`), s);
    assert.equal((await lockHolder(path))?.pid, winners[0]!.pid);
    for (const p of procs) p.stdin.end();
    await Promise.all(procs.map(exited));
    assert.ok(procs.every((p) => p.exitCode === 0));
    assert.deepEqual(readdirSync(dir), [], `round ${round}: leftovers`);
  }
});

test('a full disk: locks are taken, broken and released with no free block, and leave no files', { skip: isRoot ? false : 'needs root to mount a tmpfs' }, async (t) => {
  const mnt = mkdtempSync(join(tmpdir(), 'berth-lockfile-enospc-'));
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k,nr_inodes=64', 'tmpfs', mnt]);
  t.after(() => {
    if (mounted.status === 0 && spawnSync('umount', [mnt]).status !== 0) spawnSync('umount', ['-l', mnt]);
    rmSync(mnt, { recursive: true, force: true });
  });
  if (mounted.status !== 0) {
    t.skip(`cannot mount a tmpfs: ${mounted.stderr.toString().trim()}`);
    return;
  }
  const locks = join(mnt, 'locks');
  mkdirSync(locks);
  const store = new ContentStore(join(mnt, 'content'));
  await store.init();
  await store.createLease('doomed');
  const snaps = await NativeSnapshotter.open(join(mnt, 'snapshots'));
  t.after(() => snaps.close());
  const stale = `berth-lock:${deadPid()}:1:00`;
  symlinkSync(stale, join(locks, 'stale.lock'));

  // Fill every block.
  const fd = openSync(join(mnt, 'filler'), 'w');
  try {
    const chunk = Buffer.alloc(4096, 1);
    for (;;) {
      try {
        writeSync(fd, chunk);
      } catch (err) {
        assert.equal(errnoCode(err), 'ENOSPC');
        break;
      }
    }
  } finally {
    closeSync(fd);
  }
  assert.throws(() => writeFileSync(join(mnt, 'probe'), 'x'), { code: 'ENOSPC' }, 'the disk is full');
  rmSync(join(mnt, 'probe'), { force: true });
  assert.ok(statfsSync(mnt).ffree > 5, 'inodes remain');

  const path = join(locks, 'a.lock');
  const lock = await mustAcquire(path);
  assert.equal(await lock.held(), true);
  assert.ok(!((await tryAcquire(path)) instanceof FileLock));
  await lock.release();
  assert.equal(await withLock(path, { wait: true, busy }, async () => 'ran'), 'ran');
  const broken = await mustAcquire(join(locks, 'stale.lock'));
  await broken.release();
  assert.deepEqual(readdirSync(locks), [], 'no temp or side files');

  // The stores' operations that only free space work on a full disk.
  await store.deleteLease('doomed');
  assert.deepEqual(await store.listLeases(), []);
  await store.check();
  assert.deepEqual(readdirSync(join(store.root, 'locks')), []);
  assert.deepEqual(await snaps.check(), []);
  assert.deepEqual(
    readdirSync(join(mnt, 'snapshots')).filter((n) => n.startsWith('lock')),
    [],
  );

  // With no inode left, taking a lock fails cleanly: Unavailable, and nothing left behind.
  const fillers: string[] = [];
  for (let i = 0; ; i++) {
    try {
      closeSync(openSync(join(mnt, `i${i}`), 'wx'));
      fillers.push(join(mnt, `i${i}`));
    } catch (err) {
      assert.equal(errnoCode(err), 'ENOSPC');
      break;
    }
  }
  await assert.rejects(tryAcquire(path), code('Unavailable', /no space left on device while taking lock/));
  await assert.rejects(store.deleteLease('none'), code('Unavailable', /no space left on device/));
  assert.deepEqual(readdirSync(locks), []);
  unlinkSync(fillers.pop()!);
  await (await mustAcquire(path)).release();
  assert.deepEqual(readdirSync(locks), []);
});
