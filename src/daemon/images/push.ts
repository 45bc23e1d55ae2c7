// `POST /images/{name}/push`: the given tag, or (no tag) every local tag of the repository
// in turn, as dockerd does; progress is the registry client's, with "The push refers to
// repository" once. After a push the image also answers to name@digest, as in Docker.
import { familiarName, familiarString, parseReference, withTag, type Reference } from '../../images/reference.js';
import type { ImageStore } from '../../images/store.js';
import type { JSONMessage } from '../../oci/engine-api.js';
import { push } from '../../registry/client/push.js';
import type { ResolverOptions } from '../../registry/client/session.js';
import { invalidArgument, notFound } from '../../util/errors.js';
import type { ProgressSink, RegistryAuth } from '../backend.js';
import type { ImageEvents } from './events.js';
import { requestResolver } from './registry-auth.js';

export interface PushRequest {
  auth?: RegistryAuth;
  progress: ProgressSink;
  signal: AbortSignal;
}

/** The tags to push: the one named, or all of the repository's, sorted. */
function tagsToPush(store: ImageStore, ref: Reference): Reference[] {
  if (ref.tag !== undefined) return [ref];
  const tags = store
    .list()
    .flatMap((img) => img.repoTags)
    .map((t) => parseReference(t))
    .filter((t) => t.name === ref.name && t.tag !== undefined)
    .sort((a, b) => (a.tag! < b.tag! ? -1 : 1));
  if (tags.length === 0) throw notFound(`An image does not exist locally with the tag: ${familiarName(ref)}`);
  return tags.map((t) => withTag(ref, t.tag!));
}

export async function pushImage(store: ImageStore, registry: ResolverOptions, events: ImageEvents, refString: string, req: PushRequest): Promise<void> {
  const ref = parseReference(refString);
  if (ref.digest !== undefined) throw invalidArgument(`cannot push a digest reference: ${refString}`);
  const tags = tagsToPush(store, ref);
  const resolver = requestResolver(registry, ref.domain, req.auth);
  let namedRepository = false;
  const progress = (m: JSONMessage): void => {
    // Each tag's push starts by naming the repository; dockerd names it once for all.
    if (m.status?.startsWith('The push refers to repository [')) {
      if (namedRepository) return;
      namedRepository = true;
    }
    req.progress(m);
  };
  for (const tag of tags) {
    const result = await push(store, resolver, tag.toString(), { onProgress: progress, signal: req.signal });
    const id = (await store.resolve(tag.toString())).id;
    // dockerd's addDigestReference: the pushed manifest's digest now names the image here too.
    await store.index.update((idx) => {
      if (idx.images[id]) idx.digests[`${tag.name}@${result.digest}`] = id;
    });
    await events.log('push', familiarString(tag), familiarName(tag));
  }
}
