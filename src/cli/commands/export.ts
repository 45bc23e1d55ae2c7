// `berth export` (docker/cli cli/command/container/export.go): a container's filesystem as
// a tar to -o FILE or stdout (never a terminal).
import { createWriteStream, renameSync, unlinkSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { CommandDef } from '../command.js';
import { StatusError } from '../command.js';

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
    if (output === '' && ctx.stdout.isTTY) throw new StatusError(1, 'cowardly refusing to save to a terminal. Use the -o flag or redirect');
    const client = await ctx.client();
    const body = await client.exportContainer(args[0]!);
    if (output === '') {
      await pipeline(body, ctx.stdout, { end: false });
      return 0;
    }
    const temp = join(dirname(output), `.${basename(output)}.berth-export-${process.pid}`);
    try {
      await pipeline(body, createWriteStream(temp, { mode: 0o600 }));
      renameSync(temp, output);
    } catch (err) {
      try {
        unlinkSync(temp);
      } catch {
        // never created
      }
      throw new StatusError(1, `failed to export container: ${(err as Error).message}`);
    }
    return 0;
  },
};
