// The builder's worker on berthd: RUN steps are containers of the daemon (as the classic
// builder's are: they show in `ps -a` while they run), made on the step's layer snapshot;
// COPY/ADD/WORKDIR change a temporary mount of a new snapshot through the same hostile-root
// code as `docker cp`. Each changed snapshot is diffed into a layer and then committed under
// its chain ID, so the next step starts from it without unpacking anything.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { BaseImage, BuildWorker, NewLayerResult, RunStepRequest, StepFs, StepMount } from '../../build/worker.js';
import { StepFailed } from '../../build/worker.js';
import { topChain, type BuildState } from '../../build/state.js';
import { writeManifest } from '../../images/create.js';
import { LAYER_SIZE_LABEL, unpackImage } from '../../images/unpack.js';
import type { ImageStore } from '../../images/store.js';
import { chainIds, MediaTypes, type Manifest } from '../../oci/image-spec.js';
import type { HostConfig, MountSpec } from '../../oci/engine-api.js';
import { mountTemp, withTempMount } from '../../snapshots/mount.js';
import { digestOf, type Digest } from '../../util/digest.js';
import { isBerthError, notFound } from '../../util/errors.js';
import { EMPTY_LAYER_DIFF_ID, storeSnapshotDiff } from '../images/commit.js';
import type { Daemon } from '../daemon.js';
import { CacheMounts } from './cache-mounts.js';

/** How COPY/ADD/WORKDIR write: the tar's own owners (COPY puts --chown's ids in it), and a directory may replace a non-directory. */
const PUT_AS_BUILDER = { noOverwriteDirNonDir: false, copyUIDGID: false };

export class DaemonBuildWorker implements BuildWorker {
  private readonly store: ImageStore;
  readonly cacheMounts: CacheMounts;

  /** tmpDir: where temporary mounts and bind sources go (an existing, private directory). */
  constructor(private readonly daemon: Daemon, private readonly lease: string, private readonly tmpDir: string) {
    this.store = daemon.store;
    this.cacheMounts = daemon.buildCacheMounts;
  }

  async baseImage(ref: string, opts: { pull: boolean; localOnly?: boolean; platform?: string; output: (line: string) => void; signal: AbortSignal }): Promise<BaseImage> {
    let img = opts.pull ? undefined : await this.store.resolve(ref).catch((err: unknown) => {
      if (isBerthError(err, 'NotFound')) return undefined;
      throw err;
    });
    if (!img && opts.localOnly) throw notFound(`No such image: ${ref}`);
    if (!img) {
      await this.daemon.pullImage(ref, {
        ...(opts.platform ? { platform: opts.platform } : {}),
        signal: opts.signal,
        progress: (m) => {
          if (m.status && !m.progressDetail?.total) opts.output(`${m.id ? `${m.id}: ` : ''}${m.status}\n`);
        },
      });
      img = await this.store.resolve(ref);
    }
    const [config, manifest] = await Promise.all([this.store.configOf(img), this.store.manifestOf(img)]);
    return { id: img.id, config, layers: manifest.layers };
  }

  async run(req: RunStepRequest): Promise<NewLayerResult | undefined> {
    await this.ensureSnapshots(req.state);
    const containers = this.daemon.containers;
    const held = await this.cacheMounts.acquire(req.mounts);
    const states = await this.mountStates(req.mounts).catch((err: unknown) => {
      held.release();
      throw err;
    });
    let id: string | undefined;
    try {
      const hostConfig = this.hostConfig(req, new Map([...held.paths, ...states.paths]));
      const imageConfig = { ...(req.state.config.config ?? {}) };
      delete imageConfig.Healthcheck;
      delete imageConfig.Entrypoint;
      ({ Id: id } = await containers.create(
        { ...req.config, Entrypoint: [], HostConfig: hostConfig, Labels: {} },
        undefined,
        { parentChain: topChain(req.state), imageConfig, ...(req.state.baseImage ? { imageId: req.state.baseImage } : {}) },
      ));
      req.started?.(id);
      const exitCode = await this.runToExit(id, req);
      if (exitCode !== 0) throw new StepFailed((req.config.Cmd ?? []).join(' '), exitCode);
      return await this.commitSnapshot(req.state, containers.find(id).SnapshotKey);
    } finally {
      held.release();
      if (id) await containers.remove(id, { force: true, volumes: true }).catch(() => undefined);
      await states.release();
    }
  }

