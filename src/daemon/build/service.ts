// POST /build on berthd: spool the context, build under one content lease (so nothing a
// step stored is collected before the cache or the image holds it), and report in the
// classic builder's messages. Loaded on the first build.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { build } from '../../build/builder.js';
import { BuildContext } from '../../build/context/index.js';
import { StepFailed } from '../../build/worker.js';
import type { Filters, JSONMessage } from '../../oci/engine-api.js';
import { invalidArgument } from '../../util/errors.js';
import { untilFilter } from '../images/filters.js';
import type { BuildRequest } from '../backend.js';
import type { Daemon } from '../daemon.js';
import { cacheRecordId } from './usage.js';
import { DaemonBuildWorker } from './worker.js';

/** A failed RUN: the API route sends its exit code in errorDetail.code, as moby does. */
export class BuildStepError extends Error {
  constructor(message: string, readonly exitCode: number) {
    super(message);
  }
}

export async function runBuild(daemon: Daemon, body: Readable, req: BuildRequest, output: (m: JSONMessage) => void, signal: AbortSignal): Promise<void> {
  const tmpDir = join(daemon.config.execRoot, 'build');
  mkdirSync(tmpDir, { recursive: true, mode: 0o700 });
  const context = await BuildContext.fromStream(body, tmpDir);
  try {
    const result = await daemon.store.withLease((lease) =>
      build(new DaemonBuildWorker(daemon, lease, tmpDir), daemon.buildCache, context, {
        dockerfile: req.dockerfile, tags: req.tags, buildArgs: req.buildArgs, labels: req.labels, noCache: req.noCache,
        cacheFrom: req.cacheFrom, pull: req.pull, quiet: req.quiet, output, signal, tmpDir,
        ...(req.target ? { target: req.target } : {}),
        ...(req.platform ? { platform: req.platform } : {}),
        ...(req.networkMode ? { networkMode: req.networkMode } : {}),
      }),
    );
    for (const t of req.tags) daemon.events.emit('image', 'tag', result.imageId, { name: t });
  } catch (err) {
    if (err instanceof StepFailed) throw new BuildStepError(err.message, err.exitCode);
    throw err;
  } finally {
    await context.close();
  }
}

export async function pruneBuildCache(daemon: Daemon, opts: { all: boolean; keepStorage: number; filters: Filters }): Promise<{ CachesDeleted: string[]; SpaceReclaimed: number }> {
  for (const key of Object.keys(opts.filters)) {
    if (!['until', 'id', 'type', 'description', 'inuse', 'shared', 'private'].includes(key)) throw invalidArgument(`invalid filter '${key}'`);
  }
  const cutoff = untilFilter(opts.filters);
  const { deleted, bytes } = await daemon.buildCache.prune((e) => cutoff === undefined || Date.parse(e.lastUsed) < cutoff);
  await daemon.buildCacheMounts.prune();
  return { CachesDeleted: deleted.map(cacheRecordId), SpaceReclaimed: bytes };
}
