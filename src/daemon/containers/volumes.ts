// Containers and their volumes: at create the user's mounts are parsed once, volumes named
// in them or implied (`-v /path`, the image's VOLUMEs, --volumes-from) are made, a new empty
// volume is filled with the image's content at its path (Docker's copy-up), and the result is
// kept in the container's record; at start each volume is mounted and bound in; at exit an
// options volume is let go; `rm -v` and --rm remove the anonymous ones.
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { HostConfig, MountPoint, StringMap } from '../../oci/engine-api.js';
import { invalidArgument, isBerthError, notFound } from '../../util/errors.js';
import { runTool } from '../../util/host-tool.js';
import type { VolumeStore } from '../../volumes/store.js';
import { parseUserMounts, type UserMount } from '../spec/index.js';
import { resolveInRoot } from '../services/root-access.js';
import type { ContainerRecord } from './store.js';

export interface VolumeEvents {
  emit(action: string, name: string, attributes: StringMap): void;
}

export interface PrepareInput {
  id: string;
  hc: HostConfig;
  /** Config.Volumes: the image's VOLUMEs and `-v /path`. */
  configVolumes: string[];
  /** Look up a --volumes-from container. */
  find: (ref: string) => ContainerRecord;
  /** Run fn on the container's root filesystem, mounted read-only for the copy-up. */
  withRootfs: <T>(fn: (dir: string) => Promise<T>) => Promise<T>;
}

export class ContainerVolumes {
  constructor(
    readonly store: VolumeStore,
    private readonly events: VolumeEvents,
    private readonly all: () => Iterable<ContainerRecord>,
  ) {}

  /** The container's mounts with every volume made (and filled); kept in its record. */
  async prepare(input: PrepareInput): Promise<UserMount[]> {
    const own = parseUserMounts(input.hc);
    const taken = new Set(own.map((m) => m.destination));
    const inherited = volumesFrom(input.hc.VolumesFrom ?? [], input.find).filter((m) => !taken.has(m.destination));
    for (const m of inherited) taken.add(m.destination);
    const implied = parseUserMounts({}, input.configVolumes).filter((m) => !taken.has(m.destination));
    const mounts = [...inherited, ...own, ...implied];
    const made: string[] = [];
    try {
      for (const m of mounts) {
        if (m.type !== 'volume' || m.source !== '') continue;
        const { volume, created } = await this.store.create({
          name: m.name || undefined, driver: m.volumeDriver || input.hc.VolumeDriver || undefined,
          driverOpts: m.volumeDriverOptions, labels: m.volumeLabels,
        });
        if (created) {
          made.push(volume.Name);
          this.events.emit('create', volume.Name, { driver: volume.Driver });
        }
        m.name = volume.Name;
        m.source = volume.Mountpoint;
        if (!m.noCopy) await this.copyUp(m, input);
      }
    } catch (err) {
      for (const name of made) await this.store.remove(name).catch(() => undefined);
      throw err;
    }
    return mounts.map(stripCreateOptions);
  }

  /** At start: options volumes are mounted; the mounts go to the spec builder. */
  async attach(rec: ContainerRecord): Promise<UserMount[] | undefined> {
    if (!rec.MountPoints) return undefined;
    const out: UserMount[] = [];
    for (const m of rec.MountPoints) {
      if (m.type !== 'volume') {
        out.push(m);
        continue;
      }
      if (!this.store.has(m.name!)) throw notFound(`volume ${m.name} of container ${rec.ID.slice(0, 12)} no longer exists`);
      const source = await this.store.mount(m.name!, rec.ID);
      this.events.emit('mount', m.name!, { container: rec.ID, destination: m.destination, driver: 'local', propagation: '', 'read/write': String(m.writable) });
      out.push({ ...m, source });
    }
    return out;
  }

  /** At exit (or a failed start): let go of the container's options volumes. */
  async detach(rec: ContainerRecord): Promise<void> {
    for (const m of rec.MountPoints ?? []) {
      if (m.type !== 'volume' || !m.name) continue;
      await this.store.release(m.name, rec.ID).catch(() => undefined);
      this.events.emit('unmount', m.name, { container: rec.ID, driver: 'local' });
    }
  }

