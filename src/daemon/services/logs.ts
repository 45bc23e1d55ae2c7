// docker logs for the json-file log that berth-shim writes (native/shim/monitor_log.c):
// one {"log","stream","time"} object per line in <path>, rotated by renaming <path> to
// <path>.1, <path>.1 to <path>.2, … (the oldest dropped; with one file, truncated in place).
// The reading follows moby's loggerutils (tail across rotated files, then the since/until
// window, then the stream selection). Following survives rotation because a file is tracked
// by its open descriptor: when <path> names another inode, the old file is final (the shim
// writes nothing to it after the rename), so it is read to its end, then every newer file in
// order, found by inode — no line is lost or read twice.
import { watch, type FSWatcher } from 'node:fs';
import { open, readdir, stat, type FileHandle } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import type { LogEntry, LogsOptions } from '../backend.js';
import { errnoCode } from '../../util/errors.js';

const CHUNK = 64 * 1024;
/** A line longer than this is not one the shim wrote (its pieces are 16 KiB before escaping). */
const MAX_LINE = 1024 * 1024;
/** How often a follower looks again when no file event came (fs.watch can miss some). */
const POLL_MS = 250;
/** Bytes compared to notice that a file was truncated and rewritten in place. */
const TAIL_CHECK_BYTES = 64;

interface Instant {
  sec: number;
  nsec: number;
}

const before = (a: Instant, b: Instant): boolean => a.sec < b.sec || (a.sec === b.sec && a.nsec < b.nsec);

/** Unix seconds with a fraction (the API's since/until) as an instant. */
function instant(seconds: number): Instant {
  const sec = Math.floor(seconds);
  return { sec, nsec: Math.min(999_999_999, Math.round((seconds - sec) * 1e9)) };
}

const RFC3339 = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/;

/** An RFC 3339 time with up to nanoseconds, as the log stores it; undefined when malformed. */
export function parseLogTime(text: string): Instant | undefined {
  const m = RFC3339.exec(text);
  if (!m) return undefined;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
  if (Number.isNaN(ms)) return undefined;
  const zone = m[8]!;
  const offset = zone === 'Z' ? 0 : (zone[0] === '-' ? -1 : 1) * (Number(zone.slice(1, 3)) * 3600 + Number(zone.slice(4, 6)) * 60);
  return { sec: ms / 1000 - offset, nsec: m[7] ? Number(m[7].padEnd(9, '0')) : 0 };
}

interface TimedEntry extends LogEntry {
  at: Instant;
}

