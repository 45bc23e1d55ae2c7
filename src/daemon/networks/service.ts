// berthd's networks: the predefined bridge/host/none networks and user-defined bridge
// networks (records in networks/), each bridge network a host bridge; a container on bridge
// networks gets a network namespace of its own (<exec-root>/netns/<id>) joined to each by a
// veth pair at start and let go at exit; published ports and NAT are kept in the firewall
// (one declarative state for the whole daemon); user-defined networks answer container names
// through an embedded DNS server on their gateway. Everything survives a daemon restart:
// namespaces, veths and rules stay in the kernel, and start-up takes them back.
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type {
  EndpointSettings, Filters, NetworkCreateRequest, NetworkCreateResponse, NetworkingConfig, NetworkResource, StringMap, HostConfig,
} from '../../oci/engine-api.js';
import { conflict, forbidden, invalidArgument, isBerthError, notFound, unavailable } from '../../util/errors.js';
import {
  allocateAddress, chooseSubnet, contains, DEFAULT_ADDRESS_POOLS, defaultGateway, hostSubnets, macFromIp, overlaps, parseCidr, validateNetworkIpam,
} from '../../network/ipam.js';
import { attachEndpoint, detachEndpoint, endpointCommands, endpointFromInside, ensureBridge, hostEndCommands, removeBridge, type EndpointSpec } from '../../network/links.js';
import { netnsCommand, prepareNetns, removeNetns, type ToolCommand } from '../../network/netns.js';
import { toolPath } from '../../util/host-tool.js';
import type { HostTool } from '../../runtime/container.js';
import type { FirewallState, NatBackend } from '../../network/nat/index.js';
import type { DnsServer } from '../../network/dns/index.js';
import { NetworkStore, PREDEFINED, type NetworkRecord } from '../../network/store.js';
import type { DaemonConfig } from '../config.js';
import type { EventBus } from '../events.js';
import type { ContainerRecord } from '../containers/store.js';
import { PortReservations, wantedPorts } from './ports.js';
import { endpointDnsNames, type ContainerEndpoint } from './types.js';
import { filterNetworks, networkView } from './views.js';

type LogFn = (level: 'debug' | 'info' | 'warn' | 'error', msg: string) => void;

export interface NetworkServiceOptions {
  config: DaemonConfig;
  events: EventBus;
  containers: () => Iterable<ContainerRecord>;
  findContainer: (ref: string) => ContainerRecord;
  persist: (rec: ContainerRecord) => void;
  log: LogFn;
}

const BRIDGE_NAME_OPTION = 'com.docker.network.bridge.name';
const ICC_OPTION = 'com.docker.network.bridge.enable_icc';
const MTU_OPTION = 'com.docker.network.driver.mtu';

/** What a started container needs from its networks: the namespace to join, and its addresses. */
export interface AttachResult {
  /** The network namespace path for the spec (its own, or the one of a container:<x> mode). */
  netns?: string;
  /** Addresses for /etc/hosts (first network first). */
  addresses: string[];
  /** What berth-shim runs before it makes the container: the namespace and its veth pairs. */
  hostTools: HostTool[];
  /** What its monitor unmounts when the container exits: the namespace. */
  exitUnmounts: string[];
  /** The nameserver for /etc/resolv.conf: a user-defined network's gateway. */
  nameserver?: string;
}

export class NetworkService {
  readonly store: NetworkStore;
  private nat: NatBackend | undefined;
  private readonly dns = new Map<string, DnsServer>();
  private readonly ports = new PortReservations();
  private firewall: Promise<void> = Promise.resolve();

  constructor(private readonly o: NetworkServiceOptions) {
    this.store = new NetworkStore(join(o.config.dataRoot, 'networks'));
  }

  private get netnsDir(): string {
    return join(this.o.config.execRoot, 'netns');
  }

