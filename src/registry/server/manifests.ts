// GET/HEAD/PUT/DELETE /v2/<name>/manifests/<tag|digest>. A pushed manifest is parsed
// with the same validating parsers berth pulls with, hashed exactly as received, and
// stored only when everything it references is already in the repository.
import {
  MAX_MANIFEST_SIZE,
  MediaTypes,
  detectManifestKind,
  isIndexType,
  isManifestType,
  parseIndex,
  parseManifest,
  type Descriptor,
  type Index,
  type Manifest,
} from '../../oci/image-spec.js';
import { digestOf, type Digest, type DigestAlgorithm } from '../../util/digest.js';
import { isBerthError } from '../../util/errors.js';
import { registryError, type RegistryErrorEntry } from '../errors.js';
import { readBody } from './body.js';
import { parseManifestRef, type ManifestRef } from './names.js';
import { referrerDescriptor } from './referrers.js';
import { send, type Ctx } from './respond.js';
import type { ManifestLink, RegistryStorage } from './storage.js';

export type ParsedDocument = { kind: 'manifest'; doc: Manifest; mediaType: string } | { kind: 'index'; doc: Index; mediaType: string };

// Layers that may legitimately live elsewhere (their `urls`): not required to be pushed.
const FOREIGN_LAYER_TYPES: ReadonlySet<string> = new Set([
  MediaTypes.dockerForeignLayer,
  MediaTypes.dockerForeignLayerGzip,
  MediaTypes.ociLayerNondistributable,
  MediaTypes.ociLayerNondistributableGzip,
  MediaTypes.ociLayerNondistributableZstd,
]);

export async function getManifest(ctx: Ctx, name: string, rawRef: string): Promise<void> {
  const ref = parseManifestRef(rawRef);
  const found = await findManifest(ctx.storage, name, ref);
  if (found === undefined) throw manifestUnknown(rawRef);
  const { link, bytes } = found;
  send(
    ctx.res,
    200,
    { 'Content-Type': link.mediaType, 'Docker-Content-Digest': link.digest, ETag: `"${link.digest}"` },
    // HEAD: Node sends the headers (with this Content-Length) and drops the body.
    bytes,
  );
}

async function findManifest(storage: RegistryStorage, name: string, ref: ManifestRef): Promise<{ link: ManifestLink; bytes: Buffer } | undefined> {
  const digest = ref.kind === 'digest' ? ref.digest : await storage.resolveTag(name, ref.tag);
  if (digest === undefined) return undefined;
  const link = await storage.getManifestLink(name, digest);
  if (link === undefined) return undefined;
  const bytes = await storage.readBlob(digest);
  return bytes === undefined ? undefined : { link, bytes };
}

export async function putManifest(ctx: Ctx, name: string, rawRef: string): Promise<void> {
  const ref = parseManifestRef(rawRef);
  const bytes = await readBody(ctx.req, MAX_MANIFEST_SIZE, (size) =>
    registryError('MANIFEST_INVALID', `manifest is larger than the ${MAX_MANIFEST_SIZE / (1024 * 1024)} MiB limit`, {
      status: 413,
      detail: { size, limit: MAX_MANIFEST_SIZE },
    }),
  );
  const parsed = parseDocument(bytes, ctx.req.headers['content-type']);
  const algorithm: DigestAlgorithm = ref.kind === 'digest' ? (ref.digest.slice(0, ref.digest.indexOf(':')) as DigestAlgorithm) : 'sha256';
  const digest = digestOf(bytes, algorithm);
  if (ref.kind === 'digest' && ref.digest !== digest) {
    throw registryError('DIGEST_INVALID', 'manifest digest did not match the digest in the URL', {
      detail: { expected: ref.digest, actual: digest },
    });
  }
  await checkReferences(ctx.storage, name, parsed);

  // Blob, then link, then referrer entry, then tag: each name appears after what it names.
  await ctx.storage.putBlobBytes(digest, bytes);
  await ctx.storage.putManifestLink(name, { digest, mediaType: parsed.mediaType, size: bytes.length });
  const subject = parsed.doc.subject;
  if (subject !== undefined) {
    await ctx.storage.addReferrer(name, subject.digest, referrerDescriptor(parsed.doc, digest, bytes.length, parsed.mediaType));
  }
  if (ref.kind === 'tag') await ctx.storage.putTag(name, ref.tag, digest);

  const headers: Record<string, string> = { Location: `/v2/${name}/manifests/${digest}`, 'Docker-Content-Digest': digest };
  if (subject !== undefined) headers['OCI-Subject'] = subject.digest;
  send(ctx.res, 201, headers);
}

