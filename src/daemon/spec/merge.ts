// The image's config under the create request's Config, by moby's rules (daemon/commit.go merge and
// daemon/create.go mergeAndVerifyConfig). The result is what inspect shows as Config.
import type { ContainerConfig, HealthConfig } from '../../oci/engine-api.js';
import type { ImageConfig } from '../../oci/image-spec.js';
import { invalidArgument } from '../../util/errors.js';

type ImageContainerConfig = NonNullable<ImageConfig['config']>;

export function mergeImageConfig(image: ImageConfig['config'], req: ContainerConfig): ContainerConfig {
  const out: ContainerConfig = structuredClone(req);
  if (image) mergeFromImage(out, image);
  // moby resets an Entrypoint of [""] (`--entrypoint ""`) to none, after the merge.
  if (out.Entrypoint?.length === 1 && out.Entrypoint[0] === '') out.Entrypoint = null;
  if (!out.Entrypoint?.length && !out.Cmd?.length) throw invalidArgument('no command specified');
  return out;
}

function mergeFromImage(out: ContainerConfig, image: ImageContainerConfig): void {
  if (!out.User) out.User = image.User ?? '';
  out.ExposedPorts = unionKeys(out.ExposedPorts, image.ExposedPorts);
  out.Env = mergeEnv(out.Env, image.Env);
  out.Labels = { ...(image.Labels ?? {}), ...(out.Labels ?? {}) };
  mergeCommand(out, image);
  out.Healthcheck = mergeHealthcheck(out.Healthcheck, image.Healthcheck);
  if (!out.WorkingDir) out.WorkingDir = image.WorkingDir ?? '';
  out.Volumes = unionKeys(out.Volumes, image.Volumes);
  if (!out.StopSignal) out.StopSignal = image.StopSignal;
  // Shell, OnBuild, StopTimeout, ArgsEscaped: not inherited (moby's merge leaves them alone).
}

/** An Entrypoint given at create replaces the image's Entrypoint and Cmd (unless Cmd is given too). */
function mergeCommand(out: ContainerConfig, image: ImageContainerConfig): void {
  if (out.Entrypoint?.length) return;
  if (!out.Cmd?.length) out.Cmd = image.Cmd ?? null;
  // A present but empty Entrypoint ([]) keeps the image's Cmd and drops its Entrypoint, as Go's nil check does.
  if (out.Entrypoint === undefined || out.Entrypoint === null) out.Entrypoint = image.Entrypoint ?? null;
}

/** Variables by key; the request's win and keep their order, the image's others follow. */
function mergeEnv(user: string[] | null | undefined, image: string[] | undefined): string[] | null {
  if (!user?.length) return image ? [...image] : (user ?? null);
  const keys = new Set(user.map(envKey));
  return [...user, ...(image ?? []).filter((e) => !keys.has(envKey(e)))];
}

export function envKey(entry: string): string {
  const eq = entry.indexOf('=');
  return eq < 0 ? entry : entry.slice(0, eq);
}

function unionKeys(
  user: Record<string, Record<string, never>> | null | undefined,
  image: Record<string, Record<string, never>> | undefined,
): Record<string, Record<string, never>> | null {
  if (!user || Object.keys(user).length === 0) return image ? structuredClone(image) : (user ?? null);
  return { ...structuredClone(image ?? {}), ...user };
}

/** Fields left 0 (and a Test of []) inherit from the image's healthcheck. */
function mergeHealthcheck(user: HealthConfig | null | undefined, image: HealthConfig | undefined): HealthConfig | null | undefined {
  if (!image) return user;
  if (!user) return structuredClone(image);
  return {
    ...user,
    Test: user.Test?.length ? user.Test : image.Test,
    Interval: user.Interval || image.Interval,
    Timeout: user.Timeout || image.Timeout,
    StartPeriod: user.StartPeriod || image.StartPeriod,
    StartInterval: user.StartInterval || image.StartInterval,
    Retries: user.Retries || image.Retries,
  };
}
