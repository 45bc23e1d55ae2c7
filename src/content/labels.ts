// Blob labels: validation, the garbage-collection label names, and the meta files
// that hold them (meta/<alg>/<hex>.json, written atomically).
import { readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomic.js';
import { errnoCode, invalidArgument } from '../util/errors.js';
import { isDigest, type Digest } from '../util/digest.js';
import { readdirOrEmpty } from './blob-files.js';
import { fsError } from '../util/fs-errors.js';
import { ALGORITHMS, type Layout } from './layout.js';
import type { Labels } from './types.js';

/** A blob carrying this label is a gc root. */
export const GC_ROOT_LABEL = 'berth.gc.root';
/** Labels `berth.gc.ref.content[.<anything>]=<digest>` keep the named blob alive while this one is. */
export const GC_REF_CONTENT_PREFIX = 'berth.gc.ref.content';

// containerd's bound: a label is for references and small facts, not payloads.
const MAX_LABEL_BYTES = 4096;

export function isGcRefLabel(key: string): boolean {
  return key === GC_REF_CONTENT_PREFIX || key.startsWith(`${GC_REF_CONTENT_PREFIX}.`);
}

export function checkLabels(labels: unknown): Labels {
  if (typeof labels !== 'object' || labels === null || Array.isArray(labels)) {
    throw invalidArgument('labels must be an object of string values');
  }
  const entries = Object.entries(labels);
  for (const [key, value] of entries) {
    if (key.length === 0) throw invalidArgument('label keys must not be empty');
    if (typeof value !== 'string') throw invalidArgument(`label ${key} must have a string value`);
    if (Buffer.byteLength(key) + Buffer.byteLength(value) > MAX_LABEL_BYTES) {
      throw invalidArgument(`label ${key.slice(0, 80)} is longer than ${MAX_LABEL_BYTES} bytes`);
    }
    if (isGcRefLabel(key) && !isDigest(value)) {
      throw invalidArgument(`label ${key} must name a digest, got ${JSON.stringify(value.slice(0, 160))}`);
    }
  }
  // fromEntries defines own properties, so a "__proto__" key stays a label.
  return Object.fromEntries(entries) as Labels;
}

/** Digests a blob's labels keep alive. */
export function gcRefs(labels: Labels): Digest[] {
  const refs: Digest[] = [];
  for (const [key, value] of Object.entries(labels)) if (isGcRefLabel(key) && isDigest(value)) refs.push(value);
  return refs;
}

export async function readLabels(metaPath: string): Promise<Labels> {
  let raw: string;
  try {
    raw = await readFile(metaPath, 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return {};
    throw fsError(err, `reading ${metaPath}`);
  }
  return parseMeta(raw, metaPath);
}

export function parseMeta(raw: string, metaPath: string): Labels {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (err) {
    throw invalidArgument(`${metaPath} is not valid JSON`, err);
  }
  const labels = (parsed as { labels?: unknown } | null)?.labels;
  return labels === undefined ? {} : checkLabels(labels);
}

/** Replace the labels; no labels means no meta file. */
export async function writeLabels(metaPath: string, labels: Labels): Promise<void> {
  try {
    if (Object.keys(labels).length === 0) {
      await unlink(metaPath).catch((err: unknown) => {
        if (errnoCode(err) !== 'ENOENT') throw err;
      });
      return;
    }
    writeFileAtomic(metaPath, `${JSON.stringify({ labels }, null, 2)}\n`);
  } catch (err) {
    throw fsError(err, `writing labels ${metaPath}`);
  }
}

export interface MetaScan {
  labels: Map<Digest, Labels>;
  /** Meta files that could not be read or parsed. */
  broken: { path: string; error: unknown }[];
}

/** Every well-named meta file's labels. */
export async function scanMeta(layout: Layout): Promise<MetaScan> {
  const scan: MetaScan = { labels: new Map(), broken: [] };
  for (const alg of ALGORITHMS) {
    const dir = join(layout.meta, alg);
    for (const name of await readdirOrEmpty(dir)) {
      const digest = `${alg}:${name.slice(0, -'.json'.length)}`;
      if (!name.endsWith('.json') || !isDigest(digest)) continue;
      const path = join(dir, name);
      try {
        scan.labels.set(digest, await readLabels(path));
      } catch (error) {
        scan.broken.push({ path, error });
      }
    }
  }
  return scan;
}
