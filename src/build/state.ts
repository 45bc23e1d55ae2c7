// What a build stage has made so far: an image config (with its history and diff IDs) and
// the layers behind it. Each step turns one state into the next; the final state of the
// target stage becomes the image.
import { chainIds, hostPlatform, type ContainerConfig, type Descriptor, type HistoryEntry, type ImageConfig } from '../oci/image-spec.js';
import type { Digest } from '../util/digest.js';

export interface BuildState {
  config: ImageConfig;
  layers: Descriptor[];
  /** The image the stage started from (its ID), undefined for scratch. */
  baseImage?: Digest;
}

/** The empty state of `FROM scratch`. */
export function scratchState(platform = hostPlatform()): BuildState {
  const config: ImageConfig = {
    architecture: platform.architecture,
    os: platform.os,
    ...(platform.variant ? { variant: platform.variant } : {}),
    config: { Env: [`PATH=${DEFAULT_PATH}`] },
    rootfs: { type: 'layers', diff_ids: [] },
    history: [],
  };
  return { config, layers: [] };
}

/** Docker's default PATH for a stage whose base sets none (and for scratch). */
export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** The snapshot chain the state's filesystem is, or undefined when it has no layers. */
export function topChain(state: BuildState): Digest | undefined {
  return chainIds(state.config.rootfs.diff_ids as Digest[]).at(-1);
}

/** A copy with `edit` applied to the container config (Env, Cmd, …) and one empty-layer history entry. */
export function withConfig(state: BuildState, createdBy: string, edit: (c: ContainerConfig) => void): BuildState {
  const c: ContainerConfig = structuredClone(state.config.config ?? {});
  edit(c);
  return withHistory({ ...state, config: { ...state.config, config: c } }, { created_by: createdBy, empty_layer: true });
}

/** A copy with one more layer (or, when `layer` is undefined, an empty-layer entry). */
export function withLayer(state: BuildState, createdBy: string, layer: { descriptor: Descriptor; diffId: Digest } | undefined): BuildState {
  if (!layer) return withHistory(state, { created_by: createdBy, empty_layer: true });
  const config: ImageConfig = {
    ...state.config,
    rootfs: { type: 'layers', diff_ids: [...state.config.rootfs.diff_ids, layer.diffId] },
  };
  return withHistory({ ...state, config, layers: [...state.layers, layer.descriptor] }, { created_by: createdBy });
}

function withHistory(state: BuildState, entry: HistoryEntry): BuildState {
  const created = new Date().toISOString();
  const history = [...(state.config.history ?? []), { created, ...entry }];
  return { ...state, config: { ...state.config, created, history } };
}

/** The value of `name` in an Env list, or undefined. */
export function envValue(env: readonly string[] | undefined, name: string): string | undefined {
  for (let i = (env?.length ?? 0) - 1; i >= 0; i--) {
    const e = env![i]!;
    const eq = e.indexOf('=');
    if ((eq < 0 ? e : e.slice(0, eq)) === name) return eq < 0 ? '' : e.slice(eq + 1);
  }
  return undefined;
}

/** Env with name set to value (replacing an earlier entry in place, as Docker does). */
export function setEnv(env: readonly string[] | undefined, name: string, value: string): string[] {
  const out = [...(env ?? [])];
  const i = out.findIndex((e) => e === name || e.startsWith(`${name}=`));
  if (i >= 0) out[i] = `${name}=${value}`;
  else out.push(`${name}=${value}`);
  return out;
}
