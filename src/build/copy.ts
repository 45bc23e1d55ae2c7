// COPY and ADD: sources from the build context, from here-documents, from another stage or
// image (--from), or (ADD) from a URL; local tar archives given to ADD are extracted. The
// copy is a tar stream written into the step's filesystem by the worker; the cache key holds
// the checksum of what is copied, so touching a file's mtime keeps the cache and changing
// its content does not.
import { posix } from 'node:path';
import { Readable } from 'node:stream';
import { BuildContext, checksumSources, copyArchive, planCopy, resolveSources, type SourceMatch } from './context/index.js';
import type { AddInstruction, CopyInstruction, StageRef } from './dockerfile/index.js';
import { NOP, referencedState, type StageBuilder, type StageBuilderOptions } from './steps.js';
import type { BuildState } from './state.js';
import type { StepFs } from './worker.js';
import { tarBuffer } from '../images/tar/writer.js';
import { BLOCK, hasTarMagic } from '../images/tar/header.js';
import { detectCompression, type Compression } from '../images/layer/compression.js';
import { invalidArgument } from '../util/errors.js';
import { truncateId } from '../util/units.js';

export type CopyInstructionLike = CopyInstruction | AddInstruction;

interface Sources {
  ctx: BuildContext;
  matches: SourceMatch[];
  /** The checksum of what is copied (a sha256 digest). */
  checksum: string;
  /** Contexts made for this step (heredocs, URL downloads, --from exports), closed after it. */
  owned: BuildContext[];
  /** Downloaded by ADD: never extracted, as Docker does. */
  remote?: boolean;
}

export async function copyStep(b: StageBuilder, inst: CopyInstructionLike, ref: StageRef | undefined, o: StageBuilderOptions): Promise<void> {
  const where = `${inst.loc.file}:${inst.loc.line}`;
  const chmod = parseChmod(inst.flags.chmod, where);
  const workdir = b.current.config.config?.WorkingDir || '/';
  const dest = inst.dest;
  const absDest = dest.startsWith('/') ? posix.normalize(dest) : posix.join(workdir, dest);
  const write = { dest, absDest, workdir, chown: inst.flags.chown, chmod };
  const common = { dest, workdir, chown: inst.flags.chown ?? null, chmod: chmod ?? null, parents: inst.kind === 'COPY' ? inst.flags.parents : false, exclude: inst.flags.exclude };
  if (inst.kind === 'COPY' && inst.flags.from && ref && ref.kind !== 'scratch') {
    // Another stage's (or image's) files are fixed by its key (or ID): no need to export them
    // to know whether the step is cached — only when it runs.
    const referenced = await referencedState(o, ref);
    const from = referenced.key;
    const createdBy = `${NOP}COPY --from=${truncateId(from)} ${inst.sources.join(' ')} in ${dest} `;
    await b.layerStep({ COPY: { from, sources: inst.sources }, ...common }, createdBy, async (state) => {
      const sources = await gatherSources(inst, o, where, referenced.state);
      try {
        return { config: state.config.config ?? {}, layer: await o.worker.change(state, (fs) => writeCopy(fs, sources, new Set(), write)) };
      } finally {
        for (const c of sources.owned) await c.close().catch(() => undefined);
      }
    });
    return;
  }
  const sources = await gatherSources(inst, o, where);
  try {
    const extract = inst.kind === 'ADD' && inst.flags.unpack !== false && !sources.remote ? await archives(sources) : new Set<SourceMatch>();
    const kind = sources.matches.length === 1 && sources.matches[0]!.entry.type !== 'dir' ? 'file' : sources.matches.length === 1 ? 'dir' : 'multi';
    const createdBy = `${NOP}${inst.kind} ${kind}:${sources.checksum.slice(7)} in ${dest} `;
    const description = { [inst.kind]: sources.checksum, ...common, extract: [...extract].map((m) => m.path) };
    await b.layerStep(description, createdBy, async (state) => {
      const layer = await o.worker.change(state, (fs) => writeCopy(fs, sources, extract, write));
      return { config: state.config.config ?? {}, layer };
    });
  } finally {
    for (const c of sources.owned) await c.close().catch(() => undefined);
  }
}

