// The typed result of parsing a Dockerfile. Values are kept as written (quotes, escapes and
// $VARIABLES intact) wherever Docker expands them later: expansion needs the environment of
// the stage at that instruction, which only the builder knows (see expand-instruction.ts).

export type EscapeChar = '\\' | '`';

export interface Location {
  file: string;
  /** 1-based first line of the instruction. */
  line: number;
  /** 1-based last line, including continuation lines and here-document bodies. */
  endLine: number;
}

export interface Directives {
  syntax?: string;
  escape: EscapeChar;
  check?: string;
}

/** A here-document attached to RUN, COPY or ADD (`<<EOF`, `<<-EOF`, `3<<'EOF'`). */
export interface Heredoc {
  name: string;
  /** The body as written, with its line endings, not yet chomped. */
  content: string;
  /** False when any part of the delimiter was quoted: the body is then never expanded. */
  expand: boolean;
  /** `<<-`: leading tabs are stripped from every body line. */
  chomp: boolean;
  /** The file descriptor before `<<` (`3<<EOF`), 0 when none was written. */
  fd: number;
}

/** Exec form (`["a","b"]`) keeps the argv; shell form keeps the command line for the shell. */
export type CommandForm = { form: 'exec'; args: string[] } | { form: 'shell'; command: string };

export interface KeyValue {
  key: string;
  value: string;
  /** Written in the legacy `ENV KEY value` form, without `=`. */
  legacy: boolean;
}

export interface ArgDefinition {
  key: string;
  /** The default as written; undefined when the ARG has no `=`. */
  value?: string;
}

/** A COPY/ADD source given as a here-document: a file created from inline content. */
export interface InlineSource {
  /** The delimiter, used as the file name. */
  name: string;
  /** The body, with leading tabs already stripped for `<<-`. */
  content: string;
  expand: boolean;
}

export interface HealthConfig {
  /** ["NONE"], ["CMD", ...argv] or ["CMD-SHELL", command], as in the image config. */
  test: string[];
  /** Durations in nanoseconds; 0 means "use the default". */
  interval: number;
  timeout: number;
  startPeriod: number;
  startInterval: number;
  retries: number;
}

export type NoFlags = Record<string, never>;

interface Base<K extends string, F> {
  kind: K;
  loc: Location;
  /** The instruction as written, continuation lines joined, trimmed. */
  original: string;
  /** Flags as written (quotes removed, variables not expanded). */
  flags: F;
}

export interface FromFlags {
  platform?: string;
}
export interface RunFlags {
  /** Every --mount value as written, in order. */
  mount: string[];
  network?: string;
  security?: string;
}
export interface CopyFlags {
  from?: string;
  chown?: string;
  chmod?: string;
  link: boolean;
  parents: boolean;
  exclude: string[];
}
export interface AddFlags {
  chown?: string;
  chmod?: string;
  checksum?: string;
  link: boolean;
  /** Undefined when not given: the builder's default applies. */
  keepGitDir?: boolean;
  unpack?: boolean;
  exclude: string[];
}
export interface HealthcheckFlags {
  interval?: string;
  timeout?: string;
  startPeriod?: string;
  startInterval?: string;
  retries?: string;
}

export interface FromInstruction extends Base<'FROM', FromFlags> {
  image: string;
  /** The lower-cased `AS` name. */
  name?: string;
}
export interface RunInstruction extends Base<'RUN', RunFlags> {
  cmd: CommandForm;
  heredocs: Heredoc[];
}
export interface CmdInstruction extends Base<'CMD', NoFlags> {
  cmd: CommandForm;
}
export interface EntrypointInstruction extends Base<'ENTRYPOINT', NoFlags> {
  cmd: CommandForm;
}
export interface ShellInstruction extends Base<'SHELL', NoFlags> {
  shell: string[];
}
export interface LabelInstruction extends Base<'LABEL', NoFlags> {
  pairs: KeyValue[];
}
export interface EnvInstruction extends Base<'ENV', NoFlags> {
  pairs: KeyValue[];
}
export interface MaintainerInstruction extends Base<'MAINTAINER', NoFlags> {
  maintainer: string;
}
export interface ExposeInstruction extends Base<'EXPOSE', NoFlags> {
  ports: string[];
}
export interface AddInstruction extends Base<'ADD', AddFlags> {
  sources: string[];
  inlineSources: InlineSource[];
  dest: string;
}
export interface CopyInstruction extends Base<'COPY', CopyFlags> {
  sources: string[];
  inlineSources: InlineSource[];
  dest: string;
}
export interface VolumeInstruction extends Base<'VOLUME', NoFlags> {
  volumes: string[];
}
export interface UserInstruction extends Base<'USER', NoFlags> {
  user: string;
}
export interface WorkdirInstruction extends Base<'WORKDIR', NoFlags> {
  path: string;
}
export interface ArgInstruction extends Base<'ARG', NoFlags> {
  args: ArgDefinition[];
}
export interface OnbuildInstruction extends Base<'ONBUILD', NoFlags> {
  /** What Docker stores in the image config's OnBuild: the trigger as written, with its here-documents. */
  expression: string;
  instruction: Instruction;
}
export interface StopsignalInstruction extends Base<'STOPSIGNAL', NoFlags> {
  signal: string;
}
export interface HealthcheckInstruction extends Base<'HEALTHCHECK', HealthcheckFlags> {
  health: HealthConfig;
}

export type Instruction =
  | FromInstruction
  | RunInstruction
  | CmdInstruction
  | EntrypointInstruction
  | ShellInstruction
  | LabelInstruction
  | EnvInstruction
  | MaintainerInstruction
  | ExposeInstruction
  | AddInstruction
  | CopyInstruction
  | VolumeInstruction
  | UserInstruction
  | WorkdirInstruction
  | ArgInstruction
  | OnbuildInstruction
  | StopsignalInstruction
  | HealthcheckInstruction;

export type InstructionKind = Instruction['kind'];

export interface Stage {
  index: number;
  name?: string;
  from: FromInstruction;
  /** The stage's instructions after FROM. */
  instructions: Instruction[];
}

export interface Dockerfile {
  directives: Directives;
  /** ARG instructions before the first FROM: the only variables FROM can use. */
  metaArgs: ArgInstruction[];
  stages: Stage[];
}

/** Variable lookup for expansion: undefined means "not set" (different from ""). */
export type Lookup = (name: string) => string | undefined;
