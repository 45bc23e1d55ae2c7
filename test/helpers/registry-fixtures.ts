// Fixtures for registry tests: OCI layouts made by hand (images, indexes) that skopeo
// can push, tar layers of directories, free ports, and an HTTP proxy that can cut a blob
// download short or ignore Range — to test resumed pulls against any registry.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { MediaTypes, hostPlatform, type Descriptor, type Platform } from '../../src/oci/image-spec.js';
import { digestOf } from '../../src/util/digest.js';

function run(argv: string[]): string {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

export interface Image {
  manifest: Descriptor;
  config: Descriptor;
  layers: Descriptor[];
}

export class Layout {
  constructor(readonly dir: string) {
    mkdirSync(join(dir, 'blobs/sha256'), { recursive: true });
    writeFileSync(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  }

  put(data: Buffer, mediaType: string): Descriptor {
    const digest = digestOf(data);
    writeFileSync(join(this.dir, 'blobs/sha256', digest.slice(7)), data);
    return { mediaType, digest, size: data.length };
  }

  image(tars: Buffer[], platform: Platform = hostPlatform()): Image {
    const layers = tars.map((t) => this.put(gzipSync(t), MediaTypes.ociLayerGzip));
    const cfg = {
      created: '2024-01-01T00:00:00Z',
      architecture: platform.architecture,
      os: platform.os,
      ...(platform.variant ? { variant: platform.variant } : {}),
      config: { Env: ['PATH=/bin'], Cmd: ['/bin/sh'] },
      rootfs: { type: 'layers', diff_ids: tars.map((t) => digestOf(t)) },
    };
    const config = this.put(Buffer.from(JSON.stringify(cfg)), MediaTypes.ociConfig);
    const manifest = this.put(Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaTypes.ociManifest, config, layers })), MediaTypes.ociManifest);
    return { manifest, config, layers };
  }

  /** index.json naming each descriptor by ref name, as skopeo's oci:DIR:name expects. */
  writeIndex(entries: [string, Descriptor][]): void {
    const manifests = entries.map(([name, d]) => ({ ...d, annotations: { 'org.opencontainers.image.ref.name': name } }));
    writeFileSync(join(this.dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests }));
  }
}

/** A GNU tar of dir with fixed owners, order and times, written under work. */
export function tarDir(work: string, dir: string): Buffer {
  const out = join(work, `layer-${createHash('sha256').update(dir).digest('hex').slice(0, 8)}.tar`);
  run(['tar', '--numeric-owner', '--sort=name', '--mtime=@1700000000', '-C', dir, '-cf', out, '.']);
  return readFileSync(out);
}

/** A one-file layer: /etc/<name> holding text. */
export function smallLayer(work: string, name: string, text: string): Buffer {
  const dir = join(work, `small-${name}`);
  mkdirSync(join(dir, 'etc'), { recursive: true });
  writeFileSync(join(dir, 'etc', name), text);
  return tarDir(work, dir);
}

export async function freePort(): Promise<number> {
  const srv = createNetServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as AddressInfo;
  await new Promise((r) => srv.close(r));
  return port;
}

export async function waitForHttp(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((r) => {
      const req = httpRequest({ host: '127.0.0.1', port, path: '/v2/' }, (res) => {
        res.resume();
        r(res.statusCode === 200);
      });
      req.on('error', () => r(false));
      req.end();
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`nothing answers on port ${port}`);
}

export interface ProxyLog {
  method: string;
  url: string;
  range?: string;
  contentRange?: string;
  status?: number;
}

/** An HTTP proxy to the registry that can cut one blob download short or ignore Range. */
export class Proxy {
  readonly log: ProxyLog[] = [];
  /** Digest of the blob whose next download is cut after `dropAfter` bytes. */
  dropDigest: string | undefined;
  dropAfter = 300 * 1024;
  /** Forward requests without their Range header (so the registry answers 200). */
  stripRange = false;
  /** Answer 404 to everything (a mirror without the content). */
  notFound = false;
  private server: Server | undefined;
  port = 0;

  constructor(private readonly upstream: number) {}

  async start(): Promise<void> {
    this.server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as AddressInfo).port;
  }

  private handle(req: IncomingMessage, res: import('node:http').ServerResponse): void {
    const entry: ProxyLog = { method: req.method ?? '', url: req.url ?? '' };
    if (typeof req.headers.range === 'string') entry.range = req.headers.range;
    if (typeof req.headers['content-range'] === 'string') entry.contentRange = req.headers['content-range'];
    this.log.push(entry);
    if (this.notFound) {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ errors: [{ code: 'MANIFEST_UNKNOWN', message: 'not here' }] }));
      return;
    }
    const headers = { ...req.headers };
    if (this.stripRange) delete headers.range;
    const up = httpRequest({ host: '127.0.0.1', port: this.upstream, method: req.method, path: req.url, headers }, (ures) => {
      entry.status = ures.statusCode;
      res.writeHead(ures.statusCode ?? 502, ures.headers);
      const drop = this.dropDigest !== undefined && req.method === 'GET' && req.url?.endsWith(`/blobs/${this.dropDigest}`) && ures.statusCode === 200;
      if (!drop) {
        ures.pipe(res);
        return;
      }
      this.dropDigest = undefined;
      let sent = 0;
      ures.on('data', (chunk: Buffer) => {
        if (sent >= this.dropAfter) return;
        const part = chunk.subarray(0, this.dropAfter - sent);
        sent += part.length;
        res.write(part);
        if (sent >= this.dropAfter) {
          ures.destroy();
          // Let the bytes reach the client, then cut the connection as a failing network would.
          res.once('drain', () => res.socket?.destroy());
          setTimeout(() => res.socket?.destroy(), 50);
        }
      });
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  }

  async close(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise((r) => this.server!.close(r));
  }
}
