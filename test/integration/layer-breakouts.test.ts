// Layer breakouts: the hostile-archive cases of containerd (pkg/archive/tar_test.go:
// TestBreakouts, TestApplyTar, TestRelativeSymlinks) and moby (pkg/archive/archive_test.go
// and diff_test.go: TestUntarInvalid*, TestUntarHardlinkToSymlink, TestTypeXGlobalHeader*,
// TestXGlobalNoParent, TestApplyLayerInvalid*, TestApplyLayerWhiteouts), ported to berth.
//
// Every case runs in a sandbox of its own, for both whiteout styles:
//
//   <work>/s<N>/root/      the target the layer is applied into
//   <work>/s<N>/victim/    moby's victim: hello (unique content), sub/other
//   <work>/s<N>/etc/       a decoy: where containerd's "../../etc" lands if followed on the host
//
// After each apply, (1) everything in the sandbox but root/ is unchanged — names, modes,
// owners, inode numbers, link counts (a hard link to a victim raises it), sizes, mtimes,
// contents and symlink targets —, (2) nothing new appeared in <work> or at a few host
// paths the cases aim at (/etc/unbroken, ...), no regular file inside root/ holds the
// victim's content (moby's read-breakout check), and (3) the layer was refused with a
// clear message, or it applied and the root holds what containerd/moby expect. Checks
// inside the root resolve symlinks as the root would (never through the host).
//
// Where berth legitimately differs from upstream the case says why: berth refuses names
// and hard link targets that climb out of the root ("../x", "/../x") where containerd
// cleans them, keeps symlinks verbatim where moby refuses targets that point outside
// (they are harmless inside a container root: berth never follows them out), and cannot
// create a parent through a symlink whose target does not exist in the root.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
  type Stats,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyLayer, type WhiteoutStyle } from '../../src/images/layer/apply.js';
import { BLOCK, encodeHeader, paxRecord } from '../../src/images/tar/header.js';
import { END_OF_ARCHIVE, dataPadding, tarBuffer, type WriteEntry } from '../../src/images/tar/writer.js';
import { isRoot } from '../helpers/runtime.js';

type Member = WriteEntry & { data?: Buffer | string };
const skip = isRoot ? false : 'needs root (chown, mknod, trusted.* xattrs)';
const STYLES: WhiteoutStyle[] = ['overlay', 'native'];

interface Sandbox {
  style: WhiteoutStyle;
  dir: string;
  root: string;
  victim: string;
  /** The victim file's unique content: found anywhere in the root, it was read through a breakout. */
  hello: string;
}

interface Case {
  /** The upstream test (and sub-case) this ports. */
  from: string;
  /** What the archive tries. */
  attack: string;
  /** The root's state before the layer (containerd's fstest "apply"). */
  setup?: (s: Sandbox) => void;
  tar: Member[] | Buffer | ((s: Sandbox) => Member[] | Buffer);
  /** ok: must apply; refused: must fail; either: berth may refuse where upstream contains (see why). */
  outcome: 'ok' | 'refused' | 'either';
  /** The message a refusal must carry. */
  refusal?: RegExp;
  /** Why berth's outcome may differ from upstream's. */
  why?: string;
  /** What the root must hold after a successful apply. */
  check?: (s: Sandbox) => void;
  /** Set while the case exposes a berth bug, so the suite stays green until it is fixed. */
  todo?: string;
}

let work: string;
let sandboxes = 0;

async function* once(buf: Buffer): AsyncGenerator<Buffer> {
  yield buf;
}

// ---- the sandbox and what must not change in it ----

function sandbox(style: WhiteoutStyle): Sandbox {
  const dir = join(work, `s${++sandboxes}`);
  const root = join(dir, 'root');
  const victim = join(dir, 'victim');
  const hello = `hello ${randomBytes(16).toString('hex')}`;
  mkdirSync(root, { recursive: true });
  mkdirSync(join(victim, 'sub'), { recursive: true });
  writeFileSync(join(victim, 'hello'), hello, { mode: 0o644 });
  writeFileSync(join(victim, 'sub/other'), 'also precious');
  mkdirSync(join(dir, 'etc'));
  writeFileSync(join(dir, 'etc/passwd'), 'decoy passwd outside the root');
  writeFileSync(join(dir, 'etc/whitedout'), 'decoy outside the root');
  writeFileSync(join(dir, 'etc/emptied'), 'decoy outside the root');
  return { style, dir, root, victim, hello };
}

function describeStat(st: Stats): string {
  return `${st.mode.toString(8)} ${st.uid}:${st.gid} ino=${st.ino} nlink=${st.nlink} size=${st.size} mtime=${st.mtimeMs}`;
}

/** Everything in the sandbox except the target itself, symlinks never followed. */
function outside(s: Sandbox): string {
  const out = [`. ${describeStat(lstatSync(s.dir))}`];
  const walk = (d: string, rel: string): void => {
    for (const name of readdirSync(d).sort()) {
      if (rel === '' && name === 'root') continue;
      const p = join(d, name);
      const r = rel ? `${rel}/${name}` : name;
      const st = lstatSync(p);
      const what = st.isSymbolicLink() ? `-> ${readlinkSync(p)}` : st.isFile() ? JSON.stringify(readFileSync(p, 'utf8')) : '';
      out.push(`${r} ${describeStat(st)} ${what}`);
      if (st.isDirectory()) walk(p, r);
    }
  };
  walk(s.dir, '');
  return out.join('\n');
}

/** Host paths the cases aim at when a link is followed outside the root. */
const HOST_TARGETS = ['/etc/unbroken', '/etc/emptied', '/etc/localpasswd', '/etc/whitedout', '/breakout', '/upandout', '/downandout', '/victim', '/other', '/dne'];

function hostState(): string {
  const passwd = lstatSync('/etc/passwd');
  return [`/etc/passwd ino=${passwd.ino} nlink=${passwd.nlink} size=${passwd.size} mtime=${passwd.mtimeMs}`, ...HOST_TARGETS.map((p) => `${p} ${existsSync(p)}`)].join('\n');
}

