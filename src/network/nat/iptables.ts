// The iptables backend: berth's rules live in its own chains (<NAME>-PREROUTING, -OUTPUT,
// -PORTS, -POSTROUTING in nat; <NAME>-FORWARD, -ISOLATION in filter), reached by one plain
// jump from each built-in chain. An apply reads `iptables-save` once (to learn which jumps
// exist) and rewrites berth's chains with one `iptables-restore --noflush`, which flushes and
// refills each declared chain in a single commit; no other chain or rule is touched.
//
// Unlike nftables, accepts here do override a FORWARD policy of DROP (dockerd sets one), so
// berth's FORWARD chain accepts the traffic it allows rather than relying on the policy.
import { livePorts, loopbackBridges, networksWithPorts, requiredSysctls } from './plan.js';
import { HostCommands, SerialQueue } from './host.js';
import type { FirewallState, NatBackend } from './types.js';
import { validateBackendName, validateState, type ValidNetwork, type ValidPort, type ValidState } from './validate.js';

type Table = 'nat' | 'filter';

export interface IptablesChains {
  prerouting: string;
  output: string;
  ports: string;
  postrouting: string;
  forward: string;
  isolation: string;
}

interface Jump {
  table: Table;
  from: string;
  to: string;
}

export function iptablesChains(name: string): IptablesChains {
  const prefix = validateBackendName(name).toUpperCase();
  return {
    prerouting: `${prefix}-PREROUTING`,
    output: `${prefix}-OUTPUT`,
    ports: `${prefix}-PORTS`,
    postrouting: `${prefix}-POSTROUTING`,
    forward: `${prefix}-FORWARD`,
    isolation: `${prefix}-ISOLATION`,
  };
}

const chainsOf = (c: IptablesChains, table: Table): string[] =>
  table === 'nat' ? [c.prerouting, c.output, c.ports, c.postrouting] : [c.forward, c.isolation];

function jumpsOf(c: IptablesChains): Jump[] {
  return [
    { table: 'nat', from: 'PREROUTING', to: c.prerouting },
    { table: 'nat', from: 'OUTPUT', to: c.output },
    { table: 'nat', from: 'POSTROUTING', to: c.postrouting },
    { table: 'filter', from: 'FORWARD', to: c.forward },
  ];
}

/** The rule exactly as iptables-save prints it, so presence is a line comparison. */
const jumpLine = (jump: Jump): string => `-A ${jump.from} -j ${jump.to}`;

/** What `iptables-save` showed of one table: declared chains and rule lines. */
export interface SavedTable {
  chains: Set<string>;
  rules: string[];
}

export function parseIptablesSave(text: string): Map<string, SavedTable> {
  const tables = new Map<string, SavedTable>();
  let current: SavedTable | undefined;
  for (const line of text.split('\n')) {
    if (line.startsWith('*')) {
      current = { chains: new Set(), rules: [] };
      tables.set(line.slice(1).trim(), current);
    } else if (line.startsWith(':') && current) {
      current.chains.add(line.slice(1).split(' ')[0]!);
    } else if (line.startsWith('-A ') && current) {
      current.rules.push(line.trim());
    }
  }
  return tables;
}

const hasJump = (saved: ReadonlyMap<string, SavedTable>, jump: Jump): boolean =>
  saved.get(jump.table)?.rules.includes(jumpLine(jump)) ?? false;

function dnatRule(chain: string, port: ValidPort): string {
  const destination = port.hostIp === '' ? '' : `-d ${port.hostIp}/32 `;
  const match = `-p ${port.proto} -m ${port.proto} --dport ${port.hostPort}`;
  return `-A ${chain} ${destination}${match} -j DNAT --to-destination ${port.containerIp}:${port.containerPort}`;
}

function natRules(c: IptablesChains, state: ValidState): string[] {
  const rules = [
    // Only packets addressed to the host itself are candidates for port publishing.
    `-A ${c.prerouting} -m addrtype --dst-type LOCAL -j ${c.ports}`,
    `-A ${c.output} -m addrtype --dst-type LOCAL -j ${c.ports}`,
    ...livePorts(state).map((port) => dnatRule(c.ports, port)),
  ];
  for (const net of state.networks.filter((n) => !n.internal)) {
    rules.push(`-A ${c.postrouting} -s ${net.subnet} ! -o ${net.bridge} -j MASQUERADE`);
  }
  for (const bridge of loopbackBridges(state)) {
    // Host connections to 127.0.0.1 DNATed into the bridge: the container cannot answer a loopback source.
    rules.push(`-A ${c.postrouting} -s 127.0.0.0/8 -o ${bridge} -j MASQUERADE`);
  }
  for (const net of networksWithPorts(state)) {
    // Hairpin: a container reaching a published port of its own network via a host address.
    rules.push(`-A ${c.postrouting} -s ${net.subnet} -d ${net.subnet} -o ${net.bridge} -m conntrack --ctstate DNAT -j MASQUERADE`);
  }
  return rules;
}

