// The container's namespaces as moby's WithNamespaces sets them (daemon/oci_linux.go): Docker's
// defaults (mount, network, uts, pid, ipc), "host" modes leave one out, "container:<id>" modes join
// the path the caller resolved, and cgroup is private only when CgroupnsMode says so.
import type { ContainerConfig, HostConfig } from '../../oci/engine-api.js';
import type { LinuxNamespace, NamespaceType } from '../../oci/runtime-spec.js';
import { invalidArgument } from '../../util/errors.js';
import type { JoinedNamespaces } from './types.js';

export function buildNamespaces(hc: HostConfig, config: ContainerConfig, joined: JoinedNamespaces = {}): LinuxNamespace[] {
  const out: LinuxNamespace[] = [{ type: 'mount' }];
  const network = modeNamespace('network', config.NetworkDisabled ? '' : (hc.NetworkMode ?? ''), joined.network);
  if (network) out.push(network);
  if (hc.UTSMode !== 'host') out.push({ type: 'uts' });
  const pid = modeNamespace('pid', hc.PidMode ?? '', joined.pid);
  if (pid) out.push(pid);
  const ipc = modeNamespace('ipc', hc.IpcMode ?? '', joined.ipc);
  if (ipc) out.push(ipc);
  if (hc.CgroupnsMode === 'private') out.push({ type: 'cgroup' });
  return out;
}

/**
 * host → none (share the host's); container:<id> → the caller's path; anything else → a new
 * one, or the one the daemon made for it (a bridge network's namespace).
 */
function modeNamespace(type: NamespaceType, mode: string, joinedPath: string | undefined): LinuxNamespace | undefined {
  if (mode === 'host') return undefined;
  if (!mode.startsWith('container:')) return joinedPath ? { type, path: joinedPath } : { type };
  if (!joinedPath) throw invalidArgument(`cannot join the ${type} namespace of ${mode.slice('container:'.length)}: it is not running`);
  return { type, path: joinedPath };
}

/** Whether the container gets its own pid namespace (Docker adds --init only then). */
export function hasPrivatePidNamespace(hc: HostConfig): boolean {
  const mode = hc.PidMode ?? '';
  return mode !== 'host' && !mode.startsWith('container:');
}
