// The parser half of a Go text/template subset (the language of docker's --format): text and
// {{actions}} with trim markers, comments, pipelines, fields, variables, literals,
// if/else if/with/range/else/end, break/continue. Errors read like Go's:
// `template: :1: function "foo" not defined`.

export interface Pos {
  /** Byte offset of the node in the template text (for "line:col" in errors). */
  offset: number;
  /** The node's source text, for "at <…>" in errors. */
  source: string;
}

export type Arg =
  | ({ kind: 'field'; chain: string[] } & Pos)
  | ({ kind: 'dot' } & Pos)
  | ({ kind: 'var'; name: string; chain: string[] } & Pos)
  | ({ kind: 'ident'; name: string } & Pos)
  | ({ kind: 'string'; value: string } & Pos)
  | ({ kind: 'number'; value: number } & Pos)
  | ({ kind: 'bool'; value: boolean } & Pos)
  | ({ kind: 'nil' } & Pos)
  | ({ kind: 'pipe'; pipe: Pipeline; chain: string[] } & Pos);

export interface Command extends Pos {
  args: Arg[];
}

export interface Pipeline extends Pos {
  decl: string[];
  /** `$x = …` assigns an existing variable; `$x := …` declares. */
  assign: boolean;
  cmds: Command[];
}

export type Node =
  | { kind: 'text'; text: string }
  | ({ kind: 'action'; pipe: Pipeline } & Pos)
  | ({ kind: 'if' | 'with'; pipe: Pipeline; list: Node[]; elseList: Node[] | undefined } & Pos)
  | ({ kind: 'range'; pipe: Pipeline; list: Node[]; elseList: Node[] | undefined } & Pos)
  | ({ kind: 'break' | 'continue' } & Pos);

export class TemplateParseError extends Error {}

interface Token {
  kind: 'field' | 'var' | 'ident' | 'string' | 'number' | 'char' | 'lparen' | 'rparen' | 'pipe' | 'declare' | 'assign' | 'comma' | 'dot' | 'space' | 'eof';
  text: string;
  offset: number;
}

const SPACE = /[ \t\r\n]/;
const IDENT_START = /[A-Za-z_]/;
const IDENT_CHAR = /[A-Za-z0-9_]/;

/** Split one action's text into tokens; `base` is its offset in the template. */
function lexAction(text: string, base: number, fail: (msg: string, offset: number) => never): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const push = (kind: Token['kind'], start: number, end: number): void => {
    tokens.push({ kind, text: text.slice(start, end), offset: base + start });
  };
  while (i < text.length) {
    const ch = text[i] as string;
    const start = i;
    if (SPACE.test(ch)) {
      while (i < text.length && SPACE.test(text[i] as string)) i++;
      push('space', start, i);
    } else if (ch === '"') {
      i++;
      while (i < text.length && text[i] !== '"') {
        if (text[i] === '\\') i++;
        if (text[i] === '\n') fail('unterminated quoted string', base + start);
        i++;
      }
      if (i >= text.length) fail('unterminated quoted string', base + start);
      i++;
      push('string', start, i);
    } else if (ch === '`') {
      const end = text.indexOf('`', i + 1);
      if (end < 0) fail('unterminated raw quoted string', base + start);
      i = end + 1;
      push('string', start, i);
    } else if (ch === "'") {
      i++;
      while (i < text.length && text[i] !== "'") {
        if (text[i] === '\\') i++;
        i++;
      }
      if (i >= text.length) fail('unterminated character constant', base + start);
      i++;
      push('char', start, i);
    } else if (ch === '(') {
      i++;
      push('lparen', start, i);
    } else if (ch === ')') {
      i++;
      push('rparen', start, i);
    } else if (ch === '|') {
      i++;
      push('pipe', start, i);
    } else if (ch === ',') {
      i++;
      push('comma', start, i);
    } else if (ch === ':' && text[i + 1] === '=') {
      i += 2;
      push('declare', start, i);
    } else if (ch === '=') {
      i++;
      push('assign', start, i);
    } else if (ch === '$') {
      i++;
      while (i < text.length && IDENT_CHAR.test(text[i] as string)) i++;
      push('var', start, i);
    } else if (ch === '.' && (i + 1 >= text.length || !IDENT_START.test(text[i + 1] as string)) && !/[0-9]/.test(text[i + 1] ?? '')) {
      i++;
      push('dot', start, i);
    } else if (ch === '.' && IDENT_START.test(text[i + 1] ?? '')) {
      i++;
      while (i < text.length && IDENT_CHAR.test(text[i] as string)) i++;
      push('field', start, i);
    } else if (/[0-9+\-.]/.test(ch)) {
      i++;
      while (i < text.length && /[0-9A-Za-z_.+\-]/.test(text[i] as string)) {
        // a sign only directly after an exponent marker
        if ((text[i] === '+' || text[i] === '-') && !/[eEpP]/.test(text[i - 1] as string)) break;
        i++;
      }
      push('number', start, i);
    } else if (IDENT_START.test(ch)) {
      while (i < text.length && IDENT_CHAR.test(text[i] as string)) i++;
      push('ident', start, i);
    } else {
      fail(`unexpected ${JSON.stringify(ch)} in command`, base + start);
    }
  }
  tokens.push({ kind: 'eof', text: '', offset: base + text.length });
  return tokens;
}

