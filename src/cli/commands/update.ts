// `berth update` (docker/cli cli/command/container/update.go): change resources and the
// restart policy of running or stopped containers.
import type { ContainerUpdateRequest } from '../../oci/engine-api.js';
import type { CommandDef } from '../command.js';
import { StatusError } from '../command.js';
import { parseMemorySwap, parseNanoCpus, parseRestartPolicy } from './container-opts.js';

export const updateCommand: CommandDef = {
  name: 'update',
  aliases: ['container update'],
  usage: 'berth update [OPTIONS] CONTAINER [CONTAINER...]',
  summary: 'Update configuration of one or more containers',
  minArgs: 1,
  flags: [
    { name: 'blkio-weight', type: 'int', valueName: 'uint16', usage: 'Block IO (relative weight), between 10 and 1000, or 0 to disable (default 0)' },
    { name: 'cpu-period', type: 'int', usage: 'Limit CPU CFS (Completely Fair Scheduler) period' },
    { name: 'cpu-quota', type: 'int', usage: 'Limit CPU CFS (Completely Fair Scheduler) quota' },
    { name: 'cpu-rt-period', type: 'int', usage: 'Limit the CPU real-time period in microseconds' },
    { name: 'cpu-rt-runtime', type: 'int', usage: 'Limit the CPU real-time runtime in microseconds' },
    { name: 'cpu-shares', short: 'c', type: 'int', usage: 'CPU shares (relative weight)' },
    { name: 'cpus', type: 'string', valueName: 'decimal', usage: 'Number of CPUs' },
    { name: 'cpuset-cpus', type: 'string', usage: 'CPUs in which to allow execution (0-3, 0,1)' },
    { name: 'cpuset-mems', type: 'string', usage: 'MEMs in which to allow execution (0-3, 0,1)' },
    { name: 'memory', short: 'm', type: 'bytes', usage: 'Memory limit' },
    { name: 'memory-reservation', type: 'bytes', usage: 'Memory soft limit' },
    { name: 'memory-swap', type: 'string', valueName: 'bytes', usage: 'Swap limit equal to memory plus swap: -1 to enable unlimited swap' },
    { name: 'pids-limit', type: 'int', usage: 'Tune container pids limit (set -1 for unlimited)' },
    { name: 'restart', type: 'string', usage: 'Restart policy to apply when a container exits' },
  ],
  async run(ctx, args, flags) {
    if ((ctx.changed?.size ?? 0) === 0) throw new StatusError(1, 'You must provide one or more flags when using this command.');
    const n = (k: string): number => (typeof flags[k] === 'number' ? (flags[k] as number) : 0);
    const s = (k: string): string => (typeof flags[k] === 'string' ? (flags[k] as string) : '');
    const update: ContainerUpdateRequest = {
      BlkioWeight: n('blkio-weight'),
      CpusetCpus: s('cpuset-cpus'),
      CpusetMems: s('cpuset-mems'),
      CpuShares: n('cpu-shares'),
      Memory: n('memory'),
      MemoryReservation: n('memory-reservation'),
      MemorySwap: parseMemorySwap(s('memory-swap')),
      CpuPeriod: n('cpu-period'),
      CpuQuota: n('cpu-quota'),
      CpuRealtimePeriod: n('cpu-rt-period'),
      CpuRealtimeRuntime: n('cpu-rt-runtime'),
      NanoCpus: parseNanoCpus(s('cpus')),
      RestartPolicy: s('restart') ? parseRestartPolicy(s('restart')) : {},
    };
    if (n('pids-limit') !== 0) update.PidsLimit = n('pids-limit');
    const client = await ctx.client();
    const warnings: string[] = [];
    const errors: string[] = [];
    for (const name of args) {
      try {
        const r = await client.updateContainer(name, update);
        ctx.stdout.write(`${name}\n`);
        warnings.push(...(r?.Warnings ?? []));
      } catch (err) {
        errors.push((err as Error).message);
      }
    }
    if (warnings.length > 0) ctx.stdout.write(`${warnings.join('\n')}\n`);
    if (errors.length > 0) throw new StatusError(1, errors.join('\n'));
    return 0;
  },
};
