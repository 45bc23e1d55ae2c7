// The image half of berthd: the Backend's image operations over the image store, the
// registry client and the archive code, with dockerd's events, errors and progress.
// The daemon wires one ImageService per data root; the container manager asks it for
// commits (it pauses the container and hands over the snapshot key).
import { Readable } from 'node:stream';
import { imageDiskUsage, imageHistory, inspectImage, listImages } from '../../images/list.js';
import { familiarName, familiarString, parseReference } from '../../images/reference.js';
import type { ImageRecord, ImageStore } from '../../images/store.js';
import type {
  Filters, ImageDeleteResponseItem, ImageHistoryItem, ImageInspect, ImagePruneResponse, ImageSummary,
} from '../../oci/engine-api.js';
import type { ResolverOptions } from '../../registry/client/session.js';
import { invalidArgument } from '../../util/errors.js';
import type { ImportOptions, ImportSource, ProgressSink, RegistryAuth } from '../backend.js';
import { progressMessage, shortId } from '../../registry/client/progress.js';
import { commitContainer, importTarball, repoTagReference, type CommitInput } from './commit.js';
import { deleteImage, pruneImages, type DeleteContext, type InUse } from './delete.js';
import { ImageEvents, type EmitImageEvent } from './events.js';
import { LIST_FILTERS, checkFilterNames, danglingFilter, untilFilter } from './filters.js';

export type { CommitInput } from './commit.js';
export type { ImageEvent } from './events.js';

/** Where registries are and how to reach them: daemon.json's insecure-registries, mirrors, certs.d. */
export type RegistryOptions = Omit<ResolverOptions, 'credentials' | 'authConfigPath'>;

export interface ImageServiceOptions {
  store: ImageStore;
  registry?: RegistryOptions;
  emit: EmitImageEvent;
  /** A container using the image — a running one when there is one — or undefined. */
  inUse: InUse;
  /** How many containers (running or not) use the image. */
  containerCount(imageId: string): number;
}

export interface ListImagesOptions {
  all: boolean;
  filters: Filters;
  digests: boolean;
  /** Compute SharedSize (the API's shared-size=1); otherwise -1 as dockerd. */
  sharedSize?: boolean;
  /** Fill Containers from containerCount (system df); otherwise -1 as dockerd. */
  containerCount?: boolean;
}

export class ImageService {
  readonly store: ImageStore;
  private readonly registry: ResolverOptions;
  private readonly events: ImageEvents;
  private readonly deletes: DeleteContext;
  private readonly containerCount: (imageId: string) => number;

  constructor(opts: ImageServiceOptions) {
    this.store = opts.store;
    // dockerd reads no credentials of its own: only what a request carries (X-Registry-Auth).
    this.registry = { ...(opts.registry ?? {}) };
    this.events = new ImageEvents(opts.store, opts.emit);
    this.deletes = { store: opts.store, events: this.events, inUse: opts.inUse };
    this.containerCount = opts.containerCount;
  }

  // ---- reading ----

  async listImages(opts: ListImagesOptions): Promise<ImageSummary[]> {
    checkFilterNames(opts.filters, LIST_FILTERS);
    const dangling = danglingFilter(opts.filters);
    const until = untilFilter(opts.filters);
    const { until: _until, dangling: _dangling, ...rest } = opts.filters;
    // list.ts reads only "true": hand it the value as dockerd understood it.
    let images: ImageSummary[] = await listImages(this.store, dangling === undefined ? rest : { ...rest, dangling: [String(dangling)] });
    if (until !== undefined) images = images.filter((img) => img.Created * 1000 <= until);
    if (opts.sharedSize || opts.containerCount) {
      const usage = new Map((await imageDiskUsage(this.store, this.containerCount)).Images.map((i) => [i.Id, i]));
      for (const img of images) {
        if (opts.sharedSize) img.SharedSize = usage.get(img.Id)?.SharedSize ?? -1;
        if (opts.containerCount) img.Containers = usage.get(img.Id)?.Containers ?? -1;
      }
    }
    return images;
  }

  /** The image half of `docker system df`: per image Size, SharedSize and Containers; LayersSize counts shared layers once. */
  async diskUsage(): Promise<{ LayersSize: number; Images: ImageSummary[] }> {
    return imageDiskUsage(this.store, this.containerCount);
  }

  async inspectImage(nameOrId: string): Promise<ImageInspect> {
    return inspectImage(this.store, nameOrId);
  }

  async imageHistory(nameOrId: string): Promise<ImageHistoryItem[]> {
    return imageHistory(this.store, nameOrId);
  }

  /** For the container manager: the record of the image a container is created from. */
  resolve(nameOrId: string): Promise<ImageRecord> {
    return this.store.resolve(nameOrId);
  }

  // ---- references ----

