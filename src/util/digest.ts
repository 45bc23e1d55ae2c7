// Content digests ("sha256:<hex>") — validated before they touch a path or a URL (DESIGN §6).
import { createHash, type Hash } from 'node:crypto';
import { invalidArgument } from './errors.js';

export type DigestAlgorithm = 'sha256' | 'sha512';

/** A validated digest string, e.g. "sha256:9f86d0…". */
export type Digest = `${DigestAlgorithm}:${string}`;

const HEX_LENGTH: Record<DigestAlgorithm, number> = { sha256: 64, sha512: 128 };
const DIGEST_RE = /^(sha256|sha512):([a-f0-9]+)$/;

export function isDigest(value: string): value is Digest {
  const m = DIGEST_RE.exec(value);
  return m !== null && m[2]!.length === HEX_LENGTH[m[1] as DigestAlgorithm];
}

/** Parse and validate a digest; throws InvalidArgument naming the bad value. */
export function parseDigest(value: string): { algorithm: DigestAlgorithm; hex: string; digest: Digest } {
  const m = DIGEST_RE.exec(value);
  if (m === null || m[2]!.length !== HEX_LENGTH[m[1] as DigestAlgorithm]) {
    throw invalidArgument(`invalid digest "${value.slice(0, 160)}": want sha256:<64 hex> or sha512:<128 hex>`);
  }
  return { algorithm: m[1] as DigestAlgorithm, hex: m[2]!, digest: value as Digest };
}

export function digestOf(data: Uint8Array | string, algorithm: DigestAlgorithm = 'sha256'): Digest {
  return `${algorithm}:${createHash(algorithm).update(data).digest('hex')}`;
}

/** Incremental digester for streams: feed bytes, then read digest() once. */
export class Digester {
  readonly algorithm: DigestAlgorithm;
  private readonly hash: Hash;
  private bytes = 0;
  private result: Digest | undefined;

  constructor(algorithm: DigestAlgorithm = 'sha256') {
    this.algorithm = algorithm;
    this.hash = createHash(algorithm);
  }

  update(chunk: Uint8Array): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
  }

  get size(): number {
    return this.bytes;
  }

  /** The digest of everything fed so far; feeding stops here, asking again is fine. */
  digest(): Digest {
    this.result ??= `${this.algorithm}:${this.hash.digest('hex')}`;
    return this.result;
  }
}

/** The hex part of a digest (what store paths use). */
export function digestHex(digest: Digest): string {
  return digest.slice(digest.indexOf(':') + 1);
}
