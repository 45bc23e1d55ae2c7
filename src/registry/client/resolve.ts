// Resolving a reference on a registry: which manifest (and index) a name or digest means
// for this platform. Every document is hashed as received and checked against what the
// registry claims (Docker-Content-Digest) and what the caller pinned, before it is parsed.
import { digestOf, isDigest, parseDigest, type Digest } from '../../util/digest.js';
import { invalidArgument, unavailable } from '../../util/errors.js';
import {
  MAX_MANIFEST_SIZE,
  MediaTypes,
  detectManifestKind,
  hostPlatform,
  isIndexType,
  isManifestType,
  parseIndex,
  parseManifest,
  selectManifest,
  type Descriptor,
  type Index,
  type Manifest,
  type Platform,
} from '../../oci/image-spec.js';
import { familiarName, familiarString, parseDockerRef, type Reference } from '../../images/reference.js';
import { isAbort, pullError } from './errors.js';
import type { Endpoint, RegistryResolver, RegistryResponse, RegistrySession, Scope } from './types.js';

/** Every manifest kind berth reads; registries pick the document's own type from this list. */
export const MANIFEST_ACCEPT = [MediaTypes.ociManifest, MediaTypes.ociIndex, MediaTypes.dockerManifest, MediaTypes.dockerManifestList].join(', ');

export interface ResolveOptions {
  /** Default: the host's platform. */
  platform?: Platform;
  signal?: AbortSignal;
}

export interface Fetched<T> {
  descriptor: Descriptor;
  /** Exactly the bytes that were hashed; store these, never a re-serialisation. */
  bytes: Buffer;
  document: T;
}

/** An endpoint given up on, and why. */
export interface EndpointFallback {
  endpoint: string;
  reason: string;
}

export interface Resolved {
  /** The normalised reference that was resolved (tag "latest" when none was given). */
  ref: Reference;
  /** The session that answered; blobs come from it first. */
  session: RegistrySession;
  /** That session, then those of the endpoints after it: where a blob a mirror lacks can still be found. */
  sessions: RegistrySession[];
  /** Mirrors that failed before `session` answered. */
  fallbacks: EndpointFallback[];
  /** What the reference names — the index when there is one — whose digest `docker pull` prints. */
  root: Descriptor;
  index?: Fetched<Index>;
  manifest: Fetched<Manifest>;
}

export function pullScopes(ref: Reference): Scope[] {
  return [{ repository: ref.path, actions: ['pull'] }];
}

/**
 * Resolve `ref` for a platform, trying the pull endpoints in order: a mirror that fails
 * in any way falls back to the next endpoint; the registry's own answer is final.
 */
export async function resolve(resolver: RegistryResolver, ref: Reference | string, opts: ResolveOptions = {}): Promise<Resolved> {
  const r = typeof ref === 'string' ? parseDockerRef(ref) : ref;
  const endpoints = resolver.endpoints(r.domain, 'pull');
  if (endpoints.length === 0) throw unavailable(`no endpoint to pull from ${r.domain}`);
  const fallbacks: EndpointFallback[] = [];
  for (const [i, endpoint] of endpoints.entries()) {
    const session = resolver.session(r.domain, endpoint);
    try {
      const found = await resolveAt(session, r, opts);
      const sessions = [session, ...endpoints.slice(i + 1).map((e: Endpoint) => resolver.session(r.domain, e))];
      return { ref: r, session, sessions, fallbacks, ...found };
    } catch (err) {
      if (!endpoint.mirror || i === endpoints.length - 1 || isAbort(err)) throw err;
      fallbacks.push({ endpoint: endpoint.base.href, reason: (err as Error).message });
    }
  }
  throw unavailable(`no endpoint of ${r.domain} answered`); // not reached: the last endpoint throws
}

type Found = Pick<Resolved, 'root' | 'index' | 'manifest'>;

async function resolveAt(session: RegistrySession, ref: Reference, opts: ResolveOptions): Promise<Found> {
  const tagOrDigest = ref.digest ?? ref.tag;
  if (tagOrDigest === undefined) throw invalidArgument(`${ref.toString()}: a tag or digest is needed`);
  const pinned = ref.digest ? { digest: ref.digest } : {};
  const top = await fetchManifest(session, ref, tagOrDigest, { ...pinned, head: true, ...signalOf(opts) });
  if (detectManifestKind(top.bytes, top.descriptor.mediaType) === 'manifest') {
    return { root: top.descriptor, manifest: asManifest(top) };
  }
  const index: Fetched<Index> = { ...top, document: parseIndex(top.bytes, top.descriptor.mediaType) };
  const child = selectManifest(index.document, opts.platform ?? hostPlatform());
  if (!isManifestType(child.mediaType)) {
    throw invalidArgument(`${familiarString(ref)}: the entry for this platform is a ${child.mediaType}, not an image manifest`);
  }
  const fetched = await fetchManifest(session, ref, child.digest, { digest: child.digest, size: child.size, ...signalOf(opts) });
  return { root: top.descriptor, index, manifest: asManifest({ ...fetched, descriptor: { mediaType: child.mediaType, digest: child.digest, size: child.size } }) };
}

