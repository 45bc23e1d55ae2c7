// `berth start` (docker/cli cli/command/container/start.go): start containers, or with
// -a/-i one container attached (stdin with -i), exiting with its status.
import type { CommandContext, CommandDef } from '../command.js';
import { StatusError } from '../command.js';
import { exitStatus } from './run.js';
import { checkDetachKeys, monitorTtySize, proxySignals, pumpStreams, releaseStdin } from './stdio.js';

export const startCommand: CommandDef = {
  name: 'start',
  aliases: ['container start'],
  usage: 'berth start [OPTIONS] CONTAINER [CONTAINER...]',
  summary: 'Start one or more stopped containers',
  minArgs: 1,
  flags: [
    { name: 'attach', short: 'a', type: 'bool', usage: 'Attach STDOUT/STDERR and forward signals' },
    { name: 'detach-keys', type: 'string', usage: 'Override the key sequence for detaching a container' },
    { name: 'interactive', short: 'i', type: 'bool', usage: "Attach container's STDIN" },
  ],
  async run(ctx, args, flags) {
    const detachKeys = typeof flags['detach-keys'] === 'string' ? flags['detach-keys'] : '';
    checkDetachKeys(detachKeys);
    if (flags.attach === true || flags.interactive === true) {
      if (args.length > 1) throw new Error('You cannot start and attach multiple containers at once.');
      return startAttached(ctx, args[0]!, flags.interactive === true, detachKeys);
    }
    const client = await ctx.client();
    const failed: string[] = [];
    for (const name of args) {
      try {
        await client.startContainer(name);
        ctx.stdout.write(`${name}\n`);
      } catch (err) {
        ctx.stderr.write(`${(err as Error).message}\n`);
        failed.push(name);
      }
    }
    if (failed.length > 0) throw new StatusError(1, `Error: failed to start containers: ${failed.join(', ')}`);
    return 0;
  },
};

async function startAttached(ctx: CommandContext, name: string, interactive: boolean, detachKeys: string): Promise<number> {
  const client = await ctx.client();
  const c = await client.inspectContainer(name);
  const tty = c.Config.Tty === true;
  const stopProxy = !tty ? proxySignals((sig) => client.killContainer(c.Id, sig)) : () => undefined;
  const withStdin = interactive && c.Config.OpenStdin === true;
  const conn = await client.attachContainer(c.Id, { stream: true, logs: false, stdin: withStdin, stdout: true, stderr: true, detachKeys });
  let stopResize = (): void => undefined;
  try {
    const wait = await client.startWait(c.Id, c.HostConfig.AutoRemove ? 'removed' : 'next-exit');
    const pumping = pumpStreams({ conn, tty, ...(withStdin ? { stdin: ctx.stdin } : {}), stdout: ctx.stdout, stderr: ctx.stderr, detachKeys });
    try {
      await client.startContainer(c.Id);
    } catch (err) {
      conn.close();
      await pumping.catch(() => undefined);
      if (c.HostConfig.AutoRemove) await wait.result.catch(() => undefined);
      throw err;
    }
    if (tty && ctx.stdout.isTTY) stopResize = monitorTtySize(ctx.stdout, ctx.stderr, (h, w) => client.resizeContainer(c.Id, h, w));
    if ((await pumping) === 'detached') return 0;
    return exitStatus(ctx, await wait.result);
  } finally {
    stopResize();
    stopProxy();
    conn.close();
    if (withStdin) releaseStdin(ctx.stdin);
  }
}
