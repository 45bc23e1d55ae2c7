// The grammar of what arrives in a URL: repository names, tags, digests, upload ids.
// Everything is checked here before it is used to build a path on disk (DESIGN §6);
// a component that could climb out of the root ("..", "/x", "_blobs") never matches.
import { isDigest, type Digest } from '../../util/digest.js';
import { registryError } from '../errors.js';

// distribution-spec "Pulling manifests": <name> is
// [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*
const COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const NAME_RE = new RegExp(`^${COMPONENT}(?:/${COMPONENT})*$`);
const TAG_RE = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;
export const MAX_NAME_LENGTH = 255;
const UPLOAD_ID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function isRepositoryName(name: string): boolean {
  // The length check first keeps the regexp's work bounded on hostile input.
  return name.length > 0 && name.length <= MAX_NAME_LENGTH && NAME_RE.test(name);
}

export function checkRepositoryName(name: string): string {
  if (!isRepositoryName(name)) {
    throw registryError('NAME_INVALID', 'invalid repository name', { detail: { name: clip(name) } });
  }
  return name;
}

export function isTag(tag: string): boolean {
  return TAG_RE.test(tag);
}

export function checkDigest(value: string): Digest {
  if (!isDigest(value)) {
    throw registryError('DIGEST_INVALID', 'invalid digest: want sha256:<64 hex> or sha512:<128 hex>', {
      detail: { digest: clip(value) },
    });
  }
  return value;
}

/** A manifest reference from a URL: a digest (it has a colon) or a tag. */
export type ManifestRef = { kind: 'digest'; digest: Digest } | { kind: 'tag'; tag: string };

export function parseManifestRef(ref: string): ManifestRef {
  if (ref.includes(':')) return { kind: 'digest', digest: checkDigest(ref) };
  if (!isTag(ref)) throw registryError('TAG_INVALID', 'invalid tag', { detail: { tag: clip(ref) } });
  return { kind: 'tag', tag: ref };
}

export function isUploadId(id: string): boolean {
  return UPLOAD_ID_RE.test(id);
}

function clip(s: string): string {
  return s.length > 300 ? `${s.slice(0, 300)}…` : s;
}
