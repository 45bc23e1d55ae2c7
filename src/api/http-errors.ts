// Error → HTTP status, as moby's httpstatus.FromError maps its errdefs classes.
import { BerthError } from '../util/errors.js';

const STATUS_BY_CODE: Readonly<Record<string, number>> = {
  NotFound: 404,
  InvalidArgument: 400,
  Conflict: 409,
  Unauthorized: 401,
  Forbidden: 403,
  Unavailable: 503,
  // Not (yet) a code of util/errors.ts: the daemon's "already started / already stopped"
  // answer, which Docker sends as 304 Not Modified.
  NotModified: 304,
  NotImplemented: 501,
  Internal: 500,
};

/** An error the API layer raises itself for a request body over the limit. */
export class PayloadTooLargeError extends Error {
  readonly status = 413;
}

/** The daemon's marker for "already in that state" (start of a running container, ...): 304. */
function isNotModified(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { notModified?: unknown }).notModified === true;
}

export function statusForError(err: unknown): number {
  if (err instanceof PayloadTooLargeError) return err.status;
  if (isNotModified(err)) return 304;
  if (err instanceof BerthError) return STATUS_BY_CODE[err.code as string] ?? 500;
  return 500;
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return typeof err === 'string' ? err : 'internal error';
}

/** The same error class with a prefix to its message (moby's errors.Wrapf keeps the status). */
export function withPrefix(err: unknown, prefix: string): unknown {
  if (err instanceof BerthError) return new BerthError(err.code, `${prefix}: ${err.message}`, { cause: err });
  return err;
}
