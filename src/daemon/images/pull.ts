// `POST /images/create?fromImage=…`: a pull with dockerd's progress stream and events.
import { familiarName, familiarString, parseDockerRef, parseReference, withTag, type Reference } from '../../images/reference.js';
import type { ImageStore } from '../../images/store.js';
import { parsePlatform } from '../../oci/image-spec.js';
import type { JSONMessage } from '../../oci/engine-api.js';
import { listTags } from '../../registry/client/catalog.js';
import { pullMessages } from '../../registry/client/progress.js';
import { pull } from '../../registry/client/pull.js';
import type { ResolverOptions } from '../../registry/client/session.js';
import { notFound } from '../../util/errors.js';
import type { ProgressSink, RegistryAuth } from '../backend.js';
import type { ImageEvents } from './events.js';
import { requestResolver } from './registry-auth.js';

export interface PullRequest {
  platform?: string;
  auth?: RegistryAuth;
  progress: ProgressSink;
  signal: AbortSignal;
}

/**
 * Holds back the first message until a second one comes. dockerd says "Pulling from …" only
 * once the manifest was found, so a pull that fails to resolve (unknown image, denied) has
 * written nothing yet and the API can still answer with a 404 instead of a 200 stream.
 */
class HeldFirstMessage {
  private held: JSONMessage | undefined;
  private seen = 0;

  constructor(private readonly sink: ProgressSink) {}

  readonly push = (m: JSONMessage): void => {
    if (this.seen++ === 0) {
      this.held = m;
      return;
    }
    this.flush();
    this.sink(m);
  };

  flush(): void {
    if (this.held === undefined) return;
    const m = this.held;
    this.held = undefined;
    this.sink(m);
  }
}

/** A pull of one reference; a name without tag or digest pulls every tag, as dockerd does. */
export async function pullImage(store: ImageStore, registry: ResolverOptions, events: ImageEvents, refString: string, req: PullRequest): Promise<void> {
  const named = parseReference(refString);
  if (named.tag === undefined && named.digest === undefined) return pullAllTags(store, registry, events, named, req);
  const ref = parseDockerRef(refString);
  const platform = req.platform ? parsePlatform(req.platform) : undefined;
  const resolver = requestResolver(registry, ref.domain, req.auth);
  const progress = new HeldFirstMessage(req.progress);
  await pull(store, resolver, ref.toString(), { ...(platform ? { platform } : {}), onProgress: progress.push, signal: req.signal });
  progress.flush();
  await events.log('pull', familiarString(ref), familiarName(ref));
}

/**
 * `docker pull -a`: each tag the registry lists, one after the other (the first failure ends
 * the pull, as in dockerd), each with its "Pulling from" and "Digest" lines; one closing
 * status names the repository.
 */
async function pullAllTags(store: ImageStore, registry: ResolverOptions, events: ImageEvents, named: Reference, req: PullRequest): Promise<void> {
  const platform = req.platform ? parsePlatform(req.platform) : undefined;
  const resolver = requestResolver(registry, named.domain, req.auth);
  const tags = await listTags(resolver, named.toString());
  if (tags.length === 0) throw notFound(`repository ${familiarName(named)} has no tags`);
  const progress = new HeldFirstMessage(req.progress);
  const perTag = (m: JSONMessage): void => {
    if (!m.status?.startsWith('Status: ')) progress.push(m);
  };
  let updated = false;
  for (const tag of tags) {
    if (req.signal.aborted) throw req.signal.reason;
    const ref = withTag(named, tag);
    const result = await pull(store, resolver, ref.toString(), { ...(platform ? { platform } : {}), onProgress: perTag, signal: req.signal });
    updated ||= result.updated;
    await events.log('pull', familiarString(ref), familiarName(ref));
  }
  progress.flush();
  req.progress(updated ? pullMessages.downloadedNewer(familiarName(named)) : pullMessages.upToDate(familiarName(named)));
}
