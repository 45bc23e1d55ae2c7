// `berth save` (docker/cli cli/command/image/save.go): a tar of images to -o FILE
// (written whole, then renamed into place) or to stdout, never to a terminal.
import type { CommandDef } from '../command.js';
import { checkTarOutput, writeTarOutput } from './tar-output.js';

export const saveCommand: CommandDef = {
  name: 'save',
  aliases: ['image save'],
  usage: 'berth save [OPTIONS] IMAGE [IMAGE...]',
  summary: 'Save one or more images to a tar archive (streamed to STDOUT by default)',
  minArgs: 1,
  flags: [{ name: 'output', short: 'o', type: 'string', usage: 'Write to a file, instead of STDOUT' }],
  async run(ctx, args, flags) {
    const output = typeof flags.output === 'string' ? flags.output : '';
    checkTarOutput(ctx, output);
    const client = await ctx.client();
    await writeTarOutput(ctx, await client.saveImages(args), output, 'save image');
    return 0;
  },
};
