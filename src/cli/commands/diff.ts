// `berth diff` / `container diff` (docker/cli cli/command/container/diff.go): "C /etc" lines.
import { StatusError, type CommandDef } from '../command.js';
import { DEFAULT_DIFF_FORMAT, DiffContext, diffFormat, diffHeader } from '../format/diff.js';
import { formatRows } from '../format/formatter.js';

export const diffCommand: CommandDef = {
  name: 'diff',
  aliases: ['container diff'],
  usage: 'docker diff CONTAINER',
  summary: "Inspect changes to files or directories on a container's filesystem",
  minArgs: 1,
  maxArgs: 1,
  flags: [],
  async run(ctx, args) {
    const container = args[0] as string;
    if (container === '') throw new StatusError(1, 'Container name cannot be empty');
    const client = await ctx.client();
    const changes = (await client.containerChanges(container)) ?? [];
    ctx.stdout.write(formatRows(diffFormat(DEFAULT_DIFF_FORMAT), changes.map((c) => new DiffContext(c)), diffHeader()));
    return 0;
  },
};
