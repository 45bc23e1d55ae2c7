// `berth-runtime features`: what this runtime supports, in runc's JSON shape
// (runtime-spec features.md), so callers can ask instead of guessing.
import { CAPABILITIES } from '../runtime/linux-constants.js';
import { readHostFacts } from '../sys/host.js';

export function featuresJson(): Record<string, unknown> {
  const host = readHostFacts();
  return {
    ociVersionMin: '1.0.0',
    ociVersionMax: '1.2.0',
    hooks: ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'],
    mountOptions: [
      'async', 'atime', 'bind', 'defaults', 'dev', 'diratime', 'dirsync', 'exec', 'mand', 'noatime', 'nodev', 'nodiratime',
      'noexec', 'nomand', 'norelatime', 'nostrictatime', 'nosuid', 'nosymfollow', 'private', 'rbind', 'rdev', 'relatime',
      'remount', 'ro', 'rprivate', 'rro', 'rshared', 'rslave', 'runbindable', 'rw', 'shared', 'slave', 'strictatime',
      'suid', 'symfollow', 'sync', 'unbindable',
    ],
    linux: {
      namespaces: ['cgroup', 'ipc', 'mount', 'network', 'pid', 'user', 'uts', ...(host.timeNamespace ? ['time'] : [])],
      capabilities: CAPABILITIES.slice(0, host.lastCap + 1),
      cgroup: { v1: true, v2: true, systemd: false, systemdUser: false, rdma: false },
      seccomp: {
        enabled: true,
        actions: ['SCMP_ACT_ALLOW', 'SCMP_ACT_ERRNO', 'SCMP_ACT_KILL', 'SCMP_ACT_KILL_PROCESS', 'SCMP_ACT_KILL_THREAD', 'SCMP_ACT_LOG', 'SCMP_ACT_TRACE', 'SCMP_ACT_TRAP'],
        operators: ['SCMP_CMP_EQ', 'SCMP_CMP_GE', 'SCMP_CMP_GT', 'SCMP_CMP_LE', 'SCMP_CMP_LT', 'SCMP_CMP_MASKED_EQ', 'SCMP_CMP_NE'],
        archs: ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM', 'SCMP_ARCH_X32', 'SCMP_ARCH_X86', 'SCMP_ARCH_X86_64'],
        knownFlags: ['SECCOMP_FILTER_FLAG_TSYNC', 'SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW'],
        supportedFlags: ['SECCOMP_FILTER_FLAG_TSYNC', 'SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW'],
      },
      apparmor: { enabled: host.apparmor },
      selinux: { enabled: host.selinux },
      intelRdt: { enabled: false },
      mountExtensions: { idmap: { enabled: false } },
    },
    annotations: { 'org.opencontainers.runc.version': 'berth-runtime 0.1.0' },
  };
}
