// `docker update`: new resource limits applied to a running container's cgroups and kept in
// its HostConfig (so the next start uses them), and a new restart policy.
import type { ContainerUpdateRequest, ContainerUpdateResponse, HostConfig } from '../../oci/engine-api.js';
import type { Runtime } from '../../runtime/container.js';
import { invalidArgument } from '../../util/errors.js';
import { buildResources, validateResources } from '../spec/resources.js';
import { readSpecHost } from '../spec/host.js';
import type { ContainerManager } from './manager.js';

const RESOURCE_KEYS = [
  'CpuShares', 'Memory', 'CgroupParent', 'BlkioWeight', 'CpuPeriod', 'CpuQuota', 'CpuRealtimePeriod', 'CpuRealtimeRuntime',
  'CpusetCpus', 'CpusetMems', 'Devices', 'DeviceCgroupRules', 'KernelMemory', 'MemoryReservation', 'MemorySwap',
  'MemorySwappiness', 'NanoCpus', 'OomKillDisable', 'PidsLimit', 'Ulimits',
] as const;

export async function applyUpdate(manager: ContainerManager, runtime: Runtime, idOrName: string, update: ContainerUpdateRequest): Promise<ContainerUpdateResponse> {
  const rec = manager.find(idOrName);
  return manager.locked(rec.ID, async () => {
    const changed: Partial<HostConfig> = {};
    for (const key of RESOURCE_KEYS) if (update[key] !== undefined) (changed as Record<string, unknown>)[key] = update[key];
    if (changed.CgroupParent !== undefined) throw invalidArgument('Cannot update CgroupParent of a container');
    const next: HostConfig = { ...rec.HostConfig, ...changed };
    if (update.RestartPolicy !== undefined) {
      if (rec.HostConfig.AutoRemove && update.RestartPolicy.Name && update.RestartPolicy.Name !== 'no') {
        throw invalidArgument('Restart policy cannot be updated because AutoRemove is enabled for the container');
      }
      next.RestartPolicy = update.RestartPolicy;
    }
    const warnings = validateResources(next, readSpecHost());
    if (rec.State.Running && Object.keys(changed).length > 0) runtime.update(rec.ID, buildResources(next));
    rec.HostConfig = next;
    manager.persist(rec);
    manager.emitFor(rec, 'update');
    return { Warnings: warnings };
  });
}
