// The overlay snapshotter: a committed snapshot is one layer directory; an active snapshot
// is an upper directory over its parents' layers, a view is their read-only union.
import { chmod, chown, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { unavailable } from '../util/errors.js';
import { pidAlive } from '../util/lockfile.js';
import { mountAll, unmount } from './mount.js';
import { OVERLAY_STYLE_OPTION, type Kind, type Mount } from './snapshotter.js';
import { StoreSnapshotter, type NewKind } from './store.js';

/** The kernel's limit on lower layers in one overlay mount (OVL_MAX_STACK). */
export const OVERLAY_MAX_LAYERS = 500;

const PROBE_PREFIX = '.overlay-probe-';

// Characters with a meaning inside the overlay option string (separators, quoting).
const UNSAFE_PATH = /[,:"\\\n]/;

/**
 * Whether an overlay with two lowers, an upper and a work dir can be mounted on the
 * filesystem of `root` (not every filesystem can be an upper layer, e.g. overlay itself):
 * true, or the reason it cannot.
 */
export async function overlaySupported(root: string): Promise<true | string> {
  const abs = resolve(root);
  if (UNSAFE_PATH.test(abs)) return `overlay cannot use ${abs}: the path contains one of , : " \\ or a newline`;
  await mkdir(abs, { recursive: true, mode: 0o711 });
  // The pid in the name lets a later open tell a dead process's probe from a running one.
  const dir = await mkdtemp(join(abs, `${PROBE_PREFIX}${process.pid}-`));
  try {
    return await probe(dir);
  } catch (err) {
    return `overlay is not usable on ${abs}: ${(err as Error).message}`;
  } finally {
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
  }
}

async function probe(dir: string): Promise<true | string> {
  const [l1, l2, upper, work, merged] = ['l1', 'l2', 'upper', 'work', 'merged'].map((n) => join(dir, n)) as [string, string, string, string, string];
  for (const d of [l1, l2, upper, work, merged]) await mkdir(d);
  await writeFile(join(l1, 'lower'), 'x');
  await mountAll([{ type: 'overlay', source: 'overlay', options: [`lowerdir=${l2}:${l1}`, `upperdir=${upper}`, `workdir=${work}`] }], merged);
  try {
    await readFile(join(merged, 'lower'));
    await writeFile(join(merged, 'upper'), 'x');
  } finally {
    await unmount(merged, { detach: true });
  }
  return existsSync(join(upper, 'upper')) ? true : `overlay on ${dir} did not write to its upper directory`;
}

function has(param: string): boolean {
  return existsSync(`/sys/module/overlay/parameters/${param}`);
}

// Turned off explicitly whenever the kernel knows them, whatever the host's defaults:
// index ties an upper directory to the lowers of its first mount, which fails remounting a
// snapshot on a different chain; redirect_dir and metacopy would put redirects and
// metadata-only copies in an upper directory, which then no longer holds a layer's full diff.
function featureOptions(): string[] {
  return ['index', 'redirect_dir', 'metacopy'].filter(has).map((p) => `${p}=off`);
}

export class OverlaySnapshotter extends StoreSnapshotter {
  readonly name = 'overlay' as const;
  protected override readonly maxParents = OVERLAY_MAX_LAYERS;

  private constructor(
    root: string,
    private readonly features: readonly string[],
  ) {
    super(root);
  }

  /** Open (creating) the store at root; Unavailable when overlay cannot work there. */
  static async open(root: string): Promise<OverlaySnapshotter> {
    const ok = await overlaySupported(root);
    if (ok !== true) throw unavailable(ok);
    // Read after the probe: the module's parameters exist only once it is loaded.
    const s = new OverlaySnapshotter(root, featureOptions());
    await s.init();
    return s;
  }

  protected override async populate(dir: string, kind: NewKind, parents: readonly string[]): Promise<void> {
    const fs = join(dir, 'fs');
    await mkdir(fs);
    await chmod(fs, 0o755);
    if (kind === 'view') return;
    await mkdir(join(dir, 'work'));
    await chmod(join(dir, 'work'), 0o711);
    const parent = parents[0];
    if (parent !== undefined) {
      // The union's root directory takes its owner and mode from the upper directory; keep
      // the image's (e.g. a user-namespaced image with a remapped root).
      const st = await stat(parent);
      await chown(fs, st.uid, st.gid);
      await chmod(fs, st.mode & 0o7777);
    }
  }

  protected override mountsFor(dir: string, kind: NewKind, parents: readonly string[]): Mount[] {
    const fs = join(dir, 'fs');
    const lowerdir = `lowerdir=${parents.join(':')}`;
    if (kind === 'active') {
      if (parents.length === 0) return [{ type: 'bind', source: fs, options: ['rw', 'rbind', OVERLAY_STYLE_OPTION] }];
      return [{ type: 'overlay', source: 'overlay', options: [...this.features, `workdir=${join(dir, 'work')}`, `upperdir=${fs}`, lowerdir] }];
    }
    // overlay needs two lowers when it has no upper; one layer is just a read-only bind.
    if (parents.length <= 1) return [{ type: 'bind', source: parents[0] ?? fs, options: ['ro', 'rbind'] }];
    return [{ type: 'overlay', source: 'overlay', options: [...this.features, lowerdir] }];
  }

  protected override dirProblems(key: string, dir: string, kind: Kind): string[] {
    if (kind !== 'active' || isDir(join(dir, 'work'))) return [];
    return [`corrupt: snapshot ${JSON.stringify(key)}: ${dir}/work is missing`];
  }

  protected override rootLeftovers(): string[] {
    return readdirSync(this.root)
      .filter((n) => n.startsWith(PROBE_PREFIX) && !pidAlive(Number.parseInt(n.slice(PROBE_PREFIX.length), 10)))
      .map((n) => join(this.root, n));
  }
}

function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

