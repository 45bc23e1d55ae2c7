// A container's state on disk under the runtime root (runc's --root): one
// directory per container holding state.json, written atomically, and the exec fifo.
import { mkdirSync, readFileSync, readdirSync, rmSync, existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { ContainerStatus, Spec, State } from '../oci/runtime-spec.js';
import { writeFileAtomic } from '../util/atomic.js';
import { conflict, errnoCode, invalidArgument, notFound } from '../util/errors.js';

export interface ContainerRecord {
  id: string;
  bundle: string;
  rootfs: string;
  pid: number;
  /** /proc/<pid>/stat start time, so a reused pid is never mistaken for the container. */
  pidStartTime: string;
  created: string;
  /** The config as it was at create (hooks, process defaults for exec, cgroups). */
  spec: Spec;
  cgroupsPath?: string;
  /** Set when the shim monitors the container (berth's own mode). */
  /** Directories of its cgroups, as the manager resolved them at create. */
  cgroupPaths?: Record<string, string>;
  monitored: boolean;
  owner: string;
}

const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.+-]{0,1023}$/;

export function validateId(id: string): string {
  if (!ID_PATTERN.test(id)) throw invalidArgument(`invalid container id "${id}": use letters, digits and _ . + -`);
  return id;
}

export class StateStore {
  constructor(readonly root: string) {}

  dir(id: string): string {
    return join(this.root, validateId(id));
  }

  fifo(id: string): string {
    return join(this.dir(id), 'exec.fifo');
  }

  /** Claim the id: fails if a container with it exists. */
  reserve(id: string): string {
    mkdirSync(this.root, { recursive: true, mode: 0o711 });
    const dir = this.dir(id);
    try {
      mkdirSync(dir, { mode: 0o711 });
    } catch (err) {
      if (errnoCode(err) === 'EEXIST') throw conflict(`container with id ${id} already exists`);
      throw err;
    }
    return dir;
  }

  /** Atomic, not fsynced: the state root is runtime state (a tmpfs under /run, as runc's), gone at reboot anyway. */
  save(rec: ContainerRecord): void {
    writeFileAtomic(join(this.dir(rec.id), 'state.json'), JSON.stringify(rec), 0o600, { durable: false });
  }

  load(id: string): ContainerRecord {
    try {
      return JSON.parse(readFileSync(join(this.dir(id), 'state.json'), 'utf8')) as ContainerRecord;
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') throw notFound(`container ${id} does not exist`);
      throw err;
    }
  }

  exists(id: string): boolean {
    return existsSync(join(this.dir(id), 'state.json'));
  }

  list(): string[] {
    try {
      return readdirSync(this.root).filter((n) => ID_PATTERN.test(n) && this.exists(n));
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return [];
      throw err;
    }
  }

  remove(id: string): void {
    rmSync(this.dir(id), { recursive: true, force: true });
  }

  /** remove() off the event loop, for a daemon deleting many containers at once. */
  async removeAsync(id: string): Promise<void> {
    await rm(this.dir(id), { recursive: true, force: true });
  }
}

/** Field 22 of /proc/<pid>/stat (start time in clock ticks), or undefined if gone. */
export function pidStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[0] === 'Z' || fields[0] === 'X') return undefined;
    return fields[19];
  } catch {
    return undefined;
  }
}

export function isAlive(rec: ContainerRecord): boolean {
  return rec.pid > 0 && pidStartTime(rec.pid) === rec.pidStartTime;
}

export function statusOf(rec: ContainerRecord, store: StateStore, frozen: () => boolean): ContainerStatus {
  if (!isAlive(rec)) return 'stopped';
  if (frozen()) return 'paused';
  return existsSync(store.fifo(rec.id)) ? 'created' : 'running';
}

export function ociState(rec: ContainerRecord, status: ContainerStatus): State {
  const state: State = { ociVersion: '1.2.0', id: rec.id, status, bundle: rec.bundle };
  if (status !== 'stopped') state.pid = rec.pid;
  if (rec.spec.annotations) state.annotations = rec.spec.annotations;
  return state;
}