/** moby's read check: no regular file in the root holds victim/hello's content. */
function assertNoVictimCopy(s: Sandbox): void {
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      const st = lstatSync(p);
      if (st.isDirectory()) walk(p);
      else if (st.isFile()) assert.notEqual(readFileSync(p, 'utf8'), s.hello, `victim/hello was read into ${p}`);
    }
  };
  walk(s.root);
}

// ---- looking inside the root as the root sees itself ----

/**
 * The host path of `path` inside the root, every symlink resolved within the root (an
 * absolute target restarts at the root, ".." stops there) — like containerd's
 * fs.RootPath. Missing components are kept as they are.
 */
function inRoot(root: string, path: string): string {
  const parts = path.split('/').filter((p) => p !== '' && p !== '.');
  let cur: string[] = [];
  let links = 0;
  while (parts.length > 0) {
    const part = parts.shift()!;
    if (part === '..') {
      cur.pop();
      continue;
    }
    const host = join(root, ...cur, part);
    const st = lstatOrUndefined(host);
    if (st?.isSymbolicLink()) {
      assert.ok(++links < 64, `too many symlinks resolving ${path}`);
      const target = readlinkSync(host);
      if (target.startsWith('/')) cur = [];
      parts.unshift(...target.split('/').filter((p) => p !== '' && p !== '.'));
      continue;
    }
    cur.push(part);
  }
  return join(root, ...cur);
}

function lstatOrUndefined(p: string): Stats | undefined {
  try {
    return lstatSync(p);
  } catch {
    return undefined;
  }
}

const read = (s: Sandbox, p: string): string => readFileSync(inRoot(s.root, p), 'utf8');
const statIn = (s: Sandbox, p: string): Stats => lstatSync(inRoot(s.root, p));
const exists = (s: Sandbox, p: string): boolean => lstatOrUndefined(inRoot(s.root, p)) !== undefined;

function assertSameFile(s: Sandbox, a: string, b: string): void {
  const [sa, sb] = [statIn(s, a), statIn(s, b)];
  assert.ok(sa.ino === sb.ino && sa.dev === sb.dev, `${a} and ${b} should be the same file`);
}

function assertWhiteout(s: Sandbox, p: string): void {
  const st = lstatSync(join(s.root, p));
  assert.ok(st.isCharacterDevice() && st.rdev === 0, `${p} should be an overlay whiteout (0:0 char device)`);
}

/** The root's own symlink (not resolved): containerd's isSymlinkFile + Readlink. */
function linkOf(s: Sandbox, p: string): string {
  return readlinkSync(join(s.root, p));
}

