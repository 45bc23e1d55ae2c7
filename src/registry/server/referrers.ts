// The referrers API (distribution-spec v1.1): GET /v2/<name>/referrers/<digest> answers
// with an OCI image index of the manifests whose `subject` is <digest>. The index is
// kept on disk as it is pushed (storage.ts, _referrers/), not found by scanning.
import { MediaTypes, type Index, type Manifest } from '../../oci/image-spec.js';
import type { Digest } from '../../util/digest.js';
import { checkDigest } from './names.js';
import { send, type Ctx } from './respond.js';
import type { ReferrerDescriptor } from './storage.js';

/**
 * How a referrer is listed: its artifactType, else (image manifests) its config's media
 * type, as the spec says; and its annotations.
 */
export function referrerDescriptor(doc: Manifest | Index, digest: Digest, size: number, mediaType: string): ReferrerDescriptor {
  const desc: ReferrerDescriptor = { mediaType, digest, size };
  const artifactType = doc.artifactType ?? ('config' in doc ? doc.config.mediaType : undefined);
  if (artifactType !== undefined) desc.artifactType = artifactType;
  if (doc.annotations !== undefined && Object.keys(doc.annotations).length > 0) desc.annotations = doc.annotations;
  return desc;
}

export async function listReferrers(ctx: Ctx, name: string, rawDigest: string): Promise<void> {
  const subject = checkDigest(rawDigest);
  let manifests = await ctx.storage.listReferrers(name, subject);
  const headers: Record<string, string> = { 'Content-Type': MediaTypes.ociIndex };
  const artifactType = ctx.query.get('artifactType');
  if (artifactType !== null) {
    manifests = manifests.filter((m) => m.artifactType === artifactType);
    headers['OCI-Filters-Applied'] = 'artifactType';
  }
  const index = { schemaVersion: 2, mediaType: MediaTypes.ociIndex, manifests };
  send(ctx.res, 200, headers, JSON.stringify(index));
}
