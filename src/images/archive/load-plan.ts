// What loading an archive decides to register, before anything is registered: one plan
// per image, whichever format the archive was in, and the helpers both formats share.
import type { ContentStore } from '../../content/store.js';
import type { Descriptor } from '../../oci/image-spec.js';
import { BerthError, invalidArgument } from '../../util/errors.js';
import { parseReference, withDefaultTag } from '../reference.js';

export interface LoadPlan {
  /** Where the image was described, for messages: "manifest.json[0]", "index.json manifests[1]". */
  where: string;
  /** The manifest to register; it and every blob it names are in the content store. */
  manifest: Descriptor;
  /** The index the manifest was chosen from, when the archive named an index. */
  index?: Descriptor;
  /** Normalised tags, e.g. docker.io/library/busybox:latest. */
  refs: string[];
}

/** The same error (same code) with `where` in front, so a message says which document was bad. */
export function within(where: string, err: unknown): unknown {
  if (!(err instanceof BerthError)) return err;
  return new BerthError(err.code, `${where}: ${err.message}`, { cause: err });
}

/** "busybox" → "docker.io/library/busybox:latest". A loaded image is tagged, never digest-pinned: a digest names content, not a choice. */
export function loadTag(name: string, where: string): string {
  let ref;
  try {
    ref = parseReference(name);
  } catch (err) {
    throw within(`${where}: ${JSON.stringify(name.slice(0, 200))}`, err);
  }
  if (ref.digest !== undefined) throw invalidArgument(`${where}: ${JSON.stringify(name.slice(0, 200))} has a digest; an archive can only tag images`);
  return withDefaultTag(ref).toString();
}

/**
 * A small document (index, manifest, config) the archive must have brought, read whole
 * and re-verified; InvalidArgument naming `where` when it is missing or its size lies.
 */
export async function readDocument(content: ContentStore, desc: Descriptor, where: string, maxBytes: number): Promise<Buffer> {
  const info = await content.info(desc.digest);
  if (!info) throw invalidArgument(`${where}: blob ${desc.digest} is not in the archive`);
  if (info.size !== desc.size) throw invalidArgument(`${where}: blob ${desc.digest} is ${info.size} bytes, but its descriptor says ${desc.size}`);
  if (info.size > maxBytes) throw invalidArgument(`${where}: blob ${desc.digest} is ${info.size} bytes, more than the ${maxBytes}-byte limit`);
  return content.readBlob(desc.digest, maxBytes);
}

/** JSON.parse with an error that names the document. */
export function parseJsonDocument(bytes: Buffer, where: string): unknown {
  try {
    return JSON.parse(bytes.toString('utf8')) as unknown;
  } catch (err) {
    throw invalidArgument(`${where} is not valid JSON: ${(err as Error).message}`, err);
  }
}
