// `docker cp`: HEAD/GET/PUT /containers/{id}/archive. The stat travels in the
// X-Docker-Container-Path-Stat header as base64 (standard alphabet) JSON.
import { pipeline } from 'node:stream/promises';
import type { PathStat } from '../oci/engine-api.js';
import { invalidArgument } from '../util/errors.js';
import type { RequestContext } from './context.js';
import { sendStatus } from './respond.js';
import { route, type Route } from './router.js';

export const PATH_STAT_HEADER = 'X-Docker-Container-Path-Stat';

export function encodePathStat(stat: PathStat): string {
  return Buffer.from(JSON.stringify(stat)).toString('base64');
}

/** moby's ArchiveFormValues: both the container and the path are required. */
function archiveTarget(ctx: RequestContext): { container: string; path: string } {
  const container = ctx.params['name'] ?? '';
  if (container === '') throw invalidArgument('bad parameter: name cannot be empty');
  const path = ctx.query.get('path');
  if (path === '') throw invalidArgument('bad parameter: path cannot be empty');
  return { container, path };
}

async function head(ctx: RequestContext): Promise<void> {
  const { container, path } = archiveTarget(ctx);
  const stat = await ctx.backend.statPath(container, path);
  ctx.res.setHeader(PATH_STAT_HEADER, encodePathStat(stat));
  sendStatus(ctx.res, 200);
}

async function get(ctx: RequestContext): Promise<void> {
  const { container, path } = archiveTarget(ctx);
  const { stat, tar } = await ctx.backend.getArchive(container, path);
  ctx.res.writeHead(200, { [PATH_STAT_HEADER]: encodePathStat(stat), 'Content-Type': 'application/x-tar' });
  await pipeline(tar, ctx.res);
}

async function put(ctx: RequestContext): Promise<void> {
  const { container, path } = archiveTarget(ctx);
  await ctx.backend.putArchive(container, path, ctx.body(), {
    noOverwriteDirNonDir: ctx.query.bool('noOverwriteDirNonDir'),
    copyUIDGID: ctx.query.bool('copyUIDGID'),
  });
  sendStatus(ctx.res, 200);
}

export const archiveRoutes: readonly Route[] = [
  route('HEAD', '/containers/{name:.*}/archive', head),
  route('GET', '/containers/{name:.*}/archive', get),
  route('PUT', '/containers/{name:.*}/archive', put),
];
