// Registry credentials where Docker keeps them: the `auths` of ~/.docker/config.json
// (or $DOCKER_CONFIG/config.json), and credential helpers named by `credsStore` /
// `credHelpers` (docker-credential-<name> get|store|erase). `berth login` writes the
// same file the same way, so docker and berth share logins.
import { mkdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '../../util/atomic.js';
import { errnoCode, invalidArgument } from '../../util/errors.js';
import { runTool } from '../../util/host-tool.js';
import type { Credentials } from './auth.js';

/** The key Docker uses for Docker Hub in config.json. */
export const DOCKER_HUB_AUTH_KEY = 'https://index.docker.io/v1/';

interface AuthEntry {
  auth?: string;
  username?: string;
  password?: string;
  identitytoken?: string;
  registrytoken?: string;
}

interface DockerConfig {
  auths?: Record<string, AuthEntry>;
  credsStore?: string;
  credHelpers?: Record<string, string>;
  [other: string]: unknown;
}

export function defaultAuthConfigPath(): string {
  const dir = process.env.DOCKER_CONFIG || join(homedir(), '.docker');
  return join(dir, 'config.json');
}

/** The config.json key for a registry: Docker Hub's legacy URL, otherwise host[:port]. */
export function authKey(registry: string): string {
  return registry === 'docker.io' ? DOCKER_HUB_AUTH_KEY : registry;
}

/** host[:port] of a config key such as "https://host:5000/v2/" or "host:5000". */
function keyHost(key: string): string {
  const host = key.replace(/^[a-z]+:\/\//i, '').replace(/\/.*$/, '').toLowerCase();
  return host === 'index.docker.io' || host === 'registry-1.docker.io' ? 'docker.io' : host;
}

function readConfig(path: string): DockerConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return {};
    throw err;
  }
  try {
    const doc = JSON.parse(text) as unknown;
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new Error('not an object');
    return doc as DockerConfig;
  } catch (err) {
    throw invalidArgument(`${path}: not valid JSON: ${(err as Error).message}`);
  }
}

function helperFor(config: DockerConfig, registry: string): string | undefined {
  return config.credHelpers?.[authKey(registry)] ?? config.credHelpers?.[registry] ?? config.credsStore;
}

/** Credentials for a registry, or {} for anonymous access. */
export async function lookupCredentials(registry: string, path = defaultAuthConfigPath()): Promise<Credentials> {
  const config = readConfig(path);
  const helper = helperFor(config, registry);
  if (helper) {
    const fromHelper = await helperGet(helper, authKey(registry));
    if (fromHelper) return fromHelper;
  }
  for (const [key, entry] of Object.entries(config.auths ?? {})) {
    if (keyHost(key) === registry.toLowerCase()) return decodeEntry(entry, key, path);
  }
  return {};
}

function decodeEntry(entry: AuthEntry, key: string, path: string): Credentials {
  const out: Credentials = {};
  if (entry.auth) {
    const plain = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = plain.indexOf(':');
    if (colon < 0) throw invalidArgument(`${path}: auths["${key}"].auth is not base64 of user:password`);
    out.username = plain.slice(0, colon);
    out.password = plain.slice(colon + 1);
  } else if (entry.username !== undefined && entry.password !== undefined) {
    out.username = entry.username;
    out.password = entry.password;
  }
  if (entry.identitytoken) out.identityToken = entry.identitytoken;
  if (entry.registrytoken) out.registryToken = entry.registrytoken;
  return out;
}

async function helperGet(helper: string, server: string): Promise<Credentials | undefined> {
  try {
    const { stdout } = await runTool([helperBinary(helper), 'get'], { input: server, timeoutMs: 30_000 });
    const doc = JSON.parse(stdout) as { Username?: string; Secret?: string };
    if (!doc.Secret) return undefined;
    // Docker's convention: the username "<token>" means the secret is an identity token.
    return doc.Username === '<token>' ? { identityToken: doc.Secret } : { username: doc.Username ?? '', password: doc.Secret };
  } catch {
    return undefined; // "credentials not found" is a non-zero exit; anonymous access may still work
  }
}

function helperBinary(helper: string): string {
  if (!/^[A-Za-z0-9._-]+$/.test(helper)) throw invalidArgument(`credential helper name "${helper}" is not valid`);
  return `docker-credential-${helper}`;
}

/** Store credentials for a registry as `docker login` does. */
export async function storeCredentials(registry: string, creds: Credentials, path = defaultAuthConfigPath()): Promise<void> {
  const config = readConfig(path);
  const key = authKey(registry);
  const helper = helperFor(config, registry);
  if (helper) {
    const doc = creds.identityToken
      ? { ServerURL: key, Username: '<token>', Secret: creds.identityToken }
      : { ServerURL: key, Username: creds.username ?? '', Secret: creds.password ?? '' };
    await runTool([helperBinary(helper), 'store'], { input: JSON.stringify(doc), timeoutMs: 30_000 });
    return;
  }
  const entry: AuthEntry = creds.identityToken
    ? { auth: Buffer.from(`${creds.username ?? ''}:`).toString('base64'), identitytoken: creds.identityToken }
    : { auth: Buffer.from(`${creds.username ?? ''}:${creds.password ?? ''}`).toString('base64') };
  config.auths = { ...removeKeysFor(config.auths ?? {}, registry), [key]: entry };
  writeConfig(path, config);
}

/** Forget a registry's credentials; false when there were none. */
export async function eraseCredentials(registry: string, path = defaultAuthConfigPath()): Promise<boolean> {
  const config = readConfig(path);
  const helper = helperFor(config, registry);
  if (helper) {
    try {
      await runTool([helperBinary(helper), 'erase'], { input: authKey(registry), timeoutMs: 30_000 });
      return true;
    } catch {
      return false;
    }
  }
  const before = Object.keys(config.auths ?? {}).length;
  config.auths = removeKeysFor(config.auths ?? {}, registry);
  if (Object.keys(config.auths).length === before) return false;
  writeConfig(path, config);
  return true;
}

function removeKeysFor(auths: Record<string, AuthEntry>, registry: string): Record<string, AuthEntry> {
  return Object.fromEntries(Object.entries(auths).filter(([k]) => keyHost(k) !== registry.toLowerCase()));
}

function writeConfig(path: string, config: DockerConfig): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  // Secrets inside: readable by the owner only, as docker writes it.
  writeFileAtomic(path, `${JSON.stringify(config, null, '\t')}\n`, 0o600);
}
