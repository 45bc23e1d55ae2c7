// A COPY plan as a tar stream, for the layer applier: member names are destination paths
// relative to "/", file data is read from the context's spool as the stream is consumed
// (one file's chunk at a time, however large the copy).
import { Readable } from 'node:stream';
import { dataPadding, END_OF_ARCHIVE, entryHeader, type WriteEntry } from '../../images/tar/writer.js';
import type { BuildContext } from './archive.js';
import type { CopyItem, CopyPlan } from './copy-plan.js';

export function copyArchive(ctx: BuildContext, plan: CopyPlan): Readable {
  return Readable.from(members(ctx, plan), { objectMode: false });
}

async function* members(ctx: BuildContext, plan: CopyPlan): AsyncGenerator<Buffer> {
  for (const it of plan.items) {
    const name = it.dest.replace(/^\/+/, '');
    if (name === '') continue; // the image's root is never rewritten
    yield entryHeader(header(it, name));
    if (it.type === 'file' && it.hardlinkTo === undefined && it.source) {
      yield* ctx.readData(it.source);
      yield dataPadding(it.source.size);
    }
  }
  yield END_OF_ARCHIVE;
}

function header(it: CopyItem, name: string): WriteEntry {
  const base = { mode: it.mode, uid: it.uid, gid: it.gid, mtimeSec: it.mtimeSec, mtimeNsec: it.mtimeNsec };
  if (it.hardlinkTo !== undefined) return { ...base, name, type: 'hardlink', linkname: it.hardlinkTo.replace(/^\/+/, '') };
  switch (it.type) {
    case 'dir':
      return { ...base, name: `${name}/`, type: 'dir' };
    case 'file':
      return { ...base, name, type: 'file', size: it.source?.size ?? 0 };
    case 'symlink':
      return { ...base, name, type: 'symlink', linkname: it.linkname };
    case 'char':
    case 'block':
      return { ...base, name, type: it.type, devmajor: it.devmajor, devminor: it.devminor };
    case 'fifo':
      return { ...base, name, type: 'fifo' };
  }
}
