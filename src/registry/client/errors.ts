// Registry error responses ({"errors":[{code,message,detail}]}, the distribution spec's
// error body) turned into BerthErrors worded as dockerd words them, so `berth pull` fails
// with the messages people search for ("manifest unknown", "pull access denied …").
import { BerthError, isBerthError, type ErrorCode } from '../../util/errors.js';
import { parseErrorBody, type RegistryErrorEntry } from '../errors.js';
import { isCertificateError } from './http.js';
import type { Method, RegistryResponse } from './types.js';

/** Error bodies are small; a huge one is not worth reading. */
const MAX_ERROR_BODY = 64 * 1024;

/** An unexpected registry answer, with the parsed error entries for callers that branch on them. */
export class RegistryResponseError extends BerthError {
  readonly status: number;
  readonly errors: readonly RegistryErrorEntry[];

  constructor(code: ErrorCode, message: string, status: number, errors: readonly RegistryErrorEntry[]) {
    super(code, message);
    this.status = status;
    this.errors = errors;
  }
}

/** Go's errcode.Error.Error(): "manifest unknown: manifest unknown". */
export function describeEntry(e: RegistryErrorEntry): string {
  const code = e.code.replace(/_/g, ' ').toLowerCase();
  return e.message ? `${code}: ${e.message}` : code;
}

/** Bearer's way of saying "you may not" (RFC 6750): dockerd treats it as DENIED. */
function insufficientScope(res: RegistryResponse): boolean {
  const h = res.headers['www-authenticate'];
  return typeof h === 'string' && /error="?insufficient_scope/i.test(h);
}

/** Error entries of a failed response, with one made up from the status when the body has none. */
export async function responseErrors(res: RegistryResponse): Promise<RegistryErrorEntry[]> {
  const text = await res.text(MAX_ERROR_BODY).catch(() => '');
  // Codes are compared upper-case: some registries send them in lower case.
  const entries = parseErrorBody(text).map((e) => ({ ...e, code: e.code.toUpperCase() }));
  if (insufficientScope(res) && !entries.some((e) => e.code === 'DENIED')) {
    entries.unshift({ code: 'DENIED', message: 'requested access to the resource is denied' });
  }
  if (entries.length === 0 && res.status === 401) entries.push({ code: 'UNAUTHORIZED', message: 'authentication required' });
  return entries;
}

/** The BerthError code an HTTP status means. */
export function codeForStatus(status: number): ErrorCode {
  if (status === 401) return 'Unauthorized';
  if (status === 403) return 'Forbidden';
  if (status === 404) return 'NotFound';
  if (status === 408 || status === 429 || status >= 500) return 'Unavailable';
  return 'InvalidArgument';
}

/** The error for any other unexpected answer: the registry's own words when it gave some. */
export async function unexpectedResponse(method: Method, res: RegistryResponse): Promise<RegistryResponseError> {
  const entries = await responseErrors(res);
  // The registry's own words read as Docker prints them ("denied: requested access to the resource is denied").
  const words = entries.length ? entries.map(describeEntry).join('; ') : `${method} ${res.url.pathname}: received unexpected HTTP status: ${res.status}`;
  return new RegistryResponseError(codeForStatus(res.status), words, res.status, entries);
}

/** What a failed manifest fetch means for `docker pull` (moby's translatePullError). */
export async function pullError(res: RegistryResponse, names: { familiarName: string; familiarRef: string }): Promise<RegistryResponseError> {
  const entries = await responseErrors(res);
  const first = entries[0];
  const cause = first ? describeEntry(first) : `received unexpected HTTP status: ${res.status}`;
  const denied = `pull access denied for ${names.familiarName}, repository does not exist or may require 'docker login': ${cause}`;
  switch (first?.code) {
    case 'MANIFEST_UNKNOWN':
      return new RegistryResponseError('NotFound', `manifest for ${names.familiarRef} not found: ${cause}`, res.status, entries);
    case 'NAME_UNKNOWN':
      return new RegistryResponseError('NotFound', `repository ${names.familiarName} not found: ${cause}`, res.status, entries);
    case 'DENIED':
      // dockerd answers 404 here: from outside, a private repository and a missing one look alike.
      return new RegistryResponseError('NotFound', denied, res.status, entries);
    case 'UNAUTHORIZED':
      return new RegistryResponseError('Unauthorized', denied, res.status, entries);
  }
  if (res.status === 404) {
    return new RegistryResponseError('NotFound', `manifest for ${names.familiarRef} not found: manifest unknown: manifest unknown`, res.status, entries);
  }
  if (res.status === 401 || res.status === 403) return new RegistryResponseError('Unauthorized', denied, res.status, entries);
  return new RegistryResponseError(codeForStatus(res.status), cause, res.status, entries);
}

/** Whether trying again may help: network trouble, a busy or broken server. Refusals are final. */
export function isTransient(err: unknown): boolean {
  if (isAbort(err) || isCertificateError(err)) return false;
  if (err instanceof RegistryResponseError) return err.code === 'Unavailable';
  // The transport's own failures (connection refused, reset) are Unavailable or plain Node errors.
  if (isBerthError(err)) return err.code === 'Unavailable';
  // Bugs are not worth retrying.
  if (err instanceof TypeError || err instanceof RangeError || err instanceof SyntaxError) return false;
  return err instanceof Error;
}

export function isAbort(err: unknown): boolean {
  return err instanceof Error && (err.name === 'AbortError' || (err as { code?: unknown }).code === 'ABORT_ERR');
}
