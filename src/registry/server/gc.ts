// `berth registry gc`: mark and sweep over the storage of storage.ts.
//
// Mark: in every repository, start from the manifests its tags point to (and, unless
// deleteUntagged, from every manifest it holds) and follow index children and referrers
// (manifests whose subject is a kept manifest); each kept manifest keeps its own body,
// its config and its layers. Sweep: with deleteUntagged, manifests not kept lose their
// link (and referrer entry); then every blob nobody marked is deleted, and repository
// links to deleted blobs go with them.
//
// gc holds the registry lock: a writable server (which holds it while it runs) could be
// linking a blob gc is about to delete. A --read-only server takes no lock and may run
// beside it; at worst it answers 404 for something gc just removed.
import type { Digest } from '../../util/digest.js';
import { conflict, notFound } from '../../util/errors.js';
import { withLock } from '../../util/lockfile.js';
import { removeManifest, parseDocument } from './manifests.js';
import { RegistryStorage } from './storage.js';
import { stat } from 'node:fs/promises';

export interface GcOptions {
  root: string;
  dryRun?: boolean;
  deleteUntagged?: boolean;
  /** One line per removal (or would-be removal) and per warning. */
  log?: (line: string) => void;
}

export interface GcResult {
  blobsDeleted: { digest: Digest; size: number }[];
  manifestsDeleted: { repository: string; digest: Digest }[];
  bytesFreed: number;
  blobsKept: number;
}

export async function collectGarbage(opts: GcOptions): Promise<GcResult> {
  const storage = new RegistryStorage(opts.root);
  const rootStat = await stat(opts.root).catch(() => undefined);
  if (rootStat === undefined || !rootStat.isDirectory()) throw notFound(`registry root ${opts.root} does not exist`);
  return withLock(
    storage.lockPath,
    {
      busy: (h) =>
        conflict(
          `registry root ${opts.root} is locked by process ${h.pid} (a writable berth registry server, or another gc); ` +
            'stop it, or run the server with --read-only while gc runs',
        ),
    },
    () => run(storage, opts),
  );
}

async function run(storage: RegistryStorage, opts: GcOptions): Promise<GcResult> {
  const log = opts.log ?? (() => undefined);
  const dry = opts.dryRun === true;
  const verb = dry ? 'would delete' : 'delete';
  const result: GcResult = { blobsDeleted: [], manifestsDeleted: [], bytesFreed: 0, blobsKept: 0 };

  const marked = new Set<Digest>();
  const kept = new Map<string, Set<Digest>>();
  const repos = await storage.listRepositories(true);
  for (const repo of repos) kept.set(repo, await markRepository(storage, repo, opts.deleteUntagged === true, marked, log));

  if (opts.deleteUntagged === true) {
    for (const repo of repos) {
      const keep = kept.get(repo)!;
      for (const digest of await storage.listManifestLinks(repo)) {
        if (keep.has(digest)) continue;
        log(`${verb} manifest ${repo}@${digest}`);
        result.manifestsDeleted.push({ repository: repo, digest });
        if (!dry) await removeManifest(storage, repo, digest);
      }
    }
  }

  for (const { digest, size } of await storage.listBlobs()) {
    if (marked.has(digest)) {
      result.blobsKept++;
      continue;
    }
    log(`${verb} blob ${digest} (${size} bytes)`);
    result.blobsDeleted.push({ digest, size });
    result.bytesFreed += size;
    if (!dry) await storage.deleteBlob(digest);
  }

  if (!dry) {
    for (const repo of repos) {
      for (const digest of await storage.listBlobLinks(repo)) {
        if (!marked.has(digest)) await storage.unlinkBlob(repo, digest);
      }
    }
  }
  return result;
}

/** Mark what one repository keeps; returns the manifests it keeps. */
async function markRepository(
  storage: RegistryStorage,
  repo: string,
  deleteUntagged: boolean,
  marked: Set<Digest>,
  log: (line: string) => void,
): Promise<Set<Digest>> {
  const keep = new Set<Digest>();
  const queue: Digest[] = [];
  for (const tag of (await storage.listTags(repo)) ?? []) {
    const digest = await storage.resolveTag(repo, tag);
    if (digest !== undefined) queue.push(digest);
  }
  if (!deleteUntagged) queue.push(...(await storage.listManifestLinks(repo)));

  while (queue.length > 0) {
    const digest = queue.pop()!;
    if (keep.has(digest)) continue;
    const link = await storage.getManifestLink(repo, digest);
    if (link === undefined) continue; // a tag left by a crash, pointing at nothing
    keep.add(digest);
    marked.add(digest);
    const bytes = await storage.readBlob(digest);
    if (bytes === undefined) {
      log(`warning: manifest ${repo}@${digest} has no body in blobs/`);
      continue;
    }
    let parsed: ReturnType<typeof parseDocument>;
    try {
      parsed = parseDocument(bytes, link.mediaType);
    } catch (err) {
      log(`warning: manifest ${repo}@${digest} cannot be parsed (${(err as Error).message}); keeping only its body`);
      continue;
    }
    if (parsed.kind === 'manifest') {
      marked.add(parsed.doc.config.digest);
      for (const layer of parsed.doc.layers) marked.add(layer.digest);
    } else {
      for (const child of parsed.doc.manifests) {
        marked.add(child.digest);
        queue.push(child.digest);
      }
    }
    for (const referrer of await storage.listReferrers(repo, digest)) queue.push(referrer.digest);
  }
  return keep;
}
