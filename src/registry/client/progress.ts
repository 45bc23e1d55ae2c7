// Docker's JSON progress messages (moby's jsonmessage.JSONMessage), built exactly as
// dockerd's stream formatter builds them for `docker pull` and `docker push`, so the
// docker CLI and docker-py render berth's pulls as they render Docker's.
//
// dockerd has two shapes: a plain status ({"status","id"}: "Pulling from …", "Digest: …")
// and a progress update, which always carries progressDetail (an empty object when there
// are no counts: "Pulling fs layer", "Pull complete") and a `progress` bar string when
// there are counts.
import type { Digest } from '../../util/digest.js';
import { truncateId } from '../../util/units.js';

export interface ProgressDetail {
  current?: number;
  total?: number;
}

/** The `aux` of a push's last message (moby's types.PushResult). */
export interface PushAux {
  Tag: string;
  Digest: string;
  Size: number;
}

export interface ErrorDetail {
  code?: number;
  message: string;
}

/** One message of Docker's JSON progress stream; fields in the order Go encodes them. */
export interface JSONMessage {
  status?: string;
  progressDetail?: ProgressDetail;
  /** The rendered bar, e.g. "[=====>     ]  1.024kB/2.167kB" (deprecated by Docker, still read by clients). */
  progress?: string;
  id?: string;
  errorDetail?: ErrorDetail;
  error?: string;
  aux?: PushAux;
}

export type ProgressListener = (message: JSONMessage) => void;

/** dockerd computes the bar for a terminal it cannot see, so always for its fallback width. */
const DAEMON_TERMINAL_WIDTH = 200;

/** Docker's short ID of a digest: the first 12 hex characters (stringid.TruncateID). */
export const shortId: (digest: Digest | string) => string = truncateId;

/** A status line: {"status": …, "id": …} (progress.Message). */
export function statusMessage(status: string, id?: string): JSONMessage {
  return id ? { status, id } : { status };
}

/** A progress update (progress.Update / a progress reader); counts are optional. */
export function progressMessage(id: string, action: string, current?: number, total?: number): JSONMessage {
  const detail: ProgressDetail = {};
  // Go's omitempty: zero counts are not written.
  if (current) detail.current = current;
  if (total) detail.total = total;
  const bar = progressBar(current ?? 0, total ?? 0);
  const m: JSONMessage = { status: action, progressDetail: detail };
  if (bar !== '') m.progress = bar;
  if (id) m.id = id;
  return m;
}

/** The push's closing aux message: {"progressDetail":{},"aux":{Tag,Digest,Size}}. */
export function auxMessage(aux: PushAux): JSONMessage {
  return { progressDetail: {}, aux };
}

/** An error in the stream, as dockerd writes a failed pull's last line. */
export function errorMessage(message: string): JSONMessage {
  return { errorDetail: { message }, error: message };
}

// ---- pull and push vocabulary -------------------------------------------------------

export const pullMessages = {
  pullingFrom: (repo: string, tagOrDigest: string): JSONMessage => statusMessage(`Pulling from ${repo}`, tagOrDigest),
  pullingFsLayer: (id: string): JSONMessage => progressMessage(id, 'Pulling fs layer'),
  waiting: (id: string): JSONMessage => progressMessage(id, 'Waiting'),
  downloading: (id: string, current: number, total: number): JSONMessage => progressMessage(id, 'Downloading', current, total),
  retrying: (id: string, seconds: number): JSONMessage => progressMessage(id, `Retrying in ${seconds} second${seconds === 1 ? '' : 's'}`),
  verifying: (id: string): JSONMessage => progressMessage(id, 'Verifying Checksum'),
  downloadComplete: (id: string): JSONMessage => progressMessage(id, 'Download complete'),
  extracting: (id: string, current: number, total: number): JSONMessage => progressMessage(id, 'Extracting', current, total),
  pullComplete: (id: string): JSONMessage => progressMessage(id, 'Pull complete'),
  alreadyExists: (id: string): JSONMessage => progressMessage(id, 'Already exists'),
  digest: (digest: string): JSONMessage => statusMessage(`Digest: ${digest}`),
  downloadedNewer: (ref: string): JSONMessage => statusMessage(`Status: Downloaded newer image for ${ref}`),
  upToDate: (ref: string): JSONMessage => statusMessage(`Status: Image is up to date for ${ref}`),
};

