// berth: the Docker-style CLI. Global flags, then a command (or a management form such as
// `berth container ls`) whose module is loaded only when it runs, so `berth --version` and
// `berth ps` pay for nothing else. Help, usage errors and exit codes follow docker/cli.
import type { EngineClient } from '../client/index.js';
import { StatusError, type CommandContext, type CommandDef, type FlagSpec } from './command.js';
import { FlagError, parseFlags } from './flags.js';

import { BERTH_VERSION as VERSION } from '../util/version.js';

interface Entry {
  /** Module under ./commands/ (without .js); the CommandDef inside is found by its name. */
  file: string;
  summary: string;
}

/** Top-level commands. Summaries are here so `berth --help` loads no command module. */
const COMMANDS: Record<string, Entry> = {
  attach: { file: 'attach', summary: 'Attach local standard input, output, and error streams to a running container' },
  build: { file: 'build', summary: 'Build an image from a Dockerfile' },
  commit: { file: 'commit', summary: "Create a new image from a container's changes" },
  completion: { file: 'completion', summary: 'Generate the autocompletion script for the specified shell' },
  cp: { file: 'cp', summary: 'Copy files/folders between a container and the local filesystem' },
  create: { file: 'create', summary: 'Create a new container' },
  diff: { file: 'diff', summary: "Inspect changes to files or directories on a container's filesystem" },
  events: { file: 'events', summary: 'Get real time events from the server' },
  exec: { file: 'exec', summary: 'Execute a command in a running container' },
  export: { file: 'export', summary: "Export a container's filesystem as a tar archive" },
  history: { file: 'history', summary: 'Show the history of an image' },
  images: { file: 'images', summary: 'List images' },
  import: { file: 'import', summary: 'Import the contents from a tarball to create a filesystem image' },
  info: { file: 'info', summary: 'Display system-wide information' },
  inspect: { file: 'inspect', summary: 'Return low-level information on berth objects' },
  kill: { file: 'lifecycle', summary: 'Kill one or more running containers' },
  load: { file: 'load', summary: 'Load an image from a tar archive or STDIN' },
  login: { file: 'login', summary: 'Authenticate to a registry' },
  logout: { file: 'login', summary: 'Log out from a registry' },
  logs: { file: 'logs', summary: 'Fetch the logs of a container' },
  pause: { file: 'lifecycle', summary: 'Pause all processes within one or more containers' },
  port: { file: 'port', summary: 'List port mappings or a specific mapping for the container' },
  ps: { file: 'ps', summary: 'List containers' },
  pull: { file: 'pull', summary: 'Download an image from a registry' },
  push: { file: 'push', summary: 'Upload an image to a registry' },
  rename: { file: 'lifecycle', summary: 'Rename a container' },
  restart: { file: 'lifecycle', summary: 'Restart one or more containers' },
  rm: { file: 'lifecycle', summary: 'Remove one or more containers' },
  rmi: { file: 'rmi', summary: 'Remove one or more images' },
  run: { file: 'run', summary: 'Create and run a new container from an image' },
  save: { file: 'save', summary: 'Save one or more images to a tar archive (streamed to STDOUT by default)' },
  start: { file: 'start', summary: 'Start one or more stopped containers' },
  stats: { file: 'stats', summary: 'Display a live stream of container(s) resource usage statistics' },
  stop: { file: 'lifecycle', summary: 'Stop one or more running containers' },
  tag: { file: 'tag', summary: 'Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE' },
  top: { file: 'top', summary: 'Display the running processes of a container' },
  unpause: { file: 'lifecycle', summary: 'Unpause all processes within one or more containers' },
  update: { file: 'update', summary: 'Update configuration of one or more containers' },
  version: { file: 'version', summary: 'Show the berth version information' },
  wait: { file: 'lifecycle', summary: 'Block until one or more containers stop, then print their exit codes' },
};

const COMMON = ['run', 'exec', 'ps', 'pull', 'push', 'images', 'login', 'logout', 'version', 'info'];

