// From one split logical line to a typed instruction, with BuildKit's argument rules
// (instructions/parse.go and parser/line_parsers.go) and error messages.
import { parseFlags, type FlagValues } from './flags.js';
import { chompHeredoc, heredocMarkerOrUndefined } from './heredoc.js';
import { healthConfig } from './healthcheck.js';
import { LineError } from './location.js';
import { checkMountFrom } from './run-mount.js';
import { didYouMean } from './suggest.js';
import type {
  ArgDefinition,
  CommandForm,
  EscapeChar,
  Heredoc,
  InlineSource,
  Instruction,
  InstructionKind,
  KeyValue,
  Location,
  NoFlags,
} from './types.js';
import { NotStringArray, parseJsonArray, parseWords, splitCommand, splitWhitespace, trimSpace } from './words.js';

export const INSTRUCTION_KINDS: readonly InstructionKind[] = [
  'ADD', 'ARG', 'CMD', 'COPY', 'ENTRYPOINT', 'ENV', 'EXPOSE', 'FROM', 'HEALTHCHECK',
  'LABEL', 'MAINTAINER', 'ONBUILD', 'RUN', 'SHELL', 'STOPSIGNAL', 'USER', 'VOLUME', 'WORKDIR',
];

/** Instructions that may carry here-documents. */
export const HEREDOC_KINDS: ReadonlySet<string> = new Set(['RUN', 'COPY', 'ADD']);

export interface ParseRequest {
  kind: InstructionKind;
  /** Arguments after the flags. */
  rest: string;
  flagArgs: string[];
  loc: Location;
  original: string;
  heredocs: Heredoc[];
  escape: EscapeChar;
}

/** The instruction kind a command word names; throws for unknown words. */
export function instructionKind(word: string): InstructionKind {
  const upper = word.toUpperCase();
  if ((INSTRUCTION_KINDS as readonly string[]).includes(upper)) return upper as InstructionKind;
  throw new LineError(`unknown instruction: ${word}${didYouMean(word, suggestionsIn(word), false)}`);
}

// BuildKit answers in the casing the user wrote.
function suggestionsIn(word: string): string[] {
  return INSTRUCTION_KINDS.map((k) => (word === word.toLowerCase() ? k.toLowerCase() : k));
}

/** Whether an instruction line is JSON (exec) form, where `<<` is never a here-document. */
export function isJsonForm(kind: string, rest: string): boolean {
  if (!['RUN', 'CMD', 'ENTRYPOINT', 'SHELL', 'ADD', 'COPY', 'VOLUME'].includes(kind.toUpperCase())) return false;
  try {
    return parseJsonArray(rest) !== undefined;
  } catch {
    return false;
  }
}

export function buildInstruction(req: ParseRequest): Instruction {
  const base = { loc: req.loc, original: req.original };
  switch (req.kind) {
    case 'FROM':
      return buildFrom(req);
    case 'RUN':
      return buildRun(req);
    case 'CMD':
    case 'ENTRYPOINT':
      return { kind: req.kind, ...base, flags: noFlags(req), cmd: commandForm(req.rest) };
    case 'SHELL':
      return { kind: 'SHELL', ...base, flags: noFlags(req), shell: shellArgs(req.rest) };
    case 'ENV':
    case 'LABEL':
      return { kind: req.kind, ...base, flags: noFlags(req), pairs: keyValues(req.kind, req.rest, req.escape) };
    case 'ARG':
      return { kind: 'ARG', ...base, flags: noFlags(req), args: argDefinitions(req.rest, req.escape) };
    case 'ADD':
    case 'COPY':
      return buildCopyOrAdd(req);
    default:
      return buildSimple(req);
  }
}

function buildSimple(req: ParseRequest): Instruction {
  const base = { loc: req.loc, original: req.original };
  switch (req.kind) {
    case 'MAINTAINER':
      return { kind: 'MAINTAINER', ...base, flags: noFlags(req), maintainer: exactlyOne(req) };
    case 'USER':
      return { kind: 'USER', ...base, flags: noFlags(req), user: exactlyOne(req) };
    case 'WORKDIR':
      return { kind: 'WORKDIR', ...base, flags: noFlags(req), path: exactlyOne(req) };
    case 'STOPSIGNAL':
      return { kind: 'STOPSIGNAL', ...base, flags: noFlags(req), signal: exactlyOne(req) };
    case 'EXPOSE':
      return { kind: 'EXPOSE', ...base, flags: noFlags(req), ports: atLeastOne('EXPOSE', splitWhitespace(req.rest)) };
    case 'VOLUME':
      return { kind: 'VOLUME', ...base, flags: noFlags(req), volumes: volumes(req.rest) };
    case 'HEALTHCHECK':
      return buildHealthcheck(req);
    case 'ONBUILD':
      return buildOnbuild(req);
    default:
      throw new LineError(`unexpected instruction ${req.kind}`);
  }
}

