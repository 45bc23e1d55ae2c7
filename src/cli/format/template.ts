// A Go text/template subset, executed the way docker's --format executes it (docker/cli
// templates/templates.go): Go's printing of values (`map[a:b]`, `[x y]`, `<no value>`),
// Go's truthiness, the builtins (and or not len index slice eq ne lt le gt ge print printf
// println html js urlquery) and docker's functions (json split join title lower upper pad
// truncate). Data are JS values: plain objects behave as Go maps, instances of
// FormatContext as docker's formatter contexts (methods called as fields, unknown fields an
// error, `{{json .}}` marshalling every exported zero-argument method, as formatter.MarshalJSON).
import { Parser, TemplateParseError, type Arg, type Command, type Node, type Pipeline } from './template-parse.js';
import { formatF, formatG } from '../../util/numbers.js';
import { goQuote } from '../../util/units.js';

export { TemplateParseError };

/** The value Go's text/template prints as "<no value>" (a missing map key). */
export const NO_VALUE: unique symbol = Symbol('no value');

/** Marks an object that is a Go map with methods (docker's SubHeaderContext): unknown keys are "<no value>". */
export const GO_MAP: unique symbol = Symbol('go map');

/** Base of docker's formatter contexts: Go methods are its capitalised methods. */
export abstract class FormatContext {
  /** The Go type named in errors, e.g. "*formatter.ContainerContext". */
  abstract readonly goType: string;
  /** Methods `{{json .}}` includes (docker: every exported method without arguments). */
  protected abstract jsonFields(): string[];

  toJSON(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const name of [...this.jsonFields()].sort()) {
      const member = (this as unknown as Record<string, unknown>)[name];
      out[name] = typeof member === 'function' ? (member as () => unknown).call(this) : member;
    }
    return out;
  }
}

/**
 * A Go struct built from plain fields: its exported fields are its own capitalised
 * properties, and an unknown field is an error (not "<no value>" as for a map).
 */
export class GoStruct {
  declare readonly goType: string;

  constructor(fields: Record<string, unknown>, goType: string) {
    Object.assign(this, fields);
    Object.defineProperty(this, 'goType', { value: goType, enumerable: false });
  }
}

export class TemplateExecError extends Error {
  constructor(message: string, readonly partial: string) {
    super(message);
  }
}

type ParamType = 'any' | 'string' | 'int' | 'strings';

export interface TemplateFunc {
  params: ParamType[];
  /** Type of the extra arguments, for variadic functions. */
  variadic?: ParamType;
  fn: (...args: unknown[]) => unknown;
}

export type FuncMap = Record<string, TemplateFunc>;

class ExecFailure extends Error {}

// ---------------------------------------------------------------- values

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function isMapLike(v: unknown): v is Record<string, unknown> {
  return isPlainObject(v) || (typeof v === 'object' && v !== null && (v as Record<symbol, unknown>)[GO_MAP] === true);
}

/**
 * A JSON object that stands for a Go struct (every key an exported Go name), so it prints
 * as `{v1 v2}` in field order and marshals in field order; other objects are maps.
 */
function isStructLike(v: Record<string, unknown>): boolean {
  const keys = Object.keys(v);
  return keys.length > 0 && keys.every((k) => /^[A-Z][A-Za-z0-9_]*$/.test(k));
}

function goTypeName(v: unknown): string {
  if (v === NO_VALUE || v === undefined) return 'invalid';
  if (v === null) return 'nil';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float64';
  if (Array.isArray(v)) return v.every((x) => typeof x === 'string') && v.length > 0 ? '[]string' : '[]interface {}';
  const named = (v as { goType?: unknown }).goType;
  if (typeof named === 'string') return named;
  if (isPlainObject(v)) return 'map[string]interface {}';
  return 'interface {}';
}

function formatNumber(n: number): string {
  if (Number.isInteger(n)) return Math.abs(n) >= 1e21 ? BigInt(n).toString() : String(n);
  return String(n).replace(/e([+-])(\d)$/, 'e$10$2');
}