interface Management {
  summary: string;
  /** subcommand → [top-level command it equals (or its own entry), spellings that are aliases] */
  subcommands: Record<string, { entry: Entry; aliases?: string[] }>;
}

const sub = (name: string, aliases?: string[]): { entry: Entry; aliases?: string[] } => ({ entry: COMMANDS[name]!, ...(aliases ? { aliases } : {}) });

const MANAGEMENT: Record<string, Management> = {
  container: {
    summary: 'Manage containers',
    subcommands: {
      attach: sub('attach'), commit: sub('commit'), cp: sub('cp'), create: sub('create'), diff: sub('diff'),
      exec: sub('exec'), export: sub('export'),
      inspect: { entry: { file: 'inspect', summary: 'Display detailed information on one or more containers' } },
      kill: sub('kill'), logs: sub('logs'), ls: { entry: COMMANDS.ps!, aliases: ['ps', 'list'] }, pause: sub('pause'),
      port: sub('port'), prune: { entry: { file: 'prune', summary: 'Remove all stopped containers' } }, rename: sub('rename'),
      restart: sub('restart'), rm: { entry: COMMANDS.rm!, aliases: ['remove'] }, run: sub('run'), start: sub('start'),
      stats: sub('stats'), stop: sub('stop'), top: sub('top'), unpause: sub('unpause'), update: sub('update'), wait: sub('wait'),
    },
  },
  image: {
    summary: 'Manage images',
    subcommands: {
      build: sub('build'), history: sub('history'), import: sub('import'),
      inspect: { entry: { file: 'inspect', summary: 'Display detailed information on one or more images' } },
      load: sub('load'), ls: { entry: COMMANDS.images!, aliases: ['images', 'list'] },
      prune: { entry: { file: 'prune', summary: 'Remove unused images' } }, pull: sub('pull'), push: sub('push'),
      rm: { entry: COMMANDS.rmi!, aliases: ['rmi', 'remove'] }, save: sub('save'), tag: sub('tag'),
    },
  },
  network: {
    summary: 'Manage networks',
    subcommands: {
      connect: { entry: { file: 'network', summary: 'Connect a container to a network' } },
      create: { entry: { file: 'network', summary: 'Create a network' } },
      disconnect: { entry: { file: 'network', summary: 'Disconnect a container from a network' } },
      inspect: { entry: { file: 'network', summary: 'Display detailed information on one or more networks' } },
      ls: { entry: { file: 'network', summary: 'List networks' }, aliases: ['list'] },
      prune: { entry: { file: 'network', summary: 'Remove all unused networks' } },
      rm: { entry: { file: 'network', summary: 'Remove one or more networks' }, aliases: ['remove'] },
    },
  },
  builder: {
    summary: 'Manage builds',
    subcommands: {
      build: sub('build'),
      prune: { entry: { file: 'prune', summary: 'Remove build cache' } },
    },
  },
  volume: {
    summary: 'Manage volumes',
    subcommands: {
      create: { entry: { file: 'volume', summary: 'Create a volume' } },
      inspect: { entry: { file: 'volume', summary: 'Display detailed information on one or more volumes' } },
      ls: { entry: { file: 'volume', summary: 'List volumes' }, aliases: ['list'] },
      prune: { entry: { file: 'volume', summary: 'Remove unused local volumes' } },
      rm: { entry: { file: 'volume', summary: 'Remove one or more volumes' }, aliases: ['remove'] },
    },
  },
  system: {
    summary: 'Manage berth',
    subcommands: {
      df: { entry: { file: 'system', summary: 'Show berth disk usage' } },
      events: sub('events'),
      info: sub('info'),
      prune: { entry: { file: 'system', summary: 'Remove unused data' } },
    },
  },
};

