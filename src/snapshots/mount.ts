// Performing the mounts a snapshotter returns, with the host mount/umount programs.
import { mkdtemp, rmdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { invalidArgument } from '../util/errors.js';
import { HostToolError, runTool } from '../util/host-tool.js';
import type { Mount } from './snapshotter.js';

// mount(2) copies at most one page of option data; the kernel silently truncates the rest.
const PAGE_SIZE = 4096;
// Compact before getting close to the page, as containerd does: the kernel and mount(8) may
// add bytes of their own.
const COMPACT_THRESHOLD = PAGE_SIZE - 512;

export interface CompactedOptions {
  /** Directory the relative paths in `options` are relative to, when compacted. */
  cwd?: string;
  options: string[];
}

function optionsSize(options: readonly string[]): number {
  return options.join(',').length;
}

function commonDir(paths: readonly string[]): string {
  let common = paths[0]!.split(sep).slice(0, -1);
  for (const p of paths.slice(1)) {
    const parts = p.split(sep);
    let i = 0;
    while (i < common.length && i < parts.length - 1 && common[i] === parts[i]) i++;
    common = common.slice(0, i);
  }
  return common.join(sep) || sep;
}

/**
 * Make a long overlay lowerdir fit in the mount data page: rewrite lowerdir (and upperdir and
 * workdir when they share the directory) relative to the lowerdirs' common parent, to be
 * mounted with that directory as the working directory (containerd's compactLowerdirOption).
 */
export function compactOverlayOptions(options: readonly string[]): CompactedOptions {
  const lowerIdx = options.findIndex((o) => o.startsWith('lowerdir='));
  if (lowerIdx < 0 || optionsSize(options) < COMPACT_THRESHOLD) return { options: [...options] };
  const lowers = options[lowerIdx]!.slice('lowerdir='.length).split(':');
  if (lowers.length < 2 || !lowers.every(isAbsolute)) return { options: [...options] };
  const cwd = commonDir(lowers);
  if (cwd === sep) return { options: [...options] };
  const rel = (p: string): string | undefined => {
    const r = relative(cwd, p);
    return r !== '' && !r.startsWith('..') && !isAbsolute(r) ? r : undefined;
  };
  const compacted = options.map((o, i) => {
    if (i === lowerIdx) return `lowerdir=${lowers.map((l) => rel(l)!).join(':')}`;
    const m = /^(upperdir|workdir)=(.*)$/.exec(o);
    const r = m && isAbsolute(m[2]!) ? rel(m[2]!) : undefined;
    return m && r !== undefined ? `${m[1]}=${r}` : o;
  });
  return { cwd, options: compacted };
}

// x- options are userspace annotations (fstab convention); the kernel must not see them.
function kernelOptions(m: Mount): string[] {
  return m.options.filter((o) => !o.startsWith('x-'));
}

async function mountOne(m: Mount, target: string): Promise<void> {
  const { cwd, options }: CompactedOptions =
    m.type === 'overlay' ? compactOverlayOptions(kernelOptions(m)) : { options: kernelOptions(m) };
  if (optionsSize(options) >= PAGE_SIZE) {
    throw invalidArgument(`mount options for ${m.type} on ${target} are too long (${optionsSize(options)} bytes, limit ${PAGE_SIZE - 1})`);
  }
  const argv = ['mount', '-t', m.type, ...(options.length > 0 ? ['-o', options.join(',')] : []), m.source, target];
  await runTool(argv, cwd === undefined ? {} : { cwd });
}

/** A mount as mount(2) takes it (type, source, one data string, the cwd relative overlay paths need), for mounting elsewhere (berthd mounts rootfs inside the container's namespace). */
export function kernelMount(m: Mount): { type: string; source: string; data: string; cwd?: string } {
  if (m.type === 'bind' || m.options.includes('bind') || m.options.includes('rbind')) {
    return { type: 'bind', source: m.source, data: kernelOptions(m).filter((o) => o === 'ro' || o === 'rw').join(',') };
  }
  const { cwd, options }: CompactedOptions = m.type === 'overlay' ? compactOverlayOptions(kernelOptions(m)) : { options: kernelOptions(m) };
  const data = options.join(',');
  if (data.length >= PAGE_SIZE) throw invalidArgument(`mount options for ${m.type} are too long (${data.length} bytes, limit ${PAGE_SIZE - 1})`);
  return cwd === undefined ? { type: m.type, source: m.source, data } : { type: m.type, source: m.source, data, cwd };
}

/** Mount every mount at `target` in order; on failure, undo the ones already made. */
export async function mountAll(mounts: readonly Mount[], target: string): Promise<void> {
  const abs = resolve(target);
  for (let i = 0; i < mounts.length; i++) {
    try {
      await mountOne(mounts[i]!, abs);
    } catch (err) {
      for (let j = 0; j < i; j++) await unmount(abs, { detach: true }).catch(() => undefined);
      throw err;
    }
  }
}

export interface UnmountOptions {
  /** Also unmount everything below target (umount -R). */
  recursive?: boolean;
  /** Detach now, clean up when no longer busy (umount -l). */
  detach?: boolean;
}

const BUSY_RETRIES = 20;
const BUSY_DELAY_MS = 50;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Unmount target; a target that is not mounted is not an error. Retries briefly while busy. */
export async function unmount(target: string, opts: UnmountOptions = {}): Promise<void> {
  const argv = ['umount', ...(opts.recursive ? ['-R'] : []), ...(opts.detach ? ['-l'] : []), resolve(target)];
  for (let attempt = 0; ; attempt++) {
    try {
      await runTool(argv);
      return;
    } catch (err) {
      if (!(err instanceof HostToolError)) throw err;
      if (/not mounted|no mount point specified|: not found$/m.test(err.stderr)) return;
      if (!/busy/i.test(err.stderr) || attempt >= BUSY_RETRIES) throw err;
      await sleep(BUSY_DELAY_MS);
    }
  }
}

export interface TempMountOptions {
  /** Where the temporary mount point is created (default: the OS temp dir). */
  tmpRoot?: string;
}

/** Mount at a fresh temporary directory; release() unmounts and removes it. */
export async function mountTemp(mounts: readonly Mount[], opts: TempMountOptions = {}): Promise<{ dir: string; release: () => Promise<void> }> {
  const dir = await mkdtemp(join(opts.tmpRoot ?? tmpdir(), 'berth-mount-'));
  try {
    await mountAll(mounts, dir);
  } catch (err) {
    await rmdir(dir).catch(() => undefined);
    throw err;
  }
  return { dir, release: () => releaseTempMount(dir) };
}

/** Mount at a fresh temporary directory, run fn on it, then always unmount and remove it. */
export async function withTempMount<T>(
  mounts: readonly Mount[],
  fn: (dir: string) => Promise<T>,
  opts: TempMountOptions = {},
): Promise<T> {
  const { dir, release } = await mountTemp(mounts, opts);
  try {
    return await fn(dir);
  } finally {
    await release();
  }
}

// A plain unmount can fail while something still has a file open in the tree; detaching
// still frees the directory, which the caller relies on.
async function releaseTempMount(dir: string): Promise<void> {
  try {
    await unmount(dir, { recursive: true });
  } catch {
    await unmount(dir, { recursive: true, detach: true });
  }
  // rmdir, never a recursive remove: if anything is still mounted here it must fail, not
  // delete the mounted snapshot's files.
  await rmdir(dir);
}
