// The build cache: a step's key → the state it produced. A key is a hash chain over the
// base image's ID and every step's full description (its instruction as expanded, the build
// args it sees, and for COPY/ADD the checksum of its sources), so two steps share a result
// only when everything that went into them is the same — no field of the config is left
// out of the comparison (the classic builder's HEALTHCHECK/ONBUILD cache poisoning came
// from such a gap).
//
// Each entry keeps the state's config (a blob) and its layer descriptors; the image store's
// garbage collection is told to keep those blobs and the layers' snapshots. The index is one
// JSON file under <data-root>/builder, rewritten atomically.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chainIds, parseImageConfig, type Descriptor } from '../oci/image-spec.js';
import type { ImageStore } from '../images/store.js';
import { writeFileAtomicAsync } from '../util/atomic.js';
import { isDigest, type Digest } from '../util/digest.js';
import { errnoCode, internal } from '../util/errors.js';
import type { BuildState } from './state.js';

const MAX_CONFIG = 8 * 1024 * 1024;
const KEY = /^[0-9a-f]{64}$/;

export interface CacheEntry {
  /** The step's cache key (hex sha256). */
  id: string;
  parent?: string;
  config: Digest;
  layers: Descriptor[];
  /** The snapshot (chain ID) of the state's filesystem. */
  chain?: string;
  baseImage?: Digest;
  /** What the step was, e.g. `RUN /bin/sh -c make` (for `docker system df -v`). */
  description: string;
  /** Bytes of the layer this step added (0 for a metadata step). */
  size: number;
  created: string;
  lastUsed: string;
  usageCount: number;
}

interface IndexFile {
  version: 1;
  entries: Record<string, CacheEntry>;
}

/** The key of a step after `parent` (a key, or the base image's ID for a stage's first step). */
export function stepKey(parent: string, description: unknown): string {
  return createHash('sha256').update(parent).update('\0').update(JSON.stringify(description)).digest('hex');
}

export class BuildCache {
  private readonly file: string;
  private entries: Record<string, CacheEntry>;
  private writing: Promise<void> = Promise.resolve();
  private dirty = false;
  /** Layer blobs seen present: a cached build checks each base layer once, not at every step. */
  private readonly present = new Set<string>();

  constructor(private readonly store: ImageStore, dir: string) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    this.file = join(dir, 'cache.json');
    this.entries = readIndex(this.file);
    store.keep = async () => this.kept();
  }

  /** The state a step with this key produced before, if its content is still there. */
  async get(key: string): Promise<BuildState | undefined> {
    const e = this.entries[key];
    if (!e) return undefined;
    try {
      for (const l of e.layers) {
        if (this.present.has(l.digest)) continue;
        if (!(await this.store.content.has(l.digest))) throw new Error(`layer ${l.digest} is gone`);
        this.present.add(l.digest);
      }
      const bytes = await this.store.content.readBlob(e.config, MAX_CONFIG);
      parseImageConfig(bytes);
      // The config as stored, field order and all: an image made from it gets the same ID.
      const config = JSON.parse(bytes.toString('utf8')) as BuildState['config'];
      // Usage is written with the next put or flush, not per hit: a cached build stays cheap.
      e.lastUsed = new Date().toISOString();
      e.usageCount++;
      this.dirty = true;
      return { config, layers: e.layers, ...(e.baseImage ? { baseImage: e.baseImage } : {}) };
    } catch {
      delete this.entries[key];
      this.persist();
      return undefined;
    }
  }

  /** The config digest of an entry (what the classic builder shows as the step's image ID). */
  configOf(key: string): Digest | undefined {
    return this.entries[key]?.config;
  }

  /** Records what the step `key` produced; the state's config digest. Its layers must already be in the content store. */
  async put(key: string, parent: string | undefined, state: BuildState, description: string, size: number): Promise<Digest> {
    const config = await this.store.content.writeBlob(Buffer.from(JSON.stringify(state.config)));
    const now = new Date().toISOString();
    this.entries[key] = {
      id: key, ...(parent && KEY.test(parent) ? { parent } : {}), config, layers: state.layers,
      ...(state.config.rootfs.diff_ids.length ? { chain: chainIds(state.config.rootfs.diff_ids as Digest[]).at(-1)! } : {}),
      ...(state.baseImage ? { baseImage: state.baseImage } : {}), description, size, created: now, lastUsed: now, usageCount: 0,
    };
    await this.persist();
    return config;
  }

  list(): CacheEntry[] {
    return Object.values(this.entries);
  }

  /**
   * Forget entries (all, or those `select` picks), then let the image store collect what
   * nothing needs any more. Returns the removed entries' IDs and the bytes their layers held.
   */
  async prune(select: (e: CacheEntry) => boolean = () => true): Promise<{ deleted: string[]; bytes: number }> {
    const gone = this.list().filter(select);
    for (const e of gone) delete this.entries[e.id];
    this.present.clear();
    await this.persist();
    await this.store.collectGarbage();
    return { deleted: gone.map((e) => e.id), bytes: gone.reduce((n, e) => n + e.size, 0) };
  }

  /** Writes what changed since the last write (usage counts), and waits for it. */
  flush(): Promise<void> {
    return this.dirty ? this.persist() : this.writing;
  }

  /** A layer snapshot keeps its parents (they have a child), so each entry's top chain is enough. */
  private kept(): { blobs: string[]; chains: string[] } {
    const blobs: string[] = [];
    const chains: string[] = [];
    for (const e of this.list()) {
      blobs.push(e.config, ...e.layers.map((l) => l.digest));
      if (e.chain) chains.push(e.chain);
    }
    return { blobs, chains };
  }

  private persist(): Promise<void> {
    this.dirty = false;
    const text = JSON.stringify({ version: 1, entries: this.entries } satisfies IndexFile);
    // A failed write is reported to its caller, and must not make every later write fail too.
    this.writing = this.writing.catch(() => undefined).then(() => writeFileAtomicAsync(this.file, text, 0o600));
    return this.writing;
  }
}

function readIndex(file: string): Record<string, CacheEntry> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return {};
    throw internal(`reading the build cache index ${file}: ${(err as Error).message}`, err);
  }
  try {
    const parsed = JSON.parse(text) as Partial<IndexFile>;
    const out: Record<string, CacheEntry> = {};
    for (const [k, e] of Object.entries(parsed.entries ?? {})) {
      if (KEY.test(k) && e && isDigest(e.config) && Array.isArray(e.layers)) out[k] = e;
    }
    return out;
  } catch {
    // A damaged index only costs cache hits; the next write replaces it.
    return {};
  }
}