  /**
   * RUN --mount=from=<stage|image>: that filesystem on a throw-away snapshot (writes are
   * discarded, as BuildKit's are), bind-mounted from a temporary mount point.
   */
  private async mountStates(mounts: readonly StepMount[]): Promise<{ paths: Map<StepMount, string>; release: () => Promise<void> }> {
    const paths = new Map<StepMount, string>();
    const undo: Array<() => Promise<void>> = [];
    const release = async (): Promise<void> => {
      for (const u of undo.reverse()) await u().catch(() => undefined);
    };
    try {
      for (const m of mounts) {
        if (m.type !== 'state') continue;
        await this.ensureSnapshots(m.state);
        const key = `build-mnt-${randomBytes(8).toString('hex')}`;
        const snapshotMounts = await this.store.snapshots.prepare(key, topChain(m.state));
        undo.push(() => this.store.snapshots.remove(key));
        const { dir, release: unmountDir } = await mountTemp(snapshotMounts, { tmpRoot: this.tmpDir });
        undo.push(unmountDir);
        const { resolveInRoot } = await import('../services/root-access.js');
        const target = await resolveInRoot(dir, m.path);
        if (target.kind === 'missing') throw notFound(`mount source ${m.path} not found in the "from" filesystem`);
        paths.set(m, join(dir, target.path));
      }
    } catch (err) {
      await release();
      throw err;
    }
    return { paths, release };
  }

  async change(state: BuildState, fn: (fs: StepFs) => Promise<void>): Promise<NewLayerResult | undefined> {
    await this.ensureSnapshots(state);
    const key = `build-${randomBytes(8).toString('hex')}`;
    const mounts = await this.store.snapshots.prepare(key, topChain(state));
    try {
      await withTempMount(mounts, (rootfs) => fn(stepFs(rootfs)), { tmpRoot: this.tmpDir });
      return await this.commitSnapshot(state, key);
    } finally {
      await this.store.snapshots.remove(key).catch(() => undefined);
    }
  }

  async exportPath(state: BuildState, path: string): Promise<Readable | undefined> {
    await this.ensureSnapshots(state);
    const key = `build-view-${randomBytes(8).toString('hex')}`;
    const mounts = await this.store.snapshots.view(key, topChain(state));
    const { getArchive } = await import('../services/archive.js');
    let mounted: { dir: string; release: () => Promise<void> } | undefined;
    const release = async (): Promise<void> => {
      await mounted?.release().catch(() => undefined);
      await this.store.snapshots.remove(key).catch(() => undefined);
    };
    try {
      mounted = await mountTemp(mounts, { tmpRoot: this.tmpDir });
      const { tar } = await getArchive(mounted.dir, path);
      tar.once('close', () => void release());
      return tar;
    } catch (err) {
      await release();
      if (isBerthError(err, 'NotFound')) return undefined;
      throw err;
    }
  }

  async scratchDir(tar: Readable): Promise<{ path: string; release: () => Promise<void> }> {
    const { mkdtemp, rm } = await import('node:fs/promises');
    const { putArchive } = await import('../services/archive.js');
    const path = await mkdtemp(join(this.tmpDir, 'bind-'));
    const release = (): Promise<void> => rm(path, { recursive: true, force: true });
    try {
      await putArchive(path, '/', tar, PUT_AS_BUILDER);
    } catch (err) {
      await release();
      throw err;
    }
    return { path, release };
  }

  async commitImage(state: BuildState, refs: string[]): Promise<Digest> {
    const configBytes = Buffer.from(JSON.stringify(state.config));
    // A rebuild that changed nothing makes the image it made before: only the tags move.
    const existing = await this.store.resolve(digestOf(configBytes)).catch(() => undefined);
    if (existing) {
      for (const ref of refs) await this.store.tag(existing.id, ref);
      return existing.id;
    }
    await this.ensureSnapshots(state);
    const desc = await writeManifest(this.store, configBytes, state.layers, this.lease);
    const img = await this.store.addImage(desc, { refs });
    return img.id;
  }

  /** The committed layer snapshots of a state (a cached state's may have been collected). */
  private async ensureSnapshots(state: BuildState): Promise<void> {
    if (state.layers.length === 0) return;
    const manifest: Manifest = {
      schemaVersion: 2, mediaType: MediaTypes.ociManifest,
      config: { mediaType: MediaTypes.ociConfig, digest: `sha256:${'0'.repeat(64)}`, size: 0 }, layers: state.layers,
    };
    await unpackImage(this.store.content, this.store.snapshots, manifest, state.config.rootfs.diff_ids as Digest[]);
  }

  /** The active snapshot `key` as a layer on `state`, committed under the new chain ID; undefined when unchanged. */
  private async commitSnapshot(state: BuildState, key: string): Promise<NewLayerResult | undefined> {
    const layer = await storeSnapshotDiff(this.store, key, this.lease);
    if (layer.diffId === EMPTY_LAYER_DIFF_ID) return undefined;
    const chain = chainIds([...(state.config.rootfs.diff_ids as Digest[]), layer.diffId]).at(-1)!;
    const size = layer.descriptor.size;
    await this.store.snapshots.commit(chain, key, { labels: { [LAYER_SIZE_LABEL]: String(size) } }).catch((err: unknown) => {
      // The same layer made before (a rebuild with --no-cache): that snapshot is as good.
      if (!isBerthError(err, 'Conflict')) throw err;
    });
    return { ...layer, size };
  }

