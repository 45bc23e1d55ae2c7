// The container's process: args (with Docker's init in front), environment, cwd and terminal, as moby's
// withCommonOptions and Container.CreateDaemonEnvironment build them.
import type { ContainerConfig } from '../../oci/engine-api.js';
import { invalidArgument } from '../../util/errors.js';
import { envKey } from './merge.js';
import { CONTAINER_INIT_PATH } from './mounts.js';

/** moby oci.DefaultPathEnv for Linux. */
export const DEFAULT_PATH_ENV = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Entrypoint + Cmd, behind `/sbin/docker-init --` when the container runs Docker's init. */
export function processArgs(config: ContainerConfig, withInit: boolean): string[] {
  const args = [...(config.Entrypoint ?? []), ...(config.Cmd ?? [])];
  if (args.length === 0) throw invalidArgument('no command specified');
  return withInit ? [CONTAINER_INIT_PATH, '--', ...args] : args;
}

/**
 * PATH, HOSTNAME and (with a tty) TERM=xterm first, then Config.Env replacing them by key or appended;
 * an entry without "=" unsets a default (moby ReplaceOrAppendEnvValues). HOME comes last when nothing
 * set it, from the user's passwd entry, as runc does when it starts the process.
 */
export function processEnv(config: ContainerConfig, home: string): string[] {
  const defaults = [`PATH=${DEFAULT_PATH_ENV}`, `HOSTNAME=${config.Hostname ?? ''}`];
  if (config.Tty) defaults.push('TERM=xterm');
  const env = replaceOrAppend(defaults, config.Env ?? []);
  if (!env.some((e) => envKey(e) === 'HOME')) env.push(`HOME=${home}`);
  return env;
}

function replaceOrAppend(defaults: string[], overrides: readonly string[]): string[] {
  const out: (string | undefined)[] = [...defaults];
  const index = new Map(defaults.map((e, i) => [envKey(e), i]));
  for (const value of overrides) {
    const i = index.get(envKey(value));
    if (!value.includes('=')) {
      if (i !== undefined) out[i] = undefined;
    } else if (i !== undefined) {
      out[i] = value;
    } else {
      out.push(value);
    }
  }
  return out.filter((e): e is string => e !== undefined);
}
