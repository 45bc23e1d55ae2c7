// A tiny stand-in for berthd on a temporary unix socket, for the client and CLI tests:
// routes by method and path (version prefix stripped), records every request, and
// answers hijack (Upgrade: tcp) requests with 101 and a raw socket.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';

export interface Recorded {
  method: string;
  /** Path without the /v1.NN prefix. */
  path: string;
  /** The API version prefix, "" when unversioned. */
  version: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

export type Handler = (req: Recorded, res: ServerResponse) => void | Promise<void>;
export type HijackHandler = (req: Recorded, socket: Duplex) => void;

export class FakeDaemon {
  readonly dir: string;
  readonly socketPath: string;
  readonly requests: Recorded[] = [];
  apiVersion = '1.47';
  private readonly routes = new Map<string, Handler>();
  private readonly hijacks = new Map<string, HijackHandler>();
  private readonly server: Server;
  private readonly sockets = new Set<Duplex>();

  constructor() {
    this.dir = mkdtempSync(join(tmpdir(), 'berth-fake-daemon-'));
    this.socketPath = join(this.dir, 'berth.sock');
    this.server = createServer((req, res) => void this.dispatch(req, res));
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.once('close', () => this.sockets.delete(s));
    });
    this.server.on('upgrade', (req, socket) => void this.upgrade(req, socket));
  }

  get host(): string {
    return `unix://${this.socketPath}`;
  }

  /** `key` is "METHOD /path" with {id}-style segments written as regular expressions, e.g. "POST /containers/[^/]+/start". */
  on(key: string, handler: Handler): this {
    this.routes.set(key, handler);
    return this;
  }

  onHijack(key: string, handler: HijackHandler): this {
    this.hijacks.set(key, handler);
    return this;
  }

  listen(): Promise<void> {
    return new Promise((resolve) => this.server.listen(this.socketPath, resolve));
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async record(req: IncomingMessage, readBody: boolean): Promise<Recorded> {
    const url = new URL(req.url ?? '/', 'http://x');
    const m = /^\/v(\d+\.\d+)(\/.*)$/.exec(url.pathname);
    const parts: Buffer[] = [];
    if (readBody) for await (const c of req) parts.push(c as Buffer);
    const rec: Recorded = {
      method: req.method ?? 'GET',
      path: decodeURIComponent(m ? m[2]! : url.pathname),
      version: m ? m[1]! : '',
      query: url.searchParams,
      headers: req.headers,
      body: Buffer.concat(parts),
    };
    this.requests.push(rec);
    return rec;
  }

  private find<T>(table: Map<string, T>, rec: Recorded): T | undefined {
    for (const [key, h] of table) {
      const [method, pattern] = key.split(' ') as [string, string];
      if (method === rec.method && new RegExp(`^${pattern}$`).test(rec.path)) return h;
    }
    return undefined;
  }

  private async dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const rec = await this.record(req, true);
    if (rec.path === '/_ping') {
      res.writeHead(200, { 'Api-Version': this.apiVersion, Ostype: 'linux', 'Content-Type': 'text/plain' });
      res.end('OK');
      return;
    }
    const h = this.find(this.routes, rec);
    if (!h) {
      json(res, 404, { message: `page not found: ${rec.method} ${rec.path}` });
      return;
    }
    await h(rec, res);
  }

  private async upgrade(req: IncomingMessage, socket: Duplex): Promise<void> {
    const rec = await this.record(req, false);
    const h = this.find(this.hijacks, rec);
    if (!h) {
      socket.end('HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 24\r\n\r\n{"message":"no hijack"}\n');
      return;
    }
    socket.write('HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n');
    h(rec, socket);
  }
}

export function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/** One multiplexed frame as the daemon writes it. */
export function frame(stream: 1 | 2, text: string): Buffer {
  const payload = Buffer.from(text);
  const h = Buffer.alloc(8);
  h[0] = stream;
  h.writeUInt32BE(payload.length, 4);
  return Buffer.concat([h, payload]);
}
