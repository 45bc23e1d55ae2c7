// Stage planning: FROM expanded with the meta ARGs, bases and --from references resolved,
// the target picked, and the stages it needs listed in build order with their dependencies.
import { invalidArgument } from '../../util/errors.js';
import { splitCsv } from './csv.js';
import { expandWord } from './expand.js';
import { validStageName } from './instructions.js';
import { errorAtLoc, messageOf } from './location.js';
import type { Dockerfile, EscapeChar, Instruction, Location, Stage } from './types.js';

/** Proxy build args: usable without an ARG, and kept out of the image history. */
export const PROXY_ARGS: readonly string[] = [
  'HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'FTP_PROXY', 'ftp_proxy',
  'NO_PROXY', 'no_proxy', 'ALL_PROXY', 'all_proxy',
];

/** Platform args the builder defines; FROM sees them, stages after `ARG NAME`. */
export const PLATFORM_ARGS: readonly string[] = [
  'TARGETPLATFORM', 'TARGETOS', 'TARGETARCH', 'TARGETVARIANT',
  'BUILDPLATFORM', 'BUILDOS', 'BUILDARCH', 'BUILDVARIANT',
];

/** What a FROM, COPY --from or RUN --mount from= refers to. */
export type StageRef = { kind: 'stage'; stage: number } | { kind: 'image'; image: string } | { kind: 'scratch' };

/** A COPY --from or RUN --mount from= reference inside a stage. */
export interface SourceRef {
  /** Index in the stage's instructions. */
  instruction: number;
  /** Index among the RUN's --mount flags; absent for COPY --from. */
  mount?: number;
  from: string;
  ref: StageRef;
}

export interface PlannedStage {
  index: number;
  name?: string;
  stage: Stage;
  /** FROM's image after expansion. */
  image: string;
  /** FROM --platform after expansion. */
  platform?: string;
  base: StageRef;
  sources: SourceRef[];
  /** Stages to build first (base, COPY --from, mounts), ascending; stages without a path between them may build in parallel. */
  deps: number[];
}

export interface StagePlan {
  target: number;
  /** The stages the target needs, each after all of its dependencies. */
  stages: PlannedStage[];
  /** Meta ARG values (and platform args) as FROM saw them; `ARG NAME` in a stage inherits them. */
  globalArgs: Map<string, string>;
}

export interface PlanOptions {
  buildArgs: Record<string, string>;
  target?: string;
  /** Values of PLATFORM_ARGS (TARGETPLATFORM, BUILDARCH, ...) for FROM; build args override them. */
  platformArgs?: Record<string, string>;
}

export function planStages(df: Dockerfile, opts: PlanOptions): StagePlan {
  if (df.stages.length === 0) throw invalidArgument('dockerfile contains no stages to build');
  checkStageNames(df.stages);
  const escape = df.directives.escape;
  const globalArgs = metaArgValues(df, opts, escape);
  const lookup = (name: string): string | undefined => globalArgs.get(name);
  const planned = df.stages.map((stage) => planStage(df.stages, stage, lookup, escape));
  const target = pickTarget(df.stages, opts.target);
  const needed = neededStages(planned, target);
  return { target, stages: planned.filter((p) => needed.has(p.index)), globalArgs };
}

function own(record: Record<string, string>, key: string): string | undefined {
  return Object.prototype.hasOwnProperty.call(record, key) ? record[key] : undefined;
}

function metaArgValues(df: Dockerfile, opts: PlanOptions, escape: EscapeChar): Map<string, string> {
  const values = new Map<string, string>();
  for (const [k, v] of Object.entries(opts.platformArgs ?? {})) values.set(k, own(opts.buildArgs, k) ?? v);
  for (const inst of df.metaArgs) {
    for (const arg of inst.args) {
      const given = own(opts.buildArgs, arg.key);
      if (given !== undefined) values.set(arg.key, given);
      else if (arg.value !== undefined) values.set(arg.key, located(inst.loc, () => expandWord(arg.value as string, (n) => values.get(n), escape)));
    }
  }
  return values;
}

function located<T>(loc: Location, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw errorAtLoc(loc, messageOf(err), err);
  }
}

function checkStageNames(stages: Stage[]): void {
  const seen = new Map<string, Stage>();
  for (const stage of stages) {
    if (stage.name === undefined) continue;
    const loc = stage.from.loc;
    if (!validStageName(stage.name)) {
      throw errorAtLoc(loc, `invalid name for build stage: "${stage.name}", name can't start with a number or contain symbols`);
    }
    const first = seen.get(stage.name);
    if (first) throw errorAtLoc(loc, `duplicate stage name "${stage.name}", also defined at line ${first.from.loc.line}`);
    seen.set(stage.name, stage);
  }
}

const displayName = (stage: Stage): string => stage.name ?? `stage-${stage.index}`;

