// What `run` and `create` share: docker/cli's createContainer (create; on "no such image"
// print "Unable to find image … locally", pull with progress, create again; --cidfile;
// warnings) and pullImage, plus run's error reporting with 125/126/127.
import { closeSync, existsSync, openSync, unlinkSync, writeSync } from 'node:fs';
import type { EngineClient } from '../../client/index.js';
import { isClientError } from '../../client/errors.js';
import type { CommandContext, FlagValues } from '../command.js';
import { StatusError } from '../command.js';
import { buildCreateRequest, OptionError, type ContainerRequest } from './container-opts.js';

export interface CreateOptions {
  name: string;
  platform: string;
  /** "missing" (default), "always", "never". */
  pull: string;
  quiet: boolean;
}

export function createOptions(v: FlagValues, env: NodeJS.ProcessEnv): CreateOptions {
  const pull = typeof v.pull === 'string' ? v.pull : 'missing';
  if (!['always', 'missing', 'never', ''].includes(pull)) {
    throw new OptionError(`invalid pull option: '${pull}': must be one of "always", "missing" or "never"`);
  }
  return {
    name: typeof v.name === 'string' ? v.name : '',
    platform: typeof v.platform === 'string' ? v.platform : env.DOCKER_DEFAULT_PLATFORM ?? '',
    pull: pull || 'missing',
    quiet: v.quiet === true,
  };
}

/** The flags turned into a create request; a bad flag value is a 125 with the command's help hint. */
export function requestFromFlags(ctx: CommandContext, v: FlagValues, args: string[], command: string): { req: ContainerRequest; opts: CreateOptions } {
  try {
    const opts = createOptions(v, ctx.env);
    const out = ctx.stdout;
    const consoleSize: [number, number] = out.isTTY ? [out.rows ?? 0, out.columns ?? 0] : [0, 0];
    const req = buildCreateRequest(v, ctx.changed ?? new Set(), args[0]!, args.slice(1), ctx.env, consoleSize);
    return { req, opts };
  } catch (err) {
    throw runError(err, command, true, 125);
  }
}

/**
 * docker 20.10's reportError for run/create: "berth: <message>." plus the help hint, and
 * the exit status: 127 when the command was not found, 126 when it could not be run, else 125.
 */
export function runError(err: unknown, command: string, withHelp: boolean, status?: number): StatusError {
  if (err instanceof StatusError) return err;
  const message = (err as Error).message ?? String(err);
  let text = `berth: ${message.replace(/\.$/, '')}.`;
  if (withHelp) text += `\nSee 'berth ${command} --help'.`;
  return new StatusError(status ?? statusForStartError(message), text);
}

/** runStartContainerErr: what the daemon's words say about the container's command. */
export function statusForStartError(message: string): number {
  // Case-insensitive: runtimes spell errno text "no such file" or "No such file".
  const m = message.replace(/^Error response from daemon: /, '').toLowerCase();
  if (m.includes('executable file not found') || m.includes('no such file or directory') || m.includes('system cannot find the file specified')) return 127;
  if (m.includes('permission denied') || m.includes('not executable') || m.includes('is a directory')) return 126;
  return 125;
}

/** docker's createContainer: returns the new container's ID. */
export async function createContainer(ctx: CommandContext, client: EngineClient, req: ContainerRequest, opts: CreateOptions): Promise<string> {
  const cid = openCidFile(req.body.HostConfig?.ContainerIDFile ?? '');
  try {
    if (opts.pull === 'always') await pullImage(ctx, client, req.body.Image!, opts);
    let response;
    try {
      response = await client.createContainer(req.body, opts.name || undefined, opts.platform || undefined);
    } catch (err) {
      const image = req.body.Image!;
      if (!isClientError(err, 404) || opts.pull !== 'missing' || (await isImageId(image))) throw err;
      if (!opts.quiet) ctx.stderr.write(`Unable to find image '${await familiarWithTag(image)}' locally\n`);
      await pullImage(ctx, client, image, opts);
      response = await client.createContainer(req.body, opts.name || undefined, opts.platform || undefined);
    }
    for (const w of response.Warnings ?? []) ctx.stderr.write(`WARNING: ${w}\n`);
    cid.write(response.Id);
    return response.Id;
  } finally {
    cid.close();
  }
}

/** pullImage of create.go: progress on stderr (nothing with -q). */
export async function pullImage(ctx: CommandContext, client: EngineClient, image: string, opts: { platform: string; quiet: boolean }): Promise<void> {
  const { registryAuthFor } = await import('../../client/auth.js');
  const { displayJSONMessages } = await import('../format/progress.js');
  const auth = await registryAuthFor(image).catch(() => undefined);
  const stream = client.pullImage(image, { ...(opts.platform ? { platform: opts.platform } : {}), ...(auth ? { auth } : {}) });
  const out = opts.quiet ? discard() : ctx.stderr;
  await displayJSONMessages(stream, out, !opts.quiet && ctx.stderr.isTTY === true);
}

function discard(): NodeJS.WritableStream {
  const sink = { write: () => true } as unknown as NodeJS.WritableStream;
  return sink;
}

async function isImageId(image: string): Promise<boolean> {
  return /^(sha256:)?[a-f0-9]{64}$/.test(image);
}

/** reference.FamiliarString(TagNameOnly(ref)): "busybox:latest". */
async function familiarWithTag(image: string): Promise<string> {
  const { familiarString, parseReference, withDefaultTag } = await import('../../images/reference.js');
  try {
    const ref = parseReference(image);
    return familiarString(ref.digest ? ref : withDefaultTag(ref));
  } catch {
    return image;
  }
}

interface CidFile {
  write(id: string): void;
  close(): void;
}

/** --cidfile: refuse an existing file; remove ours again when no ID was written. */
function openCidFile(path: string): CidFile {
  if (!path) return { write: () => undefined, close: () => undefined };
  if (existsSync(path)) throw new Error(`Container ID file found, make sure the other container isn't running or delete ${path}`);
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o644);
  } catch (err) {
    throw new Error(`Failed to create the container ID file: ${(err as Error).message}`);
  }
  let written = false;
  return {
    write(id: string) {
      writeSync(fd, id);
      written = true;
    },
    close() {
      closeSync(fd);
      if (!written) {
        try {
          unlinkSync(path);
        } catch {
          // already gone
        }
      }
    },
  };
}
