// Human-readable sizes, durations, container status strings and ID truncation, exactly as
// docker prints them (github.com/docker/go-units size.go and duration.go, moby's
// container/state.go State.String, pkg/stringid, docker/cli formatter/displayutils.go).
import type { ContainerState } from '../oci/engine-api.js';
import { formatG } from './numbers.js';

const DECIMAL_UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'];
const BINARY_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB', 'ZiB', 'YiB'];

function scale(size: number, base: number, units: string[]): [number, string] {
  let i = 0;
  while (size >= base && i < units.length - 1) {
    size /= base;
    i++;
  }
  return [size, units[i] as string];
}

/** go-units HumanSizeWithPrecision: decimal units, `precision` significant digits ("4.86MB"). */
export function humanSizeWithPrecision(size: number, precision: number): string {
  const [value, unit] = scale(size, 1000, DECIMAL_UNITS);
  return formatG(value, precision) + unit;
}

/** go-units HumanSize: decimal units, 4 significant digits ("1.049MB", "0B"). */
export function humanSize(size: number): string {
  return humanSizeWithPrecision(size, 4);
}

/** go-units BytesSize: binary units, 4 significant digits ("1.5MiB"), as `stats` and `info` print. */
export function bytesSize(size: number): string {
  const [value, unit] = scale(size, 1024, BINARY_UNITS);
  return formatG(value, 4) + unit;
}

