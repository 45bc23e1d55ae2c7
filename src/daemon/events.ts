// The daemon's event stream (GET /events): every container and image action is published
// here, kept in a bounded history for `since`, and delivered to subscribers that match
// Docker's filters (type, event, container, image, label, daemon).
import { channel } from 'node:diagnostics_channel';
import type { EventMessage, Filters, StringMap } from '../oci/engine-api.js';
import { invalidArgument } from '../util/errors.js';
import type { Subscription } from './backend.js';
import { labelMatches } from '../util/labels.js';

/** dockerd keeps the last 256 events for `since`; a few more costs nothing. */
const HISTORY = 1024;
/** A subscriber that falls this far behind is cut off rather than grow without bound. */
const MAX_QUEUE = 10_000;

const FILTER_KEYS = new Set(['type', 'event', 'container', 'image', 'label', 'daemon', 'network', 'volume', 'scope']);

export const eventsChannel = channel('berth:daemon:event');

interface Subscriber {
  matches(e: EventMessage): boolean;
  push(e: EventMessage): void;
}

export class EventBus {
  private readonly history: EventMessage[] = [];
  private readonly subscribers = new Set<Subscriber>();

  get listeners(): number {
    return this.subscribers.size;
  }

  emit(type: EventMessage['Type'], action: string, id: string, attributes: StringMap = {}): EventMessage {
    const nowNs = BigInt(Date.now()) * 1_000_000n + process.hrtime.bigint() % 1_000_000n;
    const e: EventMessage = {
      Type: type, Action: action, Actor: { ID: id, Attributes: attributes }, scope: 'local',
      time: Number(nowNs / 1_000_000_000n), timeNano: Number(nowNs),
    };
    // Old clients (API < 1.22 fields, still sent by dockerd) read status/id/from.
    if (type === 'container' || type === 'image') {
      e.status = action;
      e.id = id;
      if (type === 'container' && attributes.image) e.from = attributes.image;
    }
    this.history.push(e);
    if (this.history.length > HISTORY) this.history.shift();
    for (const s of this.subscribers) if (s.matches(e)) s.push(e);
    if (eventsChannel.hasSubscribers) eventsChannel.publish(e);
    return e;
  }

  /** since/until are unix seconds (fractions allowed); until in the future keeps the stream open until then. */
  subscribe(opts: { since?: number; until?: number; filters: Filters }): Subscription {
    const matches = eventFilter(opts.filters);
    const untilNs = opts.until !== undefined ? opts.until * 1e9 : undefined;
    const sinceNs = opts.since !== undefined ? opts.since * 1e9 : undefined;
    const queue: EventMessage[] = [];
    let wake: (() => void) | undefined;
    let closed = false;
    let timer: NodeJS.Timeout | undefined;
    const inWindow = (e: EventMessage): boolean =>
      (sinceNs === undefined || e.timeNano >= sinceNs) && (untilNs === undefined || e.timeNano <= untilNs);
    const close = (): void => {
      closed = true;
      this.subscribers.delete(sub);
      if (timer) clearTimeout(timer);
      wake?.();
    };
    const sub: Subscriber = {
      matches: (e) => inWindow(e) && matches(e),
      push: (e) => {
        if (queue.length >= MAX_QUEUE) return close();
        queue.push(e);
        wake?.();
      },
    };
    if (sinceNs !== undefined) for (const e of this.history) if (sub.matches(e)) queue.push(e);
    const nowNs = Date.now() * 1e6;
    // An `until` in the past replays history only; one in the future ends the stream then.
    if (untilNs !== undefined && untilNs <= nowNs) closed = true;
    else {
      this.subscribers.add(sub);
      if (untilNs !== undefined) timer = setTimeout(close, Math.min((untilNs - nowNs) / 1e6, 2 ** 31 - 1));
    }
    async function* events(): AsyncGenerator<EventMessage> {
      try {
        for (;;) {
          while (queue.length > 0) yield queue.shift()!;
          if (closed) return;
          await new Promise<void>((r) => { wake = r; });
          wake = undefined;
        }
      } finally {
        close();
      }
    }
    return { events: events(), close };
  }
}

/** Docker's event filters: each key matches if any of its values does; all keys must match. */
export function eventFilter(filters: Filters): (e: EventMessage) => boolean {
  for (const key of Object.keys(filters)) {
    if (!FILTER_KEYS.has(key)) throw invalidArgument(`invalid filter '${key}'`);
  }
  const any = (key: string, test: (v: string) => boolean): boolean => {
    const values = filters[key];
    return values === undefined || values.length === 0 || values.some(test);
  };
  return (e) => {
    const attrs = e.Actor.Attributes;
    return (
      any('type', (v) => v === e.Type) &&
      any('event', (v) => v === e.Action || e.Action.startsWith(`${v}:`)) &&
      any('scope', (v) => v === e.scope) &&
      any('container', (v) => e.Type === 'container' && (e.Actor.ID.startsWith(v) || attrs.name === v)) &&
      any('image', (v) => (e.Type === 'image' && (e.Actor.ID === v || attrs.name === v)) || attrs.image === v || imageNameOnly(attrs.image) === v) &&
      any('label', (v) => labelMatches(attrs, v)) &&
      any('daemon', (v) => e.Type === 'daemon' && (e.Actor.ID === v || attrs.name === v)) &&
      any('network', (v) => e.Type === 'network' && (e.Actor.ID.startsWith(v) || attrs.name === v)) &&
      any('volume', (v) => e.Type === 'volume' && e.Actor.ID === v)
    );
  };
}

function imageNameOnly(ref: string | undefined): string | undefined {
  if (ref === undefined) return undefined;
  const at = ref.indexOf('@');
  const base = at >= 0 ? ref.slice(0, at) : ref;
  const colon = base.lastIndexOf(':');
  return colon > base.lastIndexOf('/') ? base.slice(0, colon) : base;
}
