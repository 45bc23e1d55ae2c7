// The /etc/hostname, /etc/hosts and /etc/resolv.conf a container gets: written by the
// daemon into the container's directory and bind-mounted, as Docker does.
import { hostname as hostName } from 'node:os';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { HostConfig } from '../../oci/engine-api.js';

export interface EtcFiles {
  hostnamePath: string;
  hostsPath: string;
  resolvConfPath: string;
}

const LOCAL_HOSTS = `127.0.0.1\tlocalhost
::1\tlocalhost ip6-localhost ip6-loopback
fe00::0\tip6-localnet
ff00::0\tip6-mcastprefix
ff02::1\tip6-allnodes
ff02::2\tip6-allrouters
`;

function readHostFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** The host's resolv.conf without loopback resolvers, which a private network namespace cannot reach. */
export function containerResolvConf(host: string, hc: HostConfig, hostNetwork: boolean): string {
  const lines = host.split('\n').filter((l) => {
    if (hostNetwork) return true;
    const m = /^\s*nameserver\s+(\S+)/.exec(l);
    return !m || !(/^127\./.test(m[1]!) || m[1] === '::1');
  });
  let text = lines.join('\n');
  if (hc.Dns?.length) text = text.replace(/^\s*nameserver.*$/gm, '').trim() + '\n' + hc.Dns.map((d) => `nameserver ${d}`).join('\n');
  if (hc.DnsSearch?.length) text = text.replace(/^\s*(search|domain)\s.*$/gm, '').trim() + `\nsearch ${hc.DnsSearch.join(' ')}`;
  if (hc.DnsOptions?.length) text = text.replace(/^\s*options\s.*$/gm, '').trim() + `\noptions ${hc.DnsOptions.join(' ')}`;
  return text.replace(/\n{3,}/g, '\n\n').trim() + '\n';
}

export function containerHostname(id: string, configured: string | undefined, hostNetwork: boolean): string {
  if (configured) return configured;
  return hostNetwork ? hostName() : id.slice(0, 12);
}

interface HostsInput {
  hostname: string;
  domainname?: string;
  hc: HostConfig;
  hostNetwork: boolean;
  /** The container's addresses on its networks; 127.0.1.1 stands in when it has none. */
  addresses?: readonly string[];
}

function hostsText(opts: HostsInput): string {
  const extra = (opts.hc.ExtraHosts ?? []).map((h) => {
    const sep = h.indexOf(':');
    return `${h.slice(sep + 1)}\t${h.slice(0, sep)}`;
  });
  const base = opts.hostNetwork ? readHostFile('/etc/hosts') || LOCAL_HOSTS : LOCAL_HOSTS;
  const names = `${opts.hostname}${opts.domainname ? ` ${opts.hostname}.${opts.domainname}` : ''}`;
  const addresses = opts.addresses?.length ? opts.addresses : ['127.0.1.1'];
  const self = opts.hostNetwork ? [] : addresses.map((a) => `${a}\t${names}`);
  return base + [...extra, ...self].map((l) => `${l}\n`).join('');
}

/** Written on the thread pool: creating files on a disk filesystem costs the event loop ~1 ms each. */
export async function writeEtcFiles(dir: string, opts: HostsInput): Promise<EtcFiles> {
  const files: EtcFiles = {
    hostnamePath: join(dir, 'hostname'),
    hostsPath: join(dir, 'hosts'),
    resolvConfPath: join(dir, 'resolv.conf'),
  };
  await Promise.all([
    writeFile(files.hostnamePath, `${opts.hostname}\n`),
    writeFile(files.hostsPath, hostsText(opts)),
    writeFile(files.resolvConfPath, containerResolvConf(readHostFile('/etc/resolv.conf'), opts.hc, opts.hostNetwork)),
  ]);
  return files;
}

/**
 * At start on bridge networks: /etc/hosts names the container's addresses, and on a
 * user-defined network /etc/resolv.conf points at its embedded DNS server (Docker's
 * 127.0.0.11; berth's listens on the network's gateway), with ndots:0 as Docker writes it.
 */
export async function rewriteNetworkFiles(
  rec: { Config: { Hostname?: string; Domainname?: string }; HostConfig: HostConfig; HostsPath: string; ResolvConfPath: string },
  network: { addresses: readonly string[]; nameserver?: string },
): Promise<void> {
  const hostname = rec.Config.Hostname ?? '';
  const writes = [writeFile(rec.HostsPath, hostsText({ hostname, domainname: rec.Config.Domainname, hc: rec.HostConfig, hostNetwork: false, addresses: network.addresses }))];
  if (network.nameserver) writes.push(writeFile(rec.ResolvConfPath, embeddedDnsResolvConf(readHostFile('/etc/resolv.conf'), rec.HostConfig, network.nameserver)));
  await Promise.all(writes);
}

function embeddedDnsResolvConf(host: string, hc: HostConfig, nameserver: string): string {
  const search = hc.DnsSearch?.length ? hc.DnsSearch : (/^\s*search\s+(.*)$/m.exec(host)?.[1] ?? '').split(/\s+/).filter(Boolean);
  const options = ['ndots:0', ...(hc.DnsOptions ?? [])];
  return [`nameserver ${nameserver}`, ...(search.length ? [`search ${search.join(' ')}`] : []), `options ${options.join(' ')}`].join('\n') + '\n';
}