async function writeCopy(
  fs: StepFs, sources: Sources, extract: Set<SourceMatch>,
  o: { dest: string; absDest: string; workdir: string; chown: string | undefined; chmod: number | undefined },
): Promise<void> {
  const owner = o.chown ? await fs.owner(o.chown) : undefined;
  const plain = sources.matches.filter((m) => !extract.has(m));
  if (plain.length) {
    const destIsDir = (await fs.kind(o.absDest)) === 'dir';
    const existing = new Set<string>();
    for (let p = posix.dirname(o.absDest); ; p = posix.dirname(p)) {
      if ((await fs.kind(p)) === 'dir') existing.add(p);
      if (p === '/') break;
    }
    if (destIsDir) existing.add(o.absDest);
    const plan = planCopy(plain, o.dest, {
      destIsDir, workdir: o.workdir, ...(owner ? { chown: owner } : {}), ...(o.chmod !== undefined ? { chmod: o.chmod } : {}),
      dirExists: (p) => existing.has(p),
    });
    await fs.extract(copyArchive(sources.ctx, plan));
  }
  for (const m of extract) {
    // An archive is unpacked into the destination directory, as ADD does (owners as in the archive).
    await fs.mkdirp(o.absDest, owner);
    await fs.extract(Readable.from(sources.ctx.readData(m.entry)), o.absDest);
  }
}

