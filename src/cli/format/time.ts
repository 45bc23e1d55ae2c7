// Go's time layouts that docker's output uses, in the local time zone as Go would print them.

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** Minutes east of UTC at that instant. */
function offsetMinutes(date: Date): number {
  return -date.getTimezoneOffset();
}

function numericOffset(date: Date, colon: boolean): string {
  const off = offsetMinutes(date);
  const sign = off < 0 ? '-' : '+';
  const abs = Math.abs(off);
  return `${sign}${pad(Math.trunc(abs / 60))}${colon ? ':' : ''}${pad(abs % 60)}`;
}

/** Go's "Z07:00": "Z" at UTC, else "+01:00". */
function zoneZ(date: Date): string {
  return offsetMinutes(date) === 0 ? 'Z' : numericOffset(date, true);
}

/** Go's "MST": the zone abbreviation ("UTC", "CET"), or "+01" where the zone has none. */
function zoneName(date: Date): string {
  const off = offsetMinutes(date);
  if (off === 0 && (process.env['TZ'] === undefined || /^(UTC|GMT|Etc\/UTC|:?UTC0?|)$/.test(process.env['TZ'] ?? ''))) return 'UTC';
  const part = new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' }).formatToParts(date).find((p) => p.type === 'timeZoneName');
  if (part && /^[A-Z]{2,5}$/.test(part.value)) return part.value;
  const abs = Math.abs(off);
  return `${off < 0 ? '-' : '+'}${pad(Math.trunc(abs / 60))}${abs % 60 ? pad(abs % 60) : ''}`;
}

function dateTime(date: Date, sep: string): string {
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}${sep}${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}

/** Go's time.Time.String() for a whole-second time: "2006-01-02 15:04:05 -0700 MST". */
export function goTimeString(unixSeconds: number): string {
  const date = new Date(unixSeconds * 1000);
  return `${dateTime(date, ' ')} ${numericOffset(date, false)} ${zoneName(date)}`;
}

/** time.RFC3339 in local time: "2006-01-02T15:04:05+01:00". */
export function rfc3339(unixSeconds: number): string {
  const date = new Date(unixSeconds * 1000);
  return dateTime(date, 'T') + zoneZ(date);
}

/**
 * A JSON integer as Go's decoder reads it: JSON.parse rounds numbers above 2^53 to a double,
 * whose shortest spelling ("1764000000123456800") is what the text said to that precision.
 */
export function exactInteger(n: number): bigint {
  return BigInt(Number.isInteger(n) && Math.abs(n) < 1e21 ? String(n) : Math.trunc(n));
}

/** "2006-01-02T15:04:05.000000000Z07:00" (jsonmessage and events) from nanoseconds since the epoch. */
export function rfc3339NanoFixed(unixNanos: bigint): string {
  const seconds = unixNanos / 1_000_000_000n;
  const nanos = unixNanos % 1_000_000_000n;
  const date = new Date(Number(seconds) * 1000);
  return `${dateTime(date, 'T')}.${nanos.toString().padStart(9, '0')}${zoneZ(date)}`;
}

/**
 * docker version's reformatDate: an RFC 3339 time printed as time.ANSIC ("Mon Jan  2 15:04:05 2006")
 * in the offset it was written with; anything else is returned as is.
 */
export function reformatDate(text: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/.exec(text);
  if (!m) return text;
  const [, y, mo, d, h, mi, s] = m.map((x) => x ?? '') as string[];
  const utc = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)));
  if (Number.isNaN(utc.getTime())) return text;
  const day = DAYS[utc.getUTCDay()] as string;
  const month = MONTHS[utc.getUTCMonth()] as string;
  return `${day} ${month} ${String(utc.getUTCDate()).padStart(2, ' ')} ${h}:${mi}:${s} ${y}`;
}
