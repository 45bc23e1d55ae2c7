// Containers on disk and in memory: one directory per container under
// <data-root>/containers/<id>/ holding config.v2.json (written atomically on every state
// change), the json-file log and the hostname/hosts/resolv.conf files; lookups by full ID,
// name or unique ID prefix, in Docker's order.
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { ContainerConfig, ContainerState, HostConfig } from '../../oci/engine-api.js';
import type { UserMount } from '../spec/index.js';
import type { ContainerNetworking } from '../networks/types.js';
import { writeFileAtomicAsync } from '../../util/atomic.js';
import { conflict, errnoCode, invalidArgument, notFound } from '../../util/errors.js';

/** What berthd persists for each container (moby's config.v2.json, in spirit). */
export interface ContainerRecord extends ContainerNetworking {
  ID: string;
  /** "/name" */
  Name: string;
  Created: string;
  Path: string;
  Args: string[];
  /** The merged config: the image's defaults under the create request. */
  Config: ContainerConfig;
  HostConfig: HostConfig;
  /** The image ID (sha256:…) and the reference the user gave. */
  Image: string;
  ImageRef: string;
  State: ContainerState;
  RestartCount: number;
  HasBeenStartedBefore: boolean;
  /** Stopped by the user: restart policies leave it alone (unless-stopped across daemon restarts). */
  HasBeenManuallyStopped: boolean;
  /** The snapshotter and the container's active snapshot key. */
  Driver: string;
  SnapshotKey: string;
  LogPath: string;
  HostnamePath: string;
  HostsPath: string;
  ResolvConfPath: string;
  /** The user's mounts as made at create, volumes named and resolved (absent in records from before volumes). */
  MountPoints?: UserMount[];
}

export const ZERO_TIME = '0001-01-01T00:00:00Z';

export function initialState(): ContainerState {
  return {
    Status: 'created', Running: false, Paused: false, Restarting: false, OOMKilled: false, Dead: false,
    Pid: 0, ExitCode: 0, Error: '', StartedAt: ZERO_TIME, FinishedAt: ZERO_TIME,
  };
}

export class ContainerStore {
  private readonly byId = new Map<string, ContainerRecord>();
  private readonly byName = new Map<string, string>();
  private readonly writing = new Map<string, Promise<void>>();
  private readonly dirty = new Set<string>();
  private readonly writeErrors = new Map<string, Error>();

  /** @param onWriteError told when a record could not be written (it stays current in memory) */
  constructor(
    readonly dir: string,
    private readonly onWriteError: (id: string, err: Error) => void = () => undefined,
  ) {
    mkdirSync(dir, { recursive: true, mode: 0o710 });
  }

  /** Read every container directory; unreadable ones are reported, not fatal. */
  load(warn: (msg: string) => void): ContainerRecord[] {
    for (const id of readdirSync(this.dir)) {
      try {
        const rec = JSON.parse(readFileSync(join(this.dir, id, 'config.v2.json'), 'utf8')) as ContainerRecord;
        if (rec.ID !== id) throw new Error(`its ID is ${rec.ID}`);
        this.byId.set(id, rec);
        this.byName.set(rec.Name, id);
      } catch (err) {
        warn(`container ${id}: cannot load config.v2.json (${(err as Error).message}); leaving it alone`);
      }
    }
    return [...this.byId.values()];
  }

  containerDir(id: string): string {
    return join(this.dir, id);
  }

  all(): ContainerRecord[] {
    return [...this.byId.values()];
  }

  /** Claim a name (throws Docker's conflict); the record is added by save(). */
  reserveName(name: string, id: string): void {
    const owner = this.byName.get(name);
    if (owner !== undefined && owner !== id) {
      throw conflict(`Conflict. The container name "${name}" is already in use by container "${owner}". You have to remove (or rename) that container to be able to reuse that name.`);
    }
    this.byName.set(name, id);
  }

  releaseName(name: string, id: string): void {
    if (this.byName.get(name) === id) this.byName.delete(name);
  }

  nameTaken(name: string): boolean {
    return this.byName.has(name);
  }

  /**
   * Persist a record: atomically (a reader or a restarted daemon sees the old or the new
   * record), but not fsynced. Like its snapshot's record, a container created just before a
   * power loss may be forgotten; the shims' files hold the truth about running processes.
   */
  save(rec: ContainerRecord): void {
    this.byId.set(rec.ID, rec);
    this.byName.set(rec.Name, rec.ID);
    this.persist(rec.ID);
  }

  /**
   * Resolves once the record as it is now is on disk; rejects when that write failed (e.g. a
   * full disk), so a create can fail instead of leaving a container that a restart forgets.
   */
  async saved(id: string): Promise<void> {
    await this.writing.get(id);
    const err = this.writeErrors.get(id);
    if (err) throw err;
  }

  /** Every pending record write, finished (daemon shutdown). */
  async flush(): Promise<void> {
    await Promise.all(this.writing.values());
  }

  async delete(id: string): Promise<void> {
    const rec = this.byId.get(id);
    if (rec) this.releaseName(rec.Name, id);
    this.byId.delete(id);
    // A write in flight would recreate what is removed: let it finish first.
    await this.writing.get(id);
    this.writeErrors.delete(id);
    await rm(this.containerDir(id), { recursive: true, force: true });
  }

  // Writes go to the thread pool, one at a time per container; saves made meanwhile are
  // coalesced into one more write of the latest record.
  private persist(id: string): void {
    if (this.writing.has(id)) {
      this.dirty.add(id);
      return;
    }
    let finished!: () => void;
    this.writing.set(id, new Promise<void>((resolve) => (finished = resolve)));
    void this.writeLoop(id).finally(finished);
  }

  private async writeLoop(id: string): Promise<void> {
    try {
      for (;;) {
        const rec = this.byId.get(id);
        if (!rec) return;
        const dir = this.containerDir(id);
        await mkdir(dir, { recursive: true, mode: 0o710 });
        await writeFileAtomicAsync(join(dir, 'config.v2.json'), JSON.stringify(rec), 0o600);
        this.writeErrors.delete(id);
        if (!this.dirty.delete(id)) return;
      }
    } catch (err) {
      this.writeErrors.set(id, err as Error);
      this.onWriteError(id, err as Error);
    } finally {
      // No await between the last check of `dirty` and this: a save cannot slip in unseen.
      this.writing.delete(id);
      this.dirty.delete(id);
    }
  }

  /** Docker's lookup order: full ID, exact name, unique ID prefix. */
  find(idOrName: string): ContainerRecord {
    if (idOrName === '') throw invalidArgument('No such container: (empty name or ID)');
    const direct = this.byId.get(idOrName);
    if (direct) return direct;
    const named = this.byName.get(idOrName.startsWith('/') ? idOrName : `/${idOrName}`);
    if (named !== undefined) return this.byId.get(named)!;
    if (/^[0-9a-f]+$/.test(idOrName)) {
      const matches = [...this.byId.keys()].filter((id) => id.startsWith(idOrName));
      if (matches.length === 1) return this.byId.get(matches[0]!)!;
      if (matches.length > 1) throw invalidArgument(`multiple IDs found with provided prefix: ${idOrName}`);
    }
    throw notFound(`No such container: ${idOrName}`);
  }

  has(id: string): boolean {
    return this.byId.has(id);
  }
}

/** Reads a file the daemon wrote; undefined when missing. */
export function readOptionalFile(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw err;
  }
}
