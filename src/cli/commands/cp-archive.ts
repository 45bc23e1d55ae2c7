// The local half of `berth cp`, as moby's pkg/archive does it for docker's CLI: tar a
// host path (TarResourceRebase), rename entries (RebaseArchiveEntries), decide where a
// copy lands (CopyInfoDestinationPath, PrepareArchiveCopy) and extract a container's tar
// into the host (Untar with NoLchown and NoOverwriteDirNonDir). Extraction never leaves
// the destination directory and never writes through a symlink.
import { constants, promises as fsp, type Stats } from 'node:fs';
import { basename, dirname, isAbsolute, join, normalize, relative, resolve, sep } from 'node:path';
import { TarReader } from '../../images/tar/reader.js';
import { entryHeader, dataPadding, END_OF_ARCHIVE, type WriteEntry } from '../../images/tar/writer.js';
import type { TarEntry } from '../../images/tar/header.js';

export interface CopyInfo {
  path: string;
  exists: boolean;
  isDir: boolean;
  rebaseName: string;
}

/** A path ends in "/." : copy the directory's contents, not the directory. */
export function specifiesCurrentDir(p: string): boolean {
  return basename(p) === '.' || p.endsWith('/.');
}

/** A path ends with a separator (or "/."): it must be a directory. */
export function assertsDirectory(p: string): boolean {
  return p.endsWith('/') || specifiesCurrentDir(p);
}

/** SplitPathDirEntry: "/a/b/" → ["/a", "b"]; "/a/b/." → ["/a/b", "."]. */
export function splitPathDirEntry(p: string): [string, string] {
  let cleaned = normalize(p).replace(/(.)\/+$/, '$1');
  if (specifiesCurrentDir(p)) cleaned = `${cleaned.replace(/\/\.$/, '')}/.`;
  const dir = dirname(cleaned);
  return [dir, basename(cleaned) || cleaned];
}

/** filepath.Abs keeping a trailing "/" or "/." the user wrote (PreserveTrailingDotOrSeparator). */
export function resolveLocalPath(p: string): string {
  let abs = resolve(p);
  if (specifiesCurrentDir(p) && !specifiesCurrentDir(abs)) abs += '/.';
  else if (p.endsWith('/') && !abs.endsWith('/')) abs += '/';
  return abs;
}

/** CopyInfoSourcePath: the host source, symlinks of its parents resolved (and its own with -L). */
export async function sourceInfo(path: string, followLink: boolean): Promise<CopyInfo> {
  let resolved: string;
  let rebaseName = '';
  if (followLink) {
    resolved = await fsp.realpath(path);
    const [, base] = splitPathDirEntry(path);
    if (basename(resolved) !== base) rebaseName = base;
  } else {
    const [dir, base] = splitPathDirEntry(path);
    resolved = join(await fsp.realpath(dir), base);
    if (base === '.') resolved += '/.';
  }
  if (assertsDirectory(path) && !assertsDirectory(resolved)) resolved += specifiesCurrentDir(path) ? '/.' : '/';
  const st = await fsp.lstat(resolved.replace(/\/\.$/, '/'));
  return { path: resolved, exists: true, isDir: st.isDirectory(), rebaseName };
}

/** CopyInfoDestinationPath on the host: follows the destination's own symlinks; its parent must exist. */
export async function destinationInfo(path: string): Promise<CopyInfo> {
  let current = path;
  for (let hops = 0; hops < 255; hops++) {
    let st: Stats;
    try {
      st = await fsp.lstat(current);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      const [parent] = splitPathDirEntry(current);
      try {
        await fsp.stat(parent);
      } catch (perr) {
        throw new Error(`lstat ${parent}: no such file or directory`, { cause: perr });
      }
      return { path: current, exists: false, isDir: false, rebaseName: '' };
    }
    if (!st.isSymbolicLink()) return { path: current, exists: true, isDir: st.isDirectory(), rebaseName: '' };
    const target = await fsp.readlink(current);
    current = isAbsolute(target) ? target : join(dirname(current), target);
  }
  throw new Error(`too many links while resolving ${path}`);
}

export type EntryRename = (name: string) => string;

