// Basic authentication against an htpasswd file (bcrypt entries only, as distribution's
// htpasswd backend). bcrypt is slow on purpose — tens of milliseconds in JavaScript — so
// a verified pair of credentials is remembered under a hash of them, and a verification
// in flight is shared by the requests that present the same credentials at once (a
// client opening eight connections asks eight times in the same instant).
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import bcrypt from 'bcryptjs';
import { invalidArgument } from '../../util/errors.js';
import { fsError } from '../../util/fs-errors.js';
import { registryError, type RegistryError } from '../errors.js';

export const REALM = 'berth-registry';
const BCRYPT_RE = /^\$2[aby]\$(\d\d)\$[./A-Za-z0-9]{53}$/;
const MAX_CACHED = 1024;
// Compared against when the user does not exist, so an unknown name costs what a wrong
// password costs and response times do not tell which names exist.
const DUMMY_HASH = '$2b$10$egRFOjRf0BUyEXmKoaIrROc6qnFrcYApIFqPu..d.DrsL58ljGyzK';

export class Htpasswd {
  private readonly verified = new Map<string, string>();
  private readonly pending = new Map<string, Promise<boolean>>();
  private runs = 0;

  private constructor(private readonly users: ReadonlyMap<string, string>) {}

  static async load(path: string): Promise<Htpasswd> {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      throw fsError(err, `reading htpasswd file ${path}`);
    }
    return Htpasswd.parse(text, path);
  }

  /** Parse htpasswd text; a line that is not "user:bcrypt-hash" is an error naming it. */
  static parse(text: string, path = 'htpasswd'): Htpasswd {
    const users = new Map<string, string>();
    const lineOf = new Map<string, number>();
    text.split('\n').forEach((raw, i) => {
      const line = raw.replace(/\r$/, '');
      const n = i + 1;
      if (line.trim() === '' || line.trimStart().startsWith('#')) return;
      const colon = line.indexOf(':');
      if (colon <= 0) throw invalidArgument(`${path} line ${n}: want "user:bcrypt-hash"`);
      const user = line.slice(0, colon);
      const hash = line.slice(colon + 1).trim();
      if (!BCRYPT_RE.test(hash)) {
        throw invalidArgument(`${path} line ${n}: user "${user.slice(0, 64)}" has no bcrypt hash ($2a$, $2b$ or $2y$; make one with htpasswd -B)`);
      }
      const cost = Number(BCRYPT_RE.exec(hash)![1]);
      if (cost < 4 || cost > 31) throw invalidArgument(`${path} line ${n}: bcrypt cost ${cost} is out of range 4–31`);
      const first = lineOf.get(user);
      if (first !== undefined) throw invalidArgument(`${path} line ${n}: user "${user.slice(0, 64)}" is already defined on line ${first}`);
      users.set(user, hash);
      lineOf.set(user, n);
    });
    if (users.size === 0) throw invalidArgument(`${path}: no users`);
    return new Htpasswd(users);
  }

  /** How many bcrypt comparisons ran (the cache at work, for tests and curiosity). */
  get bcryptRuns(): number {
    return this.runs;
  }

  /** The user the Authorization header proves, or an UNAUTHORIZED error to send back. */
  async authenticate(header: string | undefined): Promise<string> {
    const creds = parseBasic(header);
    if (creds === undefined) throw unauthorized('authentication required');
    const key = createHash('sha256').update(creds.user).update('\0').update(creds.password).digest('hex');
    const known = this.verified.get(key);
    if (known !== undefined) return known;
    let check = this.pending.get(key);
    if (check === undefined) {
      this.runs++;
      check = bcrypt.compare(creds.password, this.users.get(creds.user) ?? DUMMY_HASH).then((ok) => ok && this.users.has(creds.user));
      this.pending.set(key, check);
      void check.finally(() => this.pending.delete(key)).catch(() => undefined);
    }
    if (!(await check)) throw unauthorized('invalid username or password');
    if (this.verified.size >= MAX_CACHED) this.verified.delete(this.verified.keys().next().value!);
    this.verified.set(key, creds.user);
    return creds.user;
  }
}

function parseBasic(header: string | undefined): { user: string; password: string } | undefined {
  if (header === undefined) return undefined;
  const m = /^Basic\s+([A-Za-z0-9+/=_-]+)\s*$/i.exec(header);
  if (m === null) return undefined;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

export function unauthorized(message: string): RegistryError {
  return registryError('UNAUTHORIZED', message, { headers: { 'WWW-Authenticate': `Basic realm="${REALM}"` } });
}
