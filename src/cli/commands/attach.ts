// `berth attach` (docker/cli cli/command/container/attach.go): attach to a running
// container's stdio; exit with its status, or print "read escape sequence" on detach.
import type { CommandDef } from '../command.js';
import { StatusError } from '../command.js';
import type { ContainerInspect } from '../../oci/engine-api.js';
import { exitStatus } from './run.js';
import { checkDetachKeys, monitorTtySize, proxySignals, pumpStreams, releaseStdin } from './stdio.js';

function checkState(c: ContainerInspect): void {
  if (!c.State.Running) throw new Error('You cannot attach to a stopped container, start it first');
  if (c.State.Paused) throw new Error('You cannot attach to a paused container, unpause it first');
  if (c.State.Restarting) throw new Error('You cannot attach to a restarting container, wait until it is running');
}

export const attachCommand: CommandDef = {
  name: 'attach',
  aliases: ['container attach'],
  usage: 'berth attach [OPTIONS] CONTAINER',
  summary: 'Attach local standard input, output, and error streams to a running container',
  minArgs: 1,
  maxArgs: 1,
  flags: [
    { name: 'detach-keys', type: 'string', usage: 'Override the key sequence for detaching a container' },
    { name: 'no-stdin', type: 'bool', usage: 'Do not attach STDIN' },
    { name: 'sig-proxy', type: 'bool', usage: 'Proxy all received signals to the process', default: true },
  ],
  async run(ctx, args, flags) {
    const name = args[0]!;
    const detachKeys = typeof flags['detach-keys'] === 'string' ? flags['detach-keys'] : '';
    checkDetachKeys(detachKeys);
    const client = await ctx.client();
    const wait = await client.startWait(name);
    const c = await client.inspectContainer(name);
    checkState(c);
    const tty = c.Config.Tty === true;
    const noStdin = flags['no-stdin'] === true;
    if (!noStdin && tty && c.Config.OpenStdin && !ctx.stdin.isTTY) throw new Error('the input device is not a TTY');
    const withStdin = !noStdin && c.Config.OpenStdin === true;
    const stopProxy = flags['sig-proxy'] !== false && !tty ? proxySignals((sig) => client.killContainer(c.Id, sig)) : () => undefined;
    const conn = await client.attachContainer(name, { stream: true, logs: false, stdin: withStdin, stdout: true, stderr: true, detachKeys });
    let stopResize = (): void => undefined;
    try {
      checkState(await client.inspectContainer(name));
      if (tty && ctx.stdout.isTTY) {
        // One size off first, so the application redraws even when nothing changed.
        const [h, w] = [ctx.stdout.rows ?? 0, ctx.stdout.columns ?? 0];
        await client.resizeContainer(c.Id, h + 1, w + 1).catch(() => undefined);
        stopResize = monitorTtySize(ctx.stdout, ctx.stderr, (hh, ww) => client.resizeContainer(c.Id, hh, ww));
      }
      const result = await pumpStreams({ conn, tty, ...(withStdin ? { stdin: ctx.stdin } : {}), stdout: ctx.stdout, stderr: ctx.stderr, detachKeys });
      if (result === 'detached') throw new StatusError(1, 'read escape sequence');
      const status = exitStatus(ctx, await wait.result);
      return status;
    } finally {
      stopResize();
      stopProxy();
      conn.close();
      if (withStdin) releaseStdin(ctx.stdin);
    }
  },
};