  /** At daemon start, with the container records loaded and before their exits are handled. */
  async init(): Promise<void> {
    const cfg = this.o.config.network;
    this.ensureSpecial('host', 'host');
    this.ensureSpecial('none', 'null');
    if (cfg.bridge !== 'none') await this.ensureDefaultBridge();
    else this.dropDefaultBridge();
    for (const net of this.bridgeNetworks()) await this.ensureBridgeLink(net);
    if (cfg.iptables) {
      try {
        const { detectNatBackend } = await import('../../network/nat/index.js');
        this.nat = await detectNatBackend({ name: cfg.firewallName });
      } catch (err) {
        // The daemon still runs containers; only what needs rules (ports, NAT, isolation) is missing.
        this.o.log('warn', `no firewall rules: ${(err as Error).message}; published ports and outbound NAT will not work (install nftables or iptables)`);
      }
    }
    await this.cleanStaleNamespaces();
    for (const rec of this.running()) if (rec.PublishedPorts) await this.ports.adopt(rec.ID, rec.PublishedPorts);
    await this.applyFirewall();
    for (const net of this.bridgeNetworks()) if (!isDefaultBridge(net)) await this.startDns(net);
  }

  close(): Promise<void> {
    this.ports.closeAll();
    return Promise.all([...this.dns.values()].map((d) => d.close())).then(() => this.dns.clear());
  }

  // ---- networks ----

  private ensureSpecial(name: 'host' | 'none', driver: 'host' | 'null'): void {
    if (this.store.byName(name)) return;
    this.store.save(baseRecord(name, driver));
  }

  private async ensureDefaultBridge(): Promise<void> {
    const cfg = this.o.config.network;
    const existing = this.store.byName('bridge');
    const wanted = cfg.bip ? bipConfig(cfg.bip) : undefined;
    const current = existing?.IPAM.Config[0];
    if (existing && existing.bridge === cfg.bridge && (!wanted || (current?.Subnet === wanted.Subnet && current.Gateway === wanted.Gateway))) {
      if (existing.icc !== cfg.icc || existing.mtu !== cfg.mtu) this.store.save({ ...existing, icc: cfg.icc, mtu: cfg.mtu, Options: defaultBridgeOptions(cfg.bridge, cfg.icc, cfg.mtu) });
      return;
    }
    const ipam = wanted ?? (await this.freeSubnet(existing ? [existing.Id] : []));
    const rec: NetworkRecord = {
      ...baseRecord('bridge', 'bridge', existing?.Id), IPAM: { Driver: 'default', Options: {}, Config: [ipam] },
      Options: defaultBridgeOptions(cfg.bridge, cfg.icc, cfg.mtu), bridge: cfg.bridge, icc: cfg.icc, mtu: cfg.mtu,
    };
    if (existing?.bridge && existing.bridge !== cfg.bridge) await removeBridge(existing.bridge).catch(() => undefined);
    this.store.save(rec);
  }

  /** --bridge=none: no default bridge network (containers without --network get none of their own, as with dockerd). */
  private dropDefaultBridge(): void {
    const existing = this.store.byName('bridge');
    if (existing?.Driver === 'bridge') this.store.delete(existing.Id);
  }

  /** A subnet from the daemon's pools that neither the host nor another network uses. */
  private async freeSubnet(except: string[] = []): Promise<{ Subnet: string; Gateway: string }> {
    const taken = [...(await hostSubnets()), ...this.bridgeNetworks().filter((n) => !except.includes(n.Id)).map((n) => n.IPAM.Config[0]!.Subnet!)];
    const pools = this.o.config.network.pools.length > 0 ? this.o.config.network.pools : DEFAULT_ADDRESS_POOLS;
    const subnet = chooseSubnet(pools, taken);
    return { Subnet: subnet, Gateway: defaultGateway(subnet) };
  }

  private bridgeNetworks(): NetworkRecord[] {
    return this.store.all().filter((n) => n.Driver === 'bridge');
  }

  private async ensureBridgeLink(net: NetworkRecord): Promise<void> {
    const { Subnet, Gateway } = net.IPAM.Config[0]!;
    await ensureBridge({ name: net.bridge!, address: `${Gateway}/${parseCidr(Subnet!).prefix}`, mtu: net.mtu });
  }

  list(filters: Filters): NetworkResource[] {
    return filterNetworks(this.store.all(), filters, (net) => this.endpointsOn(net.Id).length === 0).map((n) => networkView(n, []));
  }

