// --cache-from matching (src/build/cache-from.ts): an image's history continues the base
// with the same created_by, and lends its layers until the first step that differs.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CacheFromMatcher, type CacheSource } from '../../src/build/cache-from.js';
import type { BuildState } from '../../src/build/state.js';
import type { Descriptor, ImageConfig } from '../../src/oci/image-spec.js';
import type { Digest } from '../../src/util/digest.js';

const d = (n: number): `sha256:${string}` => `sha256:${String(n).padStart(64, '0')}`;
const layer = (n: number): Descriptor => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: d(100 + n), size: n * 10 });

function config(history: Array<{ created_by: string; empty_layer?: boolean }>, diffIds: Digest[]): ImageConfig {
  return { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: diffIds }, history };
}

const base: BuildState = { config: config([{ created_by: 'base layer' }], [d(1)]), layers: [layer(1)] };
const image: CacheSource = {
  config: config([{ created_by: 'base layer' }, { created_by: 'ENV A=1', empty_layer: true }, { created_by: 'COPY file:abc in /x' }, { created_by: 'RUN make' }], [d(1), d(2), d(3)]),
  layers: [layer(1), layer(2), layer(3)],
};

describe('CacheFromMatcher', () => {
  it('lends each layer in turn while the steps match, metadata steps moving it along', () => {
    const m = new CacheFromMatcher([image], base);
    m.advance('ENV A=1', false);
    assert.deepEqual(m.take('COPY file:abc in /x'), { layer: { descriptor: layer(2), diffId: d(2), size: 20 } });
    assert.deepEqual(m.take('RUN make'), { layer: { descriptor: layer(3), diffId: d(3), size: 30 } });
    assert.equal(m.take('RUN more'), undefined, 'past its end');
  });

  it('a step that differs ends the image for the rest of the stage', () => {
    const m = new CacheFromMatcher([image], base);
    m.advance('ENV A=2', false);
    assert.equal(m.take('COPY file:abc in /x'), undefined);
    const n = new CacheFromMatcher([image], base);
    n.advance('ENV A=1', false);
    assert.equal(n.take('COPY file:OTHER in /x'), undefined);
    n.drop();
    assert.equal(n.take('RUN make'), undefined);
  });

  it('an image on another base is never used', () => {
    const other: BuildState = { config: config([{ created_by: 'another base' }], [d(9)]), layers: [layer(9)] };
    const m = new CacheFromMatcher([image], other);
    m.advance('ENV A=1', false);
    assert.equal(m.take('COPY file:abc in /x'), undefined);
  });
});
