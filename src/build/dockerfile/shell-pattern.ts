// Shell wildcard patterns for ${VAR#pat}, ${VAR%pat} and ${VAR/pat/repl}, as BuildKit's
// shell lexer implements them: `*` and `?` only (no bracket expressions), `\` escapes.

export class PatternError extends Error {}

const REGEX_SPECIAL = new Set(['[', ']', '{', '}', '.', '+', '(', ')', '|', '^', '$']);

/** Converts a shell pattern to a RegExp; `*` is longest-match when greedy, shortest otherwise. */
export function shellPatternToRegex(pattern: string, greedy: boolean, anchored: boolean, flags = 'u'): RegExp {
  const chars = Array.from(pattern);
  let out = anchored ? '^' : '';
  for (let i = 0; i < chars.length; i++) {
    const tok = chars[i] as string;
    if (tok === '*') out += greedy ? '.*' : '.*?';
    else if (tok === '?') out += '.';
    else if (tok === '\\') {
      const next = chars[i + 1];
      // `\}` and `\/` only protect the ${} syntax; the escape is not part of the pattern.
      if (next === '}' || next === '/') continue;
      if (next !== '*' && next !== '?' && next !== '\\') throw new PatternError(`invalid escape '\\${next ?? ''}'`);
      out += '\\' + next;
      i++;
    } else out += REGEX_SPECIAL.has(tok) ? '\\' + tok : tok;
  }
  return new RegExp(out, flags);
}

/** ${VAR#pat} / ${VAR##pat}: removes the shortest / longest matching prefix. */
export function trimPrefix(pattern: string, value: string, greedy: boolean): string {
  const m = shellPatternToRegex(pattern, greedy, true).exec(value);
  return m ? value.slice(m[0].length) : value;
}

/** ${VAR%pat} / ${VAR%%pat}: a suffix match is a prefix match on the reversed strings. */
export function trimSuffix(pattern: string, value: string, greedy: boolean): string {
  return reverseString(trimPrefix(reversePattern(pattern), reverseString(value), greedy));
}

/** ${VAR/pat/repl} and ${VAR//pat/repl}; the replacement is literal. */
export function replacePattern(pattern: string, value: string, replacement: string, all: boolean): string {
  const re = shellPatternToRegex(pattern, true, false, all ? 'gu' : 'u');
  return value.replace(re, () => replacement);
}

export function reverseString(s: string): string {
  return Array.from(s).reverse().join('');
}

/** Reverses a pattern while keeping each escape in front of the character it escapes. */
export function reversePattern(pattern: string): string {
  const chars = Array.from(pattern);
  const out: string[] = new Array<string>(chars.length);
  const last = chars.length - 1;
  for (let i = 0; i <= last; ) {
    const tok = chars[i] as string;
    if (tok === '\\' && i !== last) {
      out[last - i - 1] = tok;
      out[last - i] = chars[i + 1] as string;
      i += 2;
    } else {
      out[last - i] = tok;
      i++;
    }
  }
  return out.join('');
}
