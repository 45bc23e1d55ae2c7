// Turning file system failures into BerthErrors that say what was being done.
import { BerthError, errnoCode, forbidden, internal, notFound, unavailable } from './errors.js';

export function isNoSpace(err: unknown): boolean {
  const code = errnoCode(err);
  return code === 'ENOSPC' || code === 'EDQUOT';
}

/** Wrap an fs error once, with context ("writing <ref>"); BerthErrors pass through untouched. */
export function fsError(err: unknown, doing: string): BerthError {
  if (err instanceof BerthError) return err;
  const code = errnoCode(err);
  if (isNoSpace(err)) return unavailable(`no space left on device while ${doing}`, err);
  if (code === 'ENOENT') return notFound(`${doing}: no such file or directory`, err);
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') return forbidden(`${doing}: ${code}`, err);
  const msg = err instanceof Error ? err.message : String(err);
  return internal(`${doing}: ${msg}`, err);
}

/** Run fn, ignoring "already gone" so cleanup stays idempotent. */
export async function ignoreMissing<T>(fn: () => Promise<T>): Promise<T | undefined> {
  try {
    return await fn();
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw err;
  }
}
