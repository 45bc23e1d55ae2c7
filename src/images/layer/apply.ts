// Apply a layer stream (tar, gzip or zstd) straight into a snapshot directory.
//
// TypeScript reads, bounds and polices the archive and hashes it twice on the stream
// (compressed digest, diff ID); native/unpack (berth-unpack) performs the resulting
// filesystem operations with every path resolved inside the target by openat2
// (RESOLVE_IN_ROOT). Two processes: decompression and hashing here, writes there.
// An uncompressed layer *file* goes faster: headers are read by position, member data is
// copied by the kernel from the same fd, and a worker thread hashes the file meanwhile.
import { spawn, type ChildProcessByStdio, type StdioOptions } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { Worker } from 'node:worker_threads';
import type { Readable, Writable } from 'node:stream';
import { BerthError, invalidArgument, internal, unavailable } from '../../util/errors.js';
import { Digester, digestOf, type Digest } from '../../util/digest.js';
import { UNPACK_PATH } from '../../util/native-tools.js';
import type { TarEntry } from '../tar/header.js';
import { TarReader } from '../tar/reader.js';
import { decompress, detectCompression, peekCompression, type Compression } from './compression.js';
import { FileTarSource } from '../tar/file-source.js';
import { allowedXattrs, classifyWhiteout, cleanName, DEFAULT_LAYER_LIMITS, type LayerLimits } from './policy.js';
import { encodeRecord, Op, RecordSink, type UnpackRecord } from './records.js';

/** berth-unpack's exit status for ENOSPC/EDQUOT (native/unpack/main.c). */
const EXIT_NO_SPACE = 3;

/** overlay: whiteouts become 0:0 char devices and opaque xattrs in an upper dir; native: real deletions. */
export type WhiteoutStyle = 'overlay' | 'native';

export interface ApplyOptions {
  style: WhiteoutStyle;
  /** Names the layer in errors, e.g. "layer 2/3 sha256:ab12…". */
  label?: string;
  expectedDigest?: Digest;
  expectedDiffId?: Digest;
  /** Device nodes in the archive; refused when false (e.g. in a user namespace). Default: true. */
  allowDevices?: boolean;
  limits?: Partial<LayerLimits>;
}

export interface ApplyResult {
  /** Digest of the bytes as received (compressed). */
  digest: Digest;
  compressedSize: number;
  /** Digest of the uncompressed tar. */
  diffId: Digest;
  size: number;
  entries: number;
  compression: Compression;
}

async function* counted(src: AsyncIterable<Buffer>, d: Digester, limit?: number): AsyncGenerator<Buffer> {
  for await (const chunk of src) {
    d.update(chunk);
    if (limit !== undefined && d.size > limit) throw invalidArgument(`layer expands beyond the ${limit}-byte limit`);
    yield chunk;
  }
}

/** Turns tar members into berth-unpack records, applying the whiteout style and policy. */
class RecordPlanner {
  /** Native opaque dirs keep what this layer already put in them: dir → names. */
  private readonly created = new Map<string, Set<string>>();

  constructor(private readonly opts: ApplyOptions) {}

  plan(e: TarEntry): UnpackRecord | undefined {
    const path = cleanName(e.name);
    if (path === '') return undefined; // the root's own entry: the snapshot's root stays as made
    const wh = classifyWhiteout(path);
    if (wh.kind === 'skip') return undefined;
    if (wh.kind === 'opaque') return { op: Op.Opaque, path: wh.dir || '.', link: this.keepList(wh.dir) };
    if (wh.kind === 'whiteout') return { op: Op.Whiteout, path: wh.path };
    this.remember(path);
    const rec: UnpackRecord = { op: Op.File, path, mode: e.mode, uid: e.uid, gid: e.gid, mtimeSec: e.mtimeSec, mtimeNsec: e.mtimeNsec };
    const xattrs = allowedXattrs(e.xattrs);
    if (xattrs) rec.xattrs = xattrs;
    switch (e.type) {
      case 'file':
        rec.size = e.size;
        return rec;
      case 'dir':
        rec.op = Op.Dir;
        return rec;
      case 'symlink':
        if (e.linkname === '') throw invalidArgument(`entry ${path}: symlink with an empty target`);
        rec.op = Op.Symlink;
        rec.link = e.linkname;
        return rec;
      case 'hardlink':
        rec.op = Op.Hardlink;
        rec.link = cleanName(e.linkname, 'hard link target');
        if (rec.link === '') throw invalidArgument(`entry ${path}: hard link to the root`);
        return rec;
      case 'char':
      case 'block':
        if (this.opts.allowDevices === false) throw invalidArgument(`entry ${path}: device nodes are not allowed here`);
        rec.op = e.type === 'char' ? Op.Char : Op.Block;
        rec.devmajor = e.devmajor;
        rec.devminor = e.devminor;
        return rec;
      case 'fifo':
        rec.op = Op.Fifo;
        return rec;
    }
  }

