// The shape of every `berth` command: its flags (docker's names, pflag semantics), its help
// text, and the function that runs it. src/cli/main.ts dispatches to these; flags.ts parses.
import type { EngineClient } from '../client/index.js';

export type FlagType = 'bool' | 'string' | 'int' | 'list' | 'map' | 'duration' | 'bytes';

export interface FlagSpec {
  /** Long name without dashes, e.g. "detach". */
  name: string;
  /** One-letter short name, e.g. "d". */
  short?: string;
  type: FlagType;
  /** Shown in help, e.g. "Run container in background and print container ID". */
  usage: string;
  /** Placeholder shown in help after the flag ("string", "list", "bytes", …). */
  valueName?: string;
  default?: string | number | boolean;
  hidden?: boolean;
}

/** Parsed values by long name: bool → boolean, int/bytes → number, duration → ms, list → string[], map → string[] ("k=v"). */
export type FlagValues = Record<string, string | number | boolean | string[] | undefined>;

export interface Io {
  stdin: NodeJS.ReadStream;
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  env: NodeJS.ProcessEnv;
}

export interface CommandContext extends Io {
  /** The Engine API client (connects, negotiates the version and starts berthd on first use). */
  client(): Promise<EngineClient>;
  /** The command as the user spelled it, "berth container run" (for messages); main.ts sets it. */
  path?: string;
  /** Long names of the flags given on the command line (pflag's Changed); main.ts sets it. */
  changed?: ReadonlySet<string>;
  /** The client config directory (--config, DOCKER_CONFIG, ~/.docker). */
  configDir?: string;
  /** -D/--debug. */
  debug?: boolean;
}

/**
 * Thrown (or returned through) by a command to end with a given exit status; main.ts
 * prints `message` on stderr when it is not empty (docker/cli's cli.StatusError).
 */
export class StatusError extends Error {
  constructor(readonly status: number, message = '') {
    super(message);
    this.name = 'StatusError';
  }
}

export interface CommandDef {
  /** "run", or for management forms "container ls" (aliases list the other spellings). */
  name: string;
  aliases?: string[];
  /** "docker run [OPTIONS] IMAGE [COMMAND] [ARG...]" with berth for docker. */
  usage: string;
  summary: string;
  flags: FlagSpec[];
  /**
   * pflag's SetInterspersed: false stops flag parsing at the first positional argument
   * (run, exec, create: the container command's own flags follow). Default true.
   */
  interspersed?: boolean;
  minArgs?: number;
  maxArgs?: number;
  run(ctx: CommandContext, args: string[], flags: FlagValues): Promise<number>;
}
