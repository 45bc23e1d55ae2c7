// Docker's shapes for images: the summary of `GET /images/json` (with its filters), the
// inspect document, and history.
import type { HistoryEntry, ImageConfig } from '../oci/image-spec.js';
import { LAYER_SIZE_LABEL } from './unpack.js';
import { invalidArgument } from '../util/errors.js';
import { familiarString, parseReference } from './reference.js';
import type { ImageRecord, ImageStore } from './store.js';
import { labelMatches } from '../util/labels.js';

export interface ImageSummary {
  Id: string;
  ParentId: string;
  RepoTags: string[];
  RepoDigests: string[];
  Created: number;
  Size: number;
  SharedSize: number;
  VirtualSize: number;
  Labels: Record<string, string>;
  Containers: number;
}

/** filters as the API passes them: {"dangling": ["true"], "label": ["a=b"], …} */
export type ImageFilters = Record<string, string[]>;

const KNOWN_FILTERS = new Set(['dangling', 'label', 'reference', 'before', 'since']);
const familiar = (ref: string): string => familiarString(parseReference(ref));
const createdSec = (c: ImageConfig, img: ImageRecord): number => Math.floor(Date.parse(c.created ?? img.added) / 1000) || 0;

/** Docker's reference filter: a glob over the familiar name, or name:tag. */
function globToRegExp(glob: string): RegExp {
  const re = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]');
  return new RegExp(`^${re}$`);
}

function referenceMatches(img: ImageRecord, patterns: string[]): boolean {
  return patterns.some((p) => {
    const re = globToRegExp(p);
    return img.repoTags.some((t) => {
      const f = familiar(t);
      return re.test(f) || re.test(f.slice(0, f.lastIndexOf(':')));
    });
  });
}

function labelsMatch(labels: Record<string, string>, wanted: string[]): boolean {
  return wanted.every((w) => labelMatches(labels, w));
}

/** berth keeps no intermediate images, so `docker images -a` and `docker images` list the same. */
export async function listImages(store: ImageStore, filters: ImageFilters = {}): Promise<ImageSummary[]> {
  for (const k of Object.keys(filters)) if (!KNOWN_FILTERS.has(k)) throw invalidArgument(`invalid filter '${k}'`);
  const bound = async (which: 'before' | 'since'): Promise<number | undefined> => {
    const v = filters[which]?.[0];
    if (v === undefined) return undefined;
    const img = await store.resolve(v);
    return createdSec(await store.configOf(img), img);
  };
  const before = await bound('before');
  const since = await bound('since');
  const out: ImageSummary[] = [];
  for (const img of store.list()) {
    const config = await store.configOf(img);
    const labels = config.config?.Labels ?? {};
    const created = createdSec(config, img);
    const dangling = img.repoTags.length === 0;
    if (filters.dangling?.[0] !== undefined && (filters.dangling[0] === 'true') !== dangling) continue;
    if (filters.reference && !referenceMatches(img, filters.reference)) continue;
    if (filters.label && !labelsMatch(labels, filters.label)) continue;
    if (before !== undefined && created >= before) continue;
    if (since !== undefined && created <= since) continue;
    out.push({
      Id: img.id,
      ParentId: '',
      RepoTags: img.repoTags.map(familiar),
      RepoDigests: img.repoDigests.map(familiar),
      Created: created,
      Size: img.size,
      SharedSize: -1,
      VirtualSize: img.size,
      Labels: labels,
      Containers: -1,
    });
  }
  return out.sort((a, b) => b.Created - a.Created || (a.Id < b.Id ? -1 : 1));
}

