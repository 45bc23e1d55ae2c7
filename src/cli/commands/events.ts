// `berth events` / `system events` (docker/cli cli/command/system/events.go): one line per
// event, "2026-11-23T12:00:00.000000000Z container start <id> (image=…, name=…)", or --format.
import type { EventMessage } from '../../oci/engine-api.js';
import { StatusError, type CommandDef } from '../command.js';
import { JSON_FORMAT, JSON_FORMAT_KEY } from '../format/formatter.js';
import { Template, TemplateExecError, TemplateParseError } from '../format/template.js';
import { exactInteger, rfc3339NanoFixed } from '../format/time.js';
import { INSPECT_FORMAT_HELP, cliTimestamp, filterFlag, listFlag, parseFilters, stringFlag } from './read-support.js';

/** An event as a template sees it: Go's field names (events.Message); `{{json .}}` gives the wire form. */
export class EventView {
  readonly goType = '*events.Message';
  Status: string;
  ID: string;
  From: string;
  Type: string;
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> | null };
  Scope: string;
  Time: number;
  TimeNano: number;

  constructor(private readonly message: Partial<EventMessage>) {
    this.Status = message.status ?? '';
    this.ID = message.id ?? '';
    this.From = message.from ?? '';
    this.Type = message.Type ?? '';
    this.Action = message.Action ?? '';
    this.Actor = { ID: message.Actor?.ID ?? '', Attributes: message.Actor?.Attributes ?? null };
    this.Scope = message.scope ?? '';
    this.Time = message.time ?? 0;
    this.TimeNano = message.timeNano ?? 0;
  }

  toJSON(): Record<string, unknown> {
    const m = this.message;
    return {
      ...(m.status ? { status: m.status } : {}),
      ...(m.id ? { id: m.id } : {}),
      ...(m.from ? { from: m.from } : {}),
      Type: this.Type,
      Action: this.Action,
      Actor: { ID: this.Actor.ID, Attributes: this.Actor.Attributes ?? undefined },
      scope: this.Scope,
      time: this.Time,
      timeNano: this.TimeNano,
    };
  }
}

/** prettyPrintEvent. */
export function eventLine(ev: EventMessage): string {
  let out = '';
  if (ev.timeNano) out += rfc3339NanoFixed(exactInteger(ev.timeNano)) + ' ';
  else if (ev.time) out += rfc3339NanoFixed(BigInt(ev.time) * 1_000_000_000n) + ' ';
  out += `${ev.Type} ${ev.Action} ${ev.Actor?.ID ?? ''}`;
  const attrs = ev.Actor?.Attributes ?? {};
  const keys = Object.keys(attrs).sort();
  if (keys.length > 0) out += ` (${keys.map((k) => `${k}=${attrs[k]}`).join(', ')})`;
  return out + '\n';
}

/** makeTemplate: parse, and run once on an empty event so field errors show before any event. */
function makeTemplate(format: string): Template | undefined {
  if (format === '') return undefined;
  try {
    const tmpl = Template.parse(format === JSON_FORMAT_KEY ? JSON_FORMAT : format);
    tmpl.execute(new EventView({}));
    return tmpl;
  } catch (err) {
    if (err instanceof TemplateParseError || err instanceof TemplateExecError) throw new StatusError(64, `Error parsing format: ${err.message}`);
    throw err;
  }
}

export const eventsCommand: CommandDef = {
  name: 'events',
  aliases: ['system events'],
  usage: 'docker events [OPTIONS]',
  summary: 'Get real time events from the server',
  maxArgs: 0,
  flags: [
    filterFlag(),
    { name: 'format', type: 'string', usage: INSPECT_FORMAT_HELP },
    { name: 'since', type: 'string', usage: 'Show all events created since timestamp' },
    { name: 'until', type: 'string', usage: 'Stream events until this timestamp' },
  ],
  async run(ctx, _args, flags) {
    const tmpl = makeTemplate(stringFlag(flags['format']));
    const filters = parseFilters(listFlag(flags['filter']));
    const now = Date.now();
    const since = stringFlag(flags['since']);
    const until = stringFlag(flags['until']);
    const client = await ctx.client();
    const abort = new AbortController();
    const stop = (): void => abort.abort();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    try {
      const stream = client.events(
        { ...(since ? { since: cliTimestamp(since, now) } : {}), ...(until ? { until: cliTimestamp(until, now) } : {}), filters },
        abort.signal,
      );
      for await (const ev of stream) {
        if (!tmpl) {
          ctx.stdout.write(eventLine(ev));
          continue;
        }
        try {
          ctx.stdout.write(tmpl.execute(new EventView(ev)) + '\n');
        } catch (err) {
          if (!(err instanceof TemplateExecError)) throw err;
          ctx.stdout.write(err.partial + '\n');
          throw new StatusError(1, err.message);
        }
      }
    } finally {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    }
    return abort.signal.aborted ? 130 : 0;
  },
};
