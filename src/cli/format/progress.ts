// Docker's rendering of JSON progress streams (pull, push, load, import): moby's
// pkg/jsonmessage DisplayJSONMessagesStream. On a terminal every layer keeps its own line,
// rewritten in place with ANSI cursor movement and a progress bar; otherwise only the
// status lines are printed (no bars, no per-byte updates).
import type { JSONMessage } from '../../oci/engine-api.js';
import { BerthError } from '../../util/errors.js';
import { humanSize } from '../../util/units.js';
import { exactInteger, rfc3339NanoFixed } from './time.js';

/** A progress message as it comes off the wire (jsonmessage.JSONMessage's optional fields). */
export interface WireJSONMessage extends JSONMessage {
  progressDetail?: { current?: number; total?: number; start?: number; hidecounts?: boolean; units?: string };
  from?: string;
  time?: number;
  timeNano?: number;
}

/** The errorDetail of a progress stream: docker prints its message and exits 1. */
export class JSONMessageError extends BerthError {
  constructor(message: string, readonly errorCode?: number) {
    super('Internal', message);
    this.name = 'JSONMessageError';
  }
}

const ESC = '\x1b[';
const clearLine = `${ESC}2K`;
const cursorUp = (n: number): string => (n === 0 ? '' : `${ESC}${n}A`);
const cursorDown = (n: number): string => (n === 0 ? '' : `${ESC}${n}B`);

/** Go's time.Duration.String() for a whole number of seconds ("1m5s", "0s"). */
function durationSeconds(totalSeconds: number): string {
  if (totalSeconds === 0) return '0s';
  const h = Math.trunc(totalSeconds / 3600);
  const m = Math.trunc((totalSeconds % 3600) / 60);
  const s = totalSeconds % 60;
  return (h ? `${h}h` : '') + (h || m ? `${m}m` : '') + `${s}s`;
}

/** JSONProgress.String(): "[=====>      ]  1.2MB/3.4MB 5s" sized for a terminal `width` columns wide. */
export function progressString(p: NonNullable<WireJSONMessage['progressDetail']>, width: number, nowMs: number = Date.now()): string {
  const current = p.current ?? 0;
  const total = p.total ?? 0;
  if (current <= 0 && total <= 0) return '';
  if (total <= 0) {
    return p.units ? `${current} ${p.units}` : humanSize(current).padStart(8);
  }
  let percentage = Math.min(50, Math.trunc(Math.trunc((current / total) * 100) / 2));
  if (percentage < 0) percentage = 0;
  let bar = '';
  if (width > 110) bar = `[${'='.repeat(percentage)}>${' '.repeat(Math.max(0, 50 - percentage))}] `;
  let numbers = '';
  if (!p.hidecounts) {
    if (!p.units) {
      const cur = humanSize(current);
      numbers = current > total ? cur.padStart(8) : `${cur.padStart(8)}/${humanSize(total)}`;
    } else {
      numbers = current > total ? `${current} ${p.units}` : `${current}/${total} ${p.units}`;
    }
  }
  let timeLeft = '';
  if (width > 50 && current > 0 && (p.start ?? 0) > 0 && percentage < 50) {
    const fromStartNs = BigInt(Math.round(nowMs)) * 1_000_000n - BigInt(p.start as number) * 1_000_000_000n;
    const perEntry = fromStartNs / BigInt(current);
    const leftNs = BigInt(total - current) * perEntry;
    timeLeft = ' ' + durationSeconds(Math.round(Number(leftNs) / 1e9));
  }
  return bar + numbers + timeLeft;
}

function timestamp(jm: WireJSONMessage): string {
  if (jm.timeNano) return rfc3339NanoFixed(exactInteger(jm.timeNano)) + ' ';
  if (jm.time) return rfc3339NanoFixed(BigInt(jm.time) * 1_000_000_000n) + ' ';
  return '';
}

/** JSONMessage.Display: the text for one message (throws on an error message). */
export function displayMessage(jm: WireJSONMessage, isTerminal: boolean, width: number): string | undefined {
  if (jm.errorDetail) throw new JSONMessageError(jm.errorDetail.message ?? '', jm.errorDetail.code);
  if (jm.error) throw new JSONMessageError(jm.error);
  let out = '';
  let endl = '';
  const progress = jm.progressDetail;
  if (isTerminal && !jm.stream && progress) {
    out += clearLine + '\r';
    endl = '\r';
  } else if (progress && progressString(progress, width) !== '') {
    // no progress bars when not a terminal
    return undefined;
  }
  out += timestamp(jm);
  if (jm.id) out += `${jm.id}: `;
  if (jm.from) out += `(from ${jm.from}) `;
  const status = jm.status ?? '';
  if (progress && isTerminal) out += `${status} ${progressString(progress, width)}${endl}`;
  else if (jm.progress) out += `${status} ${jm.progress}${endl}`;
  else if (jm.stream) out += `${jm.stream}${endl}`;
  else out += `${status}${endl}\n`;
  return out;
}

export interface DisplayOptions {
  /** Terminal width for the bar (docker asks the terminal; 200 when it cannot). */
  width?: number;
  /** Called with each `aux` message (docker's auxCallback: push digests, load IDs). */
  onAux?: (message: WireJSONMessage) => void;
}

/**
 * DisplayJSONMessagesStream: print a progress stream as docker does. Throws
 * JSONMessageError on a message carrying errorDetail (after printing what came before).
 */
export async function displayJSONMessages(
  stream: AsyncIterable<JSONMessage>,
  out: NodeJS.WritableStream,
  isTerminal: boolean,
  options: DisplayOptions = {},
): Promise<void> {
  const ids = new Map<string, number>();
  const width = (): number => options.width ?? (typeof (out as NodeJS.WriteStream).columns === 'number' ? (out as NodeJS.WriteStream).columns : 200);
  for await (const message of stream) {
    const jm = message as WireJSONMessage;
    if (jm.aux !== undefined && jm.aux !== null) {
      options.onAux?.(jm);
      continue;
    }
    let diff = 0;
    let text = '';
    if (jm.id && (jm.progressDetail || jm.progress)) {
      let line = ids.get(jm.id);
      if (line === undefined) {
        line = ids.size;
        ids.set(jm.id, line);
        if (isTerminal) text += '\n';
      }
      diff = ids.size - line;
      if (isTerminal) text += cursorUp(diff);
    } else {
      // A message without progress resets the line bookkeeping, as docker's does.
      ids.clear();
    }
    // Docker moves the cursor back down even when the message is an error, then fails.
    let shown: string | undefined;
    let failure: unknown;
    try {
      shown = displayMessage(jm, isTerminal, width());
    } catch (err) {
      failure = err;
    }
    if (shown !== undefined) text += shown;
    if (jm.id && isTerminal) text += cursorDown(diff);
    if (text) out.write(text);
    if (failure !== undefined) throw failure;
  }
}
