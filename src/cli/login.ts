// `berth login` and `berth logout`, with docker's flags, prompts and messages.
import { createInterface } from 'node:readline';
import { login, logout } from '../registry/client/login.js';
import { boolFlag, parseFlags, stringFlag } from '../util/argv.js';
import { invalidArgument } from '../util/errors.js';
import { loadRegistryConfig } from './registry-config.js';

const LOGIN_HELP = `Usage:  berth login [OPTIONS] [SERVER]

Log in to a registry (default: Docker Hub). Credentials go to ~/.docker/config.json,
shared with docker.

Options:
  -p, --password string   Password
      --password-stdin    Take the password from stdin
  -u, --username string   Username
`;

export async function loginCommand(argv: string[]): Promise<number> {
  const p = parseFlags(argv, {
    username: { type: 'string', short: 'u' },
    password: { type: 'string', short: 'p' },
    'password-stdin': { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  }, 'login');
  if (boolFlag(p, 'help')) {
    process.stdout.write(LOGIN_HELP);
    return 0;
  }
  if (p.rest.length > 1) throw invalidArgument(`"berth login" requires at most 1 argument`);
  const registry = registryName(p.rest[0]);
  let username = stringFlag(p, 'username');
  let password = stringFlag(p, 'password');
  if (password !== undefined) process.stderr.write('WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n');
  if (boolFlag(p, 'password-stdin')) {
    if (password !== undefined) throw invalidArgument('--password and --password-stdin are mutually exclusive');
    if (username === undefined) throw invalidArgument('Must provide --username with --password-stdin');
    password = (await readAll(process.stdin)).replace(/\r?\n$/, '');
  }
  if (username === undefined || password === undefined) {
    if (!process.stdin.isTTY) throw invalidArgument('Cannot perform an interactive login from a non TTY device');
    username ??= await prompt('Username: ', false);
    password ??= await prompt('Password: ', true);
  }
  if (!username) throw invalidArgument('Username is required');
  if (!password) throw invalidArgument('Password is required');
  process.stdout.write(`${await login(registry, { username, password }, loadRegistryConfig())}\n`);
  return 0;
}

export async function logoutCommand(argv: string[]): Promise<number> {
  const p = parseFlags(argv, { help: { type: 'boolean', short: 'h' } }, 'logout');
  if (boolFlag(p, 'help')) {
    process.stdout.write('Usage:  berth logout [SERVER]\n\nLog out from a registry (default: Docker Hub).\n');
    return 0;
  }
  if (p.rest.length > 1) throw invalidArgument(`"berth logout" requires at most 1 argument`);
  process.stdout.write(`${await logout(registryName(p.rest[0]))}\n`);
  return 0;
}

/** A server argument as docker takes it: host[:port], optionally as a URL. */
function registryName(arg: string | undefined): string {
  if (arg === undefined) return 'docker.io';
  const host = arg.replace(/^[a-z]+:\/\//i, '').replace(/\/.*$/, '');
  if (!/^[A-Za-z0-9.-]+(:\d+)?$|^\[[0-9a-fA-F:]+\](:\d+)?$/.test(host)) throw invalidArgument(`invalid registry "${arg}"`);
  return ['index.docker.io', 'registry-1.docker.io', 'docker.io'].includes(host.toLowerCase()) ? 'docker.io' : host;
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(Buffer.from(c as Buffer));
  return Buffer.concat(parts).toString('utf8');
}

function prompt(question: string, secret: boolean): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: true });
  if (secret) {
    // Echo nothing of the password: readline writes what it reads through _writeToOutput.
    const muted = rl as unknown as { _writeToOutput: (s: string) => void; output: NodeJS.WritableStream };
    muted._writeToOutput = (s: string) => {
      if (s.startsWith(question)) muted.output.write(question);
    };
  }
  return new Promise((resolve) => {
    rl.question(question, (answer) => {
      if (secret) process.stdout.write('\n');
      rl.close();
      resolve(answer);
    });
  });
}
