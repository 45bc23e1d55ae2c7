// Docker image references: the grammar of distribution/reference (regexp.go,
// reference.go) and Docker's normalisation of familiar names (normalize.go), so
// that `busybox`, `library/busybox` and `docker.io/library/busybox:latest` are one
// image, and every name berth accepts is one Docker accepts and vice versa.
import { parseDigest, type Digest } from '../util/digest.js';
import { invalidArgument } from '../util/errors.js';

export const DEFAULT_DOMAIN = 'docker.io';
export const DEFAULT_TAG = 'latest';
/** Docker Hub's old name; still seen in configs and rewritten to DEFAULT_DOMAIN. */
const LEGACY_DEFAULT_DOMAIN = 'index.docker.io';
const OFFICIAL_REPO_PREFIX = 'library/';
/** distribution's limit, applied to the path (the part after the domain). */
export const MAX_PATH_LENGTH = 255;
// No valid reference comes near this (domain + 255 + tag 128 + sha512 digest); the
// cap keeps the backtracking regexps below linear-time on hostile input.
const MAX_INPUT_LENGTH = 2048;

export interface Reference {
  /** Registry host[:port], "" only from parseRawReference/parseRepositoryName. */
  readonly domain: string;
  /** Repository path inside the registry, e.g. "library/busybox". */
  readonly path: string;
  /** domain/path (path alone when there is no domain). */
  readonly name: string;
  readonly tag?: string;
  readonly digest?: Digest;
  /** name[:tag][@digest] */
  toString(): string;
}

// The grammar, spelled as distribution/reference's regexp.go spells it. Go's RE2
// picks submatches as a backtracking engine would, so captures agree with JS's.
const alphanumeric = '[a-z0-9]+';
const separator = '(?:[._]|__|[-]+)';
const domainNameComponent = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const optionalPort = '(?::[0-9]+)?';
const tagPat = '[\\w][\\w.-]{0,127}';
const digestPat = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9A-Fa-f]{32,}';
const ipv6address = '\\[(?:[a-fA-F0-9:]+)\\]';
const domainName = `${domainNameComponent}(?:\\.${domainNameComponent})*`;
const host = `(?:${domainName}|${ipv6address})`;
const domainAndPort = host + optionalPort;
const pathComponent = `${alphanumeric}(?:${separator}${alphanumeric})*`;
const remoteName = `${pathComponent}(?:/${pathComponent})*`;
const namePat = `(?:${domainAndPort}/)?${remoteName}`;

const REFERENCE_RE = new RegExp(`^(${namePat})(?::(${tagPat}))?(?:@(${digestPat}))?$`);
const NAME_RE = new RegExp(`^(?:(${domainAndPort})/)?(${remoteName})$`);
const TAG_RE = new RegExp(`^${tagPat}$`);
const IDENTIFIER_RE = /^[a-f0-9]{64}$/;
const ID_PREFIX_RE = /^(?:sha256:)?[a-f0-9]{1,64}$/;

class ImageReference implements Reference {
  readonly domain: string;
  readonly path: string;
  readonly name: string;
  // `declare`: no class-field initialiser, so an absent tag is no own property at all.
  declare readonly tag?: string;
  declare readonly digest?: Digest;

  constructor(domain: string, path: string, tag: string | undefined, digest: Digest | undefined) {
    this.domain = domain;
    this.path = path;
    this.name = domain === '' ? path : `${domain}/${path}`;
    if (tag !== undefined && tag !== '') this.tag = tag;
    if (digest !== undefined) this.digest = digest;
    Object.freeze(this);
  }

  toString(): string {
    return this.name + (this.tag !== undefined ? `:${this.tag}` : '') + (this.digest !== undefined ? `@${this.digest}` : '');
  }
}

function checkInputLength(s: string): void {
  if (s.length > MAX_INPUT_LENGTH) {
    throw invalidArgument(`invalid reference format: longer than ${MAX_INPUT_LENGTH} characters`);
  }
}

function tooLong(): Error {
  return invalidArgument(`repository name must not be more than ${MAX_PATH_LENGTH} characters`);
}

function splitName(name: string): { domain: string; path: string } | undefined {
  const m = NAME_RE.exec(name);
  return m === null ? undefined : { domain: m[1] ?? '', path: m[2]! };
}

function validDigest(value: string): Digest {
  try {
    return parseDigest(value).digest;
  } catch (err) {
    throw invalidArgument(`invalid reference format: ${(err as Error).message}`, err);
  }
}

/**
 * A reference exactly as written, without Docker's normalisation (distribution's
 * Parse): "busybox" has domain "" and path "busybox". Registries name repositories
 * this way; user input goes through parseReference.
 */
export function parseRawReference(s: string): Reference {
  if (s === '') throw invalidArgument('repository name must have at least one component');
  checkInputLength(s);
  const m = REFERENCE_RE.exec(s);
  if (m === null) {
    const lower = s.toLowerCase();
    if (lower !== s && REFERENCE_RE.test(lower)) {
      throw invalidArgument('invalid reference format: repository name must be lowercase');
    }
    throw invalidArgument('invalid reference format');
  }
  const split = splitName(m[1]!) ?? { domain: '', path: m[1]! };
  if (split.path.length > MAX_PATH_LENGTH) throw tooLong();
  const digest = m[3] !== undefined ? validDigest(m[3]) : undefined;
  return new ImageReference(split.domain, split.path, m[2], digest);
}

