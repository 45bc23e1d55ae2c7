// A private berthd for a test: its own data root, exec root and socket in a temporary
// directory; stopped (or SIGKILLed) and cleaned up afterwards — containers killed through
// the runtime, mounts under the root unmounted, cgroups removed — even when a test failed.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { randomBytes, randomInt } from 'node:crypto';
import { join } from 'node:path';
import { REPO, RUNTIME } from './runtime.js';

export const BERTHD = join(REPO, 'bin/berthd.js');
export const BERTH_CLI = join(REPO, 'bin/berth.js');

export interface Berthd {
  root: string;
  socket: string;
  host: string;
  dataRoot: string;
  execRoot: string;
  /** Everything berthd wrote to stderr so far. */
  log(): string;
  /** Start (again) on the same roots. */
  start(): Promise<void>;
  /** SIGTERM and wait. */
  stop(): Promise<void>;
  /** SIGKILL and wait: containers must survive. */
  kill(): Promise<void>;
  /** Kill every container, unmount, remove the roots. */
  cleanup(): Promise<void>;
  /** Environment for the docker CLI / berth CLI aimed at this daemon. */
  env(): NodeJS.ProcessEnv;
}

export interface BerthdOptions {
  /** Extra daemon.json keys. */
  config?: Record<string, unknown>;
  args?: string[];
}

export function ping(socket: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ socketPath: socket, path: '/_ping', timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => {
      req.destroy();
      resolve(false);
    });
    req.end();
  });
}

export async function startBerthd(opts: BerthdOptions = {}): Promise<Berthd> {
  const root = mkdtempSync('/var/tmp/berthd-test-');
  const dataRoot = join(root, 'data');
  const execRoot = join(root, 'exec');
  const socket = join(root, 'berth.sock');
  const configFile = join(root, 'daemon.json');
  // Each test daemon gets its own bridge, firewall table and address pool, so daemons side by
  // side (and a system berthd) never share one; outbound forwarding stays as the host has it.
  const tag = randomBytes(3).toString('hex');
  const network = {
    bridge: `bt${tag}`, 'firewall-name': `berth_t${tag}`, 'ip-forward': false,
    'default-address-pools': [{ base: `10.${100 + randomInt(150)}.0.0/16`, size: 24 }],
  };
  writeFileSync(configFile, JSON.stringify({ ...network, ...opts.config }));
  let child: ChildProcess | undefined;
  let stderr = '';
  const start = async (): Promise<void> => {
    const args = [BERTHD, '--data-root', dataRoot, '--exec-root', execRoot, '-H', `unix://${socket}`, '--config-file', configFile, '--log-level', 'debug', ...(opts.args ?? [])];
    child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (d: string) => (stderr += d));
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`berthd exited with ${child.exitCode}: ${stderr}`);
      if (await ping(socket)) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`berthd did not answer within 30 s: ${stderr}`);
  };
  const waitExit = (sig: NodeJS.Signals): Promise<void> => new Promise((resolve) => {
    if (!child || child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill(sig);
  });
  await start();
  const d: Berthd = {
    root, socket, host: `unix://${socket}`, dataRoot, execRoot,
    log: () => stderr,
    start,
    stop: () => waitExit('SIGTERM'),
    kill: () => waitExit('SIGKILL'),
    env: () => ({ ...process.env, DOCKER_HOST: `unix://${socket}`, BERTH_HOST: `unix://${socket}`, BERTH_NO_AUTOSTART: '1', DOCKER_CONFIG: join(root, 'docker-config'), HOME: root }),
    cleanup: async () => {
      await waitExit('SIGKILL');
      killContainers(join(execRoot, 'runtime'));
      unmountUnder(root);
      removeNetworking(dataRoot, configFile);
      rmSync(root, { recursive: true, force: true });
    },
  };
  return d;
}

/** Every container the runtime knows under `runtimeRoot`: killed and deleted (cgroups too). */
export function killContainers(runtimeRoot: string): void {
  if (!existsSync(runtimeRoot)) return;
  const list = spawnSync(process.execPath, [RUNTIME, '--root', runtimeRoot, 'list', '-q'], { encoding: 'utf8' });
  for (const id of list.stdout.split('\n').filter(Boolean)) {
    spawnSync(process.execPath, [RUNTIME, '--root', runtimeRoot, 'delete', '--force', id], { encoding: 'utf8' });
  }
}

/** The daemon's bridges and its firewall table (nftables; iptables chains by the same prefix). */
export function removeNetworking(dataRoot: string, configFile: string): void {
  const networks = join(dataRoot, 'networks');
  for (const file of existsSync(networks) ? readdirSync(networks) : []) {
    try {
      const bridge = (JSON.parse(readFileSync(join(networks, file), 'utf8')) as { bridge?: string }).bridge;
      if (bridge) spawnSync('ip', ['link', 'del', bridge]);
    } catch {
      // not a network record
    }
  }
  let name: string | undefined;
  try {
    name = (JSON.parse(readFileSync(configFile, 'utf8')) as { 'firewall-name'?: string })['firewall-name'];
  } catch {
    // unreadable: nothing of ours to name
  }
  // Only a table the test named: the default one may belong to a system berthd.
  if (name) spawnSync('nft', ['delete', 'table', 'ip', name]);
}

/** Unmount every mount point below dir, deepest first. */
export function unmountUnder(dir: string): void {
  const points = readFileSync('/proc/self/mountinfo', 'utf8').split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((p) => p.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
  for (const p of points) spawnSync('umount', ['-l', p]);
}
