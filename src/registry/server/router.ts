// Which endpoint a /v2/ path names. Repository names contain slashes, so each pattern
// anchors on the fixed suffix (/manifests/<ref>, /blobs/uploads/<id>, …) and the name is
// everything before it; names are validated by the caller, which can then say
// NAME_INVALID instead of "no such route".
export type Route =
  | { kind: 'base' }
  | { kind: 'catalog' }
  | { kind: 'tags'; name: string }
  | { kind: 'manifest'; name: string; reference: string }
  | { kind: 'blob'; name: string; digest: string }
  | { kind: 'uploads'; name: string }
  | { kind: 'upload'; name: string; id: string }
  | { kind: 'referrers'; name: string; digest: string };

export type RouteKind = Route['kind'];

/** Methods each endpoint answers; anything else is 405 UNSUPPORTED. */
export const ROUTE_METHODS: Readonly<Record<RouteKind, readonly string[]>> = {
  base: ['GET', 'HEAD'],
  catalog: ['GET', 'HEAD'],
  tags: ['GET', 'HEAD'],
  manifest: ['GET', 'HEAD', 'PUT', 'DELETE'],
  blob: ['GET', 'HEAD', 'DELETE'],
  uploads: ['POST'],
  upload: ['GET', 'HEAD', 'PATCH', 'PUT', 'DELETE'],
  referrers: ['GET', 'HEAD'],
};

// Routing works on the raw path (no "." or ".." resolution, no decoding), so a name is
// exactly what the client sent; only the last component (a tag, digest or upload id)
// is percent-decoded, since clients do encode the colon of a digest.
const PATTERNS: readonly [RegExp, (m: RegExpExecArray) => Route][] = [
  [/^\/v2\/?$/, () => ({ kind: 'base' })],
  [/^\/v2\/_catalog\/?$/, () => ({ kind: 'catalog' })],
  [/^\/v2\/(.+)\/tags\/list\/?$/, (m) => ({ kind: 'tags', name: m[1]! })],
  [/^\/v2\/(.+)\/manifests\/([^/]+)$/, (m) => ({ kind: 'manifest', name: m[1]!, reference: decode(m[2]!) })],
  [/^\/v2\/(.+)\/blobs\/uploads\/?$/, (m) => ({ kind: 'uploads', name: m[1]! })],
  [/^\/v2\/(.+)\/blobs\/uploads\/([^/]+)$/, (m) => ({ kind: 'upload', name: m[1]!, id: decode(m[2]!) })],
  [/^\/v2\/(.+)\/blobs\/([^/]+)$/, (m) => ({ kind: 'blob', name: m[1]!, digest: decode(m[2]!) })],
  [/^\/v2\/(.+)\/referrers\/([^/]+)$/, (m) => ({ kind: 'referrers', name: m[1]!, digest: decode(m[2]!) })],
];

/** Percent-decoded; malformed encoding is left as is (and then fails validation). */
function decode(component: string): string {
  try {
    return decodeURIComponent(component);
  } catch {
    return component;
  }
}

/** Longer than any valid request path (name ≤ 255, sha512 digest, upload id). */
const MAX_PATH = 1024;

/** The endpoint of a raw request path (without its query). */
export function matchRoute(pathname: string): Route | undefined {
  if (pathname.length > MAX_PATH) return undefined;
  for (const [re, make] of PATTERNS) {
    const m = re.exec(pathname);
    if (m) return make(m);
  }
  return undefined;
}
