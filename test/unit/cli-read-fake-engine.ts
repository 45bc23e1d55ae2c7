// A fake Engine API on a temporary unix socket for the read-only command tests: canned JSON
// per route, recording the requests it saw. Also usable to run the real docker CLI against.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface FakeRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  body: string;
}

/** A route's answer: a JSON value (200), or a function writing the response itself. */
export type FakeAnswer = unknown | ((req: FakeRequest, res: ServerResponse) => void);

export interface FakeEngine {
  socketPath: string;
  host: string;
  requests: FakeRequest[];
  close(): Promise<void>;
}

/** `routes` keys are "GET /containers/json" (without the /v1.xx prefix). Unknown routes answer 404 page not found. */
export async function startFakeEngine(routes: Record<string, FakeAnswer>): Promise<FakeEngine> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-fake-engine-'));
  const socketPath = join(dir, 'engine.sock');
  const requests: FakeRequest[] = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://engine');
      const path = decodeURIComponent(url.pathname.replace(/^\/v1\.\d+/, ''));
      const fake: FakeRequest = { method: req.method ?? 'GET', path, query: url.searchParams, body: Buffer.concat(chunks).toString() };
      requests.push(fake);
      res.setHeader('Api-Version', '1.47');
      res.setHeader('Ostype', 'linux');
      if (path === '/_ping') {
        res.end('OK');
        return;
      }
      const answer = routes[`${fake.method} ${path}`];
      if (answer === undefined) {
        res.writeHead(404, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ message: 'page not found' }));
        return;
      }
      if (typeof answer === 'function') {
        (answer as (r: FakeRequest, s: ServerResponse) => void)(fake, res);
        return;
      }
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(answer));
    });
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  return {
    socketPath,
    host: `unix://${socketPath}`,
    requests,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A 404 with docker's error body. */
export const notFoundAnswer = (message: string) => (_req: FakeRequest, res: ServerResponse): void => {
  res.writeHead(404, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify({ message }));
};
