// Daemon start: pick every container up again (live restore). Running ones get their exit
// watch back (an exit that happened while the daemon was down is found at once, with its
// code, from the shim's exit file); restart policies are applied; runtime state, mounts and
// exec directories of containers that no longer exist are cleaned up.
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Runtime } from '../../runtime/container.js';
import { unmount } from '../../snapshots/mount.js';
import type { ContainerManager } from './manager.js';
import { restartOnBoot } from './restart.js';
import type { ContainerRecord } from './store.js';

export interface RestoreReport {
  running: number;
  exitedWhileDown: number;
  restarted: number;
  cleaned: string[];
}

/** `records`: the store's records, loaded by the caller (manager.store.load). */
export async function restoreContainers(manager: ContainerManager, records: ContainerRecord[], runtime: Runtime, execRoot: string, warn: (msg: string) => void): Promise<RestoreReport> {
  const report: RestoreReport = { running: 0, exitedWhileDown: 0, restarted: 0, cleaned: [] };
  for (const rec of records) {
    try {
      await restoreOne(manager, runtime, rec, report);
    } catch (err) {
      warn(`restoring container ${rec.ID}: ${(err as Error).message}`);
    }
  }
  await cleanOrphans(manager, runtime, execRoot, report, warn);
  return report;
}

async function restoreOne(manager: ContainerManager, runtime: Runtime, rec: ContainerRecord, report: RestoreReport): Promise<void> {
  const wasActive = rec.State.Running || rec.State.Paused;
  if (wasActive) {
    const status = runtimeStatus(runtime, rec.ID);
    if (status === 'running' || status === 'paused') {
      rec.State = { ...rec.State, Paused: status === 'paused', Status: status };
      manager.persist(rec);
      report.running++;
      manager.watchExit(rec);
      manager.volumes.adopt(rec);
      manager.lifecycle?.started(rec);
      return;
    }
    report.exitedWhileDown++;
    await manager.locked(rec.ID, () => manager.handleExit(rec.ID));
    return;
  }
  // Not running: a mount left by a crash between exit and cleanup goes.
  if (existsSync(manager.rootfsDir(rec.ID))) await unmount(manager.rootfsDir(rec.ID), { detach: true }).catch(() => undefined);
  if (rec.State.Restarting || (rec.HasBeenStartedBefore && restartOnBoot(rec.HostConfig.RestartPolicy, rec.HasBeenManuallyStopped))) {
    rec.State = { ...rec.State, Restarting: false, Status: 'exited' };
    await manager.start(rec.ID);
    report.restarted++;
  }
}

function runtimeStatus(runtime: Runtime, id: string): string | undefined {
  try {
    const r = runtime.load(id);
    if (runtime.exitRecord(id)) return 'stopped';
    return runtime.status(r);
  } catch {
    return undefined;
  }
}

async function cleanOrphans(manager: ContainerManager, runtime: Runtime, execRoot: string, report: RestoreReport, warn: (msg: string) => void): Promise<void> {
  for (const { record } of runtime.list()) {
    if (manager.store.has(record.id)) continue;
    await runtime.delete(record.id, true).catch((err: unknown) => warn(`removing runtime state of ${record.id}: ${(err as Error).message}`));
    report.cleaned.push(`runtime state ${record.id}`);
  }
  const runDirs = join(execRoot, 'containers');
  for (const id of existsSync(runDirs) ? readdirSync(runDirs) : []) {
    if (manager.store.has(id)) continue;
    await unmount(join(runDirs, id, 'rootfs'), { detach: true }).catch(() => undefined);
    rmSync(join(runDirs, id), { recursive: true, force: true });
    report.cleaned.push(`run directory ${id}`);
  }
  const execDirs = join(execRoot, 'execs');
  for (const id of existsSync(execDirs) ? readdirSync(execDirs) : []) {
    // An exec that outlived the daemon keeps running; its directory goes once it has exited.
    if (existsSync(join(execDirs, id, 'exit')) || !existsSync(join(execDirs, id, 'shim.pid'))) {
      rmSync(join(execDirs, id), { recursive: true, force: true });
      report.cleaned.push(`exec ${id}`);
    }
  }
}