/** The step's sources: here-documents, downloads, the `from` filesystem (COPY --from) or the context. */
async function gatherSources(inst: CopyInstructionLike, o: StageBuilderOptions, where: string, from?: BuildState): Promise<Sources> {
  const owned: BuildContext[] = [];
  try {
    if (inst.inlineSources.length) {
      if (inst.sources.length) throw invalidArgument(`${where}: ${inst.kind} cannot mix here-documents and other sources`);
      const ctx = await contextOf(o, inst.inlineSources.map((s) => ({ name: s.name, data: Buffer.from(s.content), mode: 0o644 })));
      owned.push(ctx);
      return await matched(ctx, inst.inlineSources.map((s) => s.name), {}, owned);
    }
    const urls = inst.sources.filter((s) => /^https?:\/\//i.test(s));
    if (urls.length) {
      if (inst.kind !== 'ADD') throw invalidArgument(`${where}: source can't be a URL for COPY`);
      if (urls.length !== inst.sources.length) throw invalidArgument(`${where}: ADD cannot mix URLs and local sources in berth's builder`);
      const files = await Promise.all(urls.map((u) => download(u, where, o.signal)));
      const ctx = await contextOf(o, files);
      owned.push(ctx);
      return { ...(await matched(ctx, files.map((f) => f.name), {}, owned)), remote: true };
    }
    const opts = { excludes: inst.flags.exclude, ...(inst.kind === 'COPY' && inst.flags.parents ? { parents: true } : {}) };
    if (from && inst.kind === 'COPY') return await fromState(inst, from, o, opts, owned, where);
    return await matched(o.context, inst.sources, opts, owned);
  } catch (err) {
    for (const c of owned) await c.close().catch(() => undefined);
    throw err;
  }
}

async function matched(ctx: BuildContext, srcs: string[], opts: { excludes?: string[]; parents?: boolean }, owned: BuildContext[]): Promise<Sources> {
  const matches = resolveSources(ctx, srcs, opts);
  return { ctx, matches, checksum: await checksumSources(ctx, matches), owned };
}

/**
 * COPY --from: the source paths of that filesystem, exported (as `docker cp` reads them) from
 * the deepest directory without wildcards, and matched there like a context.
 */
async function fromState(
  inst: CopyInstruction, state: BuildState, o: StageBuilderOptions,
  opts: { excludes?: string[]; parents?: boolean }, owned: BuildContext[], where: string,
): Promise<Sources> {
  const cleaned = inst.sources.map((s) => posix.normalize(`/${s}`));
  const base = commonStaticDir(cleaned);
  const tar = await o.worker.exportPath(state, base === '/' ? '/.' : `${base}/.`);
  if (!tar) throw invalidArgument(`${where}: COPY --from=${inst.flags.from}: ${base}: no such file or directory`);
  const ctx = await BuildContext.fromStream(tar, o.tmpDir);
  owned.push(ctx);
  const rel = cleaned.map((s) => posix.relative(base, s) || '.');
  return matched(ctx, rel, opts, owned);
}

/** The longest directory prefix shared by all paths that holds no wildcard. */
function commonStaticDir(paths: string[]): string {
  const parts = paths.map((p) => p.split('/').filter(Boolean));
  const out: string[] = [];
  for (let i = 0; ; i++) {
    const c = parts[0]?.[i];
    // The last component of each path is what is copied: its parent is exported.
    if (c === undefined || parts.some((p) => p[i] !== c || i >= p.length - 1) || /[*?[\\]/.test(c)) break;
    out.push(c);
  }
  return `/${out.join('/')}`;
}

async function contextOf(o: StageBuilderOptions, files: Array<{ name: string; data: Buffer; mode: number; mtimeSec?: number }>): Promise<BuildContext> {
  const now = Math.floor(Date.now() / 1000);
  const tar = tarBuffer(files.map((f) => ({ name: f.name, type: 'file' as const, mode: f.mode, size: f.data.length, mtimeSec: f.mtimeSec ?? now, data: f.data })));
  return BuildContext.fromStream(Readable.from([tar]), o.tmpDir);
}

const MAX_DOWNLOAD = 1024 * 1024 * 1024;

async function download(url: string, where: string, signal: AbortSignal): Promise<{ name: string; data: Buffer; mode: number; mtimeSec?: number }> {
  let res: Response;
  try {
    res = await fetch(url, { signal, redirect: 'follow' });
  } catch (err) {
    throw invalidArgument(`${where}: ADD ${url}: ${(err as Error & { cause?: Error }).cause?.message ?? (err as Error).message}`);
  }
  if (!res.ok) throw invalidArgument(`${where}: ADD ${url}: the server answered ${res.status} ${res.statusText}`);
  const length = Number(res.headers.get('content-length') ?? 0);
  if (length > MAX_DOWNLOAD) throw invalidArgument(`${where}: ADD ${url}: ${length} bytes is more than berth downloads (${MAX_DOWNLOAD})`);
  const data = Buffer.from(await res.arrayBuffer());
  const name = decodeURIComponent(new URL(url).pathname.split('/').filter(Boolean).at(-1) ?? '') || '__unnamed__';
  const modified = Date.parse(res.headers.get('last-modified') ?? '');
  // Docker gives a downloaded file mode 0600 and the server's Last-Modified time.
  return { name, data, mode: 0o600, ...(Number.isFinite(modified) ? { mtimeSec: Math.floor(modified / 1000) } : {}) };
}

/** ADD's sources that are local tar archives (plain, gzip or zstd, by their first bytes). */
async function archives(s: Sources): Promise<Set<SourceMatch>> {
  const out = new Set<SourceMatch>();
  for (const m of s.matches) {
    if (m.entry.type !== 'file' || m.entry.size < 4) continue;
    const head = await firstBytes(s.ctx, m, BLOCK);
    let compression: Compression;
    try {
      compression = detectCompression(head);
    } catch (err) {
      throw invalidArgument(`ADD ${m.path}: ${(err as Error).message.replace('layers', 'archives')} by berth's builder (gzip, zstd and plain tar are)`);
    }
    if (compression !== 'none' || hasTarMagic(head)) out.add(m);
  }
  return out;
}

async function firstBytes(ctx: BuildContext, m: SourceMatch, n: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let have = 0;
  for await (const c of ctx.readData(m.entry)) {
    chunks.push(c);
    have += c.length;
    if (have >= n) break;
  }
  return Buffer.concat(chunks).subarray(0, n);
}

function parseChmod(value: string | undefined, where: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^[0-7]{1,4}$/.test(value)) throw invalidArgument(`${where}: invalid chmod ${JSON.stringify(value)}: only octal modes are supported`);
  return Number.parseInt(value, 8);
}
