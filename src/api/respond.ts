// Plain responses: JSON bodies as Go's json.Encoder writes them (with a trailing newline),
// empty statuses, and Docker's {"message": ...} errors.
import type { ServerResponse } from 'node:http';
import { errorMessage, statusForError } from './http-errors.js';

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = `${JSON.stringify(body ?? null)}\n`;
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

export function sendStatus(res: ServerResponse, status: number): void {
  res.writeHead(status, status === 204 || status === 304 ? {} : { 'Content-Length': 0 });
  res.end();
}

/**
 * Answers with the error's status and {"message"}. When a response is already under way
 * there is no honest way to report it in-band, so the connection is cut off.
 */
export function sendError(res: ServerResponse, err: unknown): number {
  const status = statusForError(err);
  if (res.headersSent) {
    res.destroy();
    return status;
  }
  if (status === 304) {
    sendStatus(res, 304);
    return status;
  }
  sendJson(res, status, { message: errorMessage(err) });
  return status;
}
