// The error codes of the OCI distribution spec (and the few extra ones Docker's
// distribution uses), their HTTP statuses, and the JSON body both sides speak:
//   {"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown to registry","detail":…}]}
// The server raises RegistryErrors; the client reads the same bodies with parseErrorBody
// (client/errors.ts words them as dockerd does).
import { BerthError, type ErrorCode } from '../util/errors.js';

export type RegistryErrorCode =
  | 'BLOB_UNKNOWN'
  | 'BLOB_UPLOAD_INVALID'
  | 'BLOB_UPLOAD_UNKNOWN'
  | 'DIGEST_INVALID'
  | 'MANIFEST_BLOB_UNKNOWN'
  | 'MANIFEST_INVALID'
  | 'MANIFEST_UNKNOWN'
  | 'NAME_INVALID'
  | 'NAME_UNKNOWN'
  | 'SIZE_INVALID'
  | 'UNAUTHORIZED'
  | 'DENIED'
  | 'UNSUPPORTED'
  | 'TOOMANYREQUESTS'
  // distribution's own, outside the OCI list
  | 'TAG_INVALID'
  | 'PAGINATION_NUMBER_INVALID'
  | 'UNKNOWN';

interface CodeInfo {
  status: number;
  message: string;
  berth: ErrorCode;
}

/** Default status and message per code (distribution-spec "Error Codes", distribution's errcode). */
export const REGISTRY_ERROR_CODES: Readonly<Record<RegistryErrorCode, CodeInfo>> = {
  BLOB_UNKNOWN: { status: 404, message: 'blob unknown to registry', berth: 'NotFound' },
  BLOB_UPLOAD_INVALID: { status: 400, message: 'blob upload invalid', berth: 'InvalidArgument' },
  BLOB_UPLOAD_UNKNOWN: { status: 404, message: 'blob upload unknown to registry', berth: 'NotFound' },
  DIGEST_INVALID: { status: 400, message: 'provided digest did not match uploaded content', berth: 'InvalidArgument' },
  MANIFEST_BLOB_UNKNOWN: { status: 400, message: 'manifest references a manifest or blob unknown to registry', berth: 'InvalidArgument' },
  MANIFEST_INVALID: { status: 400, message: 'manifest invalid', berth: 'InvalidArgument' },
  MANIFEST_UNKNOWN: { status: 404, message: 'manifest unknown to registry', berth: 'NotFound' },
  NAME_INVALID: { status: 400, message: 'invalid repository name', berth: 'InvalidArgument' },
  NAME_UNKNOWN: { status: 404, message: 'repository name not known to registry', berth: 'NotFound' },
  SIZE_INVALID: { status: 400, message: 'provided length did not match content length', berth: 'InvalidArgument' },
  UNAUTHORIZED: { status: 401, message: 'authentication required', berth: 'Unauthorized' },
  DENIED: { status: 403, message: 'requested access to the resource is denied', berth: 'Forbidden' },
  UNSUPPORTED: { status: 405, message: 'the operation is unsupported', berth: 'Forbidden' },
  TOOMANYREQUESTS: { status: 429, message: 'too many requests', berth: 'Unavailable' },
  TAG_INVALID: { status: 400, message: 'manifest tag did not match URI', berth: 'InvalidArgument' },
  PAGINATION_NUMBER_INVALID: { status: 400, message: 'invalid number of results requested', berth: 'InvalidArgument' },
  UNKNOWN: { status: 500, message: 'unknown error', berth: 'Internal' },
};

export function isRegistryErrorCode(code: string): code is RegistryErrorCode {
  return Object.prototype.hasOwnProperty.call(REGISTRY_ERROR_CODES, code);
}

/** One entry of the "errors" array, as it travels. */
export interface RegistryErrorEntry {
  code: string;
  message: string;
  detail?: unknown;
}

export class RegistryError extends BerthError {
  readonly registryCode: RegistryErrorCode;
  /** HTTP status: the code's default unless the spec wants another for this case (416, 413). */
  readonly status: number;
  readonly detail: unknown;
  /** Further entries to report in the same response (a manifest missing several blobs). */
  readonly more: readonly RegistryErrorEntry[];
  /** Response headers the error needs (Range on a 416, WWW-Authenticate on a 401). */
  readonly headers: Readonly<Record<string, string>>;

  constructor(code: RegistryErrorCode, message?: string, opts: RegistryErrorOptions = {}) {
    const info = REGISTRY_ERROR_CODES[code];
    super(info.berth, message ?? info.message, { cause: opts.cause });
    this.name = `RegistryError(${code})`;
    this.registryCode = code;
    this.status = opts.status ?? info.status;
    this.detail = opts.detail;
    this.more = opts.more ?? [];
    this.headers = opts.headers ?? {};
  }

  entries(): RegistryErrorEntry[] {
    const first: RegistryErrorEntry = { code: this.registryCode, message: this.message };
    if (this.detail !== undefined) first.detail = this.detail;
    return [first, ...this.more];
  }
}

export interface RegistryErrorOptions {
  detail?: unknown;
  status?: number;
  cause?: unknown;
  more?: readonly RegistryErrorEntry[];
  headers?: Record<string, string>;
}

export function registryError(code: RegistryErrorCode, message?: string, opts?: RegistryErrorOptions): RegistryError {
  return new RegistryError(code, message, opts);
}

/** The JSON body for a list of errors. */
export function errorBody(entries: readonly RegistryErrorEntry[]): string {
  return JSON.stringify({ errors: entries });
}

/**
 * The entries of an error body, or [] when the text is not one (proxies answer with
 * HTML; HEAD responses have no body). Unknown codes are kept: registries add their own.
 */
export function parseErrorBody(text: string): RegistryErrorEntry[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return [];
  }
  if (typeof doc !== 'object' || doc === null) return [];
  const list = (doc as { errors?: unknown }).errors;
  if (!Array.isArray(list)) return [];
  const out: RegistryErrorEntry[] = [];
  for (const e of list) {
    if (typeof e !== 'object' || e === null) continue;
    const { code, message, detail } = e as { code?: unknown; message?: unknown; detail?: unknown };
    if (typeof code !== 'string') continue;
    const entry: RegistryErrorEntry = { code, message: typeof message === 'string' ? message : '' };
    if (detail !== undefined) entry.detail = detail;
    out.push(entry);
  }
  return out;
}
