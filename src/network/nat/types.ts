// The role interface between berth's network manager and the host firewall (DESIGN §4:
// one interface, two implementations — nftables and iptables). State is declarative: the
// caller always passes everything berth wants, and the backend makes its rules exactly that.

export interface FirewallNetwork {
  /** Bridge interface name, e.g. 'berth0' or 'br-1a2b3c4d5e6f'. */
  bridge: string;
  /** IPv4 subnet of the bridge, e.g. '172.18.0.0/16'. */
  subnet: string;
  /** --internal: no traffic in or out of the bridge except among its members; no masquerade. */
  internal: boolean;
  /** Inter-container communication on the same bridge (Docker's enable_icc). */
  icc: boolean;
}

export interface PortMapping {
  proto: 'tcp' | 'udp';
  /** '' or '0.0.0.0' = every host address, including 127.0.0.1; else that IPv4 address only. */
  hostIp: string;
  hostPort: number;
  containerIp: string;
  containerPort: number;
  /** Bridge of the container's network; must be one of FirewallState.networks. */
  bridge: string;
}

export interface FirewallState {
  networks: FirewallNetwork[];
  ports: PortMapping[];
  /** Turn net.ipv4.ip_forward on for outbound NAT (default true; dockerd's --ip-forward). */
  ipForward?: boolean;
}

export type NatBackendKind = 'nftables' | 'iptables';

export interface NatBackend {
  readonly kind: NatBackendKind;
  /** Make berth's rules exactly `state` (replace atomically what berth had). */
  apply(state: FirewallState): Promise<void>;
  /** Remove everything this backend made. Idempotent. */
  remove(): Promise<void>;
}

export interface NatBackendOptions {
  /** Table / chain prefix, e.g. 'berth' or 'berth_t1a2b'. */
  name: string;
  /** Use this backend when its tool works; otherwise the other one. */
  prefer?: NatBackendKind;
  /** Run every command inside this network namespace (a path such as /run/netns/x, or a name under /run/netns). */
  netns?: string;
}