/** berth's own commands that docker does not have; they parse their own arguments. */
const LEGACY: Record<string, { summary: string; load: () => Promise<(argv: string[]) => Promise<number>> }> = {
  registry: { summary: 'Run an OCI registry (serve) or collect its garbage (gc)', load: async () => (await import('../registry/server/cli.js')).registryCommand },
};

const GLOBAL_FLAGS: FlagSpec[] = [
  { name: 'config', type: 'string', usage: 'Location of client config files (default "~/.docker")' },
  { name: 'context', short: 'c', type: 'string', usage: 'Name of the context to use to connect to the daemon (only "default")', hidden: true },
  { name: 'debug', short: 'D', type: 'bool', usage: 'Enable debug mode' },
  { name: 'host', short: 'H', type: 'list', usage: 'Daemon socket to connect to' },
  { name: 'log-level', short: 'l', type: 'string', usage: 'Set the logging level ("debug", "info", "warn", "error", "fatal")', default: 'info' },
  { name: 'tls', type: 'bool', usage: 'Use TLS; implied by --tlsverify' },
  { name: 'tlscacert', type: 'string', usage: 'Trust certs signed only by this CA (default "~/.docker/ca.pem")' },
  { name: 'tlscert', type: 'string', usage: 'Path to TLS certificate file (default "~/.docker/cert.pem")' },
  { name: 'tlskey', type: 'string', usage: 'Path to TLS key file (default "~/.docker/key.pem")' },
  { name: 'tlsverify', type: 'bool', usage: 'Use TLS and verify the remote' },
  { name: 'version', short: 'v', type: 'bool', usage: 'Print version information and quit' },
];

class Context implements CommandContext {
  private clientPromise: Promise<EngineClient> | undefined;
  private made: EngineClient | undefined;
  path = 'berth';
  changed: ReadonlySet<string> = new Set();
  configDir: string | undefined;
  debug = false;

  constructor(private readonly globals: Record<string, unknown>) {
    this.configDir = typeof globals.config === 'string' ? globals.config : undefined;
    this.debug = globals.debug === true;
  }

  // Getters: touching process.stdin creates a stream; only commands that read it pay.
  get stdin(): NodeJS.ReadStream {
    return process.stdin;
  }
  get stdout(): NodeJS.WriteStream {
    return process.stdout;
  }
  get stderr(): NodeJS.WriteStream {
    return process.stderr;
  }
  get env(): NodeJS.ProcessEnv {
    return process.env;
  }

  client(): Promise<EngineClient> {
    this.clientPromise ??= this.connect();
    return this.clientPromise;
  }

  private async connect(): Promise<EngineClient> {
    const { EngineClient, resolveHostString } = await import('../client/index.js');
    const hosts = (this.globals.host as string[] | undefined) ?? [];
    if (hosts.length > 1) throw new StatusError(1, 'Please specify only one -H');
    const { host, isDefault } = resolveHostString(hosts[0], this.env);
    const env = this.env;
    const verify = this.globals.tlsverify === true || (env.DOCKER_TLS_VERIFY !== undefined && env.DOCKER_TLS_VERIFY !== '');
    const useTls = verify || this.globals.tls === true;
    const certDir = env.DOCKER_CERT_PATH || `${this.configDir ?? `${env.HOME ?? ''}/.docker`}`;
    const tls = useTls
      ? {
          verify,
          ca: (this.globals.tlscacert as string | undefined) ?? (verify ? `${certDir}/ca.pem` : undefined),
          cert: (this.globals.tlscert as string | undefined) ?? `${certDir}/cert.pem`,
          key: (this.globals.tlskey as string | undefined) ?? `${certDir}/key.pem`,
        }
      : undefined;
    const version = env.BERTH_API_VERSION || env.DOCKER_API_VERSION || undefined;
    this.made = new EngineClient({ host, ...(tls ? { tls } : {}), ...(version ? { version } : {}), autostart: isDefault && !hosts[0], env });
    await this.made.negotiate();
    return this.made;
  }

  close(): void {
    this.made?.close();
  }
}