  private remember(path: string): void {
    if (this.opts.style !== 'native') return;
    const slash = path.lastIndexOf('/');
    const dir = slash === -1 ? '' : path.slice(0, slash);
    let names = this.created.get(dir);
    if (!names) this.created.set(dir, (names = new Set()));
    names.add(path.slice(slash + 1));
  }

  private keepList(dir: string): Buffer {
    const names = this.created.get(dir);
    return names ? Buffer.from([...names].map((n) => `${n}\0`).join('')) : Buffer.alloc(0);
  }
}

function startUnpacker(dir: string, style: WhiteoutStyle, sourceFd?: number) {
  return spawnApply([dir, style], sourceFd);
}

/** `berth-unpack apply <args…>`: the child, and its outcome as a BerthError (or undefined) when it exits. */
export function spawnApply(args: string[], sourceFd?: number) {
  const stdio: StdioOptions = sourceFd === undefined ? ['pipe', 'ignore', 'pipe'] : ['pipe', 'ignore', 'pipe', sourceFd];
  const child = spawn(UNPACK_PATH, ['apply', ...args], { stdio }) as ChildProcessByStdio<Writable, null, Readable>;
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  child.stdin.on('error', () => undefined); // reported through the exit status below
  const exit = new Promise<BerthError | undefined>((resolve) => {
    child.on('error', (err) => resolve(internal(`cannot start ${UNPACK_PATH}: ${err.message}`)));
    child.on('close', (code, signal) => {
      if (code === 0) return resolve(undefined);
      const why = stderr.trim().replace(/^berth-unpack: /, '') || `berth-unpack ${signal ?? `exit ${code}`}`;
      resolve(code === EXIT_NO_SPACE ? unavailable(`no space left on device: ${why}`) : invalidArgument(why));
    });
  });
  return { child, exit };
}

/** A layer to apply: a byte stream, or a file (an uncompressed file is then copied by the kernel). */
export type LayerSource = AsyncIterable<Buffer> | { path: string };

export async function applyLayer(source: LayerSource, dir: string, opts: ApplyOptions): Promise<ApplyResult> {
  if (!('path' in source)) return applyStream(source, dir, opts);
  const file = await open(source.path, 'r');
  try {
    const head = Buffer.alloc(8);
    const { bytesRead } = await file.read(head, 0, head.length, 0);
    if (detectCompression(head.subarray(0, bytesRead)) === 'none') return await applyTarFile(file, dir, opts);
    const stream = createReadStream('', { fd: file.fd, autoClose: false, highWaterMark: 1024 * 1024 });
    return await applyStream(stream, dir, opts);
  } finally {
    await file.close();
  }
}

// Hashing runs on another thread while this one parses headers and berth-unpack copies.
const HASH_WORKER = `
  const { parentPort, workerData } = require('node:worker_threads');
  const fs = require('node:fs');
  try {
    const h = require('node:crypto').createHash('sha256');
    const fd = fs.openSync(workerData, 'r');
    const buf = Buffer.allocUnsafe(1 << 20);
    for (let n; (n = fs.readSync(fd, buf, 0, buf.length, null)) > 0; ) h.update(buf.subarray(0, n));
    fs.closeSync(fd);
    parentPort.postMessage({ digest: 'sha256:' + h.digest('hex') });
  } catch (e) {
    parentPort.postMessage({ error: e.message });
  }`;

const WORKER_HASH_MIN_BYTES = 4 * 1024 * 1024;

async function hashSmallFile(file: FileHandle, size: number): Promise<Digest> {
  const buf = Buffer.allocUnsafe(size);
  let off = 0;
  while (off < size) {
    const { bytesRead } = await file.read(buf, off, size - off, off);
    if (bytesRead === 0) break;
    off += bytesRead;
  }
  return digestOf(buf.subarray(0, off));
}

