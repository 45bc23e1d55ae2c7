// `berth push` (docker/cli cli/command/image/push.go): push with docker's progress display.
import type { CommandDef } from '../command.js';
import { StatusError } from '../command.js';
import { normalizedRef } from './image-refs.js';

export const pushCommand: CommandDef = {
  name: 'push',
  aliases: ['image push'],
  usage: 'berth push [OPTIONS] NAME[:TAG]',
  summary: 'Upload an image to a registry',
  minArgs: 1,
  maxArgs: 1,
  flags: [
    { name: 'all-tags', short: 'a', type: 'bool', usage: 'Push all tags of an image to the repository', hidden: true },
    { name: 'quiet', short: 'q', type: 'bool', usage: 'Suppress verbose output' },
  ],
  async run(ctx, args, flags) {
    if (flags['all-tags'] === true) throw new StatusError(1, 'berth does not support --all-tags yet');
    const quiet = flags.quiet === true;
    const ref = await normalizedRef(args[0]!);
    if (ref.defaultedTag && !quiet) ctx.stdout.write(`Using default tag: ${ref.tag}\n`);
    const { registryAuthFor } = await import('../../client/auth.js');
    const { displayJSONMessages } = await import('../format/progress.js');
    const client = await ctx.client();
    const auth = await registryAuthFor(ref.familiar).catch(() => undefined);
    const stream = client.pushImage(ref.familiar, auth ? { auth } : {});
    await displayJSONMessages(stream, quiet ? { write: () => true } as unknown as NodeJS.WritableStream : ctx.stdout, !quiet && ctx.stdout.isTTY === true);
    if (quiet) ctx.stdout.write(`${ref.full}\n`);
    return 0;
  },
};