export async function deleteManifest(ctx: Ctx, name: string, rawRef: string): Promise<void> {
  const ref = parseManifestRef(rawRef);
  if (!ctx.policy.deleteEnabled) throw registryError('UNSUPPORTED', 'deletion is disabled (start the registry with --delete-enabled)');
  if (ref.kind === 'tag') {
    if (!(await ctx.storage.deleteTag(name, ref.tag))) throw manifestUnknown(rawRef);
    send(ctx.res, 202);
    return;
  }
  const digest = ref.digest;
  if ((await ctx.storage.getManifestLink(name, digest)) === undefined) throw manifestUnknown(rawRef);
  await removeManifest(ctx.storage, name, digest);
  send(ctx.res, 202);
}

/** Untag, drop the referrer entry, then the link (gc removes the body when unreferenced). */
export async function removeManifest(storage: RegistryStorage, name: string, digest: Digest): Promise<void> {
  for (const tag of (await storage.listTags(name)) ?? []) {
    if ((await storage.resolveTag(name, tag)) === digest) await storage.deleteTag(name, tag);
  }
  const bytes = await storage.readBlob(digest);
  const subject = bytes === undefined ? undefined : subjectOf(bytes);
  if (subject !== undefined) await storage.removeReferrer(name, subject, digest);
  await storage.deleteManifestLink(name, digest);
}

function subjectOf(bytes: Buffer): Digest | undefined {
  try {
    return parseDocument(bytes, undefined).doc.subject?.digest;
  } catch {
    return undefined;
  }
}

/**
 * Parse a pushed document. Its kind comes from the Content-Type when that names a
 * manifest or index type (and the document's own mediaType must agree), otherwise from
 * the document; the media type stored (and served back) is the one it was pushed as.
 */
export function parseDocument(bytes: Buffer, contentTypeHeader: string | undefined): ParsedDocument {
  const contentType = contentTypeHeader?.split(';')[0]?.trim() ?? '';
  try {
    if (isManifestType(contentType)) return { kind: 'manifest', doc: parseManifest(bytes, contentType), mediaType: contentType };
    if (isIndexType(contentType)) return { kind: 'index', doc: parseIndex(bytes, contentType), mediaType: contentType };
    if (detectManifestKind(bytes, contentType || undefined) === 'manifest') {
      const doc = parseManifest(bytes);
      return { kind: 'manifest', doc, mediaType: doc.mediaType ?? MediaTypes.ociManifest };
    }
    const doc = parseIndex(bytes);
    return { kind: 'index', doc, mediaType: doc.mediaType ?? MediaTypes.ociIndex };
  } catch (err) {
    if (isBerthError(err, 'InvalidArgument')) throw registryError('MANIFEST_INVALID', 'manifest invalid', { detail: err.message, cause: err });
    throw err;
  }
}

/** Every blob (manifest) or child manifest (index) must already be in this repository. */
async function checkReferences(storage: RegistryStorage, name: string, parsed: ParsedDocument): Promise<void> {
  const missing: Descriptor[] = [];
  if (parsed.kind === 'manifest') {
    const { config, layers } = parsed.doc;
    for (const d of [config, ...layers]) {
      if (d !== config && FOREIGN_LAYER_TYPES.has(d.mediaType) && (d.urls?.length ?? 0) > 0) continue;
      if (!(await storage.hasBlobLink(name, d.digest))) missing.push(d);
    }
  } else {
    for (const d of parsed.doc.manifests) {
      const known = (await storage.getManifestLink(name, d.digest)) !== undefined || (await storage.hasBlobLink(name, d.digest));
      if (!known) missing.push(d);
    }
  }
  if (missing.length === 0) return;
  const entries: RegistryErrorEntry[] = missing.map((d) => ({
    code: 'MANIFEST_BLOB_UNKNOWN',
    message: parsed.kind === 'manifest' ? 'blob unknown to registry' : 'manifest unknown to registry',
    detail: { digest: d.digest },
  }));
  const [first, ...more] = entries;
  throw registryError('MANIFEST_BLOB_UNKNOWN', first!.message, { detail: first!.detail, more });
}

function manifestUnknown(ref: string): Error {
  return registryError('MANIFEST_UNKNOWN', 'manifest unknown to registry', { detail: { reference: ref.slice(0, 200) } });
}