/** go-units HumanDuration ("Less than a second", "About a minute", "3 days", …). */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  if (seconds < 1) return 'Less than a second';
  if (seconds === 1) return '1 second';
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.trunc(ms / 60_000);
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.trunc(ms / 3_600_000 + 0.5);
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.trunc(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.trunc(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24 / 30)} months`;
  return `${Math.trunc(Math.trunc(ms / 3_600_000) / 24 / 365)} years`;
}

/** "5 minutes ago" for a Unix time in seconds, as the CREATED columns print it. */
export function timeAgo(unixSeconds: number, nowMs: number = Date.now()): string {
  return `${humanDuration(nowMs - unixSeconds * 1000)} ago`;
}

/** Go's zero time.Time marshals as "0001-01-01T00:00:00Z". */
export function isZeroTime(time: string | undefined): boolean {
  return !time || time.startsWith('0001-01-01');
}

export type StatusInput = Pick<ContainerState, 'Running' | 'Paused' | 'Restarting' | 'Dead' | 'StartedAt' | 'FinishedAt' | 'ExitCode'> & {
  Health?: { Status: string } | undefined;
  /** The container is being removed (State "removing"). */
  RemovalInProgress?: boolean;
};

function since(time: string, nowMs: number): string {
  return humanDuration(nowMs - Date.parse(time));
}

/**
 * The `Status` column of /containers/json (moby container/state.go State.String):
 * "Up 5 minutes", "Up 5 minutes (Paused)", "Up 2 seconds (healthy)", "Exited (0) 2 seconds ago",
 * "Created", "Restarting (1) 3 seconds ago", "Removal In Progress", "Dead".
 */
export function containerStatusText(state: StatusInput, nowMs: number = Date.now()): string {
  if (state.Running || state.Restarting || state.Paused) {
    if (state.Paused) return `Up ${since(state.StartedAt, nowMs)} (Paused)`;
    if (state.Restarting) return `Restarting (${state.ExitCode}) ${since(state.FinishedAt, nowMs)} ago`;
    const health = state.Health?.Status;
    if (health && health !== 'none') {
      const text = health === 'starting' ? 'health: starting' : health;
      return `Up ${since(state.StartedAt, nowMs)} (${text})`;
    }
    return `Up ${since(state.StartedAt, nowMs)}`;
  }
  if (state.RemovalInProgress) return 'Removal In Progress';
  if (state.Dead) return 'Dead';
  if (isZeroTime(state.StartedAt)) return 'Created';
  if (isZeroTime(state.FinishedAt)) return '';
  return `Exited (${state.ExitCode}) ${since(state.FinishedAt, nowMs)} ago`;
}

/** moby pkg/stringid TruncateID: drop an "algo:" prefix, keep 12 characters. */
export function truncateId(id: string): string {
  const colon = id.indexOf(':');
  const bare = colon >= 0 ? id.slice(colon + 1) : id;
  return bare.length > 12 ? bare.slice(0, 12) : bare;
}

/** Display width of a code point: 2 for East Asian Wide/Fullwidth, else 1 (golang.org/x/text/width). */
export function charWidth(codePoint: number): number {
  const wide =
    (codePoint >= 0x1100 && codePoint <= 0x115f) ||
    (codePoint >= 0x231a && codePoint <= 0x231b) ||
    (codePoint >= 0x2329 && codePoint <= 0x232a) ||
    (codePoint >= 0x2e80 && codePoint <= 0x303e) ||
    (codePoint >= 0x3041 && codePoint <= 0x33ff) ||
    (codePoint >= 0x3400 && codePoint <= 0x4dbf) ||
    (codePoint >= 0x4e00 && codePoint <= 0x9fff) ||
    (codePoint >= 0xa000 && codePoint <= 0xa4cf) ||
    (codePoint >= 0xac00 && codePoint <= 0xd7a3) ||
    (codePoint >= 0xf900 && codePoint <= 0xfaff) ||
    (codePoint >= 0xfe30 && codePoint <= 0xfe4f) ||
    (codePoint >= 0xff00 && codePoint <= 0xff60) ||
    (codePoint >= 0xffe0 && codePoint <= 0xffe6) ||
    (codePoint >= 0x1f300 && codePoint <= 0x1f64f) ||
    (codePoint >= 0x1f900 && codePoint <= 0x1f9ff) ||
    (codePoint >= 0x20000 && codePoint <= 0x3fffd);
  return wide ? 2 : 1;
}

/** Display width of a string (combining marks are not special-cased, as go-runewidth mostly does). */
export function displayWidth(text: string): number {
  let width = 0;
  for (const ch of text) width += charWidth(ch.codePointAt(0) as number);
  return width;
}

/** docker/cli formatter.Ellipsis: cut to `maxWidth` display columns, the last one "…". */
export function ellipsis(text: string, maxWidth: number): string {
  if (maxWidth <= 0) return '';
  const runes = Array.from(text);
  if (maxWidth === 1) return runes[0] ?? '';
  const asciiOnly = Buffer.byteLength(text) === runes.length;
  if (asciiOnly) {
    return runes.length <= maxWidth ? text : runes.slice(0, maxWidth - 1).join('') + '…';
  }
  const cumulative: number[] = [];
  let total = 0;
  for (const r of runes) {
    total += charWidth(r.codePointAt(0) as number);
    cumulative.push(total);
  }
  if (total <= maxWidth) return text;
  for (let i = 0; i < cumulative.length - 1; i++) {
    if ((cumulative[i] as number) <= maxWidth - 1 && (cumulative[i + 1] as number) > maxWidth - 1) {
      return runes.slice(0, i + 1).join('') + '…';
    }
  }
  return text;
}

/** Go's strconv.Quote for the strings docker quotes (the COMMAND column). */
export function goQuote(text: string): string {
  let out = '"';
  for (const ch of text) {
    const cp = ch.codePointAt(0) as number;
    switch (ch) {
      case '"': out += '\\"'; break;
      case '\\': out += '\\\\'; break;
      case '\n': out += '\\n'; break;
      case '\r': out += '\\r'; break;
      case '\t': out += '\\t'; break;
      case '\x07': out += '\\a'; break;
      case '\b': out += '\\b'; break;
      case '\f': out += '\\f'; break;
      case '\v': out += '\\v'; break;
      default:
        if (cp < 0x20 || cp === 0x7f) out += `\\x${cp.toString(16).padStart(2, '0')}`;
        else if (cp >= 0x80 && cp < 0xa0) out += `\\u${cp.toString(16).padStart(4, '0')}`;
        else out += ch;
    }
  }
  return out + '"';
}
