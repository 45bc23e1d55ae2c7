// Member names of an image archive (`docker save` output, an OCI layout tarball). An
// archive is never extracted: a name only keys a map. Still, a name that is absolute or
// climbs out ("../x") is refused, because no honest writer makes one and a tar built to
// attack some other extractor should not be half-accepted by this one.
import { posix } from 'node:path';
import { invalidArgument } from '../../util/errors.js';

const MAX_NAME_BYTES = 4096;

/** Shown in messages: long or odd names clipped so an error stays one readable line. */
export function showName(name: string): string {
  const clipped = name.length > 200 ? `${name.slice(0, 200)}…` : name;
  return JSON.stringify(clipped);
}

/** "./a//b/" → "a/b"; "" for the archive's root ("./"). Refuses absolute names and "..". */
export function memberName(raw: string): string {
  if (raw.includes('\0')) throw invalidArgument(`archive member ${showName(raw)}: name contains NUL`);
  if (Buffer.byteLength(raw) > MAX_NAME_BYTES) throw invalidArgument(`archive member ${showName(raw)}: name longer than ${MAX_NAME_BYTES} bytes`);
  if (raw.startsWith('/')) throw invalidArgument(`archive member ${showName(raw)}: absolute names are not allowed`);
  const parts: string[] = [];
  for (const part of raw.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') throw invalidArgument(`archive member ${showName(raw)}: ".." would point outside the archive`);
    parts.push(part);
  }
  return parts.join('/');
}

/**
 * The member a symlink member names. Old `docker save` and skopeo's docker-archive link
 * `<id>/layer.tar` to a layer stored once elsewhere in the archive; such a link is
 * followed inside the archive's own index, never on disk. Absolute targets and targets
 * outside the archive are refused.
 */
export function symlinkTarget(name: string, linkname: string): string {
  const what = `archive member ${showName(name)}: symlink to ${showName(linkname)}`;
  if (linkname === '' || linkname.includes('\0')) throw invalidArgument(`${what} has an empty or invalid target`);
  if (linkname.startsWith('/')) throw invalidArgument(`${what} is absolute; links must stay inside the archive`);
  const dir = posix.dirname(name);
  const joined = posix.normalize(dir === '.' ? linkname : `${dir}/${linkname}`);
  if (joined === '..' || joined.startsWith('../')) throw invalidArgument(`${what} points outside the archive`);
  return memberName(joined);
}

/** A path written inside manifest.json (Config, Layers): the same rules as member names. */
export function referencedName(path: string, where: string): string {
  try {
    return memberName(path);
  } catch (err) {
    throw invalidArgument(`${where}: path ${showName(path)} is not a valid archive member name`, err);
  }
}
