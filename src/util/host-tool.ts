// The one wrapper for running host programs (mount, cp, zstd, …): argv is logged on failure and
// failures become typed errors. Never used for anything inside a container's rootfs (DESIGN §6).
import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { BerthError, unavailable, internal, errnoCode } from './errors.js';
import { accessSync, constants as fsConstants } from 'node:fs';

export interface ToolResult {
  stdout: string;
  stderr: string;
}

export interface RunToolOptions {
  cwd?: string;
  input?: string | Uint8Array;
  /** Extra environment; the tool otherwise gets a minimal PATH and LC_ALL=C. */
  env?: Record<string, string>;
  timeoutMs?: number;
}

const TOOL_ENV = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C' };

export class HostToolError extends BerthError {
  readonly argv: readonly string[];
  readonly exitCode: number | null;
  readonly stderr: string;

  constructor(argv: readonly string[], exitCode: number | null, stderr: string, signal?: string | null) {
    const how = signal ? `killed by ${signal}` : `exit status ${exitCode}`;
    const detail = stderr.trim().split('\n').slice(-3).join('; ');
    super('Internal', `${argv.join(' ')}: ${how}${detail ? `: ${detail}` : ''}`);
    this.argv = argv;
    this.exitCode = exitCode;
    this.stderr = stderr;
  }
}

function missingTool(argv: readonly string[], err: unknown): BerthError {
  if (errnoCode(err) === 'ENOENT') return unavailable(`${argv[0]} is not installed on this host (needed for: ${argv.join(' ')})`);
  return internal(`${argv.join(' ')}: ${String(err)}`, err);
}

/** Run a host tool to completion, synchronously. Throws HostToolError on a non-zero exit. */
export function runToolSync(argv: readonly string[], opts: RunToolOptions = {}): ToolResult {
  const r = spawnSync(argv[0]!, argv.slice(1), {
    cwd: opts.cwd,
    input: opts.input,
    env: { ...TOOL_ENV, ...opts.env },
    timeout: opts.timeoutMs,
    maxBuffer: 64 * 1024 * 1024,
    encoding: 'utf8',
  });
  if (r.error) throw missingTool(argv, r.error);
  if (r.status !== 0) throw new HostToolError(argv, r.status, r.stderr ?? '', r.signal);
  return { stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** Run a host tool asynchronously; resolves with its output, rejects with HostToolError. */
export function runTool(argv: readonly string[], opts: RunToolOptions = {}): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    const child = spawnTool(argv, { cwd: opts.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.on('error', (err) => reject(missingTool(argv, err)));
    child.on('close', (code, signal) => {
      if (code === 0) resolve({ stdout, stderr });
      else reject(new HostToolError(argv, code, stderr, signal));
    });
    child.stdin!.on('error', () => undefined);
    child.stdin!.end(opts.input ?? '');
  });
}

/** Start a host tool with streams wired by the caller (for pipelines such as `zstd -dc`). */
export function spawnTool(argv: readonly string[], opts: SpawnOptions & { env?: Record<string, string> } = {}): ChildProcess {
  return spawn(argv[0]!, argv.slice(1), { ...opts, env: { ...TOOL_ENV, ...opts.env } });
}

const toolPaths = new Map<string, string>();

/** The absolute path of a host tool, found on the tools' PATH (for programs that exec it without a PATH search). */
export function toolPath(name: string): string {
  const known = toolPaths.get(name);
  if (known) return known;
  for (const dir of TOOL_ENV.PATH.split(':')) {
    const path = `${dir}/${name}`;
    try {
      accessSync(path, fsConstants.X_OK);
      toolPaths.set(name, path);
      return path;
    } catch {
      // not in this directory
    }
  }
  throw unavailable(`${name} is not installed on this host`);
}
