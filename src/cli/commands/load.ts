// `berth load` (docker/cli cli/command/image/load.go): a tar from -i FILE or stdin;
// progress as JSON messages (quiet unless stdout is a terminal, as docker asks).
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import type { CommandDef } from '../command.js';
import { StatusError } from '../command.js';

export const loadCommand: CommandDef = {
  name: 'load',
  aliases: ['image load'],
  usage: 'berth load [OPTIONS]',
  summary: 'Load an image from a tar archive or STDIN',
  maxArgs: 0,
  flags: [
    { name: 'input', short: 'i', type: 'string', usage: 'Read from tar archive file, instead of STDIN' },
    { name: 'quiet', short: 'q', type: 'bool', usage: 'Suppress the load output' },
  ],
  async run(ctx, _args, flags) {
    const input = typeof flags.input === 'string' ? flags.input : '';
    let source: Readable;
    if (input === '') {
      if (ctx.stdin.isTTY) throw new StatusError(1, 'requested load from stdin, but stdin is empty');
      source = ctx.stdin;
    } else {
      source = await openFile(input);
    }
    const quiet = flags.quiet === true || !ctx.stdout.isTTY;
    const { displayJSONMessages } = await import('../format/progress.js');
    const client = await ctx.client();
    await displayJSONMessages(client.loadImages(source, quiet), ctx.stdout, ctx.stdout.isTTY === true);
    return 0;
  },
};

/** Open now, so a missing file is reported before anything is sent. */
export function openFile(path: string): Promise<Readable> {
  return new Promise((resolve, reject) => {
    const s = createReadStream(path);
    s.once('open', () => resolve(s));
    s.once('error', (err) => reject(new StatusError(1, `open ${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : err.message}`)));
  });
}
