// The classic builder's driver: parse the Dockerfile, plan the stages the target needs, build
// them (independent stages at once; their output is shown stage by stage, in order), then
// record the target's final state as the image. Output is the classic builder's JSON
// stream: "Step N/M : …" lines, " ---> <id>", "Using cache", and an aux message with the ID.
import { mkdtempSync, rmSync } from 'node:fs';
import { join, posix } from 'node:path';
import { BuildContext, readIgnoreFile } from './context/index.js';
import { parseDockerfile, planStages, PROXY_ARGS, type PlannedStage, type StagePlan } from './dockerfile/index.js';
import type { BuildCache } from './cache.js';
import { StageBuilder, type StageResult } from './steps.js';
import type { CacheSource } from './cache-from.js';
import type { BuildWorker } from './worker.js';
import { formatPlatform, hostPlatform } from '../oci/image-spec.js';
import { invalidArgument } from '../util/errors.js';
import { truncateId } from '../util/units.js';
import { familiarString, parseReference } from '../images/reference.js';
import type { Digest } from '../util/digest.js';

/** One message of the build's output stream (the Engine API's JSONMessage subset the classic builder sends). */
export type BuildMessage = { stream: string } | { aux: { ID: string } };

export interface BuildOptions {
  /** Path of the Dockerfile inside the context (default "Dockerfile"). */
  dockerfile?: string;
  /** The Dockerfile's text when it does not come from the context (`-f -`, remote). */
  dockerfileText?: string;
  tags: string[];
  /** Build args; null means "take it from the daemon's environment" (never, here: unset). */
  buildArgs: Record<string, string | null>;
  labels: Record<string, string>;
  target?: string;
  noCache: boolean;
  /** Stages (by name) that are rebuilt without cache. */
  noCacheFilter?: string[];
  cacheFrom?: string[];
  pull: boolean;
  platform?: string;
  /** NetworkMode for RUN: "default", "none" or "host". */
  networkMode?: string;
  quiet?: boolean;
  output: (m: BuildMessage) => void;
  signal: AbortSignal;
  /** Where temporary files go (the context spool, heredoc files). */
  tmpDir: string;
}

export interface BuildResult {
  imageId: Digest;
}

const MAX_DOCKERFILE = 4 * 1024 * 1024;

