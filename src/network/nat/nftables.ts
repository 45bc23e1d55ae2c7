// The nftables backend: one table `ip <name>` owned entirely by berth. Every apply is a single
// `nft -f -` transaction that creates the table if missing, deletes it and defines it again,
// so the kernel swaps the old rules for the new ones atomically and nothing else is touched.
//
// Limitation: an `accept` in berth's table ends the packet's walk through berth's chains only.
// If another table (iptables-nft's `filter` from dockerd, firewalld, …) has a forward chain
// with policy drop, that chain still sees and drops berth's traffic, and no rule here can
// override it. The iptables backend does not have this problem when both live in one table.
import { livePorts, loopbackBridges, networksWithPorts, requiredSysctls } from './plan.js';
import { HostCommands, SerialQueue } from './host.js';
import type { FirewallState, NatBackend } from './types.js';
import { validateBackendName, validateState, type ValidNetwork, type ValidPort, type ValidState } from './validate.js';

const PORTS_CHAIN = 'published_ports';

const quote = (name: string): string => `"${name}"`;

/** `"a"` for one name, `{ "a", "b" }` for several (nft anonymous set). */
function nameSet(names: readonly string[]): string {
  return names.length === 1 ? quote(names[0]!) : `{ ${names.map(quote).join(', ')} }`;
}

interface Hook {
  type: 'nat' | 'filter';
  hook: 'prerouting' | 'output' | 'postrouting' | 'forward';
  priority: string;
}

function baseChain(name: string, hook: Hook, rules: readonly string[]): string[] {
  const declaration = `type ${hook.type} hook ${hook.hook} priority ${hook.priority}; policy accept;`;
  return [`\tchain ${name} {`, `\t\t${declaration}`, ...rules.map((r) => `\t\t${r}`), '\t}'];
}

function regularChain(name: string, rules: readonly string[]): string[] {
  return [`\tchain ${name} {`, ...rules.map((r) => `\t\t${r}`), '\t}'];
}

function dnatRule(port: ValidPort): string {
  const destination = port.hostIp === '' ? '' : `ip daddr ${port.hostIp} `;
  return `${destination}${port.proto} dport ${port.hostPort} dnat to ${port.containerIp}:${port.containerPort}`;
}

function postroutingRules(state: ValidState): string[] {
  const rules: string[] = [];
  for (const net of state.networks.filter((n) => !n.internal)) {
    rules.push(`ip saddr ${net.subnet} oifname != ${quote(net.bridge)} masquerade`);
  }
  for (const bridge of loopbackBridges(state)) {
    // Host connections to 127.0.0.1 DNATed into the bridge: the container cannot answer a loopback source.
    rules.push(`oifname ${quote(bridge)} ip saddr 127.0.0.0/8 masquerade`);
  }
  for (const net of networksWithPorts(state)) {
    // Hairpin: a container reaching a published port of its own network via a host address;
    // without the masquerade the peer would answer it directly and the reply would not match
    // (br_netfilter hides this: it un-NATs bridged replies, but it may not be loaded).
    rules.push(`oifname ${quote(net.bridge)} ip saddr ${net.subnet} ip daddr ${net.subnet} ct status dnat masquerade`);
  }
  return rules;
}

function isolationRules(networks: readonly ValidNetwork[]): string[] {
  const rules: string[] = [];
  for (const net of networks.filter((n) => n.internal)) {
    rules.push(`iifname ${quote(net.bridge)} oifname != ${quote(net.bridge)} drop`);
    rules.push(`oifname ${quote(net.bridge)} iifname != ${quote(net.bridge)} drop`);
  }
  // Internal bridges are sealed above; the others may not talk to one another (DOCKER-ISOLATION).
  const open = networks.filter((n) => !n.internal).map((n) => n.bridge);
  if (open.length < 2) return rules;
  for (const bridge of open) {
    rules.push(`iifname ${quote(bridge)} oifname ${nameSet(open.filter((b) => b !== bridge))} drop`);
  }
  return rules;
}

/** Accepts come after the drops; they matter only for ordering (published ports beat icc=false). */
function forwardRules(state: ValidState): string[] {
  const open = state.networks.filter((n) => !n.internal);
  const rules = isolationRules(state.networks);
  if (open.length > 0) rules.push(`oifname ${nameSet(open.map((n) => n.bridge))} ct state established,related accept`);
  for (const port of livePorts(state)) {
    rules.push(
      `oifname ${quote(port.bridge)} ip daddr ${port.containerIp} ${port.proto} dport ${port.containerPort} ct status dnat accept`,
    );
  }
  for (const net of open) rules.push(`iifname ${quote(net.bridge)} oifname != ${quote(net.bridge)} accept`);
  for (const net of state.networks) {
    rules.push(`iifname ${quote(net.bridge)} oifname ${quote(net.bridge)} ${net.icc ? 'accept' : 'drop'}`);
  }
  return rules;
}

function tableBody(state: ValidState): string[] {
  // Only packets addressed to the host itself are candidates for port publishing.
  const toPorts = [`fib daddr type local jump ${PORTS_CHAIN}`];
  return [
    ...baseChain('prerouting', { type: 'nat', hook: 'prerouting', priority: 'dstnat' }, toPorts),
    // -100 is dstnat; nft 1.0.6 accepts that name for prerouting only.
    ...baseChain('output', { type: 'nat', hook: 'output', priority: '-100' }, toPorts),
    ...regularChain(PORTS_CHAIN, livePorts(state).map(dnatRule)),
    ...baseChain('postrouting', { type: 'nat', hook: 'postrouting', priority: 'srcnat' }, postroutingRules(state)),
    ...baseChain('forward', { type: 'filter', hook: 'forward', priority: 'filter' }, forwardRules(state)),
  ];
}

/**
 * The whole `nft -f` script for a state. The empty `table` line makes the `delete` valid when
 * the table does not exist yet; all three statements commit as one transaction.
 */
export function renderNftScript(name: string, state: FirewallState): string {
  return renderValidNftScript(name, validateState(state));
}

function renderValidNftScript(name: string, valid: ValidState): string {
  const table = `ip ${validateBackendName(name)}`;
  return [`table ${table} {}`, `delete table ${table}`, `table ${table} {`, ...tableBody(valid), '}', ''].join('\n');
}

/** Deletes berth's table whether or not it exists (nft 1.0.6 has no `destroy`). */
export function renderNftRemoveScript(name: string): string {
  const table = `ip ${validateBackendName(name)}`;
  return `table ${table} {}\ndelete table ${table}\n`;
}

export class NftablesBackend implements NatBackend {
  readonly kind = 'nftables' as const;
  private readonly queue = new SerialQueue();

  constructor(
    private readonly name: string,
    private readonly host: HostCommands,
  ) {
    validateBackendName(name);
  }

  apply(state: FirewallState): Promise<void> {
    const valid = validateState(state);
    const script = renderValidNftScript(this.name, valid);
    const sysctls = requiredSysctls(valid);
    return this.queue.run(async () => {
      await this.host.run(['nft', '-f', '-'], script);
      await this.host.enableSysctls(sysctls);
    });
  }

  remove(): Promise<void> {
    const script = renderNftRemoveScript(this.name);
    return this.queue.run(async () => {
      await this.host.run(['nft', '-f', '-'], script);
    });
  }
}
