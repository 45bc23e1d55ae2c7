// RUN --mount parsing, following buildkit's instructions/commands_runmount.go.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { expandRunMount, parseDockerfile, parseRamSize, parseRunMount, runMounts } from '../../src/build/dockerfile/index.js';
import { joinCsv, splitCsv } from '../../src/build/dockerfile/csv.js';
import { isBerthError } from '../../src/util/errors.js';

function mountError(value: string): string {
  try {
    parseRunMount(value);
  } catch (err) {
    assert.ok(isBerthError(err, 'InvalidArgument'), `not an InvalidArgument BerthError: ${String(err)}`);
    return err.message;
  }
  assert.fail(`no error for ${value}`);
}

describe('parseRunMount', () => {
  it('defaults to a read-only bind mount', () => {
    assert.deepEqual(parseRunMount('target=/src'), { type: 'bind', readOnly: true, required: false, target: '/src' });
    assert.deepEqual(parseRunMount('type=bind,source=.,dst=/src,from=build,rw'), {
      type: 'bind', readOnly: false, required: false, source: '.', target: '/src', from: 'build',
    });
  });

  it('parses cache mounts: writable by default, id, sharing, mode, uid, gid', () => {
    assert.deepEqual(parseRunMount('type=cache,target=/root/.cache/go-build,id=go,sharing=locked,mode=0750,uid=1000,gid=100'), {
      type: 'cache', readOnly: false, required: false, target: '/root/.cache/go-build', id: 'go', sharing: 'locked', mode: 0o750, uid: 1000, gid: 100,
    });
    assert.equal(parseRunMount('type=cache,target=/c,ro').readOnly, true);
    assert.equal(parseRunMount('type=cache,target=/c,readonly=true').readOnly, true);
    assert.equal(parseRunMount('type=cache,target=/c,readwrite=false').readOnly, true);
    assert.equal(parseRunMount('TYPE=CACHE,Target=/c,Sharing=Private').sharing, 'private');
  });

  it('parses tmpfs with a size in go-units RAM syntax', () => {
    assert.deepEqual(parseRunMount('type=tmpfs,target=/tmp,size=64m'), { type: 'tmpfs', readOnly: false, required: false, target: '/tmp', sizeLimit: 64 * 1024 * 1024 });
  });

  it('parses secret and ssh mounts, which need no target', () => {
    assert.deepEqual(parseRunMount('type=secret,id=aws,required,env=AWS_KEY'), { type: 'secret', readOnly: true, required: true, id: 'aws', env: 'AWS_KEY' });
    assert.deepEqual(parseRunMount('type=secret,src=./k,target=/run/k,required=false,mode=0400'), {
      type: 'secret', readOnly: true, required: false, source: './k', target: '/run/k', mode: 0o400,
    });
    assert.deepEqual(parseRunMount('type=ssh'), { type: 'ssh', readOnly: true, required: false });
    assert.deepEqual(parseRunMount('type=ssh,id=github,required=true,uid=1'), { type: 'ssh', readOnly: true, required: true, id: 'github', uid: 1 });
  });

  it('parses quoted CSV fields', () => {
    assert.equal(parseRunMount('type=bind,"source=a,b",target=/x').source, 'a,b');
    assert.equal(parseRunMount('type=bind,"source=say ""hi""",target=/x').source, 'say "hi"');
  });

  it('rejects unknown types, keys, sharing values and bare keys', () => {
    assert.match(mountError('type=volume,target=/x'), /^unsupported mount type "volume"/);
    assert.equal(mountError('type=cache,target=/x,foo=bar'), "unexpected key 'foo' in 'foo=bar'");
    assert.match(mountError('type=cache,target=/x,sharing=everyone'), /^unsupported sharing value "everyone"/);
    assert.equal(mountError('type=cache,target=/x,cache'), "invalid field 'cache' must be a key=value pair");
    assert.equal(mountError('type=bind,target=/x,ro=maybe'), 'invalid value for ro: maybe');
  });

  it('rejects options that do not fit the type', () => {
    assert.equal(mountError('type=bind,target=/x,required'), "unexpected key 'required' for mount type 'bind'");
    assert.equal(mountError('required,type=secret,id=a'), "unexpected key 'required' for mount type 'bind'");
    assert.equal(mountError('type=cache,target=/x,size=1g'), "unexpected key 'size' for mount type 'cache'");
    assert.equal(mountError('type=bind,target=/x,uid=1'), 'uid not allowed for "bind" type mounts');
    assert.equal(mountError('type=tmpfs,target=/x,mode=0700'), 'mode not allowed for "tmpfs" type mounts');
    assert.equal(mountError('type=bind,target=/x,sharing=shared'), 'invalid cache sharing set for bind mount');
    assert.equal(mountError('type=secret,id=a,from=x'), 'secret mount should not have a from');
    assert.equal(mountError('type=secret,id=a,sharing=shared'), 'secret mount should not define sharing');
    assert.equal(mountError('type=secret'), 'invalid secret mount. one of source, target required');
    assert.equal(mountError('type=secret,source=a,id=b'), "both source and id can't be set");
  });

  it('rejects bad numbers and sizes', () => {
    assert.equal(mountError('type=cache,target=/x,mode=0789'), 'invalid value 0789 for mode');
    assert.equal(mountError('type=cache,target=/x,uid=-1'), 'invalid value -1 for uid');
    assert.equal(mountError('type=cache,target=/x,gid=4294967296'), 'invalid value 4294967296 for gid');
    assert.equal(mountError('type=tmpfs,target=/x,size=lots'), 'invalid value for size: lots');
  });

  it('requires a target for bind, cache and tmpfs', () => {
    assert.equal(mountError('type=cache'), 'mount target is required for type=cache');
    assert.equal(mountError('from=build,source=/x'), 'mount target is required for type=bind');
    assert.equal(mountError(''), 'mount target is required for type=bind');
  });

  it('rejects malformed CSV', () => {
    assert.match(mountError('type=bind,tar"get=/x'), /bare " in non-quoted-field/);
    assert.match(mountError('type=bind,"target=/x'), /extraneous or missing " in quoted-field/);
  });
});

describe('go-units RAM sizes', () => {
  it('reads binary multiples with optional i/b suffixes', () => {
    const cases: [string, number][] = [
      ['100', 100], ['100b', 100], ['1k', 1024], ['1KiB', 1024], ['1kb', 1024], ['1.5g', 1.5 * 1024 ** 3], ['2 MB', 2 * 1024 ** 2], ['1t', 1024 ** 4], ['.5m', 512 * 1024],
    ];
    for (const [input, expected] of cases) assert.equal(parseRamSize(input), expected, input);
    for (const bad of ['', 'm', '1x', '1kk', '-1m', '1 k b']) assert.throws(() => parseRamSize(bad), bad);
  });
});

describe('CSV and mount expansion', () => {
  it('round-trips fields through joinCsv and splitCsv', () => {
    const fields = ['plain', 'with,comma', 'with "quote"', ' leading', '', 'last'];
    assert.deepEqual(splitCsv(joinCsv(fields)), fields);
    assert.deepEqual(splitCsv('a,,b,'), ['a', '', 'b', '']);
  });

  it('expands each value separately so that expanded commas stay in their field', () => {
    const lookup = (n: string): string | undefined => ({ T: '/cache', S: 'a,b' })[n];
    const expanded = expandRunMount('type=cache,target=$T,ro,source=$S', (w) => w.replace(/\$(\w+)/g, (_, n: string) => lookup(n) ?? ''));
    assert.equal(expanded, 'type=cache,target=/cache,ro,"source=a,b"');
    assert.deepEqual(parseRunMount(expanded), { type: 'cache', readOnly: true, required: false, target: '/cache', source: 'a,b' });
  });

  it('parses the mounts of a RUN with errors located in the Dockerfile', () => {
    const df = parseDockerfile('FROM x\nRUN --mount=type=cache,target=/a --mount=type=bind,target=/b,from=build true\nRUN --mount=type=nfs,target=/c true\n');
    const [ok, bad] = df.stages[0]?.instructions ?? [];
    assert.ok(ok?.kind === 'RUN' && bad?.kind === 'RUN');
    assert.deepEqual(runMounts(ok).map((m) => [m.type, m.target, m.from]), [['cache', '/a', undefined], ['bind', '/b', 'build']]);
    assert.throws(() => runMounts(bad), /^BerthError\(InvalidArgument\): Dockerfile:3: --mount=type=nfs,target=\/c: unsupported mount type "nfs"/);
  });
});
