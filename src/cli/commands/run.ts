// `berth run` (docker/cli cli/command/container/run.go): create (pulling a missing
// image), attach before start, register the wait before start, start, stream, and exit
// with the container's status — or print the ID with -d.
import type { EngineClient, HijackedConnection, WaitHandle } from '../../client/index.js';
import type { CommandContext, CommandDef, FlagValues } from '../command.js';
import { CONTAINER_FLAGS, CREATE_FLAGS } from './container-opts.js';
import { createContainer, requestFromFlags, runError } from './create-flow.js';
import { checkDetachKeys, monitorTtySize, proxySignals, pumpStreams, releaseStdin } from './stdio.js';

export const runCommand: CommandDef = {
  name: 'run',
  aliases: ['container run'],
  usage: 'berth run [OPTIONS] IMAGE [COMMAND] [ARG...]',
  summary: 'Create and run a new container from an image',
  interspersed: false,
  minArgs: 1,
  flags: [
    ...CONTAINER_FLAGS,
    ...CREATE_FLAGS,
    { name: 'detach', short: 'd', type: 'bool', usage: 'Run container in background and print container ID' },
    { name: 'detach-keys', type: 'string', usage: 'Override the key sequence for detaching a container' },
    { name: 'sig-proxy', type: 'bool', usage: 'Proxy received signals to the process', default: true },
  ],
  run: (ctx, args, flags) => runContainer(ctx, args, flags),
};

async function runContainer(ctx: CommandContext, args: string[], flags: FlagValues): Promise<number> {
  const { req, opts } = requestFromFlags(ctx, flags, args, 'run');
  const config = req.body;
  const detach = flags.detach === true;
  const tty = config.Tty === true;
  if (!detach) {
    if (config.AttachStdin && tty && !ctx.stdin.isTTY) throw runError(new Error('the input device is not a TTY'), 'run', true, 125);
  } else {
    if (req.attach.length > 0) throw runError(new Error('Conflicting options: -a and -d'), 'run', true, 125);
    config.AttachStdin = false;
    config.AttachStdout = false;
    config.AttachStderr = false;
    config.StdinOnce = false;
  }
  const detachKeys = typeof flags['detach-keys'] === 'string' ? flags['detach-keys'] : '';
  try {
    checkDetachKeys(detachKeys);
  } catch (err) {
    throw runError(err, 'run', true, 125);
  }
  const client = await ctx.client().catch((err: unknown) => {
    throw runError(err, 'run', true, 125);
  });
  let id: string;
  try {
    id = await createContainer(ctx, client, req, opts);
  } catch (err) {
    throw runError(err, 'run', true);
  }
  // Without a tty the CLI stands in for the process: signals it gets go to the container.
  const stopProxy = flags['sig-proxy'] !== false && !tty ? proxySignals((sig) => client.killContainer(id, sig)) : () => undefined;
  try {
    const attach = config.AttachStdin || config.AttachStdout || config.AttachStderr;
    if (!attach) {
      await startOrReport(client, id);
      ctx.stdout.write(`${id}\n`);
      return 0;
    }
    return await runAttached(ctx, client, id, { tty, autoRemove: config.HostConfig?.AutoRemove === true, detachKeys, stdin: config.AttachStdin === true, stdout: config.AttachStdout === true, stderr: config.AttachStderr === true });
  } finally {
    stopProxy();
  }
}

async function startOrReport(client: EngineClient, id: string, onFailure?: () => Promise<void>): Promise<void> {
  try {
    await client.startContainer(id);
  } catch (err) {
    await onFailure?.();
    throw runError(err, 'run', false);
  }
}

interface AttachPlan {
  tty: boolean;
  autoRemove: boolean;
  detachKeys: string;
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
}

async function runAttached(ctx: CommandContext, client: EngineClient, id: string, plan: AttachPlan): Promise<number> {
  let conn: HijackedConnection;
  try {
    conn = await client.attachContainer(id, { stream: true, logs: false, stdin: plan.stdin, stdout: plan.stdout, stderr: plan.stderr, detachKeys: plan.detachKeys });
  } catch (err) {
    throw runError(err, 'run', false, 125);
  }
  let wait: WaitHandle;
  try {
    wait = await client.startWait(id, plan.autoRemove ? 'removed' : 'next-exit');
  } catch (err) {
    conn.close();
    throw runError(err, 'run', false, 125);
  }
  await startOrReport(client, id, async () => {
    conn.close();
    // docker waits for the daemon to remove a --rm container whose start failed; bounded
    // here, so a daemon that keeps the container cannot hang the CLI.
    if (plan.autoRemove) await Promise.race([wait.result.catch(() => undefined), delay(5000)]);
  });
  const stopResize = plan.tty && ctx.stdout.isTTY ? monitorTtySize(ctx.stdout, ctx.stderr, (h, w) => client.resizeContainer(id, h, w)) : () => undefined;
  const stdin = plan.stdin ? ctx.stdin : undefined;
  try {
    const pumping = pumpStreams({
      conn,
      tty: plan.tty,
      ...(stdin ? { stdin } : {}),
      ...(plan.stdout ? { stdout: ctx.stdout } : {}),
      ...(plan.stderr ? { stderr: plan.tty ? ctx.stdout : ctx.stderr } : {}),
      detachKeys: plan.detachKeys,
    });
    const first = await Promise.race([pumping.then((r) => ({ pumped: r })), wait.result.then((w) => ({ waited: w }), () => ({ waited: undefined }))]);
    if ('pumped' in first && first.pumped === 'detached') return 0;
    if ('waited' in first && !plan.stdout && !plan.stderr) conn.close();
    // Output may still be in flight when the container exits: drain it first.
    await pumping.catch((err: Error) => {
      if ('pumped' in first) throw err;
    });
    return exitStatus(ctx, await wait.result.catch((err: Error) => ({ StatusCode: 125, Error: { Message: err.message } })));
  } finally {
    stopResize();
    conn.close();
    if (stdin) releaseStdin(stdin);
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/** waitExitOrRemoved: the container's status, or 125 when the wait itself failed. */
export function exitStatus(ctx: CommandContext, res: { StatusCode: number; Error?: { Message: string } | null }): number {
  if (res.Error?.Message) {
    ctx.stderr.write(`Error waiting for container: ${res.Error.Message}\n`);
    return 125;
  }
  return res.StatusCode;
}
