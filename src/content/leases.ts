// Lease files (leases/<id>.json): a lease keeps the blobs it names alive until it
// is deleted or expires — the way a pull protects blobs it has written but not
// yet linked from an image.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomic.js';
import { errnoCode, internal } from '../util/errors.js';
import { isDigest, type Digest } from '../util/digest.js';
import { fsError } from '../util/fs-errors.js';
import { checkLabels } from './labels.js';
import type { Lease } from './types.js';

interface LeaseFile {
  id: string;
  createdAt: string;
  expiresAt?: string;
  labels: Record<string, string>;
  resources: string[];
}

export function isExpired(lease: Lease, now = Date.now()): boolean {
  return lease.expiresAt !== undefined && lease.expiresAt.getTime() <= now;
}

export async function readLease(path: string): Promise<Lease | undefined> {
  let raw: string;
  try {
    raw = await readFile(path, 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw fsError(err, `reading lease ${path}`);
  }
  return parseLease(raw, path);
}

export function parseLease(raw: string, path: string): Lease {
  let f: LeaseFile;
  try {
    f = JSON.parse(raw) as LeaseFile;
  } catch (err) {
    throw internal(`lease ${path} is not valid JSON`, err);
  }
  const resources = Array.isArray(f.resources) ? f.resources : [];
  if (typeof f.id !== 'string' || !resources.every((r) => typeof r === 'string' && isDigest(r))) {
    throw internal(`lease ${path} is malformed`);
  }
  const lease: Lease = {
    id: f.id,
    createdAt: new Date(f.createdAt),
    labels: checkLabels(f.labels ?? {}),
    resources: resources as Digest[],
  };
  if (f.expiresAt !== undefined) lease.expiresAt = new Date(f.expiresAt);
  return lease;
}

export function writeLease(path: string, lease: Lease): void {
  const f: LeaseFile = {
    id: lease.id,
    createdAt: lease.createdAt.toISOString(),
    labels: lease.labels,
    resources: lease.resources,
  };
  if (lease.expiresAt) f.expiresAt = lease.expiresAt.toISOString();
  try {
    writeFileAtomic(path, `${JSON.stringify(f, null, 2)}\n`);
  } catch (err) {
    throw fsError(err, `writing lease ${lease.id}`);
  }
}

/** Every lease file, with unreadable ones reported rather than thrown (gc must not stop on one). */
export async function readLeases(dir: string): Promise<{ leases: Lease[]; broken: { name: string; error: unknown }[] }> {
  const leases: Lease[] = [];
  const broken: { name: string; error: unknown }[] = [];
  for (const name of await readdir(dir)) {
    if (!name.endsWith('.json') || name.startsWith('.')) continue;
    try {
      const lease = await readLease(join(dir, name));
      if (lease && `${lease.id}.json` !== name) throw internal(`lease ${name} holds id ${JSON.stringify(lease.id)}`);
      if (lease) leases.push(lease);
    } catch (error) {
      broken.push({ name, error });
    }
  }
  return { leases, broken };
}
