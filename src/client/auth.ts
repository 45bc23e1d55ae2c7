// X-Registry-Auth for pull and push: the credentials `docker login`/`berth login` stored in
// ~/.docker/config.json (or a credential helper) for the image's registry, as docker's
// client sends them — base64url of the JSON AuthConfig. Loaded only by pull/push/run.
import { authKey, lookupCredentials } from '../registry/client/credentials.js';
import { parseReference } from '../images/reference.js';
import type { RegistryAuth } from '../daemon/backend.js';

/** The registry (docker.io or host[:port]) an image reference points at. */
export function registryOf(image: string): string {
  return parseReference(image).domain;
}

export function encodeRegistryAuth(auth: RegistryAuth): string {
  // Go's base64.URLEncoding: the URL-safe alphabet, with padding.
  return Buffer.from(JSON.stringify(auth)).toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
}

/** The header value for an image, or undefined when no credentials are stored (anonymous). */
export async function registryAuthFor(image: string, configPath?: string): Promise<string | undefined> {
  const registry = registryOf(image);
  const creds = configPath ? await lookupCredentials(registry, configPath) : await lookupCredentials(registry);
  const auth: RegistryAuth = { serveraddress: authKey(registry) };
  if (creds.username !== undefined) auth.username = creds.username;
  if (creds.password !== undefined) auth.password = creds.password;
  if (creds.identityToken !== undefined) auth.identitytoken = creds.identityToken;
  if (creds.registryToken !== undefined) auth.registrytoken = creds.registryToken;
  if (!auth.username && !auth.identitytoken && !auth.registrytoken) return undefined;
  return encodeRegistryAuth(auth);
}
