// A container's Config.User ("name", "uid", "name:group", "uid:gid", ...) as ids, looked up
// in the container's own /etc/passwd and /etc/group (read inside its root, never the host's),
// with moby's rules from daemon/archive_tarcopyoptions_unix.go (getUIDGID).
import { invalidArgument } from '../../util/errors.js';
import { readFileInRoot } from './root-access.js';

export interface Owner {
  uid: number;
  gid: number;
}

const MAX_ID = 2 ** 31 - 1;

/** A decimal id as Go's strconv.ParseUint(s, 10, 32) ≤ MaxInt32 accepts it, else undefined (a name). */
function numericId(s: string): number | undefined {
  if (!/^\d+$/.test(s)) return undefined;
  const n = Number(s);
  return n <= MAX_ID ? n : undefined;
}

/** Lines of a colon-separated database (passwd, group), comments and blank lines skipped. */
function records(text: string | undefined): string[][] {
  if (text === undefined) return [];
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => l.split(':'));
}

async function lookupUser(rootfs: string, nameOrId: string): Promise<Owner> {
  const passwd = records((await readFileInRoot(rootfs, '/etc/passwd'))?.toString('utf8'));
  const id = numericId(nameOrId);
  const match = passwd.find((f) => (id === undefined ? f[0] === nameOrId : numericId(f[2] ?? '') === id));
  if (match) return { uid: Number(match[2]), gid: Number(match[3]) };
  // As `docker run --user 12345`: an unknown uid is used as is, with group 0.
  if (id !== undefined) return { uid: id, gid: 0 };
  throw invalidArgument(`failed to look up user "${nameOrId}" in container: no matching entries in passwd file`);
}

async function lookupGroup(rootfs: string, nameOrId: string): Promise<number> {
  const id = numericId(nameOrId);
  if (id !== undefined) return id;
  const group = records((await readFileInRoot(rootfs, '/etc/group'))?.toString('utf8'));
  const match = group.find((f) => f[0] === nameOrId);
  if (!match) throw invalidArgument(`failed to look up group "${nameOrId}" in container: no matching entries in group file`);
  return Number(match[2]);
}

/** user[:group]; an empty part means root (0), as `docker run --user ":33"`. */
export async function resolveContainerUser(rootfs: string, user: string): Promise<Owner> {
  const colon = user.indexOf(':');
  const userPart = colon === -1 ? user : user.slice(0, colon);
  const groupPart = colon === -1 ? '' : user.slice(colon + 1);
  const owner: Owner = userPart === '' ? { uid: 0, gid: 0 } : await lookupUser(rootfs, userPart);
  if (groupPart !== '') owner.gid = await lookupGroup(rootfs, groupPart);
  return owner;
}
