// Attach and exec: the routes that take the connection over (hijack), plus exec create,
// resize and inspect — as moby's container router serves them.
import type { ExecCreateRequest, ExecStartRequest } from '../oci/engine-api.js';
import type { StdioStream } from '../daemon/backend.js';
import { internal, invalidArgument } from '../util/errors.js';
import { checkJsonContentType, type RequestContext } from './context.js';
import { decodeGoJson, EXEC_CREATE_REQUEST, EXEC_START_REQUEST } from './go-json.js';
import { errorMessage } from './http-errors.js';
import { hijackContentType, hijackHead, outputGapFor, pumpStdio } from './hijack.js';
import { sendJson, sendStatus } from './respond.js';
import { route, type Route } from './router.js';
import { muxFrame, StdStream } from './streams.js';
import { versionLessThan } from './versions.js';

/** Answers 101 (or 200 for clients that did not ask to upgrade) and pumps the stream until either side ends. */
async function serveHijacked(ctx: RequestContext, stream: StdioStream): Promise<void> {
  if (ctx.signal.aborted) {
    stream.close();
    return;
  }
  let conn;
  try {
    conn = ctx.hijack(ctx.upgrade ? 101 : 200);
  } catch (err) {
    stream.close();
    throw err;
  }
  conn.socket.write(hijackHead(ctx.upgrade, hijackContentType(ctx.upgrade, stream.tty, ctx.version), ctx.commonHeaders));
  await pumpStdio(conn.socket, conn.head, stream, outputGapFor(ctx.req.headers['user-agent']));
}

async function attach(ctx: RequestContext): Promise<void> {
  const q = ctx.query;
  const stream = await ctx.backend.attachContainer(ctx.params['name'] ?? '', {
    stdin: q.bool('stdin'),
    stdout: q.bool('stdout'),
    stderr: q.bool('stderr'),
    stream: q.bool('stream'),
    logs: q.bool('logs'),
    ...(q.has('detachKeys') ? { detachKeys: q.get('detachKeys') } : {}),
  });
  await serveHijacked(ctx, stream);
}

async function execCreate(ctx: RequestContext): Promise<void> {
  checkJsonContentType(ctx.req.headers['content-type']);
  const req = decodeGoJson<ExecCreateRequest>(await ctx.readJson(), EXEC_CREATE_REQUEST);
  if (req === undefined || (req.Cmd ?? []).length === 0) throw invalidArgument('No exec command specified');
  // Not supported by API versions before 1.42.
  if (versionLessThan(ctx.version, '1.42')) req.ConsoleSize = null;
  const created = await ctx.backend.createExec(ctx.params['name'] ?? '', req);
  sendJson(ctx.res, 201, { Id: created.Id });
}

/**
 * moby's order: check the exec exists (404 otherwise), take the connection, send the
 * head, and only then start the process. The order matters: docker-py reads the head
 * through a buffered reader and loses any output that arrives with it. A failure to
 * start reaches the client as text on its output stream, so `docker exec` prints the
 * daemon's message rather than "unable to upgrade".
 */
async function execStart(ctx: RequestContext): Promise<void> {
  checkJsonContentType(ctx.req.headers['content-type']);
  const req = decodeGoJson<ExecStartRequest>(await ctx.readJson(), EXEC_START_REQUEST) ?? {};
  const tty = req.Tty === true;
  const consoleSize = tty && !versionLessThan(ctx.version, '1.42') && req.ConsoleSize ? req.ConsoleSize : undefined;
  const id = ctx.params['name'] ?? '';
  const opts = { detach: req.Detach === true, tty, ...(consoleSize ? { consoleSize } : {}) };
  if (opts.detach) {
    await ctx.backend.startExec(id, opts);
    sendStatus(ctx.res, 200);
    return;
  }
  await ctx.backend.inspectExec(id);
  const conn = ctx.hijack(ctx.upgrade ? 101 : 200);
  conn.socket.write(hijackHead(ctx.upgrade, hijackContentType(ctx.upgrade, tty, ctx.version), ctx.commonHeaders));
  let stream: StdioStream | undefined;
  try {
    stream = await ctx.backend.startExec(id, opts);
    if (stream === undefined) throw internal(`exec ${id} started without a stream`);
  } catch (err) {
    const text = Buffer.from(`${errorMessage(err)}\r\n`);
    const message = tty ? text : muxFrame(StdStream.Stdout, text);
    setTimeout(() => conn.socket.end(message), outputGapFor(ctx.req.headers['user-agent']));
    return;
  }
  await pumpStdio(conn.socket, conn.head, stream, outputGapFor(ctx.req.headers['user-agent']));
}

async function execResize(ctx: RequestContext): Promise<void> {
  const height = ctx.query.uint32('h', 'resize height');
  const width = ctx.query.uint32('w', 'resize width');
  await ctx.backend.resizeExec(ctx.params['name'] ?? '', height, width);
  sendStatus(ctx.res, 200);
}

async function execInspect(ctx: RequestContext): Promise<void> {
  sendJson(ctx.res, 200, await ctx.backend.inspectExec(ctx.params['id'] ?? ''));
}

export const execRoutes: readonly Route[] = [
  route('GET', '/exec/{id:.*}/json', execInspect),
  route('POST', '/containers/{name:.*}/attach', attach, { hijacks: true }),
  route('POST', '/containers/{name:.*}/exec', execCreate),
  route('POST', '/exec/{name:.*}/start', execStart, { hijacks: true }),
  route('POST', '/exec/{name:.*}/resize', execResize),
];
