// The daemon's side of .dockerignore: find the ignore file Docker would use for this
// Dockerfile in the received context and read it from the whole archive.
import { isBerthError } from '../../util/errors.js';
import type { BuildContext } from './archive.js';
import { IgnoreMatcher, ignoreFileFor } from './ignore.js';

/** A generous bound: ignore files are a few hundred bytes. */
const MAX_IGNORE_FILE_BYTES = 4 * 1024 * 1024;

export async function readIgnoreFile(ctx: BuildContext, dockerfile: string): Promise<{ path: string | undefined; matcher: IgnoreMatcher }> {
  for (const candidate of ignoreFileFor(dockerfile)) {
    let text: string;
    try {
      text = (await ctx.readFile(candidate, MAX_IGNORE_FILE_BYTES)).toString('utf8');
    } catch (err) {
      if (isBerthError(err, 'NotFound')) continue;
      throw err;
    }
    return { path: candidate, matcher: IgnoreMatcher.fromFile(text) };
  }
  return { path: undefined, matcher: new IgnoreMatcher([]) };
}
