// resolveUser: moby/sys/user GetExecUser semantics (expected values follow its user_test.go cases) and
// a hostile rootfs whose /etc/passwd and /etc/group try to lead the daemon out of the root.
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';

import { readFileInRoot, resolveUser, resolveUserFromFiles } from '../../src/daemon/spec/index.js';
import { isBerthError } from '../../src/util/errors.js';

const PASSWD = `root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
app:x:1000:1000:App:/home/app:/bin/sh
app:x:2000:2000:Second app:/nope:/bin/sh
1234:x:4321:4321:numeric name:/n:/bin/sh
`;
const GROUP = `root:x:0:root
# wheel:x:99:app
wheel:x:10:root,app
app:x:1000:
staff:x:50:app,daemon
`;

const tmp = mkdtempSync(join(tmpdir(), 'berth-spec-user-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function rootfs(name: string, files: Record<string, string> = { 'etc/passwd': PASSWD, 'etc/group': GROUP }): string {
  const root = join(tmp, name);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  mkdirSync(join(root, 'etc'), { recursive: true });
  return root;
}

test('"" is root with root\'s supplementary groups', () => {
  assert.deepEqual(resolveUserFromFiles('', PASSWD, GROUP), { uid: 0, gid: 0, additionalGids: [0, 10], home: '/root' });
});

test('a name takes its first passwd entry and the groups listing it', () => {
  assert.deepEqual(resolveUserFromFiles('app', PASSWD, GROUP), { uid: 1000, gid: 1000, additionalGids: [1000, 10, 50], home: '/home/app' });
});

test('a number is always a uid, found or not', () => {
  assert.deepEqual(resolveUserFromFiles('1', PASSWD, GROUP), { uid: 1, gid: 1, additionalGids: [1, 50], home: '/usr/sbin' });
  assert.deepEqual(resolveUserFromFiles('1234', PASSWD, GROUP), { uid: 1234, gid: 0, additionalGids: [0], home: '/' });
  assert.deepEqual(resolveUserFromFiles('4321', PASSWD, GROUP), { uid: 4321, gid: 4321, additionalGids: [4321], home: '/n' });
});

test('user:group sets the gid and drops the supplementary groups', () => {
  assert.deepEqual(resolveUserFromFiles('app:staff', PASSWD, GROUP), { uid: 1000, gid: 50, additionalGids: [50], home: '/home/app' });
  assert.deepEqual(resolveUserFromFiles('1000:777', PASSWD, GROUP), { uid: 1000, gid: 777, additionalGids: [777], home: '/home/app' });
  assert.deepEqual(resolveUserFromFiles('5:6', undefined, undefined), { uid: 5, gid: 6, additionalGids: [6], home: '/' });
});

test('unknown names and out-of-range ids are refused with moby\'s messages', () => {
  const refuses = (spec: string, message: string, passwd: string | undefined = PASSWD): void =>
    assert.throws(() => resolveUserFromFiles(spec, passwd, GROUP), (e) => isBerthError(e, 'InvalidArgument') && e.message === message);
  refuses('nobody', 'unable to find user nobody: no matching entries in passwd file');
  refuses('nobody', 'unable to find user nobody: no matching entries in passwd file', undefined);
  refuses('app:nogroup', 'unable to find group nogroup: no matching entries in group file');
  refuses('-1', 'uids and gids must be in range 0-2147483647');
  refuses('0:2147483648', 'uids and gids must be in range 0-2147483647');
});

test('HostConfig.GroupAdd adds groups by name or number', () => {
  assert.deepEqual(resolveUserFromFiles('app', PASSWD, GROUP, ['staff', '4242', 'root']).additionalGids, [1000, 10, 50, 4242, 0]);
  assert.throws(() => resolveUserFromFiles('app', PASSWD, GROUP, ['ghosts']), /unable to find group ghosts: no matching entries in group file/);
});

test('resolveUser reads the container\'s own files', async () => {
  const root = rootfs('plain');
  assert.deepEqual(await resolveUser(root, 'app'), { uid: 1000, gid: 1000, additionalGids: [1000, 10, 50], home: '/home/app' });
  assert.deepEqual(await resolveUser(rootfs('empty', {}), ''), { uid: 0, gid: 0, additionalGids: [0], home: '/' });
});

test('symlinks inside the rootfs resolve inside it, absolute or relative', async () => {
  const root = rootfs('links', { 'lib/accounts/passwd': PASSWD, 'lib/accounts/group': GROUP });
  symlinkSync('/lib/accounts/passwd', join(root, 'etc/passwd'));
  symlinkSync('../lib/./accounts/../accounts/group', join(root, 'etc/group'));
  assert.equal((await resolveUser(root, 'app')).uid, 1000);
});

test('a hostile rootfs cannot make the daemon read host files', async () => {
  // The host's "secret" passwd lives beside the rootfs and at the same absolute path inside the host.
  const secret = join(tmp, 'host-secret');
  writeFileSync(secret, 'evil:x:0:0::/:/bin/sh\n');
  const root = rootfs('hostile', {});
  const up = '../'.repeat(20);
  symlinkSync(`${up}${secret.slice(1)}`, join(root, 'etc/passwd'));
  symlinkSync(secret, join(root, 'etc/group'));
  await assert.rejects(resolveUser(root, 'evil'), /unable to find user evil/);
  // A symlinked directory on the way is followed inside the root only.
  const dirLink = rootfs('dirlink', {});
  rmSync(join(dirLink, 'etc'), { recursive: true });
  symlinkSync(tmp, join(dirLink, 'etc'));
  writeFileSync(join(tmp, 'passwd'), 'evil:x:0:0::/:/bin/sh\n');
  await assert.rejects(resolveUser(dirLink, 'evil'), /unable to find user evil/);
});

test('loops, directories, FIFOs and devices are treated as missing; oversized files are refused', async () => {
  const root = rootfs('odd', {});
  symlinkSync('passwd', join(root, 'etc/passwd'));
  mkdirSync(join(root, 'etc/group'));
  assert.equal(await readFileInRoot(root, '/etc/passwd', 1024), undefined);
  assert.equal(await readFileInRoot(root, '/etc/group', 1024), undefined);
  const fifoRoot = rootfs('fifo', {});
  execFileSync('mkfifo', [join(fifoRoot, 'etc/passwd')]);
  assert.deepEqual(await resolveUser(fifoRoot, '0'), { uid: 0, gid: 0, additionalGids: [0], home: '/' });
  const big = rootfs('big', { 'etc/passwd': 'x'.repeat(2048) });
  await assert.rejects(readFileInRoot(big, '/etc/passwd', 1024), (e) => isBerthError(e, 'InvalidArgument') && /larger than 1024 bytes/.test(e.message));
  assert.equal((await readFileInRoot(big, '/etc/passwd', 4096))?.length, 2048);
});