/** One log line; undefined for anything that is not a well-formed entry (skipped, as noise). */
export function parseLogLine(line: Buffer): TimedEntry | undefined {
  let obj: unknown;
  try {
    obj = JSON.parse(line.toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof obj !== 'object' || obj === null) return undefined;
  const { log, stream, time } = obj as Record<string, unknown>;
  if (typeof log !== 'string' || (stream !== 'stdout' && stream !== 'stderr') || typeof time !== 'string') return undefined;
  const at = parseLogTime(time);
  return at && { stream, time, line: Buffer.from(log, 'utf8'), at };
}

/** moby's forwarder: since holds until the first entry at or after it; an entry after until ends the read. */
class Window {
  private since: Instant | undefined;
  private readonly until: Instant | undefined;

  constructor(private readonly opts: LogsOptions) {
    this.since = opts.since > 0 ? instant(opts.since) : undefined;
    this.until = opts.until > 0 ? instant(opts.until) : undefined;
  }

  decide(e: TimedEntry): 'emit' | 'skip' | 'stop' {
    if (this.since) {
      if (before(e.at, this.since)) return 'skip';
      this.since = undefined; // times need not be monotonic: later lines are not filtered again
    }
    if (this.until && before(this.until, e.at)) return 'stop';
    return (e.stream === 'stdout' ? this.opts.stdout : this.opts.stderr) ? 'emit' : 'skip';
  }
}

/** One open log file, read line by line from a position; a partial last line is held back. */
class LogFile {
  private carry: Buffer[] = [];
  private carried = 0;
  private discarding = false;
  /** Where the last complete line read ends, and its last bytes: how an in-place truncation is noticed. */
  private lineEnd = 0;
  private lineTail: Buffer = Buffer.alloc(0);

  constructor(readonly fh: FileHandle, readonly dev: number, readonly ino: number, public pos = 0) {}

  static async open(path: string): Promise<LogFile | undefined> {
    let fh: FileHandle;
    try {
      fh = await open(path, 'r');
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return undefined;
      throw err;
    }
    const st = await fh.stat();
    return new LogFile(fh, st.dev, st.ino, 0);
  }

  same(st: { dev: number; ino: number }): boolean {
    return st.dev === this.dev && st.ino === this.ino;
  }

  /** Complete lines from pos up to the end of the file (or `end`), newline excluded. */
  async lines(end = Infinity): Promise<Buffer[]> {
    const out: Buffer[] = [];
    const buf = Buffer.allocUnsafe(CHUNK);
    const lineEnd = this.lineEnd;
    while (this.pos < end) {
      const { bytesRead } = await this.fh.read(buf, 0, Math.min(CHUNK, end - this.pos), this.pos);
      if (bytesRead === 0) break;
      const chunk = buf.subarray(0, bytesRead);
      const lastNewline = chunk.lastIndexOf(0x0a);
      if (lastNewline !== -1) this.lineEnd = this.pos + lastNewline + 1;
      this.pos += bytesRead;
      this.split(chunk, out);
    }
    if (this.lineEnd !== lineEnd) this.lineTail = await this.bytesBefore(this.lineEnd);
    return out;
  }

  /** Continue reading at pos, the start of a line. */
  async seek(pos: number): Promise<void> {
    this.pos = pos;
    this.lineEnd = pos;
    this.lineTail = await this.bytesBefore(pos);
  }

  private async bytesBefore(end: number): Promise<Buffer> {
    const len = Math.min(TAIL_CHECK_BYTES, end);
    const b = Buffer.alloc(len);
    const { bytesRead } = await this.fh.read(b, 0, len, end - len);
    return b.subarray(0, bytesRead);
  }

  /**
   * Whether the file was truncated and written again since it was read (a single-file log
   * rotates in place): it is shorter than what was read, or the end of the last line read
   * is no longer what it was (every line carries a nanosecond time, so it never matches by chance).
   */
  async truncated(): Promise<boolean> {
    const { size } = await this.fh.stat();
    if (size < this.pos) return true;
    if (this.lineEnd === 0) return false;
    return !(await this.bytesBefore(this.lineEnd)).equals(this.lineTail);
  }

  private split(chunk: Buffer, out: Buffer[]): void {
    let start = 0;
    for (let nl = chunk.indexOf(0x0a); nl !== -1; nl = chunk.indexOf(0x0a, start)) {
      const piece = chunk.subarray(start, nl);
      if (!this.discarding) out.push(this.carried ? Buffer.concat([...this.carry, piece]) : Buffer.from(piece));
      this.carry = [];
      this.carried = 0;
      this.discarding = false;
      start = nl + 1;
    }
    if (start === chunk.length || this.discarding) return;
    this.carry.push(Buffer.from(chunk.subarray(start)));
    this.carried += chunk.length - start;
    if (this.carried > MAX_LINE) {
      // Not something the shim wrote: drop it up to the next newline instead of growing without bound.
      this.carry = [];
      this.carried = 0;
      this.discarding = true;
    }
  }

  /** The file was truncated in place (rotation with a single file): start again at its top. */
  restart(): void {
    this.pos = 0;
    this.lineEnd = 0;
    this.lineTail = Buffer.alloc(0);
    this.carry = [];
    this.carried = 0;
    this.discarding = false;
  }

  async close(): Promise<void> {
    await this.fh.close().catch(() => undefined);
  }
}

/** The highest N of the <path>.N files that exist now. */
async function highestRotation(path: string): Promise<number> {
  const base = `${basename(path)}.`;
  let names: string[];
  try {
    names = await readdir(dirname(path));
  } catch {
    return 0;
  }
  let max = 0;
  for (const n of names) if (n.startsWith(base) && /^\d+$/.test(n.slice(base.length))) max = Math.max(max, Number(n.slice(base.length)));
  return max;
}

/**
 * The log files newer than `after` (all of them without it), oldest first, opened. Names are
 * visited newest first: a rotation meanwhile moves files towards higher numbers, so a file
 * can be met twice (skipped by inode) but never missed.
 */
async function openNewerFiles(path: string, after?: LogFile): Promise<LogFile[]> {
  const max = await highestRotation(path);
  const found: LogFile[] = [];
  for (let i = 0; i <= max; i++) {
    const f = await LogFile.open(i === 0 ? path : `${path}.${i}`);
    if (!f) continue;
    if ((after && after.same(f)) || found.some((g) => g.same(f))) {
      await f.close();
      if (after?.same(f)) break;
      continue;
    }
    found.unshift(f);
  }
  return found;
}

/** Where the last n complete lines of fh[0, end) start, and how many lines were found. */
async function tailStart(fh: FileHandle, end: number, n: number): Promise<{ start: number; lines: number }> {
  const buf = Buffer.allocUnsafe(CHUNK);
  let lines = 0;
  let inLine = false; // past the newline that ends the last complete line
  for (let pos = end; pos > 0; ) {
    const len = Math.min(CHUNK, pos);
    pos -= len;
    await fh.read(buf, 0, len, pos);
    for (let i = len - 1; i >= 0; i--) {
      if (buf[i] !== 0x0a) continue;
      if (!inLine) {
        inLine = true;
        if (n === 0) return { start: pos + i + 1, lines: 0 };
        continue;
      }
      if (++lines === n) return { start: pos + i + 1, lines };
    }
  }
  // No complete line at all: whatever is there is a line still being written.
  return { start: 0, lines: inLine ? lines + 1 : 0 };
}

/** Position every file so that only the last `tail` lines (across all of them) are read. */
async function applyTail(files: LogFile[], tail: number): Promise<void> {
  let left = tail;
  for (let i = files.length - 1; i >= 0; i--) {
    const f = files[i]!;
    const { size } = await f.fh.stat();
    if (left === 0 && i < files.length - 1) {
      await f.seek(size);
      continue;
    }
    const { start, lines } = await tailStart(f.fh, size, left);
    await f.seek(start);
    left -= lines;
  }
}

/** Wakes a follower on a change in the log's directory, a poll tick, the stop or the abort. */
class Waker {
  private wake: (() => void) | undefined;
  private readonly watcher: FSWatcher | undefined;

  constructor(dir: string) {
    try {
      this.watcher = watch(dir, { persistent: false }, () => this.fire());
      this.watcher.on('error', () => undefined); // the poll still runs
    } catch {
      this.watcher = undefined;
    }
  }

  fire(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.fire(), ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  close(): void {
    this.watcher?.close();
    this.fire();
  }
}

async function inodeOf(path: string): Promise<{ dev: number; ino: number } | undefined> {
  try {
    return await stat(path);
  } catch {
    return undefined; // between the rename and the new file: no current file for a moment
  }
}

/** Whether the log at path moved on from `current`: rotated away, truncated in place, or created. */
async function changed(path: string, current: LogFile | undefined): Promise<'rotated' | 'truncated' | undefined> {
  const named = await inodeOf(path);
  if (named && (!current || !current.same(named))) return 'rotated';
  if (current && (await current.truncated())) return 'truncated';
  return undefined;
}

/**
 * The entries of the json-file log at `path`, oldest first, filtered by opts. With
 * opts.follow, lines appended later (also across rotations) follow, until `stopped`
 * resolves (what remains is then read, and the iteration ends) or `signal` aborts.
 */
export async function* readJsonLog(path: string, opts: LogsOptions, stopped: Promise<void>, signal: AbortSignal): AsyncGenerator<LogEntry> {
  const window = new Window(opts);
  // Files still to read, oldest first; the last one is the log being written (and followed).
  const queue: LogFile[] = await openNewerFiles(path);
  const waker = opts.follow ? new Waker(dirname(path)) : undefined;
  let hasStopped = false;
  const onStop = (): void => {
    hasStopped = true;
    waker?.fire();
  };
  stopped.then(onStop, onStop);
  const onAbort = (): void => waker?.fire();
  signal.addEventListener('abort', onAbort);
  // Each line goes through the window; false means the read is over (until passed, or aborted).
  const deliver = function* (lines: Buffer[]): Generator<LogEntry, boolean> {
    for (const l of lines) {
      if (signal.aborted) return false;
      const e = parseLogLine(l);
      if (!e) continue;
      const verdict = window.decide(e);
      if (verdict === 'stop') return false;
      if (verdict === 'emit') yield { stream: e.stream, time: e.time, line: e.line };
    }
    return true;
  };
  try {
    if (opts.tail !== undefined && opts.tail >= 0) await applyTail(queue, opts.tail);
    for (;;) {
      // Files behind the newest one are final: read each to its end, in order.
      while (queue.length > 1) {
        if (!(yield* deliver(await queue[0]!.lines()))) return;
        await queue.shift()!.close();
      }
      const current = queue[0];
      const stopSeen = hasStopped; // what is read after this point includes everything written before the stop
      const lines = current ? await current.lines() : [];
      if (!(yield* deliver(lines))) return;
      if (!opts.follow) return;
      const change = await changed(path, current);
      // Rotated: `current` is final (the shim writes nothing to it after the rename); what came after it follows.
      const newer = change === 'rotated' ? await openNewerFiles(path, current) : [];
      queue.push(...newer);
      if (change === 'truncated') current!.restart(); // a single-file log rotated in place
      if (signal.aborted) return;
      if (lines.length > 0 || newer.length > 0 || change === 'truncated') continue;
      if (stopSeen) return;
      await waker!.wait(POLL_MS);
    }
  } finally {
    signal.removeEventListener('abort', onAbort);
    waker?.close();
    for (const f of queue) await f.close();
  }
}
