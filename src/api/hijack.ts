// A hijacked attach/exec connection: the hand-written response head (101 UPGRADED or, for
// clients that did not ask to upgrade, 200 OK) and the byte pump between the socket and
// the container's StdioStream. Client half-close ends stdin; the end of the output closes
// the socket; a connection cut off from either side closes the stream.
import type { Socket } from 'node:net';
import type { StdioStream } from '../daemon/backend.js';
import { MEDIA_MULTIPLEXED_STREAM, MEDIA_RAW_STREAM } from './streams.js';
import { versionAtLeast } from './versions.js';

/** How long a socket may stay half-open after the output ended before it is dropped. */
const LINGER_AFTER_OUTPUT_MS = 5000;
/**
 * docker-py reads the 101 head through a buffered reader and then reads the raw socket
 * beneath it, so output that arrives together with the head is lost. With moby the
 * process start (runc) leaves a gap of tens of milliseconds; berth starts faster, so for
 * docker-py the output waits this long after the head.
 */
const DOCKER_PY_OUTPUT_GAP_MS = 50;

/** Milliseconds to hold the output back after the head, for clients that need it. */
export function outputGapFor(userAgent: string | undefined): number {
  return userAgent !== undefined && userAgent.startsWith('docker-sdk-python') ? DOCKER_PY_OUTPUT_GAP_MS : 0;
}

/** moby: multiplexed-stream only for an upgraded, non-tty stream at API 1.42+; raw-stream otherwise. */
export function hijackContentType(upgrade: boolean, tty: boolean, version: string): string {
  return upgrade && !tty && versionAtLeast(version, '1.42') ? MEDIA_MULTIPLEXED_STREAM : MEDIA_RAW_STREAM;
}

export function hijackHead(upgrade: boolean, contentType: string, headers: Readonly<Record<string, string>>): string {
  const lines = upgrade
    ? ['HTTP/1.1 101 UPGRADED', `Content-Type: ${contentType}`, 'Connection: Upgrade', 'Upgrade: tcp']
    : ['HTTP/1.1 200 OK', `Content-Type: ${contentType}`];
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/**
 * Pumps socket → stream.input and stream.output → socket until both are done or either
 * side fails; resolves once the socket is closed and stream.close() was called.
 */
export function pumpStdio(socket: Socket, head: Buffer, stream: StdioStream, outputGapMs = 0): Promise<void> {
  return new Promise((resolve) => {
    const input = stream.input;
    let finished = false;
    let lingerTimer: NodeJS.Timeout | undefined;
    let gapTimer: NodeJS.Timeout | undefined;

    const finish = (): void => {
      if (finished) return;
      finished = true;
      if (lingerTimer !== undefined) clearTimeout(lingerTimer);
      if (gapTimer !== undefined) clearTimeout(gapTimer);
      stream.output.off('data', onOutput);
      socket.off('data', onInput);
      try {
        stream.close();
      } catch {
        // The stream is gone either way; nothing more to release here.
      }
      if (!socket.destroyed) socket.destroy();
      resolve();
    };

    const onInput = (chunk: Buffer): void => {
      if (input === undefined) return;
      if (!input.write(chunk)) {
        socket.pause();
        input.once('drain', () => socket.resume());
      }
    };
    const onOutput = (chunk: Buffer): void => {
      if (socket.destroyed) return;
      if (!socket.write(chunk)) {
        stream.output.pause();
        socket.once('drain', () => stream.output.resume());
      }
    };

    socket.on('error', finish);
    socket.on('close', finish);
    socket.on('data', onInput);
    // The client's CloseWrite: no more stdin, but the output keeps flowing.
    socket.on('end', () => {
      if (input !== undefined) input.end();
    });
    if (input !== undefined) input.on('error', () => socket.pause());

    stream.output.on('error', finish);
    stream.output.on('close', () => {
      if (!stream.output.readableEnded) finish();
    });
    const pumpOutput = (): void => {
      stream.output.on('data', onOutput);
      stream.output.on('end', () => {
        socket.end();
        // A client that never closes its side would keep the socket forever.
        lingerTimer = setTimeout(finish, LINGER_AFTER_OUTPUT_MS);
        lingerTimer.unref();
      });
    };
    if (outputGapMs > 0) gapTimer = setTimeout(pumpOutput, outputGapMs);
    else pumpOutput();

    // The client may have gone while the stream was being set up.
    if (socket.destroyed) {
      finish();
      return;
    }
    if (head.length > 0) onInput(head);
    // A client that half-closed before the takeover has no 'end' left to send.
    if (socket.readableEnded && input !== undefined) input.end();
    socket.resume();
  });
}
