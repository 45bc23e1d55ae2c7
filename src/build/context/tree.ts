// The build context as a tree of entries keyed by cleaned relative path ("" is the root),
// and path resolution inside it: symlinks are followed as if the context were "/", so no
// name, however hostile, resolves outside the context.
import { invalidArgument } from '../../util/errors.js';

export type ContextEntryType = 'file' | 'dir' | 'symlink' | 'char' | 'block' | 'fifo';

export interface ContextEntry {
  /** Cleaned path relative to the context root; "" for the root. */
  readonly path: string;
  readonly type: ContextEntryType;
  /** Permission bits with setuid/setgid/sticky (0o7777). */
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  /** Bytes of data (files only). */
  readonly size: number;
  readonly mtimeSec: number;
  readonly mtimeNsec: number;
  /** Symlink target, verbatim. */
  readonly linkname: string;
  readonly devmajor: number;
  readonly devminor: number;
  /** Where the file's data starts in the spool file. */
  readonly dataOffset: number;
  /** Names that are hardlinks of one another share this number. */
  readonly inode: number;
  /** A directory no member named: it exists because something under it does. */
  readonly implied: boolean;
}

/** How many symlinks one resolution may follow (Linux's MAXSYMLINKS). */
const MAX_SYMLINKS = 40;

export function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i === -1 ? '' : path.slice(0, i);
}

export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

export function rootEntry(over: Partial<ContextEntry> = {}): ContextEntry {
  return dirEntry('', 0, { implied: true, ...over });
}

export function dirEntry(path: string, mtimeSec: number, over: Partial<ContextEntry> = {}): ContextEntry {
  return {
    path,
    type: 'dir',
    mode: 0o755,
    uid: 0,
    gid: 0,
    size: 0,
    mtimeSec,
    mtimeNsec: 0,
    linkname: '',
    devmajor: 0,
    devminor: 0,
    dataOffset: 0,
    inode: 0,
    implied: true,
    ...over,
  };
}

const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export class EntryTree {
  private readonly entries = new Map<string, ContextEntry>();
  /** Directory path → the names directly in it. */
  private readonly kids = new Map<string, Set<string>>();

  constructor(root: ContextEntry = rootEntry()) {
    this.entries.set('', { ...root, path: '', type: 'dir' });
    this.kids.set('', new Set());
  }

  get size(): number {
    return this.entries.size;
  }

  get(path: string): ContextEntry | undefined {
    return this.entries.get(path);
  }

  /** Add or replace an entry; its parent must already be a directory of the tree. */
  set(entry: ContextEntry): void {
    const old = this.entries.get(entry.path);
    if (old?.type === 'dir' && entry.type !== 'dir') this.remove(entry.path);
    this.entries.set(entry.path, entry);
    if (entry.path === '') return;
    const parent = parentOf(entry.path);
    const siblings = this.kids.get(parent);
    if (!siblings) throw new Error(`internal: no directory ${JSON.stringify(parent)} for ${JSON.stringify(entry.path)}`);
    siblings.add(baseName(entry.path));
    if (entry.type === 'dir' && !this.kids.has(entry.path)) this.kids.set(entry.path, new Set());
  }

  /** Remove path and everything under it. */
  remove(path: string): void {
    const names = this.kids.get(path);
    if (names) for (const n of names) this.remove(path === '' ? n : `${path}/${n}`);
    this.kids.delete(path);
    if (path === '') return;
    this.entries.delete(path);
    this.kids.get(parentOf(path))?.delete(baseName(path));
  }

  /** The entries directly in a directory, sorted by name. */
  children(dir: string): ContextEntry[] {
    const names = this.kids.get(dir);
    if (!names) return [];
    return [...names].sort(byName).map((n) => this.entries.get(dir === '' ? n : `${dir}/${n}`)!);
  }

  /** Everything under dir (not dir itself), depth first, each directory's names sorted. */
  *walk(dir = ''): Generator<ContextEntry> {
    for (const e of this.children(dir)) {
      yield e;
      if (e.type === 'dir') yield* this.walk(e.path);
    }
  }

  /**
   * What path names, following symlinks inside the tree (all of them, or all but the last
   * component when followFinal is false). undefined when nothing is there.
   */
  resolve(path: string, followFinal: boolean): ContextEntry | undefined {
    const queue = path.split('/').filter((c) => c !== '' && c !== '.');
    const done: string[] = [];
    let links = 0;
    let at = this.entries.get('')!;
    while (queue.length > 0) {
      const c = queue.shift()!;
      if (c === '..') {
        if (at.type !== 'dir') return undefined;
        done.pop(); // ".." of the root is the root
        at = this.entries.get(done.join('/'))!;
        continue;
      }
      if (at.type !== 'dir') return undefined; // ENOTDIR
      const next = this.entries.get(done.length === 0 ? c : `${done.join('/')}/${c}`);
      if (!next) return undefined;
      if (next.type === 'symlink' && (queue.length > 0 || followFinal)) {
        if (++links > MAX_SYMLINKS) throw invalidArgument(`${path}: too many levels of symbolic links in the build context`);
        const target = next.linkname;
        if (target === '') return undefined; // as Linux: an empty target names nothing
        if (target.startsWith('/')) done.length = 0; // absolute: from the context root
        queue.unshift(...target.split('/').filter((x) => x !== '' && x !== '.'));
        at = this.entries.get(done.join('/'))!;
        continue;
      }
      done.push(c);
      at = next;
    }
    return at;
  }
}
