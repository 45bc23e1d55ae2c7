// One stage of a build: FROM, the base image's ONBUILD triggers, then each instruction as a
// step. A step either changes the config (a history entry with empty_layer) or the
// filesystem (RUN, COPY, ADD, WORKDIR: a layer). Every step is looked up in the cache by a
// key chained from the previous one (cache.ts) before it is done.
import { posix } from 'node:path';
import type { BuildCache } from './cache.js';
import { stepKey } from './cache.js';
import type { BuildContext } from './context/index.js';
import {
  errorAtLoc, expandInstruction, expandWord, parseExposePorts, parseInstructions, PLATFORM_ARGS,
  type ArgInstruction, type CommandForm, type Dockerfile, type Instruction, type Lookup, type PlannedStage, type StagePlan, type StageRef,
} from './dockerfile/index.js';
import { DEFAULT_PATH, envValue, scratchState, setEnv, withConfig, withLayer, type BuildState } from './state.js';
import { copyStep, type CopyInstructionLike } from './copy.js';
import { runStep } from './run.js';
import { CacheFromMatcher, type CacheSource } from './cache-from.js';
import type { BuildWorker, NewLayerResult } from './worker.js';
import type { ContainerConfig } from '../oci/image-spec.js';
import { invalidArgument } from '../util/errors.js';
import { truncateId } from '../util/units.js';

export interface StageResult {
  state: BuildState;
  /** The stage's last cache key. */
  key: string;
}

export interface StageBuilderOptions {
  worker: BuildWorker;
  cache: BuildCache;
  context: BuildContext;
  df: Dockerfile;
  planned: PlannedStage;
  plan: StagePlan;
  buildArgs: Record<string, string>;
  /** Build args some ARG consumed (for the "not consumed" warning). */
  usedArgs: Set<string>;
  platformArgs: Record<string, string>;
  noCache: boolean;
  pull: boolean;
  platform?: string;
  network: 'default' | 'none' | 'host';
  tmpDir: string;
  signal: AbortSignal;
  stageResult: (index: number) => Promise<StageResult>;
  /** --cache-from images: their history and layers may stand in for steps (cache-from.ts). */
  cacheFrom: readonly CacheSource[];
  firstStep: number;
  totalSteps: number;
  print: (line: string) => void;
}

/** The classic builder's history prefix for a step that runs nothing. */
export const NOP = '/bin/sh -c #(nop) ';
const DEFAULT_SHELL = ['/bin/sh', '-c'];

export class StageBuilder {
  private state: BuildState = scratchState();
  private key = '';
  /** ARGs declared in this stage, with their values. */
  private readonly args = new Map<string, string>();
  private cmdSet = false;
  private step: number;
  private cacheFrom: CacheFromMatcher | undefined;

  constructor(private readonly o: StageBuilderOptions) {
    this.step = o.firstStep;
  }

  async build(): Promise<StageResult> {
    await this.from();
    for (const [i, inst] of this.o.planned.stage.instructions.entries()) {
      this.checkCancelled();
      this.announce(inst.original);
      await this.dispatch(inst, this.o.planned.sources.filter((s) => s.instruction === i));
    }
    return { state: this.state, key: this.key };
  }

  /** Variables for expansion: the stage's ENV first (ENV overrides ARG), then its ARGs. */
  readonly lookup: Lookup = (name) => envValue(this.state.config.config?.Env, name) ?? this.args.get(name);

  private get escape(): Dockerfile['directives']['escape'] {
    return this.o.df.directives.escape;
  }

  private announce(original: string): void {
    this.o.print(`Step ${this.step}/${this.o.totalSteps} : ${original.replace(/^(\S+)/, (k) => k.toUpperCase())}\n`);
    this.step++;
  }

  private checkCancelled(): void {
    if (this.o.signal.aborted) throw invalidArgument('the build was cancelled');
  }

  // ---- FROM ----

