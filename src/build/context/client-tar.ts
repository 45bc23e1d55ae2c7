// The context as `docker build <dir>` sends it (docker/cli's ValidateContextDirectory then
// go-archive's TarWithOptions): the directory walked without following symlinks, ignored
// paths left out except the Dockerfile and the ignore file, owners reset to 0:0, modes and
// mtimes (whole seconds) kept, hardlinks inside the tree sent as hardlinks. Names are in
// walk order (each directory sorted), so the same tree gives the same bytes. Nothing is
// emitted before the whole tree was checked, so an unreadable file fails the build
// before any byte is sent; file data is then streamed one chunk at a time.
import { constants, type Stats } from 'node:fs';
import { lstat, open, readdir, readFile, readlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { errnoCode, invalidArgument } from '../../util/errors.js';
import { dataPadding, END_OF_ARCHIVE, entryHeader, type WriteEntry } from '../../images/tar/writer.js';
import { goClean } from './go-path.js';
import { IgnoreMatcher, ignoreFileFor } from './ignore.js';

export interface ContextTarOptions {
  /** The Dockerfile's path relative to dir. */
  dockerfile: string;
  ignore: IgnoreMatcher;
}

const READ_CHUNK = 1024 * 1024;

export function contextTar(dir: string, opts: ContextTarOptions): Readable {
  return Readable.from(generate(resolve(dir), opts), { objectMode: false });
}

/** The ignore file Docker would use for this Dockerfile, read from the context directory. */
export async function loadIgnoreFile(dir: string, dockerfile: string): Promise<{ path: string | undefined; matcher: IgnoreMatcher }> {
  for (const candidate of ignoreFileFor(dockerfile)) {
    let text: string;
    try {
      text = await readFile(join(dir, candidate), 'utf8');
    } catch (err) {
      if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') continue;
      throw invalidArgument(`error reading ${candidate}: ${(err as Error).message}`, err);
    }
    return { path: candidate, matcher: IgnoreMatcher.fromFile(text) };
  }
  return { path: undefined, matcher: new IgnoreMatcher([]) };
}

interface Found {
  rel: string;
  abs: string;
  st: Stats;
}

async function* generate(root: string, opts: ContextTarOptions): AsyncGenerator<Buffer> {
  const df = goClean(opts.dockerfile).replace(/^\.\//, '');
  const buildFiles = df.startsWith('../') || df === '..' ? ['.dockerignore'] : ['.dockerignore', df, ...ignoreFileFor(df)];
  const matcher = opts.ignore.keeping(buildFiles);
  const found: Found[] = [];
  await scan(root, '', matcher, found);
  const seen = new Map<string, string>();
  for (const f of found) {
    const base = { mode: f.st.mode & 0o7777, uid: 0, gid: 0, mtimeSec: Math.floor(f.st.mtimeMs / 1000) };
    if (!f.st.isDirectory() && f.st.nlink > 1) {
      const key = `${f.st.dev}:${f.st.ino}`;
      const first = seen.get(key);
      if (first !== undefined) {
        yield entryHeader({ ...base, name: f.rel, type: 'hardlink', linkname: first });
        continue;
      }
      seen.set(key, f.rel);
    }
    yield entryHeader(await header(f, base));
    if (f.st.isFile()) {
      yield* fileData(f);
      yield dataPadding(f.st.size);
    }
  }
  yield END_OF_ARCHIVE;
}

async function header(f: Found, base: Omit<WriteEntry, 'name' | 'type'>): Promise<WriteEntry> {
  const st = f.st;
  if (st.isDirectory()) return { ...base, name: `${f.rel}/`, type: 'dir' };
  if (st.isFile()) return { ...base, name: f.rel, type: 'file', size: st.size };
  if (st.isSymbolicLink()) return { ...base, name: f.rel, type: 'symlink', linkname: await readlink(f.abs) };
  if (st.isFIFO()) return { ...base, name: f.rel, type: 'fifo' };
  // glibc's dev_t layout: major in bits 8-19 and 32-43, minor in bits 0-7 and 12-31.
  const rdev = BigInt(st.rdev);
  const devmajor = Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn));
  const devminor = Number((rdev & 0xffn) | ((rdev >> 12n) & ~0xffn));
  return { ...base, name: f.rel, type: st.isCharacterDevice() ? 'char' : 'block', devmajor, devminor };
}

async function* fileData(f: Found): AsyncGenerator<Buffer> {
  const fh = await open(f.abs, constants.O_RDONLY | constants.O_NOFOLLOW).catch((err: unknown) => {
    throw invalidArgument(`error checking context: no permission to read from '${f.abs}'`, err);
  });
  try {
    let left = f.st.size;
    let pos = 0;
    while (left > 0) {
      const buf = Buffer.allocUnsafe(Math.min(left, READ_CHUNK));
      const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
      if (bytesRead === 0) throw invalidArgument(`error sending context: '${f.abs}' shrank while it was being read`);
      pos += bytesRead;
      left -= bytesRead;
      yield bytesRead === buf.length ? buf : buf.subarray(0, bytesRead);
    }
  } finally {
    await fh.close();
  }
}

function statError(path: string, err: unknown): Error {
  const code = errnoCode(err);
  if (code === 'EACCES' || code === 'EPERM') return invalidArgument(`error checking context: can't stat '${path}'`, err);
  if (code === 'ENOENT') return invalidArgument(`error checking context: file ('${path}') not found or excluded by .dockerignore`, err);
  return invalidArgument(`error checking context: ${path}: ${(err as Error).message}`, err);
}

/** Metadata of everything to send, in walk order; opens each file once to prove it readable. */
async function scan(absDir: string, relDir: string, matcher: IgnoreMatcher, out: Found[]): Promise<void> {
  let names: string[];
  try {
    names = await readdir(absDir);
  } catch (err) {
    throw statError(absDir, err);
  }
  names.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  for (const name of names) {
    const abs = join(absDir, name);
    const rel = relDir === '' ? name : `${relDir}/${name}`;
    let st: Stats;
    try {
      st = await lstat(abs);
    } catch (err) {
      throw statError(abs, err);
    }
    if (matcher.matches(rel)) {
      if (st.isDirectory() && matcher.mustWalk(rel)) await scan(abs, rel, matcher, out);
      continue;
    }
    if (st.isSocket()) continue; // tar has no sockets; go-archive skips them too
    if (st.isFile()) {
      try {
        await (await open(abs, constants.O_RDONLY | constants.O_NOFOLLOW)).close();
      } catch (err) {
        const code = errnoCode(err);
        if (code === 'EACCES' || code === 'EPERM') throw invalidArgument(`error checking context: no permission to read from '${abs}'`, err);
        throw statError(abs, err);
      }
    }
    out.push({ rel, abs, st });
    if (st.isDirectory()) await scan(abs, rel, matcher, out);
  }
}
