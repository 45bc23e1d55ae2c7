// Persistent network namespaces kept as nsfs bind mounts at a file path (berth uses
// <exec-root>/netns/<id>, not /run/netns, so it never mixes with `ip netns`).
//
// Propagation: a bind mount on a *private* directory is copied into every mount namespace
// created later (a container's, before its pivot_root; a systemd service's PrivateTmp…)
// and unmounting it here leaves those copies behind, pinning the namespace — and with it
// the container's veth peer — forever. Like `ip netns add` (iproute2 ip/ipnetns.c), the
// directory is first made a shared mount (a bind of itself if it is not a mount point),
// so an unmount here propagates to those copies.
import { mkdir, open, readFile, realpath, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { runTool, HostToolError } from '../util/host-tool.js';
import { conflict, errnoCode } from '../util/errors.js';
import { KeyedMutex } from '../util/keyed-mutex.js';

interface MountEntry {
  mountPoint: string;
  fsType: string;
  shared: boolean;
}

/** mountinfo escapes blanks, newlines and backslashes in paths as \ooo. */
function unescapeMountPath(text: string): string {
  return text.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

async function readMounts(): Promise<MountEntry[]> {
  const text = await readFile('/proc/self/mountinfo', 'utf8');
  const entries: MountEntry[] = [];
  for (const line of text.split('\n')) {
    const fields = line.split(' ');
    const dash = fields.indexOf('-');
    if (dash < 6) continue;
    entries.push({
      mountPoint: unescapeMountPath(fields[4]!),
      fsType: fields[dash + 1] ?? '',
      shared: fields.slice(6, dash).some((f) => f.startsWith('shared:')),
    });
  }
  return entries;
}

/** The path with its directory resolved, as mountinfo shows it; undefined if the directory is gone. */
async function canonicalPath(path: string): Promise<string | undefined> {
  try {
    return join(await realpath(dirname(path)), basename(path));
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw err;
  }
}

/** The topmost mount at `path`, if any (later lines of mountinfo stack on earlier ones). */
function mountAt(mounts: readonly MountEntry[], path: string): MountEntry | undefined {
  for (let i = mounts.length - 1; i >= 0; i--) {
    if (mounts[i]!.mountPoint === path) return mounts[i];
  }
  return undefined;
}

// Two namespaces created at once in a fresh directory must not both bind it onto itself.
const dirMutex = new KeyedMutex();

// Directories this process made (or found) shared: a mount stays, so each is checked once.
const sharedDirs = new Set<string>();

async function ensureSharedDir(dir: string): Promise<void> {
  if (sharedDirs.has(dir)) return;
  await mkdir(dir, { recursive: true, mode: 0o755 });
  const real = await realpath(dir);
  await dirMutex.run(real, async () => {
    const mount = mountAt(await readMounts(), real);
    if (mount?.shared) return;
    if (mount === undefined) await runTool(['mount', '--bind', real, real]);
    await runTool(['mount', '--make-shared', real]);
  });
  sharedDirs.add(dir);
}

/** Whether a network namespace is mounted at `path`. */
export async function netnsExists(path: string): Promise<boolean> {
  const real = await canonicalPath(path);
  if (real === undefined) return false;
  return mountAt(await readMounts(), real)?.fsType === 'nsfs';
}

/** The empty file the namespace is bound onto; a leftover unmounted one is reused. */
async function createMountTarget(path: string): Promise<void> {
  try {
    const handle = await open(path, 'wx', 0o444);
    await handle.close();
  } catch (err) {
    if (errnoCode(err) !== 'EEXIST') throw err;
  }
}

/** A command line with what it reads on stdin, for whoever runs it (berthd, or berth-shim for it). */
export interface ToolCommand {
  argv: string[];
  input: string;
}

/**
 * What createNetns runs once the file is there: unshare binds a new namespace at `path`,
 * then ip brings `lo` up and runs the `inside` batch lines in it (an endpoint made from
 * the inside), all in one process.
 */
export function netnsCommand(path: string, inside: readonly string[] = []): ToolCommand {
  return { argv: ['unshare', `--net=${path}`, 'ip', '-batch', '-'], input: ['link set lo up', ...inside].join('\n') + '\n' };
}

/**
 * The namespace file's directory made a shared mount (once) and the empty file created, so
 * netnsCommand can bind the namespace there. Fails with a conflict if one is already there.
 */
export async function prepareNetns(path: string): Promise<void> {
  await ensureSharedDir(dirname(path));
  if (await netnsExists(path)) throw conflict(`network namespace ${path} already exists`);
  await createMountTarget(path);
}

/**
 * Creates a new network namespace and binds it at `path` (its directory is created and
 * made a shared mount), with `lo` up and then `inside` (ip batch lines) run in it. Fails
 * with a conflict if one is already there.
 */
export async function createNetns(path: string, inside: readonly string[] = []): Promise<void> {
  await prepareNetns(path);
  try {
    const { argv, input } = netnsCommand(path, inside);
    await runTool(argv, { input });
  } catch (err) {
    await removeNetns(path).catch(() => undefined);
    throw err;
  }
}

function isNotMounted(err: unknown): boolean {
  return err instanceof HostToolError && /not mounted|no mount point/i.test(err.stderr);
}

/**
 * Unmounts (lazily, so an open handle does not block it) and deletes a namespace file.
 * Idempotent: a missing file or one that is not mounted is fine.
 */
export async function removeNetns(path: string): Promise<void> {
  const real = await canonicalPath(path);
  if (real === undefined) return;
  // Stacked binds (a namespace created twice over a leftover) need one unmount each.
  for (let i = 0; i < 8 && mountAt(await readMounts(), real) !== undefined; i++) {
    try {
      await runTool(['umount', '--lazy', real]);
    } catch (err) {
      if (!isNotMounted(err)) throw err;
    }
  }
  try {
    await unlink(real);
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw err;
  }
}

/**
 * Undoes the shared self-bind createNetns puts on a namespace directory (for tests and
 * uninstall; the daemon leaves it in place, as `ip netns` leaves /run/netns). Idempotent.
 */
export async function releaseNetnsDir(dir: string): Promise<void> {
  sharedDirs.delete(dir);
  let real: string;
  try {
    real = await realpath(dir);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return;
    throw err;
  }
  await dirMutex.run(real, async () => {
    if (mountAt(await readMounts(), real) === undefined) return;
    try {
      await runTool(['umount', '--lazy', real]);
    } catch (err) {
      if (!isNotMounted(err)) throw err;
    }
  });
}
