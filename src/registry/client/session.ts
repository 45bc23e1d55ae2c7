// A RegistrySession: requests to one endpoint with one registry's credentials. It learns
// the registry's challenge from the first 401, then sends Basic credentials or a Bearer
// token for the request's scopes (cached per scope set, refreshed on a 401). An insecure
// registry is tried over HTTPS without verification first and over HTTP when TLS fails.
import { isBerthError } from '../../util/errors.js';
import { basicHeader, fetchToken, parseChallenges, scopeString, TokenCache, type Challenge, type Credentials, type Fetcher } from './auth.js';
import { lookupCredentials, defaultAuthConfigPath } from './credentials.js';
import { RegistryHosts, type HostEndpoint, type RegistryHostsOptions } from './hosts.js';
import { send, type TlsIdentity } from './http.js';
import type { Endpoint, RegistryRequest, RegistryResolver, RegistryResponse, RegistrySession, Scope } from './types.js';

const MAX_TOKEN_RESPONSE = 1024 * 1024;

export interface ResolverOptions extends RegistryHostsOptions {
  /** Docker's config.json with `auths`; default $DOCKER_CONFIG/config.json or ~/.docker/config.json. */
  authConfigPath?: string;
  /** Credentials to use instead of config.json, per registry (the Engine API's X-Registry-Auth). */
  credentials?: (registry: string) => Credentials | undefined;
}

export function createResolver(opts: ResolverOptions = {}): RegistryResolver & { hosts: RegistryHosts } {
  const hosts = new RegistryHosts(opts);
  const sessions = new Map<string, RegistrySession>();
  const authPath = opts.authConfigPath ?? defaultAuthConfigPath();
  return {
    hosts,
    endpoints: (registry, purpose) => hosts.endpoints(registry, purpose),
    session(registry: string, endpoint: Endpoint): RegistrySession {
      const key = `${registry}|${endpoint.base.href}`;
      let s = sessions.get(key);
      if (!s) {
        const given = opts.credentials?.(registry);
        // A mirror is its own host: the registry's credentials are not sent to it.
        const creds = endpoint.mirror ? async () => ({}) : given ? async () => given : () => lookupCredentials(registry, authPath);
        s = new Session(registry, asHostEndpoint(endpoint, hosts), hosts, creds);
        sessions.set(key, s);
      }
      return s;
    },
  };
}

function asHostEndpoint(endpoint: Endpoint, hosts: RegistryHosts): HostEndpoint {
  return 'insecure' in endpoint ? (endpoint as HostEndpoint) : { ...endpoint, insecure: hosts.isInsecure(endpoint.base.host) };
}

export class Session implements RegistrySession {
  private challenge: Challenge | undefined;
  private readonly tokens = new TokenCache();
  private creds: Credentials | undefined;
  /** Set once HTTPS failed on an insecure registry. */
  private plainHttp = false;

  constructor(
    readonly registry: string,
    readonly endpoint: HostEndpoint,
    private readonly hosts: RegistryHosts,
    private readonly loadCredentials: () => Promise<Credentials>,
  ) {}

  async request(req: RegistryRequest): Promise<RegistryResponse> {
    // Learn the challenge before sending a body that a 401 would waste.
    if (req.body !== undefined && !this.pinged) (await this.ping()).discard();
    let res = await this.send(req, await this.authorization(req.scopes));
    if (res.status !== 401) return res;
    const challenge = pickChallenge(res.headers['www-authenticate']);
    if (!challenge) return res;
    const hadAuth = this.challenge !== undefined;
    this.challenge = challenge;
    this.tokens.delete(tokenKey(req.scopes));
    const auth = await this.authorization(req.scopes, challenge);
    // Nothing new to offer: the 401 stands.
    if (auth === undefined || (hadAuth && challenge.scheme === 'basic')) return res;
    res.discard();
    res = await this.send(req, auth);
    return res;
  }

  private pinged = false;

  /** GET /v2/: learn how the registry wants to be authenticated. */
  async ping(): Promise<RegistryResponse> {
    this.pinged = true;
    const res = await this.send({ method: 'GET', path: '/v2/', scopes: [] }, undefined);
    if (res.status === 401) this.challenge = pickChallenge(res.headers['www-authenticate']) ?? this.challenge;
    return res;
  }

  private async credentials(): Promise<Credentials> {
    this.creds ??= await this.loadCredentials();
    return this.creds;
  }

  private async authorization(scopes: readonly Scope[], challenge = this.challenge): Promise<string | undefined> {
    if (!challenge) return undefined;
    const creds = await this.credentials();
    if (challenge.scheme === 'basic') return basicHeader(creds);
    if (creds.registryToken) return `Bearer ${creds.registryToken}`;
    const key = tokenKey(scopes);
    const cached = this.tokens.get(key);
    if (cached) return `Bearer ${cached}`;
    const token = await fetchToken(this.fetcher, challenge, scopes.map(scopeString), creds);
    this.tokens.set(key, token);
    return `Bearer ${token.token}`;
  }

  private readonly fetcher: Fetcher = async (url, init) => {
    const res = await send({ method: init.method, url, headers: init.headers, ...(init.body ? { body: init.body } : {}), tls: this.hosts.tls(url.host, true) });
    return { status: res.status, body: await res.bytes(MAX_TOKEN_RESPONSE) };
  };

  private async send(req: RegistryRequest, authorization: string | undefined): Promise<RegistryResponse> {
    const url = this.url(req.path);
    const headers: Record<string, string> = { ...req.headers };
    // Credentials go to the registry's own host only, never to an upload URL elsewhere.
    if (authorization && url.host === this.endpoint.base.host) headers.authorization = authorization;
    const attempt = (u: URL): Promise<RegistryResponse> =>
      send({
        method: req.method,
        url: u,
        headers,
        ...(req.body !== undefined ? { body: req.body } : {}),
        ...(req.contentLength !== undefined ? { contentLength: req.contentLength } : {}),
        tls: this.tlsFor(u),
        ...(req.signal ? { signal: req.signal } : {}),
      });
    try {
      return await attempt(url);
    } catch (err) {
      if (!this.canFallBackToHttp(url, err)) throw err;
      this.plainHttp = true;
      return attempt(this.url(req.path));
    }
  }

  private tlsFor(url: URL): TlsIdentity {
    const verify = !(url.host === this.endpoint.base.host && this.endpoint.insecure);
    return this.hosts.tls(url.host, verify);
  }

  private canFallBackToHttp(url: URL, err: unknown): boolean {
    // Requests already in flight when the first one found HTTPS failing retry over HTTP too.
    return this.endpoint.insecure && url.protocol === 'https:' && url.host === this.endpoint.base.host && isBerthError(err, 'Unavailable');
  }

  private url(path: string): URL {
    const base = this.plainHttp ? new URL(`http://${this.endpoint.base.host}`) : this.endpoint.base;
    const url = new URL(path, base);
    if (this.plainHttp && url.host === base.host && url.protocol === 'https:') url.protocol = 'http:';
    return url;
  }
}

function tokenKey(scopes: readonly Scope[]): string {
  return scopes.map(scopeString).sort().join(' ');
}

function pickChallenge(header: string | string[] | undefined): Challenge | undefined {
  const all = parseChallenges(Array.isArray(header) ? header.join(', ') : header);
  return all.find((c) => c.scheme === 'bearer') ?? all.find((c) => c.scheme === 'basic');
}
