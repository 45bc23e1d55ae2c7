// What the builder needs from the engine underneath it: base images, a container for each
// RUN, and a writable view of a state's filesystem for COPY/ADD/WORKDIR. The daemon
// implements it (src/daemon/build/worker.ts) with its containers, snapshots and archive code;
// the builder itself stays policy: instructions, cache keys, image configs.
import type { Readable } from 'node:stream';
import type { ContainerConfig, Descriptor, ImageConfig } from '../oci/image-spec.js';
import type { Digest } from '../util/digest.js';
import type { BuildState } from './state.js';

export interface BaseImage {
  id: Digest;
  config: ImageConfig;
  layers: Descriptor[];
}

export interface NewLayerResult {
  descriptor: Descriptor;
  diffId: Digest;
  /** Bytes of the layer's tar. */
  size: number;
}

/** A RUN --mount the worker sets up for the step's container. */
export type StepMount =
  | { type: 'bind'; target: string; source: string; readonly: boolean }
  | { type: 'tmpfs'; target: string; size?: number }
  /** A persistent directory shared between builds, by id (the worker locks it for `locked`). */
  | { type: 'cache'; target: string; id: string; sharing: 'shared' | 'private' | 'locked'; readonly: boolean; mode: number; uid: number; gid: number }
  /** A state's filesystem (another stage, an image, or the build context) mounted read-only or as a throw-away copy. */
  | { type: 'state'; target: string; state: BuildState; path: string; readonly: boolean }
  | { type: 'context'; target: string; path: string; readonly: boolean };

export interface RunStepRequest {
  state: BuildState;
  /** The container's config: Cmd (the full argv), Env, User, WorkingDir. */
  config: ContainerConfig;
  network: 'default' | 'none' | 'host';
  mounts: StepMount[];
  /** Live output of the process. */
  output: (chunk: Buffer) => void;
  /** Told the intermediate container's ID once it exists ("Running in …"). */
  started?: (containerId: string) => void;
  signal: AbortSignal;
}

/** A state's filesystem, writable, for one step; every path is resolved inside it. */
export interface StepFs {
  kind(path: string): Promise<'dir' | 'file' | 'missing'>;
  /** uid:gid of a `--chown` or USER value, names looked up in the state's /etc/passwd and /etc/group. */
  owner(user: string): Promise<{ uid: number; gid: number }>;
  /** Extracts a tar into directory `at` (default `/`: member names are then destinations without the leading slash). */
  extract(tar: Readable, at?: string): Promise<void>;
  /** mkdir -p, new directories owned by `owner` (default root). */
  mkdirp(path: string, owner?: { uid: number; gid: number }): Promise<void>;
}

export interface BuildWorker {
  /** A base image by reference, pulled when missing (the classic builder does; `pull` forces it). */
  baseImage(ref: string, opts: { pull: boolean; localOnly?: boolean; platform?: string; output: (line: string) => void; signal: AbortSignal }): Promise<BaseImage>;
  /** Runs the step's command in a container on the state; throws with the exit code on failure. */
  run(req: RunStepRequest): Promise<NewLayerResult | undefined>;
  /** Changes the state's filesystem through `fn`; the layer it made, or undefined when nothing changed. */
  change(state: BuildState, fn: (fs: StepFs) => Promise<void>): Promise<NewLayerResult | undefined>;
  /** A tar of `path` in the state's filesystem (docker cp semantics), for COPY --from. */
  exportPath(state: BuildState, path: string): Promise<Readable | undefined>;
  /** A temporary host directory holding the tar's files (RUN --mount=type=bind from the context). */
  scratchDir(tar: Readable): Promise<{ path: string; release: () => Promise<void> }>;
  /** Records the final state as an image with these references; its ID. */
  commitImage(state: BuildState, refs: string[]): Promise<Digest>;
}

/** Raised by BuildWorker.run when the command exits non-zero: Docker's message and code. */
export class StepFailed extends Error {
  constructor(readonly command: string, readonly exitCode: number) {
    super(`The command '${command}' returned a non-zero code: ${exitCode}`);
    this.name = 'StepFailed';
  }
}
