// Restart policies (no, always, unless-stopped, on-failure[:N]) and Docker's backoff:
// 100 ms doubling up to a minute, reset once a container has run for 10 s.
import type { RestartPolicy } from '../../oci/engine-api.js';

const INITIAL_DELAY_MS = 100;
const MAX_DELAY_MS = 60_000;
const RESET_AFTER_MS = 10_000;

export interface ExitFacts {
  exitCode: number;
  /** How long the container ran. */
  ranMs: number;
  manuallyStopped: boolean;
  restartCount: number;
}

export function shouldRestart(policy: RestartPolicy | undefined, exit: ExitFacts): boolean {
  if (exit.manuallyStopped) return false;
  switch (policy?.Name ?? '') {
    case 'always':
    case 'unless-stopped':
      return true;
    case 'on-failure': {
      const max = policy?.MaximumRetryCount ?? 0;
      return exit.exitCode !== 0 && (max === 0 || exit.restartCount < max);
    }
    default:
      return false;
  }
}

/** The delay before the next restart, given the previous one (0: none yet). */
export function nextDelay(previousMs: number, ranMs: number): number {
  if (previousMs === 0 || ranMs >= RESET_AFTER_MS) return INITIAL_DELAY_MS;
  return Math.min(previousMs * 2, MAX_DELAY_MS);
}

/** On daemon start: containers that should be running again (always; unless-stopped if not stopped by the user). */
export function restartOnBoot(policy: RestartPolicy | undefined, manuallyStopped: boolean): boolean {
  const name = policy?.Name ?? '';
  return name === 'always' || (name === 'unless-stopped' && !manuallyStopped);
}
