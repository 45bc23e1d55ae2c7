// du for one snapshot directory: allocated bytes and distinct inodes, hardlinks counted
// once, not crossing into other filesystems (du -x), not following symlinks. The walk is
// berth-unpack's (nftw in C): from Node every lstat is a thread-pool round trip, which
// made committing a 7,000-file layer take over a second.
import { runTool } from '../util/host-tool.js';
import { internal } from '../util/errors.js';
import { UNPACK_PATH } from '../util/native-tools.js';
import type { Usage } from './snapshotter.js';

export async function diskUsage(root: string): Promise<Usage> {
  const { stdout } = await runTool([UNPACK_PATH, 'du', root]);
  const m = /^(\d+) (\d+)\n$/.exec(stdout);
  if (!m) throw internal(`berth-unpack du ${root}: unexpected output ${JSON.stringify(stdout.slice(0, 100))}`);
  return { size: Number(m[1]), inodes: Number(m[2]) };
}
