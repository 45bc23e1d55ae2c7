// A hijacked connection (attach, exec start): the request goes out with
// `Connection: Upgrade` / `Upgrade: tcp`; once the daemon answers 101 (or 200 from
// daemons that hijack without upgrading) the socket carries raw stdio both ways.
// Node's http client cannot keep writing after a 200, so the exchange is done by hand.
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { readFileSync } from 'node:fs';
import type { DaemonHost } from './host.js';
import { errorFromBody } from './errors.js';

export interface HijackedConnection {
  /** Read: the process's output (frames, or raw with a tty). Write: its stdin. */
  socket: Socket | TLSSocket;
  /** Half-close: the process sees EOF on stdin; output keeps flowing. */
  closeWrite(): void;
  close(): void;
}

export interface HijackRequest {
  method: 'POST';
  path: string;
  body?: Buffer;
  contentType: string;
  headers?: Record<string, string>;
}

const MAX_HEAD = 64 * 1024;

export function openSocket(host: DaemonHost): Socket | TLSSocket {
  if (host.kind === 'unix') return netConnect({ path: host.path, allowHalfOpen: true });
  if (!host.tls) return netConnect({ host: host.host, port: host.port, allowHalfOpen: true });
  // TLS over a half-open-capable TCP socket, so closeWrite() leaves the read side open.
  const tcp = netConnect({ host: host.host, port: host.port, allowHalfOpen: true });
  return tlsConnect({
    socket: tcp,
    ...(/^[\d.:]+$/.test(host.host) ? {} : { servername: host.host }),
    ca: host.tls.ca ? readFileSync(host.tls.ca) : undefined,
    cert: host.tls.cert ? readFileSync(host.tls.cert) : undefined,
    key: host.tls.key ? readFileSync(host.tls.key) : undefined,
    rejectUnauthorized: host.tls.verify,
  });
}

export function hijack(host: DaemonHost, req: HijackRequest, onConnectError: (err: Error) => Error): Promise<HijackedConnection> {
  return new Promise((resolve, reject) => {
    const socket = openSocket(host);
    let head = Buffer.alloc(0);
    let settled = false;
    const fail = (err: Error): void => {
      if (settled) return;
      settled = true;
      socket.destroy();
      reject(err);
    };
    socket.once('error', (err) => fail(onConnectError(err)));
    socket.once(host.kind === 'tcp' && host.tls ? 'secureConnect' : 'connect', () => {
      const lines = [
        `${req.method} ${req.path} HTTP/1.1`,
        `Host: ${host.kind === 'unix' ? 'api.moby.localhost' : `${host.host}:${host.port}`}`,
        'User-Agent: berth-cli',
        `Content-Type: ${req.contentType}`,
        `Content-Length: ${req.body?.length ?? 0}`,
        'Connection: Upgrade',
        'Upgrade: tcp',
        ...Object.entries(req.headers ?? {}).map(([k, v]) => `${k}: ${v}`),
      ];
      socket.write(`${lines.join('\r\n')}\r\n\r\n`);
      if (req.body?.length) socket.write(req.body);
    });
    const onData = (chunk: Buffer): void => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) {
        if (head.length > MAX_HEAD) fail(new Error('the daemon sent an oversized response header'));
        return;
      }
      socket.off('data', onData);
      socket.pause();
      const response = parseHead(head.subarray(0, end).toString('latin1'));
      const rest = head.subarray(end + 4);
      if (response.status === 101 || response.status === 200) {
        settled = true;
        socket.removeAllListeners('error');
        if (rest.length > 0) socket.unshift(rest);
        resolve({
          socket,
          closeWrite: () => {
            if (!socket.writableEnded) socket.end();
          },
          close: () => socket.destroy(),
        });
        return;
      }
      readErrorBody(socket, response, rest).then(
        (body) => fail(errorFromBody(response.status, response.statusText, body)),
        (err: Error) => fail(err),
      );
    };
    socket.on('data', onData);
    socket.once('end', () => {
      if (!settled && head.indexOf('\r\n\r\n') < 0) fail(new Error('the daemon closed the connection before answering'));
    });
  });
}

interface ResponseHead {
  status: number;
  statusText: string;
  headers: Map<string, string>;
}

function parseHead(text: string): ResponseHead {
  const [statusLine = '', ...headerLines] = text.split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3}) ?(.*)$/.exec(statusLine);
  if (!m) throw new Error(`malformed response from the daemon: ${JSON.stringify(statusLine.slice(0, 80))}`);
  const headers = new Map<string, string>();
  for (const line of headerLines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return { status: Number(m[1]), statusText: m[2] ?? '', headers };
}

/** The body of an error answer: by Content-Length, chunked, or until the daemon closes. */
function readErrorBody(socket: Socket | TLSSocket, head: ResponseHead, already: Buffer): Promise<Buffer> {
  return new Promise((resolve) => {
    const length = Number(head.headers.get('content-length') ?? NaN);
    const chunked = /chunked/i.test(head.headers.get('transfer-encoding') ?? '');
    let body = already;
    const done = (): void => {
      socket.destroy();
      resolve(chunked ? dechunk(body) : Number.isFinite(length) ? body.subarray(0, length) : body);
    };
    const complete = (): boolean => (Number.isFinite(length) ? body.length >= length : chunked ? body.includes('\r\n0\r\n') || body.subarray(0, 3).toString() === '0\r\n' : false);
    if (complete()) return done();
    socket.on('data', (c: Buffer) => {
      body = Buffer.concat([body, c]);
      if (complete()) done();
    });
    socket.once('end', done);
    socket.once('error', done);
    socket.resume();
  });
}

function dechunk(raw: Buffer): Buffer {
  const parts: Buffer[] = [];
  let off = 0;
  while (off < raw.length) {
    const eol = raw.indexOf('\r\n', off);
    if (eol < 0) break;
    const size = parseInt(raw.subarray(off, eol).toString('latin1'), 16);
    if (!Number.isFinite(size) || size === 0) break;
    parts.push(raw.subarray(eol + 2, eol + 2 + size));
    off = eol + 2 + size + 2;
  }
  return Buffer.concat(parts);
}
