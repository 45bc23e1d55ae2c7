// The spooled context tar → an EntryTree, reading headers by position (member data is not
// read). Each member is applied as go-archive's Untar would leave the directory: names
// cleaned into the root, absolute names taken as relative, the last of duplicate names
// wins, a non-directory replacing a directory removes what was under it, missing parents
// become directories, hardlinks share their target's data. What Untar would refuse (names
// climbing out, links to nothing) is refused; so are members under a symlink, which
// berth never writes through (DESIGN §6).
import type { FileHandle } from 'node:fs/promises';
import { invalidArgument } from '../../util/errors.js';
import { FileTarSource } from '../../images/tar/file-source.js';
import { TarReader, type TarLimits } from '../../images/tar/reader.js';
import type { TarEntry } from '../../images/tar/header.js';
import { cleanName } from '../../images/layer/policy.js';
import { EntryTree, dirEntry, parentOf, type ContextEntry } from './tree.js';

export async function indexTar(file: FileHandle, size: number, limits: TarLimits): Promise<EntryTree> {
  const tree = new EntryTree();
  const reader = new TarReader(new FileTarSource(file, size), { ...limits, allowMissingEnd: true });
  let inodes = 0;
  for (let e = await reader.next(); e; e = await reader.next()) {
    const name = cleanName(e.name);
    if (name === '') {
      // "./": the root's own metadata
      if (e.type !== 'dir') throw invalidArgument(`invalid build context: member ${JSON.stringify(e.name)} names the root but is not a directory`);
      tree.set({ ...fromHeader(e, '', 0, 0), implied: false });
      continue;
    }
    ensureParents(tree, name, e);
    if (e.type === 'hardlink') {
      tree.set(hardlink(tree, name, e));
      continue;
    }
    const inode = e.type === 'file' ? ++inodes : 0;
    tree.set(fromHeader(e, name, e.type === 'file' ? reader.dataOffset : 0, inode));
  }
  return tree;
}

function fromHeader(e: TarEntry, path: string, dataOffset: number, inode: number): ContextEntry {
  return {
    path,
    type: e.type === 'hardlink' ? 'file' : e.type,
    mode: e.mode & 0o7777,
    uid: e.uid,
    gid: e.gid,
    size: e.type === 'file' ? e.size : 0,
    mtimeSec: e.mtimeSec,
    mtimeNsec: e.mtimeNsec,
    linkname: e.type === 'symlink' ? e.linkname : '',
    devmajor: e.devmajor,
    devminor: e.devminor,
    dataOffset,
    inode,
    implied: false,
  };
}

/** Parents that no member named are directories (0755, root, the member's mtime). */
function ensureParents(tree: EntryTree, name: string, e: TarEntry): void {
  const missing: string[] = [];
  for (let p = parentOf(name); p !== ''; p = parentOf(p)) {
    const at = tree.get(p);
    if (at) {
      if (at.type !== 'dir') {
        throw invalidArgument(`invalid build context: ${JSON.stringify(e.name)} is under ${JSON.stringify(p)}, which is a ${at.type}, not a directory`);
      }
      break;
    }
    missing.push(p);
  }
  for (const p of missing.reverse()) tree.set(dirEntry(p, e.mtimeSec));
}

/**
 * A hardlink names an earlier member's data: it takes that member's type, data and
 * metadata (one inode). A target that is missing (or only comes later), or a directory,
 * is refused as Untar's link(2) would fail.
 */
function hardlink(tree: EntryTree, name: string, e: TarEntry): ContextEntry {
  const shown = JSON.stringify(`${e.name} -> ${e.linkname}`);
  const target = cleanName(e.linkname, 'hardlink');
  const t = target === name ? undefined : tree.get(target);
  if (!t) throw invalidArgument(`invalid build context: hardlink ${shown}: its target is not an earlier member`);
  if (t.type === 'dir') throw invalidArgument(`invalid build context: hardlink ${shown}: its target is a directory`);
  return { ...t, path: name, implied: false };
}
