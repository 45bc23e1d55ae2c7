// `berth exec` (docker/cli cli/command/container/exec.go): run a command in a running
// container, attached (exit with its status) or with -d in the background.
import type { ExecCreateRequest } from '../../oci/engine-api.js';
import type { CommandDef } from '../command.js';
import { StatusError } from '../command.js';
import { readEnvFiles, validateEnv } from './kv-files.js';
import { checkDetachKeys, monitorTtySize, pumpStreams, releaseStdin } from './stdio.js';

export const execCommand: CommandDef = {
  name: 'exec',
  aliases: ['container exec'],
  usage: 'berth exec [OPTIONS] CONTAINER COMMAND [ARG...]',
  summary: 'Execute a command in a running container',
  interspersed: false,
  minArgs: 2,
  flags: [
    { name: 'detach', short: 'd', type: 'bool', usage: 'Detached mode: run command in the background' },
    { name: 'detach-keys', type: 'string', usage: 'Override the key sequence for detaching a container' },
    { name: 'env', short: 'e', type: 'list', usage: 'Set environment variables' },
    { name: 'env-file', type: 'list', usage: 'Read in a file of environment variables' },
    { name: 'interactive', short: 'i', type: 'bool', usage: 'Keep STDIN open even if not attached' },
    { name: 'privileged', type: 'bool', usage: 'Give extended privileges to the command' },
    { name: 'tty', short: 't', type: 'bool', usage: 'Allocate a pseudo-TTY' },
    { name: 'user', short: 'u', type: 'string', usage: 'Username or UID (format: "<name|uid>[:<group|gid>]")' },
    { name: 'workdir', short: 'w', type: 'string', usage: 'Working directory inside the container' },
  ],
  async run(ctx, args, flags) {
    const [container, ...cmd] = args as [string, ...string[]];
    const detach = flags.detach === true;
    const tty = flags.tty === true;
    const detachKeys = typeof flags['detach-keys'] === 'string' ? flags['detach-keys'] : '';
    checkDetachKeys(detachKeys);
    const listOf = (k: string): string[] => (Array.isArray(flags[k]) ? (flags[k] as string[]) : []);
    const env = [...readEnvFiles(listOf('env-file'), ctx.env), ...listOf('env').map((e) => validateEnv(e, ctx.env))];
    const req: ExecCreateRequest = {
      User: typeof flags.user === 'string' ? flags.user : '',
      Privileged: flags.privileged === true,
      Tty: tty,
      AttachStdin: !detach && flags.interactive === true,
      AttachStdout: !detach,
      AttachStderr: !detach,
      DetachKeys: detachKeys,
      Env: env,
      WorkingDir: typeof flags.workdir === 'string' ? flags.workdir : '',
      Cmd: cmd,
    };
    const client = await ctx.client();
    await client.inspectContainer(container);
    if (!detach && req.AttachStdin && tty && !ctx.stdin.isTTY) throw new Error('the input device is not a TTY');
    const consoleSize: [number, number] | undefined = tty && ctx.stdout.isTTY ? [ctx.stdout.rows ?? 0, ctx.stdout.columns ?? 0] : undefined;
    if (consoleSize) req.ConsoleSize = consoleSize;
    const { Id: execId } = await client.createExec(container, req);
    if (!execId) throw new Error('exec ID empty');
    if (detach) {
      await client.startExecDetached(execId, { tty, ...(consoleSize ? { consoleSize } : {}) });
      return 0;
    }
    const conn = await client.startExec(execId, { tty, ...(consoleSize ? { consoleSize } : {}) });
    const stdin = req.AttachStdin ? ctx.stdin : undefined;
    const stopResize = tty && ctx.stdin.isTTY ? monitorTtySize(ctx.stdout, ctx.stderr, (h, w) => client.resizeExec(execId, h, w)) : () => undefined;
    try {
      const result = await pumpStreams({ conn, tty, ...(stdin ? { stdin } : {}), stdout: ctx.stdout, stderr: tty ? ctx.stdout : ctx.stderr, detachKeys });
      if (result === 'detached') return 0;
    } finally {
      stopResize();
      conn.close();
      if (stdin) releaseStdin(stdin);
    }
    const inspect = await client.inspectExec(execId);
    const code = inspect.ExitCode ?? 0;
    if (code !== 0) throw new StatusError(code);
    return 0;
  },
};
