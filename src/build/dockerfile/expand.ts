// Variable substitution with Docker's rules, and which parts of which instruction get it.
import { invalidArgument } from '../../util/errors.js';
import { errorAtLoc, messageOf } from './location.js';
import { expandRunMount } from './run-mount.js';
import { lexWord, LexError, type LexOptions } from './shell-lex.js';
import type { EscapeChar, InlineSource, Instruction, KeyValue, Lookup } from './types.js';

function lex(word: string, lookup: Lookup, opts: LexOptions): { result: string; words: string[] } {
  try {
    return lexWord(word, lookup, opts);
  } catch (err) {
    if (err instanceof LexError) throw invalidArgument(`failed to process ${JSON.stringify(word)}: ${err.message}`, err);
    throw err;
  }
}

/** Expands one word: quotes removed, escapes applied, variables substituted, no splitting. */
export function expandWord(word: string, lookup: Lookup, escape: EscapeChar = '\\'): string {
  return lex(word, lookup, { escape }).result;
}

/** Like expandWord, then splits on unquoted white space (also white space from variables). */
export function expandWords(word: string, lookup: Lookup, escape: EscapeChar = '\\'): string[] {
  return lex(word, lookup, { escape }).words;
}

/**
 * Expands a here-document body: only $ references; quotes and everything else stay, and the
 * escape is always the backslash (BuildKit's ExpandRaw).
 */
export function expandHeredoc(content: string, lookup: Lookup): string {
  return lex(content, lookup, { escape: '\\', skipProcessQuotes: true }).result;
}

/**
 * The instruction with variables substituted where Docker substitutes them: ADD, COPY
 * (not --from), ENV, EXPOSE, FROM, LABEL, STOPSIGNAL, USER, VOLUME, WORKDIR, and RUN's
 * --mount values. RUN, CMD, ENTRYPOINT and SHELL are left to the shell; ONBUILD runs later,
 * in another build; ARG defaults are expanded by the builder only when no build-arg
 * overrides them; MAINTAINER and HEALTHCHECK are never expanded.
 */
export function expandInstruction(inst: Instruction, lookup: Lookup, escape: EscapeChar): Instruction {
  const word = (w: string): string => expandWord(w, lookup, escape);
  try {
    return expandKnown(inst, word, lookup, escape);
  } catch (err) {
    throw errorAtLoc(inst.loc, messageOf(err), err);
  }
}

function expandKnown(inst: Instruction, word: (w: string) => string, lookup: Lookup, escape: EscapeChar): Instruction {
  switch (inst.kind) {
    case 'FROM':
      return { ...inst, image: word(inst.image), flags: optionalWord(inst.flags, 'platform', word) };
    case 'ENV':
    case 'LABEL':
      return { ...inst, pairs: inst.pairs.map((p): KeyValue => ({ ...p, key: word(p.key), value: word(p.value) })) };
    case 'EXPOSE':
      return { ...inst, ports: inst.ports.flatMap((p) => expandWords(p, lookup, escape)) };
    case 'VOLUME':
      return { ...inst, volumes: inst.volumes.map(word) };
    case 'USER':
      return { ...inst, user: word(inst.user) };
    case 'WORKDIR':
      return { ...inst, path: word(inst.path) };
    case 'STOPSIGNAL':
      return { ...inst, signal: word(inst.signal) };
    case 'RUN':
      return { ...inst, flags: { ...inst.flags, mount: inst.flags.mount.map((m) => expandRunMount(m, word)) } };
    case 'COPY':
    case 'ADD':
      return expandCopy(inst, word, lookup);
    default:
      return inst;
  }
}

function expandCopy<T extends Extract<Instruction, { kind: 'COPY' | 'ADD' }>>(inst: T, word: (w: string) => string, lookup: Lookup): T {
  let flags = optionalWord(optionalWord(inst.flags, 'chown', word), 'chmod', word);
  if (inst.kind === 'ADD') flags = optionalWord(flags as typeof inst.flags, 'checksum', word) as typeof flags;
  return {
    ...inst,
    flags,
    sources: inst.sources.map(word),
    dest: word(inst.dest),
    inlineSources: inst.inlineSources.map((s): InlineSource => (s.expand ? { ...s, content: expandHeredoc(s.content, lookup) } : s)),
  };
}

function optionalWord<F extends object, K extends keyof F & string>(flags: F, key: K, word: (w: string) => string): F {
  const value = flags[key];
  return typeof value === 'string' ? { ...flags, [key]: word(value) } : flags;
}