function xattrs(path: string): Record<string, string> {
  const py = 'import os,sys,json;p=sys.argv[1];print(json.dumps({k:os.getxattr(p,k,follow_symlinks=False).decode() for k in os.listxattr(p,follow_symlinks=False)}))';
  const r = spawnSync('python3', ['-c', py, path], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as Record<string, string>;
}

// ---- containerd's fstest appliers, for the root's state before a layer ----

const fsDir = (s: Sandbox, p: string, mode = 0o755) => mkdirSync(join(s.root, p), { recursive: true, mode });
const fsFile = (s: Sandbox, p: string, data: string, mode = 0o644) => writeFileSync(join(s.root, p), data, { mode });
const fsSymlink = (s: Sandbox, target: string, p: string) => symlinkSync(target, join(s.root, p));
/** fstest.Link: os.Link on host paths; the cases only pass through symlinks relative to the root. */
const fsLink = (s: Sandbox, oldname: string, newname: string) => linkSync(join(s.root, oldname), join(s.root, newname));

// ---- containerd's tartest entries (Link/Symlink take (oldname = target, newname = name)) ----

const dir = (name: string, mode = 0o755): Member => ({ name, type: 'dir', mode });
const file = (name: string, data: string | Buffer = '', mode = 0o644): Member => ({ name, type: 'file', mode, data });
const symlink = (target: string, name: string, mode = 0o777): Member => ({ name, type: 'symlink', linkname: target, mode });
const hardlink = (target: string, name: string, mode = 0o644): Member => ({ name, type: 'hardlink', linkname: target, mode });

/** A PAX global header ('g'), which berth's writer never emits. */
function globalHeader(name: string, records: Buffer[] = []): Buffer {
  const body = Buffer.concat(records);
  const h = encodeHeader({ name, type: 'pax', mode: 0o644, uid: 0, gid: 0, size: body.length, mtimeSec: 0 })!;
  h[156] = 'g'.charCodeAt(0);
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += h[i]!;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return Buffer.concat([h, body, dataPadding(body.length)]);
}

/** tarBuffer without its end-of-archive blocks, to splice raw headers in front. */
const members = (m: Member[]): Buffer => tarBuffer(m).subarray(0, -END_OF_ARCHIVE.length);

// ---- the runner ----

async function runCase(c: Case, style: WhiteoutStyle): Promise<void> {
  const s = sandbox(style);
  c.setup?.(s);
  const tar = typeof c.tar === 'function' ? c.tar(s) : c.tar;
  const buf = Buffer.isBuffer(tar) ? tar : tarBuffer(tar);
  const sandboxBefore = outside(s);
  const hostBefore = hostState();
  let error: Error | undefined;
  try {
    await applyLayer(once(buf), s.root, { style });
  } catch (err) {
    error = err as Error;
  }
  const where = `[${style}] ${c.from}`;
  // (1) the victim and the decoy beside the target are byte-for-byte unchanged
  assert.equal(outside(s), sandboxBefore, `${where}: something beside the target changed`);
  // (2) nothing appeared outside the target, and nothing was read out of the victim
  assert.deepEqual(readdirSync(work).sort(), Array.from({ length: sandboxes }, (_, i) => `s${i + 1}`).sort(), `${where}: new entries beside the sandboxes`);
  assert.equal(hostState(), hostBefore, `${where}: host paths changed`);
  assertNoVictimCopy(s);
  // (3) refused clearly, or applied as upstream expects
  if (error) {
    assert.notEqual(c.outcome, 'ok', `${where}: expected the layer to apply, got: ${error.message}`);
    assert.equal(error.name, 'BerthError(InvalidArgument)', `${where}: not a clean refusal: ${error.stack}`);
    if (c.refusal) assert.match(error.message, c.refusal, `${where}: refusal message`);
    return;
  }
  assert.notEqual(c.outcome, 'refused', `${where}: expected the layer to be refused`);
  c.check?.(s);
}

function register(cases: Case[]): void {
  for (const c of cases) {
    const title = `${c.from}: ${c.attack}${c.why ? ` (berth may refuse: ${c.why})` : ''}`;
    it(title, c.todo ? { todo: c.todo } : {}, async () => {
      for (const style of STYLES) await runCase(c, style);
    });
  }
}

// ---- containerd: TestBreakouts ----

const UNBROKEN = 'unbroken';
const unbrokenCheck = (s: Sandbox) => assert.equal(read(s, 'etc/unbroken'), UNBROKEN);
const etcPasswd = (s: Sandbox, content = 'inside') => {
  fsDir(s, 'etc');
  fsFile(s, 'etc/passwd', content);
};

const containerdBreakouts: Case[] = [
  {
    from: 'containerd TestBreakouts/SymlinkAbsolute',
    attack: 'symlink to /etc, then write a file through it',
    tar: [dir('etc'), symlink('/etc', 'localetc'), file('/localetc/unbroken', UNBROKEN)],
    outcome: 'ok',
    check: unbrokenCheck,
  },
  {
    from: 'containerd TestBreakouts/SymlinkUpAndOut',
    attack: 'symlink to /dummy/../etc, then write a file through it',
    tar: [dir('etc'), dir('dummy'), symlink('/dummy/../etc', 'localetc'), file('/localetc/unbroken', UNBROKEN)],
    outcome: 'ok',
    check: unbrokenCheck,
  },
  {
    from: 'containerd TestBreakouts/SymlinkMultipleAbsolute',
    attack: 'chain of absolute symlinks to /etc, then write through the chain',
    tar: [dir('etc'), dir('dummy'), symlink('/etc', '/dummy/etc'), symlink('/dummy/etc', 'localetc'), file('/dummy/etc/unbroken', UNBROKEN)],
    outcome: 'ok',
    check: unbrokenCheck,
  },
  {
    from: 'containerd TestBreakouts/SymlinkMultipleRelative',
    attack: 'relative symlink to an absolute symlink to /etc, then write through it',
    tar: [dir('etc'), dir('dummy'), symlink('/etc', '/dummy/etc'), symlink('./dummy/etc', 'localetc'), file('/dummy/etc/unbroken', UNBROKEN)],
    outcome: 'ok',
    check: unbrokenCheck,
  },
  {
    from: 'containerd TestBreakouts/SymlinkEmptyFile',
    attack: 'truncate /etc/emptied through a symlink to /etc',
    tar: [dir('etc'), file('etc/emptied', 'notempty'), symlink('/etc', 'localetc'), file('/localetc/emptied', '')],
    outcome: 'ok',
    check: (s) => assert.equal(read(s, 'etc/emptied'), ''),
  },
  {
    from: 'containerd TestBreakouts/HardlinkRelative',
    attack: 'hard link through a symlink climbing ../../etc',
    tar: [dir('etc', 0o770), file('/etc/passwd', 'inside'), dir('breakouts'), symlink('../../etc', 'breakouts/d1'), hardlink('/breakouts/d1/passwd', 'breakouts/mypasswd')],
    outcome: 'ok',
    check: (s) => assertSameFile(s, '/breakouts/mypasswd', '/etc/passwd'),
  },
  {
    from: 'containerd TestBreakouts/HardlinkDownAndOut',
    attack: 'hard link through a symlink going down then up and out (../downandout/../../etc)',
    tar: [
      dir('etc', 0o770),
      file('/etc/passwd', 'inside'),
      dir('breakouts'),
      dir('downandout'),
      symlink('../downandout/../../etc', 'breakouts/d1'),
      hardlink('/breakouts/d1/passwd', 'breakouts/mypasswd'),
    ],
    outcome: 'ok',
    check: (s) => assertSameFile(s, '/breakouts/mypasswd', '/etc/passwd'),
  },
  {
    from: 'containerd TestBreakouts/HardlinkAbsolute',
    attack: 'hard link through an absolute symlink to /etc',
    tar: [dir('etc', 0o770), file('/etc/passwd', 'inside'), symlink('/etc', 'localetc'), hardlink('/localetc/passwd', 'localpasswd')],
    outcome: 'ok',
    check: (s) => assertSameFile(s, 'localpasswd', '/etc/passwd'),
  },
  {
    from: 'containerd TestBreakouts/HardlinkRelativeLong',
    attack: 'hard link through a symlink climbing far above the root (../../../../../../../etc)',
    tar: [dir('etc', 0o770), file('/etc/passwd', 'inside'), symlink('../../../../../../../etc', 'localetc'), hardlink('/localetc/passwd', 'localpasswd')],
    outcome: 'ok',
    check: (s) => assertSameFile(s, 'localpasswd', '/etc/passwd'),
  },
  {
    from: 'containerd TestBreakouts/HardlinkRelativeUpAndOut',
    attack: 'hard link through a symlink via a missing dir and up (upandout/../../../etc)',
    tar: [dir('etc', 0o770), file('/etc/passwd', 'inside'), symlink('upandout/../../../etc', 'localetc'), hardlink('/localetc/passwd', 'localpasswd')],
    // containerd resolves symlink targets lexically; berth lets the kernel resolve them
    // (openat2 RESOLVE_IN_ROOT), and "upandout/.." needs upandout to exist.
    outcome: 'either',
    why: 'kernel path resolution cannot pass through the missing upandout',
    refusal: /localpasswd: hard link target localetc\/passwd/,
    check: (s) => assertSameFile(s, 'localpasswd', '/etc/passwd'),
  },
  {
    from: 'containerd TestBreakouts/HardlinkDirectRelative',
    attack: 'hard link straight to ../../../../../etc/passwd',
    tar: [dir('etc', 0o770), file('/etc/passwd', 'inside'), hardlink('../../../../../etc/passwd', 'localpasswd')],
    // containerd cleans the target into the root; berth refuses targets that climb out.
    outcome: 'either',
    why: 'berth refuses hard link targets that climb out of the root',
    refusal: /hard link target "\.\.\/\.\.\/\.\.\/\.\.\/\.\.\/etc\/passwd" points outside the root/,
    check: (s) => assertSameFile(s, 'localpasswd', '/etc/passwd'),
  },
  {
    from: 'containerd TestBreakouts/HardlinkDirectAbsolute',
    attack: 'hard link straight to /etc/passwd',
    tar: [dir('etc', 0o770), file('/etc/passwd', 'inside'), hardlink('/etc/passwd', 'localpasswd')],
    outcome: 'ok',
    check: (s) => assertSameFile(s, 'localpasswd', '/etc/passwd'),
  },
  {
    from: 'containerd TestBreakouts/SymlinkParentDirectory',
    attack: 'a symlink named ".." pointing at /etc/',
    tar: [dir('etc', 0o770), file('/etc/passwd', 'inside'), symlink('/etc/', '..'), hardlink('/etc/passwd', 'localpasswd')],
    // containerd skips the ".." member; berth refuses a name that climbs out.
    outcome: 'either',
    why: 'berth refuses the name ".."',
    refusal: /: entry "\.\." points outside the root/,
    check: (s) => {
      assertSameFile(s, '/localpasswd', '/etc/passwd');
      assert.ok(!lstatSync(s.root).isSymbolicLink());
    },
  },
  {
    from: 'containerd TestBreakouts/SymlinkEmptyFilename',
    attack: 'a symlink with an empty name pointing at /etc/ (would replace the root)',
    tar: [dir('etc', 0o770), file('/etc/passwd', 'inside'), symlink('/etc/', ''), hardlink('/etc/passwd', 'localpasswd')],
    outcome: 'ok',
    check: (s) => {
      assertSameFile(s, '/localpasswd', '/etc/passwd');
      assert.ok(lstatSync(s.root).isDirectory(), 'the root itself stays a directory');
    },
  },
  {
    from: 'containerd TestBreakouts/SymlinkParentRelative',
    attack: 'a symlink named localetc/sub/.. (cleans to localetc) pointing at /etc/',
    tar: [dir('etc', 0o770), file('/etc/passwd', 'inside'), symlink('/etc/', 'localetc/sub/..'), hardlink('/etc/passwd', '/localetc/localpasswd')],
    outcome: 'ok',
    check: (s) => assertSameFile(s, '/localetc/localpasswd', '/etc/passwd'),
  },
  {
    from: 'containerd TestBreakouts/SymlinkSlashEnded',
    attack: 'a directory named with a trailing slash, then a hard link into it',
    tar: [dir('etc', 0o770), file('/etc/passwd', 'inside'), dir('localetc/', 0o770), hardlink('/etc/passwd', '/localetc/localpasswd')],
    outcome: 'ok',
    check: (s) => assertSameFile(s, '/localetc/localpasswd', '/etc/passwd'),
  },
  {
    from: 'containerd TestBreakouts/SymlinkOverrideDirectory',
    attack: 'replace an existing directory with a symlink to /etc, then hard link through it',
    setup: (s) => {
      etcPasswd(s);
      fsDir(s, 'localetc');
    },
    tar: [symlink('/etc', 'localetc'), hardlink('/etc/passwd', '/localetc/localpasswd')],
    outcome: 'ok',
    check: (s) => assertSameFile(s, '/localetc/localpasswd', '/etc/passwd'),
  },
  {
    from: 'containerd TestBreakouts/SymlinkOverrideDirectoryRelative',
    attack: 'replace an existing directory with a symlink to ../../etc, then hard link through it',
    setup: (s) => {
      etcPasswd(s);
      fsDir(s, 'localetc');
    },
    tar: [symlink('../../etc', 'localetc'), hardlink('/etc/passwd', '/localetc/localpasswd')],
    outcome: 'ok',
    check: (s) => assertSameFile(s, '/localetc/localpasswd', '/etc/passwd'),
  },
  {
    from: 'containerd TestBreakouts/DirectoryOverrideSymlink',
    attack: 'replace an existing symlink to /etc with a directory, then hard link into it',
    setup: (s) => {
      etcPasswd(s);
      fsSymlink(s, '/etc', 'localetc');
    },
    tar: [dir('/localetc/'), hardlink('/etc/passwd', '/localetc/localpasswd')],
    outcome: 'ok',
    check: (s) => {
      assertSameFile(s, '/localetc/localpasswd', '/etc/passwd');
      assert.ok(lstatSync(join(s.root, 'localetc')).isDirectory(), 'localetc is now a real directory');
    },
  },
  {
    from: 'containerd TestBreakouts/DirectoryOverrideSymlinkAndHardlink',
    attack: 'replace a symlinked directory holding a hard link, then write the same name',
    setup: (s) => {
      etcPasswd(s);
      fsSymlink(s, 'etc', 'localetc');
      fsLink(s, '/etc/passwd', '/localetc/localpasswd');
    },
    tar: [dir('/localetc/'), file('/localetc/localpasswd', 'different')],
    outcome: 'ok',
    check: (s) => {
      const [a, b] = [statIn(s, '/localetc/localpasswd'), statIn(s, '/etc/passwd')];
      assert.notEqual(a.ino, b.ino, 'localetc/localpasswd must be a new file');
      assert.equal(read(s, '/localetc/localpasswd'), 'different');
      assert.equal(read(s, '/etc/passwd'), 'inside');
    },
  },
  ...(
    [
      ['WhiteoutRootParent', '.wh...', 'a whiteout of ".." at the root'],
      ['WhiteoutParent', 'etc/.wh...', 'a whiteout of ".." in a directory'],
      ['WhiteoutRoot', '.wh..', 'a whiteout of "." at the root (would wipe the root)'],
      ['WhiteoutCurrentDirectory', 'etc/.wh..', 'a whiteout of "." in a directory (would wipe it)'],
    ] as const
  ).map(
    ([name, member, attack]): Case => ({
      from: `containerd TestBreakouts/${name}`,
      attack,
      setup: (s) => etcPasswd(s),
      tar: [file(member)],
      outcome: 'refused',
      refusal: /invalid whiteout name/,
    }),
  ),
  {
    from: 'containerd TestBreakouts/WhiteoutSymlink',
    attack: 'whiteout of a symlink to /etc removes the link, not its target',
    setup: (s) => {
      etcPasswd(s, 'all users');
      fsSymlink(s, '/etc', 'localetc');
    },
    tar: [file('.wh.localetc')],
    outcome: 'ok',
    check: (s) => {
      assert.equal(read(s, 'etc/passwd'), 'all users');
      if (s.style === 'native') assert.equal(exists(s, 'localetc'), false);
      else assertWhiteout(s, 'localetc');
    },
  },
  {
    from: 'containerd TestBreakouts/WhiteoutSymlinkPath',
    attack: 'whiteout through a symlinked parent (localetc -> /etc)',
    setup: (s) => {
      etcPasswd(s, 'all users');
      fsFile(s, 'etc/whitedout', 'ahhhh whiteout');
      fsSymlink(s, '/etc', 'localetc');
    },
    tar: [file('localetc/.wh.whitedout')],
    outcome: 'ok',
    check: (s) => {
      assert.equal(read(s, 'etc/passwd'), 'all users');
      if (s.style === 'native') assert.equal(exists(s, 'etc/whitedout'), false);
      else assertWhiteout(s, 'etc/whitedout');
    },
  },
  {
    from: 'containerd TestBreakouts/WhiteoutDirectoryName',
    attack: 'a directory named like a whiteout (.wh.etc/somefile) is a plain directory',
    setup: (s) => {
      etcPasswd(s, 'all users');
      fsFile(s, 'etc/whitedout', 'ahhhh whiteout');
      fsSymlink(s, '/etc', 'localetc');
    },
    tar: [file('.wh.etc/somefile', 'non-empty')],
    outcome: 'ok',
    check: (s) => {
      assert.equal(read(s, 'etc/passwd'), 'all users');
      assert.equal(read(s, '.wh.etc/somefile'), 'non-empty');
    },
  },
  {
    from: 'containerd TestBreakouts/WhiteoutDeadSymlinkParent',
    attack: 'whiteout through a dangling symlinked parent (localetc -> /dne)',
    setup: (s) => {
      etcPasswd(s, 'all users');
      fsSymlink(s, '/dne', 'localetc');
    },
    tar: [file('localetc/.wh.etc')],
    // containerd treats it as a no-op; berth cannot open the parent (/dne is not in the
    // root, and it will not make a directory where the symlink stands).
    outcome: 'either',
    why: 'the whiteout parent does not exist in the root',
    refusal: /creating parent directory localetc/,
    check: (s) => assert.equal(read(s, 'etc/passwd'), 'all users'),
  },
  {
    from: 'containerd TestBreakouts/WhiteoutRelativePath',
    attack: 'whiteout named dne/../.wh.etc (cleans to .wh.etc)',
    setup: (s) => {
      etcPasswd(s, 'all users');
      fsSymlink(s, '/dne', 'localetc');
    },
    tar: [file('dne/../.wh.etc')],
    outcome: 'ok',
    check: (s) => {
      assert.equal(exists(s, 'etc/passwd'), false);
      if (s.style === 'overlay') assertWhiteout(s, 'etc');
    },
  },
  {
    from: 'containerd TestBreakouts/HardlinkSymlinkBeforeCreateTarget',
    attack: 'hard link to a dangling symlink to /etc/passwd, then create the target',
    tar: [dir('etc', 0o770), symlink('/etc/passwd', 'localpasswd'), hardlink('localpasswd', 'localpasswd-dup'), file('/etc/passwd', 'after')],
    outcome: 'ok',
    check: (s) => {
      assertSameFile(s, 'localpasswd-dup', '/etc/passwd');
      assert.equal(read(s, 'localpasswd-dup'), 'after');
    },
  },
  {
    from: 'containerd TestBreakouts/HardlinkSymlinkRelative',
    attack: 'hard link to a symlink climbing ../../../../../etc/passwd',
    tar: [dir('etc', 0o770), file('/etc/passwd', 'inside'), symlink('../../../../../etc/passwd', 'passwdlink'), hardlink('/passwdlink', 'localpasswd')],
    outcome: 'ok',
    check: (s) => {
      assert.ok(lstatSync(join(s.root, 'localpasswd')).isSymbolicLink(), 'the hard link is to the symlink itself');
      assert.equal(linkOf(s, 'localpasswd'), linkOf(s, 'passwdlink'));
      assertSameFile(s, '/localpasswd', '/etc/passwd');
    },
  },
  {
    from: 'containerd TestBreakouts/HardlinkSymlinkAbsolute',
    attack: 'hard link to an absolute symlink to /etc/passwd',
    tar: [dir('etc', 0o770), file('/etc/passwd', 'inside'), symlink('/etc/passwd', 'passwdlink'), hardlink('/passwdlink', 'localpasswd')],
    outcome: 'ok',
    check: (s) => {
      assert.ok(lstatSync(join(s.root, 'localpasswd')).isSymbolicLink(), 'the hard link is to the symlink itself');
      assert.equal(linkOf(s, 'localpasswd'), linkOf(s, 'passwdlink'));
      assertSameFile(s, '/localpasswd', '/etc/passwd');
    },
  },
  {
    from: 'containerd TestBreakouts/HardlinkSymlinkChmod',
    attack: 'symlink named after a host file pointing at another, hard linked (chmod must not reach the 0400 file)',
    setup: (s) => {
      writeFileSync(join(s.dir, 'perm400'), '...', { mode: 0o400 });
      writeFileSync(join(s.dir, 'also-exists-outside-root'), '...', { mode: 0o640 });
    },
    tar: (s) => {
      const p = join(s.dir, 'perm400');
      const ep = join(s.dir, 'also-exists-outside-root');
      return [symlink(p, ep), hardlink(ep, 'sketchylink')];
    },
    outcome: 'ok',
    // The mode of perm400 (and everything beside the root) is checked by the runner;
    // inside the root, the absolute member name landed under the root.
    check: (s) => {
      const ep = join(s.dir, 'also-exists-outside-root');
      assert.equal(linkOf(s, ep), join(s.dir, 'perm400'));
      assert.ok(lstatSync(join(s.root, 'sketchylink')).isSymbolicLink());
      assert.equal(lstatSync(join(s.dir, 'perm400')).mode & 0o7777, 0o400);
    },
  },
];

// ---- containerd: TestApplyTar, TestRelativeSymlinks ----

const containerdOthers: Case[] = [
  {
    from: 'containerd TestApplyTar/DirectoryCreation',
    attack: 'absolute directory names, with and without slashes and parents',
    setup: (s) => fsDir(s, 'etc'),
    tar: [dir('/etc/subdir'), dir('/etc/subdir2/'), dir('/etc/subdir2/more'), dir('/other/noparent-1/1'), dir('/other/noparent-2/2/')],
    outcome: 'ok',
    check: (s) => {
      for (const d of ['etc/subdir', 'etc/subdir2', 'etc/subdir2/more', 'other/noparent-1/1', 'other/noparent-2/2']) {
        assert.ok(lstatSync(join(s.root, d)).isDirectory(), `${d} should be a directory`);
      }
    },
  },
  ...(
    [
      [1, 'symlinks climbing out of /home/derek (../other, ../../etc, up/../../other)', [['../other', 'home/derek/other'], ['../../etc', 'home/derek/etc'], ['up/../../other', 'home/derek/updown']]],
      [2, 'a symlink climbing ../../../breakout from /home/derek', [['../../../breakout', 'home/derek/breakout']]],
      [3, 'a symlink at the root climbing ../../breakout', [['../../breakout', 'breakout']]],
      [4, 'a symlink etc/../../upandout at the root', [['etc/../../upandout', 'breakout']]],
      [5, 'a symlink derek/../../../downandout in /home', [['derek/../../../downandout', 'home/breakout']]],
      [6, 'an absolute symlink /etc at the root', [['/etc', 'localetc']]],
    ] as const
  ).map(
    ([i, attack, links]): Case => ({
      from: `containerd TestRelativeSymlinks[${i}]`,
      attack: `${attack}: kept verbatim, never followed`,
      // containerd's baseApplier tree, plus the breakout links; the diff/apply round trip
      // must reproduce the links exactly.
      tar: [
        dir('etc/'),
        file('etc/hosts', '127.0.0.1 localhost'),
        hardlink('etc/hosts', 'etc/hosts.allow'),
        dir('home/'),
        dir('home/derek/', 0o700),
        dir('usr/'),
        dir('usr/local/'),
        dir('usr/local/lib/'),
        file('usr/local/lib/libnothing.so', Buffer.from([0, 0]), 0o755),
        symlink('libnothing.so', 'usr/local/lib/libnothing.so.2'),
        ...links.map(([target, name]) => symlink(target, name)),
      ],
      outcome: 'ok',
      check: (s) => {
        for (const [target, name] of links) assert.equal(linkOf(s, name), target);
        assert.equal(read(s, 'etc/hosts.allow'), '127.0.0.1 localhost');
        assertSameFile(s, 'etc/hosts', 'etc/hosts.allow');
        assert.equal(statIn(s, 'home/derek').mode & 0o777, 0o700);
      },
    }),
  ),
];

// ---- moby: testBreakout header sets ----

const reg = (name: string): Member => ({ name, type: 'file', mode: 0o644 });
const mobyLink = (name: string, linkname: string, mode = 0o644): Member => ({ name, type: 'hardlink', linkname, mode });
const mobySymlink = (name: string, linkname: string, mode = 0o644): Member => ({ name, type: 'symlink', linkname, mode });

const outsideRoot = /points outside the root/;

function invalidFilenames(test: string): Case[] {
  return [
    {
      from: `moby ${test}[0]`,
      attack: 'a file named ../victim/dotdot',
      tar: [reg('../victim/dotdot')],
      outcome: 'refused',
      refusal: outsideRoot,
    },
    {
      from: `moby ${test}[1]`,
      attack: 'a file named /../victim/slash-dotdot',
      tar: [reg('/../victim/slash-dotdot')],
      // moby refuses this too (breakoutError); berth could have kept it as /victim/slash-dotdot.
      outcome: 'refused',
      refusal: outsideRoot,
    },
  ];
}

function invalidHardlinks(test: string): Case[] {
  // Every set starts with a hard link whose target climbs out of the root: refused up front,
  // as moby refuses it (breakoutError).
  const sets: Array<[string, Member[]]> = [
    ['hard link to ../victim/hello (read)', [mobyLink('dotdot', '../victim/hello')]],
    ['hard link to /../victim/hello (read)', [mobyLink('slash-dotdot', '/../victim/hello')]],
    ['hard link to ../victim, then write loophole-victim/file', [mobyLink('loophole-victim', '../victim', 0o755), reg('loophole-victim/file')]],
    ['hard link to ../victim, then a symlink into it (read)', [mobyLink('loophole-victim', '../victim', 0o755), mobySymlink('symlink', 'loophole-victim/hello')]],
    ['hard link to ../victim, then a hard link into it (read)', [mobyLink('loophole-victim', '../victim', 0o755), mobyLink('hardlink', 'loophole-victim/hello')]],
    ['hard link to ../victim, then replace it with a file (remove the victim)', [mobyLink('loophole-victim', '../victim', 0o755), reg('loophole-victim')]],
  ];
  return sets.map(([attack, tar], i) => ({ from: `moby ${test}[${i}]`, attack, tar, outcome: 'refused', refusal: /hard link target .*points outside the root/ }));
}

function invalidSymlinks(test: string, withDirLoophole: boolean): Case[] {
  const loophole = mobySymlink('loophole-victim', '../victim', 0o755);
  // moby refuses any symlink whose target leaves the destination. berth keeps symlinks
  // verbatim (a layer's "../victim" means <root>/victim inside a container) and never
  // follows one out of the root: these apply, and the links stay links.
  const cases: Case[] = [
    {
      from: `moby ${test}[0]`,
      attack: 'symlink to ../victim/hello (read)',
      tar: [mobySymlink('dotdot', '../victim/hello')],
      outcome: 'ok',
      check: (s) => assert.equal(linkOf(s, 'dotdot'), '../victim/hello'),
    },
    {
      from: `moby ${test}[1]`,
      attack: 'symlink to /../victim/hello (read)',
      tar: [mobySymlink('slash-dotdot', '/../victim/hello')],
      outcome: 'ok',
      check: (s) => assert.equal(linkOf(s, 'slash-dotdot'), '/../victim/hello'),
    },
    {
      from: `moby ${test}[2]`,
      attack: 'symlink to ../victim, then write loophole-victim/file through it',
      tar: [loophole, reg('loophole-victim/file')],
      // Inside the root the link means <root>/victim, which does not exist; berth will not
      // make a directory where the symlink stands. Contained either way.
      outcome: 'either',
      why: 'the link resolves to <root>/victim, which does not exist',
      refusal: /creating parent directory loophole-victim/,
      check: (s) => assert.equal(read(s, 'loophole-victim/file'), ''),
    },
    {
      from: `moby ${test}[3]`,
      attack: 'symlink to ../victim, then a symlink through it to hello (read)',
      tar: [loophole, mobySymlink('symlink', 'loophole-victim/hello')],
      outcome: 'ok',
      check: (s) => {
        assert.equal(linkOf(s, 'loophole-victim'), '../victim');
        assert.equal(linkOf(s, 'symlink'), 'loophole-victim/hello');
      },
    },
    {
      from: `moby ${test}[4]`,
      attack: 'symlink to ../victim, then a hard link through it to hello (read)',
      tar: [loophole, mobyLink('hardlink', 'loophole-victim/hello')],
      outcome: 'refused',
      refusal: /hardlink: hard link target loophole-victim\/hello/,
    },
    {
      from: `moby ${test}[5]`,
      attack: 'symlink to ../victim, then replace it with a file (remove the victim)',
      tar: [loophole, reg('loophole-victim')],
      outcome: 'ok',
      check: (s) => {
        assert.ok(lstatSync(join(s.root, 'loophole-victim')).isFile());
        assert.equal(read(s, 'loophole-victim'), '');
      },
    },
  ];
  if (withDirLoophole) {
    cases.push({
      from: `moby ${test}[6]`,
      attack: 'symlink dir/loophole to ../../victim, then write dir/loophole/newdir/newfile',
      tar: [mobySymlink('dir/loophole', '../../victim', 0o755), reg('dir/loophole/newdir/newfile')],
      outcome: 'either',
      why: 'the link resolves to <root>/victim, which does not exist',
      refusal: /creating parent directory dir\/loophole/,
      check: (s) => assert.equal(read(s, 'dir/loophole/newdir/newfile'), ''),
    });
  }
  return cases;
}

const mobyUntar: Case[] = [
  ...invalidFilenames('TestUntarInvalidFilenames'),
  {
    from: 'moby TestUntarHardlinkToSymlink',
    attack: 'hard link to a symlink whose target is created later',
    tar: [mobySymlink('symlink1', 'regfile'), mobyLink('symlink2', 'symlink1'), reg('regfile')],
    outcome: 'ok',
    check: (s) => {
      assert.equal(linkOf(s, 'symlink2'), 'regfile');
      assert.equal(statIn(s, 'symlink2').ino, statIn(s, 'regfile').ino);
    },
  },
  ...invalidHardlinks('TestUntarInvalidHardlink'),
  ...invalidSymlinks('TestUntarInvalidSymlink', true),
  {
    from: 'moby TestTypeXGlobalHeaderDoesNotFail',
    attack: 'a PAX global header (pax_global_header) is accepted and creates nothing',
    tar: Buffer.concat([globalHeader('pax_global_header'), members([file('after', 'x')]), END_OF_ARCHIVE]),
    outcome: 'ok',
    check: (s) => assert.deepEqual(readdirSync(s.root), ['after']),
  },
  {
    from: 'moby TestXGlobalNoParent',
    attack: 'a PAX global header named foo/bar creates no parent directory',
    tar: Buffer.concat([globalHeader('foo/bar'), END_OF_ARCHIVE]),
    outcome: 'ok',
    check: (s) => assert.deepEqual(readdirSync(s.root), []),
  },
  {
    from: 'moby TestTypeXGlobalHeaderDoesNotFail (variant)',
    attack: 'a PAX global header carrying path=../victim/hello renames nothing',
    tar: Buffer.concat([globalHeader('pax_global_header', [paxRecord('path', '../victim/pwned'), paxRecord('linkpath', '../victim/hello')]), members([file('after', 'x')]), END_OF_ARCHIVE]),
    outcome: 'ok',
    check: (s) => assert.deepEqual(readdirSync(s.root), ['after']),
  },
];

const mobyApplyLayer: Case[] = [
  ...invalidFilenames('TestApplyLayerInvalidFilenames'),
  ...invalidHardlinks('TestApplyLayerInvalidHardlink'),
  ...invalidSymlinks('TestApplyLayerInvalidSymlink', false),
];

// ---- moby: TestApplyLayerWhiteouts ----

const WHITEOUT_BASE = ['.baz', 'bar/', 'bar/bax', 'bar/bay/', 'baz', 'foo/', 'foo/.abc', 'foo/.bcd/', 'foo/.bcd/a', 'foo/cde/', 'foo/cde/def', 'foo/cde/efg', 'foo/fgh', 'foobar'];
const WHITEOUT_LAYERS: Array<{ change: string[]; expected: string[] }> = [
  { change: WHITEOUT_BASE, expected: WHITEOUT_BASE },
  {
    change: ['.bay', '.wh.baz', 'foo/', 'foo/.bce', 'foo/.wh..wh..opq', 'foo/cde/', 'foo/cde/efg'],
    expected: ['.bay', '.baz', 'bar/', 'bar/bax', 'bar/bay/', 'foo/', 'foo/.bce', 'foo/cde/', 'foo/cde/efg', 'foobar'],
  },
  {
    change: ['.bay', '.wh..baz', '.wh.foobar', 'foo/', 'foo/.abc', 'foo/.wh.cde', 'bar/'],
    expected: ['.bay', 'bar/', 'bar/bax', 'bar/bay/', 'foo/', 'foo/.abc', 'foo/.bce'],
  },
  { change: ['.abc', '.wh..wh..opq', 'foobar'], expected: ['.abc', 'foobar'] },
];

/** moby's makeTestLayer: a tar of the paths (dirs end in "/"), in filepath.Walk order. */
function walkOrderLayer(paths: string[]): Member[] {
  const key = (p: string) => p.replace(/\/$/, '').split('/');
  const sorted = [...paths].sort((a, b) => {
    const [x, y] = [key(a), key(b)];
    for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! < y[i]! ? -1 : 1;
    return x.length - y.length;
  });
  return sorted.map((p) => (p.endsWith('/') ? dir(p, 0o700) : file(p, '', 0o600)));
}

/** moby's readDirContents: Walk order, directories with a trailing "/". */
function listing(root: string, rel = ''): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(root, rel)).sort()) {
    const r = rel ? `${rel}/${name}` : name;
    if (lstatSync(join(root, r)).isDirectory()) out.push(`${r}/`, ...listing(root, r));
    else out.push(r);
  }
  return out;
}