/** PrepareArchiveCopy: where to extract (or PUT) and how the source's entries are renamed. */
export function prepareArchiveCopy(src: CopyInfo, dst: CopyInfo): { dir: string; rename: EntryRename } {
  const [dstDir, dstBase] = splitPathDirEntry(dst.path);
  let [, srcBase] = splitPathDirEntry(src.path);
  const keep: EntryRename = (n) => n;
  if (dst.exists && dst.isDir) return { dir: dst.path.replace(/\/\.?$/, '') || '/', rename: keep };
  if (dst.exists && src.isDir) throw new Error('cannot copy directory');
  if (!dst.exists && !src.isDir && assertsDirectory(dst.path)) throw new Error('no such directory');
  if (src.rebaseName) srcBase = src.rebaseName;
  return { dir: dstDir, rename: rebaser(srcBase, dstBase) };
}

/** RebaseArchiveEntries: names equal to oldBase or under "oldBase/" move to newBase. */
export function rebaser(oldBase: string, newBase: string): EntryRename {
  return (name) => {
    const trailing = name.endsWith('/') ? '/' : '';
    const n = name.replace(/\/+$/, '');
    if (n === oldBase) return newBase + trailing;
    if (n.startsWith(`${oldBase}/`)) return newBase + n.slice(oldBase.length) + trailing;
    return name;
  };
}

/** TarResourceRebase: a tar of a host file or directory, the top entry named `base` (renamed by `rename`). */
export async function* tarHostPath(info: CopyInfo, rename: EntryRename): AsyncGenerator<Buffer> {
  const root = info.path.replace(/\/\.$/, '').replace(/(.)\/$/, '$1');
  const [, base] = splitPathDirEntry(info.path);
  const topName = rename(info.rebaseName ? info.rebaseName : base);
  const links = new Map<string, string>();
  const walk = async function* (abs: string, name: string): AsyncGenerator<Buffer> {
    const st = await fsp.lstat(abs);
    const entry: WriteEntry = {
      name,
      type: 'file',
      mode: st.mode & 0o7777,
      uid: st.uid,
      gid: st.gid,
      mtimeSec: Math.floor(st.mtimeMs / 1000),
    };
    if (st.isDirectory()) {
      yield entryHeader({ ...entry, type: 'dir', name: `${name}/` });
      const children = (await fsp.readdir(abs)).sort();
      for (const c of children) yield* walk(join(abs, c), `${name}/${c}`);
      return;
    }
    if (st.isSymbolicLink()) {
      yield entryHeader({ ...entry, type: 'symlink', linkname: await fsp.readlink(abs) });
      return;
    }
    if (st.isFile()) {
      const key = `${st.dev}:${st.ino}`;
      if (st.nlink > 1 && links.has(key)) {
        yield entryHeader({ ...entry, type: 'hardlink', linkname: links.get(key)! });
        return;
      }
      if (st.nlink > 1) links.set(key, name);
      yield entryHeader({ ...entry, size: st.size });
      yield* fileData(abs, st.size);
      yield dataPadding(st.size);
      return;
    }
    if (st.isFIFO()) {
      yield entryHeader({ ...entry, type: 'fifo' });
      return;
    }
    if (st.isCharacterDevice() || st.isBlockDevice()) {
      const rdev = st.rdev;
      yield entryHeader({ ...entry, type: st.isCharacterDevice() ? 'char' : 'block', devmajor: (rdev >> 8) & 0xfff, devminor: (rdev & 0xff) | ((rdev >> 12) & 0xfff00) });
      return;
    }
    // sockets are skipped, as docker's archive skips them
  };
  if (base === '.') {
    const st = await fsp.lstat(root);
    yield entryHeader({ name: `${topName}/`, type: 'dir', mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtimeSec: Math.floor(st.mtimeMs / 1000) });
    for (const c of (await fsp.readdir(root)).sort()) yield* walk(join(root, c), `${topName}/${c}`);
  } else {
    yield* walk(root, topName);
  }
  yield END_OF_ARCHIVE;
}

