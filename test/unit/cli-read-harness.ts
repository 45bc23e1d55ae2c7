// Runs one berth CommandDef as main.ts would (flags parsed, errors printed as docker prints
// them), against a daemon at `host`, capturing stdout and stderr.
import { PassThrough } from 'node:stream';
import { EngineClient } from '../../src/client/index.js';
import { StatusError, type CommandContext, type CommandDef } from '../../src/cli/command.js';
import { FlagError, parseFlags } from '../../src/cli/flags.js';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

function capture(): { stream: NodeJS.WriteStream; text: () => string } {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (c: Buffer) => (text += c.toString()));
  return { stream: stream as unknown as NodeJS.WriteStream, text: () => text };
}

export async function runBerth(def: CommandDef, argv: string[], host: string, stdinText = ''): Promise<RunResult> {
  const out = capture();
  const err = capture();
  const stdin = new PassThrough();
  stdin.end(stdinText);
  const client = new EngineClient({ host });
  let changed: ReadonlySet<string> = new Set();
  const ctx: CommandContext = {
    stdin: stdin as unknown as NodeJS.ReadStream,
    stdout: out.stream,
    stderr: err.stream,
    env: {},
    client: async () => client,
    get changed() {
      return changed;
    },
  };
  let code: number;
  try {
    const parsed = parseFlags(argv, def.flags, { interspersed: def.interspersed ?? true });
    changed = parsed.changed;
    code = await def.run(ctx, parsed.args, parsed.values);
  } catch (e) {
    if (e instanceof StatusError) {
      if (e.message) err.stream.write(`${e.message}\n`);
      code = e.status;
    } else if (e instanceof FlagError) {
      err.stream.write(`${e.message}\n`);
      code = 125;
    } else {
      err.stream.write(`${(e as Error).message}\n`);
      code = 1;
    }
  } finally {
    client.close();
  }
  await new Promise((resolve) => setImmediate(resolve));
  return { code, stdout: out.text(), stderr: err.text() };
}
