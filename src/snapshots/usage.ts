// du for one snapshot directory: allocated bytes and distinct inodes, hardlinks counted
// once, not crossing into other filesystems (du -x), not following symlinks.
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Usage } from './snapshotter.js';

export async function diskUsage(root: string): Promise<Usage> {
  const rootStat = await lstat(root, { bigint: true });
  const seen = new Set<bigint>();
  let size = 0n;
  const visit = async (path: string): Promise<void> => {
    const st = await lstat(path, { bigint: true });
    if (st.dev !== rootStat.dev || seen.has(st.ino)) return;
    seen.add(st.ino);
    size += st.blocks * 512n;
    if (!st.isDirectory()) return;
    for (const name of await readdir(path)) await visit(join(path, name));
  };
  await visit(root);
  return { size: Number(size), inodes: seen.size };
}
