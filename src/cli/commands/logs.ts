// `berth logs` (docker/cli cli/command/container/logs.go): a container's log, raw with a
// tty, otherwise demultiplexed to stdout and stderr; -f follows until the container stops.
import type { CommandDef } from '../command.js';
import { copyTo, demuxTo } from '../../client/streams.js';
import { cliTimestamp } from './read-support.js';

export const logsCommand: CommandDef = {
  name: 'logs',
  aliases: ['container logs'],
  usage: 'berth logs [OPTIONS] CONTAINER',
  summary: 'Fetch the logs of a container',
  minArgs: 1,
  maxArgs: 1,
  flags: [
    { name: 'details', type: 'bool', usage: 'Show extra details provided to logs' },
    { name: 'follow', short: 'f', type: 'bool', usage: 'Follow log output' },
    { name: 'since', type: 'string', usage: 'Show logs since timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)' },
    { name: 'tail', short: 'n', type: 'string', usage: 'Number of lines to show from the end of the logs', default: 'all' },
    { name: 'timestamps', short: 't', type: 'bool', usage: 'Show timestamps' },
    { name: 'until', type: 'string', usage: 'Show logs before a timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)' },
  ],
  async run(ctx, args, flags) {
    const since = typeof flags.since === 'string' && flags.since ? cliTimestamp(flags.since) : undefined;
    const until = typeof flags.until === 'string' && flags.until ? cliTimestamp(flags.until) : undefined;
    const client = await ctx.client();
    const c = await client.inspectContainer(args[0]!);
    const body = await client.containerLogs(c.Id, {
      stdout: true,
      stderr: true,
      follow: flags.follow === true,
      timestamps: flags.timestamps === true,
      details: flags.details === true,
      tail: typeof flags.tail === 'string' ? flags.tail : 'all',
      ...(since ? { since } : {}),
      ...(until ? { until } : {}),
    });
    if (c.Config.Tty) await copyTo(body, ctx.stdout);
    else await demuxTo(body, ctx.stdout, ctx.stderr);
    return 0;
  },
};
