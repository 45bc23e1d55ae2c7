// Reading and writing cgroup control files, with errors that name the file,
// the value and the kernel's reason. Synchronous on purpose: callers are
// short-lived CLI processes and each write must be a single write(2).

import { existsSync, readFileSync, readdirSync, rmdirSync, statfsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BerthError, errnoCode, forbidden, internal, invalidArgument } from '../../util/errors.js';

const STRERROR: Record<string, string> = {
  EPERM: 'Operation not permitted',
  ENOENT: 'No such file or directory',
  ESRCH: 'No such process',
  EINTR: 'Interrupted system call',
  EIO: 'Input/output error',
  E2BIG: 'Argument list too long',
  EBADF: 'Bad file descriptor',
  EAGAIN: 'Resource temporarily unavailable',
  ENOMEM: 'Cannot allocate memory',
  EACCES: 'Permission denied',
  EBUSY: 'Device or resource busy',
  EEXIST: 'File exists',
  ENODEV: 'No such device',
  ENOTDIR: 'Not a directory',
  EISDIR: 'Is a directory',
  EINVAL: 'Invalid argument',
  ENOSPC: 'No space left on device',
  EROFS: 'Read-only file system',
  ERANGE: 'Numerical result out of range',
  ENOTEMPTY: 'Directory not empty',
  EOPNOTSUPP: 'Operation not supported',
  ENOTSUP: 'Operation not supported',
  EOVERFLOW: 'Value too large for defined data type',
};

/** The C library's text for an errno name (Node's own messages are libuv's, e.g. "resource busy or locked"). */
export function strerror(err: unknown): string {
  const code = errnoCode(err);
  if (code && STRERROR[code]) return STRERROR[code];
  return err instanceof Error ? err.message : String(err);
}

const CGROUP_SUPER_MAGIC = 0x27e0eb;
const CGROUP2_SUPER_MAGIC = 0x63677270;

/** Whether dir is on a real cgroupfs (not a fake in a temp dir), for checks only the kernel can answer. */
export function onRealCgroupfs(dir: string): boolean {
  try {
    const t = statfsSync(dir).type;
    return t === CGROUP_SUPER_MAGIC || t === CGROUP2_SUPER_MAGIC;
  } catch {
    return false;
  }
}

function shown(value: string): string {
  const v = value.trim();
  return v.includes('\n') || v === '' ? JSON.stringify(v) : v;
}

/** Map a failed write to a typed error: the kernel refusing a value is the caller's input, missing files mean an absent controller. */
function writeError(dir: string, file: string, value: string, err: unknown): BerthError {
  const code = errnoCode(err);
  const path = join(dir, file);
  // cgroupfs answers O_CREAT on a file it does not have with EACCES.
  if ((code === 'EACCES' || code === 'ENOENT' || code === 'EPERM') && existsSync(dir) && !existsSync(path)) {
    return invalidArgument(`cgroup: ${file}: cannot set ${shown(value)}: the file does not exist in ${dir} (controller not available on this host?)`, err);
  }
  const msg = `cgroup: ${file}: cannot set ${shown(value)}: ${strerror(err)} (${dir})`;
  if (code === 'EINVAL' || code === 'ERANGE' || code === 'EBUSY' || code === 'EOVERFLOW' || code === 'ENOSPC') {
    return invalidArgument(msg, err);
  }
  if (code === 'EPERM' || code === 'EACCES' || code === 'EROFS') return forbidden(msg, err);
  return internal(msg, err);
}

type WriteTrace = (path: string, value: string) => void;
let trace: WriteTrace | undefined;

/**
 * Observe every control-file write (tests: a fake cgroupfs is plain files, so
 * files written line by line, like devices.allow or io.max, keep only the
 * last line; the trace keeps them all). Pass undefined to stop.
 */
export function setWriteTrace(fn: WriteTrace | undefined): void {
  trace = fn;
}

function rawWrite(dir: string, file: string, value: string): void {
  trace?.(join(dir, file), value);
  writeFileSync(join(dir, file), value);
}

