// Running iproute2 for the network code, optionally inside another network namespace.
// Every function takes `{ netns }`: the "host" namespace to work in. berthd leaves it unset
// (the real host); the tests point it at a namespace they built, so they never touch the
// real host's links, routes or sysctls.
import { runTool, HostToolError } from '../util/host-tool.js';
import { internal } from '../util/errors.js';

export interface HostNetnsOptions {
  /** Path of a network namespace file to run in instead of the caller's own namespace. */
  netns?: string;
}

/** argv prefixed so it runs in `netns` (nsenter joins only the network namespace). */
export function inNetns(argv: readonly string[], netns: string | undefined): string[] {
  return netns === undefined ? [...argv] : ['nsenter', `--net=${netns}`, '--', ...argv];
}

export async function runIp(args: readonly string[], opts: HostNetnsOptions = {}): Promise<string> {
  const { stdout } = await runTool(inNetns(['ip', ...args], opts.netns));
  return stdout;
}

/** `ip -j …` parsed; iproute2 prints nothing at all (not `[]`) for some empty answers. */
export async function runIpJson<T>(args: readonly string[], opts: HostNetnsOptions = {}): Promise<T[]> {
  const stdout = await runIp(['-j', ...args], opts);
  if (stdout.trim() === '') return [];
  try {
    return JSON.parse(stdout) as T[];
  } catch (err) {
    throw internal(`ip -j ${args.join(' ')}: unreadable JSON output`, err);
  }
}

/**
 * Several ip commands in one process (`ip -batch -`). iproute2 stops at the first failing
 * command and reports its line as "Command failed -:N".
 */
export async function runIpBatch(commands: readonly string[], opts: HostNetnsOptions = {}): Promise<void> {
  if (commands.length === 0) return;
  await runTool(inNetns(['ip', '-batch', '-'], opts.netns), { input: commands.join('\n') + '\n' });
}

/** The 1-based line of the batch command that failed, when `err` is a failed `ip -batch`. */
export function failedBatchLine(err: unknown): number | undefined {
  if (!(err instanceof HostToolError)) return undefined;
  const match = /Command failed -:(\d+)/.exec(err.stderr);
  return match ? Number(match[1]) : undefined;
}

/** Whether an ip command failed because the named device does not exist. */
export function isMissingDevice(err: unknown): boolean {
  return (
    err instanceof HostToolError &&
    /Cannot find device|does not exist|No such device/.test(err.stderr)
  );
}
