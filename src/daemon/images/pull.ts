// `POST /images/create?fromImage=…`: a pull with dockerd's progress stream and events.
import { familiarName, familiarString, parseDockerRef } from '../../images/reference.js';
import type { ImageStore } from '../../images/store.js';
import { parsePlatform } from '../../oci/image-spec.js';
import type { JSONMessage } from '../../oci/engine-api.js';
import { pull } from '../../registry/client/pull.js';
import type { ResolverOptions } from '../../registry/client/session.js';
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

export async function pullImage(store: ImageStore, registry: ResolverOptions, events: ImageEvents, refString: string, req: PullRequest): Promise<void> {
  const ref = parseDockerRef(refString);
  const platform = req.platform ? parsePlatform(req.platform) : undefined;
  const resolver = requestResolver(registry, ref.domain, req.auth);
  const progress = new HeldFirstMessage(req.progress);
  await pull(store, resolver, ref.toString(), { ...(platform ? { platform } : {}), onProgress: progress.push, signal: req.signal });
  progress.flush();
  await events.log('pull', familiarString(ref), familiarName(ref));
}