export const pushMessages = {
  refersTo: (name: string): JSONMessage => statusMessage(`The push refers to repository [${name}]`),
  preparing: (id: string): JSONMessage => progressMessage(id, 'Preparing'),
  waiting: (id: string): JSONMessage => progressMessage(id, 'Waiting'),
  pushing: (id: string, current: number, total: number): JSONMessage => progressMessage(id, 'Pushing', current, total),
  pushed: (id: string): JSONMessage => progressMessage(id, 'Pushed'),
  alreadyExists: (id: string): JSONMessage => progressMessage(id, 'Layer already exists'),
  mountedFrom: (id: string, repo: string): JSONMessage => progressMessage(id, `Mounted from ${repo}`),
  retrying: (id: string, seconds: number): JSONMessage => progressMessage(id, `Retrying in ${seconds} second${seconds === 1 ? '' : 's'}`),
  digest: (tag: string, digest: string, size: number): JSONMessage => statusMessage(`${tag}: digest: ${digest} size: ${size}`),
  aux: (tag: string, digest: string, size: number): JSONMessage => auxMessage({ Tag: tag, Digest: digest, Size: size }),
};

// ---- rendering ------------------------------------------------------------------------

const SIZE_UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'];

/** go-units HumanSize: decimal units, 4 significant digits, trailing zeros dropped ("1.024kB", "2MB"). */
export function humanSize(bytes: number): string {
  let size = bytes;
  let unit = 0;
  while (size >= 1000 && unit < SIZE_UNITS.length - 1) {
    size /= 1000;
    unit++;
  }
  return `${goG4(size)}${SIZE_UNITS[unit]}`;
}

/** Go's %.4g for 0 <= x < 1000 (the only range humanSize produces): no exponent, no trailing zeros. */
function goG4(x: number): string {
  const s = x.toPrecision(4);
  return s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s;
}

/** moby's JSONProgress.String() as the daemon renders it (no time left: dockerd sets no start time). */
export function progressBar(current: number, total: number, width = DAEMON_TERMINAL_WIDTH): string {
  if (current <= 0 && total <= 0) return '';
  if (total <= 0) return humanSize(current).padStart(8);
  const percentage = Math.min(50, Math.trunc(Math.trunc((current / total) * 100) / 2));
  const bar = width > 110 ? `[${'='.repeat(percentage)}>${' '.repeat(Math.max(0, 50 - percentage))}] ` : '';
  const numbers = current > total ? humanSize(current).padStart(8) : `${humanSize(current).padStart(8)}/${humanSize(total)}`;
  return bar + numbers;
}

/**
 * One message as dockerd writes it on the wire: Go's encoding/json (which escapes <, > and &
 * and the JS line separators) followed by dockerd's "\r\n".
 */
export function formatJSONMessage(m: JSONMessage): string {
  const ordered: JSONMessage = {};
  // Go writes fields in struct order; build that order whatever order the caller used.
  for (const key of ['status', 'progressDetail', 'progress', 'id', 'errorDetail', 'error', 'aux'] as const) {
    if (m[key] !== undefined) (ordered as Record<string, unknown>)[key] = m[key];
  }
  const json = JSON.stringify(ordered).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return `${json}\r\n`;
}

// ---- throttling -----------------------------------------------------------------------

/** dockerd's progress readers update at most ten times a second (and always at the end). */
export const PROGRESS_INTERVAL_MS = 100;

/**
 * Decides which byte counts of one transfer become messages: the first, the last, and
 * otherwise one per interval, so a fast download does not flood the client.
 */
export class ProgressThrottle {
  private last = -Infinity;
  private readonly intervalMs: number;
  private readonly now: () => number;

  constructor(intervalMs = PROGRESS_INTERVAL_MS, now: () => number = Date.now) {
    this.intervalMs = intervalMs;
    this.now = now;
  }

  shouldEmit(current: number, total: number): boolean {
    const t = this.now();
    if (current >= total || t - this.last >= this.intervalMs) {
      this.last = t;
      return true;
    }
    return false;
  }
}

/** A listener that never throws into the transfer: a broken client must not fail a pull. */
export function safeListener(listener: ProgressListener | undefined): ProgressListener {
  if (!listener) return () => undefined;
  return (m) => {
    try {
      listener(m);
    } catch {
      // The consumer's problem (e.g. a closed HTTP response); the transfer goes on.
    }
  };
}
