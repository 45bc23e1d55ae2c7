// Registry authentication: WWW-Authenticate challenges (RFC 7235), HTTP basic, and the
// Bearer token flow of Docker's token spec (GET realm?service&scope with basic
// credentials, or POST an OAuth2 refresh token when the login produced an identity token).
import { unauthorized } from '../../util/errors.js';
import type { Scope } from './types.js';

export interface Challenge {
  scheme: 'basic' | 'bearer';
  params: Record<string, string>;
}

export interface Credentials {
  username?: string;
  password?: string;
  /** An OAuth2 refresh token stored by `login` when the registry issued one. */
  identityToken?: string;
  /** A bearer token to send as is (registry tokens handed in by the user). */
  registryToken?: string;
}

/** Parse a WWW-Authenticate header into challenges; schemes other than Basic and Bearer are skipped. */
export function parseChallenges(header: string | undefined): Challenge[] {
  if (!header) return [];
  const out: Challenge[] = [];
  const scan = new Scanner(header);
  let current: Challenge | undefined;
  while (!scan.done()) {
    const name = scan.token();
    if (!name) {
      scan.skipPast(',');
      continue;
    }
    if (scan.eat('=')) {
      const value = scan.quoted() ?? scan.bare();
      if (current) current.params[name.toLowerCase()] = value;
    } else {
      const scheme = name.toLowerCase();
      current = scheme === 'basic' || scheme === 'bearer' ? { scheme, params: {} } : undefined;
      if (current) out.push(current);
    }
    scan.eat(',');
  }
  return out;
}

class Scanner {
  private pos = 0;
  constructor(private readonly s: string) {}

  done(): boolean {
    this.skipSpace();
    return this.pos >= this.s.length;
  }

  private skipSpace(): void {
    while (this.pos < this.s.length && /[\s]/.test(this.s[this.pos]!)) this.pos++;
  }

  token(): string | undefined {
    this.skipSpace();
    const m = /^[A-Za-z0-9!#$%&'*+.^_`|~\/-]+/.exec(this.s.slice(this.pos));
    if (!m) return undefined;
    this.pos += m[0].length;
    return m[0];
  }

  /** An unquoted parameter value: everything up to a comma or space. */
  bare(): string {
    this.skipSpace();
    const m = /^[^\s,]*/.exec(this.s.slice(this.pos))!;
    this.pos += m[0].length;
    return m[0];
  }

  eat(ch: string): boolean {
    this.skipSpace();
    if (this.s[this.pos] !== ch) return false;
    this.pos++;
    return true;
  }

  quoted(): string | undefined {
    this.skipSpace();
    if (this.s[this.pos] !== '"') return undefined;
    let out = '';
    for (this.pos++; this.pos < this.s.length; this.pos++) {
      const c = this.s[this.pos]!;
      if (c === '"') {
        this.pos++;
        return out;
      }
      out += c === '\\' ? (this.s[++this.pos] ?? '') : c;
    }
    return out;
  }

  skipPast(ch: string): void {
    const i = this.s.indexOf(ch, this.pos);
    this.pos = i < 0 ? this.s.length : i + 1;
  }
}

export function scopeString(s: Scope): string {
  return `repository:${s.repository}:${[...s.actions].sort().join(',')}`;
}

export function basicHeader(c: Credentials): string | undefined {
  if (c.username === undefined || c.password === undefined) return undefined;
  return `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;
}

export interface Token {
  token: string;
  expiresAt: number;
  /** A refresh token the server handed back (OAuth2), for the next login. */
  refreshToken?: string;
}

/** Docker's token spec: a missing or tiny expires_in means 60 seconds. */
const MIN_TOKEN_SECONDS = 60;

export type Fetcher = (url: URL, init: { method: 'GET' | 'POST'; headers: Record<string, string>; body?: Buffer }) => Promise<{ status: number; body: Buffer }>;

/** Ask the challenge's realm for a token covering `scopes`. */
export async function fetchToken(fetcher: Fetcher, challenge: Challenge, scopes: readonly string[], creds: Credentials): Promise<Token> {
  const realm = challenge.params.realm;
  if (!realm) throw unauthorized('the registry asked for a bearer token without saying where to get it (no realm)');
  let url: URL;
  try {
    url = new URL(realm);
  } catch {
    throw unauthorized(`the registry's token realm "${realm.slice(0, 200)}" is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw unauthorized(`token realm ${url.protocol} is not http(s)`);
  const service = challenge.params.service;
  const allScopes = [...new Set([...scopes, ...(challenge.params.scope ? challenge.params.scope.split(' ') : [])])];
  const res = creds.identityToken ? await postRefresh(fetcher, url, service, allScopes, creds.identityToken) : await getToken(fetcher, url, service, allScopes, creds);
  if (res.status === 401 || res.status === 403) throw unauthorized(`${url.host}: the token server refused the credentials (${res.status})`);
  if (res.status !== 200) throw unauthorized(`${url.host}: the token server answered ${res.status}`);
  return parseToken(res.body, url.host);
}

async function getToken(fetcher: Fetcher, url: URL, service: string | undefined, scopes: string[], creds: Credentials): Promise<{ status: number; body: Buffer }> {
  const u = new URL(url);
  if (service) u.searchParams.set('service', service);
  for (const s of scopes) u.searchParams.append('scope', s);
  if (creds.username && creds.password) u.searchParams.set('account', creds.username);
  const headers: Record<string, string> = {};
  const basic = basicHeader(creds);
  if (basic) headers.authorization = basic;
  return fetcher(u, { method: 'GET', headers });
}

async function postRefresh(fetcher: Fetcher, url: URL, service: string | undefined, scopes: string[], refreshToken: string): Promise<{ status: number; body: Buffer }> {
  const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: 'berth', scope: scopes.join(' ') });
  if (service) form.set('service', service);
  return fetcher(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: Buffer.from(form.toString()) });
}

function parseToken(body: Buffer, host: string): Token {
  let doc: { token?: unknown; access_token?: unknown; expires_in?: unknown; issued_at?: unknown; refresh_token?: unknown };
  try {
    doc = JSON.parse(body.toString('utf8')) as typeof doc;
  } catch {
    throw unauthorized(`${host}: the token server's answer is not JSON`);
  }
  const token = typeof doc.access_token === 'string' && doc.access_token ? doc.access_token : doc.token;
  if (typeof token !== 'string' || !token) throw unauthorized(`${host}: the token server's answer has no token`);
  const seconds = typeof doc.expires_in === 'number' && doc.expires_in > MIN_TOKEN_SECONDS ? doc.expires_in : MIN_TOKEN_SECONDS;
  const issued = typeof doc.issued_at === 'string' ? Date.parse(doc.issued_at) : NaN;
  const start = Number.isFinite(issued) && issued <= Date.now() ? issued : Date.now();
  return { token, expiresAt: start + seconds * 1000, ...(typeof doc.refresh_token === 'string' ? { refreshToken: doc.refresh_token } : {}) };
}

/** Tokens per scope set, dropped a little before they expire. */
export class TokenCache {
  private readonly tokens = new Map<string, Token>();

  get(key: string): string | undefined {
    const t = this.tokens.get(key);
    if (!t) return undefined;
    if (t.expiresAt - 5_000 < Date.now()) {
      this.tokens.delete(key);
      return undefined;
    }
    return t.token;
  }

  set(key: string, token: Token): void {
    this.tokens.set(key, token);
  }

  delete(key: string): void {
    this.tokens.delete(key);
  }
}
