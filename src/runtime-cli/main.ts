// berth-runtime: an OCI runtime with runc's command-line interface.
import { BerthError } from '../util/errors.js';
import { parseFlags, stringFlag, boolFlag } from '../util/argv.js';
import { Runtime } from '../runtime/container.js';
import { COMMANDS } from './commands.js';
import { RuntimeLog, type LogFormat } from './log.js';

const VERSION = 'berth-runtime version 0.1.0\nspec: 1.2.0\n';

const USAGE = `usage: berth-runtime [global options] <command> [options] <container-id> ...

commands:
  create, start, run, state, kill, delete, exec, ps, list, pause, resume,
  events, update, features, spec

global options:
  --root DIR             state directory (default /run/berth-runtime)
  --log FILE             write errors and warnings to FILE
  --log-format text|json
  --systemd-cgroup       (not supported: use cgroupfs)
  --debug, --version, --help
`;

const GLOBAL_FLAGS = {
  root: { type: 'string' as const },
  log: { type: 'string' as const },
  'log-format': { type: 'string' as const },
  debug: { type: 'boolean' as const },
  'systemd-cgroup': { type: 'boolean' as const },
  rootless: { type: 'string' as const },
  criu: { type: 'string' as const },
  version: { type: 'boolean' as const, short: 'v' },
  help: { type: 'boolean' as const, short: 'h' },
};

export async function main(argv: string[]): Promise<number> {
  let log = new RuntimeLog(undefined, 'text');
  try {
    const g = parseFlags(argv, GLOBAL_FLAGS, 'berth-runtime');
    const format = stringFlag(g, 'log-format') ?? 'text';
    if (format !== 'text' && format !== 'json') throw new BerthError('InvalidArgument', `--log-format must be text or json, not "${format}"`);
    log = new RuntimeLog(stringFlag(g, 'log'), format as LogFormat);
    if (boolFlag(g, 'version')) {
      process.stdout.write(VERSION);
      return 0;
    }
    const [name, ...rest] = g.rest;
    if (boolFlag(g, 'help') || !name || name === 'help') {
      process.stdout.write(USAGE);
      return name || boolFlag(g, 'help') ? 0 : 1;
    }
    const command = COMMANDS[name];
    if (!command) throw new BerthError('InvalidArgument', `unknown command "${name}" (see berth-runtime --help)`);
    if (boolFlag(g, 'systemd-cgroup')) {
      throw new BerthError('InvalidArgument', '--systemd-cgroup is not supported: berth-runtime manages cgroups with cgroupfs');
    }
    const root = stringFlag(g, 'root') ?? '/run/berth-runtime';
    let runtime: Runtime | undefined;
    return await command(
      {
        runtime: () => (runtime ??= new Runtime({ root, warn: (m) => log.write('warning', m) })),
        out: (t) => process.stdout.write(t),
      },
      rest,
    );
  } catch (err) {
    log.write('error', err instanceof Error ? err.message : String(err));
    if (!(err instanceof BerthError) && err instanceof Error && process.env.BERTH_DEBUG) process.stderr.write(`${err.stack}\n`);
    return 1;
  }
}
