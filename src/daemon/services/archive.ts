// docker cp out of a container: HEAD/GET /containers/{id}/archive, after moby's
// daemon/archive_unix.go (containerStatPath, containerArchivePath) and go-archive's
// TarResourceRebaseOpts. `rootfs` is the container's root as mounted on the host by the
// caller; it is hostile, so every lookup is done by berth-unpack inside it (root-access.ts):
// a symlink is followed as the container would follow it, never out to the host.
// docker cp into a container is in archive-put.ts.
import { posix } from 'node:path';
import { Readable } from 'node:stream';
import type { PathStat } from '../../oci/engine-api.js';
import { notFound } from '../../util/errors.js';
import { ENTRY_TYPES } from '../../images/layer/diff.js';
import { dataPadding, END_OF_ARCHIVE, entryHeader, type WriteEntry } from '../../images/tar/writer.js';
import { Op } from '../../images/layer/records.js';
import { MissingInRoot, RootReader, statInRoot, type RootRecord, type RootStat } from './root-access.js';

export { putArchive, type PutArchiveOptions } from './archive-put.js';

// Go's os.FileMode type bits (PathStat.mode is a FileMode).
const GO_MODE = {
  dir: 2 ** 31,
  symlink: 2 ** 27,
  device: 2 ** 26,
  namedPipe: 2 ** 25,
  socket: 2 ** 24,
  setuid: 2 ** 23,
  setgid: 2 ** 22,
  charDevice: 2 ** 21,
  sticky: 2 ** 20,
};

const S_IFMT = 0o170000;

/** st_mode → Go's os.FileMode, as os.Lstat reports it to moby. */
export function goFileMode(stMode: number): number {
  let mode = stMode & 0o777;
  if (stMode & 0o4000) mode += GO_MODE.setuid;
  if (stMode & 0o2000) mode += GO_MODE.setgid;
  if (stMode & 0o1000) mode += GO_MODE.sticky;
  switch (stMode & S_IFMT) {
    case 0o040000: return mode + GO_MODE.dir;
    case 0o120000: return mode + GO_MODE.symlink;
    case 0o060000: return mode + GO_MODE.device;
    case 0o020000: return mode + GO_MODE.device + GO_MODE.charDevice;
    case 0o010000: return mode + GO_MODE.namedPipe;
    case 0o140000: return mode + GO_MODE.socket;
    default: return mode;
  }
}

/** A time as Go's JSON encoding writes it (RFC 3339, nanoseconds without trailing zeros), in UTC. */
export function goTime(sec: number, nsec: number): string {
  const base = new Date(sec * 1000).toISOString().slice(0, 19);
  const frac = nsec ? `.${String(nsec).padStart(9, '0').replace(/0+$/, '')}` : '';
  return `${base}${frac}Z`;
}

/** Go's filepath.Base. */
function goBase(path: string): string {
  if (path === '') return '.';
  const trimmed = path.replace(/\/+$/, '');
  if (trimmed === '') return '/';
  return trimmed.slice(trimmed.lastIndexOf('/') + 1);
}

/**
 * filepath.Join("/", path) with moby's PreserveTrailingDotOrSeparator: "/etc/." still means
 * "the contents of /etc" and "/etc/" still means "/etc, which must be a directory".
 */
export function containerPath(path: string): string {
  let clean = posix.join('/', path);
  if (clean.length > 1 && clean.endsWith('/')) clean = clean.slice(0, -1);
  if ((path.endsWith('/.') || path === '.') && !clean.endsWith('/.')) return clean === '/' ? '/.' : `${clean}/.`;
  if (path.endsWith('/') && !clean.endsWith('/')) return `${clean}/`;
  return clean;
}

function fileNotFound(path: string, container: string): Error {
  return notFound(`Could not find the file ${path} in container ${container}`);
}

function pathStat(name: string, st: RootStat): PathStat {
  return { name, size: st.size, mode: goFileMode(st.mode), mtime: goTime(st.mtimeSec, st.mtimeNsec), linkTarget: st.linkTarget };
}

