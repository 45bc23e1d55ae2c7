import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';

import {
  MAX_MANIFEST_SIZE,
  MediaTypes,
  chainIds,
  detectManifestKind,
  formatPlatform,
  hostPlatform,
  isConfigType,
  isIndexType,
  isLayerType,
  isManifestType,
  layerCompression,
  normalizePlatform,
  parseDescriptor,
  parseImageConfig,
  parseIndex,
  parseManifest,
  parsePlatform,
  platformMatches,
  selectManifest,
  type Descriptor,
  type Index,
  type Platform,
} from '../../src/oci/image-spec.js';
import type { Digest } from '../../src/util/digest.js';
import { isBerthError } from '../../src/util/errors.js';

// Test documents are edited freely to break them; the parser under test checks every type.
type Mutable = Record<string, any>;

const json = (v: unknown): Buffer => Buffer.from(JSON.stringify(v));
const clone = <T>(v: T): T => structuredClone(v);
const sha = (c: string): Digest => `sha256:${c.repeat(64).slice(0, 64)}`;

function assertInvalid(fn: () => unknown, message: RegExp | string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(isBerthError(err, 'InvalidArgument'), `expected InvalidArgument, got ${String(err)}`);
    if (typeof message === 'string') assert.equal((err as Error).message, message);
    else assert.match((err as Error).message, message);
    return true;
  });
}

// image-spec manifest.md "Example Image Manifest".
const OCI_MANIFEST = {
  schemaVersion: 2,
  mediaType: 'application/vnd.oci.image.manifest.v1+json',
  config: {
    mediaType: 'application/vnd.oci.image.config.v1+json',
    digest: 'sha256:b5b2b2c507a0944348e0303114d8d93aaaa081732b86451d9bce1f432a537bc7',
    size: 7023,
  },
  layers: [
    {
      mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
      digest: 'sha256:9834876dcfb05cb167a5c24953eba58c4ac89b1adf57f28f2f9d09af107ee8f0',
      size: 32654,
    },
    {
      mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
      digest: 'sha256:3c3a4604a545cdc127456d94e421cd355bca5b528f4a9c1905b15da2eb4a4c6b',
      size: 16724,
    },
    {
      mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
      digest: 'sha256:ec4b8955958665577945c89419d1af06b5f7636b4ac3da7f12184802ad867736',
      size: 73109,
    },
  ],
  subject: {
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    digest: 'sha256:5b0bcabd1ed22e9fb1310cf6c2dec7cdef19f0ad69efa1f392e94a4333501270',
    size: 7682,
  },
  annotations: { 'com.example.key1': 'value1', 'com.example.key2': 'value2' },
};

const DOCKER_MANIFEST = {
  schemaVersion: 2,
  mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
  config: { mediaType: 'application/vnd.docker.container.image.v1+json', size: 1469, digest: sha('c') },
  layers: [
    { mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', size: 2479, digest: sha('1') },
    {
      mediaType: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
      size: 1000,
      digest: sha('2'),
      urls: ['https://mcr.microsoft.com/v2/windows/blobs/sha256:2222'],
    },
  ],
};

// image-spec image-index.md "Example Image Index".
const OCI_INDEX = {
  schemaVersion: 2,
  mediaType: 'application/vnd.oci.image.index.v1+json',
  manifests: [
    {
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      size: 7143,
      digest: 'sha256:e692418e4cbaf90ca69d05a66403747baa33ee08806650b51fab815ad7fc331f',
      platform: { architecture: 'ppc64le', os: 'linux' },
    },
    {
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      size: 7682,
      digest: 'sha256:5b0bcabd1ed22e9fb1310cf6c2dec7cdef19f0ad69efa1f392e94a4333501270',
      platform: { architecture: 'amd64', os: 'linux' },
    },
  ],
  annotations: { 'com.example.key1': 'value1', 'com.example.key2': 'value2' },
};

// image-spec config.md "Example".
const OCI_CONFIG = {
  created: '2015-10-31T22:22:56.015925234Z',
  author: 'Alyssa P. Hacker <alyspdev@example.com>',
  architecture: 'amd64',
  os: 'linux',
  config: {
    User: 'alice',
    ExposedPorts: { '8080/tcp': {} },
    Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'FOO=oci_is_a', 'BAR=well_written_spec'],
    Entrypoint: ['/bin/my-app-binary'],
    Cmd: ['--foreground', '--config', '/etc/my-app.d/default.cfg'],
    Volumes: { '/var/job-result-data': {}, '/var/log/my-app-logs': {} },
    WorkingDir: '/home/alice',
    Labels: {
      'com.example.project.git.url': 'https://example.com/project.git',
      'com.example.project.git.commit': '45a939b2999782a3f005621a8d0f29aa387e1d6b',
    },
  },
  rootfs: {
    diff_ids: [
      'sha256:c6f988f4874bb0add23a778f753c65efe992244e148a1d2ec2a8b664fb66bbd1',
      'sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef',
    ],
    type: 'layers',
  },
  history: [
    {
      created: '2015-10-31T22:22:54.690851953Z',
      created_by: '/bin/sh -c #(nop) ADD file:a3bc1e842b69636f9df5256c49c5374fb4eef1e281fe3f282c65fb853ee171c5 in /',
    },
    { created: '2015-10-31T22:22:55.613815829Z', created_by: '/bin/sh -c #(nop) CMD ["sh"]', empty_layer: true },
    { created: '2015-10-31T22:22:56.329850019Z', created_by: '/bin/sh -c apk add curl' },
  ],
};