  private async runToExit(id: string, req: RunStepRequest): Promise<number> {
    const containers = this.daemon.containers;
    const controller = new AbortController();
    const abort = (): void => controller.abort();
    req.signal.addEventListener('abort', abort);
    try {
      await containers.start(id);
      const waited = containers.wait(id, 'not-running', controller.signal);
      const logs = await this.daemon.containerLogs(id, { follow: true, stdout: true, stderr: true, since: 0, until: 0, timestamps: false, signal: controller.signal });
      for await (const entry of logs.entries) req.output(entry.line);
      if (req.signal.aborted) {
        await containers.remove(id, { force: true, volumes: true }).catch(() => undefined);
        throw new Error('the build was cancelled');
      }
      return (await waited).StatusCode;
    } finally {
      req.signal.removeEventListener('abort', abort);
    }
  }

  private hostConfig(req: RunStepRequest, sources: Map<StepMount, string>): HostConfig {
    const mounts: MountSpec[] = [];
    const tmpfs: Record<string, string> = {};
    for (const m of req.mounts) {
      if (m.type === 'tmpfs') tmpfs[m.target] = m.size ? `size=${m.size}` : '';
      else if (m.type === 'bind' || m.type === 'context') mounts.push({ Type: 'bind', Source: m.type === 'bind' ? m.source : m.path, Target: m.target, ReadOnly: m.readonly });
      else mounts.push({ Type: 'bind', Source: sources.get(m)!, Target: m.target, ReadOnly: m.readonly });
    }
    const network = req.network === 'default' ? undefined : req.network;
    return { ...(network ? { NetworkMode: network } : {}), Mounts: mounts, Tmpfs: tmpfs, AutoRemove: false };
  }


}

function stepFs(rootfs: string): StepFs {
  return {
    kind: (path) => kindInRoot(rootfs, path),
    async owner(user) {
      const { resolveContainerUser } = await import('../services/container-user.js');
      const o = await resolveContainerUser(rootfs, user);
      return { uid: o.uid, gid: o.gid };
    },
    async extract(tar, at = '/') {
      const { putArchive } = await import('../services/archive.js');
      await putArchive(rootfs, at, tar, PUT_AS_BUILDER);
    },
    async mkdirp(path, owner) {
      const { tarBuffer } = await import('../../images/tar/writer.js');
      const { Readable } = await import('node:stream');
      const { putArchive } = await import('../services/archive.js');
      const parts = path.split('/').filter(Boolean);
      const missing: string[] = [];
      for (let i = 1; i <= parts.length; i++) {
        const p = parts.slice(0, i).join('/');
        if ((await kindInRoot(rootfs, `/${p}`)) === 'missing') missing.push(p);
      }
      if (missing.length === 0) return;
      const tar = tarBuffer(missing.map((name) => ({ name: `${name}/`, type: 'dir' as const, mode: 0o755, uid: owner?.uid ?? 0, gid: owner?.gid ?? 0, mtimeSec: Math.floor(Date.now() / 1000) })));
      await putArchive(rootfs, '/', Readable.from([tar]), PUT_AS_BUILDER);
    },
  };
}

/**
 * What path is in the step's root. The root is this build's own snapshot, which nothing else
 * changes meanwhile: when no component of the path is a symlink, lstat from the host sees what
 * the container would, and costs no process. A symlink on the way is resolved inside the root
 * by berth-unpack (root-access.ts), as for `docker cp`.
 */
async function kindInRoot(rootfs: string, path: string): Promise<'dir' | 'file' | 'missing'> {
  const { lstat } = await import('node:fs/promises');
  const parts = path.split('/').filter((p) => p && p !== '.');
  if (!parts.includes('..')) {
    let st: import('node:fs').Stats | undefined;
    for (let i = 1; i <= parts.length; i++) {
      st = await lstat(join(rootfs, ...parts.slice(0, i))).catch(() => undefined);
      if (!st) return 'missing';
      if (st.isSymbolicLink()) break;
      if (i < parts.length && !st.isDirectory()) return 'missing';
      if (i === parts.length) return st.isDirectory() ? 'dir' : 'file';
    }
    if (parts.length === 0) return 'dir';
  }
  const { resolveInRoot } = await import('../services/root-access.js');
  const r = await resolveInRoot(rootfs, path);
  return r.kind === 'missing' ? 'missing' : r.kind === 'dir' ? 'dir' : 'file';
}
