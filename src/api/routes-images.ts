// Image routes as moby's image router serves them: pulls, pushes, loads and imports answer
// with newline-delimited JSON progress (an error before the first message is an ordinary
// error status, after it a final errorDetail line); save is a tar stream.
import { pipeline } from 'node:stream/promises';
import type { ImageInspect, ImageSummary, JSONMessage } from '../oci/engine-api.js';
import { familiarName, familiarString, parseReference, repositoryOf, withDigest, withTag, type Reference } from '../images/reference.js';
import { forbidden, invalidArgument } from '../util/errors.js';
import type { RequestContext } from './context.js';
import { parsePlatform, parseRegistryAuth } from './query.js';
import { sendJson, sendStatus } from './respond.js';
import { route, type Route } from './router.js';
import { JsonLines } from './streams.js';
import { versionLessThan } from './versions.js';
import { repoTagReference } from './routes-containers.js';

const DIGEST_RE = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-fA-F0-9]{32,}$/;

async function list(ctx: RequestContext): Promise<void> {
  const images = await ctx.backend.listImages({
    all: ctx.query.bool('all'),
    filters: ctx.query.filters(),
    digests: ctx.query.bool('digests'),
  });
  sendJson(ctx.res, 200, images.map((img) => adjustSummary(img, ctx.version)));
}

function adjustSummary(img: ImageSummary, version: string): ImageSummary {
  const out: ImageSummary = { ...img, RepoTags: img.RepoTags ?? [], RepoDigests: img.RepoDigests ?? [] };
  // Before 1.43 an untagged image was "<none>:<none>".
  if (versionLessThan(version, '1.43') && out.RepoTags.length === 0 && out.RepoDigests.length === 0) {
    out.RepoTags = ['<none>:<none>'];
    out.RepoDigests = ['<none>@<none>'];
  }
  if (versionLessThan(version, '1.44')) out.VirtualSize = img.Size;
  else delete out.VirtualSize;
  return out;
}

async function inspect(ctx: RequestContext): Promise<void> {
  const img = await ctx.backend.inspectImage(ctx.params['name'] ?? '');
  const out: ImageInspect = { ...img, RepoTags: img.RepoTags ?? [], RepoDigests: img.RepoDigests ?? [] };
  if (versionLessThan(ctx.version, '1.44')) out.VirtualSize = img.Size;
  else delete out.VirtualSize;
  if (versionLessThan(ctx.version, '1.45')) out.Container = img.Container ?? '';
  else delete out.Container;
  sendJson(ctx.res, 200, out);
}

async function history(ctx: RequestContext): Promise<void> {
  sendJson(ctx.res, 200, await ctx.backend.imageHistory(ctx.params['name'] ?? ''));
}

async function tag(ctx: RequestContext): Promise<void> {
  const ref = repoTagReference(ctx.query.get('repo'), ctx.query.get('tag'));
  if (ref === undefined) throw invalidArgument('repository name must have at least one component');
  if (ref.repo === 'sha256') throw invalidArgument('refusing to create an ambiguous tag using digest algorithm as name');
  await ctx.backend.tagImage(ctx.params['name'] ?? '', ref.repo, ref.tag);
  sendStatus(ctx.res, 201);
}

async function remove(ctx: RequestContext): Promise<void> {
  const name = ctx.params['name'] ?? '';
  if (name.trim() === '') throw invalidArgument('image name cannot be blank');
  const deleted = await ctx.backend.removeImage(name, { force: ctx.query.bool('force'), noprune: ctx.query.bool('noprune') });
  sendJson(ctx.res, 200, deleted);
}

async function prune(ctx: RequestContext): Promise<void> {
  sendJson(ctx.res, 200, await ctx.backend.pruneImages(ctx.query.filters()));
}

/** fromImage plus tag, as moby composes them: the "tag" may be a digest; "pull -a" sends a trailing ":". */
export function pullReference(fromImage: string, tagOrDigest: string): Reference {
  let ref = parseReference(fromImage.replace(/:$/, ''));
  if (tagOrDigest !== '') {
    ref = DIGEST_RE.test(tagOrDigest) ? withDigest(repositoryOf(ref), tagOrDigest) : withTag(ref, tagOrDigest);
  }
  if (familiarName(ref) === 'scratch') throw forbidden("'scratch' is a reserved name");
  return ref;
}