  async tagImage(nameOrId: string, repo: string, tag: string | undefined): Promise<void> {
    const ref = repoTagReference(repo, tag, 'tag');
    if (ref === undefined) throw invalidArgument('repository name must have at least one component');
    if (familiarName(parseReference(ref)) === 'sha256') throw invalidArgument('refusing to create an ambiguous tag using digest algorithm as name');
    const img = await this.store.tag(nameOrId, ref);
    await this.events.log('tag', img.id, familiarString(parseReference(ref)));
  }

  /** `opts.noprune` concerns parent images, which berth does not keep. */
  removeImage(nameOrId: string, opts: { force: boolean; noprune: boolean }): Promise<ImageDeleteResponseItem[]> {
    return deleteImage(this.deletes, nameOrId, opts.force);
  }

  pruneImages(filters: Filters): Promise<ImagePruneResponse> {
    return pruneImages(this.deletes, filters);
  }

  // ---- registries ----

  // The registry client and the archive code load on first use: an idle daemon stays small.
  async pullImage(ref: string, opts: { platform?: string; auth?: RegistryAuth; progress: ProgressSink; signal: AbortSignal }): Promise<void> {
    const { pullImage } = await import('./pull.js');
    return pullImage(this.store, this.registry, this.events, ref, opts);
  }

  /** `ref` with a tag pushes that tag; without one, every local tag of the repository. */
  async pushImage(ref: string, opts: { auth?: RegistryAuth; progress: ProgressSink; signal: AbortSignal }): Promise<void> {
    const { pushImage } = await import('./push.js');
    return pushImage(this.store, this.registry, this.events, ref, opts);
  }

  // ---- archives ----

  /** `docker import`: the new image's ID, also sent as the progress stream's last status. */
  async importImage(source: ImportSource, opts: ImportOptions, progress: ProgressSink): Promise<string> {
    const tarball = source instanceof URL ? await (await import('./import-url.js')).openImportUrl(source, progress, opts.signal) : source;
    const img = await importTarball(this.store, tarball, {
      ...(opts.repo !== undefined ? { repo: opts.repo } : {}),
      ...(opts.tag !== undefined ? { tag: opts.tag } : {}),
      ...(opts.message !== undefined ? { message: opts.message } : {}),
      ...(opts.platform ? { platform: opts.platform } : {}),
      changes: opts.changes,
    });
    const ref = repoTagReference(opts.repo, opts.tag, 'import');
    if (ref) await this.events.log('tag', img.id, familiarString(parseReference(ref)));
    await this.events.log('import', img.id, img.id);
    progress({ status: img.id });
    return img.id;
  }

  /**
   * The archive of the named images. Every name is resolved and the first bytes are made
   * before this returns, so an unknown image is an error (404), not a broken stream.
   */
  async saveImages(names: string[]): Promise<Readable> {
    if (names.length === 0) throw invalidArgument('no image names given to save');
    const ids = [...new Set(await Promise.all(names.map(async (n) => (await this.store.resolve(n)).id)))];
    const { saveImages } = await import('../../images/archive/save.js');
    const chunks = saveImages(this.store, names);
    const first = await chunks.next();
    const events = this.events;
    async function* all(): AsyncGenerator<Buffer> {
      if (first.done) return;
      yield first.value;
      yield* chunks;
      for (const id of ids) await events.log('save', id, id);
    }
    const stream = Readable.from(all(), { objectMode: false });
    // A client gone before reading everything: let the archive writer clean its scratch files.
    stream.once('close', () => void chunks.return(undefined).catch(() => undefined));
    return stream;
  }

  /**
   * `docker load`: unless quiet, "Loading layer" progress for each layer unpacked (its diff
   * ID's short form, as dockerd); then each line of the result ("Loaded image: busybox:latest",
   * "Loaded image ID: sha256:…") as dockerd writes it, a {"stream": line} message.
   */
  async loadImages(tar: Readable, progress: ProgressSink, quiet: boolean): Promise<void> {
    const { loadImages } = await import('../../images/archive/load.js');
    const onLayer = quiet ? undefined : (l: { diffId: string; current: number; total: number }): void => progress(progressMessage(shortId(l.diffId), 'Loading layer', l.current, l.total));
    const result = await loadImages(this.store, tar, { onLayer });
    for (const img of result.images) await this.events.log('load', img.id, img.id);
    for (const line of result.messages) progress({ stream: `${line}\n` });
  }

  /** The image side of `docker commit`: the container manager has paused the container. */
  async commit(input: CommitInput): Promise<{ Id: string }> {
    const img = await commitContainer(this.store, input);
    const ref = repoTagReference(input.repo, input.tag, 'commit');
    if (ref) await this.events.log('tag', img.id, familiarString(parseReference(ref)));
    return { Id: img.id };
  }
}
