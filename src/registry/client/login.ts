// `docker login` / `docker logout`: check the credentials against the registry (basic, or
// a token from its token server), then store them in config.json as docker does.
import { unauthorized, unavailable } from '../../util/errors.js';
import type { Credentials } from './auth.js';
import { defaultAuthConfigPath, eraseCredentials, storeCredentials } from './credentials.js';
import { RegistryHosts, type RegistryHostsOptions } from './hosts.js';
import { Session } from './session.js';

export interface LoginOptions extends RegistryHostsOptions {
  authConfigPath?: string;
}

/** Verify and store credentials; resolves to docker's message, "Login Succeeded". */
export async function login(registry: string, creds: Required<Pick<Credentials, 'username' | 'password'>>, opts: LoginOptions = {}): Promise<string> {
  await verifyLogin(registry, creds, opts);
  await storeCredentials(registry, creds, opts.authConfigPath ?? defaultAuthConfigPath());
  return 'Login Succeeded';
}

/** Check credentials against the registry without storing them (berthd's POST /auth). */
export async function verifyLogin(registry: string, creds: Required<Pick<Credentials, 'username' | 'password'>>, opts: RegistryHostsOptions = {}): Promise<void> {
  const hosts = new RegistryHosts(opts);
  const [endpoint] = hosts.endpoints(registry, 'push');
  const session = new Session(registry, endpoint!, hosts, async () => creds);
  const ping = await session.ping();
  ping.discard();
  if (ping.status === 401) {
    const res = await session.request({ method: 'GET', path: '/v2/', scopes: [] });
    res.discard();
    if (res.status === 401 || res.status === 403) throw unauthorized(`login to ${registry}: unauthorized: incorrect username or password`);
    if (res.status !== 200) throw unavailable(`login to ${registry}: the registry answered ${res.status}`);
  } else if (ping.status !== 200) {
    throw unavailable(`login to ${registry}: ${endpoint!.base.host}/v2/ answered ${ping.status}; is it a registry?`);
  }
}

/** Forget stored credentials; docker's messages. */
export async function logout(registry: string, opts: { authConfigPath?: string } = {}): Promise<string> {
  const removed = await eraseCredentials(registry, opts.authConfigPath ?? defaultAuthConfigPath());
  const key = registry === 'docker.io' ? 'https://index.docker.io/v1/' : registry;
  return removed ? `Removing login credentials for ${key}` : `Not logged in to ${key}`;
}
