// Environment and label files (--env-file, --label-file) and KEY=VALUE lists, read as
// docker/cli's opts.ReadKVEnvStrings / ReadKVStrings / ValidateEnv do.
import { readFileSync } from 'node:fs';

const WHITESPACE = ' \t';

/**
 * One file's lines: blank lines and `#` comments skipped; KEY=VALUE kept as written;
 * a bare KEY takes the CLI's own value when `lookup` finds one, else is dropped.
 */
function parseKvFile(path: string, lookup: ((key: string) => string | undefined) | undefined): string[] {
  let text = readFileSync(path, 'utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const out: string[] = [];
  text.split('\n').forEach((rawLine, i) => {
    const line = rawLine.replace(/\r$/, '').replace(/^[ \t]+/, '');
    if (line === '' || line.startsWith('#')) return;
    const eq = line.indexOf('=');
    const key = eq >= 0 ? line.slice(0, eq) : line;
    if (key === '') throw new Error(`no variable name on line '${line}'`);
    if ([...WHITESPACE].some((c) => key.includes(c))) throw new Error(`variable '${key}' contains whitespaces (line ${i + 1})`);
    if (eq >= 0) {
      out.push(line);
      return;
    }
    const value = lookup?.(key.trim());
    if (value !== undefined) out.push(`${key.trim()}=${value}`);
  });
  return out;
}

export function readEnvFiles(paths: string[], env: NodeJS.ProcessEnv): string[] {
  return paths.flatMap((p) => parseKvFile(p, (k) => env[k]));
}

export function readLabelFiles(paths: string[]): string[] {
  return paths.flatMap((p) => parseKvFile(p, undefined));
}

/** opts.ValidateEnv: `-e KEY` takes KEY's value from the CLI's environment when it is set. */
export function validateEnv(item: string, env: NodeJS.ProcessEnv): string {
  const eq = item.indexOf('=');
  const key = eq >= 0 ? item.slice(0, eq) : item;
  if (key === '') throw new Error(`invalid environment variable: ${item}`);
  if (eq >= 0) return item;
  const value = env[key];
  return value !== undefined ? `${key}=${value}` : item;
}

/** opts.ConvertKVStringsToMap: "k=v" → {k: v}; a bare "k" → {k: ""}. */
export function kvToMap(items: string[]): Record<string, string> {
  const m: Record<string, string> = {};
  for (const item of items) {
    const eq = item.indexOf('=');
    if (eq >= 0) m[item.slice(0, eq)] = item.slice(eq + 1);
    else m[item] = '';
  }
  return m;
}