describe('media types', () => {
  test('predicates', () => {
    assert.ok(isManifestType(MediaTypes.ociManifest));
    assert.ok(isManifestType(MediaTypes.dockerManifest));
    assert.ok(!isManifestType(MediaTypes.ociIndex));
    assert.ok(!isManifestType(MediaTypes.dockerSchema1Manifest));
    assert.ok(isIndexType(MediaTypes.ociIndex));
    assert.ok(isIndexType(MediaTypes.dockerManifestList));
    assert.ok(!isIndexType(MediaTypes.dockerManifest));
    assert.ok(isConfigType(MediaTypes.ociConfig));
    assert.ok(isConfigType(MediaTypes.dockerConfig));
    assert.ok(!isConfigType(MediaTypes.ociEmpty));
    assert.ok(isLayerType(MediaTypes.dockerForeignLayerGzip));
    assert.ok(!isLayerType('application/vnd.in-toto+json'));
    assert.equal(MediaTypes.ociEmpty, 'application/vnd.oci.empty.v1+json');
  });

  test('layerCompression', () => {
    const cases: [string, string][] = [
      ['application/vnd.oci.image.layer.v1.tar', 'none'],
      ['application/vnd.oci.image.layer.v1.tar+gzip', 'gzip'],
      ['application/vnd.oci.image.layer.v1.tar+zstd', 'zstd'],
      ['application/vnd.oci.image.layer.nondistributable.v1.tar', 'none'],
      ['application/vnd.oci.image.layer.nondistributable.v1.tar+gzip', 'gzip'],
      ['application/vnd.oci.image.layer.nondistributable.v1.tar+zstd', 'zstd'],
      ['application/vnd.docker.image.rootfs.diff.tar', 'none'],
      ['application/vnd.docker.image.rootfs.diff.tar.gzip', 'gzip'],
      ['application/vnd.docker.image.rootfs.diff.tar.zstd', 'zstd'],
      ['application/vnd.docker.image.rootfs.foreign.diff.tar.gzip', 'gzip'],
    ];
    for (const [mt, c] of cases) assert.equal(layerCompression(mt), c, mt);
    assertInvalid(() => layerCompression('application/vnd.in-toto+json'), 'unsupported layer media type "application/vnd.in-toto+json"');
    assertInvalid(() => layerCompression(MediaTypes.ociConfig), /unsupported layer media type/);
  });
});

