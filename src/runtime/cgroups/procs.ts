// Processes in a cgroup tree: listing them (cgroup.procs of every
// sub-cgroup, like runc's GetAllPids) and signalling them all.

import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { errnoCode, internal } from '../../util/errors.js';
import { readOptional, strerror } from './files.js';

function parsePids(text: string): number[] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map(Number);
}

/** Every pid in dir and below. Sub-cgroups that vanish while we walk are skipped; the top one must exist. */
export function readAllPids(dir: string): number[] {
  const top = readOptional(dir, 'cgroup.procs');
  if (top === undefined) throw internal(`cgroup: cannot read ${dir}/cgroup.procs: the cgroup does not exist`);
  const out = parsePids(top);
  const walk = (d: string): void => {
    let entries;
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch (err) {
      if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENODEV') return;
      throw internal(`cgroup: cannot list ${d}: ${strerror(err)}`, err);
    }
    for (const e of entries) {
      if (!e.isDirectory()) continue;
      const sub = join(d, e.name);
      out.push(...parsePids(readOptional(sub, 'cgroup.procs') ?? ''));
      walk(sub);
    }
  };
  walk(dir);
  return out;
}

/**
 * Signal every process. With a freezer, freeze first so nothing forks past
 * the signal, and thaw after so the signal is delivered (runc's
 * signalAllProcesses). Processes that exit meanwhile (ESRCH) are fine.
 */
export function killAllProcesses(
  pids: () => number[],
  signal: NodeJS.Signals | number,
  freeze?: () => void,
  thaw?: () => void,
): void {
  let frozen = false;
  if (freeze) {
    try {
      freeze();
      frozen = true;
    } catch {
      // Signal anyway: a stuck freeze must not stop a kill.
    }
  }
  try {
    for (const pid of pids()) {
      try {
        process.kill(pid, signal);
      } catch (err) {
        if (errnoCode(err) !== 'ESRCH') throw internal(`cgroup: cannot signal pid ${pid}: ${strerror(err)}`, err);
      }
    }
  } finally {
    if (frozen && thaw) thaw();
  }
}
