// Where berthd listens, from Docker's --host values: unix:///path (mode 0660, group
// "docker" when it exists), tcp://host:port (only with TLS, unless TLS was explicitly
// turned off), TLS with optional client verification (mutual TLS). fd:// is refused.
import { chmod, chown, lstat, mkdir, readFile, unlink } from 'node:fs/promises';
import { connect, createServer as createNetServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { createServer as createTlsServer } from 'node:tls';
import { conflict, invalidArgument } from '../util/errors.js';
import { errnoCode } from '../util/errors.js';

export interface TlsFiles {
  certPath: string;
  keyPath: string;
  /** CA for client certificates; required when verify is set. */
  caPath?: string;
  /** Require and verify client certificates (Docker's --tlsverify). */
  verify: boolean;
}

export type ListenSpec =
  | { kind: 'unix'; path: string; /** Group that may use the socket (Docker's --group); default "docker". */ group?: string }
  | { kind: 'tcp'; host: string; port: number; /** Absent: plain TCP, which parseHost only allows with tls: false. */ tls?: TlsFiles };

export interface ParseHostOptions {
  /** TLS settings for tcp:// hosts; `false` allows plain TCP; undefined refuses tcp://. */
  tls?: TlsFiles | false;
  /** unix:// with no path, and "", mean this socket. */
  defaultSocket?: string;
  group?: string;
}

export const DEFAULT_SOCKET = '/run/berth/berth.sock';
const DEFAULT_TCP_HOST = '127.0.0.1';
const DEFAULT_PLAIN_PORT = 2375;
const DEFAULT_TLS_PORT = 2376;

/** Parses one --host value as dockerd does (a value without "://" is tcp). */
export function parseHost(value: string, opts: ParseHostOptions = {}): ListenSpec {
  const trimmed = value.trim();
  const [scheme, rest] = trimmed === '' ? ['unix', ''] : trimmed.includes('://') ? (trimmed.split('://', 2) as [string, string]) : ['tcp', trimmed];
  switch (scheme) {
    case 'unix': {
      const path = rest === '' ? (opts.defaultSocket ?? DEFAULT_SOCKET) : rest;
      if (!path.startsWith('/')) throw invalidArgument(`invalid bind address format: ${value}: the socket path must be absolute`);
      return { kind: 'unix', path, ...(opts.group !== undefined ? { group: opts.group } : {}) };
    }
    case 'tcp':
      return parseTcp(value, rest, opts.tls);
    case 'fd':
      throw invalidArgument(`${value}: fd:// (systemd socket activation) is not supported by berthd; use unix:// or tcp://`);
    default:
      throw invalidArgument(`invalid bind address format: ${value}`);
  }
}

function parseTcp(value: string, rest: string, tls: TlsFiles | false | undefined): ListenSpec {
  if (tls === undefined) throw invalidArgument(`${value}: tcp without TLS needs --tls=false`);
  const slash = rest.indexOf('/');
  if (slash >= 0 && rest.slice(slash) !== '/') {
    throw invalidArgument(`invalid bind address (${value}): should not contain a path element`);
  }
  const hostPort = slash >= 0 ? rest.slice(0, slash) : rest;
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]]*))(?::([0-9]{1,5}))?$/.exec(hostPort);
  if (m === null) throw invalidArgument(`invalid bind address format: ${value}`);
  const host = m[1] ?? (m[2] === undefined || m[2] === '' ? DEFAULT_TCP_HOST : m[2]);
  const port = m[3] !== undefined ? Number(m[3]) : tls === false ? DEFAULT_PLAIN_PORT : DEFAULT_TLS_PORT;
  if (port > 65535) throw invalidArgument(`invalid bind address (${value}): port ${port} is out of range`);
  return { kind: 'tcp', host, port, ...(tls !== false ? { tls } : {}) };
}

export interface Listener {
  readonly address: string;
  close(): Promise<void>;
}

/** Opens one listener; every accepted connection goes to `accept`. */
export async function openListener(spec: ListenSpec, accept: (socket: Socket) => void): Promise<Listener> {
  return spec.kind === 'unix' ? listenUnix(spec.path, spec.group ?? 'docker', accept) : listenTcp(spec, accept);
}

async function listenUnix(path: string, group: string, accept: (socket: Socket) => void): Promise<Listener> {
  await mkdir(dirname(path), { recursive: true, mode: 0o755 });
  await removeStaleSocket(path);
  const server = createNetServer({ allowHalfOpen: true, pauseOnConnect: false }, accept);
  await startListening(server, () => server.listen(path));
  try {
    await chmod(path, 0o660);
    await chown(path, 0, await groupId(group));
  } catch (err) {
    await closeServer(server);
    throw err;
  }
  return {
    address: `unix://${path}`,
    async close() {
      await closeServer(server);
      await unlink(path).catch(() => undefined);
    },
  };
}

/** A socket file nobody answers on is left over from a daemon that died: remove it. */
async function removeStaleSocket(path: string): Promise<void> {
  let isSocket: boolean;
  try {
    isSocket = (await lstat(path)).isSocket();
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return;
    throw err;
  }
  if (!isSocket) throw invalidArgument(`cannot listen on unix://${path}: the path exists and is not a socket`);
  if (await answers(path)) throw conflict(`cannot listen on unix://${path}: another daemon is already listening there`);
  await unlink(path);
}

function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = connect(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
}

/** The gid of `group` from /etc/group; root's group when there is no such group. */
async function groupId(group: string): Promise<number> {
  const lines = (await readFile('/etc/group', 'utf8').catch(() => '')).split('\n');
  for (const line of lines) {
    const [name, , gid] = line.split(':');
    if (name === group && gid !== undefined && /^[0-9]+$/.test(gid)) return Number(gid);
  }
  return 0;
}

async function listenTcp(spec: Extract<ListenSpec, { kind: 'tcp' }>, accept: (socket: Socket) => void): Promise<Listener> {
  let server: Server;
  if (spec.tls === undefined) {
    server = createNetServer({ allowHalfOpen: true }, accept);
  } else {
    const tls = spec.tls;
    if (tls.verify && tls.caPath === undefined) throw invalidArgument('TLS client verification needs a CA certificate (--tlscacert)');
    const [cert, key, ca] = await Promise.all([
      readFile(tls.certPath),
      readFile(tls.keyPath),
      tls.caPath !== undefined ? readFile(tls.caPath) : Promise.resolve(undefined),
    ]);
    server = createTlsServer({
      cert,
      key,
      ...(ca !== undefined ? { ca } : {}),
      requestCert: tls.verify,
      rejectUnauthorized: tls.verify,
      allowHalfOpen: true,
      minVersion: 'TLSv1.2',
    });
    server.on('secureConnection', accept);
    // A failed handshake is that client's problem, not the server's.
    server.on('tlsClientError', () => undefined);
  }
  await startListening(server, () => server.listen(spec.port, spec.host));
  const bound = server.address() as AddressInfo;
  const host = bound.family === 'IPv6' ? `[${bound.address}]` : bound.address;
  return {
    address: `tcp://${host}:${bound.port}`,
    close: () => closeServer(server),
  };
}

function startListening(server: Server, listen: () => void): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.once('listening', () => {
      server.off('error', reject);
      resolve();
    });
    listen();
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}