/** Exactly `size` bytes of a file (a file that shrank meanwhile is padded with zeros). */
async function* fileData(path: string, size: number): AsyncGenerator<Buffer> {
  const fh = await fsp.open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    let left = size;
    while (left > 0) {
      const buf = Buffer.allocUnsafe(Math.min(left, 256 * 1024));
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (bytesRead === 0) {
        yield Buffer.alloc(left);
        return;
      }
      left -= bytesRead;
      yield buf.subarray(0, bytesRead);
    }
  } finally {
    await fh.close();
  }
}

/** Untar a container's archive into `dir` (entries renamed first); returns the bytes of file data written. */
export async function extractInto(tar: AsyncIterable<Buffer>, dir: string, rename: EntryRename): Promise<number> {
  const reader = new TarReader(tar);
  const root = resolve(dir);
  const dirTimes: Array<[string, number]> = [];
  let written = 0;
  for (let e = await reader.next(); e !== null; e = await reader.next()) {
    const name = rename(e.name);
    const target = insideRoot(root, name);
    if (target === undefined) continue;
    await checkParents(root, target);
    written += await extractEntry(reader, e, root, target, dirTimes);
  }
  for (const [p, mtime] of dirTimes.reverse()) await fsp.utimes(p, mtime, mtime).catch(() => undefined);
  return written;
}

/** The entry's path under root, or undefined for the root itself; names climbing out are refused. */
function insideRoot(root: string, name: string): string | undefined {
  // As docker's Untar: absolute names land inside root, names climbing out are refused.
  const target = join(root, normalize(name)).replace(/\/+$/, '');
  const rel = relative(root, target);
  if (rel === '') return undefined;
  if (rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) throw new Error(`invalid archive entry "${name}": it would be written outside ${root}`);
  return target;
}

/** Every directory between root and target must be a real directory (never a symlink), created as needed. */
async function checkParents(root: string, target: string): Promise<void> {
  const rel = relative(root, dirname(target));
  if (rel === '') return;
  let cur = root;
  for (const part of rel.split(sep)) {
    cur = join(cur, part);
    let st: Stats | undefined;
    try {
      st = await fsp.lstat(cur);
    } catch {
      await fsp.mkdir(cur, { mode: 0o755 });
      continue;
    }
    if (!st.isDirectory()) throw new Error(`cannot extract under ${cur}: not a directory${st.isSymbolicLink() ? ' (a symbolic link)' : ''}`);
  }
}

async function extractEntry(reader: TarReader, e: TarEntry, root: string, target: string, dirTimes: Array<[string, number]>): Promise<number> {
  let existing: Stats | undefined;
  try {
    existing = await fsp.lstat(target);
  } catch {
    existing = undefined;
  }
  if (existing) {
    // NoOverwriteDirNonDir: never replace a directory by a non-directory or the reverse.
    if (existing.isDirectory() && e.type !== 'dir') throw new Error(`cannot overwrite directory "${target}" with non-directory "${e.name}"`);
    if (!existing.isDirectory() && e.type === 'dir') throw new Error(`cannot overwrite non-directory "${target}" with directory "${e.name}"`);
    if (!existing.isDirectory()) await fsp.unlink(target);
  }
  const mtime = e.mtimeSec + e.mtimeNsec / 1e9;
  switch (e.type) {
    case 'dir':
      if (!existing) await fsp.mkdir(target, { mode: e.mode & 0o7777 });
      await fsp.chmod(target, e.mode & 0o7777);
      dirTimes.push([target, mtime]);
      return 0;
    case 'file': {
      const fh = await fsp.open(target, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
      let n = 0;
      try {
        for await (const chunk of reader.data()) {
          await fh.write(chunk);
          n += chunk.length;
        }
        await fh.chmod(e.mode & 0o7777);
      } finally {
        await fh.close();
      }
      await fsp.utimes(target, mtime, mtime);
      return n;
    }
    case 'symlink':
      await fsp.symlink(e.linkname, target);
      await fsp.lutimes(target, mtime, mtime).catch(() => undefined);
      return 0;
    case 'hardlink': {
      const source = insideRoot(root, e.linkname);
      if (source === undefined) throw new Error(`invalid hardlink "${e.name}" to the destination directory itself`);
      await fsp.link(source, target);
      return 0;
    }
    default:
      // Device nodes and fifos need mknod, which a client cannot do portably: skipped.
      return 0;
  }
}
