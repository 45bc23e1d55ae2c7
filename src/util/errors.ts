// One error base class with a stable code for every layer of berth.
// The API layer maps codes to HTTP statuses; the CLIs map them to messages and exit codes.

export type ErrorCode =
  | 'NotFound'
  | 'Conflict'
  | 'InvalidArgument'
  | 'Unauthorized'
  | 'Forbidden'
  | 'Unavailable'
  | 'Internal';

export class BerthError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = `BerthError(${code})`;
  }
}

export const notFound = (msg: string, cause?: unknown): BerthError => new BerthError('NotFound', msg, { cause });
export const conflict = (msg: string, cause?: unknown): BerthError => new BerthError('Conflict', msg, { cause });
export const invalidArgument = (msg: string, cause?: unknown): BerthError =>
  new BerthError('InvalidArgument', msg, { cause });
export const unauthorized = (msg: string, cause?: unknown): BerthError => new BerthError('Unauthorized', msg, { cause });
export const forbidden = (msg: string, cause?: unknown): BerthError => new BerthError('Forbidden', msg, { cause });
export const unavailable = (msg: string, cause?: unknown): BerthError => new BerthError('Unavailable', msg, { cause });
export const internal = (msg: string, cause?: unknown): BerthError => new BerthError('Internal', msg, { cause });

export function isBerthError(err: unknown, code?: ErrorCode): err is BerthError {
  return err instanceof BerthError && (code === undefined || err.code === code);
}

/** The errno name of a Node system error (ENOENT, EEXIST, ...), or undefined. */
export function errnoCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err) {
    const code = (err as { code: unknown }).code;
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
}
