// Splitting one logical Dockerfile line into command, flags and arguments, the way
// BuildKit's parser (parser/split_command.go, parser/line_parsers.go) does it.
import { isSpace } from './shell-lex.js';

/** Go's strings.TrimSpace (Unicode white space). */
export function trimSpace(s: string): string {
  return s.replace(/^\p{White_Space}+|\p{White_Space}+$/gu, '');
}

export function trimLeadingSpace(s: string): string {
  return s.replace(/^\p{White_Space}+/u, '');
}

/** BuildKit splits on these only (no newline: there is none left in a logical line). */
const WHITESPACE = /[\t\v\f\r ]+/;

export function splitWhitespace(s: string): string[] {
  return s === '' ? [] : s.split(WHITESPACE);
}

export interface SplitLine {
  cmd: string;
  flags: string[];
  rest: string;
}

export function splitCommand(line: string, escape: string): SplitLine {
  const trimmed = trimSpace(line);
  const m = WHITESPACE.exec(trimmed);
  if (!m) return { cmd: trimmed, flags: [], rest: '' };
  const { rest, flags } = extractFlags(trimmed.slice(m.index + m[0].length), escape);
  return { cmd: trimmed.slice(0, m.index), flags, rest: trimSpace(rest) };
}

/**
 * Leading `--name[=value]` words become flags (quotes and escapes removed); the first word
 * not starting with `--`, or a lone `--`, ends them.
 */
export function extractFlags(line: string, escape: string): { rest: string; flags: string[] } {
  const chars = Array.from(line);
  const flags: string[] = [];
  let i = 0;
  for (;;) {
    while (i < chars.length && isSpace(chars[i] as string)) i++;
    if (i >= chars.length) return { rest: '', flags };
    if (chars[i] !== '-' || chars[i + 1] !== '-') return { rest: chars.slice(i).join(''), flags };
    const { word, end, blankOk } = readFlagWord(chars, i, escape);
    if (word === '--') return { rest: chars.slice(end).join(''), flags };
    if (blankOk || word !== '') flags.push(word);
    i = end;
  }
}

function readFlagWord(chars: string[], start: number, escape: string): { word: string; end: number; blankOk: boolean } {
  let word = '';
  let quote = '';
  let blankOk = false;
  let i = start;
  for (; i < chars.length; i++) {
    let ch = chars[i] as string;
    if (!quote && isSpace(ch)) break;
    if (quote && ch === quote) {
      quote = '';
      continue;
    }
    if (!quote && (ch === "'" || ch === '"')) {
      quote = ch;
      blankOk = true;
      continue;
    }
    if (ch === escape) {
      if (i + 1 === chars.length) {
        quote = '';
        continue; // an escape at the end of the line is dropped
      }
      ch = chars[++i] as string;
    }
    word += ch;
  }
  return { word, end: i, blankOk };
}

/**
 * Words for ENV, LABEL and ARG: split on unquoted white space, keeping quotes and
 * escapes so that expansion can process them later.
 */
export function parseWords(rest: string, escape: string): string[] {
  const chars = Array.from(rest);
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let blankOk = false;
  let quote = '';
  for (let i = 0; i < chars.length; i++) {
    let ch = chars[i] as string;
    if (!quote && isSpace(ch)) {
      if (inWord && (blankOk || word !== '')) words.push(word);
      word = '';
      inWord = false;
      blankOk = false;
      continue;
    }
    inWord = true;
    if (quote) {
      if (ch === quote) quote = '';
      else if (ch === escape && quote !== "'") {
        if (i + 1 === chars.length) {
          quote = '';
          continue;
        }
        word += ch;
        ch = chars[++i] as string;
      }
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      blankOk = true;
    } else if (ch === escape) {
      if (i + 1 === chars.length) continue;
      word += ch;
      ch = chars[++i] as string;
    }
    word += ch;
  }
  if (inWord && (blankOk || word !== '')) words.push(word);
  return words;
}

/** A JSON array of strings, undefined when `rest` is not a JSON array at all. */
export function parseJsonArray(rest: string): string[] | undefined {
  const text = trimLeadingSpace(rest);
  if (!text.startsWith('[')) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!Array.isArray(parsed)) return undefined;
  if (!parsed.every((v): v is string => typeof v === 'string')) {
    throw new NotStringArray('when using JSON array syntax, arrays must be comprised of strings only');
  }
  return parsed;
}

/** A JSON array with non-string elements: an error, not a fallback to shell form. */
export class NotStringArray extends Error {}
