// The local volume store: names and options as moby's local driver checks them, records that
// survive a reopen, list filters, in-use refusal, prune of anonymous (or all) volumes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ANONYMOUS_LABEL, VolumeStore } from '../../src/volumes/store.js';
import { isBerthError } from '../../src/util/errors.js';

function fixture(t: { after: (fn: () => void) => void }): { root: string; users: Map<string, string[]>; open: () => VolumeStore } {
  const root = mkdtempSync(join(tmpdir(), 'berth-volumes-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const users = new Map<string, string[]>();
  return { root, users, open: () => new VolumeStore({ root, usersOf: (name) => users.get(name) ?? [] }) };
}

const rejects = async (p: Promise<unknown> | (() => unknown), code: string, message: RegExp): Promise<void> => {
  await assert.rejects(async () => (typeof p === 'function' ? p() : p), (e: unknown) => isBerthError(e) && e.code === code && message.test(e.message));
};

test('create: named, anonymous, idempotent, and what the driver refuses', async (t) => {
  const { root, open } = fixture(t);
  const store = open();
  const { volume, created } = await store.create({ name: 'data', labels: { a: 'b' } });
  assert.equal(created, true);
  assert.equal(volume.Mountpoint, join(root, 'data', '_data'));
  assert.ok(existsSync(volume.Mountpoint));
  assert.deepEqual({ ...volume, CreatedAt: '' }, { CreatedAt: '', Driver: 'local', Labels: { a: 'b' }, Mountpoint: volume.Mountpoint, Name: 'data', Options: null, Scope: 'local' });
  assert.match(volume.CreatedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  const again = await store.create({ name: 'data', labels: { other: 'x' } });
  assert.equal(again.created, false, 'an existing name returns that volume');
  assert.deepEqual(again.volume.Labels, { a: 'b' });
  const anonymous = (await store.create({})).volume;
  assert.match(anonymous.Name, /^[0-9a-f]{64}$/);
  assert.deepEqual(anonymous.Labels, { [ANONYMOUS_LABEL]: '' });
  assert.equal(store.isAnonymous(anonymous.Name), true);
  assert.equal(store.isAnonymous('data'), false);

  await rejects(store.create({ name: 'x' }), 'InvalidArgument', /volume name is too short/);
  await rejects(() => store.create({ name: '../escape' }), 'InvalidArgument', /includes invalid characters for a local volume name/);
  await rejects(() => store.create({ name: 'a/b' }), 'InvalidArgument', /includes invalid characters/);
  await rejects(() => store.create({ name: 'ok1', driver: 'nfs' }), 'NotFound', /plugin "nfs" not found/);
  await rejects(() => store.create({ name: 'ok2', driverOpts: { bogus: '1' } }), 'InvalidArgument', /invalid option: "bogus"/);
  await rejects(() => store.create({ name: 'ok3', driverOpts: { type: 'tmpfs' } }), 'InvalidArgument', /missing required option: "device"/);
  await rejects(() => store.create({ name: 'ok4', driverOpts: { o: 'size=1m' } }), 'InvalidArgument', /missing required option: "device"/);
  await rejects(() => store.create({ name: 'ok5', driverOpts: { type: 'tmpfs', device: '--bind' } }), 'InvalidArgument', /invalid value for volume option "device"/);
  await rejects(() => store.create({ name: 'ok6', driverOpts: { size: '1g' } }), 'InvalidArgument', /quota size requested but no quota support/);
  assert.equal(existsSync(join(root, 'ok2')), false, 'a refused volume leaves nothing');
  const withOpts = (await store.create({ name: 'mem', driverOpts: { type: 'tmpfs', device: 'tmpfs', o: 'size=1m' } })).volume;
  assert.deepEqual(withOpts.Options, { type: 'tmpfs', device: 'tmpfs', o: 'size=1m' });
});

test('records survive a reopen; a directory without a record is not a volume', async (t) => {
  const { root, open } = fixture(t);
  await open().create({ name: 'kept', labels: { k: 'v' } });
  mkdirSync(join(root, 'stray', '_data'), { recursive: true });
  writeFileSync(join(root, 'broken.json'), '{');
  const reopened = open();
  assert.deepEqual(reopened.list().map((v) => v.Name), ['kept']);
  assert.deepEqual(reopened.inspect('kept').Labels, { k: 'v' });
  await rejects(() => reopened.inspect('stray'), 'NotFound', /get stray: no such volume/);
});

test('list filters: name (substring), label, driver, dangling', async (t) => {
  const { users, open } = fixture(t);
  const store = open();
  await store.create({ name: 'web-data', labels: { tier: 'web' } });
  await store.create({ name: 'db-data', labels: { tier: 'db', backup: '' } });
  users.set('db-data', ['c1']);
  const names = (filters: Record<string, string[]>): string[] => store.list(filters).map((v) => v.Name).sort();
  assert.deepEqual(names({ name: ['data'] }), ['db-data', 'web-data']);
  assert.deepEqual(names({ name: ['web'] }), ['web-data']);
  assert.deepEqual(names({ label: ['tier=db'] }), ['db-data']);
  assert.deepEqual(names({ label: ['backup'] }), ['db-data']);
  assert.deepEqual(names({ label: ['tier=db', 'backup'] }), ['db-data']);
  assert.deepEqual(names({ driver: ['local'] }), ['db-data', 'web-data']);
  assert.deepEqual(names({ driver: ['other'] }), []);
  assert.deepEqual(names({ dangling: ['true'] }), ['web-data']);
  assert.deepEqual(names({ dangling: ['0'] }), ['db-data']);
  assert.throws(() => store.list({ dangling: ['maybe'] }), /invalid filter 'dangling=maybe'/);
  assert.throws(() => store.list({ colour: ['red'] }), /invalid filter 'colour'/);
});

test('remove refuses a volume in use, even forced; prune takes anonymous ones unless all=true', async (t) => {
  const { root, users, open } = fixture(t);
  const store = open();
  await store.create({ name: 'used' });
  await store.create({ name: 'named', labels: { keep: 'no' } });
  const anon = (await store.create({})).volume.Name;
  const anonUsed = (await store.create({})).volume.Name;
  writeFileSync(join(store.dataPath(anon), 'file'), Buffer.alloc(10_000));
  users.set('used', ['c1', 'c2']);
  users.set(anonUsed, ['c3']);
  await rejects(store.remove('used'), 'Conflict', /remove used: volume is in use - \[c1, c2\]/);
  await rejects(store.remove('used', { force: true }), 'Conflict', /volume is in use/);
  await rejects(() => store.remove('missing'), 'NotFound', /get missing: no such volume/);
  await store.remove('missing', { force: true });

  const first = await store.prune();
  assert.deepEqual(first.deleted, [anon]);
  assert.ok(first.reclaimed >= 10_000, `reclaimed ${first.reclaimed}`);
  assert.equal(existsSync(join(root, anon)), false);
  assert.deepEqual((await store.prune({ all: ['true'], label: ['keep=yes'] })).deleted, []);
  assert.deepEqual((await store.prune({ all: ['true'], 'label!': ['keep'] })).deleted, []);
  assert.deepEqual((await store.prune({ all: ['true'] })).deleted, ['named']);
  assert.deepEqual(store.list().map((v) => v.Name).sort(), [anonUsed, 'used'].sort());
  await assert.rejects(store.prune({ until: ['1h'] }), /invalid filter 'until'/);
  users.delete('used');
  await store.remove('used');
  assert.equal(store.has('used'), false);
  assert.equal(existsSync(join(root, 'used')), false);
});
