// --cache-from: an image whose history shows the same steps on the same base can stand in for
// them, as with the classic builder (a build on a fresh machine reusing an image pulled from a
// registry). A step matches when the image's next history entry was created by the same
// text — which for COPY/ADD holds the checksum of the sources, and for RUN the command and
// the build args it saw — and the image has the layer the entry says it made. Once a step
// misses, that image is out for the rest of the stage: its later layers sit on a filesystem
// this build no longer has.
import type { Descriptor, HistoryEntry, ImageConfig } from '../oci/image-spec.js';
import type { Digest } from '../util/digest.js';
import type { BuildState } from './state.js';
import type { NewLayerResult } from './worker.js';

export interface CacheSource {
  config: ImageConfig;
  layers: Descriptor[];
}

interface Cursor {
  source: CacheSource;
  /** Index of the next history entry and of the next layer. */
  entry: number;
  layer: number;
}

export class CacheFromMatcher {
  private cursors: Cursor[];

  constructor(sources: readonly CacheSource[], base: BuildState) {
    const baseHistory = base.config.history ?? [];
    const baseLayers = base.config.rootfs.diff_ids;
    this.cursors = sources
      .filter((s) => startsWith(s.config.history ?? [], baseHistory) && baseLayers.every((d, i) => s.config.rootfs.diff_ids[i] === d))
      .map((source) => ({ source, entry: baseHistory.length, layer: baseLayers.length }));
  }

  /** The layer (or none, for an empty-layer entry) of the first image whose next step is createdBy; moves every image past it. */
  take(createdBy: string): { layer: NewLayerResult | undefined } | undefined {
    for (const c of this.cursors) {
      const h = c.source.config.history?.[c.entry];
      if (h?.created_by !== createdBy) continue;
      if (h.empty_layer) {
        this.advance(createdBy, false);
        return { layer: undefined };
      }
      const descriptor = c.source.layers[c.layer];
      const diffId = c.source.config.rootfs.diff_ids[c.layer] as Digest | undefined;
      if (!descriptor || !diffId) continue;
      this.advance(createdBy, true);
      return { layer: { descriptor, diffId, size: descriptor.size } };
    }
    return undefined;
  }

  /** Keeps the images whose next step is createdBy, past it; the others are out. */
  advance(createdBy: string, madeLayer: boolean): void {
    this.cursors = this.cursors.filter((c) => {
      const h = c.source.config.history?.[c.entry];
      if (h?.created_by !== createdBy || Boolean(h.empty_layer) === madeLayer) return false;
      c.entry++;
      if (madeLayer) c.layer++;
      return true;
    });
  }

  /** A step ran: no image can stand in for the rest. */
  drop(): void {
    this.cursors = [];
  }
}

function startsWith(history: readonly HistoryEntry[], prefix: readonly HistoryEntry[]): boolean {
  return prefix.length <= history.length && prefix.every((h, i) => (h.created_by ?? '') === (history[i]!.created_by ?? '') && Boolean(h.empty_layer) === Boolean(history[i]!.empty_layer));
}
