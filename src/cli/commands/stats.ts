// `berth stats` / `container stats` (docker/cli cli/command/container/stats.go): one stats
// stream per container, a table redrawn every 500 ms (cursor home, each line followed by
// "erase to end of line", then "erase below"), or a single table with --no-stream.
import type { EngineClient } from '../../client/index.js';
import type { Filters } from '../../oci/engine-api.js';
import { StatusError, type CommandDef } from '../command.js';
import { TABLE_FORMAT_KEY, formatRows } from '../format/formatter.js';
import { StatsContext, emptyStatsEntry, statsEntryFrom, statsFormat, statsHeader, type StatsEntry } from '../format/stats.js';
import { boolFlag, formatFlag, stringFlag } from './read-support.js';

const FIRST_SAMPLE_TIMEOUT_MS = 2000;
const REDRAW_INTERVAL_MS = 500;

/** One container being watched: its latest figures and the error that ended its stream, if any. */
class Collector {
  entry: StatsEntry;
  error: Error | undefined;
  private readonly abort = new AbortController();
  readonly firstSample: Promise<void>;

  constructor(readonly container: string, client: EngineClient, stream: boolean) {
    this.entry = emptyStatsEntry(container);
    this.firstSample = new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        // docker: "timeout waiting for stats" resets the figures and shows "--".
        this.entry = { ...emptyStatsEntry(container), isInvalid: true };
        this.error = new Error('timeout waiting for stats');
        resolve();
      }, FIRST_SAMPLE_TIMEOUT_MS);
      timer.unref();
      void this.collect(client, stream, () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private async collect(client: EngineClient, stream: boolean, gotFirst: () => void): Promise<void> {
    try {
      for await (const sample of client.containerStats(this.container, { stream }, this.abort.signal)) {
        this.entry = statsEntryFrom(this.container, sample);
        this.error = undefined;
        gotFirst();
        if (!stream) break;
      }
      if (stream && !this.abort.signal.aborted) this.fail(new Error('EOF'));
    } catch (err) {
      if (!this.abort.signal.aborted) this.fail(err instanceof Error ? err : new Error(String(err)));
    } finally {
      gotFirst();
    }
  }

  private fail(err: Error): void {
    this.error = err;
    this.entry = { ...this.entry, isInvalid: true };
  }

  stop(): void {
    this.abort.abort();
  }
}

class Watched {
  private readonly collectors: Collector[] = [];

  constructor(private readonly client: EngineClient, private readonly stream: boolean) {}

  add(container: string): Collector | undefined {
    if (this.collectors.some((c) => c.container === container)) return undefined;
    const c = new Collector(container, this.client, this.stream);
    this.collectors.push(c);
    return c;
  }

  remove(container: string): void {
    const i = this.collectors.findIndex((c) => c.container === container);
    if (i >= 0) this.collectors.splice(i, 1)[0]?.stop();
  }

  get all(): Collector[] {
    return this.collectors;
  }

  stopAll(): void {
    for (const c of this.collectors) c.stop();
  }
}

/** Follow container events so containers that start (or, with -a, are created) join the table. */
async function followEvents(client: EngineClient, watched: Watched, all: boolean, filters: Filters, signal: AbortSignal): Promise<void> {
  try {
    for await (const ev of client.events({ filters: { ...filters, type: ['container'] } }, signal)) {
      const id = (ev.Actor?.ID ?? ev.id ?? '').slice(0, 12);
      if (ev.Action === 'start' || (all && ev.Action === 'create')) watched.add(id);
      else if (!all && ev.Action === 'die') watched.remove(id);
    }
  } catch {
    // the table keeps showing what it has; docker reports the error only when it stops
  }
}

/** One frame of the table, as docker writes it to its buffer before printing. */
export function renderStatsFrame(format: string, entries: StatsEntry[], trunc: boolean, stream: boolean): string {
  let buffer = stream ? '\x1b[H' : '';
  buffer += formatRows(format, entries.map((e) => new StatsContext(e, trunc)), statsHeader());
  if (stream) {
    // docker appends every line again, each followed by " \x1b[K", then "\x1b[J".
    for (const line of buffer.split('\n')) buffer += `${line} \x1b[K\n`;
    buffer += '\x1b[J';
  }
  return buffer;
}

export const statsCommand: CommandDef = {
  name: 'stats',
  aliases: ['container stats'],
  usage: 'docker stats [OPTIONS] [CONTAINER...]',
  summary: 'Display a live stream of container(s) resource usage statistics',
  flags: [
    { name: 'all', short: 'a', type: 'bool', usage: 'Show all containers (default shows just running)' },
    formatFlag(),
    { name: 'no-stream', type: 'bool', usage: 'Disable streaming stats and only pull the first result' },
    { name: 'no-trunc', type: 'bool', usage: 'Do not truncate output' },
  ],
  async run(ctx, args, flags) {
    const client = await ctx.client();
    const stream = !boolFlag(flags['no-stream']);
    const all = boolFlag(flags['all']);
    const watched = new Watched(client, stream);
    const showAll = args.length === 0;
    const events = new AbortController();
    try {
      if (showAll) {
        if (stream) void followEvents(client, watched, all, {}, events.signal);
        const containers = await client.listContainers({ all });
        for (const c of containers) watched.add(c.Id.slice(0, 12));
        await Promise.all(watched.all.map((c) => c.firstSample));
      } else {
        for (const name of args) watched.add(name);
        await Promise.all(watched.all.map((c) => c.firstSample));
        const errors = watched.all.filter((c) => c.error !== undefined).map((c) => (c.error as Error).message);
        if (errors.length > 0) throw new StatusError(1, errors.join('\n'));
      }
      const format = statsFormat(stringFlag(flags['format']) || TABLE_FORMAT_KEY);
      const trunc = !boolFlag(flags['no-trunc']);
      for (;;) {
        ctx.stdout.write(renderStatsFrame(format, watched.all.map((c) => c.entry), trunc, stream));
        if ((watched.all.length === 0 && !showAll) || !stream) return 0;
        await new Promise((resolve) => setTimeout(resolve, REDRAW_INTERVAL_MS));
      }
    } finally {
      events.abort();
      watched.stopAll();
    }
  },
};
