// Named and anonymous volumes of the `local` driver: <data-root>/volumes/<name>/_data, with
// the volume's record beside it in volume.json (written atomically). A volume with driver
// options (a tmpfs, a bind of a host directory, a device) is mounted on _data while at least
// one container uses it, as moby's local driver does; a plain one is just the directory.
// Which containers use a volume is the daemon's knowledge: the store asks `usersOf`.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Filters, StringMap, Volume } from '../oci/engine-api.js';
import { writeFileAtomic } from '../util/atomic.js';
import { conflict, internal, invalidArgument, notFound } from '../util/errors.js';
import { runTool } from '../util/host-tool.js';
import { KeyedMutex } from '../util/keyed-mutex.js';
import { unmount } from '../snapshots/mount.js';
import { mountArgv, needsMount, validateDriverOptions, validateVolumeName } from './local.js';
import { labelMatches } from '../util/labels.js';

/** Docker marks the volumes it makes for `-v /path` and image VOLUMEs with this label (API 1.42+). */
export const ANONYMOUS_LABEL = 'com.docker.volume.anonymous';

const RECORD = 'volume.json';
const DATA = '_data';

interface VolumeRecord {
  Name: string;
  CreatedAt: string;
  Labels: StringMap;
  Options: StringMap;
}

export interface CreateVolumeOptions {
  name?: string;
  driver?: string;
  driverOpts?: StringMap;
  labels?: StringMap;
}

export interface VolumeStoreOptions {
  /** <data-root>/volumes */
  root: string;
  /** IDs of the containers whose mounts name the volume (running or not). */
  usersOf: (name: string) => string[];
}

const LIST_FILTERS = new Set(['name', 'label', 'driver', 'dangling']);
const PRUNE_FILTERS = new Set(['label', 'label!', 'all']);

export class VolumeStore {
  private readonly records = new Map<string, VolumeRecord>();
  private readonly mutex = new KeyedMutex();
  /** Containers that have an options volume mounted right now, per volume. */
  private readonly mountedFor = new Map<string, Set<string>>();

  constructor(private readonly o: VolumeStoreOptions) {
    mkdirSync(o.root, { recursive: true, mode: 0o701 });
    for (const name of readdirSync(o.root)) {
      const rec = readRecord(join(o.root, name, RECORD));
      if (rec && rec.Name === name) this.records.set(name, rec);
    }
  }

  dataPath(name: string): string {
    return join(this.o.root, name, DATA);
  }

  has(name: string): boolean {
    return this.records.has(name);
  }

  /**
   * Create a volume, or return the one of that name (as dockerd does; a different driver is
   * a conflict). No name: an anonymous volume with a random 64-hex name.
   */
  async create(opts: CreateVolumeOptions): Promise<{ volume: Volume; created: boolean }> {
    const driver = opts.driver || 'local';
    if (driver !== 'local') throw notFound(`error looking up volume plugin ${driver}: plugin "${driver}" not found`);
    const name = opts.name || randomBytes(32).toString('hex');
    validateVolumeName(name);
    const driverOpts = { ...(opts.driverOpts ?? {}) };
    validateDriverOptions(driverOpts);
    return this.mutex.run(name, async () => {
      const existing = this.records.get(name);
      if (existing) return { volume: this.view(existing), created: false };
      const rec: VolumeRecord = { Name: name, CreatedAt: rfc3339(new Date()), Labels: { ...(opts.labels ?? {}) }, Options: driverOpts };
      if (!opts.name) rec.Labels[ANONYMOUS_LABEL] = '';
      const dir = join(this.o.root, name);
      try {
        mkdirSync(join(dir, DATA), { recursive: true, mode: 0o755 });
        writeFileAtomic(join(dir, RECORD), JSON.stringify(rec), 0o600);
      } catch (err) {
        rmSync(dir, { recursive: true, force: true });
        throw internal(`creating volume ${name}: ${(err as Error).message}`, err);
      }
      this.records.set(name, rec);
      return { volume: this.view(rec), created: true };
    });
  }

  inspect(name: string): Volume {
    return this.view(this.get(name));
  }

  isAnonymous(name: string): boolean {
    return ANONYMOUS_LABEL in (this.records.get(name)?.Labels ?? {});
  }

  list(filters: Filters = {}): Volume[] {
    for (const key of Object.keys(filters)) if (!LIST_FILTERS.has(key)) throw invalidArgument(`invalid filter '${key}'`);
    const dangling = booleanFilter(filters['dangling'], 'dangling');
    return [...this.records.values()].filter((rec) => {
      if (filters['name']?.length && !filters['name'].some((n) => rec.Name.includes(n))) return false;
      if (filters['driver']?.length && !filters['driver'].includes('local')) return false;
      if (!(filters['label'] ?? []).every((l) => labelMatches(rec.Labels, l))) return false;
      if (dangling !== undefined && (this.o.usersOf(rec.Name).length === 0) !== dangling) return false;
      return true;
    }).map((rec) => this.view(rec));
  }