  /** After a daemon restart, a running container still holds its options volumes. */
  adopt(rec: ContainerRecord): void {
    for (const m of rec.MountPoints ?? []) if (m.type === 'volume' && m.name) this.store.adoptMount(m.name, rec.ID);
  }

  /** `rm -v` and --rm: the container's anonymous volumes that no other container uses go too. */
  async removeAnonymous(rec: ContainerRecord, log: (msg: string) => void): Promise<void> {
    for (const m of rec.MountPoints ?? []) {
      if (m.type !== 'volume' || !m.name || !this.store.isAnonymous(m.name)) continue;
      if (this.usersOf(m.name).some((id) => id !== rec.ID)) continue;
      try {
        await this.store.remove(m.name, { force: true });
        this.events.emit('destroy', m.name, { driver: 'local' });
      } catch (err) {
        if (!isBerthError(err, 'Conflict')) log(`removing volume ${m.name}: ${(err as Error).message}`);
      }
    }
  }

  usersOf(name: string): string[] {
    const out: string[] = [];
    for (const rec of this.all()) if (rec.MountPoints?.some((m) => m.type === 'volume' && m.name === name)) out.push(rec.ID);
    return out;
  }

  /**
   * moby populateVolumes (at create): an empty volume gets what the image has at the path,
   * ownership and modes kept. The path is resolved inside the root (its symlinks never lead
   * out), and cp copies links as links.
   */
  private async copyUp(m: UserMount, input: PrepareInput): Promise<void> {
    const tempUser = `copy-up-${randomBytes(6).toString('hex')}`;
    const data = await this.store.mount(m.name!, tempUser);
    try {
      if ((await readdir(data)).length > 0) return;
      await input.withRootfs(async (root) => {
        const resolved = await resolveInRoot(root, m.destination);
        if (resolved.kind !== 'dir') return;
        await runTool(['cp', '-a', '--', `${join(root, resolved.path)}/.`, `${data}/`]);
      });
    } finally {
      await this.store.release(m.name!, tempUser);
    }
  }
}

/** --volumes-from container[:ro|:rw]: its mounts (not its tmpfs), with the mode given. */
function volumesFrom(specs: readonly string[], find: (ref: string) => ContainerRecord): UserMount[] {
  const out: UserMount[] = [];
  for (const spec of specs) {
    const [ref = '', mode, extra] = spec.split(':');
    if (extra !== undefined || (mode !== undefined && mode !== 'ro' && mode !== 'rw')) throw invalidArgument(`invalid mode for volumes-from: ${spec}`);
    const source = find(ref);
    const inherited = source.MountPoints ?? parseUserMounts(source.HostConfig);
    for (const m of inherited) {
      if (m.type === 'tmpfs') continue;
      if (m.type === 'volume' && !m.name) continue;
      out.push({ ...m, writable: mode === undefined ? m.writable : mode === 'rw', noCopy: true });
    }
  }
  return out;
}

function stripCreateOptions(m: UserMount): UserMount {
  const { volumeLabels: _l, volumeDriver: _d, volumeDriverOptions: _o, ...rest } = m;
  return rest;
}

/** The Mounts section of inspect and of the list (moby's MountPoint), in mount order. */
export function mountPointsView(rec: ContainerRecord): MountPoint[] {
  const mounts = rec.MountPoints ?? parseUserMounts(rec.HostConfig);
  return mounts.map((m): MountPoint => {
    if (m.type === 'volume') {
      return { Type: 'volume', Name: m.name ?? '', Source: m.source, Destination: m.destination, Driver: 'local', Mode: m.mode ?? '', RW: m.writable, Propagation: '' };
    }
    if (m.type === 'tmpfs') return { Type: 'tmpfs', Source: '', Destination: m.destination, Mode: '', RW: m.writable, Propagation: '' };
    return { Type: 'bind', Source: m.source, Destination: m.destination, Mode: m.mode ?? '', RW: m.writable, Propagation: m.propagation ?? 'rprivate' };
  });
}
