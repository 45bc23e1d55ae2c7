// berth: the Docker-style CLI. Each command's module is loaded only when it runs, so
// `berth --version` does not pay for the registry server. The daemon-backed commands
// (run, ps, images, pull, …) arrive with berthd.
import { isBerthError } from '../util/errors.js';

type Command = (argv: string[]) => Promise<number>;

const COMMANDS: Record<string, () => Promise<Command>> = {
  registry: async () => (await import('../registry/server/cli.js')).registryCommand,
  login: async () => (await import('./login.js')).loginCommand,
  logout: async () => (await import('./login.js')).logoutCommand,
};

const USAGE = `Usage:  berth COMMAND

Commands:
  login      Log in to a registry
  logout     Log out from a registry
  registry   Run an OCI registry (serve) or collect its garbage (gc)

The container and image commands (run, ps, images, pull, push, …) come with berthd.
Run 'berth COMMAND --help' for more information on a command.
`;

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(USAGE);
    return name === undefined ? 1 : 0;
  }
  if (name === '--version' || name === '-v' || name === 'version') {
    process.stdout.write('berth version 0.1.0\n');
    return 0;
  }
  const load = COMMANDS[name];
  if (!load) {
    process.stderr.write(`berth: '${name}' is not a berth command.\nSee 'berth --help'\n`);
    return 1;
  }
  try {
    return await (await load())(rest);
  } catch (err) {
    // Docker prints "Error response from daemon: …" or "Error: …"; the code stays in the message's words.
    const msg = isBerthError(err) ? err.message : (err as Error)?.stack ?? String(err);
    process.stderr.write(`Error: ${msg}\n`);
    return isBerthError(err, 'InvalidArgument') ? 125 : 1;
  }
}
