// `berth inspect`, `container inspect`, `image inspect` (docker/cli cli/command/inspect/
// inspector.go, system/inspect.go): the daemon's JSON as an array indented by 4 spaces, or
// one template result per object. Objects that cannot be found are reported after the rest.
import type { EngineClient } from '../../client/index.js';
import { isClientError } from '../../client/index.js';
import { readAll } from '../../client/streams.js';
import type { CommandContext, CommandDef, FlagValues } from '../command.js';
import { FormatError, parseFormat } from '../format/formatter.js';
import { jsonCompact, jsonIndent } from '../format/json-indent.js';
import { Template, TemplateExecError } from '../format/template.js';
import { INSPECT_FORMAT_HELP, boolFlag, stringFlag } from './read-support.js';

const ALL_TYPES = ['config', 'container', 'image', 'network', 'node', 'plugin', 'secret', 'service', 'task', 'volume'];

interface Found {
  raw: string;
}

type Lookup = (ref: string) => Promise<Found>;

async function fetchRaw(client: EngineClient, path: string, query?: Record<string, string | boolean | undefined>): Promise<Found> {
  const res = await client.send('GET', path, query ? { query } : {});
  return { raw: (await readAll(res)).toString('utf8') };
}

const enc = encodeURIComponent;
const encImage = (s: string): string => s.split('/').map(encodeURIComponent).join('/');

const lookups = (client: EngineClient, size: boolean): Record<string, Lookup> => ({
  container: (ref) => fetchRaw(client, `/containers/${enc(ref)}/json`, { size: size || undefined }),
  image: (ref) => fetchRaw(client, `/images/${encImage(ref)}/json`),
  network: (ref) => fetchRaw(client, `/networks/${enc(ref)}`),
  volume: (ref) => fetchRaw(client, `/volumes/${enc(ref)}`),
});

/** isErrSkippable: the object is not of this type (or the daemon has no such type); try the next. */
function skippable(err: unknown): boolean {
  if (isClientError(err, 404)) return true;
  const message = err instanceof Error ? err.message : String(err);
  return message.includes('not supported') || message.includes('invalid reference format');
}

/** inspectAll: try each type in docker's order unless one is given. */
function autodetect(ctx: CommandContext, client: EngineClient, size: boolean, type: string): Lookup {
  const table = lookups(client, size);
  return async (ref) => {
    for (const [kind, lookup] of Object.entries(table)) {
      if (type !== '' && kind !== type) continue;
      try {
        const found = await lookup(ref);
        if (size && kind !== 'container') ctx.stderr.write(`WARNING: --size ignored for ${kind}\n`);
        return found;
      } catch (err) {
        if (type === '' && skippable(err)) continue;
        throw err;
      }
    }
    throw new Error(`Error: No such object: ${ref}`);
  };
}

/** inspect.Inspect: print every object found, then report the failures (exit 1). */
export async function runInspect(ctx: CommandContext, refs: string[], format: string, lookup: Lookup): Promise<number> {
  let tmpl: Template | undefined;
  if (format !== '' && format !== 'json') {
    try {
      tmpl = parseFormat(format);
      tmpl = tmpl.withFuncs({}, { missingKeyError: true });
    } catch (err) {
      if (err instanceof FormatError) {
        ctx.stderr.write(`${err.message}\n`);
        return 64;
      }
      throw err;
    }
  }
  const errors: string[] = [];
  const raws: string[] = [];
  let text = '';
  for (const ref of refs) {
    let found: Found;
    try {
      found = await lookup(ref);
    } catch (err) {
      errors.push(err instanceof Error ? err.message : String(err));
      continue;
    }
    if (!tmpl) {
      raws.push(found.raw.trim());
      continue;
    }
    try {
      text += tmpl.execute(JSON.parse(found.raw)) + '\n';
    } catch (err) {
      if (!(err instanceof TemplateExecError)) throw err;
      errors.push(`template parsing error: ${err.message}`);
    }
  }
  if (!tmpl) {
    const array = `[${raws.join(',')}]`;
    text = raws.length === 0 ? '[]\n' : (format === 'json' ? jsonCompact(array) : jsonIndent(array)) + '\n';
  } else if (text === '') {
    text = '\n';
  }
  ctx.stdout.write(text);
  if (errors.length > 0) {
    ctx.stderr.write(errors.join('\n') + '\n');
    return 1;
  }
  return 0;
}

const formatFlagSpec = { name: 'format', short: 'f', type: 'string' as const, usage: INSPECT_FORMAT_HELP };

export const inspectCommand: CommandDef = {
  name: 'inspect',
  usage: 'docker inspect [OPTIONS] NAME|ID [NAME|ID...]',
  summary: 'Return low-level information on Docker objects',
  minArgs: 1,
  flags: [
    formatFlagSpec,
    { name: 'size', short: 's', type: 'bool', usage: 'Display total file sizes if the type is container' },
    { name: 'type', type: 'string', usage: 'Only inspect objects of the given type' },
  ],
  async run(ctx, args, flags: FlagValues) {
    const type = flags['type'];
    if (type === '') {
      ctx.stderr.write(`type is empty: must be one of "${ALL_TYPES.join('", "')}"\n`);
      return 1;
    }
    const objectType = stringFlag(type);
    if (objectType !== '' && !ALL_TYPES.includes(objectType)) {
      ctx.stderr.write(`unknown type: "${objectType}": must be one of "${ALL_TYPES.join('", "')}"\n`);
      return 1;
    }
    const client = await ctx.client();
    return runInspect(ctx, args, stringFlag(flags['format']), autodetect(ctx, client, boolFlag(flags['size']), objectType));
  },
};

export const containerInspectCommand: CommandDef = {
  name: 'container inspect',
  usage: 'docker container inspect [OPTIONS] CONTAINER [CONTAINER...]',
  summary: 'Display detailed information on one or more containers',
  minArgs: 1,
  flags: [formatFlagSpec, { name: 'size', short: 's', type: 'bool', usage: 'Display total file sizes' }],
  async run(ctx, args, flags) {
    const client = await ctx.client();
    const lookup = lookups(client, boolFlag(flags['size']))['container'] as Lookup;
    return runInspect(ctx, args, stringFlag(flags['format']), lookup);
  },
};

export const imageInspectCommand: CommandDef = {
  name: 'image inspect',
  usage: 'docker image inspect [OPTIONS] IMAGE [IMAGE...]',
  summary: 'Display detailed information on one or more images',
  minArgs: 1,
  flags: [formatFlagSpec],
  async run(ctx, args, flags) {
    const client = await ctx.client();
    return runInspect(ctx, args, stringFlag(flags['format']), lookups(client, false)['image'] as Lookup);
  },
};
