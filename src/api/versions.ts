// API version negotiation as moby's VersionMiddleware does it: a request names its version
// in the /v1.NN path prefix (none means the newest), and anything outside
// [API_MIN_VERSION, API_VERSION] is refused with Docker's own wording.
import { API_MIN_VERSION, API_VERSION } from '../oci/engine-api.js';
import { invalidArgument } from '../util/errors.js';

/** Compares dotted versions numerically, missing parts as 0 (moby's versions.compare). */
export function compareVersions(a: string, b: string): number {
  const left = a.split('.');
  const right = b.split('.');
  const parts = Math.max(left.length, right.length);
  for (let i = 0; i < parts; i++) {
    const l = Number.parseInt(left[i] ?? '0', 10) || 0;
    const r = Number.parseInt(right[i] ?? '0', 10) || 0;
    if (l !== r) return l < r ? -1 : 1;
  }
  return 0;
}

export const versionLessThan = (v: string, other: string): boolean => compareVersions(v, other) < 0;
export const versionAtLeast = (v: string, other: string): boolean => compareVersions(v, other) >= 0;

/** The version a request speaks: its prefix, or API_VERSION without one. Throws InvalidArgument (400) when unsupported. */
export function negotiateVersion(requested: string | undefined): string {
  const version = requested === undefined || requested === '' ? API_VERSION : requested;
  if (versionLessThan(version, API_MIN_VERSION)) {
    throw invalidArgument(
      `client version ${version} is too old. Minimum supported API version is ${API_MIN_VERSION}, please upgrade your client to a newer version`,
    );
  }
  if (compareVersions(version, API_VERSION) > 0) {
    throw invalidArgument(`client version ${version} is too new. Maximum supported API version is ${API_VERSION}`);
  }
  return version;
}
