// `berth import` (docker/cli cli/command/image/import.go): a filesystem tar (file or "-")
// becomes an image; the daemon's progress (the new ID) is printed.
import type { CommandDef } from '../command.js';
import { StatusError } from '../command.js';
import { openFile } from './load.js';

export const importCommand: CommandDef = {
  name: 'import',
  aliases: ['image import'],
  usage: 'berth import [OPTIONS] file|URL|- [REPOSITORY[:TAG]]',
  summary: 'Import the contents from a tarball to create a filesystem image',
  minArgs: 1,
  maxArgs: 2,
  flags: [
    { name: 'change', short: 'c', type: 'list', usage: 'Apply Dockerfile instruction to the created image' },
    { name: 'message', short: 'm', type: 'string', usage: 'Set commit message for imported image' },
    { name: 'platform', type: 'string', usage: 'Set platform if server is multi-platform capable' },
  ],
  async run(ctx, args, flags) {
    const [src, ref] = args as [string, string | undefined];
    // As docker: an http(s) URL is downloaded by the daemon, anything else is a file (or - for stdin).
    const source = src === '-' ? ctx.stdin : /^https?:\/\//.test(src) ? parseUrl(src) : await openFile(src);
    if (ref !== undefined) {
      const { parseReference } = await import('../../images/reference.js');
      try {
        parseReference(ref);
      } catch {
        throw new StatusError(1, 'invalid reference format');
      }
    }
    const { displayJSONMessages } = await import('../format/progress.js');
    const client = await ctx.client();
    const platform = typeof flags.platform === 'string' && flags.platform ? flags.platform : ctx.env.DOCKER_DEFAULT_PLATFORM;
    const stream = client.importImage(source, {
      ...(ref !== undefined ? { repoTag: ref } : {}),
      message: typeof flags.message === 'string' ? flags.message : '',
      changes: Array.isArray(flags.change) ? (flags.change as string[]) : [],
      ...(platform ? { platform } : {}),
    });
    await displayJSONMessages(stream, ctx.stdout, ctx.stdout.isTTY === true);
    return 0;
  },
};

function parseUrl(src: string): URL {
  try {
    return new URL(src);
  } catch {
    throw new StatusError(1, `invalid URL: ${src}`);
  }
}