function unquote(token: string, fail: (msg: string) => never): string {
  if (token.startsWith('`')) return token.slice(1, -1);
  const body = token.slice(1, -1);
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const ch = body[i] as string;
    if (ch !== '\\') {
      out += ch;
      continue;
    }
    const next = body[++i];
    const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', '"': '"', "'": "'", a: '\x07', b: '\b', f: '\f', v: '\v', '0': '\0' };
    if (next !== undefined && next in simple && next !== '0') {
      out += simple[next];
    } else if (next === 'x') {
      out += String.fromCharCode(parseInt(body.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (next === 'u') {
      out += String.fromCodePoint(parseInt(body.slice(i + 1, i + 5), 16));
      i += 4;
    } else if (next === 'U') {
      out += String.fromCodePoint(parseInt(body.slice(i + 1, i + 9), 16));
      i += 8;
    } else if (next !== undefined && /[0-7]/.test(next)) {
      out += String.fromCharCode(parseInt(body.slice(i, i + 3), 8));
      i += 2;
    } else {
      fail(`invalid syntax`);
    }
  }
  return out;
}

/** A section of the template: text, or an action with its trim-adjusted text around it. */
interface Piece {
  text?: string;
  action?: string;
  offset: number;
}

/** Split the template into text and actions, applying `{{- ` and ` -}}` trimming and dropping comments. */
function splitActions(src: string, fail: (msg: string, offset: number) => never): Piece[] {
  const pieces: Piece[] = [];
  let pos = 0;
  let trimNext = false;
  while (pos <= src.length) {
    const open = src.indexOf('{{', pos);
    let text = open < 0 ? src.slice(pos) : src.slice(pos, open);
    if (trimNext) text = text.replace(/^[ \t\r\n]+/, '');
    trimNext = false;
    if (open < 0) {
      if (text) pieces.push({ text, offset: pos });
      break;
    }
    let inner = open + 2;
    if (src[inner] === '-' && SPACE.test(src[inner + 1] ?? '')) {
      text = text.replace(/[ \t\r\n]+$/, '');
      inner += 2;
    }
    if (text) pieces.push({ text, offset: pos });
    // Find the closing braces outside quoted strings.
    let i = inner;
    let close = -1;
    while (i < src.length) {
      const ch = src[i];
      if (ch === '"' || ch === '`' || ch === "'") {
        const quote = ch;
        i++;
        while (i < src.length && src[i] !== quote) {
          if (src[i] === '\\' && quote !== '`') i++;
          i++;
        }
        i++;
        continue;
      }
      if (src.startsWith('}}', i)) {
        close = i;
        break;
      }
      i++;
    }
    if (close < 0) fail('unclosed action', open);
    let end = close;
    if (src[close - 1] === '-' && SPACE.test(src[close - 2] ?? '') && close - 2 >= inner) {
      trimNext = true;
      end = close - 2;
    }
    const body = src.slice(inner, end);
    const trimmed = body.trim();
    if (trimmed.startsWith('/*')) {
      if (!trimmed.endsWith('*/')) fail('unclosed comment', open);
    } else {
      pieces.push({ action: body, offset: inner });
    }
    pos = close + 2;
  }
  return pieces;
}

export class Parser {
  private pieces: Piece[] = [];
  private index = 0;
  private tokens: Token[] = [];
  private t = 0;
  private actionOffset = 0;

  constructor(
    private readonly src: string,
    private readonly name: string,
    private readonly isFunction: (name: string) => boolean,
  ) {}

  private line(offset: number): number {
    return 1 + (this.src.slice(0, offset).match(/\n/g)?.length ?? 0);
  }

  private fail(msg: string, offset: number = this.actionOffset): never {
    throw new TemplateParseError(`template: ${this.name}:${this.line(offset)}: ${msg}`);
  }

  parse(): Node[] {
    this.pieces = splitActions(this.src, (m, o) => this.fail(m, o));
    const [list, end] = this.parseList();
    if (end !== undefined) this.fail(`unexpected {{${end}}}`);
    return list;
  }

  /** Parse nodes up to {{end}} / {{else …}} or the end of input; returns the list and what stopped it. */
  private parseList(): [Node[], string | undefined] {
    const list: Node[] = [];
    while (this.index < this.pieces.length) {
      const piece = this.pieces[this.index++] as Piece;
      if (piece.text !== undefined) {
        list.push({ kind: 'text', text: piece.text });
        continue;
      }
      this.actionOffset = piece.offset;
      this.tokens = lexAction(piece.action as string, piece.offset, (m, o) => this.fail(m, o));
      this.t = 0;
      this.skipSpace();
      const first = this.peek();
      if (first.kind === 'ident') {
        switch (first.text) {
          case 'end':
            this.next();
            this.expectEnd('end');
            return [list, 'end'];
          case 'else':
            this.next();
            this.skipSpace();
            return [list, 'else'];
          case 'if':
          case 'with':
          case 'range':
            this.next();
            list.push(this.parseControl(first.text, first.offset));
            continue;
          case 'break':
          case 'continue':
            this.next();
            this.expectEnd(first.text);
            list.push({ kind: first.text, offset: first.offset, source: first.text });
            continue;
          case 'define':
          case 'template':
          case 'block':
            this.fail(`{{${first.text}}} is not supported in this format`);
        }
      }
      const pipe = this.parsePipeline('command');
      list.push({ kind: 'action', pipe, offset: pipe.offset, source: pipe.source });
    }
    return [list, undefined];
  }

  private parseControl(kind: 'if' | 'with' | 'range', offset: number): Node {
    const pipe = this.parsePipeline(kind);
    const [list, end] = this.parseList();
    if (end === undefined) this.fail('unexpected EOF');
    let elseList: Node[] | undefined;
    if (end === 'else') {
      // `{{else if …}}` / `{{else with …}}` chain: the rest of the action is a nested control.
      const next = this.peek();
      if ((next.kind === 'ident' && next.text === kind && kind !== 'range')) {
        this.next();
        elseList = [this.parseControl(kind, next.offset)];
        return { kind, pipe, list, elseList, offset, source: kind };
      }
      this.expectEnd('else');
      const [rest, stop] = this.parseList();
      if (stop !== 'end') this.fail(stop === undefined ? 'unexpected EOF' : `expected end; found {{else}}`);
      elseList = rest;
    }
    return { kind, pipe, list, elseList, offset, source: kind };
  }

  private peek(): Token {
    return this.tokens[this.t] as Token;
  }

  private next(): Token {
    return this.tokens[this.t++] as Token;
  }

  private skipSpace(): void {
    while (this.peek().kind === 'space') this.t++;
  }

  private expectEnd(what: string): void {
    this.skipSpace();
    if (this.peek().kind !== 'eof') this.fail(`unexpected ${JSON.stringify(this.peek().text)} in ${what}`);
  }

  /** pipeline := [decl] command ('|' command)*, up to the end of the action (or a ')' when nested). */
  private parsePipeline(context: string, nested = false): Pipeline {
    this.skipSpace();
    const startTok = this.peek();
    const pipe: Pipeline = { decl: [], assign: false, cmds: [], offset: startTok.offset, source: '' };
    // Declarations: $x :=  |  $i, $e :=  |  $x =
    const save = this.t;
    if (this.peek().kind === 'var') {
      const v1 = this.next().text;
      this.skipSpace();
      if (this.peek().kind === 'declare' || this.peek().kind === 'assign') {
        pipe.assign = this.next().kind === 'assign';
        pipe.decl.push(v1);
      } else if (this.peek().kind === 'comma' && context === 'range') {
        this.next();
        this.skipSpace();
        const v2 = this.next();
        if (v2.kind !== 'var') this.fail('range can only initialize variables');
        this.skipSpace();
        const op = this.next();
        if (op.kind !== 'declare' && op.kind !== 'assign') this.fail('expected := or = after range variables');
        pipe.assign = op.kind === 'assign';
        pipe.decl.push(v1, v2.text);
      } else {
        this.t = save;
      }
    }
    for (;;) {
      this.skipSpace();
      const cmd = this.parseCommand(nested);
      pipe.cmds.push(cmd);
      this.skipSpace();
      const tok = this.peek();
      if (tok.kind === 'pipe') {
        this.next();
        continue;
      }
      if (tok.kind === 'eof' && !nested) break;
      if (tok.kind === 'rparen' && nested) break;
      if (tok.kind === 'eof') this.fail('unclosed left paren');
      this.fail(`unexpected ${JSON.stringify(tok.text)} in ${context === 'command' ? 'operand' : context}`);
    }
    if (pipe.cmds.length === 0 || pipe.cmds.some((c) => c.args.length === 0)) this.fail(`missing value for ${context}`);
    pipe.source = pipe.cmds.map((c) => c.source).join(' | ');
    return pipe;
  }

  private parseCommand(nested: boolean): Command {
    const args: Arg[] = [];
    const start = this.peek().offset;
    for (;;) {
      this.skipSpace();
      const tok = this.peek();
      if (tok.kind === 'eof' || tok.kind === 'pipe' || (tok.kind === 'rparen' && nested)) break;
      if (args.length > 0 && this.tokens[this.t - 1]?.kind !== 'space') {
        this.fail(`unexpected ${JSON.stringify(tok.text)} in operand`);
      }
      args.push(this.parseOperand());
    }
    if (args.length === 0) this.fail('missing value for command');
    return { args, offset: start, source: args.map((a) => a.source).join(' ') };
  }

  private parseChain(): string[] {
    const chain: string[] = [];
    while (this.peek().kind === 'field') chain.push(this.next().text.slice(1));
    return chain;
  }

  private parseOperand(): Arg {
    const tok = this.next();
    const at = { offset: tok.offset, source: tok.text };
    switch (tok.kind) {
      case 'field': {
        const chain = [tok.text.slice(1), ...this.parseChain()];
        return { kind: 'field', chain, offset: tok.offset, source: '.' + chain.join('.') };
      }
      case 'dot':
        return { kind: 'dot', ...at };
      case 'var': {
        const chain = this.parseChain();
        return { kind: 'var', name: tok.text, chain, offset: tok.offset, source: [tok.text, ...chain].join('.') };
      }
      case 'string':
        return { kind: 'string', value: unquote(tok.text, (m) => this.fail(m)), ...at };
      case 'char': {
        const value = unquote(`"${tok.text.slice(1, -1)}"`, (m) => this.fail(m)).codePointAt(0) ?? 0;
        return { kind: 'number', value, ...at };
      }
      case 'number': {
        const text = tok.text.replace(/_/g, '');
        const value = /^[+-]?0[xX]/.test(text) ? parseInt(text, 16) : /^[+-]?0[oO]/.test(text) ? parseInt(text.replace(/0[oO]/, ''), 8) : Number(text);
        if (Number.isNaN(value)) this.fail(`bad number syntax: "${tok.text}"`);
        return { kind: 'number', value, ...at };
      }
      case 'ident':
        if (tok.text === 'true' || tok.text === 'false') return { kind: 'bool', value: tok.text === 'true', ...at };
        if (tok.text === 'nil') return { kind: 'nil', ...at };
        if (!this.isFunction(tok.text)) this.fail(`function ${JSON.stringify(tok.text)} not defined`, tok.offset);
        return { kind: 'ident', name: tok.text, ...at };
      case 'lparen': {
        const pipe = this.parsePipeline('parenthesized pipeline', true);
        const close = this.next();
        if (close.kind !== 'rparen') this.fail('unclosed left paren');
        const chain = this.parseChain();
        return { kind: 'pipe', pipe, chain, offset: tok.offset, source: `(${pipe.source})${chain.map((c) => '.' + c).join('')}` };
      }
      default:
        this.fail(`unexpected ${JSON.stringify(tok.text)} in operand`);
    }
  }
}