async function statOrNotFound(rootfs: string, path: string, asked: string, container: string): Promise<RootStat> {
  try {
    return await statInRoot(rootfs, path);
  } catch (err) {
    throw err instanceof MissingInRoot ? fileNotFound(asked, container) : err;
  }
}

/** HEAD /containers/{id}/archive: the path's lstat, its symlink target resolved in the container. */
export async function statPath(rootfs: string, path: string, container = ''): Promise<PathStat> {
  return pathStat(goBase(path), await statOrNotFound(rootfs, containerPath(path), path, container));
}

/**
 * GET /containers/{id}/archive: the stat and a tar of the path. A directory's entries are
 * named after its base name ("/etc" → "etc/", "etc/passwd"); "/etc/." gives "./", "./passwd"
 * (the contents); a file or symlink is one entry named by its base name (links not followed).
 */
export async function getArchive(rootfs: string, path: string, container = ''): Promise<{ stat: PathStat; tar: Readable }> {
  const abs = containerPath(path);
  const st = await statOrNotFound(rootfs, abs, path, container);
  const stat = pathStat(goBase(abs), st);
  const reader = new RootReader(rootfs, abs);
  // Read the first record now, so a path that vanished since the stat is still a 404 here.
  let first: RootRecord | null;
  try {
    first = await reader.next();
  } catch (err) {
    reader.close();
    throw err instanceof MissingInRoot ? fileNotFound(path, container) : err;
  }
  const isDir = (st.mode & S_IFMT) === 0o040000;
  const rename = entryNamer(isDir ? '.' : goBase(abs), goBase(abs));
  const tar = Readable.from(tarOf(reader, first, rename), { objectMode: false });
  tar.on('close', () => reader.close());
  return { stat, tar };
}

/**
 * go-archive's rebasing: the walk's relative names ("." and "./a" for a directory, the base
 * name for a file) get their first `include` replaced by the rebase name ("/" → "").
 */
function entryNamer(include: string, rebaseName: string): (recordPath: string) => string {
  const replacement = rebaseName === '/' ? '' : rebaseName;
  return (recordPath) => {
    const rel = include === '.' ? (recordPath === '.' ? '.' : `./${recordPath}`) : recordPath === '.' ? include : `${include}/${recordPath}`;
    return rel.replace(include, replacement);
  };
}


/** One tar member as go-archive's addTarFile writes it: times in whole seconds, only security.capability. */
function toEntry(r: RootRecord, rename: (p: string) => string): WriteEntry {
  const type = ENTRY_TYPES[r.op];
  if (!type) throw new Error(`unexpected record op ${r.op} for ${r.path}`);
  const name = rename(r.path);
  const capability = r.xattrs.get('security.capability');
  return {
    name: type === 'dir' && !name.endsWith('/') ? `${name}/` : name,
    type,
    mode: r.mode,
    uid: r.uid,
    gid: r.gid,
    mtimeSec: r.mtimeSec,
    size: type === 'file' ? Number(r.size) : 0,
    linkname: type === 'symlink' ? r.link : type === 'hardlink' ? rename(r.link) : '',
    devmajor: type === 'char' || type === 'block' ? Number(r.size >> 32n) : 0,
    devminor: type === 'char' || type === 'block' ? Number(r.size & 0xffffffffn) : 0,
    ...(capability ? { xattrs: new Map([['security.capability', capability]]) } : {}),
  };
}

async function* tarOf(reader: RootReader, first: RootRecord | null, rename: (p: string) => string): AsyncGenerator<Buffer> {
  try {
    for (let r = first; r; r = await reader.next()) {
      yield entryHeader(toEntry(r, rename));
      if (r.op !== Op.File) continue;
      for await (const part of reader.data()) yield part;
      yield dataPadding(Number(r.size));
    }
    yield END_OF_ARCHIVE;
  } finally {
    reader.close();
  }
}
