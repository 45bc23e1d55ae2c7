// `berth ps` / `container ls` (docker/cli cli/command/container/list.go).
import type { CommandDef } from '../command.js';
import { ContainerContext, containerFormat, containerHeader } from '../format/container.js';
import { FormatError, formatRows, parseFormat } from '../format/formatter.js';
import { TemplateExecError } from '../format/template.js';
import { boolFlag, filterFlag, formatFlag, listFlag, parseFilters, stringFlag } from './read-support.js';

/** Run the template on an empty row first, as docker does: template errors surface before any request, and a .Size column turns on size. */
function probeFormat(format: string): { sizeUsed: boolean } {
  const tmpl = parseFormat(format, 'failed to parse template: ');
  const probe = new ContainerContext({ Id: '', Names: [], Image: '', ImageID: '', Command: '', Created: 0, Ports: [], Labels: {}, State: 'created', Status: '', HostConfig: { NetworkMode: '' }, NetworkSettings: { Networks: {} }, Mounts: [] }, false);
  try {
    tmpl.execute(probe);
  } catch (err) {
    if (err instanceof TemplateExecError) throw new FormatError(`failed to execute template: ${err.message}`);
    throw err;
  }
  return { sizeUsed: probe.sizeUsed };
}

export const psCommand: CommandDef = {
  name: 'ps',
  aliases: ['container ls', 'container list', 'container ps'],
  usage: 'docker ps [OPTIONS]',
  summary: 'List containers',
  maxArgs: 0,
  flags: [
    { name: 'all', short: 'a', type: 'bool', usage: 'Show all containers (default shows just running)' },
    filterFlag(),
    formatFlag(),
    { name: 'last', short: 'n', type: 'int', usage: 'Show n last created containers (includes all states)', default: -1 },
    { name: 'latest', short: 'l', type: 'bool', usage: 'Show the latest created container (includes all states)' },
    { name: 'no-trunc', type: 'bool', usage: "Don't truncate output" },
    { name: 'quiet', short: 'q', type: 'bool', usage: 'Only display container IDs' },
    { name: 'size', short: 's', type: 'bool', usage: 'Display total file sizes' },
  ],
  async run(ctx, _args, flags) {
    const quiet = boolFlag(flags['quiet']);
    let format = stringFlag(flags['format']);
    if (format !== '' && quiet) ctx.stderr.write('WARNING: Ignoring custom format, because both --format and --quiet are set.\n');
    const filters = parseFilters(listFlag(flags['filter']));
    const last = typeof flags['last'] === 'number' ? flags['last'] : -1;
    let limit = last;
    if (boolFlag(flags['latest']) && last === -1) limit = 1;
    let size = boolFlag(flags['size']);
    if (format !== '') {
      const { sizeUsed } = probeFormat(format);
      // --size=false given explicitly keeps sizes off even when the format shows them.
      if (!quiet && !size && !ctx.changed?.has('size') && sizeUsed) size = true;
    }
    const client = await ctx.client();
    const containers = await client.listContainers({ all: boolFlag(flags['all']), limit: limit > 0 ? limit : undefined, size, filters });
    format = containerFormat(format, quiet, size);
    const trunc = !boolFlag(flags['no-trunc']);
    const now = Date.now();
    ctx.stdout.write(formatRows(format, containers.map((c) => new ContainerContext(c, trunc, now)), containerHeader()));
    return 0;
  },
};
