// Docker's shell-word lexer (BuildKit frontend/dockerfile/shell/lex.go): quote removal,
// escapes and $VAR / ${VAR...} substitution, with optional word splitting. No command
// substitution, globbing or arithmetic: Docker does not do them either.
import type { Lookup } from './types.js';
import { PatternError, replacePattern, trimPrefix, trimSuffix } from './shell-pattern.js';

export interface LexOptions {
  escape: string;
  /** Keep quote characters in the output (used to detect quoted heredoc delimiters). */
  rawQuotes?: boolean;
  /** Keep escape characters in the output. */
  rawEscapes?: boolean;
  /** Treat quotes as ordinary characters (expansion of heredoc bodies). */
  skipProcessQuotes?: boolean;
  /** Leave references to unset variables as written instead of expanding them to "". */
  skipUnsetEnv?: boolean;
}

export interface LexResult {
  result: string;
  words: string[];
}

/** A lexing failure; callers add the word and location. */
export class LexError extends Error {}

export function isSpace(ch: string): boolean {
  return /^\p{White_Space}$/u.test(ch);
}
const isLetter = (ch: string): boolean => /^\p{L}$/u.test(ch);
const isDigit = (ch: string): boolean => /^\p{Nd}$/u.test(ch);
const SPECIAL_PARAMS = new Set(['@', '*', '#', '?', '-', '$', '!', '0']);
const MODIFIERS = new Set(['+', '-', '?', '#', '%']);

/** Collects words split on unquoted whitespace that came from the input or a variable. */
class WordSplitter {
  private buf = '';
  private inWord = false;
  private readonly words: string[] = [];

  addChar(ch: string): void {
    if (!isSpace(ch)) this.addRaw(ch);
    else if (this.inWord && this.buf !== '') this.flush();
  }
  addString(s: string): void {
    for (const ch of s) this.addChar(ch);
  }
  addRaw(s: string): void {
    this.buf += s;
    this.inWord = true;
  }
  finish(): string[] {
    if (this.buf !== '') this.flush();
    return this.words;
  }
  private flush(): void {
    this.words.push(this.buf);
    this.buf = '';
    this.inWord = false;
  }
}

export function lexWord(word: string, lookup: Lookup, opts: LexOptions): LexResult {
  return new ShellWord(word, lookup, opts).process();
}

class ShellWord {
  private readonly chars: string[];
  private pos = 0;
  private rawEscapes: boolean;

  constructor(
    word: string,
    private readonly lookup: Lookup,
    private readonly opts: LexOptions,
  ) {
    this.chars = Array.from(word);
    this.rawEscapes = opts.rawEscapes === true;
  }

  process(): LexResult {
    return this.processStopOn(undefined, this.rawEscapes);
  }

  private peek(): string | undefined {
    return this.chars[this.pos];
  }

  private next(): string | undefined {
    const ch = this.chars[this.pos];
    if (ch !== undefined) this.pos++;
    return ch;
  }

  // Each nested call (inside ${...}) gets its own word buffer. BuildKit since v0.15 shares
  // one buffer, which loses text before a ${VAR:-x} when splitting words; we keep the
  // earlier, intended behaviour.
  private processStopOn(stop: string | undefined, rawEscapes: boolean): LexResult {
    const saved = this.rawEscapes;
    this.rawEscapes = rawEscapes;
    try {
      return this.scan(stop);
    } finally {
      this.rawEscapes = saved;
    }
  }

  private scan(stop: string | undefined): LexResult {
    let result = '';
    const words = new WordSplitter();
    for (let ch = this.peek(); ch !== undefined; ch = this.peek()) {
      if (stop !== undefined && ch === stop) {
        this.next();
        return { result, words: words.finish() };
      }
      const special = this.special(ch);
      if (special) {
        const text = special();
        result += text;
        if (ch === '$') words.addString(text);
        else words.addRaw(text);
        continue;
      }
      this.next();
      if (ch !== this.opts.escape) {
        words.addChar(ch);
        result += ch;
        continue;
      }
      if (this.rawEscapes) {
        words.addRaw(ch);
        result += ch;
      }
      const escaped = this.next();
      if (escaped === undefined) break; // an escape at the very end is dropped
      words.addRaw(escaped);
      result += escaped;
    }
    if (stop !== undefined) throw new LexError(`unexpected end of statement while looking for matching ${stop}`);
    return { result, words: words.finish() };
  }

  private special(ch: string): (() => string) | undefined {
    if (ch === '$') return () => this.processDollar();
    if (ch === '<') return () => this.processPossibleHeredoc();
    if (this.opts.skipProcessQuotes) return undefined;
    if (ch === "'") return () => this.processSingleQuote();
    if (ch === '"') return () => this.processDoubleQuote();
    return undefined;
  }

  // Everything between single quotes is literal; a single quote cannot be escaped inside.
  private processSingleQuote(): string {
    this.next();
    let out = this.opts.rawQuotes ? "'" : '';
    for (;;) {
      const ch = this.next();
      if (ch === undefined) throw new LexError('unexpected end of statement while looking for matching single-quote');
      if (ch === "'") return this.opts.rawQuotes ? out + ch : out;
      out += ch;
    }
  }

