// Errors from the Engine API, shaped as docker's client shapes them: the daemon's
// `{"message": …}` behind "Error response from daemon: ", with the HTTP status kept so
// callers can tell a missing image (404) from a conflict (409).
import { BerthError, type ErrorCode } from '../util/errors.js';

function codeForStatus(status: number): ErrorCode {
  switch (status) {
    case 400:
      return 'InvalidArgument';
    case 401:
      return 'Unauthorized';
    case 403:
      return 'Forbidden';
    case 404:
      return 'NotFound';
    case 409:
      return 'Conflict';
    case 503:
      return 'Unavailable';
    default:
      return status >= 400 && status < 500 ? 'InvalidArgument' : 'Internal';
  }
}

export class ClientError extends BerthError {
  /** The HTTP status the daemon answered with. */
  readonly status: number;
  /** The daemon's own words (the `message` of its JSON error body). */
  readonly daemonMessage: string;

  constructor(status: number, daemonMessage: string) {
    super(codeForStatus(status), `Error response from daemon: ${daemonMessage}`);
    this.name = 'ClientError';
    this.status = status;
    this.daemonMessage = daemonMessage;
  }
}

export function isClientError(err: unknown, status?: number): err is ClientError {
  return err instanceof ClientError && (status === undefined || err.status === status);
}

/** The body of an error response as docker's client reads it. */
export function errorFromBody(status: number, statusText: string, body: Buffer): ClientError {
  const text = body.toString('utf8').trim();
  if (text.length > 0) {
    try {
      const doc = JSON.parse(text) as { message?: unknown };
      if (typeof doc.message === 'string') return new ClientError(status, doc.message);
    } catch {
      // not JSON: docker prints the text as it came
    }
    return new ClientError(status, text);
  }
  return new ClientError(status, `${status} ${statusText}`.trim());
}