/** A repository name with no tag or digest, not normalised (distribution's WithName). */
export function parseRepositoryName(s: string): Reference {
  checkInputLength(s);
  const split = splitName(s);
  if (split === undefined) throw invalidArgument('invalid reference format');
  if (split.path.length > MAX_PATH_LENGTH) throw tooLong();
  return new ImageReference(split.domain, split.path, undefined, undefined);
}

/** Splits a familiar name into a registry and the rest, as Docker decides what a domain is. */
function splitDockerDomain(name: string): [domain: string, remainder: string] {
  const slash = name.indexOf('/');
  if (slash < 0) {
    // A single component is always a Docker Hub name: "localhost:5000" is the
    // image "localhost" with tag "5000", not a registry.
    return [DEFAULT_DOMAIN, OFFICIAL_REPO_PREFIX + name];
  }
  const first = name.slice(0, slash);
  const rest = name.slice(slash + 1);
  let domain: string;
  let remainder: string;
  if (first === 'localhost') {
    [domain, remainder] = [first, rest];
  } else if (first === LEGACY_DEFAULT_DOMAIN) {
    [domain, remainder] = [DEFAULT_DOMAIN, rest];
  } else if (first.includes('.') || first.includes(':')) {
    [domain, remainder] = [first, rest];
  } else if (first.toLowerCase() !== first) {
    // Repository paths are lowercase, so an uppercase first component must be a host.
    [domain, remainder] = [first, rest];
  } else {
    [domain, remainder] = [DEFAULT_DOMAIN, name];
  }
  if (domain === DEFAULT_DOMAIN && !remainder.includes('/')) remainder = OFFICIAL_REPO_PREFIX + remainder;
  return [domain, remainder];
}

/**
 * Parses what a user types (`docker pull` / `run` / `tag` arguments) into a fully
 * qualified reference: "busybox" → docker.io/library/busybox, "user/img" →
 * docker.io/user/img, "index.docker.io/x" → docker.io/library/x. No default tag is
 * added (see withDefaultTag); a reference may carry both a tag and a digest.
 */
export function parseReference(s: string): Reference {
  checkInputLength(s);
  if (IDENTIFIER_RE.test(s)) {
    throw invalidArgument(`invalid repository name (${s}), cannot specify 64-byte hexadecimal strings`);
  }
  const [domain, remainder] = splitDockerDomain(s);
  const colon = remainder.indexOf(':');
  const remote = colon >= 0 ? remainder.slice(0, colon) : remainder;
  if (remote.toLowerCase() !== remote) {
    throw invalidArgument(`invalid reference format: repository name (${remote}) must be lowercase`);
  }
  return parseRawReference(`${domain}/${remainder}`);
}

/** Adds the tag "latest" when the reference has neither a tag nor a digest. */
export function withDefaultTag(ref: Reference): Reference {
  if (ref.tag !== undefined || ref.digest !== undefined) return ref;
  return new ImageReference(ref.domain, ref.path, DEFAULT_TAG, undefined);
}

/** The same repository with `tag` (keeping any digest). */
export function withTag(ref: Reference, tag: string): Reference {
  if (!TAG_RE.test(tag)) throw invalidArgument(`invalid tag format: "${tag.slice(0, 160)}"`);
  return new ImageReference(ref.domain, ref.path, tag, ref.digest);
}

/** The same repository with `digest` (keeping any tag). */
export function withDigest(ref: Reference, digest: string): Reference {
  return new ImageReference(ref.domain, ref.path, ref.tag, validDigest(digest));
}

/** Drops tag and digest: the repository alone. */
export function repositoryOf(ref: Reference): Reference {
  return new ImageReference(ref.domain, ref.path, undefined, undefined);
}

/**
 * containerd's ParseDockerRef, the key images are stored under: normalised, "latest"
 * when untagged, and when both are given the digest alone (it decides the content).
 */
export function parseDockerRef(s: string): Reference {
  const ref = parseReference(s);
  if (ref.tag !== undefined && ref.digest !== undefined) {
    return new ImageReference(ref.domain, ref.path, undefined, ref.digest);
  }
  return withDefaultTag(ref);
}

/** The name as Docker shows it: docker.io/library/busybox → busybox, docker.io/u/x → u/x. */
export function familiarName(ref: Reference): string {
  if (ref.domain !== DEFAULT_DOMAIN) return ref.name;
  if (ref.path.startsWith(OFFICIAL_REPO_PREFIX)) {
    const rest = ref.path.slice(OFFICIAL_REPO_PREFIX.length);
    if (!rest.includes('/')) return rest;
  }
  return ref.path;
}

/** The whole reference as Docker shows it (`docker images`): busybox:latest. */
export function familiarString(ref: Reference): string {
  return familiarName(ref) + (ref.tag !== undefined ? `:${ref.tag}` : '') + (ref.digest !== undefined ? `@${ref.digest}` : '');
}

/** A full image ID written without its algorithm: 64 lowercase hex digits. */
export function isFullId(s: string): boolean {
  return IDENTIFIER_RE.test(s);
}

/**
 * Whether `s` could be (a prefix of) an image ID: 1–64 lowercase hex digits, optionally
 * after "sha256:". Docker tries such a string as an ID when no image has that name.
 */
export function looksLikeIdPrefix(s: string): boolean {
  return ID_PREFIX_RE.test(s);
}