function asManifest(f: { descriptor: Descriptor; bytes: Buffer }): Fetched<Manifest> {
  return { ...f, document: parseManifest(f.bytes, f.descriptor.mediaType) };
}

function signalOf(opts: { signal?: AbortSignal }): { signal?: AbortSignal } {
  return opts.signal ? { signal: opts.signal } : {};
}

interface FetchOptions {
  digest?: Digest;
  size?: number;
  /** HEAD first: learn the digest and size before taking any body. */
  head?: boolean;
  signal?: AbortSignal;
}

/** One manifest or index by tag or digest, verified; its descriptor's type is the document's own. */
export async function fetchManifest(session: RegistrySession, ref: Reference, tagOrDigest: string, opts: FetchOptions): Promise<{ descriptor: Descriptor; bytes: Buffer }> {
  const path = `/v2/${ref.path}/manifests/${tagOrDigest}`;
  const base = { headers: { accept: MANIFEST_ACCEPT }, scopes: pullScopes(ref), ...signalOf(opts) };
  let want: Digest | undefined = opts.digest;
  // A pin is the caller's word and stays the one to check; HEAD only fills in a tag's digest.
  if (opts.head) {
    const headDigest = await headManifest(session, path, base, ref);
    want ??= headDigest;
  }
  // By digest when HEAD told us one: the GET cannot return a tag that moved in between.
  const res = await session.request({ method: 'GET', path: want && !isDigest(tagOrDigest) ? `/v2/${ref.path}/manifests/${want}` : path, ...base });
  if (res.status !== 200) throw await pullError(res, namesOf(ref));
  checkLength(res, ref);
  const bytes = await res.bytes(MAX_MANIFEST_SIZE);
  const digest = verifyDigest(bytes, res, want, ref);
  if (opts.size !== undefined && opts.size !== bytes.length) {
    throw invalidArgument(`manifest ${digest} of ${familiarName(ref)}: ${bytes.length} bytes, but its descriptor says ${opts.size}`);
  }
  return { descriptor: { mediaType: mediaTypeOf(bytes, res), digest, size: bytes.length }, bytes };
}

/** The digest HEAD reports, after checking the size; undefined when HEAD says nothing useful (the GET will explain). */
async function headManifest(session: RegistrySession, path: string, base: { headers: Record<string, string>; scopes: Scope[]; signal?: AbortSignal }, ref: Reference): Promise<Digest | undefined> {
  const res = await session.request({ method: 'HEAD', path, ...base });
  res.discard();
  if (res.status >= 500) throw await pullError(res, namesOf(ref));
  if (res.status !== 200) return undefined;
  checkLength(res, ref);
  const claimed = header(res, 'docker-content-digest');
  return claimed !== undefined && isDigest(claimed) ? claimed : undefined;
}

function checkLength(res: RegistryResponse, ref: Reference): void {
  const len = Number(header(res, 'content-length') ?? NaN);
  if (len > MAX_MANIFEST_SIZE) {
    throw invalidArgument(`manifest of ${familiarString(ref)} is ${len} bytes, more than the ${MAX_MANIFEST_SIZE} allowed`);
  }
}

/** Hash what arrived and hold it against every claim: the pin or HEAD's digest, and this answer's header. */
function verifyDigest(bytes: Buffer, res: RegistryResponse, want: Digest | undefined, ref: Reference): Digest {
  const algorithm = want ? parseDigest(want).algorithm : 'sha256';
  const got = digestOf(bytes, algorithm);
  if (want !== undefined && got !== want) {
    throw invalidArgument(`manifest of ${familiarString(ref)}: expected digest ${want}, but the content hashes to ${got}`);
  }
  const claimed = header(res, 'docker-content-digest');
  if (claimed !== undefined && isDigest(claimed) && parseDigest(claimed).algorithm === algorithm && claimed !== got) {
    throw invalidArgument(`manifest of ${familiarString(ref)}: the registry says ${claimed}, but the content hashes to ${got}`);
  }
  return got;
}

/** The document's own mediaType, else a Content-Type that names a manifest kind, else the OCI type of its shape. */
function mediaTypeOf(bytes: Buffer, res: RegistryResponse): string {
  const contentType = header(res, 'content-type')?.split(';')[0]?.trim();
  const kind = detectManifestKind(bytes, contentType);
  const declared = (JSON.parse(bytes.toString('utf8')) as { mediaType?: unknown }).mediaType;
  if (typeof declared === 'string') return declared;
  const typed = kind === 'index' ? isIndexType : isManifestType;
  if (contentType && typed(contentType)) return contentType;
  return kind === 'index' ? MediaTypes.ociIndex : MediaTypes.ociManifest;
}

export function header(res: RegistryResponse, name: string): string | undefined {
  const v = res.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

export function namesOf(ref: Reference): { familiarName: string; familiarRef: string } {
  return { familiarName: familiarName(ref), familiarRef: familiarString(ref) };
}