/** Builds the context's Dockerfile; the context is closed by the caller. */
export async function build(worker: BuildWorker, cache: BuildCache, context: BuildContext, opts: BuildOptions): Promise<BuildResult> {
  const dockerfilePath = opts.dockerfile || 'Dockerfile';
  const text = opts.dockerfileText ?? (await readDockerfile(context, dockerfilePath));
  // docker's CLI sends `-f -` (or a Dockerfile outside the context) as .dockerfile.<random>.
  const shownName = posix.basename(dockerfilePath).startsWith('.dockerfile.') ? 'Dockerfile' : posix.basename(dockerfilePath);
  const df = parseDockerfile(text, { file: shownName });
  const ignore = await readIgnoreFile(context, dockerfilePath);
  context.exclude(ignore.matcher);
  const buildArgs = definedArgs(opts.buildArgs);
  const platformArgs = platformArgValues(opts.platform);
  const plan = planStages(df, { buildArgs, ...(opts.target ? { target: opts.target } : {}), platformArgs });
  // Steps are numbered across the stages built, FROM included, as the classic builder does.
  const firstStep = new Map<number, number>();
  let total = 0;
  for (const s of plan.stages) {
    firstStep.set(s.index, total + 1);
    total += 1 + s.stage.instructions.length;
  }
  const cacheFrom = await cacheSources(worker, opts);
  const tmp = mkdtempSync(join(opts.tmpDir, 'build-'));
  const used = new Set<string>();
  try {
    const printer = new StagePrinter(plan, opts);
    const results = new Map<number, Promise<StageResult>>();
    for (const s of plan.stages) {
      const deps = Promise.all(s.deps.map((d) => results.get(d)!));
      results.set(s.index, deps.then(async () => {
        const builder = new StageBuilder({
          worker, cache, context, df, planned: s, plan, buildArgs, usedArgs: used, platformArgs,
          noCache: opts.noCache || (s.name !== undefined && (opts.noCacheFilter ?? []).includes(s.name)),
          pull: opts.pull, network: networkOf(opts.networkMode), tmpDir: tmp, signal: opts.signal,
          stageResult: (i) => results.get(i)!, cacheFrom, firstStep: firstStep.get(s.index)!, totalSteps: total,
          print: (line) => printer.write(s.index, line),
          ...(opts.platform ? { platform: opts.platform } : {}),
        });
        try {
          return await builder.build();
        } finally {
          printer.done(s.index);
        }
      }));
    }
    // Every stage settles before the build ends, so a failure never leaves one running.
    const settled = await Promise.allSettled(plan.stages.map((s) => results.get(s.index)!));
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    const final = await results.get(plan.target)!;
    const unused = Object.keys(buildArgs).filter((a) => !used.has(a) && !plan.globalArgs.has(a) && !PROXY_ARGS.includes(a));
    if (unused.length) printer.flushLine(`[Warning] One or more build-args [${unused.sort().join(' ')}] were not consumed\n`);
    const state = withLabels(final.state, opts.labels);
    const imageId = await worker.commitImage(state, opts.tags);
    await cache.flush();
    opts.output({ aux: { ID: imageId } });
    if (opts.quiet) opts.output({ stream: `${imageId}\n` });
    else {
      opts.output({ stream: `Successfully built ${truncateId(imageId)}\n` });
      for (const t of opts.tags) opts.output({ stream: `Successfully tagged ${familiarString(parseReference(t))}\n` });
    }
    return { imageId };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** The --cache-from images this daemon has; a missing one is skipped, as dockerd does. */
async function cacheSources(worker: BuildWorker, opts: BuildOptions): Promise<CacheSource[]> {
  const out: CacheSource[] = [];
  for (const ref of opts.cacheFrom ?? []) {
    try {
      const img = await worker.baseImage(ref, { pull: false, localOnly: true, signal: opts.signal, output: () => undefined });
      out.push({ config: img.config, layers: img.layers });
    } catch {
      if (!opts.quiet) opts.output({ stream: `[Warning] --cache-from ${ref}: no such image here, not used\n` });
    }
  }
  return out;
}

async function readDockerfile(context: BuildContext, path: string): Promise<string> {
  const entry = context.stat(path);
  if (!entry) throw invalidArgument(`Cannot locate specified Dockerfile: ${path}`);
  return (await context.readFile(path, MAX_DOCKERFILE)).toString('utf8');
}

function definedArgs(args: Record<string, string | null>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(args)) if (v !== null) out[k] = v;
  return out;
}

function platformArgValues(platform: string | undefined): Record<string, string> {
  const host = hostPlatform();
  const hostText = formatPlatform(host);
  const target = platform || hostText;
  const [os = host.os, arch = host.architecture, variant = ''] = target.split('/');
  return {
    BUILDPLATFORM: hostText, BUILDOS: host.os, BUILDARCH: host.architecture, BUILDVARIANT: host.variant ?? '',
    TARGETPLATFORM: target, TARGETOS: os, TARGETARCH: arch, TARGETVARIANT: variant,
  };
}

function networkOf(mode: string | undefined): 'default' | 'none' | 'host' {
  if (!mode || mode === 'default' || mode === 'bridge') return 'default';
  if (mode === 'none' || mode === 'host') return mode;
  throw invalidArgument(`network mode "${mode}" not supported by the builder (use default, none or host)`);
}

function withLabels(state: StageResult['state'], labels: Record<string, string>): StageResult['state'] {
  if (Object.keys(labels).length === 0) return state;
  const config = { ...(state.config.config ?? {}) };
  config.Labels = { ...(config.Labels ?? {}), ...labels };
  return { ...state, config: { ...state.config, config } };
}

/**
 * Stages may run at once, but their output reads best one stage after the other: the first
 * unfinished stage (in plan order) prints live, later ones are held until it is done.
 */
class StagePrinter {
  private readonly order: number[];
  private readonly held = new Map<number, string[]>();
  private readonly finished = new Set<number>();

  constructor(plan: StagePlan, private readonly opts: BuildOptions) {
    this.order = plan.stages.map((s: PlannedStage) => s.index);
  }

  write(stage: number, line: string): void {
    if (this.current() === stage) this.flushLine(line);
    else {
      const held = this.held.get(stage);
      if (held) held.push(line);
      else this.held.set(stage, [line]);
    }
  }

  done(stage: number): void {
    this.finished.add(stage);
    for (let cur = this.current(); cur !== undefined; cur = this.current()) {
      for (const line of this.held.get(cur) ?? []) this.flushLine(line);
      this.held.delete(cur);
      if (!this.finished.has(cur)) break;
      this.order.shift();
    }
  }

  flushLine(line: string): void {
    if (!this.opts.quiet) this.opts.output({ stream: line });
  }

  private current(): number | undefined {
    while (this.order.length && this.finished.has(this.order[0]!) && !this.held.has(this.order[0]!)) this.order.shift();
    return this.order[0];
  }
}
