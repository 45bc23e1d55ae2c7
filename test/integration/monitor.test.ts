// The shim's monitor (native/shim/monitor*.c), driven through native/tests/monitor_harness:
// what a user of berth sees of it — the json-file log, the attach and control sockets,
// the exit and oom files.
import { test, before, type TestContext } from 'node:test';
import { strict as assert } from 'node:assert';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = findRoot();
const buildDir = path.join(root, 'build', 'native-tests');
const harnessBin = path.join(buildDir, 'monitor_harness');
const oomAlloc = path.join(buildDir, 'oom_alloc');
const TIME_RE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/;

function findRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(path.join(dir, 'native', 'tests', 'Makefile')))
      return dir;
    const up = path.dirname(dir);
    if (up === dir) throw new Error('cannot find the berth repository root');
    dir = up;
  }
}

before(() => {
  execFileSync('make', ['-s', '-C', path.join(root, 'native', 'tests')], { stdio: ['ignore', 'inherit', 'inherit'] });
});

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function waitUntil(pred: () => boolean, what: string, ms = 10000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

async function within<T>(p: Promise<T>, what: string, ms = 10000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

interface ExitFile {
  exitCode: number;
  signal: number | null;
  oomKilled: boolean;
  finishedAt: string;
}

interface LogLine {
  log: string;
  stream: string;
  time: string;
}

/** One run of the harness: a command under monitor_run, in its own temporary state dir. */
class Harness {
  readonly dir: string;
  readonly proc: ChildProcess;
  readonly pid: Promise<number>;
  readonly status: Promise<number | null>;
  childPid = 0;
  stderr = '';

  /** flags may depend on the state dir (e.g. a log path inside it). */
  constructor(t: TestContext, flags: string[] | ((dir: string) => string[]), cmd: string[]) {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-monitor-'));
    const args = typeof flags === 'function' ? flags(this.dir) : flags;
    this.proc = spawn(harnessBin, ['-s', this.dir, ...args, '--', ...cmd], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.status = new Promise((resolve) => this.proc.on('exit', (code) => resolve(code)));
    this.pid = new Promise((resolve, reject) => {
      let out = '';
      this.proc.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /^pid (\d+)\n/.exec(out);
        if (m) {
          this.childPid = Number(m[1]);
          resolve(this.childPid);
        }
      });
      this.proc.on('exit', () => reject(new Error(`harness exited early: ${this.stderr}`)));
    });
    this.pid.catch(() => undefined);
    t.after(async () => {
      await this.kill();
      fs.rmSync(this.dir, { recursive: true, force: true });
    });
  }

  file(name: string): string {
    return path.join(this.dir, name);
  }

  /** Ends what this run started, by pid: the command (only while it is still the
   *  harness's child) and the harness. */
  async kill(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    if (this.childPid && parentOf(this.childPid) === this.proc.pid) {
      try {
        process.kill(this.childPid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    this.proc.kill('SIGKILL');
    await this.status;
  }

  async waitExit(ms = 10000): Promise<ExitFile> {
    await waitUntil(() => fs.existsSync(this.file('exit')), `the exit file (stderr: ${this.stderr})`, ms);
    const code = await within(this.status, 'the harness to exit', ms);
    assert.equal(code, 0, `harness status (stderr: ${this.stderr})`);
    return JSON.parse(fs.readFileSync(this.file('exit'), 'utf8')) as ExitFile;
  }

  async socket(name: string): Promise<string> {
    const p = this.file(name);
    await waitUntil(() => fs.existsSync(p), name);
    return p;
  }
}

function parentOf(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[1]);
  } catch {
    return 0;
  }
}

function readLog(file: string): { raw: string[]; lines: LogLine[] } {
  const text = fs.readFileSync(file, 'utf8');
  assert.ok(text === '' || text.endsWith('\n'), 'the log ends with a newline');
  const raw = text === '' ? [] : text.slice(0, -1).split('\n');
  const lines = raw.map((r) => {
    assert.match(r, /^\{"log":".*","stream":"(stdout|stderr)","time":"[^"]+"\}$/s);
    const l = JSON.parse(r) as LogLine;
    assert.match(l.time, TIME_RE);
    return l;
  });
  return { raw, lines };
}

function streamText(lines: LogLine[], stream: string): string {
  return lines
    .filter((l) => l.stream === stream)
    .map((l) => l.log)
    .join('');
}

async function connect(p: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.createConnection(p, () => resolve(s));
    s.once('error', reject);
  });
}

/** An attach client that records everything it receives. */
class AttachClient {
  received = Buffer.alloc(0);
  ended = false;
  readonly end: Promise<void>;

  constructor(readonly sock: net.Socket) {
    sock.on('data', (d: Buffer) => (this.received = Buffer.concat([this.received, d])));
    this.end = new Promise((resolve) => sock.on('close', () => ((this.ended = true), resolve())));
    sock.on('error', () => undefined);
  }

  static async open(h: Harness): Promise<AttachClient> {
    return new AttachClient(await connect(await h.socket('attach.sock')));
  }

  /** Docker's multiplexed stream: [stream, 0, 0, 0, u32 BE length] + payload. */
  frames(): { stream: number; data: string }[] {
    const out: { stream: number; data: string }[] = [];
    let b = this.received;
    while (b.length >= 8) {
      assert.deepEqual([...b.subarray(1, 4)], [0, 0, 0], 'frame header padding');
      const len = b.readUInt32BE(4);
      if (b.length < 8 + len) break;
      out.push({ stream: b[0]!, data: b.subarray(8, 8 + len).toString('latin1') });
      b = b.subarray(8 + len);
    }
    return out;
  }

  text(stream: number): string {
    return this.frames()
      .filter((f) => f.stream === stream)
      .map((f) => f.data)
      .join('');
  }
}

/** A control connection: one command line out, one reply line back. */
class Ctl {
  private buf = '';
  private waiting: ((line: string) => void)[] = [];
  private lines: string[] = [];

  private constructor(readonly sock: net.Socket) {
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => {
      this.buf += d;
      let i: number;
      while ((i = this.buf.indexOf('\n')) >= 0) {
        const line = this.buf.slice(0, i);
        this.buf = this.buf.slice(i + 1);
        const w = this.waiting.shift();
        if (w) w(line);
        else this.lines.push(line);
      }
    });
    sock.on('error', () => undefined);
  }

  static async open(h: Harness): Promise<Ctl> {
    return new Ctl(await connect(await h.socket('ctl.sock')));
  }

  reply(): Promise<string> {
    const l = this.lines.shift();
    if (l !== undefined) return Promise.resolve(l);
    return within(new Promise((resolve) => this.waiting.push(resolve)), 'a control reply');
  }

  async cmd(line: string): Promise<string> {
    this.sock.write(line + '\n');
    return this.reply();
  }

  close(): void {
    this.sock.destroy();
  }
}

