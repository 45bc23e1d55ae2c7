// `berth top` / `container top` (docker/cli cli/command/container/top.go): the daemon's ps
// table aligned with tabwriter (minwidth 20, padding 3).
import type { CommandDef } from '../command.js';
import { alignTable } from '../format/table.js';

export const topCommand: CommandDef = {
  name: 'top',
  aliases: ['container top'],
  usage: 'docker top CONTAINER [ps OPTIONS]',
  summary: 'Display the running processes of a container',
  minArgs: 1,
  interspersed: false,
  flags: [],
  async run(ctx, args) {
    const [container, ...psArgs] = args as [string, ...string[]];
    const client = await ctx.client();
    const top = await client.topContainer(container, psArgs.join(' '));
    let text = (top.Titles ?? []).join('\t') + '\n';
    for (const proc of top.Processes ?? []) text += proc.join('\t') + '\n';
    ctx.stdout.write(alignTable(text, 20, 3));
    return 0;
  },
};