export async function main(argv: string[]): Promise<number> {
  let globals;
  try {
    globals = parseFlags(argv, GLOBAL_FLAGS, { interspersed: false });
  } catch (err) {
    if (err instanceof FlagError) return usageError(`${err.message}\nSee 'berth --help'.`);
    throw err;
  }
  const values = globals.values as Record<string, unknown>;
  if (values.version === true) {
    process.stdout.write(`berth version ${VERSION}\n`);
    return 0;
  }
  if (typeof values.config === 'string') process.env.DOCKER_CONFIG = values.config;
  let [name, ...rest] = globals.args;
  if (name === 'help') {
    if (rest.length === 0) name = undefined;
    else [name, ...rest] = [...rest, '--help'];
  }
  if (name === undefined || globals.help) {
    process.stdout.write(await rootHelp());
    return 0;
  }
  const legacy = LEGACY[name];
  if (legacy) return runLegacy(() => legacy.load(), rest, values.debug === true);
  if (name === 'login' || name === 'logout') {
    const which = name;
    return runLegacy(async () => (await import('./login.js'))[which === 'login' ? 'loginCommand' : 'logoutCommand'], rest, values.debug === true);
  }
  const resolved = await resolve(name, rest);
  if (typeof resolved === 'number') return resolved;
  const ctx = new Context(values);
  try {
    return await runCommand(ctx, resolved);
  } finally {
    ctx.close();
  }
}

interface Resolved {
  entry: Entry;
  /** How the command is spelled in its definition's lookup: "run", "container ls". */
  spelling: string;
  /** All the spellings, for the help's Aliases line. */
  spellings: string[];
  path: string;
  args: string[];
}

async function resolve(name: string, rest: string[]): Promise<Resolved | number> {
  const mgmt = MANAGEMENT[name];
  if (mgmt) {
    const [subName, ...args] = rest;
    if (subName === undefined || subName === '--help' || subName === '-h') {
      process.stdout.write(await managementHelp(name, mgmt));
      return 0;
    }
    let found: { key: string; entry: Entry } | undefined;
    for (const [key, s] of Object.entries(mgmt.subcommands)) {
      if (key === subName || s.aliases?.includes(subName)) found = { key, entry: s.entry };
    }
    if (!found) {
      process.stderr.write(`berth: '${name} ${subName}' is not a berth command.\nSee 'berth ${name} --help'\n`);
      return 1;
    }
    const topLevel = Object.entries(COMMANDS).find(([, e]) => e === found!.entry)?.[0];
    return { entry: found.entry, spelling: `${name} ${found.key}`, spellings: spellingsOf(found.entry, `${name} ${found.key}`, topLevel), path: `berth ${name} ${subName}`, args };
  }
  const entry = COMMANDS[name];
  if (!entry) {
    process.stderr.write(`berth: '${name}' is not a berth command.\nSee 'berth --help'\n`);
    return 1;
  }
  const mgmtSpelling = managementSpelling(entry);
  return { entry, spelling: name, spellings: spellingsOf(entry, mgmtSpelling ?? name, name), path: `berth ${name}`, args: rest };
}

function managementSpelling(entry: Entry): string | undefined {
  for (const [m, mgmt] of Object.entries(MANAGEMENT)) {
    for (const [key, s] of Object.entries(mgmt.subcommands)) if (s.entry === entry) return `${m} ${key}`;
  }
  return undefined;
}

function spellingsOf(entry: Entry, mgmt: string, topLevel: string | undefined): string[] {
  const out: string[] = [];
  for (const [m, mg] of Object.entries(MANAGEMENT)) {
    for (const [key, s] of Object.entries(mg.subcommands)) {
      if (s.entry !== entry) continue;
      out.push(`berth ${m} ${key}`);
      for (const a of s.aliases ?? []) out.push(`berth ${m} ${a}`);
    }
  }
  if (topLevel) out.push(`berth ${topLevel}`);
  if (out.length === 0) out.push(`berth ${mgmt}`);
  return [...new Set(out)];
}

