// Starting berthd on demand: when the CLI talks to the default socket, nothing answers and
// we are root, it launches the package's own berthd detached (its output to a log file),
// then waits for /_ping. Opt out with BERTH_NO_AUTOSTART=1.
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../util/package-root.js';
import { unavailable } from '../util/errors.js';

const LOG_DIRS = ['/var/log/berth', '/run/berth'];
const WAIT_MS = 10_000;
const POLL_MS = 25;

export interface DaemonLaunch {
  /** argv of the daemon; default: this package's bin/berthd.js under the running node. */
  command?: string[];
  /** Where its output goes; default /var/log/berth/berthd.log, else /run/berth/berthd.log. */
  logPath?: string;
}

function openLog(logPath: string | undefined): { fd: number; path: string } {
  if (logPath) return { fd: openSync(logPath, 'a', 0o640), path: logPath };
  let lastError: unknown;
  for (const dir of LOG_DIRS) {
    try {
      mkdirSync(dir, { recursive: true, mode: 0o755 });
      const path = join(dir, 'berthd.log');
      return { fd: openSync(path, 'a', 0o640), path };
    } catch (err) {
      lastError = err;
    }
  }
  throw unavailable(`cannot open a log file for berthd: ${(lastError as Error).message}`);
}

/**
 * Launch berthd and resolve once `ping` succeeds. Rejects with the log's path when the
 * daemon exits first or does not answer within 10 s.
 */
export async function startDaemon(ping: () => Promise<boolean>, env: NodeJS.ProcessEnv, launch: DaemonLaunch = {}): Promise<void> {
  const log = openLog(launch.logPath);
  const [file, ...args] = launch.command ?? [process.execPath, join(packageRoot(), 'bin', 'berthd.js')];
  let exited: string | undefined;
  try {
    const child = spawn(file!, args, { detached: true, stdio: ['ignore', log.fd, log.fd], env });
    child.once('exit', (code, signal) => {
      exited = signal ? `was killed by ${signal}` : `exited with status ${code}`;
    });
    child.once('error', (err) => {
      exited = `could not be started: ${err.message}`;
    });
    child.unref();
  } finally {
    closeSync(log.fd);
  }
  const deadline = Date.now() + WAIT_MS;
  while (Date.now() < deadline) {
    if (await ping()) return;
    if (exited) throw unavailable(`berthd ${exited}; see ${log.path}`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  throw unavailable(`berthd did not answer within ${WAIT_MS / 1000} s; see ${log.path}`);
}
