// `berth cp` (docker/cli cli/command/container/cp.go): copy between a container and the
// host in either direction; "-" streams a tar on stdin or stdout.
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { EngineClient } from '../../client/index.js';
import type { PathStat } from '../../oci/engine-api.js';
import type { CommandContext, CommandDef } from '../command.js';
import { StatusError } from '../command.js';
import { destinationInfo, extractInto, prepareArchiveCopy, rebaser, resolveLocalPath, sourceInfo, splitPathDirEntry, tarHostPath, type CopyInfo } from './cp-archive.js';

/** Go's os.FileMode type bits as the archive stat carries them. */
const MODE_DIR = 2 ** 31;
const MODE_SYMLINK = 2 ** 27;
const MODE_TYPE = MODE_DIR | MODE_SYMLINK | 2 ** 26 /* device */ | 2 ** 25 /* pipe */ | 2 ** 24 /* socket */ | 2 ** 21 /* char */ | 2 ** 19 /* irregular */;

const isDir = (s: PathStat): boolean => (s.mode & MODE_DIR) !== 0 || s.mode >= MODE_DIR;
const isSymlink = (s: PathStat): boolean => Math.floor(s.mode / MODE_SYMLINK) % 2 === 1;
const isRegularOrDir = (s: PathStat): boolean => isDir(s) || (s.mode & MODE_TYPE) === 0;

interface CpOptions {
  followLink: boolean;
  copyUIDGID: boolean;
  quiet: boolean;
}

export const cpCommand: CommandDef = {
  name: 'cp',
  aliases: ['container cp'],
  usage: 'berth cp [OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n\tberth cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH',
  summary:
    "Copy files/folders between a container and the local filesystem\n\nUse '-' as the source to read a tar archive from stdin\nand extract it to a directory destination in a container.\nUse '-' as the destination to stream a tar archive of a\ncontainer source to stdout.",
  minArgs: 2,
  maxArgs: 2,
  flags: [
    { name: 'archive', short: 'a', type: 'bool', usage: 'Archive mode (copy all uid/gid information)' },
    { name: 'follow-link', short: 'L', type: 'bool', usage: 'Always follow symbol link in SRC_PATH' },
    { name: 'quiet', short: 'q', type: 'bool', usage: 'Suppress progress output during copy. Progress output is automatically suppressed if no terminal is attached' },
  ],
  async run(ctx, args, values) {
    const [source, destination] = args as [string, string];
    if (source === '') throw new StatusError(1, 'source can not be empty');
    if (destination === '') throw new StatusError(1, 'destination can not be empty');
    const opts: CpOptions = {
      followLink: values['follow-link'] === true,
      copyUIDGID: values.archive === true,
      // Without -q, quiet exactly when stdout is no terminal (docker's rule).
      quiet: ctx.changed?.has('quiet') ? values.quiet === true : !ctx.stdout.isTTY,
    };
    const [srcContainer, srcPath] = splitCpArg(source);
    const [dstContainer, dstPath] = splitCpArg(destination);
    if (srcContainer && dstContainer) throw new StatusError(1, 'copying between containers is not supported');
    if (!srcContainer && !dstContainer) throw new StatusError(1, 'must specify at least one container source');
    const client = await ctx.client();
    if (srcContainer) return copyFromContainer(ctx, client, srcContainer, srcPath, dstPath, opts);
    return copyToContainer(ctx, client, dstContainer, srcPath, dstPath, opts);
  },
};

/** CONTAINER:PATH, or a local path (absolute, or with no colon, or starting with "."). */
export function splitCpArg(arg: string): [string, string] {
  if (arg.startsWith('/')) return ['', arg];
  const colon = arg.indexOf(':');
  if (colon < 0 || arg.startsWith('.')) return ['', arg];
  return [arg.slice(0, colon), arg.slice(colon + 1)];
}

