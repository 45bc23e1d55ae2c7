// Fixtures for `berth registry serve` tests: temporary roots under /var/tmp, a test CA
// and server certificate made with openssl, htpasswd files hashed with bcryptjs, a small
// HTTP(S) client that returns whole responses, the CLI as a child process, and a listing
// of what is on disk (to assert that a refused request stored nothing).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request as httpRequest, Agent as HttpAgent, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest, Agent as HttpsAgent } from 'node:https';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { REPO } from './runtime.js';
import { makeTestCa } from './test-ca.js';

export const BERTH = join(REPO, 'bin/berth.js');

export function tempDir(prefix: string): string {
  return mkdtempSync(join('/var/tmp', `${prefix}-`));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

export interface TlsFiles {
  ca: Buffer;
  caFile: string;
  cert: Buffer;
  key: Buffer;
  certFile: string;
  keyFile: string;
  /** A directory holding only ca.crt, as skopeo's --dest-cert-dir wants it. */
  certDir: string;
}

/** A CA and a server certificate for 127.0.0.1 and localhost, signed by it. */
export function makeTls(dir: string): TlsFiles {
  mkdirSync(dir, { recursive: true });
  const ca = makeTestCa(dir);
  const certDir = join(dir, 'certs.d');
  mkdirSync(certDir, { recursive: true });
  copyFileSync(ca.caCertPath, join(certDir, 'ca.crt'));
  return {
    ca: Buffer.from(ca.caCert),
    caFile: ca.caCertPath,
    cert: Buffer.from(ca.serverCert),
    key: Buffer.from(ca.serverKey),
    certFile: ca.serverCertPath,
    keyFile: ca.serverKeyPath,
    certDir,
  };
}

/** An htpasswd file with these users (bcrypt, low cost: the tests hash at run time). */
export function makeHtpasswd(path: string, users: Record<string, string>, cost = 6): string {
  const lines = Object.entries(users).map(([u, p]) => `${u}:${bcrypt.hashSync(p, cost)}`);
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

export interface Response {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  json<T = unknown>(): T;
}

export interface RequestOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: Buffer | string;
  ca?: Buffer;
  auth?: { user: string; password: string };
  /** Send the body with chunked transfer encoding (no Content-Length). */
  chunked?: boolean;
}

const httpAgent = new HttpAgent({ keepAlive: true });
const httpsAgents = new Map<Buffer, HttpsAgent>();

/** One request; the whole response in memory. `url` is absolute, or a path on `base`. */
export function fetchRaw(base: string, url: string, opts: RequestOptions = {}): Promise<Response> {
  // A path is sent exactly as written (no "." or ".." resolution, which URL would do).
  const target = new URL(url.startsWith('/') ? '/' : url, base);
  const path = url.startsWith('/') ? url : `${target.pathname}${target.search}`;
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.auth) headers['Authorization'] = `Basic ${Buffer.from(`${opts.auth.user}:${opts.auth.password}`).toString('base64')}`;
  const body = opts.body === undefined ? undefined : Buffer.from(opts.body);
  if (body !== undefined && headers['Content-Length'] === undefined && !opts.chunked) headers['Content-Length'] = String(body.length);
  return new Promise((resolve, reject) => {
    const https = target.protocol === 'https:';
    let agent: HttpAgent | HttpsAgent = httpAgent;
    if (https) {
      const key = opts.ca ?? Buffer.alloc(0);
      agent = httpsAgents.get(key) ?? new HttpsAgent({ keepAlive: true, ...(opts.ca ? { ca: opts.ca } : {}) });
      httpsAgents.set(key, agent as HttpsAgent);
    }
    const where = { protocol: target.protocol, hostname: target.hostname, port: target.port, path };
    const req = (https ? httpsRequest : httpRequest)({ ...where, method: opts.method ?? 'GET', headers, agent }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('error', reject);
      res.on('end', () => {
        const all = Buffer.concat(parts);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: all, json: <T>() => JSON.parse(all.toString()) as T });
      });
    });
    req.on('error', reject);
    if (opts.chunked && body !== undefined) {
      req.write(body);
      req.end();
    } else {
      req.end(body);
    }
  });
}

/** Every file under dir (relative paths, sorted) except temporary dot-files, with sizes. */
export function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string, rel: string): void => {
    let names: string[];
    try {
      names = readdirSync(d);
    } catch {
      return;
    }
    for (const n of names) {
      const p = join(d, n);
      const r = rel ? `${rel}/${n}` : n;
      const st = statSync(p, { throwIfNoEntry: false });
      if (st === undefined) continue;
      if (st.isDirectory()) walk(p, r);
      else out.push(`${r} ${st.size}`);
    }
  };
  walk(dir, '');
  return out.sort();
}

export interface CliServer {
  child: ChildProcess;
  url: string;
  port: number;
  stderr: () => string;
  /** SIGTERM and wait for the exit code. */
  stop(): Promise<number | null>;
}

// Servers a failing test did not stop must not outlive the test process.
const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

/** `berth registry serve ARGS` as a child process, resolved once it prints where it listens. */
export function startCli(args: string[], timeoutMs = 15_000): Promise<CliServer> {
  const child = spawn(process.execPath, [BERTH, 'registry', 'serve', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  child.once('exit', () => children.delete(child));
  let stderr = '';
  let started = false;
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`registry did not start: ${stderr}`));
    }, timeoutMs);
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
      const m = started ? null : /listening on (https?):\/\/([^ ]+):(\d+) /.exec(stderr);
      if (m) {
        started = true;
        clearTimeout(timer);
        // Unreferenced: a test that fails before stop() still lets the process exit (and
        // the exit hook above kill the server); stop() references it again to wait.
        child.unref();
        (child.stderr as unknown as { unref(): void }).unref();
        (child.stdout as unknown as { unref(): void }).unref();
        resolve({
          child,
          url: `${m[1]}://${m[2]}:${m[3]}`,
          port: Number(m[3]),
          stderr: () => stderr,
          stop: async () => {
            child.ref();
            if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
            return exited;
          },
        });
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`registry exited with ${code}: ${stderr}`));
    });
  });
}

/** Run `berth registry ARGS` to completion. */
export function runCli(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BERTH, 'registry', ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
