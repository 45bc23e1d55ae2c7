// `system df` and `system prune` (docker/cli cli/command/system/df.go, prune.go).
import { StatusError, type CommandDef } from '../command.js';
import { renderDiskUsage } from '../format/disk-usage.js';
import { TABLE_FORMAT_KEY } from '../format/formatter.js';
import { naturalCompare } from '../format/natural-sort.js';
import { Template } from '../format/template.js';
import { humanSize } from '../../util/units.js';
import { pruneContainers, pruneImages } from './prune.js';
import { pruneNetworks } from './network.js';
import { pruneVolumes } from './volume.js';
import { FORMAT_HELP, boolFlag, confirm, filterFlag, listFlag, parseFilters, stringFlag } from './read-support.js';

export const systemDfCommand: CommandDef = {
  name: 'system df',
  usage: 'docker system df [OPTIONS]',
  summary: 'Show docker disk usage',
  maxArgs: 0,
  flags: [
    { name: 'format', type: 'string', usage: FORMAT_HELP },
    { name: 'verbose', short: 'v', type: 'bool', usage: 'Show detailed information on space usage' },
  ],
  async run(ctx, _args, flags) {
    const client = await ctx.client();
    const du = await client.diskUsage();
    ctx.stdout.write(renderDiskUsage(du, { format: stringFlag(flags['format']) || TABLE_FORMAT_KEY, verbose: boolFlag(flags['verbose']) }));
    return 0;
  },
};

const CONFIRMATION_TEMPLATE = `WARNING! This will remove:
{{- range $_, $warning := .warnings }}
  - {{ $warning }}
{{- end }}
{{if .filters}}
  Items to be pruned will be filtered with:
{{- range $_, $filters := .filters }}
  - {{ $filters }}
{{- end }}
{{end}}
Are you sure you want to continue?`;

/** The prompt of `system prune` (confirmationMessage). */
export function systemPruneWarning(opts: { all: boolean; volumes: boolean; filters: Record<string, string[]> }): string {
  const warnings = ['all stopped containers', 'all networks not used by at least one container'];
  if (opts.volumes) warnings.push('all anonymous volumes not used by at least one container');
  warnings.push(opts.all ? 'all images without at least one container associated to them' : 'all dangling images');
  warnings.push(opts.all ? 'all build cache' : 'unused build cache');
  const filters: string[] = [];
  for (const name of ['label', 'label!', 'until']) for (const v of opts.filters[name] ?? []) filters.push(`${name}=${v}`);
  filters.sort(naturalCompare);
  return Template.parse(CONFIRMATION_TEMPLATE).execute({ warnings, filters });
}

export const systemPruneCommand: CommandDef = {
  name: 'system prune',
  usage: 'docker system prune [OPTIONS]',
  summary: 'Remove unused data',
  maxArgs: 0,
  flags: [
    { name: 'all', short: 'a', type: 'bool', usage: 'Remove all unused images not just dangling ones' },
    filterFlag('Provide filter values (e.g. "label=<key>=<value>")', ''),
    { name: 'force', short: 'f', type: 'bool', usage: 'Do not prompt for confirmation' },
    { name: 'volumes', type: 'bool', usage: 'Prune anonymous volumes' },
  ],
  async run(ctx, _args, flags) {
    const filters = parseFilters(listFlag(flags['filter']), '--filter');
    const all = boolFlag(flags['all']);
    const volumes = boolFlag(flags['volumes']);
    if (volumes && filters['until']) throw new StatusError(1, 'ERROR: The "until" filter is not supported with "--volumes"');
    if (!boolFlag(flags['force']) && !(await confirm(ctx, systemPruneWarning({ all, volumes, filters })))) return 0;
    const client = await ctx.client();
    let reclaimed = 0;
    // Docker's order: containers, networks, volumes, images, build cache (berth has no build cache to prune yet).
    const steps = [() => pruneContainers(client, filters), () => pruneNetworks(client, filters)];
    if (volumes) steps.push(() => pruneVolumes(client, filters));
    steps.push(() => pruneImages(client, filters, all));
    for (const step of steps) {
      const { spaceReclaimed, output } = await step();
      reclaimed += spaceReclaimed;
      if (output !== '') ctx.stdout.write(output + '\n');
    }
    ctx.stdout.write(`Total reclaimed space: ${humanSize(reclaimed)}\n`);
    return 0;
  },
};
