// Healthchecks (HEALTHCHECK in the image, --health-* at run): a probe exec every interval,
// failures counted after the start period, status "starting" → "healthy"/"unhealthy" in
// State.Health (last 5 results kept) and a `health_status: …` event on each change.
import type { HealthConfig, HealthcheckResult } from '../../oci/engine-api.js';
import type { ExecManager } from './exec.js';
import type { ContainerManager } from './manager.js';
import type { ContainerRecord } from './store.js';

const NS_PER_MS = 1_000_000;
const DEFAULTS = { interval: 30_000, timeout: 30_000, startPeriod: 0, retries: 3 };
const KEEP_RESULTS = 5;

export function probeCommand(test: string[] | undefined): string[] | undefined {
  if (!test || test.length === 0 || test[0] === 'NONE') return undefined;
  if (test[0] === 'CMD-SHELL') return ['/bin/sh', '-c', test.slice(1).join(' ')];
  if (test[0] === 'CMD') return test.slice(1);
  return test;
}

function ms(ns: number | undefined, fallback: number): number {
  return ns && ns > 0 ? ns / NS_PER_MS : fallback;
}

export class HealthMonitor {
  private readonly timers = new Map<string, NodeJS.Timeout>();

  constructor(private readonly containers: ContainerManager, private readonly execs: ExecManager, private readonly log: (msg: string) => void) {}

  start(rec: ContainerRecord): void {
    this.stop(rec.ID);
    const hc = rec.Config.Healthcheck;
    const cmd = probeCommand(hc?.Test ?? undefined);
    if (!hc || !cmd) return;
    const startedAt = Date.parse(rec.State.StartedAt);
    const schedule = (): void => {
      const inStart = Date.now() - startedAt < ms(hc.StartPeriod, DEFAULTS.startPeriod);
      const delay = inStart && hc.StartInterval ? ms(hc.StartInterval, DEFAULTS.interval) : ms(hc.Interval, DEFAULTS.interval);
      const t = setTimeout(() => void this.probe(rec, hc, cmd, startedAt).finally(() => {
        if (this.timers.get(rec.ID) === t) schedule();
      }), delay);
      t.unref();
      this.timers.set(rec.ID, t);
    };
    schedule();
  }

  stop(id: string): void {
    clearTimeout(this.timers.get(id));
    this.timers.delete(id);
  }

  close(): void {
    for (const id of [...this.timers.keys()]) this.stop(id);
  }

  private async probe(rec: ContainerRecord, hc: HealthConfig, cmd: string[], startedAt: number): Promise<void> {
    if (!rec.State.Running || rec.State.Paused || !rec.State.Health) return;
    const start = new Date();
    let result: HealthcheckResult;
    try {
      const r = await this.execs.run(rec.ID, cmd, ms(hc.Timeout, DEFAULTS.timeout));
      const exitCode = r.timedOut ? -1 : r.exitCode;
      const output = r.timedOut ? `Health check exceeded timeout (${ms(hc.Timeout, DEFAULTS.timeout) / 1000}s)` : r.output;
      result = { Start: start.toISOString(), End: new Date().toISOString(), ExitCode: exitCode, Output: output };
    } catch (err) {
      result = { Start: start.toISOString(), End: new Date().toISOString(), ExitCode: -1, Output: (err as Error).message };
    }
    if (!rec.State.Running || !rec.State.Health) return;
    const health = rec.State.Health;
    const old = health.Status;
    const log = [...health.Log, result].slice(-KEEP_RESULTS);
    let streak = health.FailingStreak;
    let status = health.Status;
    if (result.ExitCode === 0) {
      streak = 0;
      status = 'healthy';
    } else if (Date.now() - startedAt >= ms(hc.StartPeriod, DEFAULTS.startPeriod) || status !== 'starting') {
      streak++;
      if (streak >= (hc.Retries && hc.Retries > 0 ? hc.Retries : DEFAULTS.retries)) status = 'unhealthy';
    }
    this.containers.setState(rec, { Health: { Status: status, FailingStreak: streak, Log: log } });
    if (status !== old) this.containers.emitFor(rec, `health_status: ${status}`);
    if (result.ExitCode !== 0 && result.ExitCode !== 1) this.log(`healthcheck of ${rec.ID}: exit ${result.ExitCode}: ${result.Output.trim()}`);
  }
}
