// Request bodies: bounded reads for documents, and streaming into a file for blobs.
// A body that ends before its Content-Length (the client went away) is an error, never
// a short blob: callers roll back whatever they wrote.
import type { Hash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { registryError, type RegistryError } from '../errors.js';

/** Writes are gathered into batches this large: fewer syscalls than one per socket read. */
const WRITE_BATCH = 1024 * 1024;

/** The declared Content-Length, or undefined for a chunked (or absent) body. */
export function contentLength(req: IncomingMessage): number | undefined {
  const raw = req.headers['content-length'];
  if (raw === undefined) return undefined;
  // Node's parser already refused malformed lengths; this guards the conversion.
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 0) throw registryError('SIZE_INVALID', 'invalid Content-Length');
  return n;
}

/** Whether the request carries body bytes (a length above zero, or chunked encoding). */
export function hasBody(req: IncomingMessage): boolean {
  const n = contentLength(req);
  return n !== undefined ? n > 0 : req.headers['transfer-encoding'] !== undefined;
}

function truncated(cause?: unknown): RegistryError {
  return registryError('BLOB_UPLOAD_INVALID', 'request body ended early (connection closed before Content-Length bytes arrived)', {
    cause,
  });
}

/**
 * The whole body, refusing more than max bytes (by header at once, or by count). A
 * refused body is still read and dropped after the error is answered, so the client sees
 * the answer and the connection stays usable; destroying the request would reset it.
 */
export function readBody(req: IncomingMessage, max: number, tooLarge: (size: number) => RegistryError): Promise<Buffer> {
  const declared = contentLength(req);
  if (declared !== undefined && declared > max) return Promise.reject(tooLarge(declared));
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    let settled = false;
    const fail = (err: RegistryError): void => {
      if (settled) return;
      settled = true;
      parts.length = 0;
      reject(err);
    };
    req.on('data', (chunk: Buffer) => {
      if (settled) return;
      size += chunk.length;
      if (size > max) fail(tooLarge(size));
      else parts.push(chunk);
    });
    req.once('end', () => {
      if (settled) return;
      if (!req.complete || (declared !== undefined && size !== declared)) return fail(truncated());
      settled = true;
      resolve(Buffer.concat(parts, size));
    });
    req.once('error', (err) => fail(truncated(err)));
    req.once('close', () => {
      if (!req.complete) fail(truncated());
    });
  });
}

/**
 * Stream the body into file at position, feeding hash. Returns the bytes written; on
 * any failure the caller truncates the file back (the hash it passed is a copy).
 */
export async function writeBodyToFile(req: IncomingMessage, file: FileHandle, position: number, hash: Hash): Promise<number> {
  const declared = contentLength(req);
  let batch: Buffer[] = [];
  let batchBytes = 0;
  let written = 0;
  const flush = async (): Promise<void> => {
    if (batchBytes === 0) return;
    const bufs = batch;
    const n = batchBytes;
    batch = [];
    batchBytes = 0;
    let done = 0;
    // writev may write less than asked (rarely, on some filesystems): continue from there.
    while (done < n) {
      const { bytesWritten } = await file.writev(done === 0 ? bufs : [Buffer.concat(bufs).subarray(done)], position + written + done);
      done += bytesWritten;
    }
    written += n;
  };
  // A failed write (a full disk) is the server's problem, not a short body: the rest
  // is read and dropped so that the client gets the error instead of a reset.
  let writeError: unknown;
  try {
    for await (const chunk of req as AsyncIterable<Buffer>) {
      if (writeError !== undefined) continue;
      hash.update(chunk);
      batch.push(chunk);
      batchBytes += chunk.length;
      if (batchBytes >= WRITE_BATCH) await flush().catch((err: unknown) => (writeError = err));
    }
  } catch (err) {
    throw truncated(err);
  }
  if (writeError !== undefined) throw writeError;
  await flush();
  if (!req.complete || (declared !== undefined && written !== declared)) throw truncated();
  return written;
}