function planStage(stages: Stage[], stage: Stage, lookup: (n: string) => string | undefined, escape: EscapeChar): PlannedStage {
  const from = stage.from;
  const image = located(from.loc, () => expandWord(from.image, lookup, escape));
  if (image === '') throw errorAtLoc(from.loc, `base name (${from.image}) should not be blank`);
  const platform = from.flags.platform === undefined ? undefined : expandPlatform(from.flags.platform, from.loc, lookup, escape);
  const base = baseRef(stages, stage.index, image);
  const sources = sourceRefs(stages, stage);
  const deps = new Set<number>(sources.flatMap((s) => (s.ref.kind === 'stage' ? [s.ref.stage] : [])));
  if (base.kind === 'stage') deps.add(base.stage);
  return {
    index: stage.index,
    ...(stage.name === undefined ? {} : { name: stage.name }),
    stage,
    image,
    ...(platform === undefined ? {} : { platform }),
    base,
    sources,
    deps: [...deps].sort((a, b) => a - b),
  };
}

function expandPlatform(raw: string, loc: Location, lookup: (n: string) => string | undefined, escape: EscapeChar): string {
  const value = located(loc, () => expandWord(raw, lookup, escape));
  if (value === '') throw errorAtLoc(loc, `empty platform value from expression ${raw}`);
  return value;
}

// FROM sees only earlier stages: `FROM node AS node` means the image node.
function baseRef(stages: Stage[], index: number, image: string): StageRef {
  const earlier = stages.slice(0, index).filter((s) => s.name === image.toLowerCase());
  const last = earlier[earlier.length - 1];
  if (last) return { kind: 'stage', stage: last.index };
  return image === 'scratch' ? { kind: 'scratch' } : { kind: 'image', image };
}

function sourceRefs(stages: Stage[], stage: Stage): SourceRef[] {
  const refs: SourceRef[] = [];
  stage.instructions.forEach((inst, i) => {
    for (const [from, mount] of referencedFroms(inst)) {
      const ref = located(inst.loc, () => resolveFrom(stages, stage, from, mount !== undefined));
      refs.push({ instruction: i, ...(mount === undefined ? {} : { mount }), from, ref });
    }
  });
  return refs;
}

function referencedFroms(inst: Instruction): [string, number | undefined][] {
  if (inst.kind === 'COPY' && inst.flags.from) return [[inst.flags.from, undefined]];
  if (inst.kind !== 'RUN') return [];
  const out: [string, number | undefined][] = [];
  inst.flags.mount.forEach((value, i) => {
    const from = mountFrom(value);
    if (from) out.push([from, i]);
  });
  return out;
}

function mountFrom(value: string): string | undefined {
  let from: string | undefined;
  for (const field of splitCsv(value)) {
    const eq = field.indexOf('=');
    if (eq !== -1 && field.slice(0, eq).toLowerCase() === 'from') from = field.slice(eq + 1);
  }
  return from;
}

function resolveFrom(stages: Stage[], current: Stage, from: string, isMount: boolean): StageRef {
  if (!isMount && expandWord(from, () => undefined) !== from) {
    throw invalidArgument('variable expansion is not supported for --from, define a new stage with FROM using ARG from global scope as a workaround');
  }
  const target = stageByRef(stages, from);
  if (!target) return from === 'scratch' ? { kind: 'scratch' } : { kind: 'image', image: from };
  if (target.index === current.index) throw invalidArgument(`circular dependency detected on stage: ${displayName(current)}`);
  if (target.index > current.index) {
    const what = isMount ? 'mount from' : 'copy from';
    throw invalidArgument(`cannot ${what} stage "${from}", it needs to be defined before current stage "${displayName(current)}"`);
  }
  return { kind: 'stage', stage: target.index };
}

function stageByRef(stages: Stage[], ref: string): Stage | undefined {
  if (/^[+-]?\d+$/.test(ref)) {
    const index = Number(ref);
    const stage = stages[index];
    if (!stage || index < 0) throw invalidArgument(`invalid stage index ${index}`);
    return stage;
  }
  return stages.find((s) => s.name === ref.toLowerCase());
}

function pickTarget(stages: Stage[], target: string | undefined): number {
  if (target === undefined || target === '') return (stages[stages.length - 1] as Stage).index;
  const found = stages.find((s) => s.name === target.toLowerCase());
  if (!found) throw invalidArgument(`target stage "${target}" could not be found`);
  return found.index;
}

function neededStages(planned: PlannedStage[], target: number): Set<number> {
  const needed = new Set<number>();
  const visit = (i: number): void => {
    if (needed.has(i)) return;
    needed.add(i);
    for (const d of (planned[i] as PlannedStage).deps) visit(d);
  };
  visit(target);
  return needed;
}
