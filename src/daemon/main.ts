// berthd: load the configuration, open the stores, restore containers, serve the Engine
// API. SIGTERM/SIGINT shut down gracefully; containers keep running either way (live
// restore), and a restarted berthd picks them up.
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { parseHost, type ListenSpec, type TlsFiles } from '../api/listen.js';
import { createApiServer } from '../api/server.js';
import { invalidArgument } from '../util/errors.js';
import { errnoCode, isBerthError } from '../util/errors.js';
import { loadDaemonConfig, USAGE, type DaemonConfig } from './config.js';
import { BERTH_VERSION, Daemon, type LogFn } from './daemon.js';

const LEVELS = { debug: 0, info: 1, warn: 2, error: 3, fatal: 4 } as const;

function makeLog(config: DaemonConfig): LogFn {
  const min = LEVELS[config.logLevel];
  // A log whose reader went away (EPIPE) is dropped, not retried: writing to it from the
  // error handler would spin (dockerd ignores EPIPE on its log the same way).
  let broken = false;
  process.stderr.on('error', () => {
    broken = true;
  });
  return (level, msg) => {
    if (broken || LEVELS[level] < min) return;
    process.stderr.write(`time="${new Date().toISOString()}" level=${level} msg=${JSON.stringify(msg)}\n`);
  };
}

/** One berthd per exec root: the pid file is taken with O_EXCL and checked for a live owner. */
function takePidFile(execRoot: string): string {
  const path = join(execRoot, 'berthd.pid');
  mkdirSync(execRoot, { recursive: true, mode: 0o711 });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o644);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return path;
    } catch (err) {
      if (errnoCode(err) !== 'EEXIST') throw err;
      const pid = Number(readFileSync(path, 'utf8').trim());
      if (pid > 0 && pid !== process.pid && alive(pid)) {
        throw new Error(`pid file found, ensure berthd is not running or delete ${path} (pid ${pid} is running)`);
      }
      rmSync(path, { force: true });
    }
  }
  throw new Error(`cannot create ${path}`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** --host values with the TLS settings: tcp:// needs TLS unless --tls=false was given. */
function listenSpecs(config: DaemonConfig): ListenSpec[] {
  let tls: TlsFiles | false | undefined;
  if (config.tls === false) tls = false;
  else if (config.tls === true) {
    if (!config.tlsCert || !config.tlsKey) throw invalidArgument('--tls needs --tlscert and --tlskey');
    tls = { certPath: config.tlsCert, keyPath: config.tlsKey, caPath: config.tlsCaCert, verify: config.tlsVerify };
  }
  return config.hosts.map((h) => parseHost(h, { tls, group: config.group }));
}

export async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (argv.includes('--version') || argv.includes('-v')) {
    process.stdout.write(`berthd version ${BERTH_VERSION}\n`);
    return 0;
  }
  let config: DaemonConfig;
  try {
    config = loadDaemonConfig(argv);
  } catch (err) {
    process.stderr.write(`berthd: ${(err as Error).message}\n`);
    return 1;
  }
  const log = makeLog(config);
  if (process.getuid?.() !== 0) {
    log('fatal', 'berthd needs to be started with root privileges');
    return 1;
  }
  let pidFile: string;
  try {
    pidFile = takePidFile(config.execRoot);
  } catch (err) {
    log('fatal', (err as Error).message);
    return 1;
  }
  // A bug in one request must not take every container's manager down with it.
  process.on('uncaughtException', (err) => log('error', `uncaught: ${err.stack ?? err.message}`));
  process.on('unhandledRejection', (err) => log('error', `unhandled rejection: ${(err as Error)?.stack ?? String(err)}`));
  try {
    const { daemon, restored } = await Daemon.open(config, log);
    log('info', `restored ${restored.running} running containers, ${restored.exitedWhileDown} exited while berthd was down, ${restored.restarted} restarted; cleaned ${restored.cleaned.length} leftovers`);
    const server = createApiServer(daemon, { serverVersion: BERTH_VERSION, log: (line: string) => log('debug', line) });
    await server.listen(listenSpecs(config));
    log('info', `API listen on ${config.hosts.join(', ')}`);
    await new Promise<void>((resolve) => {
      const stop = (sig: string): void => {
        log('info', `processing signal '${sig}'`);
        resolve();
      };
      process.once('SIGTERM', () => stop('terminated'));
      process.once('SIGINT', () => stop('interrupt'));
    });
    await server.close();
    await daemon.close();
    log('info', 'daemon shutdown complete; containers keep running (live restore)');
    return 0;
  } catch (err) {
    log('fatal', isBerthError(err) ? err.message : (err as Error).stack ?? String(err));
    return 1;
  } finally {
    rmSync(pidFile, { force: true });
  }
}
