// `docker import URL` (POST /images/create?fromSrc=URL): dockerd downloads the tarball
// itself, reporting "Importing" progress, and maps the server's refusal to its own status
// (moby's remotecontext.GetWithStatusError): 404 → 404, 400 → 400, anything else → 500.
import { Readable, Transform } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { progressMessage, ProgressThrottle } from '../../registry/client/progress.js';
import { internal, invalidArgument, notFound } from '../../util/errors.js';
import type { ProgressSink } from '../backend.js';

/** The response body of GET url, counted into "Importing" progress messages. */
export async function openImportUrl(url: URL, progress: ProgressSink, signal?: AbortSignal): Promise<Readable> {
  let res: Response;
  try {
    res = await fetch(url, { redirect: 'follow', ...(signal ? { signal } : {}) });
  } catch (err) {
    const cause = (err as { cause?: { message?: string } }).cause?.message ?? (err as Error).message;
    throw internal(`failed to GET ${url.href}: ${cause}`, err);
  }
  if (res.status >= 400) {
    const text = (await res.text().catch(() => '')).trim().slice(0, 1024);
    const message = `failed to GET ${url.href} with status ${res.status} ${res.statusText}: ${text}`;
    throw res.status === 404 ? notFound(message) : res.status === 400 ? invalidArgument(message) : internal(message);
  }
  if (!res.body) throw internal(`failed to GET ${url.href}: the response has no body`);
  const total = Number(res.headers.get('content-length') ?? 0) || 0;
  const throttle = new ProgressThrottle();
  let current = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      current += chunk.length;
      if (throttle.shouldEmit(current, total || Infinity)) progress(progressMessage('', 'Importing', current, total));
      done(null, chunk);
    },
  });
  const body = Readable.fromWeb(res.body as WebReadableStream<Uint8Array>);
  body.on('error', (err) => counter.destroy(err));
  return body.pipe(counter);
}