export function writeFile(dir: string, file: string, value: string): void {
  try {
    rawWrite(dir, file, value);
  } catch (err) {
    throw writeError(dir, file, value, err);
  }
}

/** A failed write, kept so the caller can retry in another order (runc's EINVAL dances) or throw it later. */
export interface WriteFailure {
  code: string;
  /** The typed error writeFile would have thrown. */
  error: BerthError;
}

/** Like writeFile, but hand back the failure instead of throwing. */
export function tryWriteFile(dir: string, file: string, value: string): WriteFailure | undefined {
  try {
    rawWrite(dir, file, value);
    return undefined;
  } catch (err) {
    return { code: errnoCode(err) ?? 'EIO', error: writeError(dir, file, value, err) };
  }
}

/** Write each line separately: several cgroup files take one entry per write (io.max, unified values). */
export function writeFileByLine(dir: string, file: string, value: string): void {
  const lines = value.split('\n').filter((l) => l !== '');
  if (lines.length === 0) writeFile(dir, file, value);
  for (const line of lines) writeFile(dir, file, line);
}

/** File contents, or undefined when the file (or directory) does not exist. */
export function readOptional(dir: string, file: string): string | undefined {
  try {
    return readFileSync(join(dir, file), 'utf8');
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOENT' || code === 'ENODEV') return undefined;
    throw internal(`cgroup: cannot read ${join(dir, file)}: ${strerror(err)}`, err);
  }
}

export function readRequired(dir: string, file: string): string {
  const v = readOptional(dir, file);
  if (v === undefined) throw internal(`cgroup: cannot read ${join(dir, file)}: No such file or directory`);
  return v;
}

/** Block the (CLI) thread briefly; freezer and rmdir retries need real time to pass. */
export function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** rmdir, retrying EBUSY with backoff (a cgroup stays busy until its last task is reaped); ENOENT is success. */
function rmdirRetry(path: string, retry: boolean): string | undefined {
  let delay = 1;
  for (let tries = 0; ; tries++) {
    try {
      rmdirSync(path);
      return undefined;
    } catch (err) {
      const code = errnoCode(err) ?? 'EIO';
      if (code === 'ENOENT') return undefined;
      if (code === 'EINTR') continue;
      if (code === 'EBUSY' && retry && tries < 10) {
        sleepMs(delay);
        delay *= 2;
        continue;
      }
      return code;
    }
  }
}

/** Remove a cgroup directory and its sub-cgroups, deepest first (runc's RemovePath). */
export function removeCgroupDir(path: string): void {
  if (rmdirRetry(path, false) === undefined) return;
  let entries;
  try {
    entries = readdirSync(path, { withFileTypes: true });
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return;
    throw internal(`cgroup: cannot remove ${path}: ${strerror(err)}`, err);
  }
  for (const e of entries) if (e.isDirectory()) removeCgroupDir(join(path, e.name));
  const code = rmdirRetry(path, true);
  if (code !== undefined) throw internal(`cgroup: cannot remove ${path}: ${STRERROR[code] ?? code}`);
}

/** runc reports "max" as MaxUint64; as a JS number that is 2^64 (stats are numbers, so huge values are approximate). */
export const MAX_UINT64 = 2 ** 64 - 1;

/** Numbers in cgroup files: "max" is unlimited, negatives (kernel bugs in memory stats) count as 0. */
export function parseUintValue(text: string): number {
  const t = text.trim();
  if (t === 'max') return MAX_UINT64;
  if (/^-\d+$/.test(t)) return 0;
  if (!/^\d+$/.test(t)) throw new Error(`not a number: ${JSON.stringify(t)}`);
  return Number(t);
}

/** Undo a failed create: remove the directories it made, deepest first, quietly (the original error matters more). */
export function removeCreatedDirs(created: string[]): void {
  for (const dir of [...created].reverse()) {
    try {
      removeCgroupDir(dir);
    } catch {
      /* keep going: the caller rethrows the error that caused this */
    }
  }
}
