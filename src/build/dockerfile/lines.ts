// Physical lines to logical lines: BOM, CRLF, parser directives, comments, and line
// continuations, following BuildKit's parser.Parse loop (parser/parser.go).
import { LineError } from './location.js';
import type { Directives, EscapeChar } from './types.js';
import { trimLeadingSpace } from './words.js';

const VALID_DIRECTIVES = new Set(['syntax', 'escape', 'check']);

/** Parser directives: `# key=value` lines before anything else, each at most once. */
export class DirectiveParser {
  readonly directives: Directives = { escape: '\\' };
  private done = false;
  private readonly seen = new Set<string>();
  private continuation = continuationRegex('\\');

  get escape(): EscapeChar {
    return this.directives.escape;
  }

  /** Looks at a line (left-trimmed, no newline); the first non-directive line ends directives. */
  parseLine(line: string): void {
    if (this.done) return;
    const m = line.startsWith('#') ? /^([a-zA-Z][a-zA-Z0-9]*)[\t\n\f\r ]*=[\t\n\f\r ]*(.+?)[\t\n\f\r ]*$/.exec(trimLeadingSpace(line.slice(1))) : null;
    const key = m?.[1]?.toLowerCase();
    if (!m || key === undefined || !VALID_DIRECTIVES.has(key)) {
      this.done = true;
      return;
    }
    if (this.seen.has(key)) throw new LineError(`only one ${key} parser directive can be used`);
    this.seen.add(key);
    this.set(key, m[2] as string);
  }

  private set(key: string, value: string): void {
    if (key === 'escape') {
      if (value !== '`' && value !== '\\') throw new LineError(`invalid escape token '${value}' does not match \` or \\`);
      this.directives.escape = value;
      this.continuation = continuationRegex(value);
    } else if (key === 'syntax') this.directives.syntax = value;
    else this.directives.check = value;
  }

  /** Removes a trailing continuation escape; `continues` says whether the next line joins. */
  trimContinuation(line: string): { text: string; continues: boolean } {
    if (!this.continuation.test(line)) return { text: line, continues: false };
    return { text: line.replace(this.continuation, '$1'), continues: true };
  }
}

// The escape at the end (maybe followed by blanks) continues the line, unless it is itself
// escaped; an escape alone on a line also continues it.
function continuationRegex(escape: string): RegExp {
  const e = escape === '\\' ? '\\\\' : escape;
  return new RegExp(`([^${e}])${e}[ \\t]*$|^${e}[ \\t]*$`);
}

export const trimNewline = (s: string): string => s.replace(/[\r\n]+$/, '');
export const isComment = (s: string): boolean => trimLeadingSpace(s).startsWith('#');

/** Physical lines with their endings, numbered from 1. */
export class LineReader {
  private readonly lines: string[];
  private index = 0;

  constructor(text: string) {
    const noBom = text.startsWith('\uFEFF') ? text.slice(1) : text;
    this.lines = noBom === '' ? [] : noBom.split(/(?<=\n)/);
  }

  /** Number of the last line returned by next(). */
  get lineNumber(): number {
    return this.index;
  }

  next(): string | undefined {
    const line = this.lines[this.index];
    if (line !== undefined) this.index++;
    return line;
  }
}

export interface LogicalLine {
  text: string;
  startLine: number;
  endLine: number;
}

/** The next instruction line, continuations joined; undefined at the end of the file. */
export function readLogicalLine(reader: LineReader, d: DirectiveParser): LogicalLine | undefined {
  for (let raw = reader.next(); raw !== undefined; raw = reader.next()) {
    const first = trimLeadingSpace(trimNewline(raw));
    d.parseLine(first);
    const startLine = reader.lineNumber;
    const head = d.trimContinuation(first.startsWith('#') ? '' : first);
    if (!head.continues && head.text === '') continue;
    let text = head.text;
    let continues = head.continues;
    while (continues) {
      const next = reader.next();
      if (next === undefined) break;
      const line = trimNewline(next);
      // Comment lines and blank lines inside a continuation are skipped, as BuildKit does.
      if (isComment(line) || trimLeadingSpace(line) === '') continue;
      const part = d.trimContinuation(line);
      text += part.text;
      continues = part.continues;
    }
    return { text, startLine, endLine: reader.lineNumber };
  }
  return undefined;
}

/** Reads a here-document body up to its delimiter line; undefined when the file ends first. */
export function readHeredocBody(reader: LineReader, name: string, chomp: boolean): string | undefined {
  let content = '';
  for (let raw = reader.next(); raw !== undefined; raw = reader.next()) {
    let candidate = trimNewline(raw);
    if (chomp) candidate = candidate.replace(/^\t+/, '');
    if (candidate === name) return content;
    content += raw;
  }
  return undefined;
}
