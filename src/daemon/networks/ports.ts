// Published ports: HostConfig.PortBindings (and -P's PublishAllPorts over ExposedPorts) made
// concrete — host ports chosen for those left empty — and reserved by a socket that berthd
// holds on hostIp:hostPort, as dockerd does when its userland proxy is off. The socket never
// gets traffic (the firewall's DNAT takes it to the container first); it keeps another
// program, or another container, from taking the port, and makes a clash an error at start.
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, type Server } from 'node:net';
import { readFileSync } from 'node:fs';
import type { HostConfig, PortBinding } from '../../oci/engine-api.js';
import { conflict, invalidArgument } from '../../util/errors.js';

export interface PublishedPort {
  proto: 'tcp' | 'udp';
  /** '' = every address. */
  hostIp: string;
  hostPort: number;
  containerPort: number;
}

interface Wanted {
  proto: 'tcp' | 'udp';
  hostIp: string;
  /** A first and last host port ([0, 0] = any free one). */
  range: [number, number];
  containerPort: number;
}

type Reservation = Server | UdpSocket;

/** The ports to publish, from PortBindings and (with -P) every exposed port not bound already. */
export function wantedPorts(hc: HostConfig, exposed: readonly string[]): Wanted[] {
  const out: Wanted[] = [];
  const bindings: Record<string, PortBinding[] | null> = { ...(hc.PortBindings ?? {}) };
  if (hc.PublishAllPorts) for (const port of exposed) if (!bindings[port]?.length) bindings[port] = [{ HostIp: '', HostPort: '' }];
  for (const [key, list] of Object.entries(bindings)) {
    const [num = '', proto = 'tcp'] = key.split('/');
    const containerPort = Number(num);
    if (!/^\d+$/.test(num) || containerPort < 1 || containerPort > 65535) throw invalidArgument(`invalid port specification: "${key}"`);
    if (proto !== 'tcp' && proto !== 'udp') throw invalidArgument(`berth publishes tcp and udp ports only, not ${proto} ("${key}")`);
    for (const b of list ?? []) out.push({ proto, hostIp: normaliseHostIp(b.HostIp ?? ''), range: hostRange(b.HostPort ?? ''), containerPort });
  }
  return out;
}

function normaliseHostIp(ip: string): string {
  if (ip === '' || ip === '0.0.0.0') return '';
  if (ip.includes(':')) throw invalidArgument(`berth publishes ports on IPv4 addresses only, not ${ip}`);
  if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(ip)) throw invalidArgument(`invalid host IP address: ${ip}`);
  return ip;
}

function hostRange(text: string): [number, number] {
  if (text === '' || text === '0') return [0, 0];
  const m = /^(\d+)(?:-(\d+))?$/.exec(text);
  const first = Number(m?.[1]);
  const last = m?.[2] === undefined ? first : Number(m[2]);
  if (!m || first < 1 || last > 65535 || last < first) throw invalidArgument(`invalid hostPort: ${text}`);
  return [first, last];
}

function ephemeralRange(): [number, number] {
  try {
    const [lo, hi] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (lo && hi && lo <= hi) return [lo, hi];
  } catch {
    // Docker's defaults below
  }
  return [32768, 60999];
}

/** Holds the host ports of every running container's published ports. */
export class PortReservations {
  private readonly held = new Map<string, { owner: string; socket: Reservation }>();
  private nextEphemeral = 0;

  /** Reserve each wanted port for the container; all or nothing. */
  async reserve(owner: string, wanted: readonly Wanted[]): Promise<PublishedPort[]> {
    const made: PublishedPort[] = [];
    try {
      for (const w of wanted) made.push(await this.reserveOne(owner, w));
    } catch (err) {
      this.release(owner);
      throw err;
    }
    return made;
  }

  /** After a daemon restart: take the ports a running container already publishes. */
  async adopt(owner: string, ports: readonly PublishedPort[]): Promise<void> {
    for (const p of ports) {
      await this.bind(owner, p).catch(() => undefined); // a port taken meanwhile still has its DNAT rule
    }
  }

  release(owner: string): void {
    for (const [key, r] of this.held) {
      if (r.owner !== owner) continue;
      r.socket.close();
      this.held.delete(key);
    }
  }

  closeAll(): void {
    for (const r of this.held.values()) r.socket.close();
    this.held.clear();
  }

  private async reserveOne(owner: string, w: Wanted): Promise<PublishedPort> {
    const [first, last] = w.range[0] === 0 ? ephemeralRange() : w.range;
    const count = last - first + 1;
    // Random ports rotate through the range, as the kernel's do, so a port just freed is not reused at once.
    const start = w.range[0] === 0 ? (this.nextEphemeral = (this.nextEphemeral + 1 + Math.floor(Math.random() * 64)) % count) : 0;
    let lastError: unknown;
    for (let i = 0; i < count; i++) {
      const port = first + ((start + i) % count);
      const p: PublishedPort = { proto: w.proto, hostIp: w.hostIp, hostPort: port, containerPort: w.containerPort };
      try {
        await this.bind(owner, p);
        return p;
      } catch (err) {
        lastError = err;
      }
    }
    if (w.range[0] === 0) throw conflict(`no free host port for ${w.containerPort}/${w.proto}`);
    throw lastError;
  }

  private async bind(owner: string, p: PublishedPort): Promise<void> {
    const shown = `${p.hostIp || '0.0.0.0'}:${p.hostPort}`;
    for (const key of this.held.keys()) {
      const [proto, ip, port] = key.split(' ');
      if (proto === p.proto && port === String(p.hostPort) && (ip === '' || p.hostIp === '' || ip === p.hostIp)) {
        throw conflict(`Bind for ${shown} failed: port is already allocated`);
      }
    }
    const socket = await listen(p);
    this.held.set(`${p.proto} ${p.hostIp} ${p.hostPort}`, { owner, socket });
  }
}

function listen(p: PublishedPort): Promise<Reservation> {
  const host = p.hostIp || '0.0.0.0';
  return new Promise((resolve, reject) => {
    const fail = (err: Error): void => reject(conflict(`driver failed programming external connectivity: listen ${p.proto}4 ${host}:${p.hostPort}: bind: ${err.message.replace(/^.*(EADDRINUSE|EADDRNOTAVAIL|EACCES).*$/, (_m, code: string) => ({ EADDRINUSE: 'address already in use', EADDRNOTAVAIL: 'cannot assign requested address', EACCES: 'permission denied' })[code] ?? code)}`, err));
    if (p.proto === 'udp') {
      const socket = createSocket({ type: 'udp4' });
      socket.once('error', fail);
      socket.bind({ address: host, port: p.hostPort, exclusive: true }, () => {
        socket.removeListener('error', fail);
        socket.on('error', () => undefined);
        socket.unref();
        resolve(socket);
      });
      return;
    }
    const server = createServer((conn) => conn.destroy());
    server.once('error', fail);
    server.listen({ host, port: p.hostPort, exclusive: true, backlog: 1 }, () => {
      server.removeListener('error', fail);
      server.on('error', () => undefined);
      server.unref();
      resolve(server);
    });
  });
}
