// Pumping a hijacked attach/exec connection, as docker/cli's hijackedIOStreamer does:
// output demultiplexed (or raw with a tty) to stdout/stderr; stdin (raw mode on a
// terminal, watched for the detach keys) to the socket, half-closed at EOF; the terminal
// restored whatever happens. Also the terminal-size monitor and the signal proxy.
import type { HijackedConnection } from '../../client/index.js';
import { copyTo, demuxTo } from '../../client/streams.js';

export const DEFAULT_DETACH_KEYS = 'ctrl-p,ctrl-q';

/** moby/term ToBytes: "ctrl-p,ctrl-q" → [16, 17]; single characters stand for themselves. */
export function detachKeyBytes(keys: string): number[] {
  const out: number[] = [];
  for (const raw of keys.split(',')) {
    const key = raw.trim();
    if (key.length > 1 && key.toLowerCase().startsWith('ctrl-')) {
      const c = key.slice(5).toLowerCase();
      if (c.length !== 1) throw new Error(`Unknown character: '${key}'`);
      const code = c.charCodeAt(0);
      if (c >= 'a' && c <= 'z') out.push(code - 96);
      else if (c === '@') out.push(0);
      else if (c === '[') out.push(27);
      else if (c === '\\') out.push(28);
      else if (c === ']') out.push(29);
      else if (c === '^') out.push(30);
      else if (c === '_') out.push(31);
      else throw new Error(`Unknown character: '${key}'`);
    } else if (key.length === 1) {
      out.push(key.charCodeAt(0));
    } else {
      throw new Error(`Unknown character: '${key}'`);
    }
  }
  return out;
}

/** validateDetachKeys: the error docker gives for a bad --detach-keys. */
export function checkDetachKeys(keys: string): void {
  if (keys === '') return;
  try {
    detachKeyBytes(keys);
  } catch (err) {
    throw new Error(`invalid detach keys (${keys}): ${(err as Error).message}`);
  }
}

/**
 * Watches typed bytes for the detach sequence. Every byte is passed on (the daemon, told
 * the same keys, detaches too); `feed` reports when the whole sequence has been seen.
 */
export class DetachWatcher {
  private matched = 0;
  constructor(private readonly keys: number[]) {}

  /** Bytes up to and including the completed sequence, and whether it completed. */
  feed(chunk: Buffer): { forward: Buffer; detached: boolean } {
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i]!;
      if (b === this.keys[this.matched]) this.matched++;
      else this.matched = b === this.keys[0] ? 1 : 0;
      if (this.keys.length > 0 && this.matched === this.keys.length) {
        this.matched = 0;
        return { forward: chunk.subarray(0, i + 1), detached: true };
      }
    }
    return { forward: chunk, detached: false };
  }
}

export interface PumpOptions {
  conn: HijackedConnection;
  tty: boolean;
  /** Given when stdin is attached. */
  stdin?: NodeJS.ReadStream;
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
  /** "" for docker's default (ctrl-p,ctrl-q). */
  detachKeys: string;
}

export type PumpResult = 'done' | 'detached';