  private async from(): Promise<void> {
    const p = this.o.planned;
    this.announce(p.stage.from.original);
    if (p.base.kind === 'stage') {
      const base = await this.o.stageResult(p.base.stage);
      this.state = base.state;
      this.key = base.key;
    } else if (p.base.kind === 'scratch') {
      this.key = stepKey('scratch', { platform: this.o.platform ?? '' });
    } else {
      const img = await this.o.worker.baseImage(p.image, {
        pull: this.o.pull, signal: this.o.signal, output: (line) => this.o.print(line), ...(p.platform || this.o.platform ? { platform: p.platform || this.o.platform! } : {}),
      });
      const config = structuredClone(img.config);
      if (envValue(config.config?.Env, 'PATH') === undefined) config.config = { ...config.config, Env: setEnv(config.config?.Env, 'PATH', DEFAULT_PATH) };
      this.state = { config, layers: img.layers, baseImage: img.id };
      this.key = img.id;
    }
    this.o.print(` ---> ${truncateId(this.state.baseImage ?? this.key)}\n`);
    if (this.o.cacheFrom.length) this.cacheFrom = new CacheFromMatcher(this.o.cacheFrom, this.state);
    await this.onbuildTriggers();
  }

  /** The base image's ONBUILD triggers run first, then are cleared from the new image. */
  private async onbuildTriggers(): Promise<void> {
    const triggers = this.state.config.config?.OnBuild ?? [];
    if (triggers.length === 0 || this.o.planned.base.kind === 'stage') return;
    this.o.print(`# Executing ${triggers.length} build trigger${triggers.length > 1 ? 's' : ''}\n`);
    const config = { ...this.state.config.config };
    delete config.OnBuild;
    this.state = { ...this.state, config: { ...this.state.config, config } };
    for (const text of triggers) {
      const [inst] = parseInstructions(text, { file: 'ONBUILD' });
      if (!inst) continue;
      if (inst.kind === 'ONBUILD' || inst.kind === 'FROM' || inst.kind === 'MAINTAINER') throw invalidArgument(`${inst.kind} isn't allowed as an ONBUILD trigger`);
      if ((inst.kind === 'COPY' && inst.flags.from) || (inst.kind === 'RUN' && inst.flags.mount.some((m) => /(^|,)from=/.test(m)))) {
        throw invalidArgument(`ONBUILD ${inst.kind} from another stage or image is not supported by berth's builder`);
      }
      await this.dispatch(inst, []);
    }
  }

  // ---- dispatch ----