/** Go's fmt %v. */
export function printValue(v: unknown): string {
  if (v === NO_VALUE || v === undefined) return '<no value>';
  if (v === null) return '<nil>';
  switch (typeof v) {
    case 'string':
      return v;
    case 'number':
      return formatNumber(v);
    case 'boolean':
    case 'bigint':
      return String(v);
  }
  if (Array.isArray(v)) return `[${v.map(printValue).join(' ')}]`;
  if (v instanceof FormatContext) return `{${Object.values(v.toJSON()).map(printValue).join(' ')}}`;
  if (v instanceof GoStruct) return `{${Object.values(v).map(printValue).join(' ')}}`;
  if (isMapLike(v)) {
    if (isStructLike(v) && !(v as Record<symbol, unknown>)[GO_MAP]) return `{${Object.values(v).map(printValue).join(' ')}}`;
    const keys = Object.keys(v).sort();
    return `map[${keys.map((k) => `${k}:${printValue(v[k])}`).join(' ')}]`;
  }
  return String(v);
}

const escapeHtml = (json: string): string => json.replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026');

/** `ordered`: the object came from a toJSON (a struct's own marshalling): keep its key order. */
function encodeJSON(v: unknown, indent: string, depth: number, ordered = false): string {
  if (v === NO_VALUE || v === undefined || v === null || typeof v === 'function') return 'null';
  // docker's contexts marshal themselves with json.Marshal, which escapes <, > and &.
  if (v instanceof FormatContext) return escapeHtml(encodeJSON(v.toJSON(), indent, depth, true));
  if (typeof v === 'object' && typeof (v as { toJSON?: unknown }).toJSON === 'function' && !(v instanceof Date)) {
    return encodeJSON((v as { toJSON: () => unknown }).toJSON(), indent, depth, true);
  }
  const nl = indent ? '\n' + indent.repeat(depth + 1) : '';
  const close = indent ? '\n' + indent.repeat(depth) : '';
  if (Array.isArray(v)) {
    if (v.length === 0) return '[]';
    return `[${nl}${v.map((x) => encodeJSON(x, indent, depth + 1)).join(',' + nl)}${close}]`;
  }
  if (typeof v === 'object' && !(v instanceof Date)) {
    const obj = v as Record<string, unknown>;
    let keys = Object.keys(obj).filter((k) => obj[k] !== undefined && typeof obj[k] !== 'function');
    if (!ordered && isPlainObject(obj) && !isStructLike(obj)) keys = keys.sort();
    if (keys.length === 0) return '{}';
    const sep = indent ? ': ' : ':';
    return `{${nl}${keys.map((k) => JSON.stringify(k) + sep + encodeJSON(obj[k], indent, depth + 1)).join(',' + nl)}${close}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

/** Go's encoding/json with SetEscapeHTML(false), as docker's `json` template function. */
export function goJSON(v: unknown, indent = ''): string {
  return encodeJSON(v, indent, 0).replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

/** Go's text/template truth: false, 0, nil, and empty strings, slices and maps are false. */
export function isTrue(v: unknown): boolean {
  if (v === NO_VALUE || v === undefined || v === null) return false;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'string') return v.length > 0;
  if (Array.isArray(v)) return v.length > 0;
  if (isMapLike(v) && !isStructLike(v)) return Object.keys(v).length > 0;
  return true;
}

// ---------------------------------------------------------------- printf

/** Go's fmt.Sprintf for the verbs format strings use: v s d q f g e x X t c %, flags - + # 0 space, width, precision. */
export function goSprintf(format: string, args: unknown[]): string {
  let out = '';
  let argIndex = 0;
  for (let i = 0; i < format.length; i++) {
    const ch = format[i] as string;
    if (ch !== '%') {
      out += ch;
      continue;
    }
    let flags = '';
    while (i + 1 < format.length && '-+# 0'.includes(format[i + 1] as string)) flags += format[++i];
    let width = '';
    while (/[0-9]/.test(format[i + 1] ?? '')) width += format[++i];
    let precision: number | undefined;
    if (format[i + 1] === '.') {
      i++;
      let p = '';
      while (/[0-9]/.test(format[i + 1] ?? '')) p += format[++i];
      precision = p === '' ? 0 : Number(p);
    }
    const verb = format[++i];
    if (verb === undefined) {
      out += '%!(NOVERB)';
      break;
    }
    if (verb === '%') {
      out += '%';
      continue;
    }
    if (argIndex >= args.length) {
      out += `%!${verb}(MISSING)`;
      continue;
    }
    const arg = args[argIndex++];
    out += pad(formatVerb(verb, arg, flags, precision), Number(width || 0), flags, typeof arg === 'number');
  }
  if (argIndex < args.length) {
    out += `%!(EXTRA ${args.slice(argIndex).map((a) => `${goTypeName(a)}=${printValue(a)}`).join(', ')})`;
  }
  return out;
}

function pad(text: string, width: number, flags: string, numeric: boolean): string {
  const len = Array.from(text).length;
  if (len >= width) return text;
  if (flags.includes('-')) return text + ' '.repeat(width - len);
  if (flags.includes('0') && numeric) {
    const sign = /^[+-]/.test(text) ? (text[0] as string) : '';
    return sign + '0'.repeat(width - len) + text.slice(sign.length);
  }
  return ' '.repeat(width - len) + text;
}

function formatVerb(verb: string, arg: unknown, flags: string, precision: number | undefined): string {
  const bad = (): string => `%!${verb}(${goTypeName(arg)}=${printValue(arg)})`;
  const signed = (text: string, n: number): string => (n >= 0 && flags.includes('+') ? '+' + text : n >= 0 && flags.includes(' ') ? ' ' + text : text);
  switch (verb) {
    case 'v':
      return typeof arg === 'string' && flags.includes('#') ? goQuote(arg) : printValue(arg);
    case 's':
      if (typeof arg === 'string') return precision === undefined ? arg : Array.from(arg).slice(0, precision).join('');
      if (Array.isArray(arg) && arg.every((x) => typeof x === 'string')) return printValue(arg);
      if (arg instanceof Error) return arg.message;
      return bad();
    case 'q':
      if (typeof arg === 'string') return goQuote(arg);
      if (typeof arg === 'number' && Number.isInteger(arg)) return `'${String.fromCodePoint(arg)}'`;
      return bad();
    case 'd':
      if (typeof arg === 'number' && Number.isInteger(arg)) return signed(formatNumber(arg), arg);
      return bad();
    case 'f':
    case 'F':
      if (typeof arg === 'number') return signed(formatF(arg, precision ?? 6), arg);
      return bad();
    case 'g':
      if (typeof arg === 'number') return signed(precision === undefined ? formatNumber(arg) : formatG(arg, precision), arg);
      return bad();
    case 'e': {
      if (typeof arg !== 'number') return bad();
      const [mantissa, exp] = arg.toExponential(precision ?? 6).split('e') as [string, string];
      const expNum = Number(exp);
      return signed(`${mantissa}e${expNum < 0 ? '-' : '+'}${String(Math.abs(expNum)).padStart(2, '0')}`, arg);
    }
    case 'x':
    case 'X': {
      let hex: string;
      if (typeof arg === 'number' && Number.isInteger(arg)) hex = arg.toString(16);
      else if (typeof arg === 'string') hex = Buffer.from(arg).toString('hex');
      else return bad();
      return verb === 'X' ? hex.toUpperCase() : hex;
    }
    case 't':
      return typeof arg === 'boolean' ? String(arg) : bad();
    case 'c':
      return typeof arg === 'number' ? String.fromCodePoint(arg) : bad();
    default:
      return `%!${verb}(${goTypeName(arg)}=${printValue(arg)})`;
  }
}

/** Go's fmt.Sprint: a space between operands when neither is a string. */
function sprint(args: unknown[]): string {
  let out = '';
  args.forEach((a, i) => {
    if (i > 0 && typeof a !== 'string' && typeof args[i - 1] !== 'string') out += ' ';
    out += printValue(a);
  });
  return out;
}

// ---------------------------------------------------------------- functions

function compareBasic(a: unknown, b: unknown, op: string): boolean {
  const na = a === NO_VALUE ? undefined : a;
  const nb = b === NO_VALUE ? undefined : b;
  if (op === 'eq' || op === 'ne') {
    let equal: boolean;
    if (na == null || nb == null) equal = na == null && nb == null;
    else if (typeof na !== typeof nb) throw new ExecFailure('incompatible types for comparison');
    else equal = na === nb;
    return op === 'eq' ? equal : !equal;
  }
  if (!((typeof na === 'number' && typeof nb === 'number') || (typeof na === 'string' && typeof nb === 'string'))) {
    throw new ExecFailure(typeof na !== typeof nb ? 'incompatible types for comparison' : 'invalid type for comparison');
  }
  switch (op) {
    case 'lt': return na < nb;
    case 'le': return na <= nb;
    case 'gt': return na > nb;
    default: return na >= nb;
  }
}

function indexInto(item: unknown, key: unknown): unknown {
  if (item === null || item === undefined || item === NO_VALUE) throw new ExecFailure('index of untyped nil');
  if (Array.isArray(item) || typeof item === 'string') {
    if (typeof key !== 'number' || !Number.isInteger(key)) throw new ExecFailure(`cannot index slice/array with type ${goTypeName(key)}`);
    if (key < 0 || key >= item.length) throw new ExecFailure(`error calling index: index out of range: ${key}`);
    return typeof item === 'string' ? item.charCodeAt(key) : item[key];
  }
  if (isMapLike(item)) {
    if (Object.prototype.hasOwnProperty.call(item, String(key))) return item[String(key)];
    // A missing key gives the element type's zero value: "" for string maps like Labels.
    const values = Object.values(item);
    return values.every((x) => typeof x === 'string') ? '' : NO_VALUE;
  }
  throw new ExecFailure(`can't index item of type ${goTypeName(item)}`);
}

const fn = (params: ParamType[], f: (...args: never[]) => unknown, variadic?: ParamType): TemplateFunc => ({
  params,
  fn: f as (...args: unknown[]) => unknown,
  ...(variadic ? { variadic } : {}),
});

/** Go's builtins (and/or are evaluated lazily by the executor). */
const BUILTINS: FuncMap = {
  not: fn(['any'], (a: unknown) => !isTrue(a)),
  len: fn(['any'], (a: unknown) => {
    if (typeof a === 'string') return Buffer.byteLength(a);
    if (Array.isArray(a)) return a.length;
    if (isMapLike(a)) return Object.keys(a).length;
    throw new ExecFailure(`error calling len: len of type ${goTypeName(a)}`);
  }),
  index: fn(['any'], (item: unknown, ...keys: unknown[]) => keys.reduce((acc, k) => indexInto(acc, k), item), 'any'),
  slice: fn(['any'], (item: unknown, ...idx: unknown[]) => {
    if (typeof item !== 'string' && !Array.isArray(item)) throw new ExecFailure(`error calling slice: can't slice item of type ${goTypeName(item)}`);
    const [from = 0, to = item.length] = idx as number[];
    if (from < 0 || to > item.length || from > to) throw new ExecFailure(`error calling slice: index out of range: ${to}`);
    return item.slice(from, to);
  }, 'int'),
  print: fn([], (...args: unknown[]) => sprint(args), 'any'),
  printf: fn(['string'], (format: string, ...args: unknown[]) => goSprintf(format, args), 'any'),
  println: fn([], (...args: unknown[]) => args.map(printValue).join(' ') + '\n', 'any'),
  eq: fn(['any'], (a: unknown, ...rest: unknown[]) => {
    if (rest.length === 0) throw new ExecFailure('missing argument for comparison');
    return rest.some((b) => compareBasic(a, b, 'eq'));
  }, 'any'),
  ne: fn(['any', 'any'], (a: unknown, b: unknown) => compareBasic(a, b, 'ne')),
  lt: fn(['any', 'any'], (a: unknown, b: unknown) => compareBasic(a, b, 'lt')),
  le: fn(['any', 'any'], (a: unknown, b: unknown) => compareBasic(a, b, 'le')),
  gt: fn(['any', 'any'], (a: unknown, b: unknown) => compareBasic(a, b, 'gt')),
  ge: fn(['any', 'any'], (a: unknown, b: unknown) => compareBasic(a, b, 'ge')),
  html: fn([], (...args: unknown[]) =>
    sprint(args).replace(/[&'<>"\0]/g, (c) => ({ '&': '&amp;', "'": '&#39;', '<': '&lt;', '>': '&gt;', '"': '&#34;', '\0': '\uFFFD' })[c] as string), 'any'),
  js: fn([], (...args: unknown[]) =>
    sprint(args).replace(/[\\'"<>&=\n\r\t]/g, (c) => ({ '\\': '\\\\', "'": "\\'", '"': '\\"', '<': '\\u003C', '>': '\\u003E', '&': '\\u0026', '=': '\\u003D', '\n': '\\n', '\r': '\\r', '\t': '\\t' })[c] as string), 'any'),
  urlquery: fn([], (...args: unknown[]) => encodeURIComponent(sprint(args)).replace(/%20/g, '+').replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase()), 'any'),
  and: fn(['any'], () => undefined, 'any'),
  or: fn(['any'], () => undefined, 'any'),
};

/** Go's strings.Title: upper-case the first letter of every word. */
function goTitle(s: string): string {
  return s.replace(/(^|[^\p{L}\p{N}_'])(\p{L})/gu, (_m, sep: string, letter: string) => sep + letter.toUpperCase());
}

/** docker/cli templates.basicFunctions. */
export const DOCKER_FUNCS: FuncMap = {
  json: fn(['any'], (v: unknown) => goJSON(v)),
  split: fn(['string', 'string'], (s: string, sep: string) => (sep === '' ? Array.from(s) : s.split(sep))),
  join: fn(['strings', 'string'], (items: string[], sep: string) => items.join(sep)),
  title: fn(['string'], goTitle),
  lower: fn(['string'], (s: string) => s.toLowerCase()),
  upper: fn(['string'], (s: string) => s.toUpperCase()),
  pad: fn(['string', 'int', 'int'], (s: string, prefix: number, suffix: number) => (s === '' ? s : ' '.repeat(prefix) + s + ' '.repeat(suffix))),
  truncate: fn(['string', 'int'], (s: string, length: number) => {
    const bytes = Buffer.from(s);
    return bytes.length < length ? s : bytes.subarray(0, length).toString();
  }),
};

/** docker/cli templates.HeaderFunctions: the table header keeps column names intact. */
export const HEADER_FUNCS: FuncMap = {
  json: fn(['string'], (v: string) => v),
  split: fn(['string', 'string'], (v: string) => v),
  join: fn(['string', 'string'], (v: string) => v),
  title: fn(['string'], (v: string) => v),
  lower: fn(['string'], (v: string) => v),
  upper: fn(['string'], (v: string) => v),
  truncate: fn(['string', 'int'], (v: string) => v),
};

// ---------------------------------------------------------------- execution

class BreakSignal {}
class ContinueSignal {}

interface Variable {
  name: string;
  value: unknown;
}

export interface TemplateOptions {
  /** The template's name in error messages (docker's are ""). */
  name?: string;
  /** Functions added to (or replacing) docker's. */
  funcs?: FuncMap;
  /** Go's Option("missingkey=error"): a missing map key is an error instead of "<no value>". */
  missingKeyError?: boolean;
}

export class Template {
  private readonly nodes: Node[];
  private readonly name: string;

  private constructor(
    private readonly src: string,
    private readonly funcs: FuncMap,
    private readonly options: TemplateOptions,
  ) {
    this.name = options.name ?? '';
    this.nodes = new Parser(src, this.name, (n) => n in this.funcs).parse();
  }

  /** Parse `src` with Go's builtins and docker's functions; throws TemplateParseError ("template: :1: …"). */
  static parse(src: string, options: TemplateOptions = {}): Template {
    return new Template(src, { ...BUILTINS, ...DOCKER_FUNCS, ...(options.funcs ?? {}) }, options);
  }

  /** The same template with some functions replaced (docker's HeaderFunctions for table headers). */
  withFuncs(funcs: FuncMap, options: Partial<TemplateOptions> = {}): Template {
    return new Template(this.src, { ...this.funcs, ...funcs }, { ...this.options, ...options });
  }

  /** Execute on `data`; throws TemplateExecError (with the output written so far) on failure. */
  execute(data: unknown): string {
    const state = new ExecState(this.src, this.name, this.funcs, this.options.missingKeyError ?? false);
    try {
      state.walkList(this.nodes, data, [{ name: '$', value: data }]);
    } catch (err) {
      if (err instanceof TemplateExecError) throw new TemplateExecError(err.message, state.out);
      throw err;
    }
    return state.out;
  }
}

class ExecState {
  out = '';

  constructor(
    private readonly src: string,
    private readonly name: string,
    private readonly funcs: FuncMap,
    private readonly missingKeyError: boolean,
  ) {}

  private fail(node: { offset: number; source: string }, msg: string): never {
    const before = this.src.slice(0, node.offset);
    const nl = before.lastIndexOf('\n');
    const line = 1 + (before.match(/\n/g)?.length ?? 0);
    const col = nl < 0 ? node.offset : node.offset - (nl + 1);
    throw new TemplateExecError(`template: ${this.name}:${line}:${col}: executing "${this.name}" at <${node.source}>: ${msg}`, '');
  }

  /** Run `f`, turning a plain ExecFailure into a positioned error at `node`. */
  private at<T>(node: { offset: number; source: string }, f: () => T): T {
    try {
      return f();
    } catch (err) {
      if (err instanceof ExecFailure) this.fail(node, err.message);
      throw err;
    }
  }

  walkList(nodes: Node[], dot: unknown, vars: Variable[]): void {
    const mark = vars.length;
    for (const node of nodes) this.walk(node, dot, vars);
    vars.length = mark;
  }

  private walk(node: Node, dot: unknown, vars: Variable[]): void {
    switch (node.kind) {
      case 'text':
        this.out += node.text;
        return;
      case 'action': {
        const value = this.evalPipeline(node.pipe, dot, vars);
        if (node.pipe.decl.length === 0) this.out += printValue(value);
        return;
      }
      case 'if':
      case 'with': {
        // Variables declared in the condition are visible in both branches, not after.
        const scope = [...vars];
        const value = this.evalPipeline(node.pipe, dot, scope);
        if (isTrue(value)) this.walkList(node.list, node.kind === 'with' ? value : dot, scope);
        else if (node.elseList) this.walkList(node.elseList, dot, scope);
        return;
      }
      case 'range':
        this.walkRange(node, dot, vars);
        return;
      case 'break':
        throw new BreakSignal();
      case 'continue':
        throw new ContinueSignal();
    }
  }

  private walkRange(node: Extract<Node, { kind: 'range' }>, dot: unknown, vars: Variable[]): void {
    const pipe: Pipeline = { ...node.pipe, decl: [] };
    const value = this.evalPipeline(pipe, dot, vars);
    let entries: [unknown, unknown][];
    if (Array.isArray(value)) entries = value.map((v, i) => [i, v]);
    else if (typeof value === 'number' && Number.isInteger(value)) entries = Array.from({ length: Math.max(0, value) }, (_, i) => [i, i]);
    else if (isMapLike(value)) entries = Object.keys(value).sort().map((k) => [k, value[k]]);
    else if (value === null || value === undefined || value === NO_VALUE) entries = [];
    else this.fail(node.pipe, `range can't iterate over ${printValue(value)}`);
    if (entries.length === 0) {
      if (node.elseList) this.walkList(node.elseList, dot, [...vars]);
      return;
    }
    for (const [key, elem] of entries) {
      const scope = [...vars];
      const decl = node.pipe.decl;
      if (decl.length === 1) this.setVar(scope, decl[0] as string, elem, node.pipe.assign);
      if (decl.length === 2) {
        this.setVar(scope, decl[0] as string, key, node.pipe.assign);
        this.setVar(scope, decl[1] as string, elem, node.pipe.assign);
      }
      try {
        this.walkList(node.list, elem, scope);
      } catch (signal) {
        if (signal instanceof BreakSignal) break;
        if (signal instanceof ContinueSignal) continue;
        throw signal;
      }
    }
  }

  private setVar(vars: Variable[], name: string, value: unknown, assign: boolean): void {
    if (assign) {
      for (let i = vars.length - 1; i >= 0; i--) {
        const v = vars[i] as Variable;
        if (v.name === name) {
          v.value = value;
          return;
        }
      }
    }
    vars.push({ name, value });
  }

  private evalPipeline(pipe: Pipeline, dot: unknown, vars: Variable[]): unknown {
    let value: unknown = NO_VALUE;
    let hasFinal = false;
    for (const cmd of pipe.cmds) {
      value = this.evalCommand(cmd, dot, vars, hasFinal ? [value] : []);
      hasFinal = true;
    }
    for (const name of pipe.decl) this.setVar(vars, name, value, pipe.assign);
    return value;
  }

  private evalCommand(cmd: Command, dot: unknown, vars: Variable[], final: unknown[]): unknown {
    const [first, ...rest] = cmd.args as [Arg, ...Arg[]];
    switch (first.kind) {
      case 'field':
        return this.evalChain(first, dot, first.chain, rest, dot, vars, final);
      case 'var':
        return this.evalChain(first, this.lookupVar(first, vars), first.chain, rest, dot, vars, final);
      case 'pipe': {
        const base = this.evalPipeline(first.pipe, dot, [...vars]);
        if (first.chain.length === 0) {
          this.noArgs(first, rest, final);
          return base;
        }
        return this.evalChain(first, base, first.chain, rest, dot, vars, final);
      }
      case 'ident':
        return this.evalFunction(first, rest, dot, vars, final);
      default:
        this.noArgs(first, rest, final);
        return this.evalArg(first, dot, vars);
    }
  }

  private noArgs(node: Arg, rest: Arg[], final: unknown[]): void {
    if (rest.length > 0 || final.length > 0) this.fail(node, `can't give argument to non-function ${node.source}`);
  }

  private lookupVar(node: { name: string } & Arg, vars: Variable[]): unknown {
    for (let i = vars.length - 1; i >= 0; i--) if ((vars[i] as Variable).name === node.name) return (vars[i] as Variable).value;
    this.fail(node, `undefined variable: ${node.name}`);
  }

  /** Walk `.A.B.C` from `base`; arguments (and the piped value) go to the last element, a method. */
  private evalChain(node: Arg, base: unknown, chain: string[], rest: Arg[], dot: unknown, vars: Variable[], final: unknown[]): unknown {
    let value = base;
    chain.forEach((name, i) => {
      const last = i === chain.length - 1;
      const args = last ? [...rest.map((a) => this.evalArg(a, dot, vars)), ...final] : [];
      value = this.field(node, value, name, args, last && (rest.length > 0 || final.length > 0));
    });
    return value;
  }

  private field(node: Arg, receiver: unknown, name: string, args: unknown[], hasArgs: boolean): unknown {
    if (receiver === null || receiver === undefined || receiver === NO_VALUE) {
      // A nil map (JSON null) yields its zero value; with missingkey=error Go fails as on a nil interface.
      if (!this.missingKeyError) return NO_VALUE;
      this.fail(node, `nil pointer evaluating ${goTypeName(receiver)}.${name}`);
    }
    if (typeof receiver === 'object') {
      const method = findMethod(receiver, name);
      if (method) return this.at(node, () => method.apply(receiver, args));
      if (isMapLike(receiver)) {
        if (hasArgs) this.fail(node, `${name} is not a method but has arguments`);
        if (Object.prototype.hasOwnProperty.call(receiver, name)) return receiver[name];
        if (this.missingKeyError) this.fail(node, `map has no entry for key "${name}"`);
        return NO_VALUE;
      }
      if (/^[A-Z]/.test(name) && Object.prototype.hasOwnProperty.call(receiver, name)) {
        if (hasArgs) this.fail(node, `${name} has arguments but cannot be invoked as function`);
        return (receiver as Record<string, unknown>)[name];
      }
      this.fail(node, `can't evaluate field ${name} in type ${goTypeName(receiver)}`);
    }
    this.fail(node, `can't evaluate field ${name} in type ${goTypeName(receiver)}`);
  }

  private evalFunction(node: Extract<Arg, { kind: 'ident' }>, rest: Arg[], dot: unknown, vars: Variable[], final: unknown[]): unknown {
    const name = node.name;
    if (name === 'and' || name === 'or') {
      const thunks: (() => unknown)[] = [...rest.map((a) => () => this.evalArg(a, dot, vars)), ...final.map((f) => () => f)];
      if (thunks.length === 0) this.fail(node, `wrong number of args for ${name}: want at least 1 got 0`);
      let value: unknown;
      for (const thunk of thunks) {
        value = thunk();
        if (isTrue(value) === (name === 'or')) return value;
      }
      return value;
    }
    const def = this.funcs[name] as TemplateFunc;
    const args = [...rest.map((a) => this.evalArg(a, dot, vars)), ...final];
    const want = def.params.length;
    if (def.variadic ? args.length < want : args.length !== want) {
      this.fail(node, `wrong number of args for ${name}: want ${def.variadic ? 'at least ' : ''}${want} got ${args.length}`);
    }
    args.forEach((a, i) => {
      const type = i < want ? (def.params[i] as ParamType) : (def.variadic as ParamType);
      const problem = checkType(a, type);
      if (problem) this.fail(i < rest.length ? (rest[i] as Arg) : node, problem);
    });
    return this.at(node, () => def.fn(...args));
  }

  private evalArg(arg: Arg, dot: unknown, vars: Variable[]): unknown {
    switch (arg.kind) {
      case 'dot':
        return dot;
      case 'nil':
        return null;
      case 'string':
      case 'number':
      case 'bool':
        return arg.value;
      case 'field':
        return this.evalChain(arg, dot, arg.chain, [], dot, vars, []);
      case 'var':
        return this.evalChain(arg, this.lookupVar(arg, vars), arg.chain, [], dot, vars, []);
      case 'pipe': {
        const base = this.evalPipeline(arg.pipe, dot, [...vars]);
        return arg.chain.length ? this.evalChain(arg, base, arg.chain, [], dot, vars, []) : base;
      }
      case 'ident':
        return this.evalFunction(arg, [], dot, vars, []);
    }
  }
}

function findMethod(receiver: object, name: string): ((...args: unknown[]) => unknown) | undefined {
  if (!/^[A-Z]/.test(name)) return undefined;
  let proto = Object.getPrototypeOf(receiver);
  while (proto && proto !== Object.prototype) {
    const desc = Object.getOwnPropertyDescriptor(proto, name);
    if (desc && typeof desc.value === 'function') return desc.value as (...args: unknown[]) => unknown;
    proto = Object.getPrototypeOf(proto);
  }
  return undefined;
}

function checkType(value: unknown, type: ParamType): string | undefined {
  const got = goTypeName(value);
  switch (type) {
    case 'any':
      return undefined;
    case 'string':
      if (typeof value === 'string') return undefined;
      return value === null || value === NO_VALUE ? 'invalid value; expected string' : `wrong type for value; expected string; got ${got}`;
    case 'int':
      if (typeof value === 'number' && Number.isInteger(value)) return undefined;
      return `wrong type for value; expected int; got ${got}`;
    case 'strings':
      if (Array.isArray(value) && value.every((x) => typeof x === 'string')) return undefined;
      return `wrong type for value; expected []string; got ${got}`;
  }
}