describe('parseManifest', () => {
  test('the OCI spec example', () => {
    const m = parseManifest(json(OCI_MANIFEST));
    assert.deepEqual(m, OCI_MANIFEST);
    assert.deepEqual(parseManifest(json(OCI_MANIFEST), MediaTypes.ociManifest), OCI_MANIFEST);
  });

  test('a Docker schema2 manifest with a foreign layer', () => {
    const m = parseManifest(json(DOCKER_MANIFEST), MediaTypes.dockerManifest);
    assert.equal(m.layers.length, 2);
    assert.deepEqual(m.layers[1]!.urls, DOCKER_MANIFEST.layers[1]!.urls);
    assert.equal(m.config.digest, sha('c'));
  });

  test('keeps only known fields; null is absent', () => {
    const doc = { ...clone(OCI_MANIFEST), annotations: null, subject: null, extra: { x: 1 } } as Record<string, unknown>;
    (doc['config'] as Record<string, unknown>)['future'] = true;
    const m = parseManifest(json(doc));
    assert.ok(!('annotations' in m) && !('subject' in m) && !('extra' in m));
    assert.deepEqual(Object.keys(m.config).sort(), ['digest', 'mediaType', 'size']);
  });

  test('no mediaType field, empty layers, artifactType', () => {
    const doc = clone(OCI_MANIFEST) as Record<string, unknown>;
    delete doc['mediaType'];
    doc['layers'] = [];
    doc['artifactType'] = 'application/vnd.example+type';
    const m = parseManifest(json(doc));
    assert.equal(m.mediaType, undefined);
    assert.deepEqual(m.layers, []);
    assert.equal(m.artifactType, 'application/vnd.example+type');
  });

  test('the empty descriptor with inline data', () => {
    const d = parseDescriptor(
      {
        mediaType: 'application/vnd.oci.empty.v1+json',
        digest: 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a',
        size: 2,
        data: 'e30=',
      },
      'descriptor',
    );
    assert.equal(d.data, 'e30=');
    const base = { mediaType: 'application/vnd.oci.empty.v1+json', digest: 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a', size: 2 };
    assertInvalid(() => parseDescriptor({ ...base, data: 'e30' }, 'descriptor'), 'descriptor: data: is not valid base64');
    assertInvalid(() => parseDescriptor({ ...base, data: 'e319' }, 'descriptor'), 'descriptor: data: holds 3 bytes but size is 2');
    assertInvalid(() => parseDescriptor({ ...base, data: 'W10=' }, 'descriptor'), /^descriptor: data: does not match digest sha256:4413/);
  });

  test('each error names its field', () => {
    const cases: [string, (m: Mutable) => unknown, RegExp | string][] = [
      ['bad layer digest', (m) => (m.layers[2].digest = 'sha256:xyz'), /^manifest: layers\[2\]\.digest: invalid digest "sha256:xyz"/],
      ['missing layer digest', (m) => delete m.layers[0].digest, 'manifest: layers[0].digest: is required'],
      ['uppercase digest', (m) => (m.config.digest = m.config.digest.toUpperCase()), /^manifest: config\.digest: invalid digest/],
      ['negative size', (m) => (m.layers[1].size = -1), 'manifest: layers[1].size: want a non-negative integer, got -1'],
      ['fractional size', (m) => (m.layers[1].size = 1.5), 'manifest: layers[1].size: want a non-negative integer, got 1.5'],
      ['string size', (m) => (m.layers[1].size = '12'), 'manifest: layers[1].size: want a non-negative integer, got "12"'],
      ['unsafe size', (m) => (m.layers[1].size = 2 ** 53), /^manifest: layers\[1\]\.size: want a non-negative integer/],
      ['missing size', (m) => delete m.config.size, 'manifest: config.size: is required'],
      ['missing layer mediaType', (m) => delete m.layers[1].mediaType, 'manifest: layers[1].mediaType: is required'],
      ['bad layer mediaType', (m) => (m.layers[1].mediaType = 'not a type'), 'manifest: layers[1].mediaType: invalid media type "not a type"'],
      ['layer not an object', (m) => (m.layers[0] = 'x'), 'manifest: layers[0]: want a JSON object, got "x"'],
      ['bad urls', (m) => (m.layers[0].urls = [1]), 'manifest: layers[0].urls[0]: want a string, got 1'],
      ['bad annotation', (m) => (m.annotations['com.example.key2'] = 3), 'manifest: annotations["com.example.key2"]: want a string, got 3'],
      ['bad descriptor annotations', (m) => (m.config.annotations = []), 'manifest: config.annotations: want a JSON object, got []'],
      ['platform without os', (m) => (m.config.platform = { architecture: 'amd64' }), 'manifest: config.platform.os: is required'],
      ['bad os.features', (m) => (m.config.platform = { architecture: 'amd64', os: 'linux', 'os.features': 'x' }), 'manifest: config.platform.os.features: want an array, got "x"'],
      ['missing config', (m) => delete m.config, 'manifest: config: is required'],
      ['missing layers', (m) => delete m.layers, 'manifest: layers: is required'],
      ['layers not an array', (m) => (m.layers = {}), 'manifest: layers: want an array, got {}'],
      ['bad subject', (m) => (m.subject.size = -5), 'manifest: subject.size: want a non-negative integer, got -5'],
      ['schemaVersion 3', (m) => (m.schemaVersion = 3), 'manifest: schemaVersion: want 2, got 3'],
      ['schemaVersion missing', (m) => delete m.schemaVersion, 'manifest: schemaVersion: want 2, got nothing'],
      ['schemaVersion "2"', (m) => (m.schemaVersion = '2'), 'manifest: schemaVersion: want 2, got "2"'],
      ['index mediaType', (m) => (m.mediaType = MediaTypes.ociIndex), /^manifest: mediaType: "application\/vnd\.oci\.image\.index\.v1\+json" is an image index, not a manifest$/],
      ['unknown mediaType', (m) => (m.mediaType = 'application/vnd.oci.artifact.manifest.v1+json'), 'manifest: mediaType: unsupported manifest media type "application/vnd.oci.artifact.manifest.v1+json"'],
      ['mediaType not a string', (m) => (m.mediaType = 7), 'manifest: mediaType: want a string, got 7'],
      ['manifests field', (m) => (m.manifests = []), 'manifest: has a "manifests" field: this is an image index, not a manifest'],
      ['bad artifactType', (m) => (m.artifactType = 'nope'), 'manifest: artifactType: invalid media type "nope"'],
    ];
    for (const [name, mutate, message] of cases) {
      const doc = clone(OCI_MANIFEST) as Mutable;
      mutate(doc);
      assert.doesNotThrow(() => json(doc), name);
      assertInvalid(() => parseManifest(json(doc)), message);
    }
  });

  test('schema1, expected media types, size and JSON', () => {
    assertInvalid(() => parseManifest(json({ schemaVersion: 1, name: 'x', tag: 'y', fsLayers: [] })), /^manifest: Docker image manifest schema1 is unsupported/);
    assertInvalid(() => parseManifest(json({ ...OCI_MANIFEST, mediaType: MediaTypes.dockerSchema1SignedManifest })), /schema1 is unsupported/);
    assertInvalid(() => parseManifest(json(OCI_MANIFEST), MediaTypes.dockerSchema1Manifest), /schema1 is unsupported/);
    assertInvalid(
      () => parseManifest(json(OCI_MANIFEST), MediaTypes.dockerManifest),
      'manifest: mediaType: "application/vnd.oci.image.manifest.v1+json" does not match the expected "application/vnd.docker.distribution.manifest.v2+json"',
    );
    assertInvalid(() => parseManifest(json(OCI_MANIFEST), MediaTypes.ociIndex), 'manifest: "application/vnd.oci.image.index.v1+json" is not an image manifest media type');
    assertInvalid(() => parseManifest(Buffer.from('{"schemaVersion": 2,')), /^manifest: invalid JSON: /);
    assertInvalid(() => parseManifest(Buffer.from('[1]')), 'manifest: want a JSON object, got [1]');
    assertInvalid(() => parseManifest(Buffer.from('null')), 'manifest: want a JSON object, got null');
    const big = Buffer.alloc(MAX_MANIFEST_SIZE + 1, 0x20);
    assertInvalid(() => parseManifest(big), `manifest: ${MAX_MANIFEST_SIZE + 1} bytes is larger than the 4 MiB limit`);
    assertInvalid(() => parseIndex(big), /^index: 4194305 bytes is larger than the 4 MiB limit$/);
    // Exactly 4 MiB is allowed: padding with whitespace keeps it valid JSON.
    const padded = Buffer.alloc(MAX_MANIFEST_SIZE, 0x20);
    json(OCI_MANIFEST).copy(padded);
    assert.equal(parseManifest(padded).layers.length, 3);
  });

  test('a "__proto__" annotation stays data', () => {
    const m = parseManifest(Buffer.from(JSON.stringify(OCI_MANIFEST).replace('"com.example.key1"', '"__proto__"')));
    assert.equal(Object.getPrototypeOf(m.annotations), Object.prototype);
    assert.equal(Object.getOwnPropertyDescriptor(m.annotations, '__proto__')?.value, 'value1');
  });
});

describe('parseIndex', () => {
  test('the OCI spec example', () => {
    assert.deepEqual(parseIndex(json(OCI_INDEX)), OCI_INDEX);
    assert.deepEqual(parseIndex(json(OCI_INDEX), MediaTypes.ociIndex), OCI_INDEX);
  });

  test('a Docker manifest list and a nested index without platform', () => {
    const list = {
      schemaVersion: 2,
      mediaType: MediaTypes.dockerManifestList,
      manifests: [
        { mediaType: MediaTypes.dockerManifest, size: 528, digest: sha('a'), platform: { architecture: 'arm', os: 'linux', variant: 'v7' } },
        { mediaType: MediaTypes.ociIndex, size: 100, digest: sha('b') },
      ],
    };
    const index = parseIndex(json(list));
    assert.deepEqual(index.manifests[0]!.platform, { architecture: 'arm', os: 'linux', variant: 'v7' });
    assert.equal(index.manifests[1]!.platform, undefined);
  });

  test('each error names its field', () => {
    const cases: [string, (m: Mutable) => unknown, RegExp | string][] = [
      ['platform without architecture', (m) => delete m.manifests[1].platform.architecture, 'index: manifests[1].platform.architecture: is required'],
      ['empty os', (m) => (m.manifests[0].platform.os = ''), 'index: manifests[0].platform.os: is empty'],
      ['variant not a string', (m) => (m.manifests[0].platform.variant = 8), 'index: manifests[0].platform.variant: want a string, got 8'],
      ['bad digest', (m) => (m.manifests[1].digest = 'md5:abc'), /^index: manifests\[1\]\.digest: invalid digest "md5:abc"/],
      ['missing manifests', (m) => delete m.manifests, 'index: manifests: is required'],
      ['manifest mediaType', (m) => (m.mediaType = MediaTypes.dockerManifest), /^index: mediaType: ".*" is an image manifest, not an index$/],
      ['unknown mediaType', (m) => (m.mediaType = 'application/json'), 'index: mediaType: unsupported index media type "application/json"'],
      ['layers field', (m) => (m.layers = []), 'index: has a "config" or "layers" field: this is an image manifest, not an index'],
      ['schemaVersion', (m) => (m.schemaVersion = 1), /^index: Docker image manifest schema1 is unsupported/],
    ];
    for (const [name, mutate, message] of cases) {
      const doc = clone(OCI_INDEX) as Mutable;
      mutate(doc);
      assert.ok(name);
      assertInvalid(() => parseIndex(json(doc)), message);
    }
    assertInvalid(() => parseIndex(json(OCI_INDEX), MediaTypes.dockerManifestList), /does not match the expected/);
    assertInvalid(() => parseIndex(json(OCI_INDEX), MediaTypes.ociManifest), 'index: "application/vnd.oci.image.manifest.v1+json" is not an image index media type');
  });
});

describe('detectManifestKind', () => {
  test('by mediaType, Content-Type, or shape', () => {
    assert.equal(detectManifestKind(json(OCI_MANIFEST)), 'manifest');
    assert.equal(detectManifestKind(json(OCI_INDEX)), 'index');
    assert.equal(detectManifestKind(json(DOCKER_MANIFEST)), 'manifest');
    assert.equal(detectManifestKind(json({ schemaVersion: 2, mediaType: MediaTypes.dockerManifestList, manifests: [] })), 'index');
    const bare = (doc: Record<string, unknown>): Buffer => {
      const c = clone(doc);
      delete c['mediaType'];
      return json(c);
    };
    assert.equal(detectManifestKind(bare(OCI_MANIFEST)), 'manifest');
    assert.equal(detectManifestKind(bare(OCI_INDEX)), 'index');
    assert.equal(detectManifestKind(bare(OCI_INDEX), MediaTypes.ociManifest), 'manifest');
    assert.equal(detectManifestKind(bare(OCI_MANIFEST), 'application/json'), 'manifest');
    // The document's own mediaType wins over the Content-Type.
    assert.equal(detectManifestKind(json(OCI_INDEX), MediaTypes.ociManifest), 'index');
  });

  test('errors', () => {
    assertInvalid(() => detectManifestKind(json({ schemaVersion: 1, fsLayers: [] })), /^manifest: Docker image manifest schema1 is unsupported/);
    assertInvalid(() => detectManifestKind(json({ schemaVersion: 2 }), MediaTypes.dockerSchema1SignedManifest), /schema1 is unsupported/);
    assertInvalid(() => detectManifestKind(json({ schemaVersion: 2, mediaType: MediaTypes.dockerSchema1Manifest })), /schema1 is unsupported/);
    assertInvalid(
      () => detectManifestKind(json({ schemaVersion: 2, mediaType: 'application/vnd.oci.artifact.manifest.v1+json' })),
      'manifest: mediaType: unsupported media type "application/vnd.oci.artifact.manifest.v1+json"',
    );
    assertInvalid(() => detectManifestKind(json({ schemaVersion: 2 })), /^manifest: neither an image manifest nor an index/);
    assertInvalid(() => detectManifestKind(Buffer.from('nope')), /^manifest: invalid JSON/);
    assertInvalid(() => detectManifestKind(Buffer.alloc(MAX_MANIFEST_SIZE + 1, 0x20)), /larger than the 4 MiB limit/);
  });
});

describe('parseImageConfig', () => {
  test('the OCI spec example', () => {
    assert.deepEqual(parseImageConfig(json(OCI_CONFIG)), OCI_CONFIG);
  });

  test('a Docker config: nulls, Healthcheck, Docker-only fields', () => {
    const docker = {
      architecture: 'arm64',
      variant: 'v8',
      os: 'linux',
      created: '2024-01-02T03:04:05+01:00',
      docker_version: '24.0.7',
      container_config: { Cmd: ['ignored'] },
      config: {
        Hostname: '',
        Domainname: '',
        User: '',
        AttachStdin: false,
        AttachStdout: false,
        AttachStderr: false,
        Tty: false,
        OpenStdin: false,
        StdinOnce: false,
        Env: ['PATH=/bin'],
        Cmd: ['sh'],
        Image: 'sha256:abc',
        Volumes: null,
        WorkingDir: '',
        Entrypoint: null,
        OnBuild: null,
        Labels: null,
        StopSignal: 'SIGQUIT',
        StopTimeout: 20,
        ArgsEscaped: true,
        Shell: ['/bin/bash', '-c'],
        Healthcheck: { Test: ['CMD-SHELL', 'true'], Interval: 30_000_000_000, Timeout: 1_000_000_000, StartPeriod: 0, StartInterval: 5_000_000_000, Retries: 3 },
      },
      rootfs: { type: 'layers', diff_ids: [sha('1')] },
      history: [{ created: '2024-01-02T03:04:05Z', created_by: 'ADD x /', comment: 'buildkit.dockerfile.v0' }, { empty_layer: true }],
    };
    const c = parseImageConfig(json(docker));
    assert.equal(c.variant, 'v8');
    assert.deepEqual(c.config?.Cmd, ['sh']);
    assert.ok(!('Entrypoint' in c.config!) && !('Volumes' in c.config!) && !('Labels' in c.config!));
    assert.equal(c.config?.Healthcheck?.Retries, 3);
    assert.equal(c.config?.StopTimeout, 20);
    assert.equal(c.config?.ArgsEscaped, true);
    assert.ok(!('docker_version' in c) && !('container_config' in c));
    assert.deepEqual(c.history?.[1], { empty_layer: true });
  });

  test('a scratch image: no layers, no history', () => {
    const c = parseImageConfig(json({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }));
    assert.deepEqual(c.rootfs.diff_ids, []);
    assert.equal(c.history, undefined);
  });

  test('each error names its field', () => {
    const cases: [string, (m: Mutable) => unknown, RegExp | string][] = [
      ['missing rootfs', (c) => delete c.rootfs, 'image config: rootfs: is required'],
      ['rootfs type', (c) => (c.rootfs.type = 'tarballs'), 'image config: rootfs.type: want "layers", got "tarballs"'],
      ['missing rootfs type', (c) => delete c.rootfs.type, 'image config: rootfs.type: is required'],
      ['missing diff_ids', (c) => delete c.rootfs.diff_ids, 'image config: rootfs.diff_ids: is required'],
      ['bad diff_id', (c) => (c.rootfs.diff_ids[1] = 'sha256:nothex'), /^image config: rootfs\.diff_ids\[1\]: invalid digest "sha256:nothex"/],
      ['diff_id not a string', (c) => (c.rootfs.diff_ids[0] = 5), 'image config: rootfs.diff_ids[0]: want a digest string, got 5'],
      ['history too long', (c) => c.history.push({ created_by: 'RUN x' }), 'image config: history: 3 entries have a layer (empty_layer unset) but rootfs.diff_ids has 2'],
      ['history too short', (c) => (c.history[0].empty_layer = true), 'image config: history: 1 entries have a layer (empty_layer unset) but rootfs.diff_ids has 2'],
      ['history entry', (c) => (c.history[2].empty_layer = 'yes'), 'image config: history[2].empty_layer: want true or false, got "yes"'],
      ['history created', (c) => (c.history[1].created = 'yesterday'), 'image config: history[1].created: want an RFC 3339 time, got "yesterday"'],
      ['created', (c) => (c.created = '2015-10-31 22:22:56'), 'image config: created: want an RFC 3339 time, got "2015-10-31 22:22:56"'],
      ['missing architecture', (c) => delete c.architecture, 'image config: architecture: is required'],
      ['os not a string', (c) => (c.os = ['linux']), 'image config: os: want a string, got ["linux"]'],
      ['Env entry', (c) => (c.config.Env[1] = 42), 'image config: config.Env[1]: want a string, got 42'],
      ['Cmd not an array', (c) => (c.config.Cmd = 'run'), 'image config: config.Cmd: want an array, got "run"'],
      ['label value', (c) => (c.config.Labels['com.example.project.git.url'] = true), 'image config: config.Labels["com.example.project.git.url"]: want a string, got true'],
      ['port value', (c) => (c.config.ExposedPorts['8080/tcp'] = 1), 'image config: config.ExposedPorts["8080/tcp"]: want a JSON object, got 1'],
      ['volumes', (c) => (c.config.Volumes = ['/data']), 'image config: config.Volumes: want a JSON object, got ["/data"]'],
      ['healthcheck retries', (c) => (c.config.Healthcheck = { Retries: -1 }), 'image config: config.Healthcheck.Retries: want a non-negative integer, got -1'],
      ['healthcheck test', (c) => (c.config.Healthcheck = { Test: [['CMD']] }), 'image config: config.Healthcheck.Test[0]: want a string, got ["CMD"]'],
      ['config not an object', (c) => (c.config = 'x'), 'image config: config: want a JSON object, got "x"'],
      ['os.features', (c) => (c['os.features'] = [1]), 'image config: os.features[0]: want a string, got 1'],
    ];
    for (const [name, mutate, message] of cases) {
      const doc = clone(OCI_CONFIG) as Mutable;
      mutate(doc);
      assert.ok(name);
      assertInvalid(() => parseImageConfig(json(doc)), message);
    }
    assertInvalid(() => parseImageConfig(Buffer.from('{')), /^image config: invalid JSON/);
  });
});

describe('chainIds', () => {
  test('the image-spec identity test vector', () => {
    // identity/chainid_test.go uses deliberately short fake digests to keep it readable.
    const [a, b, c] = ['sha256:a', 'sha256:b', 'sha256:c'] as Digest[];
    const ab = `sha256:${createHash('sha256').update('sha256:a sha256:b').digest('hex')}`;
    const abc = `sha256:${createHash('sha256').update(`${ab} sha256:c`).digest('hex')}`;
    assert.deepEqual(chainIds([]), []);
    assert.deepEqual(chainIds([a!]), [a]);
    assert.deepEqual(chainIds([a!, b!]), [a, ab]);
    assert.deepEqual(chainIds([a!, b!, c!]), [a, ab, abc]);
  });

  test('the OCI config example diff_ids, computed independently', () => {
    const diffIds = OCI_CONFIG.rootfs.diff_ids as Digest[];
    const second = `sha256:${createHash('sha256').update(`${diffIds[0]} ${diffIds[1]}`).digest('hex')}`;
    assert.deepEqual(chainIds(diffIds), [diffIds[0], second]);
    assert.equal(second, 'sha256:' + createHash('sha256').update(
      'sha256:c6f988f4874bb0add23a778f753c65efe992244e148a1d2ec2a8b664fb66bbd1 sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef',
    ).digest('hex'));
  });
});

describe('platforms', () => {
  test('normalizePlatform', () => {
    const cases: [Platform, Platform][] = [
      [{ os: 'linux', architecture: 'aarch64' }, { os: 'linux', architecture: 'arm64', variant: 'v8' }],
      [{ os: 'linux', architecture: 'arm64' }, { os: 'linux', architecture: 'arm64', variant: 'v8' }],
      [{ os: 'linux', architecture: 'arm64', variant: '8' }, { os: 'linux', architecture: 'arm64', variant: 'v8' }],
      [{ os: 'linux', architecture: 'arm64', variant: 'v8.0' }, { os: 'linux', architecture: 'arm64', variant: 'v8' }],
      [{ os: 'linux', architecture: 'arm64', variant: '9.0' }, { os: 'linux', architecture: 'arm64', variant: 'v9' }],
      [{ os: 'linux', architecture: 'arm64', variant: 'v8.2' }, { os: 'linux', architecture: 'arm64', variant: 'v8.2' }],
      [{ os: 'linux', architecture: 'x86_64' }, { os: 'linux', architecture: 'amd64' }],
      [{ os: 'linux', architecture: 'x86-64', variant: 'v1' }, { os: 'linux', architecture: 'amd64' }],
      [{ os: 'linux', architecture: 'amd64', variant: 'v3' }, { os: 'linux', architecture: 'amd64', variant: 'v3' }],
      [{ os: 'Linux', architecture: 'I386', variant: 'x' }, { os: 'linux', architecture: '386' }],
      [{ os: 'linux', architecture: 'armhf' }, { os: 'linux', architecture: 'arm', variant: 'v7' }],
      [{ os: 'linux', architecture: 'armel' }, { os: 'linux', architecture: 'arm', variant: 'v6' }],
      [{ os: 'linux', architecture: 'arm' }, { os: 'linux', architecture: 'arm', variant: 'v7' }],
      [{ os: 'linux', architecture: 'arm', variant: '6' }, { os: 'linux', architecture: 'arm', variant: 'v6' }],
      [{ os: 'macos', architecture: 'arm64' }, { os: 'darwin', architecture: 'arm64', variant: 'v8' }],
      [
        { os: 'linux', architecture: 'amd64', 'os.features': ['b', 'a', 'b'], 'os.version': '' },
        { os: 'linux', architecture: 'amd64', 'os.features': ['a', 'b'] },
      ],
    ];
    for (const [input, want] of cases) assert.deepEqual(normalizePlatform(input), want, JSON.stringify(input));
  });

  test('parsePlatform and formatPlatform (containerd TestParseSelector, normalised)', () => {
    const host = hostPlatform();
    const cases: [string, string][] = [
      ['linux/arm64', 'linux/arm64/v8'],
      ['linux/arm64/v8', 'linux/arm64/v8'],
      ['linux/arm', 'linux/arm/v7'],
      ['linux/arm/v6', 'linux/arm/v6'],
      ['linux/arm/v7', 'linux/arm/v7'],
      ['linux/amd64', 'linux/amd64'],
      ['linux/amd64/v3', 'linux/amd64/v3'],
      ['arm', `${host.os}/arm/v7`],
      ['armel', `${host.os}/arm/v6`],
      ['armhf', `${host.os}/arm/v7`],
      ['Aarch64', `${host.os}/arm64/v8`],
      ['x86_64', `${host.os}/amd64`],
      ['Linux/x86_64', 'linux/amd64'],
      ['i386', `${host.os}/386`],
      ['s390x', `${host.os}/s390x`],
      ['linux/s390x', 'linux/s390x'],
      ['linux', formatPlatform({ ...host, os: 'linux' })],
      ['macOS', formatPlatform({ ...host, os: 'darwin' })],
      ['windows', formatPlatform({ ...host, os: 'windows' })],
    ];
    for (const [input, formatted] of cases) assert.equal(formatPlatform(parsePlatform(input)), formatted, input);
    assert.deepEqual(parsePlatform('linux/arm64/v8'), { os: 'linux', architecture: 'arm64', variant: 'v8' });
    assert.equal(formatPlatform({ os: '', architecture: 'amd64' }), 'unknown');
    assert.equal(formatPlatform({ os: 'linux', architecture: 'arm64' }), 'linux/arm64');
    assertInvalid(() => parsePlatform('foo'), '"foo": unknown operating system or architecture');
    assertInvalid(() => parsePlatform('linux/*'), '"linux/*": wildcards not yet supported');
    assertInvalid(() => parsePlatform('linux/arm/v7/x'), '"linux/arm/v7/x": cannot parse platform specifier');
    assertInvalid(() => parsePlatform('linux//v7'), /^"" is an invalid component of "linux\/\/v7"/);
    assertInvalid(() => parsePlatform(''), /is an invalid component/);
  });

  test('hostPlatform maps Node to Go names', () => {
    assert.deepEqual(hostPlatform({ arch: 'x64', platform: 'linux' }), { os: 'linux', architecture: 'amd64' });
    assert.deepEqual(hostPlatform({ arch: 'arm64', platform: 'linux' }), { os: 'linux', architecture: 'arm64', variant: 'v8' });
    assert.deepEqual(hostPlatform({ arch: 'arm', platform: 'linux', armVersion: '6' }), { os: 'linux', architecture: 'arm', variant: 'v6' });
    assert.deepEqual(hostPlatform({ arch: 'arm', platform: 'linux', armVersion: '7' }), { os: 'linux', architecture: 'arm', variant: 'v7' });
    assert.deepEqual(hostPlatform({ arch: 'ia32', platform: 'linux' }), { os: 'linux', architecture: '386' });
    assert.deepEqual(hostPlatform({ arch: 'mipsel', platform: 'linux' }), { os: 'linux', architecture: 'mipsle' });
    assert.deepEqual(hostPlatform({ arch: 's390x', platform: 'linux' }), { os: 'linux', architecture: 's390x' });
    assert.deepEqual(hostPlatform({ arch: 'riscv64', platform: 'linux' }), { os: 'linux', architecture: 'riscv64' });
    assert.deepEqual(hostPlatform({ arch: 'x64', platform: 'win32' }), { os: 'windows', architecture: 'amd64' });
    assert.match(hostPlatform({ arch: 'ppc64', platform: 'linux' }).architecture, /^ppc64(le)?$/);
    const here = hostPlatform();
    assert.equal(here.os, process.platform === 'linux' ? 'linux' : here.os);
    if (process.arch === 'x64') assert.deepEqual(here, { os: 'linux', architecture: 'amd64' });
  });

  // containerd compare_test.go TestOnly and TestOnlyStrict (Windows OS-version cases left out).
  const only: [string, string[], string[]][] = [
    ['linux/amd64', ['linux/amd64', 'linux/386'], ['linux/amd64/v2', 'linux/arm/v7', 'linux/arm64', 'windows/amd64', 'windows/arm']],
    ['linux/amd64/v2', ['linux/amd64', 'linux/amd64/v1', 'linux/amd64/v2', 'linux/386'], ['linux/amd64/v3', 'linux/amd64/v4', 'linux/arm/v7', 'linux/arm64', 'windows/amd64', 'windows/arm']],
    ['linux/386', ['linux/386'], ['linux/amd64', 'linux/arm/v7', 'linux/arm64', 'windows/amd64', 'windows/arm']],
    ['windows/amd64', ['windows/amd64'], ['linux/amd64', 'linux/arm/v7', 'linux/arm64', 'windows/arm']],
    ['linux/arm/v8', ['linux/arm', 'linux/arm/v5', 'linux/arm/v6', 'linux/arm/v7', 'linux/arm/v8'], ['linux/amd64', 'linux/arm/v4', 'linux/arm64', 'windows/amd64', 'windows/arm']],
    ['linux/arm/v7', ['linux/arm', 'linux/arm/v5', 'linux/arm/v6', 'linux/arm/v7'], ['linux/amd64', 'linux/arm/v4', 'linux/arm/v8', 'linux/arm64', 'windows/amd64', 'windows/arm']],
    ['linux/arm/v6', ['linux/arm/v5', 'linux/arm/v6'], ['linux/amd64', 'linux/arm', 'linux/arm/v4', 'linux/arm/v7', 'linux/arm/v8', 'linux/arm64', 'windows/amd64', 'windows/arm']],
    ['linux/arm/v5', ['linux/arm/v5'], ['linux/amd64', 'linux/arm', 'linux/arm/v4', 'linux/arm/v6', 'linux/arm/v7', 'linux/arm/v8', 'linux/arm64', 'windows/amd64', 'windows/arm']],
    ['linux/arm/v4', ['linux/arm/v4'], ['linux/amd64', 'linux/arm', 'linux/arm/v5', 'linux/arm/v6', 'linux/arm/v7', 'linux/arm/v8', 'linux/arm64', 'windows/amd64', 'windows/arm']],
    [
      'linux/arm64/v9.6',
      ['linux/arm', 'linux/arm/v5', 'linux/arm/v6', 'linux/arm/v7', 'linux/arm/v8', 'linux/arm64', 'linux/arm64/v8', 'linux/arm64/v8.1', 'linux/arm64/v8.2', 'linux/arm64/v8.3', 'linux/arm64/v8.4', 'linux/arm64/v8.5', 'linux/arm64/v8.6', 'linux/arm64/v8.7', 'linux/arm64/v8.8', 'linux/arm64/v8.9', 'linux/arm64/v9', 'linux/arm64/v9.0', 'linux/arm64/v9.1', 'linux/arm64/v9.2', 'linux/arm64/v9.3', 'linux/arm64/v9.4', 'linux/arm64/v9.5', 'linux/arm64/v9.6'],
      ['linux/amd64', 'linux/arm/v4', 'windows/amd64', 'windows/arm', 'linux/arm64/v8.10'],
    ],
    [
      'linux/arm64/v9',
      ['linux/arm', 'linux/arm/v5', 'linux/arm/v6', 'linux/arm/v7', 'linux/arm/v8', 'linux/arm64', 'linux/arm64/v8', 'linux/arm64/v8.1', 'linux/arm64/v8.2', 'linux/arm64/v8.3', 'linux/arm64/v8.4', 'linux/arm64/v8.5', 'linux/arm64/v9', 'linux/arm64/v9.0'],
      ['linux/amd64', 'linux/arm/v4', 'windows/amd64', 'windows/arm', 'linux/arm64/v8.6'],
    ],
    [
      'linux/arm64/v8.1',
      ['linux/arm', 'linux/arm/v5', 'linux/arm/v6', 'linux/arm/v7', 'linux/arm/v8', 'linux/arm64', 'linux/arm64/v8', 'linux/arm64/v8.1'],
      ['linux/amd64', 'linux/arm/v4', 'linux/arm/v9', 'linux/arm64/v9', 'windows/amd64', 'windows/arm'],
    ],
    [
      'linux/arm64',
      ['linux/arm', 'linux/arm/v5', 'linux/arm/v6', 'linux/arm/v7', 'linux/arm/v8', 'linux/arm64', 'linux/arm64/v8'],
      ['linux/amd64', 'linux/arm/v4', 'linux/arm/v9', 'linux/arm64/v9', 'windows/amd64', 'windows/arm'],
    ],
  ];
  for (const [want, yes, no] of only) {
    test(`platformMatches(${want}, …)`, () => {
      for (const have of yes) assert.ok(platformMatches(parsePlatform(want), parsePlatform(have)), `${want} should accept ${have}`);
      for (const have of no) assert.ok(!platformMatches(parsePlatform(want), parsePlatform(have)), `${want} should refuse ${have}`);
    });
  }

  const strict: [string, string[], string[]][] = [
    ['linux/amd64', ['linux/amd64'], ['linux/386', 'linux/arm/v7', 'linux/arm64', 'windows/amd64', 'windows/arm']],
    ['linux/arm/v8', ['linux/arm/v8'], ['linux/arm', 'linux/arm/v5', 'linux/arm/v6', 'linux/arm/v7', 'linux/amd64', 'linux/arm/v4', 'linux/arm64']],
    ['linux/arm/v7', ['linux/arm', 'linux/arm/v7'], ['linux/arm/v5', 'linux/arm/v6', 'linux/amd64', 'linux/arm/v4', 'linux/arm/v8', 'linux/arm64']],
    ['linux/arm64/v9.5', ['linux/arm64/v9.5'], ['linux/arm', 'linux/arm/v8', 'linux/arm64/v8', 'linux/arm64/v8.1', 'linux/arm64/v9', 'linux/arm64/v9.1', 'linux/arm64/v9.4']],
    ['linux/arm64/v9', ['linux/arm64/v9', 'linux/arm64/v9.0'], ['linux/arm', 'linux/arm/v8', 'linux/arm/v9', 'linux/arm64/v8', 'linux/arm64/v8.1']],
    ['linux/arm64', ['linux/arm64', 'linux/arm64/v8'], ['linux/arm', 'linux/arm/v7', 'linux/arm/v8', 'linux/amd64', 'linux/arm/v9', 'linux/arm64/v9']],
  ];
  for (const [want, yes, no] of strict) {
    test(`platformMatches(${want}, …, strict)`, () => {
      for (const have of yes) assert.ok(platformMatches(parsePlatform(want), parsePlatform(have), { strict: true }), `${want} should accept ${have}`);
      for (const have of no) assert.ok(!platformMatches(parsePlatform(want), parsePlatform(have), { strict: true }), `${want} should refuse ${have}`);
    });
  }

  test('raw platform objects: arm64 without variant == v8, aarch64, os.features', () => {
    assert.ok(platformMatches({ os: 'linux', architecture: 'arm64', variant: 'v8' }, { os: 'linux', architecture: 'arm64' }));
    assert.ok(platformMatches({ os: 'linux', architecture: 'arm64' }, { os: 'linux', architecture: 'aarch64', variant: 'v8' }));
    assert.ok(platformMatches({ os: 'linux', architecture: 'amd64' }, { os: 'linux', architecture: 'x86_64' }));
    assert.ok(!platformMatches({ os: 'linux', architecture: 'amd64' }, { os: 'linux', architecture: 'amd64', 'os.features': ['gpu'] }));
    assert.ok(platformMatches({ os: 'linux', architecture: 'amd64', 'os.features': ['gpu', 'x'] }, { os: 'linux', architecture: 'amd64', 'os.features': ['gpu'] }));
  });
});

describe('selectManifest', () => {
  let n = 0;
  const entry = (platform?: Platform): Descriptor => {
    n++;
    const d: Descriptor = { mediaType: MediaTypes.ociManifest, digest: sha(n.toString(16)), size: 100 + n };
    if (platform !== undefined) d.platform = platform;
    return d;
  };
  const index = (...manifests: Descriptor[]): Index => ({ schemaVersion: 2, mediaType: MediaTypes.ociIndex, manifests });
  const p = (s: string): Platform => {
    const [os, architecture, variant] = s.split('/') as [string, string, string | undefined];
    return variant === undefined ? { os, architecture } : { os, architecture, variant };
  };

  test('picks the exact platform over compatible ones', () => {
    const v5 = entry(p('linux/arm/v5'));
    const v6 = entry(p('linux/arm/v6'));
    const v7 = entry(p('linux/arm/v7'));
    const arm64 = entry(p('linux/arm64'));
    const amd64 = entry(p('linux/amd64'));
    const i386 = entry(p('linux/386'));
    const all = index(i386, v5, v6, amd64, v7, arm64);
    assert.equal(selectManifest(all, p('linux/arm/v7')), v7);
    assert.equal(selectManifest(all, p('linux/arm')), v7);
    assert.equal(selectManifest(all, p('linux/arm/v6')), v6);
    assert.equal(selectManifest(all, p('linux/arm64/v8')), arm64);
    assert.equal(selectManifest(all, p('linux/aarch64')), arm64);
    assert.equal(selectManifest(all, p('linux/amd64')), amd64);
    assert.equal(selectManifest(all, p('linux/x86_64')), amd64);
    assert.equal(selectManifest(all, p('linux/386')), i386);
  });

  test('falls back in order of preference', () => {
    const v5 = entry(p('linux/arm/v5'));
    const v6 = entry(p('linux/arm/v6'));
    assert.equal(selectManifest(index(v5, v6), p('linux/arm/v7')), v6);
    assert.equal(selectManifest(index(v6, v5), p('linux/arm/v7')), v6);
    assert.equal(selectManifest(index(v5), p('linux/arm/v7')), v5);
    // A 64-bit ARM host runs 32-bit ARM images; an amd64 host runs 386 ones.
    const armv7 = entry(p('linux/arm/v7'));
    assert.equal(selectManifest(index(v6, armv7), p('linux/arm64')), armv7);
    const i386 = entry(p('linux/386'));
    assert.equal(selectManifest(index(armv7, i386), p('linux/amd64')), i386);
    const v2 = entry(p('linux/amd64/v2'));
    const v1 = entry(p('linux/amd64'));
    assert.equal(selectManifest(index(i386, v1, v2), p('linux/amd64/v3')), v2);
  });

  test('ties: more os.features, then the first listed', () => {
    const plain = entry(p('linux/amd64'));
    const withFeature = entry({ os: 'linux', architecture: 'amd64', 'os.features': ['gpu'] });
    const second = entry(p('linux/amd64'));
    assert.equal(selectManifest(index(plain, second), p('linux/amd64')), plain);
    assert.equal(selectManifest(index(plain, withFeature), { os: 'linux', architecture: 'amd64', 'os.features': ['gpu'] }), withFeature);
    assert.equal(selectManifest(index(withFeature, plain), p('linux/amd64')), plain);
  });

  test('skips entries without a platform and attestation manifests', () => {
    const attestation = entry(p('unknown/unknown'));
    const noPlatform = entry();
    const amd64 = entry(p('linux/amd64'));
    assert.equal(selectManifest(index(noPlatform, attestation, amd64), p('linux/amd64')), amd64);
  });

  test("no match: Docker's message", () => {
    const arm = index(entry(p('linux/arm/v7')), entry(p('linux/ppc64le')));
    const ppc = index(entry(p('linux/ppc64le')));
    const check = (idx: Index, want: Platform, message: string): void =>
      assert.throws(
        () => selectManifest(idx, want),
        (err: unknown) => isBerthError(err, 'NotFound') && (err as Error).message === message,
      );
    check(arm, p('linux/amd64'), 'no matching manifest for linux/amd64 in the manifest list entries');
    check(arm, p('linux/arm/v6'), 'no matching manifest for linux/arm/v6 in the manifest list entries');
    check(arm, p('windows/amd64'), 'no matching manifest for windows/amd64 in the manifest list entries');
    check(ppc, p('linux/arm64'), 'no matching manifest for linux/arm64/v8 in the manifest list entries');
    check(ppc, p('linux/arm'), 'no matching manifest for linux/arm/v7 in the manifest list entries');
    check(index(), p('linux/amd64'), 'no matching manifest for linux/amd64 in the manifest list entries');
  });

  test('works on a parsed index', () => {
    const parsed = parseIndex(json(OCI_INDEX));
    assert.equal(selectManifest(parsed, p('linux/amd64')).size, 7682);
    assert.equal(selectManifest(parsed, p('linux/ppc64le')).size, 7143);
  });
});