async function copyFromContainer(ctx: CommandContext, client: EngineClient, container: string, srcPathIn: string, dstPathIn: string, opts: CpOptions): Promise<number> {
  let srcPath = srcPathIn;
  let rebaseName = '';
  if (opts.followLink) {
    const st = await client.statPath(container, srcPath).catch(() => undefined);
    if (st && isSymlink(st)) {
      let target = st.linkTarget;
      if (!target.startsWith('/')) target = `${splitPathDirEntry(srcPath)[0]}/${target}`;
      const [, srcBase] = splitPathDirEntry(srcPath);
      const [, targetBase] = splitPathDirEntry(target);
      if (srcBase !== targetBase) rebaseName = srcBase;
      srcPath = target;
    }
  }
  const { stat, tar } = await client.getArchive(container, srcPath);
  if (dstPathIn === '-') {
    await pipeline(tar, ctx.stdout, { end: false });
    return 0;
  }
  const dstPath = resolveLocalPath(dstPathIn);
  const src: CopyInfo = { path: srcPath, exists: true, isDir: isDir(stat), rebaseName };
  let dst: CopyInfo;
  let plan;
  try {
    dst = await destinationInfo(dstPath);
    plan = prepareArchiveCopy(src, dst);
  } catch (err) {
    tar.destroy();
    throw new StatusError(1, (err as Error).message);
  }
  const rename = rebaseName ? chain(rebaser(splitPathDirEntry(srcPath)[1], rebaseName), plan.rename) : plan.rename;
  const written = await extractInto(tar, plan.dir, rename);
  if (!opts.quiet) ctx.stderr.write(await summary(isDir(stat) ? written : stat.size, dstPath));
  return 0;
}

function chain(a: (n: string) => string, b: (n: string) => string): (n: string) => string {
  return (n) => b(a(n));
}

async function copyToContainer(ctx: CommandContext, client: EngineClient, container: string, srcPathIn: string, dstPath: string, opts: CpOptions): Promise<number> {
  let dst: CopyInfo = { path: dstPath, exists: false, isDir: false, rebaseName: '' };
  try {
    let st = await client.statPath(container, dstPath);
    if (isSymlink(st)) {
      let target = st.linkTarget;
      if (!target.startsWith('/')) target = `${splitPathDirEntry(dstPath)[0]}/${target}`;
      dst.path = target;
      st = await client.statPath(container, target);
    }
    if (!isRegularOrDir(st)) throw new StatusError(1, `destination "${container}:${dstPath}" must be a directory or a regular file`);
    dst = { ...dst, exists: true, isDir: isDir(st) };
  } catch (err) {
    if (err instanceof StatusError) throw err;
    // Intentionally ignored: the path may not exist yet, and the daemon reports real errors below.
  }
  if (srcPathIn === '-') {
    if (!dst.isDir) throw new StatusError(1, `destination "${container}:${dstPath}" must be a directory`);
    await client.putArchive(container, dst.path, ctx.stdin, { noOverwriteDirNonDir: true, copyUIDGID: opts.copyUIDGID });
    return 0;
  }
  const srcPath = resolveLocalPath(srcPathIn);
  let src: CopyInfo;
  let plan;
  try {
    src = await sourceInfo(srcPath, opts.followLink);
    plan = prepareArchiveCopy(src, dst);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new StatusError(1, e.code === 'ENOENT' ? `lstat ${srcPath.replace(/\/\.?$/, '')}: no such file or directory` : e.message);
  }
  let copied = 0;
  const counting = async function* (): AsyncGenerator<Buffer> {
    for await (const chunk of tarHostPath(src, plan.rename)) {
      copied += chunk.length;
      yield chunk;
    }
  };
  await client.putArchive(container, plan.dir, Readable.from(counting()), { noOverwriteDirNonDir: true, copyUIDGID: opts.copyUIDGID });
  if (!opts.quiet) ctx.stderr.write(await summary(await contentSize(src.path).catch(() => copied), `${container}:${dst.path}`));
  return 0;
}

async function summary(size: number, where: string): Promise<string> {
  const { humanSizeWithPrecision } = await import('../../util/units.js');
  return `Successfully copied ${humanSizeWithPrecision(size, 3)} to ${where}\n`;
}

/** localContentSize: regular files' bytes under a path. */
async function contentSize(path: string): Promise<number> {
  const { promises: fsp } = await import('node:fs');
  const { join } = await import('node:path');
  const root = path.replace(/\/\.$/, '');
  const st = await fsp.lstat(root);
  if (!st.isDirectory()) return st.isFile() ? st.size : 0;
  let total = 0;
  for (const e of await fsp.readdir(root, { withFileTypes: true })) total += e.isDirectory() || e.isFile() ? await contentSize(join(root, e.name)) : 0;
  return total;
}
