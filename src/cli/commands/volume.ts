// `berth volume create|ls|inspect|rm|prune` (docker/cli cli/command/volume).
import type { EngineClient } from '../../client/index.js';
import type { Filters } from '../../oci/engine-api.js';
import type { CommandDef } from '../command.js';
import { StatusError } from '../command.js';
import { TABLE_FORMAT_KEY, formatRows } from '../format/formatter.js';
import { naturalLess } from '../format/natural-sort.js';
import { VolumeContext, volumeFormat, volumeHeader } from '../format/volume.js';
import { humanSize } from '../../util/units.js';
import { runInspect } from './inspect.js';
import { kvToMap } from './kv-files.js';
import { INSPECT_FORMAT_HELP, boolFlag, confirm, filterFlag, formatFlag, listFlag, parseFilters, stringFlag } from './read-support.js';

export const volumeCreateCommand: CommandDef = {
  name: 'volume create',
  usage: 'docker volume create [OPTIONS] [VOLUME]',
  summary: 'Create a volume',
  maxArgs: 1,
  flags: [
    { name: 'driver', short: 'd', type: 'string', usage: 'Specify volume driver name', default: 'local' },
    { name: 'label', type: 'list', usage: 'Set metadata for a volume' },
    { name: 'name', type: 'string', usage: 'Specify volume name', hidden: true },
    { name: 'opt', short: 'o', type: 'list', usage: 'Set driver specific options' },
  ],
  async run(ctx, args, flags) {
    const flagName = stringFlag(flags['name']);
    if (args[0] !== undefined && flagName !== '' && args[0] !== flagName) {
      throw new StatusError(1, `conflicting options: either specify --name or provide positional arg, not both`);
    }
    const client = await ctx.client();
    const volume = await client.createVolume({
      Name: args[0] ?? flagName, Driver: stringFlag(flags['driver']) || 'local',
      DriverOpts: kvToMap(listFlag(flags['opt'])), Labels: kvToMap(listFlag(flags['label'])),
    });
    ctx.stdout.write(`${volume.Name}\n`);
    return 0;
  },
};

export const volumeListCommand: CommandDef = {
  name: 'volume ls',
  aliases: ['volume list'],
  usage: 'docker volume ls [OPTIONS]',
  summary: 'List volumes',
  maxArgs: 0,
  flags: [
    filterFlag("Provide filter values (e.g. 'dangling=true')"),
    formatFlag(),
    { name: 'quiet', short: 'q', type: 'bool', usage: 'Only display volume names' },
  ],
  async run(ctx, _args, flags) {
    const client = await ctx.client();
    const { Volumes } = await client.listVolumes(parseFilters(listFlag(flags['filter'])));
    const volumes = [...(Volumes ?? [])].sort((a, b) => (naturalLess(a.Name, b.Name) ? -1 : naturalLess(b.Name, a.Name) ? 1 : 0));
    const format = volumeFormat(stringFlag(flags['format']) || TABLE_FORMAT_KEY, boolFlag(flags['quiet']));
    ctx.stdout.write(formatRows(format, volumes.map((v) => new VolumeContext(v)), volumeHeader()));
    return 0;
  },
};

export const volumeInspectCommand: CommandDef = {
  name: 'volume inspect',
  usage: 'docker volume inspect [OPTIONS] VOLUME [VOLUME...]',
  summary: 'Display detailed information on one or more volumes',
  minArgs: 1,
  flags: [{ name: 'format', short: 'f', type: 'string', usage: INSPECT_FORMAT_HELP }],
  async run(ctx, args, flags) {
    const client = await ctx.client();
    return runInspect(ctx, args, stringFlag(flags['format']), async (name) => ({ raw: JSON.stringify(await client.inspectVolume(name)) }));
  },
};

export const volumeRemoveCommand: CommandDef = {
  name: 'volume rm',
  aliases: ['volume remove'],
  usage: 'docker volume rm [OPTIONS] VOLUME [VOLUME...]',
  summary: 'Remove one or more volumes',
  minArgs: 1,
  flags: [{ name: 'force', short: 'f', type: 'bool', usage: 'Force the removal of one or more volumes' }],
  async run(ctx, args, flags) {
    const client = await ctx.client();
    const errors: string[] = [];
    for (const name of args) {
      try {
        await client.removeVolume(name, boolFlag(flags['force']));
        ctx.stdout.write(`${name}\n`);
      } catch (err) {
        errors.push((err as Error).message);
      }
    }
    if (errors.length > 0) throw new StatusError(1, errors.join('\n'));
    return 0;
  },
};

const ANONYMOUS_WARNING = 'WARNING! This will remove anonymous local volumes not used by at least one container.\nAre you sure you want to continue?';
const ALL_WARNING = 'WARNING! This will remove all local volumes not used by at least one container.\nAre you sure you want to continue?';

export const volumePruneCommand: CommandDef = {
  name: 'volume prune',
  usage: 'docker volume prune [OPTIONS]',
  summary: 'Remove unused local volumes',
  maxArgs: 0,
  flags: [
    { name: 'all', short: 'a', type: 'bool', usage: 'Remove all unused volumes, not just anonymous ones' },
    filterFlag("Provide filter values (e.g. 'label=<label>')", ''),
    { name: 'force', short: 'f', type: 'bool', usage: 'Do not prompt for confirmation' },
  ],
  async run(ctx, _args, flags) {
    const filters = parseFilters(listFlag(flags['filter']), '--filter');
    const all = boolFlag(flags['all']);
    if (all && filters['all']) throw new StatusError(1, 'conflicting options: cannot specify both --all and --filter all=1');
    if (all) filters['all'] = ['true'];
    if (!boolFlag(flags['force']) && !(await confirm(ctx, all ? ALL_WARNING : ANONYMOUS_WARNING))) return 0;
    const result = await pruneVolumes(await ctx.client(), filters);
    if (result.output !== '') ctx.stdout.write(result.output + '\n');
    ctx.stdout.write(`Total reclaimed space: ${humanSize(result.spaceReclaimed)}\n`);
    return 0;
  },
};

/** Also `system prune --volumes`. */
export async function pruneVolumes(client: EngineClient, filters: Filters): Promise<{ spaceReclaimed: number; output: string }> {
  const report = await client.pruneVolumes(filters);
  const deleted = report.VolumesDeleted ?? [];
  if (deleted.length === 0) return { spaceReclaimed: 0, output: '' };
  return { spaceReclaimed: report.SpaceReclaimed, output: 'Deleted Volumes:\n' + deleted.map((n) => n + '\n').join('') };
}
