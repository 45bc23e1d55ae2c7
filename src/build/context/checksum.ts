// The build-cache key of a COPY's sources: a sha256 over what the copy would produce —
// names, types, modes, link targets, device numbers and each file's content digest.
// Not mtimes (BuildKit ignores them too: touching a file keeps the cache) and not owners
// (COPY resets them; --chown is part of the instruction's own key).
import { createHash } from 'node:crypto';
import type { BuildContext } from './archive.js';
import type { SourceMatch } from './sources.js';

export async function checksumSources(ctx: BuildContext, matches: readonly SourceMatch[]): Promise<string> {
  const h = createHash('sha256');
  for (const m of matches) {
    h.update(`source ${JSON.stringify(m.path)}${m.parentsPath !== undefined ? ` parents ${JSON.stringify(m.parentsPath)}` : ''}\n`);
    for (const d of m.parentDirs) h.update(`parent ${(d.mode & 0o7777).toString(8)}\n`);
    for (const { rel, entry: e } of m.items) {
      let line = `${JSON.stringify(rel)} ${e.type} ${(e.mode & 0o7777).toString(8)}`;
      if (e.type === 'symlink') line += ` -> ${JSON.stringify(e.linkname)}`;
      else if (e.type === 'file') line += ` ${await ctx.fileDigest(e)}`;
      else if (e.type === 'char' || e.type === 'block') line += ` ${e.devmajor},${e.devminor}`;
      h.update(`${line}\n`);
    }
  }
  return `sha256:${h.digest('hex')}`;
}
