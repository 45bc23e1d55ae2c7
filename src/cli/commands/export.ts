// `berth export` (docker/cli cli/command/container/export.go): a container's filesystem as
// a tar to -o FILE or stdout (never a terminal).
import type { CommandDef } from '../command.js';
import { checkTarOutput, writeTarOutput } from './tar-output.js';

export const exportCommand: CommandDef = {
  name: 'export',
  aliases: ['container export'],
  usage: 'berth export [OPTIONS] CONTAINER',
  summary: "Export a container's filesystem as a tar archive",
  minArgs: 1,
  maxArgs: 1,
  flags: [{ name: 'output', short: 'o', type: 'string', usage: 'Write to a file, instead of STDOUT' }],
  async run(ctx, args, flags) {
    const output = typeof flags.output === 'string' ? flags.output : '';
    checkTarOutput(ctx, output);
    const client = await ctx.client();
    await writeTarOutput(ctx, await client.exportContainer(args[0]!), output, 'export container');
    return 0;
  },
};