  /** sources: the instruction's COPY --from / RUN --mount from= references, as planned. */
  private async dispatch(raw: Instruction, sources: PlannedStage['sources']): Promise<void> {
    const inst = raw.kind === 'ARG' ? raw : expandInstruction(raw, this.lookup, this.escape);
    switch (inst.kind) {
      case 'ARG': return this.arg(inst);
      case 'ENV':
        return this.configStep(`ENV ${inst.pairs.map((p) => `${p.key}=${p.value}`).join(' ')}`, (c) => {
          for (const p of inst.pairs) c.Env = setEnv(c.Env, p.key, p.value);
        });
      case 'LABEL':
        return this.configStep(`LABEL ${inst.pairs.map((p) => `${p.key}=${p.value}`).join(' ')}`, (c) => {
          c.Labels = { ...(c.Labels ?? {}) };
          for (const p of inst.pairs) c.Labels[p.key] = p.value;
        });
      case 'MAINTAINER':
        return this.metaStep(`MAINTAINER ${inst.maintainer}`, (s) => withConfig({ ...s, config: { ...s.config, author: inst.maintainer } }, `${NOP} MAINTAINER ${inst.maintainer}`, () => undefined));
      case 'EXPOSE': {
        const ports = parseExposePorts(inst.ports);
        return this.configStep(`EXPOSE ${ports.join(' ')}`, (c) => {
          c.ExposedPorts = { ...(c.ExposedPorts ?? {}) };
          for (const p of ports) c.ExposedPorts[p] = {};
        });
      }
      case 'VOLUME':
        if (inst.volumes.some((v) => v.trim() === '')) throw errorAtLoc(inst.loc, 'VOLUME specified can not be an empty string');
        return this.configStep(`VOLUME [${inst.volumes.join(' ')}]`, (c) => {
          c.Volumes = { ...(c.Volumes ?? {}) };
          for (const v of inst.volumes) c.Volumes[v] = {};
        });
      case 'USER':
        return this.configStep(`USER ${inst.user}`, (c) => (c.User = inst.user));
      case 'WORKDIR': return this.workdir(inst.path);
      case 'STOPSIGNAL':
        return this.configStep(`STOPSIGNAL ${inst.signal}`, (c) => (c.StopSignal = inst.signal));
      case 'SHELL':
        return this.configStep(`SHELL [${inst.shell.map((s) => JSON.stringify(s)).join(' ')}]`, (c) => (c.Shell = inst.shell));
      case 'CMD':
        this.cmdSet = true;
        return this.configStep(`CMD ${formText(this.argv(inst.cmd))}`, (c) => (c.Cmd = this.argv(inst.cmd)));
      case 'ENTRYPOINT': {
        const argv = this.argv(inst.cmd);
        return this.configStep(`ENTRYPOINT ${formText(argv)}`, (c) => {
          c.Entrypoint = argv;
          // A CMD from the base image makes no sense with a new ENTRYPOINT (Docker resets it).
          if (!this.cmdSet) delete c.Cmd;
        });
      }
      case 'HEALTHCHECK':
        return this.configStep(`HEALTHCHECK ${healthText(inst.health)}`, (c) => {
          c.Healthcheck = {
            Test: inst.health.test,
            ...(inst.health.interval ? { Interval: inst.health.interval } : {}),
            ...(inst.health.timeout ? { Timeout: inst.health.timeout } : {}),
            ...(inst.health.startPeriod ? { StartPeriod: inst.health.startPeriod } : {}),
            ...(inst.health.startInterval ? { StartInterval: inst.health.startInterval } : {}),
            ...(inst.health.retries ? { Retries: inst.health.retries } : {}),
          };
        });
      case 'ONBUILD':
        return this.configStep(`ONBUILD ${inst.expression}`, (c) => (c.OnBuild = [...(c.OnBuild ?? []), inst.expression]));
      case 'RUN':
        return runStep(this, inst, sources, this.o);
      case 'COPY':
      case 'ADD':
        return copyStep(this, inst as CopyInstructionLike, sources[0]?.ref, this.o);
      case 'FROM':
        throw errorAtLoc(inst.loc, 'FROM inside a stage');
    }
  }

  /** The argv of CMD/ENTRYPOINT/RUN: exec form as given, shell form through the stage's SHELL. */
  argv(cmd: CommandForm): string[] {
    return cmd.form === 'exec' ? cmd.args : [...this.shell(), cmd.command];
  }

  shell(): string[] {
    const s = this.state.config.config?.Shell;
    return s?.length ? s : DEFAULT_SHELL;
  }

  get current(): BuildState {
    return this.state;
  }

  /** The build args this stage has declared (with a value), for RUN's environment and cache key. */
  argsInUse(): Array<[string, string]> {
    return [...this.args];
  }

  private arg(inst: ArgInstruction): Promise<void> {
    for (const a of inst.args) {
      let value: string | undefined;
      if (Object.prototype.hasOwnProperty.call(this.o.buildArgs, a.key)) {
        value = this.o.buildArgs[a.key];
        this.o.usedArgs.add(a.key);
      } else if (a.value !== undefined) value = expandWord(a.value, this.lookup, this.escape);
      else value = this.o.plan.globalArgs.get(a.key) ?? (PLATFORM_ARGS.includes(a.key) ? this.o.platformArgs[a.key] : undefined);
      if (value !== undefined) this.args.set(a.key, value);
    }
    // Not part of the key chain: a value reaches later keys only where it is used — in the
    // expanded text of an instruction, or in a RUN's environment — so, as in Docker, a new
    // value misses the cache first at the step that uses it.
    this.o.print(` ---> ${truncateId(this.o.cache.configOf(this.key) ?? this.key)}\n`);
    return Promise.resolve();
  }

