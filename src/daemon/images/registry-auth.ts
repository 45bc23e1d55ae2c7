// X-Registry-Auth → the registry client's credentials, for one request. dockerd never reads
// a config.json of its own: what the client sends is all it uses (nothing means anonymous),
// so the resolver made here never falls back to the daemon user's ~/.docker/config.json.
import type { Credentials } from '../../registry/client/auth.js';
import { createResolver, type ResolverOptions } from '../../registry/client/session.js';
import type { RegistryResolver } from '../../registry/client/types.js';
import { invalidArgument } from '../../util/errors.js';
import type { RegistryAuth } from '../backend.js';

/** Docker's AuthConfig as credentials: user/password (or `auth`, base64 "user:password"), tokens. */
export function credentialsFromAuth(auth: RegistryAuth | undefined): Credentials {
  if (!auth) return {};
  const creds: Credentials = {};
  if (auth.username || auth.password) {
    creds.username = auth.username ?? '';
    creds.password = auth.password ?? '';
  } else if (auth.auth) {
    const plain = Buffer.from(auth.auth, 'base64').toString('utf8');
    const colon = plain.indexOf(':');
    if (colon < 0) throw invalidArgument('invalid X-Registry-Auth header: "auth" is not base64 of user:password');
    creds.username = plain.slice(0, colon);
    creds.password = plain.slice(colon + 1);
  }
  if (auth.identitytoken) creds.identityToken = auth.identitytoken;
  if (auth.registrytoken) creds.registryToken = auth.registrytoken;
  return creds;
}

/**
 * A resolver for one pull or push: `auth` goes to `registry` only (another registry, such as
 * one an upload is redirected to, gets no credentials), tokens live as long as the request.
 */
export function requestResolver(base: ResolverOptions, registry: string, auth: RegistryAuth | undefined): RegistryResolver {
  const creds = credentialsFromAuth(auth);
  return createResolver({ ...base, credentials: (name) => (name === registry ? creds : {}) });
}
