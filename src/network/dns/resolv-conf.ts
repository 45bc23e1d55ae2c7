// Upstream resolvers for the embedded DNS server, read from the host's resolv.conf.
//
// Loopback nameservers (127.0.0.53 of systemd-resolved, 127.0.0.1 of dnsmasq, ::1)
// are KEPT. A container could not reach them from its own network namespace, which
// is why Docker rewrites them out of a container's resolv.conf when there is no
// embedded DNS; but with the embedded server the container only talks to berthd, and
// berthd forwards from the host's namespace, where the host's loopback resolver is
// reachable (Docker's "HostLoopback" upstreams work the same way).
//
// What must be skipped are berth's own listen addresses — a nameserver line naming a
// bridge gateway berth serves DNS on would make berthd forward to itself in a loop.
// Pass those as `exclude`; the server also refuses to forward to its own address and port.

import { isIP } from 'node:net';

export interface Upstream {
  address: string;
  port: number;
}

/** Docker and glibc use at most three nameservers (MAXNS). */
export const MAX_UPSTREAMS = 3;

/** The `nameserver` lines of a resolv.conf, in order, without duplicates, without
 * the addresses in `exclude`, at most three, each on port 53. */
export function upstreamsFromResolvConf(text: string, exclude: Iterable<string> = []): Upstream[] {
  const skip = new Set([...exclude].map(normalize));
  const out: Upstream[] = [];
  const seen = new Set<string>();
  for (const raw of text.split('\n')) {
    const line = raw.replace(/[#;].*$/, '').trim();
    const m = /^nameserver\s+(\S+)$/.exec(line);
    if (!m) continue;
    const address = m[1]!;
    const bare = address.split('%')[0]!; // fe80::1%eth0 keeps its zone for sending
    if (isIP(bare) === 0) continue;
    const key = normalize(address);
    if (skip.has(key) || skip.has(normalize(bare)) || seen.has(key)) continue;
    seen.add(key);
    out.push({ address, port: 53 });
    if (out.length === MAX_UPSTREAMS) break;
  }
  return out;
}

function normalize(address: string): string {
  return address.toLowerCase();
}
