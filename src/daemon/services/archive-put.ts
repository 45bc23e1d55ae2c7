// docker cp into a container: PUT /containers/{id}/archive, after moby's
// containerExtractToDir and go-archive's Unpack. The target directory is resolved inside the
// container's root (symlinks followed as the container sees them); each tar member is then
// renamed to "<that directory>/<member>" and handed to berth-unpack's applier with the root
// as its root, so every write is resolved by openat2(RESOLVE_IN_ROOT): a symlink in the
// container or in the archive can at worst lead somewhere else inside the container.
//
// Whiteouts: a cp archive is not a layer. As go-archive's Untar (AUFS format, no converter),
// a ".wh.x" member is an ordinary file named ".wh.x"; nothing is ever deleted by name.
import { posix } from 'node:path';
import type { Readable } from 'node:stream';
import type { ArchiveOptions } from '../backend.js';
import { BerthError, invalidArgument, internal, notFound } from '../../util/errors.js';
import { spawnApply } from '../../images/layer/apply.js';
import type { TarEntry } from '../../images/tar/header.js';
import { TarReader } from '../../images/tar/reader.js';
import { decompress, peekCompression } from '../../images/layer/compression.js';
import { allowedXattrs, DEFAULT_LAYER_LIMITS } from '../../images/layer/policy.js';
import { encodeRecord, Op, RecordSink, type UnpackRecord } from '../../images/layer/records.js';
import { resolveInRoot } from './root-access.js';
import { resolveContainerUser, type Owner } from './container-user.js';

/** berth-unpack's exit status for ENOSPC/EDQUOT (native/unpack/main.c). */

export interface PutArchiveOptions extends ArchiveOptions {
  /** Names the container in Docker's 404 message. */
  container?: string;
  /** The container's Config.User: with copyUIDGID, everything is owned by that user (as moby). */
  user?: string;
  /** HostConfig.ReadonlyRootfs: the copy is refused, as Docker does. */
  readonlyRootfs?: boolean;
}

/** Extract tar (plain, gzip or zstd) into the directory path of the container's root. */
export async function putArchive(rootfs: string, path: string, tar: Readable, opts: PutArchiveOptions): Promise<void> {
  const target = await resolveInRoot(rootfs, posix.join('/', path));
  if (target.kind === 'missing') throw notFound(`Could not find the file ${path} in container ${opts.container ?? ''}`);
  if (target.kind !== 'dir') throw invalidArgument('extraction point is not a directory');
  if (opts.readonlyRootfs) throw invalidArgument('container rootfs is marked read-only');
  const owner = opts.copyUIDGID && opts.user ? await resolveContainerUser(rootfs, opts.user) : undefined;
  const { kind, stream } = await peekCompression(tar);
  const reader = new TarReader(decompress(stream, kind), DEFAULT_LAYER_LIMITS);
  const planner = new CopyPlanner(target.path.slice(1), owner);
  await runApplier(rootfs, opts.noOverwriteDirNonDir, reader, planner);
}

/** A member name relative to the extraction directory, as go-archive cleans it; "" for the directory itself. */
function memberName(name: string, what: 'entry' | 'hardlink', original = name): string {
  if (name.includes('\0')) throw invalidArgument(`invalid ${what} name ${JSON.stringify(original)}`);
  const clean = posix.normalize(name.replace(/^\/+/, '') || '.').replace(/\/+$/, '');
  if (clean === '..' || clean.startsWith('../')) {
    throw invalidArgument(what === 'entry' ? `invalid entry name ${JSON.stringify(original)}` : `invalid hardlink ${JSON.stringify(original)}`);
  }
  return clean === '.' ? '' : clean;
}

/** Tar members → berth-unpack records under the target directory (a root-relative path). */
class CopyPlanner {
  constructor(private readonly dir: string, private readonly owner: Owner | undefined) {}

  private under(name: string): string {
    return this.dir ? `${this.dir}/${name}` : name;
  }

  plan(e: TarEntry): UnpackRecord | undefined {
    const name = memberName(e.name, 'entry');
    if (name === '') return undefined; // the extraction directory keeps its own metadata (go-archive skips ".")
    const rec: UnpackRecord = {
      op: Op.File,
      path: this.under(name),
      mode: e.mode,
      uid: this.owner?.uid ?? e.uid,
      gid: this.owner?.gid ?? e.gid,
      mtimeSec: e.mtimeSec,
      mtimeNsec: e.mtimeNsec,
    };
    const xattrs = allowedXattrs(e.xattrs);
    if (xattrs) rec.xattrs = xattrs;
    switch (e.type) {
      case 'file':
        rec.size = e.size;
        return rec;
      case 'dir':
        return { ...rec, op: Op.Dir };
      case 'symlink':
        // Kept verbatim: the applier never follows it, and inside the root it cannot lead out.
        return { ...rec, op: Op.Symlink, link: e.linkname };
      case 'hardlink': {
        const target = memberName(e.linkname, 'hardlink', `${e.name} -> ${e.linkname}`);
        if (target === '') throw invalidArgument(`invalid hardlink ${JSON.stringify(`${e.name} -> ${e.linkname}`)}`);
        return { ...rec, op: Op.Hardlink, link: this.under(target) };
      }
      case 'char':
      case 'block':
        return { ...rec, op: e.type === 'char' ? Op.Char : Op.Block, devmajor: e.devmajor, devminor: e.devminor };
      case 'fifo':
        return { ...rec, op: Op.Fifo };
    }
  }
}

function startApplier(rootfs: string, noOverwriteDirNonDir: boolean) {
  // cross-mounts: a running container's root (/proc/<pid>/root) has its volumes mounted in it.
  return spawnApply([rootfs, 'native', 'cross-mounts', ...(noOverwriteDirNonDir ? ['no-overwrite-dir-nondir'] : [])]);
}

async function runApplier(rootfs: string, noOverwriteDirNonDir: boolean, reader: TarReader, planner: CopyPlanner): Promise<void> {
  const { child, exit } = startApplier(rootfs, noOverwriteDirNonDir);
  const sink = new RecordSink(child.stdin);
  try {
    for (let e = await reader.next(); e; e = await reader.next()) {
      const rec = planner.plan(e);
      if (!rec) continue;
      await sink.push(encodeRecord(rec));
      if (rec.op === Op.File) for await (const part of reader.data()) await sink.push(part);
    }
    await sink.push(encodeRecord({ op: Op.End, path: '' }));
    await sink.flush();
    child.stdin.end();
  } catch (err) {
    child.kill('SIGKILL');
    const childErr = await exit;
    // A write error on the pipe means the applier failed first: its message is the real one.
    if (childErr && !(err instanceof BerthError)) throw childErr;
    throw err instanceof BerthError ? err : internal(`extracting the archive: ${String(err)}`, err);
  }
  const failed = await exit;
  if (failed) throw failed;
}
