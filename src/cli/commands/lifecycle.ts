// The per-container lifecycle commands: stop, restart, kill, rm, pause, unpause, wait,
// rename. As docker/cli does, each acts on its containers in parallel, prints the name it
// was given for each success, and reports all failures together (exit 1).
import { isClientError } from '../../client/errors.js';
import type { EngineClient } from '../../client/index.js';
import type { CommandContext, CommandDef, FlagSpec } from '../command.js';
import { StatusError } from '../command.js';

type Operation = (client: EngineClient, name: string) => Promise<void>;

/** docker's parallelOperation + the printing loop: names in order, errors joined by newlines. */
async function forEachContainer(ctx: CommandContext, names: string[], op: Operation, ignore?: (err: unknown) => boolean): Promise<number> {
  const client = await ctx.client();
  const results = names.map((n) => op(client, n).then(() => undefined, (err: unknown) => err));
  const errors: string[] = [];
  for (let i = 0; i < names.length; i++) {
    const err = await results[i];
    if (err === undefined) {
      ctx.stdout.write(`${names[i]}\n`);
    } else if (!ignore?.(err)) {
      errors.push((err as Error).message ?? String(err));
    }
  }
  if (errors.length > 0) throw new StatusError(1, errors.join('\n'));
  return 0;
}

const timeoutFlags: FlagSpec[] = [
  { name: 'signal', short: 's', type: 'string', usage: 'Signal to send to the container' },
  { name: 'timeout', short: 't', type: 'int', usage: 'Seconds to wait before killing the container' },
  { name: 'time', type: 'int', usage: 'Seconds to wait before killing the container (deprecated: use --timeout)', hidden: true },
];

function stopOptions(ctx: CommandContext, flags: Record<string, unknown>): { signal?: string; timeout?: number } {
  const changed = ctx.changed ?? new Set();
  if (changed.has('time') && changed.has('timeout')) throw new StatusError(1, 'conflicting options: --time and --timeout');
  const timeout = changed.has('timeout') ? (flags.timeout as number) : changed.has('time') ? (flags.time as number) : undefined;
  const signal = typeof flags.signal === 'string' && flags.signal ? flags.signal : undefined;
  return { ...(signal ? { signal } : {}), ...(timeout !== undefined ? { timeout } : {}) };
}

export const stopCommand: CommandDef = {
  name: 'stop',
  aliases: ['container stop'],
  usage: 'berth stop [OPTIONS] CONTAINER [CONTAINER...]',
  summary: 'Stop one or more running containers',
  minArgs: 1,
  flags: timeoutFlags,
  run(ctx, args, flags) {
    const opts = stopOptions(ctx, flags);
    return forEachContainer(ctx, args, (c, n) => c.stopContainer(n, opts));
  },
};

export const restartCommand: CommandDef = {
  name: 'restart',
  aliases: ['container restart'],
  usage: 'berth restart [OPTIONS] CONTAINER [CONTAINER...]',
  summary: 'Restart one or more containers',
  minArgs: 1,
  flags: timeoutFlags,
  async run(ctx, args, flags) {
    const opts = stopOptions(ctx, flags);
    // docker restarts one after the other, not in parallel.
    const client = await ctx.client();
    const errors: string[] = [];
    for (const n of args) {
      try {
        await client.restartContainer(n, opts);
        ctx.stdout.write(`${n}\n`);
      } catch (err) {
        errors.push((err as Error).message);
      }
    }
    if (errors.length > 0) throw new StatusError(1, errors.join('\n'));
    return 0;
  },
};

export const killCommand: CommandDef = {
  name: 'kill',
  aliases: ['container kill'],
  usage: 'berth kill [OPTIONS] CONTAINER [CONTAINER...]',
  summary: 'Kill one or more running containers',
  minArgs: 1,
  flags: [{ name: 'signal', short: 's', type: 'string', usage: 'Signal to send to the container' }],
  run(ctx, args, flags) {
    const signal = typeof flags.signal === 'string' ? flags.signal : '';
    return forEachContainer(ctx, args, (c, n) => c.killContainer(n, signal || undefined));
  },
};

export const rmCommand: CommandDef = {
  name: 'rm',
  aliases: ['container rm', 'container remove'],
  usage: 'berth rm [OPTIONS] CONTAINER [CONTAINER...]',
  summary: 'Remove one or more containers',
  minArgs: 1,
  flags: [
    { name: 'force', short: 'f', type: 'bool', usage: 'Force the removal of a running container (uses SIGKILL)' },
    { name: 'link', short: 'l', type: 'bool', usage: 'Remove the specified link' },
    { name: 'volumes', short: 'v', type: 'bool', usage: 'Remove anonymous volumes associated with the container' },
  ],
  run(ctx, args, flags) {
    const force = flags.force === true;
    const opts = { force, volumes: flags.volumes === true, link: flags.link === true };
    return forEachContainer(
      ctx,
      args,
      async (c, n) => {
        const name = n.replace(/^\/+|\/+$/g, '');
        if (name === '') throw new Error('Container name cannot be empty');
        await c.removeContainer(name, opts);
      },
      (err) => force && isClientError(err, 404),
    );
  },
};

export const pauseCommand: CommandDef = {
  name: 'pause',
  aliases: ['container pause'],
  usage: 'berth pause CONTAINER [CONTAINER...]',
  summary: 'Pause all processes within one or more containers',
  minArgs: 1,
  flags: [],
  run: (ctx, args) => forEachContainer(ctx, args, (c, n) => c.pauseContainer(n)),
};

export const unpauseCommand: CommandDef = {
  name: 'unpause',
  aliases: ['container unpause'],
  usage: 'berth unpause CONTAINER [CONTAINER...]',
  summary: 'Unpause all processes within one or more containers',
  minArgs: 1,
  flags: [],
  run: (ctx, args) => forEachContainer(ctx, args, (c, n) => c.unpauseContainer(n)),
};

export const waitCommand: CommandDef = {
  name: 'wait',
  aliases: ['container wait'],
  usage: 'berth wait CONTAINER [CONTAINER...]',
  summary: 'Block until one or more containers stop, then print their exit codes',
  minArgs: 1,
  flags: [],
  async run(ctx, args) {
    const client = await ctx.client();
    const errors: string[] = [];
    for (const n of args) {
      try {
        const res = await client.waitContainer(n);
        ctx.stdout.write(`${res.StatusCode}\n`);
      } catch (err) {
        errors.push((err as Error).message);
      }
    }
    if (errors.length > 0) throw new StatusError(1, errors.join('\n'));
    return 0;
  },
};

export const renameCommand: CommandDef = {
  name: 'rename',
  aliases: ['container rename'],
  usage: 'berth rename CONTAINER NEW_NAME',
  summary: 'Rename a container',
  minArgs: 2,
  maxArgs: 2,
  flags: [],
  async run(ctx, args) {
    const oldName = args[0]!.trim();
    const newName = args[1]!.trim();
    if (oldName === '' || newName === '') throw new StatusError(1, 'Error: Neither old nor new names may be empty');
    const client = await ctx.client();
    try {
      await client.renameContainer(oldName, newName);
    } catch (err) {
      throw new StatusError(1, `${(err as Error).message}\nError: failed to rename container named ${oldName}`);
    }
    return 0;
  },
};
