// Entry point of berth's firewall backends: picks nftables or iptables for this host.
import { unavailable } from '../../util/errors.js';
import { HostCommands } from './host.js';
import { IptablesBackend } from './iptables.js';
import { NftablesBackend } from './nftables.js';
import type { NatBackend, NatBackendKind, NatBackendOptions } from './types.js';
import { validateBackendName } from './validate.js';

export type { FirewallNetwork, FirewallState, NatBackend, NatBackendKind, NatBackendOptions, PortMapping } from './types.js';
export { IptablesBackend, iptablesChains, parseIptablesSave, renderIptablesRemove, renderIptablesRestore } from './iptables.js';
export { NftablesBackend, renderNftRemoveScript, renderNftScript } from './nftables.js';
export { validateState } from './validate.js';

const PROBES: Record<NatBackendKind, readonly string[]> = {
  nftables: ['nft', 'list', 'tables'],
  iptables: ['iptables', '-w', '-t', 'nat', '-S', 'POSTROUTING'],
};

function create(kind: NatBackendKind, name: string, host: HostCommands): NatBackend {
  return kind === 'nftables' ? new NftablesBackend(name, host) : new IptablesBackend(name, host);
}

/**
 * nftables when `nft` works here, else iptables. `prefer` puts that kind first; the other is
 * still used when the preferred tool is missing or fails (e.g. no nf_tables in the kernel).
 */
export async function detectNatBackend(opts: NatBackendOptions): Promise<NatBackend> {
  validateBackendName(opts.name);
  const host = new HostCommands(opts.netns);
  const order: NatBackendKind[] = opts.prefer === 'iptables' ? ['iptables', 'nftables'] : ['nftables', 'iptables'];
  for (const kind of order) {
    if (await host.works(PROBES[kind])) return create(kind, opts.name, host);
  }
  throw unavailable(`neither nft nor iptables works${opts.netns ? ` in network namespace ${opts.netns}` : ''}`);
}
