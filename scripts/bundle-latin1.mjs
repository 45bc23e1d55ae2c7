// Rewrites every character above U+00FF in the bundle as a \uXXXX escape. V8 keeps a
// module's source for lazy compilation, and one such character (an ellipsis or dash in a
// comment esbuild keeps) makes it store the whole file as a two-byte string: for berthd's
// entry and its large chunks about 1 MiB of an idle daemon's heap. esbuild already escapes
// strings, templates and identifiers; what is left is comments and a regex literal, where
// the escape means the same character. (A String.raw template would not: the bundle has none,
// and the check below refuses one rather than change its meaning.)
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2] ?? 'dist/bundle';
const wide = /[^\x00-\xff]/g; // each UTF-16 unit: a surrogate pair becomes two escapes
const escape = (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;

for (const name of readdirSync(dir)) {
  if (!name.endsWith('.js')) continue;
  const path = join(dir, name);
  const source = readFileSync(path, 'utf8');
  if (!/[^\x00-\xff]/.test(source)) continue;
  if (source.includes('String.raw')) throw new Error(`${path}: String.raw with characters above U+00FF; escaping them would change its value`);
  writeFileSync(path, source.replace(wide, escape));
}
