// `berth rmi` / `image rm` (docker/cli cli/command/image/remove.go): print what was
// untagged and deleted; with -f a missing image is reported but not fatal.
import { isClientError } from '../../client/errors.js';
import type { CommandDef } from '../command.js';
import { StatusError } from '../command.js';

export const rmiCommand: CommandDef = {
  name: 'rmi',
  aliases: ['image rm', 'image remove', 'image rmi'],
  usage: 'berth rmi [OPTIONS] IMAGE [IMAGE...]',
  summary: 'Remove one or more images',
  minArgs: 1,
  flags: [
    { name: 'force', short: 'f', type: 'bool', usage: 'Force removal of the image' },
    { name: 'no-prune', type: 'bool', usage: 'Do not delete untagged parents' },
  ],
  async run(ctx, args, flags) {
    const force = flags.force === true;
    const client = await ctx.client();
    const errors: string[] = [];
    let fatal = false;
    for (const image of args) {
      try {
        const items = await client.removeImage(image, { force, noprune: flags['no-prune'] === true });
        for (const item of items ?? []) {
          if (item.Deleted) ctx.stdout.write(`Deleted: ${item.Deleted}\n`);
          else ctx.stdout.write(`Untagged: ${item.Untagged ?? ''}\n`);
        }
      } catch (err) {
        if (!isClientError(err, 404)) fatal = true;
        errors.push((err as Error).message);
      }
    }
    if (errors.length > 0) {
      if (!force || fatal) throw new StatusError(1, errors.join('\n'));
      ctx.stderr.write(`${errors.join('\n')}\n`);
    }
    return 0;
  },
};
