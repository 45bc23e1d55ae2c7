// `docker commit` and `docker import` as dockerd builds them (daemon/commit.go,
// daemon/images/image_commit.go, image_import.go): the config the user gave (or the
// container's) with --change applied, completed from the container's config; history
// "created by" the container's command; an unchanged container adds an empty layer entry
// instead of a layer.
import { randomBytes } from 'node:crypto';
import { createImage, storeLayer, type NewLayer } from '../../images/create.js';
import { applyChanges } from '../../images/changes.js';
import { diffLayer, type DiffSource } from '../../images/layer/diff.js';
import { normalizedTag, type ImageRecord, type ImageStore } from '../../images/store.js';
import { hostPlatform, parsePlatform, type ContainerConfig as ImageContainerConfig, type HealthConfig, type HistoryEntry, type ImageConfig } from '../../oci/image-spec.js';
import type { ContainerConfig } from '../../oci/engine-api.js';
import { withTempMount } from '../../snapshots/mount.js';
import { writableDir } from '../../snapshots/snapshotter.js';
import { invalidArgument } from '../../util/errors.js';
import { parseReference } from '../../images/reference.js';

/** The diff ID of a tar with nothing in it (1024 zero bytes): Docker's "empty layer". */
export const EMPTY_LAYER_DIFF_ID = 'sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef';

export interface CommitInput {
  /** The container's active snapshot (made from the top layer of baseImage). */
  snapshotKey: string;
  baseImage: ImageRecord | undefined;
  /** The container's own Config. */
  containerConfig: ContainerConfig;
  containerId: string;
  repo?: string;
  tag?: string;
  comment?: string;
  author?: string;
  changes: string[];
  /** The request body's config; absent: the container's. */
  config?: ContainerConfig;
}

/** httputils.RepoTagReference: repo[:tag] normalised (default tag latest), or undefined without a repo. */
export function repoTagReference(repo: string | undefined, tag: string | undefined, what: 'commit' | 'tag' | 'import'): string | undefined {
  if (!repo) return undefined;
  if (parseReference(repo).digest !== undefined) throw invalidArgument(`cannot ${what} to digest reference`);
  return normalizedTag(tag ? `${repo}:${tag}` : repo);
}

/** An Engine API config as an image config: nulls dropped (the image config has none). */
export function toImageConfig(config: ContainerConfig): ImageContainerConfig {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(config)) if (v !== null && v !== undefined) out[k] = v;
  return out as ImageContainerConfig;
}

/** dockerd's merge(): what the user's config leaves empty comes from the container's. */
export function mergeConfig(user: ImageContainerConfig, container: ImageContainerConfig): ImageContainerConfig {
  const c: ImageContainerConfig = structuredClone(user);
  if (!c.User && container.User) c.User = container.User;
  if (container.ExposedPorts) c.ExposedPorts = { ...container.ExposedPorts, ...(c.ExposedPorts ?? {}) };
  if (!c.Env?.length) {
    if (container.Env) c.Env = [...container.Env];
  } else {
    const keys = new Set(c.Env.map((e) => e.split('=')[0]));
    for (const e of container.Env ?? []) if (!keys.has(e.split('=')[0])) c.Env.push(e);
  }
  c.Labels = { ...(container.Labels ?? {}), ...(c.Labels ?? {}) };
  if (!c.Entrypoint?.length) {
    if (!c.Cmd?.length && container.Cmd) c.Cmd = container.Cmd;
    if (c.Entrypoint === undefined && container.Entrypoint) c.Entrypoint = container.Entrypoint;
  }
  if (container.Healthcheck) c.Healthcheck = mergeHealthcheck(c.Healthcheck, container.Healthcheck);
  if (!c.WorkingDir && container.WorkingDir) c.WorkingDir = container.WorkingDir;
  if (container.Volumes) c.Volumes = { ...(c.Volumes ?? {}), ...container.Volumes };
  if (!c.StopSignal && container.StopSignal) c.StopSignal = container.StopSignal;
  return c;
}

