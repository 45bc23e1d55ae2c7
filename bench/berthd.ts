// A private berthd for the benchmarks, beside bench/dockerd.ts's private dockerd: its own data
// root, exec root, socket and empty config file under one directory. It is stopped by its pid;
// since containers outlive berthd by design (live restore), every container its runtime still
// knows is then killed and deleted through `berth-runtime --root <exec>/runtime`, and what is
// mounted under the directory is unmounted. Every daemon started here is tracked, so a clean-up
// can stop them all (stopAllBerthds) whatever state the benchmark is in.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkAborted, mountsUnder, tail, waitGone } from './common.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const BERTHD_JS = join(REPO, 'bin/berthd.js');
export const BERTH_JS = join(REPO, 'bin/berth.js');
const RUNTIME_JS = join(REPO, 'bin/berth-runtime.js');

export interface BerthdState {
  child: ChildProcess;
  pid: number;
  dir: string;
  dataRoot: string;
  execRoot: string;
  socket: string;
  /** unix://<socket>, for docker -H / berth -H. */
  host: string;
  logPath: string;
}

const running = new Set<BerthdState>();

/** GET /_ping answers 200. */
export function pingSocket(socket: string): Promise<boolean> {
  return new Promise((res) => {
    const req = request({ socketPath: socket, path: '/_ping', timeout: 2000 }, (r) => {
      r.resume();
      res(r.statusCode === 200);
    });
    req.on('error', () => res(false));
    req.on('timeout', () => {
      req.destroy();
      res(false);
    });
    req.end();
  });
}

/**
 * `node bin/berthd.js --data-root <dir>/data --exec-root <dir>/exec -H unix://<dir>/berth.sock
 * --config-file <dir>/daemon.json` (daemon.json `{}`), waited for (≤ 60 s) until GET /_ping
 * answers. On failure or abort it is stopped and cleaned before the error is thrown.
 * config (optional, bench/network.ts): the daemon.json keys instead of `{}` (its bridge,
 * firewall-name, address pools, log level); what they make in the kernel is the caller's to remove.
 */
export async function startBerthd(dir: string, notes: string[], execRoot = join(dir, 'exec'), config: Record<string, unknown> = {}): Promise<BerthdState> {
  const dataRoot = join(dir, 'data');
  const socket = join(dir, 'berth.sock');
  for (const d of [dir, dataRoot, execRoot]) mkdirSync(d, { recursive: true });
  const configFile = join(dir, 'daemon.json');
  writeFileSync(configFile, JSON.stringify(config) + '\n');
  const logPath = join(dir, 'berthd.log');
  const log = openSync(logPath, 'a');
  const argv = [BERTHD_JS, '--data-root', dataRoot, '--exec-root', execRoot, '-H', `unix://${socket}`, '--config-file', configFile];
  // BENCH_BERTHD_NODE_ARGS: node flags for berthd alone (e.g. --cpu-prof), which NODE_OPTIONS refuses.
  const nodeArgs = (process.env.BENCH_BERTHD_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, ...argv], { stdio: ['ignore', log, log] });
  closeSync(log);
  const state: BerthdState = { child, pid: child.pid!, dir, dataRoot, execRoot, socket, host: `unix://${socket}`, logPath };
  running.add(state);
  let exited: string | undefined;
  child.on('exit', (code, signal) => (exited = `berthd exited (${signal ?? `status ${code}`})`));
  try {
    const deadline = Date.now() + 60_000;
    for (;;) {
      checkAborted();
      if (exited) throw new Error(`${exited} before answering: ${tail(logPath)}`);
      if (await pingSocket(socket)) break;
      if (Date.now() > deadline) throw new Error(`berthd did not answer /_ping within 60 s: ${tail(logPath)}`);
      await new Promise((res) => setTimeout(res, 50));
    }
  } catch (err) {
    await stopBerthd(state, notes).catch((e: Error) => notes.push(`stopping berthd: ${e.message}`));
    throw err;
  }
  return state;
}

/**
 * SIGTERM (SIGKILL after 30 s) by pid; then every container its runtime still knows killed and
 * deleted (they survive the daemon on purpose), and the mounts under its directory unmounted.
 */
export async function stopBerthd(b: BerthdState, notes: string[]): Promise<void> {
  if (!running.delete(b)) return;
  if (b.child.exitCode === null && b.child.signalCode === null) {
    process.kill(b.pid, 'SIGTERM');
    if (!(await waitGone(b.pid, 30_000))) {
      notes.push(`berthd ${b.pid} ignored SIGTERM for 30 s: SIGKILL`);
      process.kill(b.pid, 'SIGKILL');
      await waitGone(b.pid, 5_000);
    }
  }
  const killed = killRuntimeContainers(join(b.execRoot, 'runtime'));
  if (killed) notes.push(`berth: killed and deleted ${killed} container(s) left running after berthd stopped`);
  for (const m of mountsUnder(b.dir)) {
    const r = spawnSync('umount', ['-l', m], { encoding: 'utf8' });
    if (r.status !== 0) notes.push(`umount ${m}: ${r.stderr.trim()}`);
  }
  rmSync(b.socket, { force: true });
}

/** For a clean-up: every berthd started here and not stopped yet. */
export async function stopAllBerthds(notes: string[]): Promise<void> {
  for (const b of [...running]) await stopBerthd(b, notes).catch((err: Error) => notes.push(`stopping berthd ${b.pid}: ${err.message}`));
}

/** `berth-runtime --root runtimeRoot list -q`, each one `delete --force`d (process, mounts, cgroups); how many. */
function killRuntimeContainers(runtimeRoot: string): number {
  if (!existsSync(runtimeRoot)) return 0;
  const list = spawnSync(process.execPath, [RUNTIME_JS, '--root', runtimeRoot, 'list', '-q'], { encoding: 'utf8', timeout: 60_000 });
  const ids = (list.stdout ?? '').split('\n').filter(Boolean);
  for (const id of ids) spawnSync(process.execPath, [RUNTIME_JS, '--root', runtimeRoot, 'delete', '--force', id], { encoding: 'utf8', timeout: 60_000 });
  return ids.length;
}
