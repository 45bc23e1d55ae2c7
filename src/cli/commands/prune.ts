// `container prune` and `image prune` (docker/cli cli/command/container/prune.go,
// image/prune.go): docker's warning and [y/N] prompt unless --force, then what was deleted
// and "Total reclaimed space: …".
import type { EngineClient } from '../../client/index.js';
import type { Filters } from '../../oci/engine-api.js';
import type { CommandContext, CommandDef } from '../command.js';
import { humanSize } from '../../util/units.js';
import { boolFlag, confirm, filterFlag, listFlag, parseFilters } from './read-support.js';

const CONTAINER_WARNING = 'WARNING! This will remove all stopped containers.\nAre you sure you want to continue?';
const ALL_IMAGES_WARNING = 'WARNING! This will remove all images without at least one container associated to them.\nAre you sure you want to continue?';
const BUILD_CACHE_WARNING = 'WARNING! This will remove all dangling build cache.\nAre you sure you want to continue?';
const ALL_BUILD_CACHE_WARNING = 'WARNING! This will remove all build cache.\nAre you sure you want to continue?';
const DANGLING_WARNING = 'WARNING! This will remove all dangling images.\nAre you sure you want to continue?';

export interface PruneResult {
  spaceReclaimed: number;
  /** The "Deleted …:" block, or "" when nothing was deleted. */
  output: string;
}

export async function pruneContainers(client: EngineClient, filters: Filters): Promise<PruneResult> {
  const report = await client.pruneContainers(filters);
  const deleted = report.ContainersDeleted ?? [];
  if (deleted.length === 0) return { spaceReclaimed: 0, output: '' };
  return { spaceReclaimed: report.SpaceReclaimed, output: 'Deleted Containers:\n' + deleted.map((id) => id + '\n').join('') };
}

export async function pruneImages(client: EngineClient, filters: Filters, all: boolean): Promise<PruneResult> {
  const report = await client.pruneImages({ ...filters, dangling: [...(filters['dangling'] ?? []), String(!all)] });
  const deleted = report.ImagesDeleted ?? [];
  if (deleted.length === 0) return { spaceReclaimed: 0, output: '' };
  let output = 'Deleted Images:\n';
  for (const item of deleted) output += item.Untagged ? `untagged: ${item.Untagged}\n` : `deleted: ${item.Deleted ?? ''}\n`;
  return { spaceReclaimed: report.SpaceReclaimed, output };
}

/** Ask unless forced; false when the user said no (docker then stops quietly). */
async function confirmed(ctx: CommandContext, force: boolean, warning: string): Promise<boolean> {
  return force || confirm(ctx, warning);
}

function report(ctx: CommandContext, result: PruneResult): void {
  if (result.output !== '') ctx.stdout.write(result.output + '\n');
  ctx.stdout.write(`Total reclaimed space: ${humanSize(result.spaceReclaimed)}\n`);
}

const forceFlag = { name: 'force', short: 'f', type: 'bool' as const, usage: 'Do not prompt for confirmation' };

export const containerPruneCommand: CommandDef = {
  name: 'container prune',
  usage: 'docker container prune [OPTIONS]',
  summary: 'Remove all stopped containers',
  maxArgs: 0,
  flags: [filterFlag('Provide filter values (e.g. "until=<timestamp>")', ''), forceFlag],
  async run(ctx, _args, flags) {
    const filters = parseFilters(listFlag(flags['filter']), '--filter');
    if (!(await confirmed(ctx, boolFlag(flags['force']), CONTAINER_WARNING))) return 0;
    report(ctx, await pruneContainers(await ctx.client(), filters));
    return 0;
  },
};

export const imagePruneCommand: CommandDef = {
  name: 'image prune',
  usage: 'docker image prune [OPTIONS]',
  summary: 'Remove unused images',
  maxArgs: 0,
  flags: [
    { name: 'all', short: 'a', type: 'bool', usage: 'Remove all unused images, not just dangling ones' },
    filterFlag('Provide filter values (e.g. "until=<timestamp>")', ''),
    forceFlag,
  ],
  async run(ctx, _args, flags) {
    const filters = parseFilters(listFlag(flags['filter']), '--filter');
    const all = boolFlag(flags['all']);
    if (!(await confirmed(ctx, boolFlag(flags['force']), all ? ALL_IMAGES_WARNING : DANGLING_WARNING))) return 0;
    report(ctx, await pruneImages(await ctx.client(), filters, all));
    return 0;
  },
};

/** berth's build cache has no dangling/in-use split: both forms remove every entry the filters pick. */
export const builderPruneCommand: CommandDef = {
  name: 'builder prune',
  usage: 'docker builder prune',
  summary: 'Remove build cache',
  maxArgs: 0,
  flags: [
    { name: 'all', short: 'a', type: 'bool', usage: 'Remove all unused build cache, not just dangling ones' },
    filterFlag('Provide filter values (e.g. "until=24h")', ''),
    forceFlag,
  ],
  async run(ctx, _args, flags) {
    const filters = parseFilters(listFlag(flags['filter']), '--filter');
    const all = boolFlag(flags['all']);
    if (!(await confirmed(ctx, boolFlag(flags['force']), all ? ALL_BUILD_CACHE_WARNING : BUILD_CACHE_WARNING))) return 0;
    const r = await (await ctx.client()).pruneBuildCache({ all, filters });
    const deleted = r.CachesDeleted ?? [];
    report(ctx, { spaceReclaimed: r.SpaceReclaimed, output: deleted.length ? 'Deleted build cache objects:\n' + deleted.map((id) => id + '\n').join('') : '' });
    return 0;
  },
};
