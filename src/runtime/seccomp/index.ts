// The seccomp compiler: OCI / Docker-format profiles -> classic BPF for seccomp(2).

export { compileSeccomp, BAD_ARCH_ACTION, type CompiledSeccomp } from './compile.js';
export {
  dockerDefaultProfile,
  resolveDockerProfile,
  kernelAtLeast,
  DOCKER_DEFAULT_PROFILE,
  type DockerProfileOptions,
  type DockerSeccompProfile,
  type DockerSeccompSyscall,
  type DockerSeccompFilter,
  type DockerSeccompArchMap,
} from './docker-default.js';
export { SECCOMP_RET, SECCOMP_FILTER_FLAGS } from './profile.js';
export {
  syscallNumber,
  syscallNames,
  multiplexedSyscall,
  AUDIT_ARCH,
  X32_SYSCALL_BIT,
  type SeccompArch,
  type HostArch,
  type Multiplexed,
} from './syscalls.js';
export { decodeProgram, encodeProgram, BPF_MAXINSNS, type SockFilter } from './bpf.js';
