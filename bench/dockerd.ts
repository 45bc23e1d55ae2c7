// A private dockerd for the benchmarks (layers.ts: `docker load`; registry.ts: `docker pull`):
// its own data root, exec root, pidfile, socket and empty config file, overlay2, no bridge, no
// iptables, no ip_forward/masquerade change. It is stopped by its pid (then the containerd it
// manages, if that outlived it), and the /etc/docker/key.json dockerd 20.10 writes is removed
// again when it was not there before. Every daemon started here is tracked, so a clean-up can
// stop them all (stopAllDockerds) whatever state the benchmark is in.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { checkAborted, pidAlive, readFileSafe, run, tail, waitGone, which, type RunResult } from './common.js';

export interface DockerdState {
  child: ChildProcess;
  pid: number;
  /** The docker client to talk to it with (the package's, same version as the daemon). */
  docker: string;
  dataRoot: string;
  execRoot: string;
  socket: string;
  /** unix://<socket>, for docker -H. */
  host: string;
  logPath: string;
  /** /etc/docker/key.json did not exist before this dockerd (20.10 writes its trust key there). */
  keyJsonWasAbsent: boolean;
}

const running = new Set<DockerdState>();

/** dockerd and a docker client; installs Debian's docker.io when dockerd is missing. */
export function ensureDockerd(notes: string[]): { dockerd?: string; docker?: string; why?: string } {
  let dockerdPath = which('dockerd');
  if (!dockerdPath) {
    process.stderr.write('docker: dockerd is not installed; apt-get install -y docker.io …\n');
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    let r = run(['apt-get', 'install', '-y', '-qq', 'docker.io'], { timeoutS: 900, env });
    if (r.status !== 0) {
      run(['apt-get', 'update', '-qq'], { timeoutS: 600, env });
      r = run(['apt-get', 'install', '-y', '-qq', 'docker.io'], { timeoutS: 900, env });
    }
    dockerdPath = which('dockerd');
    if (!dockerdPath) return { why: `apt-get install docker.io failed: ${(r.stderr.trim().split('\n').pop() ?? '').slice(0, 300)}` };
    notes.push('docker: installed docker.io from Debian (its service was not started: policy-rc.d, no init system)');
  }
  // The client from the same package as the daemon, when there is one.
  const docker = existsSync('/usr/bin/docker') ? '/usr/bin/docker' : which('docker');
  if (!docker) return { why: 'no docker client' };
  return { dockerd: dockerdPath, docker };
}

function socketAnswers(path: string): Promise<boolean> {
  return new Promise((res) => {
    const s = connect(path);
    s.on('connect', () => {
      s.destroy();
      res(true);
    });
    s.on('error', () => res(false));
  });
}

/**
 * Starts a private dockerd with everything under dir and its API on socket, and waits (≤ 90 s)
 * until it answers. On failure or abort the daemon is stopped before the error is thrown.
 * networkArgs (optional, bench/network.ts): flags that replace the no-bridge/no-iptables ones
 * (e.g. --bip, --ip-forward=false); the bridge and the iptables rules dockerd then makes are
 * the caller's to remove.
 */
export async function startDockerd(
  dockerdPath: string, docker: string, dir: string, socket: string, notes: string[], execRoot = join(dir, 'exec'), networkArgs?: string[],
): Promise<DockerdState> {
  if (existsSync(socket)) {
    if (await socketAnswers(socket)) throw new Error(`${socket} is in use by another daemon; not touching it`);
    unlinkSync(socket); // a stale socket of an earlier, killed run
  }
  const dataRoot = join(dir, 'data');
  for (const d of [dir, dataRoot, execRoot]) mkdirSync(d, { recursive: true });
  const configFile = join(dir, 'daemon.json');
  writeFileSync(configFile, '{}\n');
  const logPath = join(dir, 'dockerd.log');
  const log = openSync(logPath, 'a');
  const keyJsonWasAbsent = !existsSync('/etc/docker/key.json');
  const argv = [
    '--data-root', dataRoot, '--exec-root', execRoot, '--pidfile', join(dir, 'docker.pid'),
    '-H', `unix://${socket}`, '--config-file', configFile,
    ...(networkArgs ?? ['--bridge=none', '--iptables=false', '--ip6tables=false', '--ip-forward=false', '--ip-masq=false']),
    '--storage-driver=overlay2', '--log-level=warn',
  ];
  const child = spawn(dockerdPath, argv, { stdio: ['ignore', log, log] });
  closeSync(log);
  const state: DockerdState = { child, pid: child.pid!, docker, dataRoot, execRoot, socket, host: `unix://${socket}`, logPath, keyJsonWasAbsent };
  running.add(state);
  let exited: string | undefined;
  child.on('exit', (code, signal) => {
    exited = `dockerd exited (${signal ?? `status ${code}`})`;
  });
  try {
    const deadline = Date.now() + 90_000;
    for (;;) {
      checkAborted();
      if (exited) throw new Error(`${exited} before answering: ${tail(logPath)}`);
      const r = run([docker, '-H', state.host, 'version', '--format', '{{.Server.Version}}'], { timeoutS: 10 });
      if (r.status === 0) break;
      if (Date.now() > deadline) throw new Error(`dockerd did not answer within 90 s: ${tail(logPath)}`);
      await new Promise((res) => setTimeout(res, 500));
    }
  } catch (err) {
    await stopDockerd(state, notes).catch((e: Error) => notes.push(`stopping dockerd: ${e.message}`));
    throw err;
  }
  return state;
}

/** Stop a dockerd started here (by its pid), then its managed containerd if it stayed. */
export async function stopDockerd(d: DockerdState, notes: string[]): Promise<void> {
  if (!running.delete(d)) return;
  const containerdPidFile = join(d.execRoot, 'containerd', 'containerd.pid');
  const containerdPid = Number.parseInt(readFileSafe(containerdPidFile), 10);
  if (d.child.exitCode === null && d.child.signalCode === null) {
    process.kill(d.pid, 'SIGTERM');
    if (!(await waitGone(d.pid, 30_000))) {
      notes.push(`dockerd ${d.pid} ignored SIGTERM for 30 s: SIGKILL`);
      process.kill(d.pid, 'SIGKILL');
      await waitGone(d.pid, 5_000);
    }
  }
  // The containerd dockerd manages is started with our exec root on its command line: ours.
  if (Number.isInteger(containerdPid) && pidAlive(containerdPid) && readFileSafe(`/proc/${containerdPid}/cmdline`).includes(d.execRoot)) {
    process.kill(containerdPid, 'SIGTERM');
    if (!(await waitGone(containerdPid, 10_000))) process.kill(containerdPid, 'SIGKILL');
    notes.push(`docker: stopped the managed containerd (${containerdPid}) that outlived dockerd`);
  }
  rmSync(d.socket, { force: true });
  if (d.keyJsonWasAbsent && existsSync('/etc/docker/key.json')) {
    rmSync('/etc/docker/key.json', { force: true });
    const note = 'docker: removed the /etc/docker/key.json (trust key) each dockerd of this run wrote';
    if (!notes.includes(note)) notes.push(note);
  }
}

/** For a clean-up: every dockerd started here and not stopped yet. */
export async function stopAllDockerds(notes: string[]): Promise<void> {
  for (const d of [...running]) await stopDockerd(d, notes).catch((err: Error) => notes.push(`stopping dockerd ${d.pid}: ${err.message}`));
}

/** `docker -H <its socket> args…`, run to completion. */
export function dockerCli(d: DockerdState, args: string[], timeoutS = 120): RunResult {
  return run([d.docker, '-H', d.host, ...args], { timeoutS });
}
