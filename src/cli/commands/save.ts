// `berth save` (docker/cli cli/command/image/save.go): a tar of images to -o FILE
// (written whole, then renamed into place) or to stdout, never to a terminal.
import { createWriteStream, renameSync, unlinkSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { CommandDef } from '../command.js';
import { StatusError } from '../command.js';

export const saveCommand: CommandDef = {
  name: 'save',
  aliases: ['image save'],
  usage: 'berth save [OPTIONS] IMAGE [IMAGE...]',
  summary: 'Save one or more images to a tar archive (streamed to STDOUT by default)',
  minArgs: 1,
  flags: [{ name: 'output', short: 'o', type: 'string', usage: 'Write to a file, instead of STDOUT' }],
  async run(ctx, args, flags) {
    const output = typeof flags.output === 'string' ? flags.output : '';
    if (output === '' && ctx.stdout.isTTY) throw new StatusError(1, 'cowardly refusing to save to a terminal. Use the -o flag or redirect');
    const client = await ctx.client();
    const body = await client.saveImages(args);
    if (output === '') {
      await pipeline(body, ctx.stdout, { end: false });
      return 0;
    }
    const temp = join(dirname(output), `.${basename(output)}.berth-save-${process.pid}`);
    try {
      await pipeline(body, createWriteStream(temp, { mode: 0o600 }));
      renameSync(temp, output);
    } catch (err) {
      try {
        unlinkSync(temp);
      } catch {
        // never created
      }
      throw new StatusError(1, `failed to save image: ${(err as Error).message}`);
    }
    return 0;
  },
};
