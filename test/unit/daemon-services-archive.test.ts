// The pure parts of docker cp and docker diff (src/daemon/services/archive.ts, changes.ts):
// Go's FileMode bits and time format in PathStat, moby's path cleaning that keeps a trailing
// "/." or "/", and which directories a snapshot's mounts name for a diff.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { containerPath, goFileMode, goTime } from '../../src/daemon/services/archive.js';
import { changesSource } from '../../src/daemon/services/changes.js';
import { OVERLAY_STYLE_OPTION } from '../../src/snapshots/snapshotter.js';
import { isBerthError } from '../../src/util/errors.js';

describe('docker cp paths and stat fields', () => {
  it('turns st_mode into Go os.FileMode bits', () => {
    assert.equal(goFileMode(0o040755), 2147484141); // what Docker sends for a 0755 directory
    assert.equal(goFileMode(0o100644), 0o644);
    assert.equal(goFileMode(0o120777), 2 ** 27 + 0o777);
    assert.equal(goFileMode(0o104755), 2 ** 23 + 0o755);
    assert.equal(goFileMode(0o041777), 2 ** 31 + 2 ** 20 + 0o777);
    assert.equal(goFileMode(0o020666), 2 ** 26 + 2 ** 21 + 0o666);
    assert.equal(goFileMode(0o060660), 2 ** 26 + 0o660);
    assert.equal(goFileMode(0o010644), 2 ** 25 + 0o644);
  });

  it('writes times as Go\'s RFC 3339 with trailing zeros of the nanoseconds dropped', () => {
    assert.equal(goTime(1767225600, 0), '2026-01-01T00:00:00Z');
    assert.equal(goTime(1767225600, 120000000), '2026-01-01T00:00:00.12Z');
    assert.equal(goTime(1767225600, 5), '2026-01-01T00:00:00.000000005Z');
  });

  it('cleans a container path like filepath.Join("/", p) but keeps "/." and a trailing "/"', () => {
    assert.equal(containerPath('etc/passwd'), '/etc/passwd');
    assert.equal(containerPath('/etc/../var//log'), '/var/log');
    assert.equal(containerPath('/etc/.'), '/etc/.');
    assert.equal(containerPath('/etc/'), '/etc/');
    assert.equal(containerPath('.'), '/.');
    assert.equal(containerPath('/'), '/');
    assert.equal(containerPath('../../etc'), '/etc');
  });
});

describe('docker diff sources from snapshot mounts', () => {
  it('takes an overlay\'s upper dir and its lower dirs, top first', () => {
    const src = changesSource([{ type: 'overlay', source: 'overlay', options: ['index=off', 'workdir=/s/3/work', 'upperdir=/s/3/fs', 'lowerdir=/s/2/fs:/s/1/fs'] }]);
    assert.deepEqual(src, { style: 'overlay', upper: '/s/3/fs', lowers: ['/s/2/fs', '/s/1/fs'] });
  });

  it('reads a parentless overlay bind as everything added, and a native bind against its parent view', () => {
    assert.deepEqual(changesSource([{ type: 'bind', source: '/s/1/fs', options: ['rw', 'rbind', OVERLAY_STYLE_OPTION] }]), { style: 'overlay', upper: '/s/1/fs', lowers: [] });
    const native = [{ type: 'bind', source: '/n/5/fs', options: ['rw', 'rbind'] }];
    assert.deepEqual(changesSource(native, [{ type: 'bind', source: '/n/4/fs', options: ['ro', 'rbind'] }]), { style: 'native', upper: '/n/5/fs', lower: '/n/4/fs' });
    assert.deepEqual(changesSource(native), { style: 'native', upper: '/n/5/fs' });
  });

  it('refuses what is not one writable snapshot', () => {
    assert.throws(() => changesSource([]), (e: unknown) => isBerthError(e, 'InvalidArgument'));
    assert.throws(() => changesSource([{ type: 'overlay', source: 'overlay', options: ['lowerdir=/a:/b'] }]), /read-only overlay/);
    assert.throws(() => changesSource([{ type: 'tmpfs', source: 'tmpfs', options: [] }]), /type tmpfs/);
  });
});