// Static imports, one per command module, so the bundler can split them and each loads only when used.
const MODULES: Record<string, () => Promise<Record<string, unknown>>> = {
  attach: () => import('./commands/attach.js'),
  build: () => import('./commands/build.js'),
  commit: () => import('./commands/commit.js'),
  completion: () => import('./commands/completion.js'),
  cp: () => import('./commands/cp.js'),
  create: () => import('./commands/create.js'),
  diff: () => import('./commands/diff.js'),
  events: () => import('./commands/events.js'),
  exec: () => import('./commands/exec.js'),
  export: () => import('./commands/export.js'),
  history: () => import('./commands/history.js'),
  images: () => import('./commands/images.js'),
  import: () => import('./commands/import.js'),
  info: () => import('./commands/info.js'),
  inspect: () => import('./commands/inspect.js'),
  lifecycle: () => import('./commands/lifecycle.js'),
  load: () => import('./commands/load.js'),
  logs: () => import('./commands/logs.js'),
  network: () => import('./commands/network.js'),
  port: () => import('./commands/port.js'),
  prune: () => import('./commands/prune.js'),
  ps: () => import('./commands/ps.js'),
  pull: () => import('./commands/pull.js'),
  push: () => import('./commands/push.js'),
  rmi: () => import('./commands/rmi.js'),
  run: () => import('./commands/run.js'),
  save: () => import('./commands/save.js'),
  start: () => import('./commands/start.js'),
  stats: () => import('./commands/stats.js'),
  system: () => import('./commands/system.js'),
  tag: () => import('./commands/tag.js'),
  top: () => import('./commands/top.js'),
  update: () => import('./commands/update.js'),
  version: () => import('./commands/version.js'),
  volume: () => import('./commands/volume.js'),
};

async function loadDef(r: Resolved): Promise<CommandDef> {
  const load = MODULES[r.entry.file];
  if (!load) throw new Error(`internal error: no module for command file "${r.entry.file}"`);
  const mod = await load();
  const defs = Object.values(mod).filter(isCommandDef);
  const wanted = [r.spelling, r.spelling.split(' ').pop()!, ...r.spellings.map((s) => s.replace(/^berth /, ''))];
  for (const w of wanted) {
    const def = defs.find((d) => d.name === w || d.aliases?.includes(w));
    if (def) return def;
  }
  if (defs.length === 1) return defs[0]!;
  throw new Error(`internal error: no command "${r.spelling}" in ./commands/${r.entry.file}.js`);
}

function isCommandDef(v: unknown): v is CommandDef {
  return typeof v === 'object' && v !== null && typeof (v as CommandDef).name === 'string' && typeof (v as CommandDef).run === 'function' && Array.isArray((v as CommandDef).flags);
}

async function runCommand(ctx: Context, r: Resolved): Promise<number> {
  const def = await loadDef(r);
  ctx.path = r.path;
  let parsed;
  try {
    parsed = parseFlags(r.args, def.flags, { interspersed: def.interspersed ?? true });
  } catch (err) {
    if (err instanceof FlagError) return usageError(`${err.message}\nSee '${r.path} --help'.`);
    throw err;
  }
  if (parsed.help) {
    const { commandHelp, terminalWidth } = await import('./help.js');
    process.stdout.write(commandHelp(def, r.path, r.spellings, terminalWidth(process.stdout)));
    return 0;
  }
  const countError = argCountError(def, r.path, parsed.args.length);
  if (countError) {
    const { usageLine } = await import('./help.js');
    return usageError(`${countError}\nSee '${r.path} --help'.\n\nUsage:  ${usageLine(def, r.path)}\n\n${def.summary}`);
  }
  ctx.changed = parsed.changed;
  try {
    return await def.run(ctx, parsed.args, parsed.values);
  } catch (err) {
    return reportError(err, ctx.debug);
  }
}

