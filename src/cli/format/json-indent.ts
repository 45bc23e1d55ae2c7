// Go's encoding/json Indent and Compact over raw JSON text: the daemon's bytes kept as they
// are (key order, number spelling, escapes), only whitespace changed — what `docker inspect`
// prints.

function reformat(src: string, newline: (depth: number) => string, colon: string): string {
  let out = '';
  let depth = 0;
  let i = 0;
  // Set after "{" or "[": the newline is written only if the container is not empty.
  let pendingOpen = false;
  while (i < src.length) {
    const ch = src[i] as string;
    if (ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r') {
      i++;
      continue;
    }
    if (pendingOpen && ch !== '}' && ch !== ']') {
      out += newline(depth);
    }
    if (ch === '"') {
      let j = i + 1;
      while (j < src.length && src[j] !== '"') j += src[j] === '\\' ? 2 : 1;
      out += src.slice(i, j + 1);
      i = j + 1;
      pendingOpen = false;
      continue;
    }
    pendingOpen = false;
    switch (ch) {
      case '{':
      case '[':
        out += ch;
        depth++;
        pendingOpen = true;
        break;
      case '}':
      case ']': {
        const wasEmpty = out.endsWith('{') || out.endsWith('[');
        depth--;
        if (!wasEmpty) out += newline(depth);
        out += ch;
        break;
      }
      case ',':
        out += ',' + newline(depth);
        break;
      case ':':
        out += colon;
        break;
      default:
        out += ch;
    }
    i++;
  }
  return out;
}

/** json.Indent(dst, src, prefix, indent). */
export function jsonIndent(src: string, prefix = '', indent = '    '): string {
  return reformat(src, (depth) => '\n' + prefix + indent.repeat(depth), ': ');
}

/** json.Compact. */
export function jsonCompact(src: string): string {
  return reformat(src, () => '', ':');
}
