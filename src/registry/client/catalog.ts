// Content discovery and management from the client side: list a repository's tags
// (following the registry's Link pagination) and delete a manifest, as `crane ls` /
// `skopeo delete` do. Tag deletion by name is not in the spec; resolve to a digest first.
import { parseReference, type Reference } from '../../images/reference.js';
import { invalidArgument } from '../../util/errors.js';
import { unexpectedResponse } from './errors.js';
import { fetchManifest } from './resolve.js';
import type { RegistryResolver, RegistrySession } from './types.js';

const MAX_TAGS_PAGE = 4 * 1024 * 1024;
/** A registry that keeps answering "next" forever is not followed forever. */
const MAX_PAGES = 10_000;

export interface TagPage {
  tags: string[];
  /** The next page's path, when the registry said there is one. */
  next?: string;
}

function pushSession(resolver: RegistryResolver, ref: Reference): RegistrySession {
  const [endpoint] = resolver.endpoints(ref.domain, 'push');
  return resolver.session(ref.domain, endpoint!);
}

/** One page of /v2/<name>/tags/list?n=&last=. */
export async function listTagsPage(resolver: RegistryResolver, repository: string, opts: { n?: number; last?: string; path?: string } = {}): Promise<TagPage> {
  const ref = parseReference(repository);
  const session = pushSession(resolver, ref);
  const query = new URLSearchParams();
  if (opts.n !== undefined) query.set('n', String(opts.n));
  if (opts.last !== undefined) query.set('last', opts.last);
  const path = opts.path ?? `/v2/${ref.path}/tags/list${query.size ? `?${query}` : ''}`;
  const res = await session.request({ method: 'GET', path, scopes: [{ repository: ref.path, actions: ['pull'] }] });
  if (res.status !== 200) throw await unexpectedResponse('GET', res);
  let doc: { tags?: unknown };
  try {
    doc = JSON.parse(await res.text(MAX_TAGS_PAGE)) as { tags?: unknown };
  } catch (err) {
    throw invalidArgument(`${ref.domain}: the tag list of ${ref.path} is not JSON`, err);
  }
  const tags = doc.tags === null || doc.tags === undefined ? [] : doc.tags;
  if (!Array.isArray(tags) || !tags.every((t) => typeof t === 'string')) throw invalidArgument(`${ref.domain}: the tag list of ${ref.path} is malformed`);
  const next = nextLink(res.headers.link);
  return next ? { tags, next } : { tags };
}

/** Every tag of a repository, page by page (n per page when given). */
export async function listTags(resolver: RegistryResolver, repository: string, opts: { n?: number } = {}): Promise<string[]> {
  const all: string[] = [];
  let page = await listTagsPage(resolver, repository, opts);
  for (let i = 0; ; i++) {
    all.push(...page.tags);
    if (!page.next || i >= MAX_PAGES) return all;
    page = await listTagsPage(resolver, repository, { path: page.next });
  }
}

/** RFC 8288: the target of the rel="next" link, kept on the registry (a relative path). */
function nextLink(header: string | string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? header.join(', ') : header;
  const m = value ? /<([^>]+)>\s*;\s*rel="?next"?/i.exec(value) : null;
  if (!m) return undefined;
  const url = new URL(m[1]!, 'http://registry.invalid');
  if (!url.pathname.startsWith('/v2/')) return undefined;
  return `${url.pathname}${url.search}`;
}

/** Delete a manifest (by digest, or the digest a tag resolves to); returns the digest deleted. */
export async function deleteManifest(resolver: RegistryResolver, reference: string): Promise<string> {
  const ref = parseReference(reference);
  const session = pushSession(resolver, ref);
  const digest = ref.digest ?? (await fetchManifest(session, ref, ref.tag ?? 'latest', { head: true })).descriptor.digest;
  const res = await session.request({ method: 'DELETE', path: `/v2/${ref.path}/manifests/${digest}`, scopes: [{ repository: ref.path, actions: ['delete'] }] });
  res.discard();
  if (res.status !== 202 && res.status !== 200) throw await unexpectedResponse('DELETE', res);
  return digest;
}
