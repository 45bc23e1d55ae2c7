// Where a registry name leads: its endpoints (mirrors first for pulls), whether it may be
// reached without TLS verification, and the CAs and client certificates of certs.d —
// Docker's daemon.json keys `insecure-registries` and `registry-mirrors`, generalised so
// any registry, not only Docker Hub, can have mirrors.
import { isIP } from 'node:net';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { errnoCode, invalidArgument } from '../../util/errors.js';
import type { TlsIdentity } from './http.js';
import type { Endpoint } from './types.js';

export const DEFAULT_CERTS_DIR = '/etc/berth/certs.d';
const DOCKER_HUB_ENDPOINT = 'https://registry-1.docker.io';
/** Docker treats loopback registries as insecure out of the box. */
const DEFAULT_INSECURE = ['127.0.0.0/8', '::1/128'];

export interface RegistryHostsOptions {
  /** host[:port] names or CIDRs that may be reached over plain HTTP or unverified HTTPS. */
  insecureRegistries?: readonly string[];
  /** Docker's `registry-mirrors`: mirrors of Docker Hub. */
  registryMirrors?: readonly string[];
  /** Mirrors of any registry: {"registry.example:5000": ["http://127.0.0.1:5001"]}. */
  mirrors?: Readonly<Record<string, readonly string[]>>;
  certsDir?: string;
  /** Docker treats 127.0.0.0/8 and localhost as insecure; false makes them verified like any host. */
  loopbackInsecure?: boolean;
}

export interface HostEndpoint extends Endpoint {
  /** The registry may be reached over plain HTTP, or HTTPS without verification. */
  insecure: boolean;
}

export class RegistryHosts {
  private readonly insecure: readonly string[];
  private readonly mirrors: ReadonlyMap<string, readonly URL[]>;
  private readonly certsDir: string;
  private readonly loopbackInsecure: boolean;
  private readonly tlsCache = new Map<string, TlsIdentity>();

  constructor(opts: RegistryHostsOptions = {}) {
    this.loopbackInsecure = opts.loopbackInsecure ?? true;
    this.insecure = [...(this.loopbackInsecure ? DEFAULT_INSECURE : []), ...(opts.insecureRegistries ?? [])];
    for (const entry of opts.insecureRegistries ?? []) checkInsecureEntry(entry);
    const mirrors = new Map<string, URL[]>();
    const add = (registry: string, list: readonly string[]): void => {
      mirrors.set(registry, [...(mirrors.get(registry) ?? []), ...list.map((m) => mirrorUrl(m, registry))]);
    };
    if (opts.registryMirrors) add('docker.io', opts.registryMirrors);
    for (const [registry, list] of Object.entries(opts.mirrors ?? {})) add(registry, list);
    this.mirrors = mirrors;
    this.certsDir = opts.certsDir ?? DEFAULT_CERTS_DIR;
  }

  endpoints(registry: string, purpose: 'pull' | 'push'): HostEndpoint[] {
    const origin = registry === 'docker.io' ? new URL(DOCKER_HUB_ENDPOINT) : new URL(`https://${registry}`);
    const own: HostEndpoint = { base: origin, mirror: false, insecure: this.isInsecure(origin.host) };
    if (purpose === 'push') return [own];
    const mirrors = (this.mirrors.get(registry) ?? []).map((base) => ({ base, mirror: true, insecure: base.protocol === 'http:' || this.isInsecure(base.host) }));
    return [...mirrors, own];
  }

  isInsecure(host: string): boolean {
    const bare = hostWithoutPort(host);
    if (bare === 'localhost' && this.loopbackInsecure) return true;
    return this.insecure.some((entry) => entry.includes('/') ? inCidr(bare, entry) : entry.toLowerCase() === host.toLowerCase() || entry.toLowerCase() === bare);
  }

  /** CAs (*.crt) and a client certificate (*.cert + *.key) from certs.d/<host[:port]>/. */
  tls(host: string, verify: boolean): TlsIdentity {
    const key = `${host}|${verify}`;
    let id = this.tlsCache.get(key);
    if (!id) {
      id = { verify, ...readCertsDir(join(this.certsDir, host.replace(/[/\\]/g, '_'))) };
      this.tlsCache.set(key, id);
    }
    return id;
  }
}

function readCertsDir(dir: string): Omit<TlsIdentity, 'verify'> {
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch (err) {
    if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') return {};
    throw err;
  }
  const out: { ca?: string[]; cert?: string; key?: string } = {};
  const ca = names.filter((n) => n.endsWith('.crt')).map((n) => readFileSync(join(dir, n), 'utf8'));
  if (ca.length) out.ca = ca;
  for (const certName of names.filter((n) => n.endsWith('.cert'))) {
    const keyName = `${certName.slice(0, -'.cert'.length)}.key`;
    if (!names.includes(keyName)) throw invalidArgument(`${dir}: client certificate ${certName} has no matching ${keyName}`);
    out.cert = readFileSync(join(dir, certName), 'utf8');
    out.key = readFileSync(join(dir, keyName), 'utf8');
  }
  return out;
}

function mirrorUrl(raw: string, registry: string): URL {
  let url: URL;
  try {
    url = new URL(raw.includes('://') ? raw : `https://${raw}`);
  } catch {
    throw invalidArgument(`registry mirror "${raw}" for ${registry} is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw invalidArgument(`registry mirror "${raw}": want http:// or https://`);
  if (url.pathname !== '/' && url.pathname !== '') throw invalidArgument(`registry mirror "${raw}": a mirror URL has no path`);
  return new URL(`${url.protocol}//${url.host}`);
}

function checkInsecureEntry(entry: string): void {
  if (entry.includes('/')) {
    const [ip, bits] = entry.split('/');
    const family = isIP(ip ?? '');
    const n = Number(bits);
    if (!family || !Number.isInteger(n) || n < 0 || n > (family === 4 ? 32 : 128)) throw invalidArgument(`insecure registry "${entry}" is not a CIDR`);
  } else if (!/^[A-Za-z0-9.-]+(:\d+)?$|^\[[0-9a-fA-F:]+\](:\d+)?$/.test(entry)) {
    throw invalidArgument(`insecure registry "${entry}" is neither host[:port] nor a CIDR`);
  }
}

function hostWithoutPort(host: string): string {
  if (host.startsWith('[')) return host.slice(1, host.indexOf(']'));
  const colon = host.lastIndexOf(':');
  return (colon > 0 ? host.slice(0, colon) : host).toLowerCase();
}

function inCidr(ip: string, cidr: string): boolean {
  const [net, bitsText] = cidr.split('/') as [string, string];
  const family = isIP(ip);
  if (!family || family !== isIP(net)) return false;
  const a = ipBytes(ip);
  const b = ipBytes(net);
  let bits = Number(bitsText);
  for (let i = 0; i < a.length && bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((a[i]! & mask) !== (b[i]! & mask)) return false;
  }
  return true;
}

function ipBytes(ip: string): number[] {
  if (isIP(ip) === 4) return ip.split('.').map(Number);
  const [head, tail] = ip.includes('::') ? (ip.split('::') as [string, string]) : [ip, ''];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return groups.flatMap((g) => {
    const v = parseInt(g || '0', 16);
    return [v >> 8, v & 0xff];
  });
}
