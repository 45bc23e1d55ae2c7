// `berth tag` (docker/cli cli/command/image/tag.go).
import type { CommandDef } from '../command.js';
import { StatusError } from '../command.js';
import { splitReference } from '../../client/client.js';

export const tagCommand: CommandDef = {
  name: 'tag',
  aliases: ['image tag'],
  usage: 'berth tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]',
  summary: 'Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE',
  interspersed: false,
  minArgs: 2,
  maxArgs: 2,
  flags: [],
  async run(ctx, args) {
    const { parseReference } = await import('../../images/reference.js');
    let target;
    try {
      target = parseReference(args[1]!);
    } catch {
      throw new StatusError(1, 'Error parsing reference: "' + args[1] + '" is not a valid repository/tag: invalid reference format');
    }
    if (target.digest) throw new StatusError(1, 'refusing to create a tag with a digest reference');
    const client = await ctx.client();
    await client.tagImage(args[0]!, target.name, target.tag ?? splitReference(args[1]!).tag ?? 'latest');
    return 0;
  },
};
