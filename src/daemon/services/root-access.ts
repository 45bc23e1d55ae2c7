// Reading a container's root from the host without ever leaving it. The root is hostile
// (DESIGN §6): a symlink in it may point at "/" or at a host file. Every lookup goes through
// berth-unpack's cp modes (native/unpack/pack.c), which resolve paths with the root as "/"
// (openat2 RESOLVE_IN_ROOT and a walk that never follows anything itself); this file only
// runs them and reads their answers.
import type { ChildProcess } from 'node:child_process';
import { internal } from '../../util/errors.js';
import { spawnTool } from '../../util/host-tool.js';
import { UNPACK_PATH } from '../../util/native-tools.js';
import { ByteSource } from '../../images/tar/reader.js';
import { decodeRecordHeader, decodeXattrs, Op, RECORD_HEADER_BYTES, type RecordHeader } from '../../images/layer/records.js';

/** berth-unpack's exit status when the path asked for does not exist (native/unpack/pack.h). */
const EXIT_NOT_FOUND = 4;

/** A path that does not exist in the root; callers turn it into Docker's 404 wording. */
export class MissingInRoot extends Error {}

interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runUnpack(args: string[]): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawnTool([UNPACK_PATH, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.on('error', (err) => reject(internal(`cannot start ${UNPACK_PATH}: ${err.message}`, err)));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function failure(what: string, r: { code: number | null; stderr: string }): Error {
  if (r.code === EXIT_NOT_FOUND) return new MissingInRoot(what);
  return internal(`${what}: ${r.stderr.trim().replace(/^berth-unpack: /, '') || `berth-unpack exit ${r.code}`}`);
}

export interface Resolved {
  kind: 'dir' | 'nondir' | 'missing';
  /** Absolute inside the root, every symlink followed ("/usr/bin/busybox"). */
  path: string;
}

/** path with every symlink followed inside the root; missing components are kept as written. */
export async function resolveInRoot(rootfs: string, path: string): Promise<Resolved> {
  const r = await runUnpack(['resolve', rootfs, path]);
  const m = /^(dir|nondir|missing) (\/.*)\n$/s.exec(r.stdout);
  if (r.code !== 0 || !m) throw failure(`resolving ${path}`, r);
  return { kind: m[1] as Resolved['kind'], path: m[2]! };
}

export interface RootStat {
  /** st_mode: type and permission bits. */
  mode: number;
  size: number;
  mtimeSec: number;
  mtimeNsec: number;
  /** Symlinks: the target resolved inside the root ("/usr/bin/busybox"); otherwise "". */
  linkTarget: string;
}

/** lstat of path inside the root (its last component not followed unless it ends in "/" or "/."). */
export async function statInRoot(rootfs: string, path: string): Promise<RootStat> {
  const r = await runUnpack(['stat', rootfs, path]);
  const m = /^([0-7]+) (\d+) (-?\d+) (\d+)\n(.*)\n$/s.exec(r.stdout);
  if (r.code !== 0 || !m) throw failure(`stat ${path}`, r);
  return { mode: parseInt(m[1]!, 8), size: Number(m[2]), mtimeSec: Number(m[3]), mtimeNsec: Number(m[4]), linkTarget: m[5]! };
}

export interface RootRecord extends RecordHeader {
  /** "." for the path itself, "a/b" for what is below it. */
  path: string;
  link: string;
  xattrs: Map<string, Buffer>;
}

/**
 * The records berth-unpack writes for `args` (scan, diff, pack), one at a time. Read each
 * file's data with data() before asking for the next record.
 */
export class RecordReader {
  private readonly child: ChildProcess;
  private readonly src: ByteSource;
  private readonly exit: Promise<RunResult>;
  private records = 0;
  private pendingData = 0n;

  /** `path` names what is read in error messages. */
  constructor(args: string[], private readonly path: string) {
    this.child = spawnTool([UNPACK_PATH, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    this.child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    this.exit = new Promise((resolve) => {
      this.child.on('error', (err) => resolve({ code: -1, stdout: '', stderr: err.message }));
      this.child.on('close', (code) => resolve({ code, stdout: '', stderr }));
    });
    this.src = new ByteSource((this.child.stdout as AsyncIterable<Buffer>)[Symbol.asyncIterator]());
  }

  /** The next entry, or null after the last one. */
  async next(): Promise<RootRecord | null> {
    if (this.pendingData > 0n) for await (const _ of this.data()) void _;
    const head = await this.src.read(RECORD_HEADER_BYTES);
    if (head.length < RECORD_HEADER_BYTES) throw await this.failed('a record header');
    const h = decodeRecordHeader(head);
    if (h.op === Op.End) {
      await this.finish();
      return null;
    }
    const path = (await this.exact(h.pathLen, 'a path')).toString('utf8');
    const link = (await this.exact(h.linkLen, 'a link')).toString('utf8');
    const xattrs = decodeXattrs(await this.exact(h.xattrLen, 'xattrs'));
    this.records++;
    this.pendingData = h.op === Op.File ? h.size : 0n;
    return { ...h, path, link, xattrs };
  }

  /** The data of the file record just returned. */
  async *data(): AsyncGenerator<Buffer> {
    while (this.pendingData > 0n) {
      const part = await this.src.some(Number(this.pendingData > 1n << 30n ? 1n << 30n : this.pendingData));
      if (part.length === 0) throw await this.failed('file data');
      this.pendingData -= BigInt(part.length);
      yield part;
    }
  }

  /** Stop early (the reader is abandoned). */
  close(): void {
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }

  private async exact(n: number, what: string): Promise<Buffer> {
    const b = await this.src.read(n);
    if (b.length < n) throw await this.failed(what);
    return b;
  }

  private async finish(): Promise<void> {
    const r = await this.exit;
    if (r.code !== 0) throw failure(`reading ${this.path}`, r);
  }

  /** The stream ended early: berth-unpack's own message says why. */
  private async failed(what: string): Promise<Error> {
    const r = await this.exit;
    // Not found is only meaningful before anything was reported (later: a file vanished mid-walk).
    if (r.code === EXIT_NOT_FOUND && this.records === 0) return new MissingInRoot(this.path);
    if (r.code !== 0) return failure(`reading ${this.path}`, { ...r, code: r.code === EXIT_NOT_FOUND ? 1 : r.code });
    return internal(`reading ${this.path}: berth-unpack's record stream ended inside ${what}`);
  }
}

/**
 * The entries of path inside the root, as berth-unpack's pack mode reports them: path itself
 * first (as "."), then, for a directory, everything below it ("a", "a/b"), sorted, parents first.
 */
export class RootReader extends RecordReader {
  constructor(rootfs: string, path: string) {
    super(['pack', rootfs, path], path);
  }
}

/**
 * A small regular file of the root (/etc/passwd), symlinks followed inside the root;
 * undefined when it does not exist or is not a regular file.
 */
export async function readFileInRoot(rootfs: string, path: string, maxBytes = 4 * 1024 * 1024): Promise<Buffer | undefined> {
  const target = await resolveInRoot(rootfs, path);
  if (target.kind !== 'nondir') return undefined;
  const reader = new RootReader(rootfs, target.path);
  try {
    const rec = await reader.next();
    if (!rec || rec.op !== Op.File) return undefined;
    if (rec.size > BigInt(maxBytes)) throw internal(`${path} in the container is larger than ${maxBytes} bytes`);
    const parts: Buffer[] = [];
    for await (const part of reader.data()) parts.push(part);
    return Buffer.concat(parts);
  } catch (err) {
    if (err instanceof MissingInRoot) return undefined;
    throw err;
  } finally {
    reader.close();
  }
}
