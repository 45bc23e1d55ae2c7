// berthd's ImageService against Debian's docker-registry on loopback: pull with dockerd's
// progress and events, Docker's errors for unknown images (before any progress, so the API
// can answer 404), two pulls of one image at once, a pull cancelled by its client, push of
// one tag and of all tags (aux message, digest line, the image answering to name@digest),
// pull back, and X-Registry-Auth credentials for one request only against a registry
// with htpasswd auth.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { ImageStore } from '../../src/images/store.js';
import type { JSONMessage } from '../../src/oci/engine-api.js';
import { chainIds } from '../../src/oci/image-spec.js';
import { closeIdleConnections } from '../../src/registry/client/http.js';
import { shortId } from '../../src/registry/client/progress.js';
import { digestOf } from '../../src/util/digest.js';
import { isBerthError, type ErrorCode } from '../../src/util/errors.js';
import { ImageService, type ImageEvent } from '../../src/daemon/images/service.js';
import type { RegistryAuth } from '../../src/daemon/backend.js';
import { Layout, freePort, smallLayer, tarDir, waitForHttp, type Image } from '../helpers/registry-fixtures.js';
import { makeHtpasswd } from '../helpers/registry-server.js';
import { BUSYBOX, isRoot, makeRootfs } from '../helpers/runtime.js';
import { unmountUnder } from '../helpers/snapshotter-suite.js';

const REGISTRY_BIN = '/usr/bin/docker-registry';
const skip = !isRoot
  ? 'needs root (mounts)'
  : !existsSync(BUSYBOX)
    ? 'needs /bin/busybox (busybox-static)'
    : spawnSync('skopeo', ['--version']).status !== 0
      ? 'needs skopeo'
      : !existsSync(REGISTRY_BIN)
        ? 'needs docker-registry'
        : false;
const work = skip ? '/nonexistent' : mkdtempSync('/var/tmp/berth-daemon-images-reg-');

async function rejectsWith(p: Promise<unknown>, code: ErrorCode, message?: string | RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(isBerthError(err, code), `want ${code}, got ${String(err)}`);
    if (typeof message === 'string') assert.equal((err as Error).message, message);
    else if (message) assert.match((err as Error).message, message);
    return true;
  });
}

// ---- the test world ------------------------------------------------------------------

const registries: ChildProcess[] = [];

/** docker-registry on a free loopback port (with htpasswd auth when given); its host:port. */
async function startRegistry(name: string, htpasswd?: string): Promise<string> {
  const port = await freePort();
  const config = join(work, `${name}.yml`);
  const auth = htpasswd ? ['auth:', '  htpasswd:', '    realm: berth-test', `    path: ${htpasswd}`] : [];
  const lines = ['version: 0.1', 'log:', '  level: error', 'storage:', '  filesystem:', `    rootdirectory: ${join(work, `${name}-data`)}`, ...auth, 'http:', `  addr: 127.0.0.1:${port}`, ''];
  writeFileSync(config, lines.join('\n'));
  const child = spawn(REGISTRY_BIN, ['serve', config], { stdio: 'ignore' });
  registries.push(child);
  if (!htpasswd) await waitForHttp(port);
  else await waitForAnswer(port);
  return `127.0.0.1:${port}`;
}

/** An auth registry answers /v2/ with 401; wait for any answer. */
async function waitForAnswer(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const ok = await fetch(`http://127.0.0.1:${port}/v2/`).then(() => true, () => false);
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`nothing answers on port ${port}`);
}

const stores: ImageStore[] = [];
let nWorld = 0;

class World {
  readonly events: ImageEvent[] = [];
  readonly service: ImageService;
  /** The fake container table: image ID → a container using it. */
  readonly users = new Map<string, { container: string; running: boolean }>();

  private constructor(readonly store: ImageStore) {
    this.service = new ImageService({
      store,
      registry: { certsDir: join(work, 'certs.d') },
      emit: (e) => this.events.push(e),
      inUse: (id) => this.users.get(id),
      containerCount: (id) => (this.users.has(id) ? 1 : 0),
    });
  }

