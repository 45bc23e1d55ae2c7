// What a dockerd with its bridge driver on (iptables, a docker0 bridge) leaves in the host's
// network set-up, and its removal: bench/network.ts snapshots the iptables filter and nat
// tables, the FORWARD policy, a few sysctls and the list of links before it starts that
// dockerd, and afterwards removes exactly what appeared and is dockerd's — the DOCKER* chains,
// the rules that jump to them or name its bridge or subnet — then puts the policies and sysctls
// back, deletes the bridge if it was new, and drops the `ip filter` / `ip nat` nftables tables
// (iptables-nft) when they did not exist before and hold no rule any more. Rules that other
// software added meanwhile are left alone.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';

const TABLES = ['filter', 'nat'] as const;
const SYSCTLS = ['net/ipv4/ip_forward', 'net/bridge/bridge-nf-call-iptables', 'net/bridge/bridge-nf-call-ip6tables'];

export interface FirewallSnapshot {
  /** `iptables -t <table> -S` lines before. */
  rules: Map<string, Set<string>>;
  nftTables: Set<string>;
  links: Set<string>;
  sysctls: Map<string, string>;
  /** The iptables-save and nft ruleset text before, kept for the record. */
  saved: string;
}

function sh(argv: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout ?? '', stderr: (r.stderr ?? '') + (r.error ? String(r.error) : '') };
}

function listRules(table: string): string[] {
  const r = sh(['iptables', '-w', '-t', table, '-S']);
  return r.status === 0 ? r.stdout.split('\n').filter(Boolean) : [];
}

function nftTables(): Set<string> {
  return new Set(sh(['nft', 'list', 'tables']).stdout.split('\n').map((l) => l.replace(/^table\s+/, '').trim()).filter(Boolean));
}

export function links(): Set<string> {
  return new Set(sh(['ip', '-br', 'link']).stdout.split('\n').map((l) => l.split(/\s+/)[0]!.replace(/@.*/, '')).filter(Boolean));
}

function readSysctl(key: string): string | undefined {
  try {
    return readFileSync(`/proc/sys/${key}`, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** Taken before the dockerd starts; `saved` goes to a file of the run. */
export function snapshotFirewall(): FirewallSnapshot {
  const nft = nftTables();
  const rules = new Map<string, Set<string>>();
  // Listing a table through iptables-nft does not create it; only read those that exist.
  for (const t of TABLES) rules.set(t, new Set(nft.has(`ip ${t}`) ? listRules(t) : []));
  const sysctls = new Map<string, string>();
  for (const k of SYSCTLS) {
    const v = readSysctl(k);
    if (v !== undefined) sysctls.set(k, v);
  }
  const saved = `# iptables-save\n${sh(['iptables-save']).stdout}\n# nft list ruleset\n${sh(['nft', 'list', 'ruleset']).stdout}`;
  return { rules, nftTables: nft, links: links(), sysctls, saved };
}

/** "-A FORWARD -o docker0 -j DOCKER" → its words (iptables -S quotes words with spaces). */
function words(line: string): string[] {
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
  for (let m = re.exec(line); m; m = re.exec(line)) out.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2]!);
  return out;
}

/**
 * Removes what dockerd added since `before`: rules naming a DOCKER chain, `bridge` or
 * `subnetPrefix` (e.g. "172.30.254."), then the new DOCKER* chains, the changed built-in
 * policies, the sysctls, the bridge when it is new, and the iptables-nft tables that were not
 * there and are empty again. What it did and what it could not do go to notes.
 */
export function restoreFirewall(before: FirewallSnapshot, bridge: string, subnetPrefix: string, notes: string[]): void {
  const done: string[] = [];
  const ours = (line: string): boolean => /DOCKER/.test(line) || line.includes(` ${bridge} `) || line.endsWith(` ${bridge}`) || line.includes(subnetPrefix);
  const now = nftTables();
  for (const t of TABLES) {
    if (!now.has(`ip ${t}`)) continue;
    const old = before.rules.get(t)!;
    const after = listRules(t);
    // Rules first (they may jump to the chains), the chains' own rules go with -F.
    for (const line of after) {
      if (!line.startsWith('-A ') || old.has(line) || !ours(line)) continue;
      const w = words(line);
      if (/^DOCKER/.test(w[1]!)) continue; // inside a DOCKER chain: flushed below
      const r = sh(['iptables', '-w', '-t', t, '-D', ...w.slice(1)]);
      if (r.status === 0) done.push(`${t}: ${line}`);
      else notes.push(`firewall: iptables -t ${t} -D ${w.slice(1).join(' ')}: ${r.stderr.trim()}`);
    }
    const chains = after.filter((l) => l.startsWith('-N ') && !old.has(l)).map((l) => words(l)[1]!).filter((c) => /^DOCKER/.test(c));
    for (const c of chains) sh(['iptables', '-w', '-t', t, '-F', c]);
    for (const c of chains) {
      const r = sh(['iptables', '-w', '-t', t, '-X', c]);
      if (r.status === 0) done.push(`${t}: chain ${c}`);
      else notes.push(`firewall: iptables -t ${t} -X ${c}: ${r.stderr.trim()}`);
    }
    // Built-in chains' policies as they were (absent before: the default, ACCEPT).
    for (const line of listRules(t).filter((l) => l.startsWith('-P '))) {
      const [, chain, policy] = words(line);
      const was = [...old].find((l) => l.startsWith(`-P ${chain} `));
      const wanted = was ? words(was)[2]! : 'ACCEPT';
      if (policy !== wanted) {
        const r = sh(['iptables', '-w', '-t', t, '-P', chain!, wanted]);
        if (r.status === 0) done.push(`${t}: policy ${chain} ${policy} → ${wanted}`);
        else notes.push(`firewall: iptables -t ${t} -P ${chain} ${wanted}: ${r.stderr.trim()}`);
      }
    }
    // A table iptables-nft made for dockerd, now only empty built-in chains: gone again.
    if (!before.nftTables.has(`ip ${t}`) && listRules(t).every((l) => l.startsWith('-P ') && l.endsWith(' ACCEPT'))) {
      const r = sh(['nft', 'delete', 'table', 'ip', t]);
      if (r.status === 0) done.push(`nft table ip ${t} (made by iptables-nft for dockerd)`);
    }
  }
  for (const [k, v] of before.sysctls) {
    const cur = readSysctl(k);
    if (cur !== undefined && cur !== v) {
      try {
        writeFileSync(`/proc/sys/${k}`, v);
        done.push(`sysctl ${k} ${cur} → ${v}`);
      } catch (err) {
        notes.push(`firewall: restoring ${k}=${v}: ${(err as Error).message}`);
      }
    }
  }
  if (!before.links.has(bridge) && links().has(bridge)) {
    const r = sh(['ip', 'link', 'del', bridge]);
    if (r.status === 0) done.push(`bridge ${bridge}`);
    else notes.push(`firewall: ip link del ${bridge}: ${r.stderr.trim()}`);
  }
  if (done.length) notes.push(`dockerd's network set-up removed: ${done.length} item(s) (${done.slice(0, 4).join('; ')}${done.length > 4 ? '; …' : ''})`);
}