/** Each field the user's healthcheck leaves empty (or zero) comes from the container's. */
function mergeHealthcheck(user: HealthConfig | undefined, container: HealthConfig): HealthConfig {
  if (!user) return container;
  const h: HealthConfig = { ...user };
  if (!h.Test?.length && container.Test) h.Test = container.Test;
  for (const k of ['Interval', 'Timeout', 'StartPeriod', 'StartInterval', 'Retries'] as const) {
    if (!h[k] && container[k]) h[k] = container[k];
  }
  return h;
}

/** The changes in snapshot `key` against its parent, as a layer in the content store. */
export async function storeSnapshotDiff(store: ImageStore, key: string, lease: string): Promise<NewLayer> {
  const target = writableDir(await store.snapshots.mounts(key));
  const save = (src: DiffSource): Promise<NewLayer> => storeLayer(store, diffLayer(src), lease);
  if (target.style === 'overlay') return save({ style: 'overlay', upper: target.dir });
  // A native snapshot is a full copy: compare it with a view of its parent.
  const parent = (await store.snapshots.stat(key)).parent;
  const viewKey = `commit-view-${randomBytes(6).toString('hex')}`;
  const view = await store.snapshots.view(viewKey, parent);
  try {
    return await withTempMount(view, (lower) => save({ style: 'native', lower, upper: target.dir }));
  } finally {
    await store.snapshots.remove(viewKey);
  }
}

export async function commitContainer(store: ImageStore, input: CommitInput): Promise<ImageRecord> {
  const ref = repoTagReference(input.repo, input.tag, 'commit');
  const containerConfig = toImageConfig(input.containerConfig);
  const config = mergeConfig(applyChanges(toImageConfig(input.config ?? input.containerConfig), input.changes), containerConfig);
  const base = input.baseImage ? await store.configOf(input.baseImage) : undefined;
  const baseLayers = input.baseImage ? (await store.manifestOf(input.baseImage)).layers : [];
  const history: HistoryEntry = { created_by: (containerConfig.Cmd ?? []).join(' ') };
  if (input.author) history.author = input.author;
  if (input.comment) history.comment = input.comment;
  return store.withLease(async (lease) => {
    const layer = await storeSnapshotDiff(store, input.snapshotKey, lease);
    return createImage(
      store,
      {
        ...(base ? { base } : {}),
        baseLayers,
        ...(layer.diffId === EMPTY_LAYER_DIFF_ID ? {} : { layer }),
        config,
        history,
        ...(input.author !== undefined ? { author: input.author } : {}),
        refs: ref ? [ref] : [],
      },
      lease,
    );
  });
}

export interface ImportInput {
  repo?: string;
  tag?: string;
  message?: string;
  /** "os/arch[/variant]" the image is for (default: this host's). */
  platform?: string;
  changes: string[];
}

/** A rootfs tarball (plain, gzip or zstd) as a one-layer image; history "Imported from -" unless a message is given. */
export async function importTarball(store: ImageStore, tarball: AsyncIterable<Buffer>, input: ImportInput): Promise<ImageRecord> {
  const ref = repoTagReference(input.repo, input.tag, 'import'); // a bad reference fails before any work
  const config = applyChanges(undefined, input.changes);
  const comment = input.message || 'Imported from -';
  const platform = input.platform ? parsePlatform(input.platform) : hostPlatform();
  const base: ImageConfig = { architecture: platform.architecture, os: platform.os, ...(platform.variant ? { variant: platform.variant } : {}), rootfs: { type: 'layers', diff_ids: [] } };
  return store.withLease(async (lease) =>
    createImage(store, { base, layer: await storeLayer(store, tarball, lease), config, history: { comment }, refs: ref ? [ref] : [] }, lease),
  );
}
