// `berth build` (docker/cli's classic `docker build`, DOCKER_BUILDKIT=0): the context is a
// directory (sent as a tar with .dockerignore applied), a tar on stdin (`-`), or a Dockerfile
// alone on stdin; `-f -` reads the Dockerfile from stdin beside a directory context. The
// daemon's classic builder messages are shown BuildKit-style (format/build-progress.ts).
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { readAll } from '../../client/streams.js';
import type { CommandDef } from '../command.js';
import { StatusError } from '../command.js';
import { listFlag, stringFlag } from './read-support.js';


export const buildCommand: CommandDef = {
  name: 'build',
  aliases: ['image build', 'builder build'],
  usage: 'berth build [OPTIONS] PATH | URL | -',
  summary: 'Build an image from a Dockerfile',
  minArgs: 1,
  maxArgs: 1,
  flags: [
    { name: 'build-arg', type: 'list', usage: 'Set build-time variables' },
    { name: 'cache-from', type: 'list', usage: 'Images to consider as cache sources' },
    { name: 'file', short: 'f', type: 'string', usage: "Name of the Dockerfile (Default is 'PATH/Dockerfile')" },
    { name: 'force-rm', type: 'bool', usage: 'Always remove intermediate containers' },
    { name: 'iidfile', type: 'string', usage: 'Write the image ID to the file' },
    { name: 'label', type: 'list', usage: 'Set metadata for an image' },
    { name: 'network', type: 'string', usage: 'Set the networking mode for the RUN instructions during build', default: 'default' },
    { name: 'no-cache', type: 'bool', usage: 'Do not use cache when building the image' },
    { name: 'no-cache-filter', type: 'list', usage: 'Do not cache specified stages' },
    { name: 'platform', type: 'string', usage: 'Set platform if server is multi-platform capable' },
    { name: 'progress', type: 'string', usage: 'Set type of progress output (auto, plain, tty)', default: 'auto' },
    { name: 'pull', type: 'bool', usage: 'Always attempt to pull a newer version of the image' },
    { name: 'quiet', short: 'q', type: 'bool', usage: 'Suppress the build output and print image ID on success' },
    { name: 'rm', type: 'bool', usage: 'Remove intermediate containers after a successful build', default: true },
    { name: 'tag', short: 't', type: 'list', usage: "Name and optionally a tag in the 'name:tag' format" },
    { name: 'target', type: 'string', usage: 'Set the target build stage to build.' },
  ],
  async run(ctx, args, flags) {
    const progress = stringFlag(flags['progress']);
    if (!['auto', 'plain', 'tty'].includes(progress)) throw new StatusError(125, `invalid --progress value "${progress}": use auto, plain or tty`);
    const { context, dockerfile } = await prepareContext(args[0]!, stringFlag(flags['file']), ctx.stdin);
    const query = {
      t: listFlag(flags['t']).length ? listFlag(flags['t']) : listFlag(flags['tag']),
      dockerfile,
      buildargs: JSON.stringify(keyValues(listFlag(flags['build-arg']), true)),
      labels: JSON.stringify(keyValues(listFlag(flags['label']), false)),
      cachefrom: JSON.stringify(listFlag(flags['cache-from'])),
      nocache: flags['no-cache'] === true || undefined,
      pull: flags.pull === true || undefined,
      q: flags.quiet === true || undefined,
      target: stringFlag(flags['target']) || undefined,
      platform: stringFlag(flags['platform']) || undefined,
      networkmode: stringFlag(flags['network']) || undefined,
      rm: flags.rm !== false,
      forcerm: flags['force-rm'] === true || undefined,
      version: '1',
    };
    const client = await ctx.client();
    const quiet = flags.quiet === true;
    const tty = progress === 'tty' || (progress === 'auto' && ctx.stderr.isTTY === true);
    const { BuildDisplay } = await import('../format/build-progress.js');
    const display = new BuildDisplay(quiet ? new PassThrough().resume() : ctx.stderr, tty && !quiet, ctx.stderr.columns ?? 80);
    const { JSONMessageError } = await import('../format/progress.js');
    const result = await display.consume(client.build(context, query)).catch((err: unknown) => {
      // A failed RUN ends the CLI with that step's exit code, as docker's does.
      if (err instanceof JSONMessageError) throw new StatusError(err.errorCode || 1, err.message);
      throw err;
    });
    if (!result.imageId) throw new StatusError(1, 'the build finished without an image ID');
    if (quiet) ctx.stdout.write(`${result.imageId}\n`);
    const iid = stringFlag(flags['iidfile']);
    if (iid) writeFileSync(iid, result.imageId);
    return 0;
  },
};

