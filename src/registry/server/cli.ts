// `berth registry serve` and `berth registry gc`.
import { readFile } from 'node:fs/promises';
import { boolFlag, parseFlags, stringFlag, type FlagSpecs, type Parsed } from '../../util/argv.js';
import { BerthError, invalidArgument } from '../../util/errors.js';
import { fsError } from '../../util/fs-errors.js';
import { Htpasswd } from './auth.js';
import { collectGarbage } from './gc.js';
import { startRegistry } from './server.js';

export const DEFAULT_ROOT = '/var/lib/berth/registry';
export const DEFAULT_ADDR = '127.0.0.1:5000';

const USAGE = `Usage: berth registry COMMAND

Commands:
  serve   Run an OCI distribution (Docker registry v2) server
  gc      Delete blobs (and with --delete-untagged, manifests) nothing references

berth registry serve [OPTIONS]
  --addr, --listen HOST:PORT  Address to listen on (default ${DEFAULT_ADDR}; port 0 picks one)
  --root DIR                  Storage root (default ${DEFAULT_ROOT})
  --tls-cert FILE             Serve HTTPS with this certificate (PEM) ...
  --tls-key FILE              ... and this key (PEM)
  --htpasswd FILE             Require Basic auth against this htpasswd file (bcrypt entries)
  --read-only                 Refuse every write (405); takes no lock, so gc may run beside it
  --delete-enabled            Allow DELETE of manifests, tags and blobs

berth registry gc [OPTIONS]
  --root DIR                  Storage root (default ${DEFAULT_ROOT})
  --dry-run                   Print what would be deleted, delete nothing
  --delete-untagged           Also delete manifests no tag reaches (and what only they use)
`;

const SERVE_FLAGS: FlagSpecs = {
  addr: { type: 'string', aliases: ['listen'] },
  root: { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  htpasswd: { type: 'string' },
  'read-only': { type: 'boolean' },
  'delete-enabled': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};

const GC_FLAGS: FlagSpecs = {
  root: { type: 'string' },
  'dry-run': { type: 'boolean' },
  'delete-untagged': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};

/** Runs `berth registry ARGS…`; resolves with the exit code (serve: when it has stopped). */
export async function registryCommand(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
      process.stdout.write(USAGE);
      return command === undefined ? 2 : 0;
    }
    if (command === 'serve') return await serve(rest);
    if (command === 'gc') return await gc(rest);
    throw new UsageError(`unknown command "${command}" (want serve or gc)`);
  } catch (err) {
    process.stderr.write(`berth registry: ${err instanceof Error ? err.message : String(err)}\n`);
    if (err instanceof UsageError) {
      process.stderr.write('Run "berth registry --help" for usage.\n');
      return 2;
    }
    return 1;
  }
}

/** A mistake on the command line (exit 2 and a pointer to --help), not a failure to run. */
class UsageError extends BerthError {
  constructor(message: string) {
    super('InvalidArgument', message);
  }
}

function flags(argv: string[], specs: FlagSpecs, what: string): Parsed {
  try {
    const p = parseFlags(argv, specs, what);
    if (p.rest.length > 0) throw invalidArgument(`${what}: unexpected argument "${p.rest[0]}"`);
    return p;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

async function serve(argv: string[]): Promise<number> {
  const p = flags(argv, SERVE_FLAGS, 'berth registry serve');
  if (boolFlag(p, 'help')) {
    process.stdout.write(USAGE);
    return 0;
  }
  const { host, port } = parseAddr(stringFlag(p, 'addr') ?? DEFAULT_ADDR);
  const root = stringFlag(p, 'root') ?? DEFAULT_ROOT;
  const certFile = stringFlag(p, 'tls-cert');
  const keyFile = stringFlag(p, 'tls-key');
  if ((certFile === undefined) !== (keyFile === undefined)) throw new UsageError('--tls-cert and --tls-key go together');
  const tls = certFile !== undefined && keyFile !== undefined ? { cert: await readPem(certFile), key: await readPem(keyFile) } : undefined;
  const htpasswdFile = stringFlag(p, 'htpasswd');
  const htpasswd = htpasswdFile !== undefined ? await Htpasswd.load(htpasswdFile) : undefined;

  const registry = await startRegistry({
    root,
    host,
    port,
    tls,
    htpasswd,
    readOnly: boolFlag(p, 'read-only'),
    deleteEnabled: boolFlag(p, 'delete-enabled'),
  });
  const mode = [boolFlag(p, 'read-only') ? 'read-only' : '', htpasswd ? 'basic auth' : '', boolFlag(p, 'delete-enabled') ? 'delete enabled' : '']
    .filter(Boolean)
    .join(', ');
  process.stderr.write(`berth registry listening on ${registry.url} (root ${root}${mode ? `; ${mode}` : ''})\n`);

  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    const onSignal = (sig: NodeJS.Signals): void => {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      resolve(sig);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
  process.stderr.write(`berth registry: ${signal}, shutting down\n`);
  await registry.close();
  return 0;
}

async function gc(argv: string[]): Promise<number> {
  const p = flags(argv, GC_FLAGS, 'berth registry gc');
  if (boolFlag(p, 'help')) {
    process.stdout.write(USAGE);
    return 0;
  }
  const dryRun = boolFlag(p, 'dry-run');
  const result = await collectGarbage({
    root: stringFlag(p, 'root') ?? DEFAULT_ROOT,
    dryRun,
    deleteUntagged: boolFlag(p, 'delete-untagged'),
    log: (line) => void process.stdout.write(`${line}\n`),
  });
  const blobs = result.blobsDeleted.length;
  const manifests = result.manifestsDeleted.length;
  process.stdout.write(
    `${dryRun ? 'would delete' : 'deleted'} ${blobs} blob${blobs === 1 ? '' : 's'} and ${manifests} manifest${manifests === 1 ? '' : 's'}, ` +
      `${dryRun ? 'would free' : 'freed'} ${result.bytesFreed} bytes; ${result.blobsKept} blob${result.blobsKept === 1 ? '' : 's'} kept\n`,
  );
  return 0;
}

/** "host:port", "[v6]:port" or ":port" (every interface, as Go's net.Listen reads it). */
export function parseAddr(addr: string): { host: string; port: number } {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(addr);
  if (m === null) throw new UsageError(`--addr "${addr}": want HOST:PORT`);
  const port = Number(m[3]);
  if (port > 65535) throw new UsageError(`--addr "${addr}": port ${port} is out of range`);
  const host = m[1] ?? (m[2] === '' ? '0.0.0.0' : m[2]!);
  return { host, port };
}

async function readPem(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    throw fsError(err, `reading ${path}`);
  }
}