function noFlags(req: ParseRequest): NoFlags {
  parseFlags(req.kind, req.flagArgs);
  return {};
}

function exactlyOne(req: ParseRequest): string {
  if (req.rest === '') throw new LineError(`${req.kind} requires exactly one argument`);
  return req.rest;
}

function atLeastOne<T>(kind: string, items: T[]): T[] {
  if (items.length === 0) throw new LineError(`${kind} requires at least one argument`);
  return items;
}

function jsonOrUndefined(rest: string): string[] | undefined {
  try {
    return parseJsonArray(rest);
  } catch (err) {
    if (err instanceof NotStringArray) throw new LineError(err.message);
    throw err;
  }
}

/** JSON array → exec form; anything else, even broken JSON, → shell form (as Docker does). */
export function commandForm(rest: string): CommandForm {
  if (rest === '') return { form: 'exec', args: [] };
  const json = jsonOrUndefined(rest);
  return json ? { form: 'exec', args: json } : { form: 'shell', command: rest };
}

function jsonOrWords(rest: string): { items: string[]; json: boolean } {
  const json = jsonOrUndefined(rest);
  return json ? { items: json, json: true } : { items: splitWhitespace(rest), json: false };
}

function shellArgs(rest: string): string[] {
  const cmd = commandForm(rest);
  if (cmd.form === 'exec' && cmd.args.length === 0) throw new LineError('SHELL requires at least one argument');
  if (cmd.form === 'shell') throw new LineError('SHELL requires the arguments to be in JSON form');
  return cmd.args;
}

function volumes(rest: string): string[] {
  return atLeastOne('VOLUME', jsonOrWords(rest).items).map((v) => {
    const trimmed = trimSpace(v);
    if (trimmed === '') throw new LineError('VOLUME specified can not be an empty string');
    return trimmed;
  });
}

const STAGE_NAME = /^[a-z][a-z0-9-_.]*$/;

/** Stage names: lower-cased, a letter first, then letters, digits, `-`, `_`, `.`. */
export function validStageName(name: string): boolean {
  return STAGE_NAME.test(name);
}

function buildFrom(req: ParseRequest): Instruction {
  const args = splitWhitespace(req.rest);
  const flags = parseFlags('FROM', req.flagArgs);
  let name: string | undefined;
  if (args.length === 3 && (args[1] as string).toLowerCase() === 'as') {
    name = (args[2] as string).toLowerCase();
    if (!validStageName(name)) {
      throw new LineError(`invalid name for build stage: "${args[2]}", name can't start with a number or contain symbols`);
    }
  } else if (args.length !== 1) throw new LineError('FROM requires either one or three arguments');
  const platform = flags.string('platform');
  return {
    kind: 'FROM',
    loc: req.loc,
    original: req.original,
    flags: platform === undefined ? {} : { platform },
    image: args[0] as string,
    ...(name === undefined ? {} : { name }),
  };
}

const NETWORKS = ['default', 'none', 'host'];
const SECURITY = ['insecure', 'sandbox'];

function buildRun(req: ParseRequest): Instruction {
  const f = parseFlags('RUN', req.flagArgs);
  const network = f.string('network');
  const security = f.string('security');
  if (network !== undefined && !NETWORKS.includes(network)) throw new LineError(`invalid network mode "${network}"`);
  if (security !== undefined && !SECURITY.includes(security)) throw new LineError(`security "${security}" is not valid`);
  const mount = f.strings('mount');
  for (const m of mount) checkMountFrom(m);
  return {
    kind: 'RUN',
    loc: req.loc,
    original: req.original,
    flags: { mount, ...optional({ network, security }) },
    cmd: commandForm(req.rest),
    heredocs: req.heredocs,
  };
}

