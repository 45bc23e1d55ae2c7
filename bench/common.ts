// What both benchmarks need: Ctrl-C that cleans up, order statistics, and where the
// figures came from (commit, dirty tree).
import { spawnSync } from 'node:child_process';

let aborted = false;

/** Whether SIGINT/SIGTERM/SIGHUP arrived; long loops check it and stop. */
export function isAborted(): boolean {
  return aborted;
}

/** On the first signal: cleanup, then report, then exit 130 (SIGINT) or 143; later signals only say so. */
export function installSignalHandlers(cleanup: () => Promise<void>, report: () => void): void {
  const onSignal = (sig: NodeJS.Signals): void => {
    if (aborted) {
      process.stderr.write(`\nbench: ${sig} again; still cleaning up\n`);
      return;
    }
    aborted = true;
    process.stderr.write(`\nbench: ${sig}: stopping and cleaning up…\n`);
    void cleanup().finally(() => {
      report();
      process.exit(sig === 'SIGINT' ? 130 : 143);
    });
  };
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, onSignal);
}

export interface Stats {
  n: number;
  median: number;
  p90: number;
  mean: number;
  min: number;
  max: number;
}

function quantile(sorted: number[], q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

export function stats(samples: number[]): Stats | undefined {
  if (!samples.length) return undefined;
  const s = [...samples].sort((a, b) => a - b);
  return {
    n: s.length, median: quantile(s, 0.5), p90: quantile(s, 0.9), mean: s.reduce((a, b) => a + b, 0) / s.length,
    min: s[0]!, max: s[s.length - 1]!,
  };
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** "<short hash>" plus " (uncommitted changes)" when tracked files differ from it. */
export function gitState(repo: string): string {
  const r = spawnSync('git', ['-C', repo, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' });
  const head = r.status === 0 ? r.stdout.trim() : 'no commit';
  const d = spawnSync('git', ['-C', repo, 'status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8' });
  return head + (d.status === 0 && d.stdout.trim() ? ' (uncommitted changes)' : '');
}