  inspect(term: string): NetworkResource {
    return this.view(this.store.find(term));
  }

  private view(net: NetworkRecord): NetworkResource {
    return networkView(net, this.endpointsOn(net.Id));
  }

  async create(req: NetworkCreateRequest): Promise<NetworkCreateResponse> {
    const name = typeof req.Name === 'string' ? req.Name : '';
    if (name.trim() === '') throw invalidArgument('network name cannot be empty');
    if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(name)) throw invalidArgument(`invalid network name "${name}": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
    if (PREDEFINED.has(name)) throw forbidden(`operation is not permitted on predefined ${name} network `);
    if (this.store.byName(name)) throw conflict(`network with name ${name} already exists`);
    const driver = req.Driver || 'bridge';
    if (driver === 'host' || driver === 'null') throw forbidden(`only one instance of "${driver}" network is allowed`);
    if (driver !== 'bridge') throw notFound(`plugin "${driver}" not found`);
    if (req.EnableIPv6) throw invalidArgument('berth does not support IPv6 networks yet');
    if (req.ConfigOnly || req.ConfigFrom?.Network || req.Ingress) throw invalidArgument('config-only, config-from and ingress networks need swarm, which berth does not have');
    const id = NetworkStore.newId();
    const options = { ...(req.Options ?? {}) };
    const bridge = options[BRIDGE_NAME_OPTION] || `br-${id.slice(0, 12)}`;
    if (this.bridgeNetworks().some((n) => n.bridge === bridge)) throw conflict(`bridge name ${bridge} is already in use by another network`);
    const ipam = await this.ipamFor(req);
    const rec: NetworkRecord = {
      ...baseRecord(name, 'bridge', id), Internal: req.Internal === true, Attachable: req.Attachable === true,
      IPAM: { Driver: req.IPAM?.Driver || 'default', Options: req.IPAM?.Options ?? {}, Config: [ipam] },
      Options: options, Labels: { ...(req.Labels ?? {}) }, bridge, icc: options[ICC_OPTION] !== 'false', mtu: mtuOption(options[MTU_OPTION]),
    };
    await this.ensureBridgeLink(rec);
    try {
      this.store.save(rec);
      await this.applyFirewall();
    } catch (err) {
      this.store.delete(rec.Id);
      await removeBridge(bridge).catch(() => undefined);
      throw err;
    }
    await this.startDns(rec);
    this.o.events.emit('network', 'create', rec.Id, { name, type: 'bridge' });
    return { Id: rec.Id, Warning: '' };
  }

  private async ipamFor(req: NetworkCreateRequest): Promise<{ Subnet: string; Gateway: string; IPRange?: string }> {
    const configs = req.IPAM?.Config ?? [];
    if (configs.length > 1) throw invalidArgument('berth networks take one IPv4 subnet');
    const given = configs[0];
    if (!given?.Subnet) {
      if (given?.Gateway || given?.IPRange) throw invalidArgument('every ip-range or gateway must have a corresponding subnet');
      return this.freeSubnet();
    }
    const v = validateNetworkIpam({ subnet: given.Subnet, gateway: given.Gateway || undefined, ipRange: given.IPRange || undefined });
    const clash = this.bridgeNetworks().find((n) => overlaps(n.IPAM.Config[0]!.Subnet!, v.subnet));
    if (clash) throw forbidden(`invalid pool request: Pool overlaps with other one on this address space`);
    return { Subnet: v.subnet, Gateway: v.gateway, ...(v.ipRange ? { IPRange: v.ipRange } : {}) };
  }

  async remove(term: string): Promise<void> {
    const net = this.store.find(term);
    if (PREDEFINED.has(net.Name)) throw forbidden(`${net.Name} is a pre-defined network and cannot be removed`);
    if (this.endpointsOn(net.Id).length > 0) throw forbidden(`error while removing network: network ${net.Name} id ${net.Id} has active endpoints`);
    await this.dns.get(net.Id)?.close();
    this.dns.delete(net.Id);
    this.store.delete(net.Id);
    await this.applyFirewall();
    await removeBridge(net.bridge!);
    this.o.events.emit('network', 'destroy', net.Id, { name: net.Name, type: 'bridge' });
  }

  async prune(filters: Filters): Promise<string[]> {
    const candidates = filterNetworks(this.store.all(), { ...filters, type: ['custom'] }, () => false, ['label', 'label!', 'until']);
    const deleted: string[] = [];
    for (const net of candidates) {
      if ([...this.o.containers()].some((c) => c.Networks?.[net.Id])) continue;
      try {
        await this.remove(net.Id);
        deleted.push(net.Name);
      } catch (err) {
        this.o.log('warn', `pruning network ${net.Name}: ${(err as Error).message}`);
      }
    }
    return deleted;
  }

  // ---- containers: at create ----

  /**
   * The networks a new container joins (moby's NetworkMode and EndpointsConfig), checked now
   * so a bad network fails the create; undefined for host, none and container: modes.
   */
  planEndpoints(hc: HostConfig, networking: NetworkingConfig | undefined, networkDisabled: boolean): Record<string, ContainerEndpoint> | undefined {
    const mode = networkDisabled ? 'none' : primaryMode(hc.NetworkMode);
    if (mode === 'host' || mode === 'none' || mode.startsWith('container:')) return undefined;
    const configs = networking?.EndpointsConfig ?? {};
    if (mode === 'default' && !this.store.byName('bridge')) return undefined;
    const primary = this.store.find(mode === 'default' ? 'bridge' : mode);
    const out: Record<string, ContainerEndpoint> = {};
    const add = (net: NetworkRecord, cfg: EndpointSettings | null | undefined): void => {
      if (net.Driver !== 'bridge') throw invalidArgument(`container cannot be connected to network ${net.Name} and to a bridge network at once`);
      out[net.Id] = this.endpointConfig(net, cfg);
    };
    add(primary, configs[mode] ?? configs[primary.Name] ?? configs[primary.Id]);
    // The docker CLI keys the primary network's settings by the mode as given ("default").
    for (const [key, cfg] of Object.entries(configs)) {
      if (key === mode) continue;
      const net = this.store.find(key);
      if (!out[net.Id]) add(net, cfg);
    }
    return out;
  }

  private endpointConfig(net: NetworkRecord, cfg: EndpointSettings | null | undefined): ContainerEndpoint {
    const ip = cfg?.IPAMConfig?.IPv4Address ?? '';
    const aliases = (cfg?.Aliases ?? []).filter((a) => a !== '');
    if (isDefaultBridge(net)) {
      if (ip) throw invalidArgument('user specified IP address is supported on user defined networks only');
      if (aliases.length > 0) throw invalidArgument('network-scoped alias is supported only for containers in user defined networks');
    }
    if (ip && !contains(net.IPAM.Config[0]!.Subnet!, ip)) throw invalidArgument(`no configured subnet or ip-range contain the IP address ${ip}`);
    return { Aliases: aliases, ...(ip ? { IPAMConfig: { IPv4Address: ip } } : {}) };
  }

  // ---- containers: start and exit ----

  /** At start: the container's namespace with an endpoint on each of its networks, its ports published. */
  async attach(rec: ContainerRecord): Promise<AttachResult> {
    const mode = primaryMode(rec.HostConfig.NetworkMode);
    if (mode.startsWith('container:')) return { netns: this.sharedNamespace(mode.slice('container:'.length)), addresses: [], hostTools: [], exitUnmounts: [] };
    if (!rec.Networks) return { addresses: [], hostTools: [], exitUnmounts: [] };
    const netns = join(this.netnsDir, rec.ID);
    const commands: ToolCommand[] = [];
    try {
      await prepareNetns(netns);
      rec.NetnsPath = netns;
      const netIds = Object.keys(rec.Networks);
      if (netIds.length === 0) commands.push(netnsCommand(netns));
      netIds.forEach((netId, index) => {
        const spec = this.allocateEndpoint(rec, netId, `eth${index}`, netns);
        // The first endpoint is made with the namespace, from inside it; the others join it after.
        if (index === 0) commands.push(netnsCommand(netns, endpointFromInside(spec, `/proc/${process.pid}/ns/net`)), { argv: ['ip', '-batch', '-'], input: hostEndCommands(spec).join('\n') + '\n' });
        else commands.push(...endpointCommands(spec));
      });
      const exposed = Object.keys(rec.Config.ExposedPorts ?? {});
      const wanted = wantedPorts(rec.HostConfig, exposed);
      if (wanted.length > 0 && !this.nat) throw unavailable('publishing ports needs firewall rules, and this daemon has none (--iptables=false, or neither nft nor iptables works)');
      rec.PublishedPorts = await this.ports.reserve(rec.ID, wanted);
      if (rec.PublishedPorts.length > 0) await this.applyFirewall();
    } catch (err) {
      await this.detach(rec);
      throw err;
    }
    for (const netId of Object.keys(rec.Networks)) this.emitEndpoint(rec, netId, 'connect');
    return {
      ...this.attachResult(rec, netns),
      // berth-shim runs them before it makes the container, and unmounts the namespace when it exits.
      hostTools: commands.map((c) => ({ file: toolPath(c.argv[0]!), argv: c.argv, input: c.input })),
      exitUnmounts: [netns],
    };
  }

  /** Docker's containers on a user-defined network use its embedded DNS: here, the first such network's gateway. */
  private attachResult(rec: ContainerRecord, netns: string): Pick<AttachResult, 'netns' | 'addresses' | 'nameserver'> {
    const eps = Object.entries(rec.Networks ?? {}).filter(([, ep]) => ep.IPAddress);
    const user = eps.map(([id]) => this.store.tryFind(id)).find((n): n is NetworkRecord => n !== undefined && !isDefaultBridge(n));
    return { netns, addresses: eps.map(([, ep]) => ep.IPAddress!), nameserver: user?.IPAM.Config[0]!.Gateway };
  }

  /** The namespace of the container named in a container:<x> mode, which must be running. */
  private sharedNamespace(ref: string): string {
    const other = this.o.findContainer(ref);
    if (!other.State.Running) throw conflict(`cannot join network namespace of a non running container: ${other.ID}`);
    return other.NetnsPath ?? `/proc/${other.State.Pid}/ns/net`;
  }

  /** At exit (or a failed start): endpoints, ports, the namespace and the firewall rules go. */
  async detach(rec: ContainerRecord): Promise<void> {
    const hadPorts = (rec.PublishedPorts?.length ?? 0) > 0;
    this.ports.release(rec.ID);
    delete rec.PublishedPorts;
    if (rec.NetnsPath) {
      // Unmounting the namespace (its processes are gone) makes the kernel delete its veth
      // pairs at once: no `ip link del` per endpoint on the way out.
      await removeNetns(rec.NetnsPath).catch((err: unknown) => this.o.log('warn', `removing the network namespace of ${rec.ID}: ${(err as Error).message}`));
      delete rec.NetnsPath;
      for (const netId of Object.keys(rec.Networks ?? {})) this.endpointGone(rec, netId);
    }
    for (const netId of Object.keys(rec.Networks ?? {})) await this.disconnectEndpoint(rec, netId);
    if (hadPorts) await this.applyFirewall().catch((err: unknown) => this.o.log('warn', `updating the firewall: ${(err as Error).message}`));
  }

  /**
   * An address on the network for the container's endpoint ifName, recorded in its record
   * (without an await between allocation and recording, so no other start takes it), and the
   * endpoint to make.
   */
  private allocateEndpoint(rec: ContainerRecord, netId: string, ifName: string, netns: string): EndpointSpec {
    const ep = rec.Networks![netId]!;
    const net = this.store.tryFind(netId);
    if (!net) throw notFound(`network ${netId} not found`);
    const { Subnet, Gateway, IPRange } = net.IPAM.Config[0]!;
    const ip = allocateAddress({ subnet: Subnet!, ipRange: IPRange, gateway: Gateway!, used: this.usedAddresses(net.Id, rec.ID), preferred: ep.IPAMConfig?.IPv4Address });
    const prefix = parseCidr(Subnet!).prefix;
    const hasRoute = Object.values(rec.Networks!).some((other) => other !== ep && other.Gateway);
    Object.assign(ep, {
      EndpointID: randomBytes(32).toString('hex'), IPAddress: ip, IPPrefixLen: prefix, Gateway: net.Internal ? '' : Gateway,
      MacAddress: macFromIp(ip), HostIf: `veth${randomBytes(4).toString('hex').slice(0, 7)}`, IfName: ifName,
    });
    return {
      bridge: net.bridge!, netnsPath: netns, hostIf: ep.HostIf!, containerIf: ifName, address: `${ip}/${prefix}`,
      gateway: net.Internal || hasRoute ? undefined : Gateway, mac: ep.MacAddress!, mtu: net.mtu, hairpin: true,
    };
  }

  /** `network connect` of a running container: the endpoint is made now, by berthd. */
  private async connectEndpoint(rec: ContainerRecord, netId: string, ifName: string): Promise<void> {
    const spec = this.allocateEndpoint(rec, netId, ifName, rec.NetnsPath!);
    try {
      await attachEndpoint(spec);
    } catch (err) {
      clearEndpoint(rec.Networks![netId]!);
      throw err;
    }
    this.emitEndpoint(rec, netId, 'connect');
  }

  private emitEndpoint(rec: ContainerRecord, netId: string, action: 'connect' | 'disconnect'): void {
    const net = this.store.tryFind(netId);
    if (net) this.o.events.emit('network', action, net.Id, { container: rec.ID, name: net.Name, type: 'bridge' });
  }

  private async disconnectEndpoint(rec: ContainerRecord, netId: string): Promise<void> {
    const ep = rec.Networks?.[netId];
    if (!ep?.HostIf) return;
    await detachEndpoint(ep.HostIf).catch((err: unknown) => this.o.log('warn', `removing ${ep.HostIf} of ${rec.ID}: ${(err as Error).message}`));
    this.endpointGone(rec, netId);
  }

  private endpointGone(rec: ContainerRecord, netId: string): void {
    const ep = rec.Networks?.[netId];
    if (!ep?.HostIf) return;
    clearEndpoint(ep);
    this.emitEndpoint(rec, netId, 'disconnect');
  }

  /** Addresses of running endpoints on the network, and static ones other containers asked for. */
  private usedAddresses(netId: string, except: string): Set<string> {
    const used = new Set<string>();
    for (const c of this.o.containers()) {
      const ep = c.Networks?.[netId];
      if (!ep || c.ID === except) continue;
      if (ep.IPAddress) used.add(ep.IPAddress);
      if (ep.IPAMConfig?.IPv4Address) used.add(ep.IPAMConfig.IPv4Address);
    }
    return used;
  }

  private running(): ContainerRecord[] {
    return [...this.o.containers()].filter((c) => c.State.Running || c.State.Paused);
  }

  /** Running containers with an endpoint on the network. */
  private endpointsOn(netId: string): { rec: ContainerRecord; ep: ContainerEndpoint }[] {
    const out: { rec: ContainerRecord; ep: ContainerEndpoint }[] = [];
    for (const rec of this.o.containers()) {
      const ep = rec.Networks?.[netId];
      if (ep?.IPAddress) out.push({ rec, ep });
    }
    return out;
  }

  // ---- connect and disconnect ----

  async connect(term: string, containerRef: string, cfg: EndpointSettings | null | undefined): Promise<void> {
    const net = this.store.find(term);
    const rec = this.o.findContainer(containerRef);
    if (net.Driver !== 'bridge') throw forbidden(`container cannot be disconnected from host network or connected to host network`);
    if (!rec.Networks) throw forbidden('container sharing network namespace with another container or host cannot be connected to any other network');
    if (rec.Networks[net.Id]) throw forbidden(`endpoint with name ${rec.Name.slice(1)} already exists in network ${net.Name}`);
    rec.Networks[net.Id] = this.endpointConfig(net, cfg);
    if (rec.State.Running && rec.NetnsPath) {
      try {
        await this.connectEndpoint(rec, net.Id, this.nextIfName(rec));
      } catch (err) {
        delete rec.Networks[net.Id];
        throw err;
      }
    }
    this.o.persist(rec);
  }

  async disconnect(term: string, containerRef: string, force: boolean): Promise<void> {
    const net = this.store.find(term);
    let rec: ContainerRecord;
    try {
      rec = this.o.findContainer(containerRef);
    } catch (err) {
      if (force && isBerthError(err, 'NotFound')) return;
      throw err;
    }
    if (!rec.Networks?.[net.Id]) throw forbidden(`container ${rec.ID} is not connected to network ${net.Name}`);
    await this.disconnectEndpoint(rec, net.Id);
    delete rec.Networks[net.Id];
    this.o.persist(rec);
  }

  private nextIfName(rec: ContainerRecord): string {
    const taken = new Set(Object.values(rec.Networks ?? {}).map((ep) => ep.IfName));
    for (let i = 0; ; i++) if (!taken.has(`eth${i}`)) return `eth${i}`;
  }

  // ---- firewall, DNS, leftovers ----

  private firewallState(): FirewallState {
    const networks = this.bridgeNetworks().map((n) => ({ bridge: n.bridge!, subnet: n.IPAM.Config[0]!.Subnet!, internal: n.Internal, icc: n.icc ?? true }));
    const ports: FirewallState['ports'] = [];
    // PublishedPorts is set exactly while the container is attached (from start, before it counts as running).
    for (const rec of this.o.containers()) {
      if (!rec.PublishedPorts?.length) continue;
      const primary = Object.entries(rec.Networks ?? {}).find(([, ep]) => ep.IPAddress && ep.Gateway) ?? Object.entries(rec.Networks ?? {}).find(([, ep]) => ep.IPAddress);
      const net = primary && this.store.tryFind(primary[0]);
      if (!net) continue;
      for (const p of rec.PublishedPorts ?? []) {
        ports.push({ proto: p.proto, hostIp: p.hostIp, hostPort: p.hostPort, containerIp: primary[1].IPAddress!, containerPort: p.containerPort, bridge: net.bridge! });
      }
    }
    return { networks, ports, ipForward: this.o.config.network.ipForward };
  }

  /** Rules for the current state, one apply after another (each sees everything done before it). */
  applyFirewall(): Promise<void> {
    const nat = this.nat;
    if (!nat) return Promise.resolve();
    const next = this.firewall.catch(() => undefined).then(() => nat.apply(this.firewallState()));
    this.firewall = next;
    return next;
  }

  /** Remove berth's firewall rules (the daemon's own tests; a daemon going away for good). */
  async removeFirewall(): Promise<void> {
    await this.nat?.remove();
  }

  private async startDns(net: NetworkRecord): Promise<void> {
    const gateway = net.IPAM.Config[0]!.Gateway!;
    const own = new Set(this.bridgeNetworks().map((n) => n.IPAM.Config[0]!.Gateway!));
    let hostResolv = '';
    try {
      hostResolv = await readFile('/etc/resolv.conf', 'utf8');
    } catch {
      // no resolvers: names of other hosts get SERVFAIL
    }
    // Loaded with the first user-defined network: a daemon with none stays smaller.
    const { DnsServer, upstreamsFromResolvConf } = await import('../../network/dns/index.js');
    const server = new DnsServer({
      address: gateway, port: 53,
      resolver: { lookupA: (name, client) => this.lookupA(name, client), lookupPtr: (ip, client) => this.lookupPtr(ip, client) },
      upstreams: () => upstreamsFromResolvConf(hostResolv, own),
      log: (level, msg) => this.o.log(level, `dns ${net.Name}: ${msg}`),
    });
    try {
      await server.start();
      this.dns.set(net.Id, server);
    } catch (err) {
      this.o.log('warn', `network ${net.Name}: no name resolution, the DNS server cannot listen on ${gateway}:53: ${(err as Error).message}`);
    }
  }

  /** The user-defined networks of the container that asks (by its address), and who is on them. */
  private peersOf(clientIp: string): { net: NetworkRecord; rec: ContainerRecord; ep: ContainerEndpoint }[] {
    const running = this.running();
    const client = running.find((c) => Object.values(c.Networks ?? {}).some((ep) => ep.IPAddress === clientIp));
    if (!client) return [];
    const out: { net: NetworkRecord; rec: ContainerRecord; ep: ContainerEndpoint }[] = [];
    for (const netId of Object.keys(client.Networks ?? {})) {
      const net = this.store.tryFind(netId);
      if (!net || isDefaultBridge(net)) continue;
      for (const rec of running) {
        const ep = rec.Networks?.[netId];
        if (ep?.IPAddress) out.push({ net, rec, ep });
      }
    }
    return out;
  }

  private lookupA(name: string, clientIp: string): string[] | undefined {
    const ips = this.peersOf(clientIp).filter(({ rec, ep }) => endpointDnsNames(rec, ep).some((n) => n.toLowerCase() === name)).map(({ ep }) => ep.IPAddress!);
    return ips.length > 0 ? [...new Set(ips)] : undefined;
  }

  private lookupPtr(ip: string, clientIp: string): string | undefined {
    const peer = this.peersOf(clientIp).find(({ ep }) => ep.IPAddress === ip);
    return peer ? `${peer.rec.Name.slice(1)}.${peer.net.Name}` : undefined;
  }

  /** Namespaces left by containers that are no longer running (a daemon killed between exit and cleanup). */
  private async cleanStaleNamespaces(): Promise<void> {
    if (!existsSync(this.netnsDir)) return;
    const live = new Set(this.running().map((r) => r.NetnsPath).filter((p) => p !== undefined));
    for (const file of readdirSync(this.netnsDir)) {
      const path = join(this.netnsDir, file);
      if (live.has(path)) continue;
      await removeNetns(path).catch((err: unknown) => this.o.log('warn', `removing stale network namespace ${path}: ${(err as Error).message}`));
    }
    for (const rec of this.o.containers()) {
      if (rec.State.Running || rec.State.Paused) continue;
      if (rec.NetnsPath || rec.PublishedPorts || Object.values(rec.Networks ?? {}).some((ep) => ep.IPAddress)) {
        delete rec.NetnsPath;
        delete rec.PublishedPorts;
        for (const ep of Object.values(rec.Networks ?? {})) clearEndpoint(ep);
        this.o.persist(rec);
      }
    }
  }
}


function clearEndpoint(ep: ContainerEndpoint): void {
  for (const key of ['EndpointID', 'IPAddress', 'IPPrefixLen', 'Gateway', 'MacAddress', 'HostIf', 'IfName'] as const) delete ep[key];
}

export function primaryMode(mode: string | undefined): string {
  return mode === undefined || mode === '' ? 'default' : mode;
}

export function isDefaultBridge(net: NetworkRecord): boolean {
  return net.Name === 'bridge' && net.Driver === 'bridge';
}

function baseRecord(name: string, driver: NetworkRecord['Driver'], id = NetworkStore.newId()): NetworkRecord {
  return {
    Id: id, Name: name, Created: new Date().toISOString(), Driver: driver, Internal: false, Attachable: false,
    IPAM: { Driver: 'default', Options: {}, Config: [] }, Options: {}, Labels: {},
  };
}

function bipConfig(bip: string): { Subnet: string; Gateway: string } {
  const { address, prefix } = parseCidr(bip);
  const v = validateNetworkIpam({ subnet: `${address}/${prefix}`, gateway: address });
  return { Subnet: v.subnet, Gateway: v.gateway };
}

function defaultBridgeOptions(bridge: string, icc: boolean, mtu: number | undefined): StringMap {
  return {
    'com.docker.network.bridge.default_bridge': 'true', [ICC_OPTION]: String(icc),
    'com.docker.network.bridge.enable_ip_masquerade': 'true', 'com.docker.network.bridge.host_binding_ipv4': '0.0.0.0',
    [BRIDGE_NAME_OPTION]: bridge, [MTU_OPTION]: String(mtu ?? 1500),
  };
}

function mtuOption(text: string | undefined): number | undefined {
  if (text === undefined || text === '') return undefined;
  const mtu = Number(text);
  if (!Number.isInteger(mtu) || mtu < 68 || mtu > 65535) throw invalidArgument(`invalid MTU "${text}"`);
  return mtu;
}
