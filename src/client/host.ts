// Where the daemon listens: -H/--host, then BERTH_HOST, then DOCKER_HOST, then berth's
// default socket. Accepts docker's spellings: unix:///path, tcp://host:port, host:port.
import { invalidArgument } from '../util/errors.js';

export const DEFAULT_HOST = 'unix:///run/berth/berth.sock';

export interface TlsOptions {
  ca?: string;
  cert?: string;
  key?: string;
  /** Verify the server's certificate (--tlsverify, DOCKER_TLS_VERIFY). */
  verify: boolean;
}

export type DaemonHost =
  | { kind: 'unix'; path: string; url: string }
  | { kind: 'tcp'; host: string; port: number; url: string; tls?: TlsOptions };

export function resolveHostString(flag: string | undefined, env: NodeJS.ProcessEnv): { host: string; isDefault: boolean } {
  const host = flag || env.BERTH_HOST || env.DOCKER_HOST;
  return host ? { host, isDefault: host === DEFAULT_HOST } : { host: DEFAULT_HOST, isDefault: true };
}

export function parseHost(spec: string, tls?: TlsOptions): DaemonHost {
  const s = spec.trim();
  if (s.startsWith('unix://')) {
    const path = s.slice('unix://'.length);
    if (!path.startsWith('/')) throw invalidArgument(`invalid unix socket path in host "${spec}"`);
    return { kind: 'unix', path, url: s };
  }
  if (s.startsWith('/')) return { kind: 'unix', path: s, url: `unix://${s}` };
  let rest: string;
  if (s.startsWith('tcp://')) rest = s.slice('tcp://'.length);
  else if (/^https?:\/\//.test(s)) rest = s.replace(/^https?:\/\//, '');
  else if (/^[a-z]+:\/\//i.test(s)) throw invalidArgument(`Invalid bind address format: ${spec}`);
  else rest = s;
  rest = rest.replace(/\/+$/, '');
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:/]*)(?::(\d+))?$/.exec(rest);
  if (!m) throw invalidArgument(`Invalid bind address format: ${spec}`);
  const host = (m[1] || '127.0.0.1').replace(/^\[|\]$/g, '');
  const port = m[2] ? Number(m[2]) : tls ? 2376 : 2375;
  if (port <= 0 || port > 65535) throw invalidArgument(`invalid port in host "${spec}"`);
  const url = `tcp://${m[1] || '127.0.0.1'}:${port}`;
  return tls ? { kind: 'tcp', host, port, url, tls } : { kind: 'tcp', host, port, url };
}