export async function inspectImage(store: ImageStore, nameOrId: string) {
  const img = await store.resolve(nameOrId);
  const config = await store.configOf(img);
  return {
    Id: img.id,
    RepoTags: img.repoTags.map(familiar),
    RepoDigests: img.repoDigests.map(familiar),
    Parent: '',
    Comment: config.history?.[config.history.length - 1]?.comment ?? '',
    Created: config.created ?? img.added,
    DockerVersion: '',
    Author: config.author ?? '',
    Config: inspectConfig(config.config),
    Architecture: config.architecture,
    ...(config.variant ? { Variant: config.variant } : {}),
    Os: config.os,
    Size: img.size,
    VirtualSize: img.size,
    GraphDriver: { Name: store.snapshots.name, Data: null },
    RootFS: { Type: 'layers', Layers: config.rootfs.diff_ids },
    Metadata: { LastTagTime: img.lastTagTime ?? '0001-01-01T00:00:00Z' },
    Descriptor: img.manifest,
  };
}

/**
 * The config as dockerd's image inspect shows it: a Go struct, so every field is there, empty
 * ones as "" / false / null (clients index fields such as .Config.OnBuild unconditionally).
 */
function inspectConfig(c: ImageConfig['config']): Record<string, unknown> {
  return {
    Hostname: '', Domainname: '', User: '', AttachStdin: false, AttachStdout: false, AttachStderr: false,
    Tty: false, OpenStdin: false, StdinOnce: false, Env: null, Cmd: null, Image: '', Volumes: null,
    WorkingDir: '', Entrypoint: null, OnBuild: null, Labels: null,
    ...(c ?? {}),
  };
}

export interface HistoryItem {
  Id: string;
  Created: number;
  CreatedBy: string;
  Tags: string[] | null;
  Size: number;
  Comment: string;
}

/** Newest first, as `docker history` shows; sizes are the layer blob sizes of non-empty entries. */
export async function imageHistory(store: ImageStore, nameOrId: string): Promise<HistoryItem[]> {
  const img = await store.resolve(nameOrId);
  const config = await store.configOf(img);
  const manifest = await store.manifestOf(img);
  const history: HistoryEntry[] = config.history?.length ? config.history : manifest.layers.map(() => ({}));
  let layer = 0;
  const items = history.map((h): HistoryItem => ({
    Id: '<missing>',
    Created: Math.floor(Date.parse(h.created ?? '') / 1000) || 0,
    CreatedBy: h.created_by ?? '',
    Tags: null,
    Size: h.empty_layer ? 0 : (manifest.layers[layer++]?.size ?? 0),
    Comment: h.comment ?? '',
  }));
  const top = items[items.length - 1];
  if (top) Object.assign(top, { Id: img.id, Tags: img.repoTags.length ? img.repoTags.map(familiar) : null });
  return items.reverse();
}

export interface ImageDiskUsage {
  /** Bytes of all layers on disk, each shared layer counted once. */
  LayersSize: number;
  Images: ImageSummary[];
}

/**
 * The image half of `docker system df`: per image its Size, SharedSize (bytes of layers it
 * shares with other images) and Containers (from containersOf, when the daemon knows).
 */
export async function imageDiskUsage(store: ImageStore, containersOf: (id: string) => number = () => 0): Promise<ImageDiskUsage> {
  const images = await listImages(store);
  const records = new Map(store.list().map((r) => [r.id as string, r]));
  const chainsOf = new Map<string, string[]>();
  const users = new Map<string, number>();
  const sizes = new Map<string, number>();
  for (const img of images) {
    const chains = await store.chainIdsOf(records.get(img.Id)!);
    chainsOf.set(img.Id, chains);
    for (const c of chains) {
      users.set(c, (users.get(c) ?? 0) + 1);
      if (!sizes.has(c)) sizes.set(c, Number((await store.snapshots.stat(c).catch(() => undefined))?.labels[LAYER_SIZE_LABEL] ?? 0));
    }
  }
  for (const img of images) {
    img.SharedSize = chainsOf.get(img.Id)!.reduce((n, c) => n + ((users.get(c) ?? 0) > 1 ? sizes.get(c)! : 0), 0);
    img.Containers = containersOf(img.Id);
  }
  return { LayersSize: [...sizes.values()].reduce((a, b) => a + b, 0), Images: images };
}