  private async workdir(path: string): Promise<void> {
    const clean = posix.resolve(this.state.config.config?.WorkingDir || '/', path);
    await this.layerStep({ workdir: clean }, `${NOP}WORKDIR ${clean}`, async (state) => {
      const layer = clean === '/' ? undefined : await this.o.worker.change(state, (fs) => fs.mkdirp(clean));
      return { config: { ...state.config.config, WorkingDir: clean }, layer };
    });
  }

  /** A step that only changes the container config. */
  private configStep(text: string, edit: (c: ContainerConfig) => void): Promise<void> {
    return this.metaStep(text, (s) => withConfig(s, `${NOP} ${text}`, edit));
  }

  private async metaStep(text: string, apply: (s: BuildState) => BuildState): Promise<void> {
    const key = stepKey(this.key, { meta: text });
    const cached = await this.lookupCache(key);
    const next = cached ?? apply(this.state);
    this.cacheFrom?.advance(next.config.history?.at(-1)?.created_by ?? '', false);
    return this.finish(key, next, 0, cached !== undefined);
  }

  /**
   * A step that may change the filesystem. `run` returns the step's config (Env etc. of the
   * new state) and its layer; the key is the description plus the state it starts from.
   */
  async layerStep(description: unknown, createdBy: string, run: (state: BuildState) => Promise<{ config: ContainerConfig; layer: NewLayerResult | undefined }>): Promise<void> {
    const key = stepKey(this.key, description);
    const cached = await this.lookupCache(key);
    if (cached) {
      this.cacheFrom?.advance(createdBy, cached.layers.length > this.state.layers.length);
      return this.finish(key, cached, 0, true);
    }
    const borrowed = this.o.noCache ? undefined : this.cacheFrom?.take(createdBy);
    if (borrowed) {
      this.o.print(' ---> Using cache\n');
      return this.finish(key, withLayer(this.state, createdBy, borrowed.layer), borrowed.layer?.size ?? 0, false);
    }
    this.cacheFrom?.drop();
    const { config, layer } = await run(this.state);
    const withCfg: BuildState = { ...this.state, config: { ...this.state.config, config } };
    return this.finish(key, withLayer(withCfg, createdBy, layer), layer?.size ?? 0, false);
  }

  private async lookupCache(key: string): Promise<BuildState | undefined> {
    if (this.o.noCache) return undefined;
    const hit = await this.o.cache.get(key);
    if (hit) this.o.print(' ---> Using cache\n');
    return hit;
  }

  private async finish(key: string, state: BuildState, size: number, cached: boolean): Promise<void> {
    const description = state.config.history?.at(-1)?.created_by ?? '';
    const configDigest = cached ? undefined : await this.o.cache.put(key, this.key, state, description, size);
    this.state = state;
    this.key = key;
    this.o.print(` ---> ${truncateId(configDigest ?? this.o.cache.configOf(key) ?? key)}\n`);
  }

  /** Prints a line of the current step's output. */
  print(line: string): void {
    this.o.print(line);
  }
}

/** What a COPY --from or RUN --mount from= names: its filesystem, and its key (a stage's) or ID (an image's). */
export async function referencedState(o: StageBuilderOptions, ref: Exclude<StageRef, { kind: 'scratch' }>): Promise<StageResult> {
  if (ref.kind === 'stage') return o.stageResult(ref.stage);
  const img = await o.worker.baseImage(ref.image, { pull: o.pull, signal: o.signal, output: (line) => o.print(line) });
  return { state: { config: img.config, layers: img.layers, baseImage: img.id }, key: img.id };
}

/** As the classic builder's history shows a healthcheck (Go's %v of the struct). */
function healthText(h: { test: string[]; interval: number; timeout: number; startPeriod: number; retries: number }): string {
  const d = (ns: number): string => `${ns / 1e9}s`;
  return `&{[${h.test.map((t) => JSON.stringify(t)).join(' ')}] "${d(h.interval)}" "${d(h.timeout)}" "${d(h.startPeriod)}" '\\x${h.retries.toString(16).padStart(2, '0')}'}`;
}

function formText(argv: string[]): string {
  return `[${argv.map((a) => JSON.stringify(a)).join(' ')}]`;
}