/** docker/cli 20.10's wording for a wrong number of arguments. */
function argCountError(def: CommandDef, path: string, n: number): string | undefined {
  const min = def.minArgs ?? 0;
  const max = def.maxArgs;
  const plural = (k: number): string => (k === 1 ? 'argument' : 'arguments');
  if (max === 0 && n > 0) return `"${path}" accepts no arguments.`;
  if (max !== undefined && min === max && n !== min) return `"${path}" requires exactly ${min} ${plural(min)}.`;
  if (max !== undefined && min > 0 && min !== max && (n < min || n > max)) return `"${path}" requires at least ${min} and at most ${max} ${plural(max)}.`;
  if (n < min) return `"${path}" requires at least ${min} ${plural(min)}.`;
  if (max !== undefined && n > max) return `"${path}" requires at most ${max} ${plural(max)}.`;
  return undefined;
}

function usageError(message: string): number {
  process.stderr.write(`${message}\n`);
  return 125;
}

/** How docker's main prints an error: its text alone, exit 1 (or the StatusError's status). */
export function reportError(err: unknown, debug: boolean): number {
  if (err instanceof StatusError) {
    if (err.message) process.stderr.write(`${err.message}\n`);
    return err.status;
  }
  if (err instanceof FlagError) return usageError(err.message);
  const e = err as Error & { code?: unknown };
  const known = e instanceof Error && (e.name.startsWith('BerthError') || e.name === 'ClientError' || typeof e.code === 'string');
  process.stderr.write(`${debug || !known ? (e?.stack ?? String(err)) : e.message}\n`);
  return 1;
}

async function runLegacy(load: () => Promise<(argv: string[]) => Promise<number>>, argv: string[], debug: boolean): Promise<number> {
  try {
    return await (await load())(argv);
  } catch (err) {
    const e = err as Error & { code?: unknown };
    const known = e instanceof Error && e.name.startsWith('BerthError');
    process.stderr.write(`Error: ${debug || !known ? (e?.stack ?? String(err)) : e.message}\n`);
    return e.name === 'BerthError(InvalidArgument)' ? 125 : 1;
  }
}

async function rootHelp(): Promise<string> {
  const { flagUsages, terminalWidth } = await import('./help.js');
  const pad = (s: string, n: number): string => s + ' '.repeat(Math.max(1, n - s.length));
  const others = Object.keys(COMMANDS).filter((c) => !COMMON.includes(c));
  const width = 12;
  let out = '\nUsage:  berth [OPTIONS] COMMAND\n\nA self-sufficient runtime for containers\n\nCommon Commands:\n';
  for (const c of COMMON) out += `  ${pad(c, width)}${COMMANDS[c]!.summary}\n`;
  out += '\nManagement Commands:\n';
  for (const [m, mgmt] of Object.entries(MANAGEMENT)) out += `  ${pad(m, width)}${mgmt.summary}\n`;
  out += '\nCommands:\n';
  for (const c of others) out += `  ${pad(c, width)}${COMMANDS[c]!.summary}\n`;
  for (const [c, l] of Object.entries(LEGACY)) out += `  ${pad(c, width)}${l.summary}\n`;
  out += `\nGlobal Options:\n${flagUsages(GLOBAL_FLAGS.filter((f) => !f.hidden), terminalWidth(process.stdout) - 1).trimEnd()}\n`;
  out += "\nRun 'berth COMMAND --help' for more information on a command.\n";
  return out;
}

async function managementHelp(name: string, mgmt: Management): Promise<string> {
  const keys = Object.keys(mgmt.subcommands).sort();
  const width = Math.max(11, ...keys.map((k) => k.length)) + 1;
  let out = `\nUsage:  berth ${name} COMMAND\n\n${mgmt.summary}\n\nCommands:\n`;
  for (const k of keys) out += `  ${k.padEnd(width)}${mgmt.subcommands[k]!.entry.summary}\n`;
  out += `\nRun 'berth ${name} COMMAND --help' for more information on a command.\n`;
  return out;
}
