// Help text in docker's layout (docker/cli cli/cobra.go usageTemplate) with the options
// block rendered as pflag's FlagUsagesWrapped does: sorted by name, the usage column aligned,
// wrapped to the terminal width - 1 (80 columns when not a terminal).
import type { CommandDef, FlagSpec } from './command.js';

/** "Usage:  berth run [OPTIONS] …" with the command path as the user typed it. */
export function usageLine(def: CommandDef, path: string): string {
  const usage = def.usage.replace(/^docker /, 'berth ');
  const names = [def.name, ...(def.aliases ?? [])].sort((a, b) => b.length - a.length);
  for (const n of names) {
    const prefix = `berth ${n}`;
    if (usage === prefix || usage.startsWith(`${prefix} `)) return `${path}${usage.slice(prefix.length)}`;
  }
  return usage;
}

export function commandHelp(def: CommandDef, path: string, spellings: string[], width: number): string {
  let out = `\nUsage:  ${usageLine(def, path)}\n\n${def.summary}\n`;
  if (spellings.length > 1) out += `\nAliases:\n  ${spellings.join(', ')}\n`;
  const visible = def.flags.filter((f) => !f.hidden);
  if (visible.length > 0) out += `\nOptions:\n${flagUsages(visible, width - 1).trimEnd()}\n`;
  return out;
}

/** The value placeholder pflag prints after a flag ("string", "list", "bytes", …). */
function valueName(f: FlagSpec): string {
  if (f.valueName !== undefined) return f.valueName;
  switch (f.type) {
    case 'bool':
      return '';
    case 'map':
      return 'map';
    default:
      return f.type;
  }
}

function defaultSuffix(f: FlagSpec): string {
  const d = f.default;
  if (d === undefined || d === '' || d === false || d === 0) return '';
  if (f.type === 'list' || f.type === 'map') return '';
  if (f.type === 'string') return ` (default ${JSON.stringify(d)})`;
  return ` (default ${String(d)})`;
}

/** pflag's FlagUsagesWrapped(cols). */
export function flagUsages(flags: readonly FlagSpec[], cols: number): string {
  const sorted = [...flags].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const lines: Array<[string, string]> = [];
  let maxlen = 0;
  for (const f of sorted) {
    let head = f.short ? `  -${f.short}, --${f.name}` : `      --${f.name}`;
    const v = valueName(f);
    if (v) head += ` ${v}`;
    maxlen = Math.max(maxlen, head.length + 1); // pflag counts the separator it appends
    lines.push([head, f.usage + defaultSuffix(f)]);
  }
  let out = '';
  for (const [head, usage] of lines) {
    out += `${head} ${' '.repeat(maxlen - head.length)} ${wrap(maxlen + 2, cols, usage)}\n`;
  }
  return out;
}

function wrapN(i: number, slop: number, s: string): [string, string] {
  if (i + slop > s.length) return [s, ''];
  const head = s.slice(0, i);
  const w = Math.max(head.lastIndexOf(' '), head.lastIndexOf('\t'), head.lastIndexOf('\n'));
  if (w <= 0) return [s, ''];
  const nl = head.lastIndexOf('\n');
  if (nl > 0 && nl < w) return [s.slice(0, nl), s.slice(nl + 1)];
  return [s.slice(0, w), s.slice(w + 1)];
}

/** pflag's wrap(i, w, s): the first line is indented by the caller. */
function wrap(indent: number, width: number, s: string): string {
  if (width <= 0) return s.replaceAll('\n', `\n${' '.repeat(indent)}`);
  let i = indent;
  let room = width - i;
  let r = '';
  if (room < 24) {
    i = 16;
    room = width - i;
    r += `\n${' '.repeat(i)}`;
  }
  if (room < 24) return s.replaceAll('\n', r);
  const slop = 5;
  room -= slop;
  let [line, rest] = wrapN(room, slop, s);
  r += line.replaceAll('\n', `\n${' '.repeat(i)}`);
  while (rest !== '') {
    [line, rest] = wrapN(room, slop, rest);
    r += `\n${' '.repeat(i)}${line.replaceAll('\n', `\n${' '.repeat(i)}`)}`;
  }
  return r;
}

export function terminalWidth(stream: NodeJS.WriteStream): number {
  return stream.isTTY && stream.columns ? stream.columns : 80;
}
