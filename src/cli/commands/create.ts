// `berth create` (docker/cli cli/command/container/create.go): the container is created
// (its image pulled when missing) and its ID printed.
import type { CommandDef } from '../command.js';
import { CONTAINER_FLAGS, CREATE_FLAGS } from './container-opts.js';
import { createContainer, requestFromFlags } from './create-flow.js';

export const createCommand: CommandDef = {
  name: 'create',
  aliases: ['container create'],
  usage: 'berth create [OPTIONS] IMAGE [COMMAND] [ARG...]',
  summary: 'Create a new container',
  interspersed: false,
  minArgs: 1,
  flags: [...CONTAINER_FLAGS, ...CREATE_FLAGS],
  async run(ctx, args, flags) {
    const { req, opts } = requestFromFlags(ctx, flags, args, 'create');
    const client = await ctx.client();
    const id = await createContainer(ctx, client, req, opts);
    ctx.stdout.write(`${id}\n`);
    return 0;
  },
};
