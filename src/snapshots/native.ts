// The native snapshotter: every active snapshot is a full copy of its parent's tree, exposed
// by a bind mount. Works on any filesystem; with reflinks (btrfs, xfs) copies are cheap.
import { chmod, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { runTool } from '../util/host-tool.js';
import type { Mount } from './snapshotter.js';
import { StoreSnapshotter, type NewKind } from './store.js';

export class NativeSnapshotter extends StoreSnapshotter {
  readonly name = 'native' as const;

  private constructor(root: string) {
    super(root);
  }

  static async open(root: string): Promise<NativeSnapshotter> {
    const s = new NativeSnapshotter(root);
    await s.init();
    return s;
  }

  protected override async populate(dir: string, kind: NewKind, parents: readonly string[]): Promise<void> {
    const fs = join(dir, 'fs');
    const parent = parents[0];
    if (kind === 'active' && parent !== undefined) {
      // -a keeps owners, modes, times, xattrs, devices and hardlinks; the parent's own
      // root directory attributes come along because fs does not exist yet (-T).
      // setpriv --pdeathsig: a copy must not outlive a killed berth and keep writing into a
      // directory that the next open removes as a leftover.
      await runTool(['setpriv', '--pdeathsig', 'KILL', '--', 'cp', '-a', '--reflink=auto', '-T', parent, fs]);
      return;
    }
    // A view of a parent binds the parent itself (committed trees never change), so a view
    // owns only an empty directory, which is also what a parentless snapshot starts from.
    await mkdir(fs);
    await chmod(fs, 0o755);
  }

  protected override mountsFor(dir: string, kind: NewKind, parents: readonly string[]): Mount[] {
    const fs = join(dir, 'fs');
    if (kind === 'active') return [{ type: 'bind', source: fs, options: ['rw', 'rbind'] }];
    return [{ type: 'bind', source: parents[0] ?? fs, options: ['ro', 'rbind'] }];
  }
}