  static async open(): Promise<World> {
    const store = await ImageStore.open({ root: join(work, `store-${++nWorld}`) });
    stores.push(store);
    return new World(store);
  }

  async pull(ref: string, opts: { auth?: RegistryAuth; signal?: AbortSignal; onMessage?: (m: JSONMessage) => void } = {}): Promise<JSONMessage[]> {
    const messages: JSONMessage[] = [];
    await this.service.pullImage(ref, {
      ...(opts.auth ? { auth: opts.auth } : {}),
      progress: (m) => {
        messages.push(m);
        opts.onMessage?.(m);
      },
      signal: opts.signal ?? new AbortController().signal,
    });
    return messages;
  }

  async push(ref: string, auth?: RegistryAuth): Promise<JSONMessage[]> {
    const messages: JSONMessage[] = [];
    await this.service.pushImage(ref, { ...(auth ? { auth } : {}), progress: (m) => messages.push(m), signal: new AbortController().signal });
    return messages;
  }

  takeEvents(): Array<[string, string, Record<string, string>]> {
    return this.events.splice(0).map((e) => [e.Action, e.Actor.ID, e.Actor.Attributes]);
  }

  async corruption(): Promise<string[]> {
    return (await this.store.check()).filter((p) => p.startsWith('corrupt:'));
  }
}

let host = '';
let authHost = '';
let base: Buffer;
let layerA: Buffer;
let fxA: Image;

