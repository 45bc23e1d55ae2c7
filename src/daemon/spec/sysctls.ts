// Which sysctls a container may set: only namespaced ones, as the docker CLI's opts.ValidateSysctl
// allows them (docker/cli opts/opts.go), and only when the container owns that namespace.
import type { HostConfig } from '../../oci/engine-api.js';
import { invalidArgument } from '../../util/errors.js';

// docker/cli opts/opts.go ValidateSysctl validSysctlMap and validSysctlPrefixes.
const IPC_SYSCTLS = new Set([
  'kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni', 'kernel.sem', 'kernel.shmall', 'kernel.shmmax',
  'kernel.shmmni', 'kernel.shm_rmid_forced',
]);
const IPC_PREFIX = 'fs.mqueue.';
const NET_PREFIX = 'net.';

// A name the kernel could have: dotted words, with '/' allowed inside (net.ipv4.conf.eth0/100.forwarding).
const NAME = /^[a-zA-Z0-9_-]+(\.[a-zA-Z0-9_/-]+)+$/;

export function validateSysctls(sysctls: HostConfig['Sysctls'], hc: HostConfig): void {
  for (const [key, value] of Object.entries(sysctls ?? {})) {
    const shown = `${key}=${value}`;
    if (!NAME.test(key) || key.includes('..')) throw invalidArgument(`sysctl '${shown}' is not allowed`);
    if (/[\n\0]/.test(value)) throw invalidArgument(`sysctl '${shown}' is not allowed: the value holds a newline or NUL`);
    const ns = sysctlNamespace(key);
    if (ns === undefined) throw invalidArgument(`sysctl '${shown}' is not allowed`);
    if (ns === 'network' && hc.NetworkMode === 'host') {
      throw invalidArgument(`sysctl '${shown}' is not allowed in host network namespace`);
    }
    if (ns === 'ipc' && hc.IpcMode === 'host') throw invalidArgument(`sysctl '${shown}' is not allowed in host IPC namespace`);
  }
}

function sysctlNamespace(key: string): 'ipc' | 'network' | undefined {
  if (IPC_SYSCTLS.has(key) || key.startsWith(IPC_PREFIX)) return 'ipc';
  if (key.startsWith(NET_PREFIX)) return 'network';
  return undefined;
}
