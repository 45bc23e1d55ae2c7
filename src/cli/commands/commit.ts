// `berth commit` (docker/cli cli/command/container/commit.go): print the new image's ID.
import type { CommandDef } from '../command.js';
import { StatusError } from '../command.js';
import { splitReference } from '../../client/client.js';

export const commitCommand: CommandDef = {
  name: 'commit',
  aliases: ['container commit'],
  usage: 'berth commit [OPTIONS] CONTAINER [REPOSITORY[:TAG]]',
  summary: "Create a new image from a container's changes",
  interspersed: false,
  minArgs: 1,
  maxArgs: 2,
  flags: [
    { name: 'author', short: 'a', type: 'string', usage: 'Author (e.g., "John Hannibal Smith <hannibal@a-team.com>")' },
    { name: 'change', short: 'c', type: 'list', usage: 'Apply Dockerfile instruction to the created image' },
    { name: 'message', short: 'm', type: 'string', usage: 'Commit message' },
    { name: 'no-pause', type: 'bool', usage: 'Disable pausing container during commit' },
    { name: 'pause', short: 'p', type: 'bool', usage: 'Pause container during commit (deprecated: use --no-pause instead)', default: true, hidden: true },
  ],
  async run(ctx, args, flags) {
    const [container, reference] = args as [string, string | undefined];
    const changed = ctx.changed ?? new Set();
    if (changed.has('pause') && changed.has('no-pause')) throw new StatusError(1, 'conflicting options: --no-pause and --pause cannot be used together');
    const pause = changed.has('no-pause') ? flags['no-pause'] !== true : flags.pause !== false;
    let repo: string | undefined;
    let tag: string | undefined;
    if (reference) {
      const { parseReference } = await import('../../images/reference.js');
      let ref;
      try {
        ref = parseReference(reference);
      } catch {
        throw new StatusError(1, 'invalid reference format');
      }
      if (ref.digest) throw new StatusError(1, 'refusing to create a tag with a digest reference');
      repo = ref.name;
      tag = ref.tag ?? splitReference(reference).tag;
    }
    const client = await ctx.client();
    const res = await client.commitContainer({
      container,
      ...(repo ? { repo } : {}),
      ...(tag ? { tag } : {}),
      comment: typeof flags.message === 'string' ? flags.message : '',
      author: typeof flags.author === 'string' ? flags.author : '',
      pause,
      changes: Array.isArray(flags.change) ? (flags.change as string[]) : [],
    });
    ctx.stdout.write(`${res.Id}\n`);
    return 0;
  },
};
