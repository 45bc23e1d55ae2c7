// The Docker Engine API spoken directly over a daemon's unix socket (berthd or dockerd alike),
// for the set-up work a benchmark does not time through a CLI: creating and removing many
// containers with a bounded number of requests in flight.
import { request } from 'node:http';

/** The API version both daemons speak: docker.io 20.10's. */
const API = '/v1.41';

export interface EngineResponse {
  status: number;
  body: string;
}

/** One request to the Engine API on socket; a JSON body when given. Rejects on a transport error only. */
export function engineRequest(socket: string, method: string, path: string, body?: unknown, timeoutMs = 120_000): Promise<EngineResponse> {
  return new Promise((res, rej) => {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const headers: Record<string, string | number> = payload ? { 'Content-Type': 'application/json', 'Content-Length': payload.length } : {};
    const req = request({ socketPath: socket, method, path: API + path, headers, timeout: timeoutMs }, (r) => {
      const chunks: Buffer[] = [];
      r.on('data', (c: Buffer) => chunks.push(c));
      r.on('end', () => res({ status: r.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      r.on('error', rej);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer within ${timeoutMs / 1000} s`)));
    req.on('error', rej);
    req.end(payload);
  });
}

/** Runs task(0..count-1) with at most `concurrency` in flight; the first failure stops new starts and is thrown. */
export async function forEachConcurrently(count: number, concurrency: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: unknown;
  const worker = async (): Promise<void> => {
    while (failure === undefined && next < count) {
      const i = next++;
      try {
        await task(i);
      } catch (err) {
        failure ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  if (failure !== undefined) throw failure;
}

/** POST /containers/create of `count` containers from body, `concurrency` at a time; their IDs. */
export async function createContainers(socket: string, body: object, count: number, concurrency: number, beforeEach?: () => void): Promise<string[]> {
  const ids: string[] = [];
  await forEachConcurrently(count, concurrency, async () => {
    beforeEach?.();
    const r = await engineRequest(socket, 'POST', '/containers/create', body);
    if (r.status !== 201) throw new Error(`POST /containers/create: HTTP ${r.status}: ${r.body.trim().slice(0, 300)}`);
    ids.push((JSON.parse(r.body) as { Id: string }).Id);
  });
  return ids;
}

/** DELETE /containers/<id>?force=1 of each, `concurrency` at a time (404 counts as gone). */
export async function removeContainers(socket: string, ids: string[], concurrency: number): Promise<void> {
  await forEachConcurrently(ids.length, concurrency, async (i) => {
    const r = await engineRequest(socket, 'DELETE', `/containers/${ids[i]}?force=1`);
    if (r.status !== 204 && r.status !== 404) throw new Error(`DELETE /containers/${ids[i]}: HTTP ${r.status}: ${r.body.trim().slice(0, 300)}`);
  });
}

/** GET /containers/json?all=1: the IDs of every container. */
export async function listAllContainers(socket: string): Promise<string[]> {
  const r = await engineRequest(socket, 'GET', '/containers/json?all=1');
  if (r.status !== 200) throw new Error(`GET /containers/json?all=1: HTTP ${r.status}: ${r.body.trim().slice(0, 300)}`);
  return (JSON.parse(r.body) as Array<{ Id: string }>).map((c) => c.Id);
}
