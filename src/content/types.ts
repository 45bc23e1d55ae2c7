// Shapes shared by the content store's files.
import type { Digest } from '../util/digest.js';

export type Labels = Record<string, string>;

export interface BlobInfo {
  digest: Digest;
  size: number;
  /** When the blob was committed (its mtime, set at commit). */
  createdAt: Date;
  labels: Labels;
}

/** What the caller knows about content before it arrives. */
export interface Expected {
  digest?: Digest | string;
  size?: number;
}

export interface IngestStatus {
  ref: string;
  /** Bytes in the ingest so far: where a resumed write continues. */
  offset: number;
  startedAt: Date;
  updatedAt: Date;
  expected: { digest?: Digest; size?: number };
  /** Pid of the live process holding the ingest, if any. */
  lockedBy?: number;
}

export interface Lease {
  id: string;
  createdAt: Date;
  expiresAt?: Date;
  labels: Labels;
  resources: Digest[];
}

export type ProblemSeverity = 'error' | 'warning' | 'info';

export interface Problem {
  severity: ProblemSeverity;
  /** Path relative to the store root. */
  path: string;
  message: string;
  digest?: Digest;
}

export interface GcResult {
  removed: Digest[];
  bytes: number;
}