test('the log is Docker json-file lines with Docker escaping; a normal exit code', async (t) => {
  const script = [
    `printf 'he said "hi"\\ttab\\\\back <&>\\n'`,
    `printf 'err\\377\\376line\\n' >&2`,
    `head -c 20000 /dev/zero | tr '\\0' a; echo`,
    `printf '\\342\\200\\250ctl\\001\\033 partial'`,
    'exit 3',
  ].join('; ');
  const h = new Harness(t, (dir) => ['-l', path.join(dir, 'ctr.log')], ['sh', '-c', script]);

  const exit = await h.waitExit();
  assert.deepEqual({ ...exit, finishedAt: '' }, { exitCode: 3, signal: null, oomKilled: false, finishedAt: '' });
  assert.match(exit.finishedAt, TIME_RE);

  const { raw, lines } = readLog(h.file('ctr.log'));
  const out = lines.filter((l) => l.stream === 'stdout');
  const err = lines.filter((l) => l.stream === 'stderr');
  // Docker's escaping: \" and \\ short, control characters and <>& as \u00XX,
  // invalid UTF-8 bytes each as \ufffd, U+2028 escaped.
  assert.match(raw.join('\n'), /\{"log":"he said \\"hi\\"\\u0009tab\\\\back \\u003c\\u0026\\u003e\\n","stream":"stdout"/);
  assert.match(raw.join('\n'), /\{"log":"err\\ufffd\\ufffdline\\n","stream":"stderr"/);
  assert.match(raw.join('\n'), /\{"log":"\\u2028ctl\\u0001\\u001b partial","stream":"stdout"/);
  assert.deepEqual(
    err.map((l) => l.log),
    ['err\ufffd\ufffdline\n'],
  );
  // A line over 16 KiB is cut into a 16 KiB piece without \n and the rest.
  const a = out.filter((l) => l.log.startsWith('aaa'));
  assert.deepEqual(
    a.map((l) => l.log.length),
    [16384, 20000 - 16384 + 1],
  );
  assert.ok(!a[0]!.log.endsWith('\n') && a[1]!.log.endsWith('\n'));
  // The partial last line is written at EOF, without a newline.
  assert.equal(out[out.length - 1]!.log, '\u2028ctl\u0001\u001b partial');
  assert.equal(
    streamText(lines, 'stdout'),
    'he said "hi"\ttab\\back <&>\n' + 'a'.repeat(20000) + '\n' + '\u2028ctl\u0001\u001b partial',
  );
  // Sockets and temporary files are gone; exit and log remain.
  assert.deepEqual(fs.readdirSync(h.dir).sort(), ['ctr.log', 'exit']);
});

async function rotationRun(t: TestContext, maxFiles: number) {
  const script = 'i=0; while [ $i -lt 600 ]; do echo "line $i ........................................"; i=$((i+1)); done';
  const h = new Harness(t, (dir) => ['-l', path.join(dir, 'ctr.log'), '-m', '4096', '-n', String(maxFiles)], ['sh', '-c', script]);
  const exit = await h.waitExit();
  assert.equal(exit.exitCode, 0);
  return { dir: h.dir, log: h.file('ctr.log') };
}

test('rotation keeps max_files files, each within max_size', async (t) => {
  const { dir, log } = await rotationRun(t, 3);
  assert.deepEqual(fs.readdirSync(dir).sort(), ['ctr.log', 'ctr.log.1', 'ctr.log.2', 'exit']);
  const numbers: number[] = [];
  for (const f of [`${log}.2`, `${log}.1`, log]) {
    const size = fs.statSync(f).size;
    assert.ok(size <= 4096, `${f} is ${size} bytes`);
    if (f !== log) assert.ok(size > 4096 - 200, `${f} is filled before rotating (${size} bytes)`);
    for (const l of readLog(f).lines) numbers.push(Number(/^line (\d+) /.exec(l.log)![1]));
  }
  // The three files hold the newest lines, in order, without gaps.
  assert.equal(numbers[numbers.length - 1], 599);
  numbers.forEach((n, i) => assert.equal(n, numbers[0]! + i));
});

test('rotation with max_files 1 truncates the one file', async (t) => {
  const { dir, log } = await rotationRun(t, 1);
  assert.deepEqual(fs.readdirSync(dir).sort(), ['ctr.log', 'exit']);
  assert.ok(fs.statSync(log).size <= 4096);
  const lines = readLog(log).lines;
  assert.ok(lines.length > 10);
  assert.match(lines[lines.length - 1]!.log, /^line 599 /);
});

test('attach: framed stdout/stderr, input reaches stdin, stdin_once closes it', async (t) => {
  const script = 'while read l; do echo "out:$l"; echo "err:$l" >&2; done; echo bye; exit 5';
  const h = new Harness(t, (dir) => ['-l', path.join(dir, 'ctr.log'), '-i', '-o'], ['sh', '-c', script]);
  const c = await AttachClient.open(h);
  assert.equal(fs.statSync(h.file('attach.sock')).mode & 0o777, 0o600);
  assert.equal(fs.statSync(await h.socket('ctl.sock')).mode & 0o777, 0o600);
  c.sock.write('a\n');
  await waitUntil(() => c.text(1) === 'out:a\n' && c.text(2) === 'err:a\n', 'frames for "a"');
  const first = c.received.subarray(0, 8);
  assert.ok(
    first.equals(Buffer.from([1, 0, 0, 0, 0, 0, 0, 6])) || first.equals(Buffer.from([2, 0, 0, 0, 0, 0, 0, 6])),
    `header ${first.toString('hex')}`,
  );
  // Half-close: the container sees EOF on stdin, prints bye and exits; the client
  // gets the rest of the output, then EOF — after the exit file is there.
  c.sock.end();
  await within(c.end, 'the attach client closed');
  assert.ok(fs.existsSync(h.file('exit')), 'exit file written before attach clients are closed');
  assert.equal(c.text(1), 'out:a\nbye\n');
  const exit = await h.waitExit();
  assert.equal(exit.exitCode, 5);
});

test('attach: without stdin_once stdin stays open when a client half-closes; close-stdin closes it', async (t) => {
  const h = new Harness(t, ['-i'], ['cat']);
  const a = await AttachClient.open(h);
  a.sock.write('x\n');
  await waitUntil(() => a.text(1) === 'x\n', 'echo of x');
  a.sock.end(); // half-close: a keeps receiving output
  const b = await AttachClient.open(h);
  b.sock.write('y\n');
  await waitUntil(() => b.text(1) === 'y\n' && a.text(1) === 'x\ny\n', 'echo of y to both clients');
  assert.equal(b.text(1), 'y\n', 'a client sees output from the moment it connects');
  const ctl = await Ctl.open(h);
  assert.equal(await ctl.cmd('close-stdin'), 'ok');
  const exit = await h.waitExit();
  assert.deepEqual([exit.exitCode, exit.signal], [0, null]);
  await within(Promise.all([a.end, b.end]), 'attach clients closed');
  ctl.close();
});

test('ctl: errors, then kill 15 gives exitCode 143 and signal 15', async (t) => {
  const h = new Harness(t, [], ['sleep', '100']);
  const ctl = await Ctl.open(h);
  // Several commands in one write get one reply each, in order.
  ctl.sock.write('resize 24 80\nbogus arg\nkill 99999\n\r\n');
  assert.match(await ctl.reply(), /^error .*terminal/);
  assert.equal(await ctl.reply(), 'error unknown command "bogus"');
  assert.match(await ctl.reply(), /^error usage: kill/);
  assert.equal(await ctl.reply(), 'error empty command');
  assert.equal(await ctl.cmd('kill 0'), 'ok');
  assert.equal(await ctl.cmd('reopen-log'), 'error there is no log file');
  assert.equal(await ctl.cmd('kill 15'), 'ok');
  const exit = await h.waitExit();
  assert.deepEqual({ ...exit, finishedAt: '' }, { exitCode: 143, signal: 15, oomKilled: false, finishedAt: '' });
  ctl.close();
});

test('ctl: SIGTERM to the shim itself is ignored', async (t) => {
  const h = new Harness(t, [], ['sleep', '100']);
  const ctl = await Ctl.open(h);
  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) h.proc.kill(sig);
  await sleep(100);
  assert.equal(h.proc.exitCode, null, 'the harness is still running');
  assert.equal(await ctl.cmd('kill 9'), 'ok');
  const exit = await h.waitExit();
  assert.deepEqual([exit.exitCode, exit.signal], [137, 9]);
  ctl.close();
});

test('reopen-log: after an external rotation the log continues in a new file', async (t) => {
  const h = new Harness(t, (dir) => ['-l', path.join(dir, 'ctr.log'), '-i'], ['sh', '-c', 'echo one; read x; echo two']);
  const log = h.file('ctr.log');
  await waitUntil(() => fs.existsSync(log) && fs.readFileSync(log, 'utf8').includes('one'), '"one" in the log');
  fs.renameSync(log, `${log}.old`);
  const ctl = await Ctl.open(h);
  assert.equal(await ctl.cmd('reopen-log'), 'ok');
  const c = await AttachClient.open(h);
  c.sock.write('\n');
  await h.waitExit();
  assert.deepEqual(
    readLog(`${log}.old`).lines.map((l) => l.log),
    ['one\n'],
  );
  assert.deepEqual(
    readLog(log).lines.map((l) => l.log),
    ['two\n'],
  );
  ctl.close();
});

test('terminal: raw output on attach, one stdout stream, resize reaches the pty', async (t) => {
  const h = new Harness(t, (dir) => ['-t', '-i', '-l', path.join(dir, 'ctr.log')], ['sh', '-c', 'read x; stty size; echo err >&2; exit 7']);
  const ctl = await Ctl.open(h);
  assert.equal(await ctl.cmd('resize 33 101'), 'ok');
  const c = await AttachClient.open(h);
  c.sock.write('go\n');
  const exit = await h.waitExit();
  assert.equal(exit.exitCode, 7);
  await within(c.end, 'the attach client closed');
  const raw = c.received.toString('latin1');
  assert.match(raw, /33 101\r\n/);
  assert.match(raw, /err\r\n/);
  assert.ok(!raw.includes('\u0001\u0000\u0000\u0000'), 'no multiplexing headers with a terminal');
  const lines = readLog(h.file('ctr.log')).lines;
  assert.deepEqual([...new Set(lines.map((l) => l.stream))], ['stdout']);
  assert.match(streamText(lines, 'stdout'), /go\r\n33 101\r\nerr\r\n/);
  ctl.close();
});

test('terminal: close-stdin sends EOF to a reader in canonical mode', async (t) => {
  const h = new Harness(t, ['-t', '-i'], ['cat']);
  const c = await AttachClient.open(h);
  c.sock.write('hello\n');
  await waitUntil(() => c.received.toString().includes('hello\r\nhello\r\n'), 'echo and output of hello');
  const ctl = await Ctl.open(h);
  assert.equal(await ctl.cmd('close-stdin'), 'ok');
  const exit = await h.waitExit();
  assert.equal(exit.exitCode, 0);
  ctl.close();
});

test('after exit, output still in flight is drained and logged', async (t) => {
  const h = new Harness(t, (dir) => ['-l', path.join(dir, 'ctr.log')], ['sh', '-c', '(sleep 0.3; echo late) & echo early; exit 4']);
  const exit = await h.waitExit();
  assert.equal(exit.exitCode, 4);
  assert.equal(streamText(readLog(h.file('ctr.log')).lines, 'stdout'), 'early\nlate\n');
});

test('a slow attach client is dropped instead of holding the container back', async (t) => {
  const total = 30_000_000;
  const h = new Harness(t, ['-i'], ['sh', '-c', `read x; head -c ${total} /dev/zero; exit 0`]);
  const slow = await AttachClient.open(h);
  slow.sock.write('go\n');
  slow.sock.pause(); // stops reading from the kernel once Node's buffer is full
  const exit = await h.waitExit(20000);
  assert.equal(exit.exitCode, 0);
  slow.sock.resume();
  await within(slow.end, 'the slow client closed');
  assert.ok(slow.received.length < total, `the slow client got ${slow.received.length} bytes and was dropped`);
});

test('OOM (cgroup v2 memory.events): the oom file and oomKilled', async (t) => {
  const cg = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-fake-cgroup-'));
  t.after(() => fs.rmSync(cg, { recursive: true, force: true }));
  const events = path.join(cg, 'memory.events');
  fs.writeFileSync(events, 'low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n');
  const h = new Harness(t, ['-2', cg], ['sleep', '100']);
  const ctl = await Ctl.open(h);
  // A change that is not a kill does not count.
  fs.writeFileSync(events, 'low 0\nhigh 0\nmax 4\noom 1\noom_kill 0\n');
  await sleep(200);
  assert.ok(!fs.existsSync(h.file('oom')));
  fs.writeFileSync(events, 'low 0\nhigh 0\nmax 5\noom 2\noom_kill 1\n');
  await waitUntil(() => fs.existsSync(h.file('oom')), 'the oom file');
  assert.equal(fs.readFileSync(h.file('oom'), 'utf8'), '');
  assert.equal(await ctl.cmd('kill 9'), 'ok');
  const exit = await h.waitExit();
  assert.deepEqual([exit.exitCode, exit.signal, exit.oomKilled], [137, 9, true]);
  ctl.close();
});

const V1_MEMORY = '/sys/fs/cgroup/memory';
const v1Usable = (() => {
  try {
    fs.accessSync(path.join(V1_MEMORY, 'cgroup.event_control'), fs.constants.W_OK);
    return process.getuid?.() === 0;
  } catch {
    return false;
  }
})();

test('OOM (cgroup v1): a process over its memory limit is OOM-killed and reported', { skip: !v1Usable && 'no writable cgroup v1 memory hierarchy' }, async (t) => {
  const cg = path.join(V1_MEMORY, `berth-test-${randomBytes(6).toString('hex')}`);
  fs.mkdirSync(cg);
  let h: Harness | undefined;
  t.after(async () => {
    await h?.kill(); // then the cgroup is empty and can go
    for (let i = 0; i < 100; i++) {
      try {
        fs.rmdirSync(cg);
        return;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
        await sleep(50);
      }
    }
    fs.rmdirSync(cg);
  });
  fs.writeFileSync(path.join(cg, 'memory.limit_in_bytes'), String(32 * 1024 * 1024));
  const memsw = path.join(cg, 'memory.memsw.limit_in_bytes');
  if (fs.existsSync(memsw)) fs.writeFileSync(memsw, String(32 * 1024 * 1024));
  h = new Harness(t, (dir) => ['-l', path.join(dir, 'ctr.log'), '-1', cg, '-c', path.join(cg, 'cgroup.procs')], [oomAlloc]);
  const exit = await h.waitExit(30000);
  assert.deepEqual([exit.exitCode, exit.signal, exit.oomKilled], [137, 9, true]);
  assert.ok(fs.existsSync(h.file('oom')), 'the oom file');
  assert.equal(streamText(readLog(h.file('ctr.log')).lines, 'stdout'), 'allocating\n');
});
