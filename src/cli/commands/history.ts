// `berth history` / `image history` (docker/cli cli/command/image/history.go).
import type { CommandDef } from '../command.js';
import { TABLE_FORMAT_KEY, formatRows } from '../format/formatter.js';
import { HistoryContext, historyFormat, historyHeader } from '../format/history.js';
import { boolFlag, formatFlag, stringFlag } from './read-support.js';

export const historyCommand: CommandDef = {
  name: 'history',
  aliases: ['image history'],
  usage: 'docker history [OPTIONS] IMAGE',
  summary: 'Show the history of an image',
  minArgs: 1,
  maxArgs: 1,
  flags: [
    formatFlag(),
    { name: 'human', short: 'H', type: 'bool', usage: 'Print sizes and dates in human readable format', default: true },
    { name: 'no-trunc', type: 'bool', usage: "Don't truncate output" },
    { name: 'quiet', short: 'q', type: 'bool', usage: 'Only show image IDs' },
  ],
  async run(ctx, args, flags) {
    const client = await ctx.client();
    const history = await client.imageHistory(args[0] as string);
    const human = flags['human'] !== false;
    const format = historyFormat(stringFlag(flags['format']) || TABLE_FORMAT_KEY, boolFlag(flags['quiet']), human);
    const trunc = !boolFlag(flags['no-trunc']);
    const now = Date.now();
    ctx.stdout.write(formatRows(format, history.map((h) => new HistoryContext(h, trunc, human, now)), historyHeader()));
    return 0;
  },
};