  /** Remove a volume; refused while a container uses it (even with force, as dockerd does). */
  async remove(name: string, opts: { force?: boolean } = {}): Promise<void> {
    if (!this.records.has(name)) {
      if (opts.force) return;
      throw notFound(`get ${name}: no such volume`);
    }
    return this.mutex.run(name, async () => {
      const users = this.o.usersOf(name);
      if (users.length > 0) throw conflict(`remove ${name}: volume is in use - [${users.join(', ')}]`);
      if (!this.records.has(name)) return;
      const dir = join(this.o.root, name);
      await unmount(join(dir, DATA));
      this.mountedFor.delete(name);
      // The record goes first: a crash half-way leaves a directory the next start ignores.
      rmSync(join(dir, RECORD), { force: true });
      this.records.delete(name);
      rmSync(dir, { recursive: true, force: true });
    });
  }

  /** Volumes no container uses: the anonymous ones, or all with all=true (API 1.42+). */
  async prune(filters: Filters = {}): Promise<{ deleted: string[]; reclaimed: number; sizes: Map<string, number> }> {
    for (const key of Object.keys(filters)) if (!PRUNE_FILTERS.has(key)) throw invalidArgument(`invalid filter '${key}'`);
    const all = booleanFilter(filters['all'], 'all') ?? false;
    const deleted: string[] = [];
    let reclaimed = 0;
    const sizes = new Map<string, number>();
    for (const rec of [...this.records.values()]) {
      if (!all && !(ANONYMOUS_LABEL in rec.Labels)) continue;
      if (!(filters['label'] ?? []).every((l) => labelMatches(rec.Labels, l))) continue;
      if ((filters['label!'] ?? []).some((l) => labelMatches(rec.Labels, l))) continue;
      if (this.o.usersOf(rec.Name).length > 0) continue;
      const size = needsMount(rec.Options) ? 0 : await this.size(rec.Name);
      try {
        await this.remove(rec.Name);
      } catch {
        continue; // taken into use meanwhile
      }
      deleted.push(rec.Name);
      sizes.set(rec.Name, size);
      reclaimed += size;
    }
    return { deleted, reclaimed, sizes };
  }

  /**
   * The host path to bind into a container: the data directory, mounted first (for the first
   * user) when the volume has driver options.
   */
  async mount(name: string, containerId: string): Promise<string> {
    const rec = this.get(name);
    return this.mutex.run(name, async () => {
      const path = this.dataPath(name);
      if (!needsMount(rec.Options)) return path;
      const users = this.mountedFor.get(name) ?? new Set<string>();
      if (users.size === 0) {
        mkdirSync(path, { recursive: true, mode: 0o755 });
        await unmount(path); // one left by a daemon that was killed
        try {
          await runTool(mountArgv(rec.Options, path));
        } catch (err) {
          throw internal(`error while mounting volume '${path}': ${(err as Error).message}`, err);
        }
      }
      users.add(containerId);
      this.mountedFor.set(name, users);
      return path;
    });
  }

  /** The container no longer uses the volume: the last one out unmounts an options volume. */
  release(name: string, containerId: string): Promise<void> {
    return this.mutex.run(name, async () => {
      const users = this.mountedFor.get(name);
      if (!users?.delete(containerId) || users.size > 0) return;
      this.mountedFor.delete(name);
      await unmount(this.dataPath(name));
    });
  }

  /** After a restart: the containers still running keep their options volumes mounted. */
  adoptMount(name: string, containerId: string): void {
    if (!this.records.has(name) || !needsMount(this.records.get(name)!.Options)) return;
    const users = this.mountedFor.get(name) ?? new Set<string>();
    users.add(containerId);
    this.mountedFor.set(name, users);
  }

  /** Bytes used by a plain volume's data (du), -1 when it cannot be told. */
  async size(name: string): Promise<number> {
    const { diskUsage } = await import('../snapshots/usage.js');
    try {
      return (await diskUsage(this.dataPath(name))).size;
    } catch {
      return -1;
    }
  }

  private get(name: string): VolumeRecord {
    const rec = this.records.get(name);
    if (!rec) throw notFound(`get ${name}: no such volume`);
    return rec;
  }

  private view(rec: VolumeRecord): Volume {
    return {
      CreatedAt: rec.CreatedAt, Driver: 'local', Labels: rec.Labels, Mountpoint: this.dataPath(rec.Name), Name: rec.Name,
      Options: Object.keys(rec.Options).length > 0 ? rec.Options : null, Scope: 'local',
    };
  }
}

function readRecord(path: string): VolumeRecord | undefined {
  try {
    const rec = JSON.parse(readFileSync(path, 'utf8')) as VolumeRecord;
    return typeof rec.Name === 'string' ? { ...rec, Labels: rec.Labels ?? {}, Options: rec.Options ?? {} } : undefined;
  } catch {
    return undefined; // not a volume directory (or a half-removed one)
  }
}

/** Go's time.RFC3339 in UTC, as dockerd shows CreatedAt. */
function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d+Z$/, 'Z');
}

function booleanFilter(values: string[] | undefined, key: string): boolean | undefined {
  if (!values?.length) return undefined;
  const v = values[values.length - 1]!.toLowerCase();
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw invalidArgument(`invalid filter '${key}=${values[values.length - 1]}'`);
}