  // Inside double quotes only $ expands, and the escape protects only " $ and itself.
  private processDoubleQuote(): string {
    this.next();
    let out = this.opts.rawQuotes ? '"' : '';
    for (;;) {
      const peek = this.peek();
      if (peek === undefined) throw new LexError('unexpected end of statement while looking for matching double-quote');
      if (peek === '"') {
        this.next();
        return this.opts.rawQuotes ? out + peek : out;
      }
      if (peek === '$') {
        out += this.processDollar();
        continue;
      }
      let ch = this.next() as string;
      if (ch === this.opts.escape) {
        if (this.rawEscapes) out += ch;
        const after = this.peek();
        if (after === undefined) continue;
        if (after === '"' || after === '$' || after === this.opts.escape) ch = this.next() as string;
      }
      out += ch;
    }
  }

  private processPossibleHeredoc(): string {
    this.next();
    if (this.peek() !== '<') return '<';
    this.next();
    let space = '';
    for (let ch = this.peek(); ch === ' ' || ch === '\t' || ch === '\r'; ch = this.peek()) space += this.next();
    return '<<' + space;
  }

  private processName(): string {
    let name = '';
    for (let ch = this.peek(); ch !== undefined; ch = this.peek()) {
      if (name === '' && isDigit(ch)) {
        while (this.peek() !== undefined && isDigit(this.peek() as string)) name += this.next();
        return name; // positional parameters: $1, $001
      }
      if (name === '' && SPECIAL_PARAMS.has(ch)) {
        this.next();
        return ch;
      }
      if (!isLetter(ch) && !isDigit(ch) && ch !== '_') break;
      name += this.next();
    }
    return name;
  }

  private processDollar(): string {
    this.next();
    if (this.peek() !== '{') {
      const name = this.processName();
      if (name === '') return '$';
      const value = this.lookup(name);
      if (value === undefined && this.opts.skipUnsetEnv) return '$' + name;
      return value ?? '';
    }
    this.next();
    const first = this.peek();
    if (first === undefined) throw new LexError("syntax error: missing '}'");
    if (first === '{' || first === '}' || first === ':') throw new LexError('syntax error: bad substitution');
    const name = this.processName();
    const ch = this.next();
    if (ch === undefined) throw new LexError("syntax error: missing '}'");
    if (ch === '}') {
      const value = this.lookup(name);
      if (value === undefined && this.opts.skipUnsetEnv) return '${' + name + '}';
      return value ?? '';
    }
    if (ch === '/') return this.processReplace(name);
    return this.processModifier(name, ch);
  }

  private stopOnOrMissing(stop: string, rawEscapes: boolean, missing: string): string {
    try {
      return this.processStopOn(stop, rawEscapes).result;
    } catch (err) {
      if (err instanceof LexError && this.peek() === undefined) throw new LexError(missing);
      throw err;
    }
  }

  private processModifier(name: string, first: string): string {
    let op = first;
    let modifier = first;
    const nullIsUnset = first === ':';
    if (nullIsUnset) {
      op = this.next() ?? '';
      modifier += op;
    }
    const isTrim = op === '#' || op === '%';
    // After `:` BuildKit reads the word before complaining about the operator (${X:Y} is an
    // error either way); ${X:#...} and ${X:%...} are rejected outright.
    if ((!nullIsUnset && !MODIFIERS.has(op)) || (nullIsUnset && isTrim)) {
      throw new LexError(`unsupported modifier (${modifier}) in substitution`);
    }
    let word = this.stopOnOrMissing('}', isTrim, "syntax error: missing '}'");
    const value = this.lookup(name);
    if (value === undefined && this.opts.skipUnsetEnv) return '${' + name + modifier + word + '}';
    const empty = value === undefined || (nullIsUnset && value === '');
    switch (op) {
      case '-':
        return empty ? word : (value as string);
      case '+':
        return empty ? '' : word;
      case '?':
        if (value === undefined) throw new LexError(`${name}: ${word || 'is not allowed to be unset'}`);
        if (empty) throw new LexError(`${name}: ${word || 'is not allowed to be empty'}`);
        return value;
      case '#':
      case '%': {
        const greedy = word.startsWith(op);
        if (greedy) word = word.slice(1);
        return this.trim(op, word, value ?? '', greedy);
      }
      default:
        throw new LexError(`unsupported modifier (${modifier}) in substitution`);
    }
  }

  private trim(op: string, pattern: string, value: string, greedy: boolean): string {
    try {
      return op === '%' ? trimSuffix(pattern, value, greedy) : trimPrefix(pattern, value, greedy);
    } catch (err) {
      if (err instanceof PatternError) throw new LexError(`invalid pattern (${pattern}) in substitution: ${err.message}`);
      throw err;
    }
  }

  private processReplace(name: string): string {
    const all = this.peek() === '/';
    if (all) this.next();
    const pattern = this.stopOnOrMissing('/', true, "syntax error: missing '/' in ${}");
    const replacement = this.stopOnOrMissing('}', true, "syntax error: missing '}'");
    const value = this.lookup(name);
    if (value === undefined && this.opts.skipUnsetEnv) return '${' + name + '/' + pattern + '/' + replacement + '}';
    try {
      return replacePattern(pattern, value ?? '', replacement, all);
    } catch (err) {
      if (err instanceof PatternError) throw new LexError(`invalid pattern (${pattern}) in substitution: ${err.message}`);
      throw err;
    }
  }
}