function isolationRules(c: IptablesChains, networks: readonly ValidNetwork[]): string[] {
  const rules: string[] = [];
  for (const net of networks.filter((n) => n.internal)) {
    rules.push(`-A ${c.forward} -i ${net.bridge} ! -o ${net.bridge} -j DROP`);
    rules.push(`-A ${c.forward} ! -i ${net.bridge} -o ${net.bridge} -j DROP`);
  }
  // Docker's two stages: leaving one open bridge for another one is dropped.
  const open = networks.filter((n) => !n.internal).map((n) => n.bridge);
  if (open.length < 2) return rules;
  for (const bridge of open) rules.push(`-A ${c.forward} -i ${bridge} ! -o ${bridge} -j ${c.isolation}`);
  for (const bridge of open) rules.push(`-A ${c.isolation} -o ${bridge} -j DROP`);
  return rules;
}

function filterRules(c: IptablesChains, state: ValidState): string[] {
  const open = state.networks.filter((n) => !n.internal);
  const rules = isolationRules(c, state.networks);
  for (const net of open) {
    rules.push(`-A ${c.forward} -o ${net.bridge} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`);
  }
  for (const port of livePorts(state)) {
    const match = `-p ${port.proto} -m ${port.proto} --dport ${port.containerPort}`;
    rules.push(`-A ${c.forward} -d ${port.containerIp}/32 -o ${port.bridge} ${match} -m conntrack --ctstate DNAT -j ACCEPT`);
  }
  for (const net of open) rules.push(`-A ${c.forward} -i ${net.bridge} ! -o ${net.bridge} -j ACCEPT`);
  for (const net of state.networks) {
    rules.push(`-A ${c.forward} -i ${net.bridge} -o ${net.bridge} -j ${net.icc ? 'ACCEPT' : 'DROP'}`);
  }
  return rules;
}

function tableSection(table: Table, chains: readonly string[], rules: readonly string[], jumps: readonly Jump[]): string[] {
  // With --noflush, declaring a chain creates it or flushes it: the old rules go in the same commit.
  const insertJumps = jumps.filter((j) => j.table === table).map((j) => `-I ${j.from} 1 -j ${j.to}`);
  return [`*${table}`, ...chains.map((chain) => `:${chain} - [0:0]`), ...rules, ...insertJumps, 'COMMIT'];
}

function renderValidRestore(name: string, state: ValidState, saved: ReadonlyMap<string, SavedTable>): string {
  const c = iptablesChains(name);
  const missing = jumpsOf(c).filter((jump) => !hasJump(saved, jump));
  return [
    ...tableSection('nat', chainsOf(c, 'nat'), natRules(c, state), missing),
    ...tableSection('filter', chainsOf(c, 'filter'), filterRules(c, state), missing),
    '',
  ].join('\n');
}

/**
 * The `iptables-restore --noflush` input for a state. `saved` is the parsed `iptables-save`
 * of the host; it decides which jumps from the built-in chains still have to be inserted.
 */
export function renderIptablesRestore(name: string, state: FirewallState, saved: ReadonlyMap<string, SavedTable> = new Map()): string {
  return renderValidRestore(name, validateState(state), saved);
}

/**
 * The `iptables-restore --noflush` input that removes berth's jumps and chains, or '' when
 * nothing of berth's is there. All chains are flushed before any is deleted, since they
 * refer to one another.
 */
export function renderIptablesRemove(name: string, saved: ReadonlyMap<string, SavedTable>): string {
  const c = iptablesChains(name);
  const lines: string[] = [];
  for (const table of ['nat', 'filter'] as const) {
    const current = saved.get(table);
    if (!current) continue;
    const jumps = jumpsOf(c).filter((j) => j.table === table);
    const deletes = current.rules.filter((rule) => jumps.some((j) => rule === jumpLine(j))).map((rule) => `-D${rule.slice(2)}`);
    const present = chainsOf(c, table).filter((chain) => current.chains.has(chain));
    if (deletes.length + present.length === 0) continue;
    lines.push(`*${table}`, ...deletes, ...present.map((ch) => `-F ${ch}`), ...present.map((ch) => `-X ${ch}`), 'COMMIT');
  }
  return lines.length === 0 ? '' : [...lines, ''].join('\n');
}

export class IptablesBackend implements NatBackend {
  readonly kind = 'iptables' as const;
  private readonly queue = new SerialQueue();

  constructor(
    private readonly name: string,
    private readonly host: HostCommands,
  ) {
    validateBackendName(name);
  }

  apply(state: FirewallState): Promise<void> {
    const valid = validateState(state);
    return this.queue.run(async () => {
      const saved = await this.save();
      await this.restore(renderValidRestore(this.name, valid, saved));
      await this.host.enableSysctls(requiredSysctls(valid));
    });
  }

  remove(): Promise<void> {
    return this.queue.run(async () => {
      const script = renderIptablesRemove(this.name, await this.save());
      if (script !== '') await this.restore(script);
    });
  }

  private async save(): Promise<Map<string, SavedTable>> {
    return parseIptablesSave((await this.host.run(['iptables-save'])).stdout);
  }

  private async restore(script: string): Promise<void> {
    // -w: wait for the xtables lock instead of failing when another tool holds it.
    await this.host.run(['iptables-restore', '-w', '--noflush'], script);
  }
}
