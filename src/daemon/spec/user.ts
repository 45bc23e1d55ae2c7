// "user", "uid", "user:group", "uid:gid" → uid, gid and supplementary groups, from the container's own
// /etc/passwd and /etc/group, exactly as moby/sys/user GetExecUser (and moby's getUser) read them.
// The files are read with readFileInRoot: the rootfs is hostile and its symlinks never leave it.
import { invalidArgument } from '../../util/errors.js';
import { readFileInRoot } from './rootfs-file.js';
import type { ResolvedUser } from './types.js';

/** The largest /etc/passwd or /etc/group read (real ones are kilobytes). */
export const MAX_USER_FILE = 8 * 1024 * 1024;
const MAX_ID = 2 ** 31 - 1;
const ERR_RANGE = `uids and gids must be in range 0-${MAX_ID}`;

interface PasswdEntry { name: string; uid: number; gid: number; home: string }
interface GroupEntry { name: string; gid: number; members: string[] }

export async function resolveUser(rootfs: string, user: string, groupAdd: readonly string[] = []): Promise<ResolvedUser> {
  const passwd = await readUserFile(rootfs, '/etc/passwd');
  const group = await readUserFile(rootfs, '/etc/group');
  return resolveUserFromFiles(user, passwd, group, groupAdd);
}

async function readUserFile(rootfs: string, path: string): Promise<string | undefined> {
  const data = await readFileInRoot(rootfs, path, MAX_USER_FILE);
  return data?.toString('utf8');
}

/** GetExecUser + GetAdditionalGroups over file texts (undefined: the file is missing). */
export function resolveUserFromFiles(spec: string, passwd: string | undefined, group: string | undefined, groupAdd: readonly string[] = []): ResolvedUser {
  const [userArg = '', groupArg = ''] = spec.split(':');
  const uidArg = parseNumeric(userArg);
  const gidArg = parseNumeric(groupArg);
  const users = parsePasswd(passwd).filter((u) =>
    userArg === '' ? u.uid === 0 : uidArg !== undefined ? u.uid === uidArg : u.name === userArg);
  const out: ResolvedUser = { uid: 0, gid: 0, additionalGids: [], home: '/' };
  let supplementary: number[] = [];
  const matched = users[0];
  if (matched) {
    Object.assign(out, { uid: matched.uid, gid: matched.gid, home: matched.home });
  } else if (userArg !== '') {
    if (uidArg === undefined) throw invalidArgument(`unable to find user ${userArg}: no matching entries in passwd file`);
    out.uid = uidArg;
  }
  if (groupArg !== '' || matched) {
    const groups = parseGroup(group);
    if (groupArg !== '') out.gid = explicitGroup(groups, groupArg, gidArg);
    else supplementary = groups.filter((g) => g.members.includes(matched!.name)).map((g) => g.gid);
  }
  out.additionalGids = unique([out.gid, ...supplementary, ...additionalGroups(groupAdd, group)]);
  return out;
}

function explicitGroup(groups: GroupEntry[], groupArg: string, gidArg: number | undefined): number {
  const found = groups.find((g) => (gidArg !== undefined ? g.gid === gidArg : g.name === groupArg));
  if (found) return found.gid;
  if (gidArg === undefined) throw invalidArgument(`unable to find group ${groupArg}: no matching entries in group file`);
  return gidArg;
}

/** HostConfig.GroupAdd: names must exist in /etc/group; numbers are taken as they are. */
function additionalGroups(names: readonly string[], group: string | undefined): number[] {
  const groups = parseGroup(group);
  return names.map((name) => {
    const gid = parseNumeric(name);
    const found = groups.find((g) => (gid !== undefined ? g.gid === gid : g.name === name));
    if (found) {
      if (found.gid < 0 || found.gid > MAX_ID) throw invalidArgument(ERR_RANGE);
      return found.gid;
    }
    if (gid === undefined) throw invalidArgument(`unable to find group ${name}: no matching entries in group file`);
    return gid;
  });
}

function unique(ids: number[]): number[] {
  return [...new Set(ids)];
}

/** moby parseNumeric: a number (which must be 0..2^31-1) or undefined for a name. */
function parseNumeric(value: string): number | undefined {
  if (value === '' || !/^[+-]?\d+$/.test(value)) return undefined;
  const n = Number(value);
  if (n < 0 || n > MAX_ID) throw invalidArgument(ERR_RANGE);
  return n;
}

/** Go's strconv.Atoi with the error ignored, as parseLine does: 0 for anything not an int64. */
function atoi(text: string | undefined): number {
  if (text === undefined || !/^[+-]?\d+$/.test(text)) return 0;
  const n = Number(text);
  return Math.abs(n) < 2 ** 63 ? n : 0;
}

/** name:password:uid:gid:gecos:home:shell; blank lines skipped (comments are not, as in moby). */
function parsePasswd(text: string | undefined): PasswdEntry[] {
  return lines(text, false).map((line) => {
    const f = line.split(':');
    return { name: f[0] ?? '', uid: atoi(f[2]), gid: atoi(f[3]), home: f[5] ?? '' };
  });
}

/** name:password:gid:member,member; blank and # lines skipped. */
function parseGroup(text: string | undefined): GroupEntry[] {
  return lines(text, true).map((line) => {
    const f = line.split(':');
    return { name: f[0] ?? '', gid: atoi(f[2]), members: f[3] ? f[3].split(',') : [] };
  });
}

function lines(text: string | undefined, skipComments: boolean): string[] {
  return (text ?? '').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !(skipComments && l.startsWith('#')));
}