/** Runs a progress-reporting operation and streams its messages; see the file comment for errors. */
async function streamProgress(ctx: RequestContext, run: (progress: (m: JSONMessage) => void) => Promise<void>): Promise<void> {
  const out = new JsonLines(ctx.res);
  try {
    await run((message) => out.write(message));
  } catch (err) {
    if (!out.started) throw err;
    out.writeError(err);
  }
  out.end();
}

async function createImage(ctx: RequestContext): Promise<void> {
  const q = ctx.query;
  const platform = parsePlatform(q.optional('platform'));
  const fromImage = q.get('fromImage');
  if (fromImage !== '') {
    const ref = pullReference(fromImage, q.get('tag'));
    const auth = parseRegistryAuth(ctx.req.headers['x-registry-auth']);
    await streamProgress(ctx, (progress) =>
      ctx.backend.pullImage(familiarString(ref), {
        ...(platform !== undefined ? { platform } : {}),
        ...(auth !== undefined ? { auth } : {}),
        progress,
        signal: ctx.signal,
      }),
    );
    return;
  }
  const fromSrc = q.get('fromSrc');
  if (fromSrc === '') throw invalidArgument('either fromImage or fromSrc must be given');
  const source = fromSrc === '-' ? ctx.body() : importUrl(fromSrc);
  const target = repoTagReference(q.get('repo'), q.get('tag'));
  await streamProgress(ctx, async (progress) => {
    const id = await ctx.backend.importImage(source, {
      ...(target !== undefined ? target : {}),
      message: q.get('message') || `Imported from ${fromSrc}`,
      changes: q.all('changes'),
      ...(platform !== undefined ? { platform } : {}),
      signal: ctx.signal,
    }, progress);
    void id; // the image service reports the new ID in the stream itself
  });
}

/** The URL fromSrc names: without a scheme it is http://, as in dockerd; only http(s) is fetched. */
function importUrl(fromSrc: string): URL {
  const withScheme = fromSrc.includes('://') ? fromSrc : `http://${fromSrc}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw invalidArgument(`invalid URL to import from: ${fromSrc}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw invalidArgument(`cannot import from ${url.protocol}// URLs: use http or https, or send the archive as the body (fromSrc=-)`);
  return url;
}

async function push(ctx: RequestContext): Promise<void> {
  const tagParam = ctx.query.get('tag');
  const named = parseReference(ctx.params['name'] ?? '');
  const ref = tagParam !== '' ? withTag(named, tagParam) : named;
  const auth = parseRegistryAuth(ctx.req.headers['x-registry-auth']);
  await streamProgress(ctx, (progress) =>
    ctx.backend.pushImage(familiarString(ref), { ...(auth !== undefined ? { auth } : {}), progress, signal: ctx.signal }),
  );
}

async function save(ctx: RequestContext): Promise<void> {
  const single = ctx.params['name'];
  const names = single !== undefined ? [single] : ctx.query.all('names');
  const tar = await ctx.backend.saveImages(names);
  ctx.res.writeHead(200, { 'Content-Type': 'application/x-tar' });
  await pipeline(tar, ctx.res);
}

async function load(ctx: RequestContext): Promise<void> {
  const quiet = ctx.query.boolOrDefault('quiet', true);
  const out = new JsonLines(ctx.res);
  // moby answers 200 whatever happens: a failed load is the last line of the stream.
  out.start();
  try {
    await ctx.backend.loadImages(ctx.body(), (message) => out.write(message), quiet);
  } catch (err) {
    out.writeError(err);
  }
  out.end();
}

export const imageRoutes: readonly Route[] = [
  route('GET', '/images/json', list),
  route('GET', '/images/get', save),
  route('GET', '/images/{name:.*}/get', save),
  route('GET', '/images/{name:.*}/history', history),
  route('GET', '/images/{name:.*}/json', inspect),
  route('POST', '/images/load', load),
  route('POST', '/images/create', createImage),
  route('POST', '/images/{name:.*}/push', push),
  route('POST', '/images/{name:.*}/tag', tag),
  route('POST', '/images/prune', prune),
  route('DELETE', '/images/{name:.*}', remove),
];