describe('daemon image service against a registry', { skip }, () => {
  before(async () => {
    base = tarDir(work, makeRootfs(join(work, 'src')));
    const layout = new Layout(join(work, 'oci-src'));
    layerA = smallLayer(work, 'a', 'image a\n');
    fxA = layout.image([base, layerA]);
    layout.writeIndex([['a', fxA.manifest]]);
    host = await startRegistry('plain');
    const htpasswd = makeHtpasswd(join(work, 'htpasswd'), { alice: 'secret' });
    authHost = await startRegistry('auth', htpasswd);
    const r = spawnSync('skopeo', ['--insecure-policy', '--tmpdir', work, 'copy', '--dest-tls-verify=false', `oci:${layout.dir}:a`, `docker://${host}/src/busybox:1`], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  });

  after(async () => {
    closeIdleConnections();
    for (const child of registries) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
    }
    for (const s of stores) await s.close().catch(() => undefined);
    await unmountUnder(work);
    rmSync(work, { recursive: true, force: true });
  });

  it('pulls with dockerd\'s progress messages and a pull event; a second pull is up to date', async () => {
    const w = await World.open();
    const ref = `${host}/src/busybox:1`;
    const messages = await w.pull(ref);
    assert.deepEqual(messages[0], { status: 'Pulling from src/busybox', id: '1' });
    for (const layer of fxA.layers) {
      const statuses = [...new Set(messages.filter((m) => m.id === shortId(layer.digest)).map((m) => m.status))];
      assert.deepEqual(statuses, ['Pulling fs layer', 'Downloading', 'Verifying Checksum', 'Download complete', 'Extracting', 'Pull complete']);
    }
    assert.deepEqual(messages.slice(-2), [{ status: `Digest: ${fxA.manifest.digest}` }, { status: `Status: Downloaded newer image for ${ref}` }]);
    assert.deepEqual(w.takeEvents(), [['pull', ref, { name: `${host}/src/busybox` }]]);
    const img = await w.service.inspectImage(ref);
    assert.equal(img.Id, fxA.config.digest);
    assert.deepEqual(img.RepoDigests, [`${host}/src/busybox@${fxA.manifest.digest}`]);

    const again = await w.pull(ref);
    assert.deepEqual(again.at(-1), { status: `Status: Image is up to date for ${ref}` });
    assert.deepEqual(w.takeEvents(), [['pull', ref, { name: `${host}/src/busybox` }]]);

    // By digest: the event names the digest reference.
    const byDigest = `${host}/src/busybox@${fxA.manifest.digest}`;
    await w.pull(byDigest);
    assert.deepEqual(w.takeEvents(), [['pull', byDigest, { name: `${host}/src/busybox` }]]);
  });

  it('removes a pulled image by its tag with its digest reference and layers, unless a container uses it', async () => {
    const w = await World.open();
    const ref = `${host}/src/busybox:1`;
    await w.pull(ref);
    const id = fxA.config.digest;
    w.users.set(id, { container: 'b'.repeat(64), running: false });
    // Tag and digest of one repository are one reference to Docker: untagging would orphan the container's image.
    await rejectsWith(
      w.service.removeImage(ref, { force: false, noprune: false }),
      'Conflict',
      `conflict: unable to remove repository reference "${ref}" (must force) - container bbbbbbbbbbbb is using its referenced image ${id.slice(7, 19)}`,
    );
    w.users.clear();
    w.takeEvents();
    const records = await w.service.removeImage(ref, { force: false, noprune: false });
    const [layer1, layer2] = chainIds([digestOf(base), digestOf(layerA)]);
    assert.deepEqual(records, [
      { Untagged: ref },
      { Untagged: `${host}/src/busybox@${fxA.manifest.digest}` },
      { Deleted: id },
      { Deleted: layer2 },
      { Deleted: layer1 },
    ]);
    assert.deepEqual(w.takeEvents().map(([action]) => action), ['untag', 'delete']);
    assert.deepEqual(w.store.list(), []);
    assert.deepEqual(await w.store.check(), []);
  });

  it('fails an unknown tag or repository with Docker\'s NotFound, before any progress', async () => {
    const w = await World.open();
    let messages: JSONMessage[] = [];
    const collect = { onMessage: (m: JSONMessage) => messages.push(m) };
    await rejectsWith(w.pull(`${host}/src/busybox:nope`, collect), 'NotFound', `manifest for ${host}/src/busybox:nope not found: manifest unknown: manifest unknown`);
    assert.deepEqual(messages, []);
    messages = [];
    await rejectsWith(w.pull(`${host}/no/such/repo:1`, collect), 'NotFound', `manifest for ${host}/no/such/repo:1 not found: manifest unknown: manifest unknown`);
    assert.deepEqual(messages, []);
    await rejectsWith(w.pull('Not A Reference'), 'InvalidArgument', /invalid reference format/);
    assert.deepEqual(w.takeEvents(), []);
    assert.deepEqual(w.store.list(), []);
  });

  it('runs two pulls of the same image at once to the same image', async () => {
    const w = await World.open();
    const ref = `${host}/src/busybox:1`;
    const [one, two] = await Promise.all([w.pull(ref), w.pull(ref)]);
    for (const messages of [one, two]) assert.equal(messages.at(-2)?.status, `Digest: ${fxA.manifest.digest}`);
    assert.equal(w.store.list().length, 1);
    assert.equal((await w.service.inspectImage(ref)).Id, fxA.config.digest);
    assert.deepEqual(await w.corruption(), []);
    assert.deepEqual(await w.store.content.listLeases(), []);
  });

  it('stops a pull whose client went away, leaving no image and no corruption; a later pull completes', async () => {
    const w = await World.open();
    const ref = `${host}/src/busybox:1`;
    const client = new AbortController();
    const onMessage = (m: JSONMessage): void => {
      if (m.status === 'Pulling fs layer') client.abort(new Error('client disconnected'));
    };
    await assert.rejects(w.pull(ref, { signal: client.signal, onMessage }));
    assert.deepEqual(w.store.list(), []);
    assert.deepEqual(await w.corruption(), []);
    assert.deepEqual(w.takeEvents(), []);
    const messages = await w.pull(ref);
    assert.equal(messages.at(-1)?.status, `Status: Downloaded newer image for ${ref}`);
    assert.deepEqual(await w.corruption(), []);
  });

  it('pushes one tag with the aux message and digest line, then all tags; pulls back the same image', async () => {
    const w = await World.open();
    const progress: JSONMessage[] = [];
    const id = await w.service.importImage(Readable.from([base]), { repo: `${host}/pushed/busybox`, tag: 'one', changes: ['LABEL pushed=yes'] }, (m) => progress.push(m));
    await w.service.tagImage(id, `${host}/pushed/busybox`, 'two');
    w.takeEvents();

    const messages = await w.push(`${host}/pushed/busybox:one`);
    assert.deepEqual(messages[0], { status: `The push refers to repository [${host}/pushed/busybox]` });
    const [digestLine, aux] = messages.slice(-2);
    const m = /^one: digest: (sha256:[0-9a-f]{64}) size: (\d+)$/.exec(digestLine?.status ?? '');
    assert.ok(m, `digest line: ${JSON.stringify(digestLine)}`);
    assert.deepEqual(aux, { progressDetail: {}, aux: { Tag: 'one', Digest: m[1], Size: Number(m[2]) } });
    assert.ok(messages.some((x) => x.status === 'Pushed'));
    assert.deepEqual(w.takeEvents(), [['push', `${host}/pushed/busybox:one`, { pushed: 'yes', name: `${host}/pushed/busybox` }]]);
    assert.deepEqual((await w.service.inspectImage(id)).RepoDigests, [`${host}/pushed/busybox@${m[1]}`]);

    // No tag: every tag of the repository, the repository named once.
    const all = await w.push(`${host}/pushed/busybox`);
    assert.equal(all.filter((x) => x.status?.startsWith('The push refers to repository')).length, 1);
    assert.deepEqual(all.filter((x) => x.aux).map((x) => (x.aux as { Tag: string }).Tag), ['one', 'two']);
    assert.deepEqual(w.takeEvents().map(([action, actor]) => [action, actor]), [
      ['push', `${host}/pushed/busybox:one`],
      ['push', `${host}/pushed/busybox:two`],
    ]);

    const back = await World.open();
    await back.pull(`${host}/pushed/busybox:two`);
    const pulled = await back.service.inspectImage(`${host}/pushed/busybox:two`);
    assert.equal(pulled.Id, id);
    assert.deepEqual(pulled.Config.Labels, { pushed: 'yes' });
    assert.deepEqual(back.takeEvents(), [['pull', `${host}/pushed/busybox:two`, { pushed: 'yes', name: `${host}/pushed/busybox` }]]);

    await rejectsWith(w.push(`${host}/pushed/other`), 'NotFound', `An image does not exist locally with the tag: ${host}/pushed/other`);
    await rejectsWith(w.push(`${host}/pushed/busybox:three`), 'NotFound', `An image does not exist locally with the tag: ${host}/pushed/busybox`);
  });

  it('uses X-Registry-Auth credentials for that request only', async () => {
    const w = await World.open();
    const alice: RegistryAuth = { username: 'alice', password: 'secret', serveraddress: authHost };
    const id = await w.service.importImage(Readable.from([base]), { repo: `${authHost}/private/busybox`, tag: '1', changes: [] }, () => undefined);
    await rejectsWith(w.push(`${authHost}/private/busybox:1`), 'Unauthorized');
    await rejectsWith(w.push(`${authHost}/private/busybox:1`, { username: 'alice', password: 'wrong' }), 'Unauthorized');
    await w.push(`${authHost}/private/busybox:1`, alice);

    const other = await World.open();
    const ref = `${authHost}/private/busybox:1`;
    const denied = `pull access denied for ${authHost}/private/busybox, repository does not exist or may require 'docker login': unauthorized: authentication required`;
    await rejectsWith(other.pull(ref), 'Unauthorized', denied);
    // The `auth` form: base64 of user:password.
    await other.pull(ref, { auth: { auth: Buffer.from('alice:secret').toString('base64') } });
    assert.equal((await other.service.inspectImage(ref)).Id, id);
    // Nothing was remembered: the next request without credentials is anonymous again.
    await rejectsWith(other.pull(ref), 'Unauthorized', denied);
    assert.deepEqual(other.takeEvents(), [['pull', ref, { name: `${authHost}/private/busybox` }]]);
  });
});
