// `berth pull` (docker/cli cli/command/image/pull.go): pull with docker's progress display,
// then print the reference.
import type { CommandDef } from '../command.js';
import { StatusError } from '../command.js';
import { normalizedRef } from './image-refs.js';

export const pullCommand: CommandDef = {
  name: 'pull',
  aliases: ['image pull'],
  usage: 'berth pull [OPTIONS] NAME[:TAG|@DIGEST]',
  summary: 'Download an image from a registry',
  minArgs: 1,
  maxArgs: 1,
  flags: [
    { name: 'all-tags', short: 'a', type: 'bool', usage: 'Download all tagged images in the repository' },
    { name: 'platform', type: 'string', usage: 'Set platform if server is multi-platform capable' },
    { name: 'quiet', short: 'q', type: 'bool', usage: 'Suppress verbose output' },
  ],
  async run(ctx, args, flags) {
    const allTags = flags['all-tags'] === true;
    const quiet = flags.quiet === true;
    const ref = await normalizedRef(args[0]!, allTags);
    if (allTags && !ref.nameOnly) throw new StatusError(1, "tag can't be used with --all-tags/-a");
    if (ref.defaultedTag && !quiet) ctx.stdout.write(`Using default tag: ${ref.tag}\n`);
    const { registryAuthFor } = await import('../../client/auth.js');
    const { displayJSONMessages } = await import('../format/progress.js');
    const platform = typeof flags.platform === 'string' && flags.platform ? flags.platform : ctx.env.DOCKER_DEFAULT_PLATFORM;
    const client = await ctx.client();
    const auth = await registryAuthFor(ref.familiar).catch(() => undefined);
    const stream = client.pullImage(ref.familiar, { ...(platform ? { platform } : {}), ...(auth ? { auth } : {}), allTags });
    await displayJSONMessages(stream, quiet ? { write: () => true } as unknown as NodeJS.WritableStream : ctx.stdout, !quiet && ctx.stdout.isTTY === true);
    ctx.stdout.write(`${ref.full}\n`);
    return 0;
  },
};