/** Drops undefined properties so that absent flags are absent, not `undefined`. */
function optional<T extends Record<string, string | boolean | undefined>>(values: T): Partial<T> {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function buildCopyOrAdd(req: ParseRequest): Instruction {
  const { items, json } = jsonOrWords(req.rest);
  const flags = parseFlags(req.kind, req.flagArgs);
  if (items.length < 2) {
    throw new LineError(`${req.kind} requires at least two arguments, but only one was provided. Destination could not be determined`);
  }
  const dest = items[items.length - 1] as string;
  if (!json && heredocMarkerOrUndefined(dest)) throw new LineError(`${req.kind} cannot accept a heredoc as a destination`);
  const { sources, inlineSources } = splitSources(items.slice(0, -1), json ? [] : req.heredocs, json);
  const common = { loc: req.loc, original: req.original, sources, inlineSources, dest };
  if (req.kind === 'COPY') return { kind: 'COPY', ...common, flags: copyFlags(flags) };
  return { kind: 'ADD', ...common, flags: addFlags(flags) };
}

function splitSources(items: string[], heredocs: Heredoc[], json: boolean): { sources: string[]; inlineSources: InlineSource[] } {
  const byName = new Map(heredocs.map((h) => [h.name, h]));
  const sources: string[] = [];
  const inlineSources: InlineSource[] = [];
  for (const item of items) {
    const marker = json ? undefined : heredocMarkerOrUndefined(item);
    if (!marker) {
      sources.push(item);
      continue;
    }
    const content = byName.get(marker.name)?.content ?? '';
    inlineSources.push({ name: marker.name, content: marker.chomp ? chompHeredoc(content) : content, expand: marker.expand });
  }
  return { sources, inlineSources };
}

function copyFlags(f: FlagValues): Extract<Instruction, { kind: 'COPY' }>['flags'] {
  return {
    ...optional({ from: f.string('from'), chown: f.string('chown'), chmod: f.string('chmod') }),
    link: f.bool('link') ?? false,
    parents: f.bool('parents') ?? false,
    exclude: f.strings('exclude'),
  };
}

function addFlags(f: FlagValues): Extract<Instruction, { kind: 'ADD' }>['flags'] {
  return {
    ...optional({ chown: f.string('chown'), chmod: f.string('chmod'), checksum: f.string('checksum') }),
    link: f.bool('link') ?? false,
    ...optional({ keepGitDir: f.bool('keep-git-dir'), unpack: f.bool('unpack') }),
    exclude: f.strings('exclude'),
  };
}

/** ENV/LABEL: `k=v k2="v 2"` or the legacy `KEY value with spaces` (the first word has no `=`). */
function keyValues(kind: string, rest: string, escape: string): KeyValue[] {
  const words = parseWords(rest, escape);
  if (words.length === 0) throw new LineError(`${kind} requires at least one argument`);
  if (!(words[0] as string).includes('=')) {
    const m = /[\t\v\f\r ]+/.exec(rest);
    if (!m) throw new LineError(`${kind} must have two arguments`);
    return [{ key: rest.slice(0, m.index), value: rest.slice(m.index + m[0].length), legacy: true }];
  }
  return words.map((word) => {
    const eq = word.indexOf('=');
    if (eq === -1) throw new LineError(`Syntax error - can't find = in "${word}". Must be of the form: name=value`);
    if (eq === 0) throw new LineError(`${kind} names can not be blank`);
    return { key: word.slice(0, eq), value: word.slice(eq + 1), legacy: false };
  });
}

function argDefinitions(rest: string, escape: string): ArgDefinition[] {
  const words = atLeastOne('ARG', parseWords(rest, escape));
  return words.map((word) => {
    const eq = word.indexOf('=');
    if (eq === -1) return { key: word };
    if (eq === 0) throw new LineError('ARG names can not be blank');
    return { key: word.slice(0, eq), value: word.slice(eq + 1) };
  });
}

function buildHealthcheck(req: ParseRequest): Instruction {
  const m = /^(\S+)\s*(.*)$/su.exec(req.rest);
  if (!m) throw new LineError('HEALTHCHECK requires at least one argument');
  const type = m[1] as string;
  const cmdText = m[2] as string;
  // BuildKit does not even look at the flags of HEALTHCHECK NONE.
  const f = type.toUpperCase() === 'NONE' ? undefined : parseFlags('HEALTHCHECK', req.flagArgs);
  const flags = optional({
    interval: f?.string('interval'),
    timeout: f?.string('timeout'),
    startPeriod: f?.string('start-period'),
    startInterval: f?.string('start-interval'),
    retries: f?.string('retries'),
  });
  const health = healthConfig(type, cmdText === '' ? undefined : commandForm(cmdText), flags);
  return { kind: 'HEALTHCHECK', loc: req.loc, original: req.original, flags, health };
}

function buildOnbuild(req: ParseRequest): Instruction {
  parseFlags('ONBUILD', req.flagArgs);
  if (req.rest === '') throw new LineError('ONBUILD requires at least one argument');
  const inner = splitCommand(req.rest, req.escape);
  const trigger = inner.cmd.toUpperCase();
  if (trigger === 'ONBUILD') throw new LineError('Chaining ONBUILD via `ONBUILD ONBUILD` isn\'t allowed');
  if (trigger === 'MAINTAINER' || trigger === 'FROM') throw new LineError(`${trigger} isn't allowed as an ONBUILD trigger`);
  const instruction = buildInstruction({
    ...req,
    kind: instructionKind(inner.cmd),
    rest: inner.rest,
    flagArgs: inner.flags,
    original: trimSpace(req.rest),
  });
  let expression = req.original.replace(/^[\t\n\f\r ]*ONBUILD[\t\n\f\r ]*/i, '');
  for (const h of req.heredocs) expression += '\n' + h.content + h.name;
  return { kind: 'ONBUILD', loc: req.loc, original: req.original, flags: {}, expression, instruction };
}
