// RUN: the command in a container on the step's filesystem, with the stage's env, user and
// workdir, the build args it declared in its environment (and, as the classic builder
// records them, in front of its history entry), and its --mount and --network options.
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { errorAtLoc, PROXY_ARGS, runCommand, runMounts, type PlannedStage, type RunInstruction, type RunMount, type StageRef } from './dockerfile/index.js';
import { copyArchive, planCopy, resolveSources, checksumSources } from './context/index.js';
import { setEnv } from './state.js';
import { referencedState, type StageBuilder, type StageBuilderOptions } from './steps.js';
import type { StepMount } from './worker.js';

interface PreparedMounts {
  mounts: StepMount[];
  /** What the mounts contribute to the cache key. */
  key: unknown[];
  release: () => Promise<void>;
}

export async function runStep(b: StageBuilder, inst: RunInstruction, sources: PlannedStage['sources'], o: StageBuilderOptions): Promise<void> {
  const command = runCommand(inst);
  const files: Array<{ name: string; content: string }> = [];
  let argv: string[];
  if (command.kind === 'command') argv = b.argv(command.cmd);
  else if (command.kind === 'file') {
    files.push({ name: command.name, content: command.content });
    argv = [`/dev/pipes/${command.name}`];
  } else argv = [...b.shell(), command.kind === 'script' ? command.script : command.command];
  const network = networkOf(inst, o.network);
  const args = b.argsInUse();
  const env = [...args, ...undeclaredProxyArgs(args, o.buildArgs)]
    .reduce((e, [k, v]) => (e.some((x) => x.startsWith(`${k}=`)) ? e : setEnv(e, k, v)), b.current.config.config?.Env ?? []);
  // As in moby, a proxy arg no ARG declared is transparent: in the environment, but in
  // neither the history nor the cache key, so changing proxies does not rebuild.
  const createdBy = `${args.length ? `|${args.length} ${args.map(([k, v]) => `${k}=${v}`).join(' ')} ` : ''}${argv.join(' ')}`;
  const prepared = await prepareMounts(inst, sources, o, files);
  try {
    await b.layerStep({ run: argv, args, network, mounts: prepared.key, files }, createdBy, async (state) => {
      let started: string | undefined;
      const layer = await o.worker.run({
        state,
        config: { Cmd: argv, Env: env, User: state.config.config?.User ?? '', WorkingDir: state.config.config?.WorkingDir ?? '' },
        network, mounts: prepared.mounts, signal: o.signal,
        started: (id) => {
          started = id;
          b.print(` ---> Running in ${id.slice(0, 12)}\n`);
        },
        output: (chunk) => b.print(chunk.toString('utf8')),
      });
      if (started) b.print(`Removing intermediate container ${started.slice(0, 12)}\n`);
      return { config: state.config.config ?? {}, layer };
    });
  } finally {
    await prepared.release();
  }
}

/** Proxy args given with --build-arg that no ARG declared (moby's builtin allowed args). */
function undeclaredProxyArgs(declared: Array<[string, string]>, buildArgs: Readonly<Record<string, string | undefined>>): Array<[string, string]> {
  return PROXY_ARGS.filter((k) => buildArgs[k] !== undefined && !declared.some(([d]) => d === k)).map((k) => [k, buildArgs[k]!]);
}

function networkOf(inst: RunInstruction, dflt: 'default' | 'none' | 'host'): 'default' | 'none' | 'host' {
  const n = inst.flags.network;
  if (n === undefined) return dflt;
  if (n === 'default' || n === 'none' || n === 'host') return n;
  throw errorAtLoc(inst.loc, `unsupported network mode "${n}" (default, none or host)`);
}

async function prepareMounts(inst: RunInstruction, sources: PlannedStage['sources'], o: StageBuilderOptions, files: Array<{ name: string; content: string }>): Promise<PreparedMounts> {
  const out: PreparedMounts = { mounts: [], key: [], release: async () => undefined };
  const releases: Array<() => Promise<void>> = [];
  out.release = async () => {
    for (const r of releases.reverse()) await r().catch(() => undefined);
  };
  try {
    for (const f of files) {
      const path = join(o.tmpDir, `heredoc-${Math.random().toString(36).slice(2)}`);
      writeFileSync(path, f.content);
      chmodSync(path, 0o755);
      out.mounts.push({ type: 'bind', source: path, target: `/dev/pipes/${f.name}`, readonly: true });
    }
    const parsed = runMounts(inst);
    for (let i = 0; i < parsed.length; i++) {
      const m = parsed[i]!;
      await addMount(inst, o, m, sources.find((s) => s.mount === i)?.ref, out, releases);
    }
  } catch (err) {
    await out.release();
    throw err;
  }
  return out;
}

async function addMount(
  inst: RunInstruction, o: StageBuilderOptions, m: RunMount, ref: StageRef | undefined, out: PreparedMounts, releases: Array<() => Promise<void>>,
): Promise<void> {
  const target = m.target ?? '';
  switch (m.type) {
    case 'cache': {
      const id = m.id || target;
      out.mounts.push({ type: 'cache', target, id, sharing: m.sharing ?? 'shared', readonly: m.readOnly, mode: m.mode ?? 0o755, uid: m.uid ?? 0, gid: m.gid ?? 0 });
      out.key.push({ cache: id, target });
      return;
    }
    case 'tmpfs':
      out.mounts.push({ type: 'tmpfs', target, ...(m.sizeLimit ? { size: m.sizeLimit } : {}) });
      out.key.push({ tmpfs: target });
      return;
    case 'secret':
      // The classic /build API carries no secrets: a required one is an error, others are absent.
      if (m.required) throw errorAtLoc(inst.loc, `secret ${m.id ?? target} not found (berth's classic builder has no build secrets)`);
      return;
    case 'ssh':
      throw errorAtLoc(inst.loc, `RUN --mount=type=ssh is not supported by berth's builder`);
    case 'bind':
      return bindMount(o, m, ref, out, releases);
  }
}

async function bindMount(o: StageBuilderOptions, m: RunMount, ref: StageRef | undefined, out: PreparedMounts, releases: Array<() => Promise<void>>): Promise<void> {
  const target = m.target ?? '';
  const source = m.source ?? '.';
  if (ref && ref.kind !== 'scratch') {
    const from = await referencedState(o, ref);
    out.mounts.push({ type: 'state', target, state: from.state, path: `/${source}`, readonly: m.readOnly });
    out.key.push({ bind: target, source, from: from.key });
    return;
  }
  // From the build context: its files, as they are after .dockerignore, in a host directory.
  const matches = resolveSources(o.context, [source]);
  const plan = planCopy(matches, '/', { destIsDir: true, workdir: '/' });
  const dir = await o.worker.scratchDir(copyArchive(o.context, plan));
  releases.push(dir.release);
  out.mounts.push({ type: 'context', target, path: dir.path, readonly: m.readOnly });
  out.key.push({ bind: target, source, checksum: await checksumSources(o.context, matches) });
}