/** --build-arg K=V (or K alone: from the environment, as docker does); --label K=V. */
function keyValues(items: string[], fromEnv: boolean): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  for (const item of items) {
    const eq = item.indexOf('=');
    if (eq >= 0) out[item.slice(0, eq)] = item.slice(eq + 1);
    else if (fromEnv) {
      const v = process.env[item];
      if (v !== undefined) out[item] = v;
    } else out[item] = '';
  }
  return out;
}

async function prepareContext(arg: string, file: string, stdin: NodeJS.ReadableStream): Promise<{ context: Readable; dockerfile: string }> {
  if (/^(https?|git):\/\/|^git@/.test(arg)) throw new StatusError(1, 'remote build contexts (git, URLs) are not supported by berth: clone or download the context first');
  const { contextTar, loadIgnoreFile } = await import('../../build/context/index.js');
  if (arg === '-') {
    if (file === '-') throw new StatusError(1, 'invalid argument: can\'t use stdin for both build context and dockerfile');
    return stdinContext(stdin as Readable, file);
  }
  if (!existsSync(arg) || !statSync(arg).isDirectory()) throw new StatusError(1, `unable to prepare context: path "${arg}" not found`);
  const dir = resolve(arg);
  let extra: { name: string; data: Buffer } | undefined;
  let dockerfile = 'Dockerfile';
  if (file === '-') {
    extra = { name: `.dockerfile.${randomBytes(10).toString('hex')}`, data: await readAll(stdin as Readable) };
    dockerfile = extra.name;
  } else if (file) {
    const abs = isAbsolute(file) ? file : resolve(file);
    if (!existsSync(abs)) throw new StatusError(1, `unable to prepare context: unable to evaluate symlinks in Dockerfile path: lstat ${abs}: no such file or directory`);
    const rel = relative(dir, abs);
    if (rel.startsWith('..') || isAbsolute(rel)) {
      // Outside the context: sent inside it under a random name, as docker/cli does.
      extra = { name: `.dockerfile.${randomBytes(10).toString('hex')}`, data: readFileSync(abs) };
      dockerfile = extra.name;
    } else dockerfile = rel;
  } else if (!existsSync(join(dir, 'Dockerfile'))) {
    throw new StatusError(1, `unable to prepare context: unable to evaluate symlinks in Dockerfile path: lstat ${join(dir, 'Dockerfile')}: no such file or directory`);
  }
  const { matcher } = await loadIgnoreFile(dir, dockerfile);
  const tar = contextTar(dir, { dockerfile, ignore: matcher });
  return { context: extra ? await appendFile(tar, extra) : tar, dockerfile };
}

/** `-`: a tar (plain or compressed) is the context; anything else is a Dockerfile alone. */
async function stdinContext(stdin: Readable, file: string): Promise<{ context: Readable; dockerfile: string }> {
  const data = await readAll(stdin);
  const { tarBuffer } = await import('../../images/tar/writer.js');
  const { hasTarMagic } = await import('../../images/tar/header.js');
  const looksLikeArchive = (data[0] === 0x1f && data[1] === 0x8b) || hasTarMagic(data);
  if (looksLikeArchive) return { context: Readable.from([data]), dockerfile: file || 'Dockerfile' };
  const now = Math.floor(Date.now() / 1000);
  return { context: Readable.from([tarBuffer([{ name: 'Dockerfile', type: 'file', mode: 0o644, size: data.length, mtimeSec: now, data }])]), dockerfile: 'Dockerfile' };
}

/** The tar with one more file before its end-of-archive blocks. */
async function appendFile(tar: Readable, file: { name: string; data: Buffer }): Promise<Readable> {
  const { tarBuffer } = await import('../../images/tar/writer.js');
  const extra = tarBuffer([{ name: file.name, type: 'file', mode: 0o600, size: file.data.length, mtimeSec: Math.floor(Date.now() / 1000), data: file.data }]);
  const END = 1024;
  async function* merged(): AsyncGenerator<Buffer> {
    let held = Buffer.alloc(0);
    for await (const chunk of tar) {
      held = Buffer.concat([held, chunk as Buffer]);
      if (held.length > END) {
        yield held.subarray(0, held.length - END);
        held = held.subarray(held.length - END);
      }
    }
    yield extra; // ends with its own end-of-archive blocks
  }
  return Readable.from(merged());
}