// ---- the suite ----

describe('layer breakouts (containerd and moby archive tests)', { skip }, () => {
  let hostBefore: string;

  before(() => {
    work = mkdtempSync(join(tmpdir(), 'berth-breakouts-'));
    hostBefore = hostState();
  });
  after(() => {
    rmSync(work, { recursive: true, force: true });
    assert.equal(hostState(), hostBefore, 'host paths changed during the suite');
  });

  describe('containerd TestBreakouts', () => register(containerdBreakouts));
  describe('containerd TestApplyTar and TestRelativeSymlinks', () => register(containerdOthers));
  describe('moby Untar', () => register(mobyUntar));
  describe('moby ApplyLayer', () => register(mobyApplyLayer));

  describe('refusal messages', () => {
    // Regression: do_hardlink once formatted err->msg into itself, losing the reason.
    it(
      'a hard link whose target directory cannot be resolved says why',
      async () => {
        const s = sandbox('native');
        const tar = tarBuffer([mobySymlink('loophole-victim', '../victim', 0o755), mobyLink('hardlink', 'loophole-victim/hello')]);
        await assert.rejects(
          applyLayer(once(tar), s.root, { style: 'native' }),
          /hardlink: hard link target loophole-victim\/hello: resolving loophole-victim inside the root: No such file or directory$/,
        );
      },
    );
  });

  describe('moby TestApplyLayerWhiteouts', () => {
    it('native style: four layers of whiteouts and opaque dirs give moby\'s trees', async () => {
      const s = sandbox('native');
      const sandboxBefore = outside(s);
      for (const [i, layer] of WHITEOUT_LAYERS.entries()) {
        await applyLayer(once(tarBuffer(walkOrderLayer(layer.change))), s.root, { style: 'native', label: `layer ${i}` });
        assert.deepEqual(listing(s.root), layer.expected, `after layer ${i}`);
      }
      assert.equal(outside(s), sandboxBefore, 'something beside the target changed');
    });

    it('overlay style: the same layers, each in its own upper dir, as whiteout devices and opaque xattrs', async () => {
      const uppers: Sandbox[] = [];
      for (const layer of WHITEOUT_LAYERS) {
        const s = sandbox('overlay');
        const sandboxBefore = outside(s);
        await applyLayer(once(tarBuffer(walkOrderLayer(layer.change))), s.root, { style: 'overlay' });
        assert.equal(outside(s), sandboxBefore, 'something beside the target changed');
        uppers.push(s);
      }
      const [base, second, third, fourth] = uppers as [Sandbox, Sandbox, Sandbox, Sandbox];
      assert.deepEqual(listing(base.root), WHITEOUT_BASE);
      assert.deepEqual(listing(second.root), ['.bay', 'baz', 'foo/', 'foo/.bce', 'foo/cde/', 'foo/cde/efg']);
      assertWhiteout(second, 'baz');
      assert.deepEqual(xattrs(join(second.root, 'foo')), { 'trusted.overlay.opaque': 'y' });
      assert.deepEqual(listing(third.root), ['.bay', '.baz', 'bar/', 'foo/', 'foo/.abc', 'foo/cde', 'foobar']);
      for (const p of ['.baz', 'foobar', 'foo/cde']) assertWhiteout(third, p);
      assert.deepEqual(xattrs(join(third.root, 'foo')), {});
      assert.deepEqual(listing(fourth.root), ['.abc', 'foobar']);
      assert.deepEqual(xattrs(fourth.root), { 'trusted.overlay.opaque': 'y' });
    });
  });
});