function hashFile(path: string): Promise<Digest> {
  return new Promise((resolve, reject) => {
    // execArgv: [] — the eval'd worker is CommonJS whatever flags (--input-type=module) this process has.
    const w = new Worker(HASH_WORKER, { eval: true, workerData: path, execArgv: [] });
    w.once('message', (m: { digest?: Digest; error?: string }) => (m.digest ? resolve(m.digest) : reject(internal(`hashing ${path}: ${m.error}`))));
    w.once('error', reject);
  });
}

/** An uncompressed layer file: headers parsed by positional reads, data copied by the kernel. */
async function applyTarFile(file: FileHandle, dir: string, opts: ApplyOptions): Promise<ApplyResult> {
  const limits = { ...DEFAULT_LAYER_LIMITS, ...opts.limits };
  const label = opts.label ?? 'layer';
  const { size } = await file.stat();
  if (size > limits.maxBytes) throw invalidArgument(`${label}: layer expands beyond the ${limits.maxBytes}-byte limit`);
  // The very file being unpacked (its open fd), not whatever the path names by the time the worker opens it.
  // A small layer is hashed here: a worker thread costs more to start (and a few MiB to keep) than it saves.
  const hashing = size < WORKER_HASH_MIN_BYTES ? hashSmallFile(file, size) : hashFile(`/proc/self/fd/${file.fd}`);
  hashing.catch(() => undefined);
  const reader = new TarReader(new FileTarSource(file, size), limits);
  const entries = await runUnpacker(dir, opts, reader, file.fd, label);
  const digest = await hashing;
  return verified({ digest, compressedSize: size, diffId: digest, size, entries, compression: 'none' }, opts, label);
}

async function applyStream(input: AsyncIterable<Buffer>, dir: string, opts: ApplyOptions): Promise<ApplyResult> {
  const limits = { ...DEFAULT_LAYER_LIMITS, ...opts.limits };
  const label = opts.label ?? 'layer';
  const { kind: compression, stream } = await peekCompression(input);
  const raw = new Digester();
  // An uncompressed layer's digest is its diff ID: hash it once.
  const tar = compression === 'none' ? raw : new Digester();
  const tarBytes = compression === 'none' ? counted(stream, raw, limits.maxBytes) : counted(decompress(counted(stream, raw), compression), tar, limits.maxBytes);
  const reader = new TarReader(tarBytes, limits);
  const entries = await runUnpacker(dir, opts, reader, undefined, label);
  return verified({ digest: raw.digest(), compressedSize: raw.size, diffId: tar.digest(), size: tar.size, entries, compression }, opts, label);
}

/** Feed every member of reader to berth-unpack; with sourceFd, file data goes by offset. */
async function runUnpacker(dir: string, opts: ApplyOptions, reader: TarReader, sourceFd: number | undefined, label: string): Promise<number> {
  const { child, exit } = startUnpacker(dir, opts.style, sourceFd);
  const sink = new RecordSink(child.stdin);
  const planner = new RecordPlanner(opts);
  try {
    for (let e = await reader.next(); e; e = await reader.next()) {
      const rec = planner.plan(e);
      if (!rec) continue;
      if (rec.op === Op.File && sourceFd !== undefined) {
        rec.sourceOffset = reader.dataOffset;
        await sink.push(encodeRecord(rec));
        continue;
      }
      await sink.push(encodeRecord(rec));
      if (rec.op === Op.File) for await (const part of reader.data()) await sink.push(part);
    }
    await reader.drain();
    await sink.push(encodeRecord({ op: Op.End, path: '' }));
    await sink.flush();
    child.stdin.end();
  } catch (err) {
    child.kill('SIGKILL');
    const childErr = await exit;
    // A write error on the pipe means the unpacker failed first: its message is the real one.
    const first = childErr && !(err instanceof BerthError) ? childErr : err;
    throw first instanceof BerthError ? new BerthError(first.code, `${label}: ${first.message}`, { cause: err }) : internal(`${label}: ${String(err)}`, err);
  }
  const failed = await exit;
  if (failed) throw new BerthError(failed.code, `${label}: ${failed.message}`, { cause: failed });
  return reader.entries;
}

function verified(result: ApplyResult, opts: ApplyOptions, label: string): ApplyResult {
  if (opts.expectedDigest && result.digest !== opts.expectedDigest) {
    throw invalidArgument(`${label}: digest mismatch: expected ${opts.expectedDigest}, got ${result.digest}`);
  }
  if (opts.expectedDiffId && result.diffId !== opts.expectedDiffId) {
    throw invalidArgument(`${label}: diff ID mismatch: expected ${opts.expectedDiffId}, got ${result.diffId}`);
  }
  return result;
}
