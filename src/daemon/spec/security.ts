// HostConfig.SecurityOpt, parsed as moby's parseSecurityOpt (daemon/daemon_unix.go), and the seccomp
// section it selects (daemon/seccomp_linux.go WithSeccomp).
import type { LinuxSeccomp } from '../../oci/runtime-spec.js';
import { resolveDockerProfile, type DockerSeccompProfile } from '../../runtime/seccomp/docker-default.js';
import type { HostArch } from '../../runtime/seccomp/syscalls.js';
import { invalidArgument } from '../../util/errors.js';

export interface SecurityOptions {
  /** "" (default profile), "unconfined", "builtin" or a profile's JSON text (the docker CLI sends the file's content). */
  seccompProfile: string;
  noNewPrivileges: boolean;
  writableCgroups?: boolean;
  /** apparmor= and label= options berth accepts but cannot apply (no LSM support yet). */
  ignored: string[];
}

export function parseSecurityOpt(opts: readonly string[] | null | undefined, noNewPrivilegesByDefault = false): SecurityOptions {
  const out: SecurityOptions = { seccompProfile: '', noNewPrivileges: noNewPrivilegesByDefault, ignored: [] };
  for (const opt of opts ?? []) {
    if (opt === 'no-new-privileges') out.noNewPrivileges = true;
    else if (opt === 'writable-cgroups') out.writableCgroups = true;
    else if (opt === 'disable') out.ignored.push(opt);
    else applyKeyValue(out, opt);
  }
  return out;
}

function applyKeyValue(out: SecurityOptions, opt: string): void {
  // "key=value", or the deprecated "key:value".
  const sep = opt.includes('=') ? '=' : opt.includes(':') ? ':' : undefined;
  if (sep === undefined) throw invalidArgument(`invalid --security-opt 1: "${opt}"`);
  const at = opt.indexOf(sep);
  const [key, value] = [opt.slice(0, at), opt.slice(at + 1)];
  switch (key) {
    case 'label':
    case 'apparmor':
      out.ignored.push(opt);
      return;
    case 'seccomp':
      out.seccompProfile = value;
      return;
    case 'no-new-privileges':
      out.noNewPrivileges = parseGoBool(value, opt);
      return;
    case 'writable-cgroups':
      out.writableCgroups = parseGoBool(value, opt);
      return;
    default:
      throw invalidArgument(`invalid --security-opt 2: "${opt}"`);
  }
}

/** Go's strconv.ParseBool. */
function parseGoBool(value: string, opt: string): boolean {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(value)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(value)) return false;
  throw invalidArgument(`invalid --security-opt 2: "${opt}"`);
}

/** Validates a profile's text without building anything (used at create). */
export function checkSeccompProfile(profile: string): void {
  if (profile === '' || profile === 'unconfined' || profile === 'builtin') return;
  decodeProfile(profile);
}

function decodeProfile(text: string): DockerSeccompProfile {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw invalidArgument(`Decoding seccomp profile failed: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw invalidArgument('Decoding seccomp profile failed: the profile must be a JSON object');
  }
  return parsed as DockerSeccompProfile;
}

export interface SeccompChoice {
  profile: string;
  privileged: boolean;
  capabilities: string[];
  hostArch: HostArch;
  kernelRelease: string;
  defaultSeccomp: (capabilities: string[]) => LinuxSeccomp;
}

/** None when unconfined, or privileged without an explicit profile; else the default or the given profile. */
export function seccompFor(choice: SeccompChoice): LinuxSeccomp | undefined {
  const { profile } = choice;
  if (profile === 'unconfined') return undefined;
  if (profile === '') return choice.privileged ? undefined : choice.defaultSeccomp(choice.capabilities);
  if (profile === 'builtin') return choice.defaultSeccomp(choice.capabilities);
  return resolveDockerProfile(decodeProfile(profile), {
    capabilities: choice.capabilities,
    hostArch: choice.hostArch,
    kernelRelease: choice.kernelRelease,
  });
}
