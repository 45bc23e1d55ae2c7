// The registry settings the CLI shares with berthd: daemon.json's `insecure-registries`
// and `registry-mirrors` (Docker's keys), and berth's `registry-mirrors-by-host` for
// mirrors of registries other than Docker Hub.
import { readFileSync } from 'node:fs';
import type { ResolverOptions } from '../registry/client/session.js';
import { errnoCode, invalidArgument } from '../util/errors.js';

export const DAEMON_CONFIG_PATH = '/etc/berth/daemon.json';

export function loadRegistryConfig(path = process.env.BERTH_DAEMON_CONFIG ?? DAEMON_CONFIG_PATH): ResolverOptions {
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return {};
    throw invalidArgument(`${path}: ${(err as Error).message}`);
  }
  const list = (key: string): string[] | undefined => {
    const v = doc[key];
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw invalidArgument(`${path}: "${key}" must be a list of strings`);
    return v as string[];
  };
  const byHost = doc['registry-mirrors-by-host'];
  if (byHost !== undefined && (typeof byHost !== 'object' || byHost === null || Array.isArray(byHost))) {
    throw invalidArgument(`${path}: "registry-mirrors-by-host" must map registry names to lists of mirror URLs`);
  }
  const opts: ResolverOptions = {};
  const insecure = list('insecure-registries');
  const mirrors = list('registry-mirrors');
  if (insecure) opts.insecureRegistries = insecure;
  if (mirrors) opts.registryMirrors = mirrors;
  if (byHost) opts.mirrors = byHost as Record<string, string[]>;
  return opts;
}
