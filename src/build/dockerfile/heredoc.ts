// Here-document markers (`<<EOF`, `<<-EOF`, `3<<"EOF"`) in RUN, COPY and ADD lines, with
// BuildKit's rules (parser/parser.go): the delimiter is lexed like a shell word and any
// quoting in it turns off expansion of the body.
import { invalidArgument } from '../../util/errors.js';
import { lexWord } from './shell-lex.js';

export interface HeredocMarker {
  name: string;
  fd: number;
  chomp: boolean;
  expand: boolean;
}

const MARKER = /^(\d*)<<(-?)[\t\n\f\r ]*([^<]*)$/;
const unset = (): undefined => undefined;

/** The marker a single word denotes, or undefined when it is not one. Throws on bad quoting. */
export function parseHeredocMarker(word: string): HeredocMarker | undefined {
  const m = MARKER.exec(word);
  const rest = m?.[3];
  if (!m || !rest) return undefined;
  const words = lexWord(rest, unset, { escape: '\\', skipUnsetEnv: true }).words;
  if (words.length !== 1) return undefined;
  const raw = lexWord(rest, unset, { escape: '\\', skipUnsetEnv: true, rawQuotes: true }).words;
  if (raw.length !== 1) throw invalidArgument(`internal lexing of heredoc produced inconsistent results: ${rest}`);
  const name = words[0] as string;
  return { name, fd: Number(m[1] || '0'), chomp: m[2] === '-', expand: quoteCount(name) === quoteCount(raw[0] as string) };
}

/** Like parseHeredocMarker, but a malformed marker is simply not a marker. */
export function heredocMarkerOrUndefined(word: string): HeredocMarker | undefined {
  try {
    return parseHeredocMarker(word);
  } catch {
    return undefined;
  }
}

function quoteCount(s: string): number {
  let n = 0;
  for (const ch of s) if (ch === "'" || ch === '"') n++;
  return n;
}

/** Every marker on a logical line, in order. A line that does not lex has none. */
export function heredocMarkersInLine(line: string): HeredocMarker[] {
  let words: string[];
  try {
    words = lexWord(line, unset, { escape: '\\', rawQuotes: true, rawEscapes: true, skipUnsetEnv: true }).words;
  } catch {
    return [];
  }
  const markers: HeredocMarker[] = [];
  for (const word of words) {
    const marker = parseHeredocMarker(word);
    if (marker) markers.push(marker);
  }
  return markers;
}

/** `<<-` bodies lose the leading tabs of every line. */
export function chompHeredoc(content: string): string {
  return content.replace(/^\t+/gm, '');
}
