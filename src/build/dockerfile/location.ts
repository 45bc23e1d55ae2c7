// Errors located in a Dockerfile read "Dockerfile:12: message", like the docker CLI's.
import { invalidArgument, type BerthError } from '../../util/errors.js';
import type { Location } from './types.js';

/** An error about the instruction being parsed; the parser adds file and line. */
export class LineError extends Error {}

export function errorAt(file: string, line: number, msg: string, cause?: unknown): BerthError {
  return invalidArgument(`${file}:${line}: ${msg}`, cause);
}

export function errorAtLoc(loc: Location, msg: string, cause?: unknown): BerthError {
  return errorAt(loc.file, loc.line, msg, cause);
}

export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
