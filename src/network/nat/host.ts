// Running the firewall tools, optionally inside another network namespace. Tests point
// `netns` at a namespace they built as a fake host, so the real host's firewall and sysctls
// are never touched; berthd leaves it unset and works on its own namespace.
import { readFileSync } from 'node:fs';
import { invalidArgument } from '../../util/errors.js';
import { runTool, type ToolResult } from '../../util/host-tool.js';

const NETNS_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/** A namespace given by name lives where `ip netns add` puts it. */
export function netnsPath(netns: string): string {
  if (netns.startsWith('/')) return netns;
  if (!NETNS_NAME.test(netns)) throw invalidArgument(`invalid network namespace name ${JSON.stringify(netns)}`);
  return `/run/netns/${netns}`;
}

export class HostCommands {
  private readonly prefix: readonly string[];

  constructor(netns?: string) {
    this.prefix = netns === undefined ? [] : ['nsenter', `--net=${netnsPath(netns)}`, '--'];
  }

  run(argv: readonly string[], input?: string): Promise<ToolResult> {
    return runTool([...this.prefix, ...argv], input === undefined ? {} : { input });
  }

  /** True when the command exits 0; any failure (missing tool, no permission) is false. */
  async works(argv: readonly string[]): Promise<boolean> {
    return this.run(argv).then(
      () => true,
      () => false,
    );
  }

  /**
   * Sets each sysctl to 1 in one `sysctl` run. /proc/sys/net shows the namespace of the
   * process that opens it, so the write has to happen in a process inside `netns`.
   */
  async enableSysctls(keys: readonly string[]): Promise<void> {
    const missing = keys.filter((key) => !this.alreadyOn(key));
    if (missing.length === 0) return;
    await this.run(['sysctl', '-q', '-w', ...missing.map((key) => `${key}=1`)]);
  }

  /** In our own namespace the value can be read without a process (each apply would cost one). */
  private alreadyOn(key: string): boolean {
    if (this.prefix.length > 0) return false;
    try {
      return readFileSync(`/proc/sys/${key}`, 'utf8').trim() === '1';
    } catch {
      return false;
    }
  }
}

/** Runs operations one at a time, so two applies never interleave their reads and writes. */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(operation: () => Promise<T>): Promise<T> {
    const result = this.tail.then(operation, operation);
    this.tail = result.catch(() => undefined);
    return result;
  }
}
