// `berth images` / `image ls` (docker/cli cli/command/image/list.go).
import type { CommandDef } from '../command.js';
import { TABLE_FORMAT_KEY, formatRows } from '../format/formatter.js';
import { imageFormat, imageHeader, imageRows } from '../format/image.js';
import { boolFlag, filterFlag, formatFlag, listFlag, parseFilters, stringFlag } from './read-support.js';

/** Words that, given as `images WORD`, were probably meant as `image WORD`. */
const IMAGE_SUBCOMMANDS = new Set(['build', 'history', 'import', 'inspect', 'list', 'load', 'ls', 'prune', 'pull', 'push', 'rm', 'save', 'tag']);

export const imagesCommand: CommandDef = {
  name: 'images',
  aliases: ['image ls', 'image list'],
  usage: 'docker images [OPTIONS] [REPOSITORY[:TAG]]',
  summary: 'List images',
  maxArgs: 1,
  flags: [
    { name: 'all', short: 'a', type: 'bool', usage: 'Show all images (default hides intermediate images)' },
    { name: 'digests', type: 'bool', usage: 'Show digests' },
    filterFlag(),
    formatFlag(),
    { name: 'no-trunc', type: 'bool', usage: "Don't truncate output" },
    { name: 'quiet', short: 'q', type: 'bool', usage: 'Only show image IDs' },
  ],
  async run(ctx, args, flags) {
    const filters = parseFilters(listFlag(flags['filter']));
    const matchName = args[0];
    if (matchName !== undefined) (filters['reference'] ??= []).push(matchName);
    const client = await ctx.client();
    const images = await client.listImages({ all: boolFlag(flags['all']), filters });
    const quiet = boolFlag(flags['quiet']);
    const showDigests = boolFlag(flags['digests']);
    const source = stringFlag(flags['format']) || TABLE_FORMAT_KEY;
    const format = imageFormat(source, quiet, showDigests);
    const trunc = !boolFlag(flags['no-trunc']);
    const needDigest = showDigests || format.includes('{{.Digest}}');
    const now = Date.now();
    const rows = images.flatMap((img) => imageRows(img, { trunc, showDigests, needDigest, nowMs: now }));
    ctx.stdout.write(formatRows(format, rows, imageHeader()));
    if (matchName !== undefined && images.length === 0 && IMAGE_SUBCOMMANDS.has(matchName)) {
      ctx.stderr.write(`\nNo images found matching "${matchName}": did you mean "berth image ${matchName}"?\n`);
    }
    return 0;
  },
};
