// Reads a file inside a container's root filesystem, treating the rootfs as hostile: every path
// component is opened relative to the directory before it and never followed as a symlink by the
// kernel; symlinks are resolved here, inside the root (as securejoin does), so nothing outside the
// root is ever opened. Node has no openat(2): /proc/self/fd/<dirfd>/<name> opened with O_NOFOLLOW is
// the same lookup (only the last component, <name>, is looked up in the directory the fd holds).
import { constants as fsc } from 'node:fs';
import { lstat, open, readlink, type FileHandle } from 'node:fs/promises';

import { errnoCode, invalidArgument } from '../../util/errors.js';

/** Linux's MAXSYMLINKS for one lookup. */
const MAX_SYMLINKS = 40;

// (libuv adds O_CLOEXEC to every open.)
const DIR_FLAGS = fsc.O_RDONLY | fsc.O_DIRECTORY | fsc.O_NOFOLLOW;
// O_NONBLOCK: a FIFO planted at the path must not hang the daemon.
const FILE_FLAGS = fsc.O_RDONLY | fsc.O_NOFOLLOW | fsc.O_NONBLOCK;

const procPath = (dir: FileHandle, name: string): string => `/proc/self/fd/${dir.fd}/${name}`;

/**
 * The contents of `path` (absolute, inside `root`), or undefined when it does not exist, is not a
 * regular file, or its symlinks loop. A file larger than `maxBytes` is an error.
 */
export async function readFileInRoot(root: string, path: string, maxBytes: number): Promise<Buffer | undefined> {
  const stack: FileHandle[] = [await open(root, DIR_FLAGS)];
  try {
    const file = await walk(stack, path);
    if (!file) return undefined;
    try {
      return await readRegular(file, path, maxBytes);
    } finally {
      await file.close();
    }
  } finally {
    await Promise.all(stack.map((h) => h.close()));
  }
}

/** Walks `path` from the root (stack[0]); returns the opened final file, or undefined. */
async function walk(stack: FileHandle[], path: string): Promise<FileHandle | undefined> {
  const pending = components(path);
  let links = 0;
  while (pending.length > 0) {
    const name = pending.shift()!;
    if (name === '..') {
      if (stack.length > 1) await stack.pop()!.close();
      continue;
    }
    const dir = stack[stack.length - 1]!;
    const last = pending.length === 0;
    const opened = await openComponent(dir, name, last);
    if (opened === 'missing') return undefined;
    if (opened === 'symlink') {
      if (++links > MAX_SYMLINKS) return undefined;
      const target = await readlink(procPath(dir, name));
      if (target.startsWith('/')) while (stack.length > 1) await stack.pop()!.close();
      pending.unshift(...components(target));
      continue;
    }
    if (last) return opened;
    stack.push(opened);
  }
  return undefined; // the path named a directory (or the root itself)
}

function components(path: string): string[] {
  return path.split('/').filter((c) => c !== '' && c !== '.');
}

async function openComponent(dir: FileHandle, name: string, last: boolean): Promise<FileHandle | 'symlink' | 'missing'> {
  // A device node or FIFO planted where a file is expected is never opened (opening has side effects).
  if (last && (await isSpecialFile(dir, name))) return 'missing';
  try {
    return await open(procPath(dir, name), last ? FILE_FLAGS : DIR_FLAGS);
  } catch (err) {
    const code = errnoCode(err);
    // O_NOFOLLOW on a symlink: ELOOP (or ENOTDIR with O_DIRECTORY on some kernels); tell them apart.
    if (code === 'ELOOP' || code === 'ENOTDIR') return (await isSymlink(dir, name)) ? 'symlink' : 'missing';
    if (code === 'ENOENT' || code === 'EACCES' || code === 'ENXIO') return 'missing';
    throw err;
  }
}

async function isSpecialFile(dir: FileHandle, name: string): Promise<boolean> {
  try {
    const st = await lstat(procPath(dir, name));
    return st.isCharacterDevice() || st.isBlockDevice() || st.isFIFO() || st.isSocket();
  } catch {
    return false;
  }
}

async function isSymlink(dir: FileHandle, name: string): Promise<boolean> {
  try {
    await readlink(procPath(dir, name));
    return true;
  } catch {
    return false;
  }
}

const CHUNK = 64 * 1024;

async function readRegular(file: FileHandle, path: string, maxBytes: number): Promise<Buffer | undefined> {
  if (!(await file.stat()).isFile()) return undefined;
  const chunks: Buffer[] = [];
  let total = 0;
  for (;;) {
    const chunk = Buffer.alloc(CHUNK);
    const { bytesRead } = await file.read(chunk, 0, CHUNK, total);
    if (bytesRead === 0) return Buffer.concat(chunks, total);
    chunks.push(chunk.subarray(0, bytesRead));
    total += bytesRead;
    if (total > maxBytes) throw invalidArgument(`${path} in the container is larger than ${maxBytes} bytes`);
  }
}
