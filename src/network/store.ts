// The networks berth knows, one record each in <data-root>/networks/<id>.json (written
// atomically): the three predefined ones (bridge, host, none) and user-defined bridge
// networks. Lookups go by full ID, exact name, then unique ID prefix, as moby's
// FindNetwork does. Which containers are on a network is the daemon's knowledge.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { NetworkIPAMConfig, StringMap } from '../oci/engine-api.js';
import { writeFileAtomic } from '../util/atomic.js';
import { conflict, notFound } from '../util/errors.js';

export type NetworkDriver = 'bridge' | 'host' | 'null';

export interface NetworkRecord {
  Id: string;
  Name: string;
  Created: string;
  Driver: NetworkDriver;
  Internal: boolean;
  Attachable: boolean;
  /** Subnet, gateway and range: one IPv4 entry for a bridge network. */
  IPAM: { Driver: string; Options: StringMap; Config: NetworkIPAMConfig[] };
  /** Driver options as given (com.docker.network.bridge.name, …). */
  Options: StringMap;
  Labels: StringMap;
  /** The bridge interface of a bridge network. */
  bridge?: string;
  icc?: boolean;
  mtu?: number;
}

export const PREDEFINED = new Set(['bridge', 'host', 'none']);

export class NetworkStore {
  private readonly records = new Map<string, NetworkRecord>();

  constructor(private readonly dir: string) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    for (const file of readdirSync(dir)) {
      if (!/^[0-9a-f]{64}\.json$/.test(file)) continue;
      try {
        const rec = JSON.parse(readFileSync(join(dir, file), 'utf8')) as NetworkRecord;
        if (rec.Id === file.slice(0, 64)) this.records.set(rec.Id, rec);
      } catch {
        // a torn file from before atomic writes cannot happen; anything else unreadable is skipped
      }
    }
  }

  static newId(): string {
    return randomBytes(32).toString('hex');
  }

  all(): NetworkRecord[] {
    return [...this.records.values()];
  }

  byName(name: string): NetworkRecord | undefined {
    for (const rec of this.records.values()) if (rec.Name === name) return rec;
    return undefined;
  }

  /** moby FindNetwork: full ID, then name, then a unique ID prefix. */
  find(term: string): NetworkRecord {
    const exact = this.records.get(term) ?? this.byName(term);
    if (exact) return exact;
    const matches = term === '' ? [] : this.all().filter((r) => r.Id.startsWith(term));
    if (matches.length === 1) return matches[0]!;
    if (matches.length > 1) throw conflict(`network ${term} is ambiguous (${matches.length} matches found based on ID prefix)`);
    throw notFound(`network ${term} not found`);
  }

  tryFind(term: string): NetworkRecord | undefined {
    try {
      return this.find(term);
    } catch {
      return undefined;
    }
  }

  save(rec: NetworkRecord): void {
    writeFileAtomic(join(this.dir, `${rec.Id}.json`), JSON.stringify(rec), 0o600);
    this.records.set(rec.Id, rec);
  }

  delete(id: string): void {
    rmSync(join(this.dir, `${id}.json`), { force: true });
    this.records.delete(id);
  }
}