/** Run the streams until the output ends (or stdin ends when nothing is read) or the user detaches. */
export function pumpStreams(opts: PumpOptions): Promise<PumpResult> {
  const { conn, tty, stdin, stdout, stderr } = opts;
  const restoreTerminal = stdin && tty ? setRawMode(stdin) : () => undefined;
  const watcher = stdin && tty ? new DetachWatcher(detachKeyBytes(opts.detachKeys || DEFAULT_DETACH_KEYS)) : undefined;
  return new Promise<PumpResult>((resolve, reject) => {
    let finished = false;
    const finish = (result: PumpResult | Error): void => {
      if (finished) return;
      finished = true;
      stopInput();
      restoreTerminal();
      if (result instanceof Error) reject(result);
      else resolve(result);
    };
    const hasOutput = stdout !== undefined || stderr !== undefined;
    if (hasOutput) {
      const source = conn.socket as AsyncIterable<Buffer>;
      const copying = tty ? copyTo(source, stdout ?? stderr!) : demuxTo(source, stdout, stderr);
      copying.then(
        () => {
          restoreTerminal();
          finish('done');
        },
        (err: Error) => finish(isConnectionReset(err) ? 'done' : err),
      );
    } else {
      conn.socket.resume();
    }
    const onData = (chunk: Buffer): void => {
      const { forward, detached } = watcher ? watcher.feed(chunk) : { forward: chunk, detached: false };
      if (forward.length > 0 && !conn.socket.destroyed) {
        if (!conn.socket.write(forward)) {
          stdin!.pause();
          conn.socket.once('drain', () => stdin!.resume());
        }
      }
      if (detached) {
        conn.close();
        finish('detached');
      }
    };
    const onEnd = (): void => {
      stopInput();
      conn.closeWrite();
      if (!hasOutput) finish('done');
    };
    const stopInput = (): void => {
      if (!stdin) return;
      stdin.off('data', onData);
      stdin.off('end', onEnd);
      stdin.pause();
    };
    conn.socket.on('error', (err) => finish(isConnectionReset(err) ? 'done' : err));
    if (stdin) {
      stdin.on('data', onData);
      stdin.once('end', onEnd);
      stdin.resume();
    } else {
      // Nothing to send: tell the daemon at once, as docker does.
      conn.closeWrite();
    }
  });
}

function isConnectionReset(err: Error): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ECONNRESET' || code === 'EPIPE' || code === 'ERR_STREAM_PREMATURE_CLOSE';
}

/** Put a terminal in raw mode; the returned function restores it (idempotent, also at exit). */
export function setRawMode(stdin: NodeJS.ReadStream): () => void {
  if (!stdin.isTTY || typeof stdin.setRawMode !== 'function') return () => undefined;
  stdin.setRawMode(true);
  let restored = false;
  const restore = (): void => {
    if (restored) return;
    restored = true;
    process.off('exit', restore);
    try {
      stdin.setRawMode(false);
    } catch {
      // the terminal is gone
    }
  };
  process.on('exit', restore);
  return restore;
}

/**
 * Keep the container's (or exec's) terminal the size of ours: once now (retried, since the
 * process may not be up yet), then on every SIGWINCH. Returns the function that stops it.
 */
export function monitorTtySize(out: NodeJS.WriteStream, err: NodeJS.WritableStream, resize: (height: number, width: number) => Promise<void>): () => void {
  const size = (): [number, number] => [out.rows ?? 0, out.columns ?? 0];
  const apply = async (): Promise<void> => {
    const [h, w] = size();
    if (h === 0 && w === 0) return;
    await resize(h, w);
  };
  void (async () => {
    for (let retry = 0; retry <= 10; retry++) {
      try {
        await apply();
        return;
      } catch {
        await new Promise((r) => setTimeout(r, (retry + 1) * 10));
      }
    }
    err.write('failed to resize tty, using default size\n');
  })();
  const onWinch = (): void => {
    apply().catch(() => undefined);
  };
  process.on('SIGWINCH', onWinch);
  return () => process.off('SIGWINCH', onWinch);
}

/** The signals docker's ForwardAllSignals passes on (all but CHLD, PIPE, URG and Node's own USR1). */
const PROXIED_SIGNALS: NodeJS.Signals[] = [
  'SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR2', 'SIGALRM', 'SIGCONT', 'SIGTSTP', 'SIGTTIN', 'SIGTTOU', 'SIGVTALRM', 'SIGPROF', 'SIGWINCH', 'SIGXCPU', 'SIGXFSZ',
];

/** --sig-proxy: every signal the CLI receives is sent to the container (POST kill, "TERM" as docker names it). */
export function proxySignals(kill: (signal: string) => Promise<void>): () => void {
  const handlers = PROXIED_SIGNALS.map((sig) => {
    const h = (): void => {
      kill(sig.replace(/^SIG/, '')).catch(() => undefined);
    };
    process.on(sig, h);
    return [sig, h] as const;
  });
  return () => {
    for (const [sig, h] of handlers) process.off(sig, h);
  };
}

/** Release stdin so the process can exit (a paused TTY or pipe still holds the loop). */
export function releaseStdin(stdin: NodeJS.ReadStream): void {
  stdin.pause();
  if (!stdin.isTTY) stdin.destroy();
  else (stdin as NodeJS.ReadStream & { unref?: () => void }).unref?.();
}
