// parseDockerfile: text → directives, meta ARGs and stages of typed instructions.
import { invalidArgument } from '../../util/errors.js';
import { heredocMarkersInLine } from './heredoc.js';
import { buildInstruction, HEREDOC_KINDS, instructionKind, isJsonForm } from './instructions.js';
import { DirectiveParser, LineReader, readHeredocBody, readLogicalLine, type LogicalLine } from './lines.js';
import { errorAt, messageOf } from './location.js';
import type { ArgInstruction, Directives, Dockerfile, Heredoc, Instruction, Stage } from './types.js';
import { splitCommand, trimSpace } from './words.js';

export interface ParseOptions {
  /** Name used in error messages and locations; "Dockerfile" by default. */
  file?: string;
}

export function parseDockerfile(text: string, opts: ParseOptions = {}): Dockerfile {
  const file = opts.file ?? 'Dockerfile';
  const { instructions, directives } = parseAll(text, file);
  if (instructions.length === 0) throw invalidArgument(`the Dockerfile (${file}) cannot be empty`);
  return { directives, ...groupStages(instructions) };
}

/**
 * Instructions without the stage rules: for ONBUILD triggers of a base image, which the
 * builder runs right after FROM (parse each stored expression with this).
 */
export function parseInstructions(text: string, opts: ParseOptions = {}): Instruction[] {
  return parseAll(text, opts.file ?? 'Dockerfile').instructions;
}

function parseAll(text: string, file: string): { instructions: Instruction[]; directives: Directives } {
  const reader = new LineReader(text);
  const d = new DirectiveParser();
  const instructions: Instruction[] = [];
  for (let line = nextLine(reader, d, file); line; line = nextLine(reader, d, file)) {
    instructions.push(parseInstruction(line, reader, d, file));
  }
  return { instructions, directives: { ...d.directives } };
}

function nextLine(reader: LineReader, d: DirectiveParser, file: string): LogicalLine | undefined {
  try {
    return readLogicalLine(reader, d);
  } catch (err) {
    throw errorAt(file, reader.lineNumber, messageOf(err), err);
  }
}

function parseInstruction(line: LogicalLine, reader: LineReader, d: DirectiveParser, file: string): Instruction {
  const loc = { file, line: line.startLine, endLine: line.endLine };
  try {
    const split = splitCommand(line.text, d.escape);
    const kind = instructionKind(split.cmd);
    const heredocs = mayHaveHeredocs(kind, split.rest, d.escape) && line.text.includes('<<') ? readHeredocs(line, reader) : [];
    loc.endLine = reader.lineNumber;
    return buildInstruction({ kind, rest: split.rest, flagArgs: split.flags, loc, original: trimSpace(line.text), heredocs, escape: d.escape });
  } catch (err) {
    throw errorAt(file, loc.line, messageOf(err), err);
  }
}

// RUN, COPY and ADD (also as ONBUILD triggers) may carry here-documents, unless in JSON form.
function mayHaveHeredocs(kind: string, rest: string, escape: string): boolean {
  if (kind === 'ONBUILD') {
    const inner = splitCommand(rest, escape);
    return HEREDOC_KINDS.has(inner.cmd.toUpperCase()) && !isJsonForm(inner.cmd, inner.rest);
  }
  return HEREDOC_KINDS.has(kind) && !isJsonForm(kind, rest);
}

function readHeredocs(line: LogicalLine, reader: LineReader): Heredoc[] {
  return heredocMarkersInLine(line.text).map((marker) => {
    const content = readHeredocBody(reader, marker.name, marker.chomp);
    if (content === undefined) throw new Error(`unterminated heredoc <<${marker.name} (no line "${marker.name}" before the end of the file)`);
    return { ...marker, content };
  });
}

/** ARGs before the first FROM are meta args; every other instruction needs a stage. */
function groupStages(instructions: Instruction[]): { metaArgs: ArgInstruction[]; stages: Stage[] } {
  const metaArgs: ArgInstruction[] = [];
  const stages: Stage[] = [];
  for (const inst of instructions) {
    const current = stages[stages.length - 1];
    if (inst.kind === 'FROM') {
      stages.push({ index: stages.length, ...(inst.name === undefined ? {} : { name: inst.name }), from: inst, instructions: [] });
    } else if (current) current.instructions.push(inst);
    else if (inst.kind === 'ARG') metaArgs.push(inst);
    else throw errorAt(inst.loc.file, inst.loc.line, `no build stage in current context: ${inst.kind} before the first FROM`);
  }
  return { metaArgs, stages };
}
