// Stage planning: meta ARGs and FROM expansion, base and --from resolution, targets,
// skipped stages, dependency lists for parallel builds, and the errors.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  PLATFORM_ARGS,
  PROXY_ARGS,
  parseDockerfile,
  planStages,
  type PlanOptions,
  type StagePlan,
} from '../../src/build/dockerfile/index.js';
import { isBerthError } from '../../src/util/errors.js';

function plan(text: string, opts: Partial<PlanOptions> = {}): StagePlan {
  return planStages(parseDockerfile(text), { buildArgs: {}, ...opts });
}

function planError(text: string, opts: Partial<PlanOptions> = {}): string {
  try {
    plan(text, opts);
  } catch (err) {
    assert.ok(isBerthError(err, 'InvalidArgument'), `not an InvalidArgument BerthError: ${String(err)}`);
    return err.message;
  }
  assert.fail('no error');
}

/** [index, deps] of each planned stage, in build order. */
const order = (p: StagePlan): [number, number[]][] => p.stages.map((s) => [s.index, s.deps]);

describe('meta ARGs and FROM expansion', () => {
  it('expands FROM with meta ARG defaults, earlier meta ARGs and build args', () => {
    const text = 'ARG REG=docker.io\nARG IMAGE=${REG}/library/alpine\nARG TAG=3.19\nFROM ${IMAGE}:${TAG}\n';
    assert.equal(plan(text).stages[0]?.image, 'docker.io/library/alpine:3.19');
    assert.equal(plan(text, { buildArgs: { TAG: 'edge' } }).stages[0]?.image, 'docker.io/library/alpine:edge');
    assert.equal(plan(text, { buildArgs: { REG: 'r.example' } }).stages[0]?.image, 'r.example/library/alpine:3.19');
    assert.deepEqual([...plan(text, { buildArgs: { TAG: 'edge' } }).globalArgs], [
      ['REG', 'docker.io'],
      ['IMAGE', 'docker.io/library/alpine'],
      ['TAG', 'edge'],
    ]);
  });

  it('lets FROM see only declared meta ARGs, not undeclared build args or stage ARGs/ENVs', () => {
    const text = 'FROM alpine AS a\nARG V=1\nENV W=2\nFROM busybox:${V}${W}${UNDECLARED}\n';
    assert.equal(plan(text, { buildArgs: { UNDECLARED: 'x' } }).stages[0]?.image, 'busybox:');
    assert.equal(plan('ARG UNSET\nFROM a${UNSET:-b}\n').stages[0]?.image, 'ab');
    assert.equal(plan('ARG X\nFROM a$X\n', { buildArgs: { X: 'y' } }).stages[0]?.image, 'ay');
  });

  it('expands --platform with the platform args, which build args override', () => {
    const platformArgs = { BUILDPLATFORM: 'linux/amd64', TARGETPLATFORM: 'linux/arm64', TARGETARCH: 'arm64' };
    const text = 'FROM --platform=$BUILDPLATFORM golang AS build\nFROM alpine:$TARGETARCH\nCOPY --from=build /out /\n';
    const p = plan(text, { platformArgs });
    assert.deepEqual(p.stages.map((s) => [s.image, s.platform]), [['golang', 'linux/amd64'], ['alpine:arm64', undefined]]);
    const over = plan(text, { platformArgs, buildArgs: { BUILDPLATFORM: 'linux/riscv64' } });
    assert.equal(over.stages[0]?.platform, 'linux/riscv64');
    assert.equal(planError('FROM --platform=$NOPE alpine'), 'Dockerfile:1: empty platform value from expression $NOPE');
  });

  it('locates expansion errors and blank base names', () => {
    assert.equal(planError('ARG A\nFROM ${A:?required}\n'), 'Dockerfile:2: failed to process "${A:?required}": A: required');
    assert.equal(planError('ARG B=${X:?}\nFROM a\n'), 'Dockerfile:1: failed to process "${X:?}": X: is not allowed to be unset');
    assert.equal(planError('ARG A\nFROM $A\n'), 'Dockerfile:2: base name ($A) should not be blank');
  });

  it('exports the predefined proxy and platform args', () => {
    assert.deepEqual([...PROXY_ARGS].sort(), ['ALL_PROXY', 'FTP_PROXY', 'HTTPS_PROXY', 'HTTP_PROXY', 'NO_PROXY', 'all_proxy', 'ftp_proxy', 'http_proxy', 'https_proxy', 'no_proxy']);
    assert.deepEqual([...PLATFORM_ARGS].sort(), ['BUILDARCH', 'BUILDOS', 'BUILDPLATFORM', 'BUILDVARIANT', 'TARGETARCH', 'TARGETOS', 'TARGETPLATFORM', 'TARGETVARIANT']);
  });
});

describe('base and source resolution', () => {
  it('resolves FROM to an earlier stage (case-insensitively), an image or scratch', () => {
    const p = plan('FROM alpine AS Base\nFROM base AS mid\nFROM BASE\nFROM scratch\nCOPY --from=mid /a /a\nCOPY --from=2 /b /b\n');
    assert.deepEqual(p.stages.map((s) => s.base), [
      { kind: 'image', image: 'alpine' },
      { kind: 'stage', stage: 0 },
      { kind: 'stage', stage: 0 },
      { kind: 'scratch' },
    ]);
  });

  it('treats FROM x AS x and FROM of a later name as images, like BuildKit', () => {
    const p = plan('FROM node AS node\nFROM later AS first\nFROM alpine AS later\nCOPY --from=node / /\nCOPY --from=first / /\n');
    assert.deepEqual(p.stages.map((s) => s.base), [
      { kind: 'image', image: 'node' },
      { kind: 'image', image: 'later' },
      { kind: 'image', image: 'alpine' },
    ]);
  });

  it('resolves COPY --from and RUN --mount from= by name, index or image', () => {
    const p = plan([
      'FROM alpine AS deps',
      'FROM alpine AS tools',
      'FROM scratch',
      'COPY --from=deps /a /a',
      'COPY --from=1 /b /b',
      'COPY --from=nginx:1.25 /etc/nginx /etc/nginx',
      'COPY --from=scratch / /',
      'RUN --mount=type=cache,target=/c --mount=type=bind,from=TOOLS,target=/t --mount=from=busybox,target=/bb true',
      'COPY a b',
    ].join('\n'));
    const last = p.stages[p.stages.length - 1];
    assert.deepEqual(last?.sources, [
      { instruction: 0, from: 'deps', ref: { kind: 'stage', stage: 0 } },
      { instruction: 1, from: '1', ref: { kind: 'stage', stage: 1 } },
      { instruction: 2, from: 'nginx:1.25', ref: { kind: 'image', image: 'nginx:1.25' } },
      { instruction: 3, from: 'scratch', ref: { kind: 'scratch' } },
      { instruction: 4, mount: 1, from: 'TOOLS', ref: { kind: 'stage', stage: 1 } },
      { instruction: 4, mount: 2, from: 'busybox', ref: { kind: 'image', image: 'busybox' } },
    ]);
    assert.deepEqual(last?.deps, [0, 1]);
  });

  it('rejects variables in COPY --from and bad stage indexes', () => {
    const msg = planError('ARG S=a\nFROM alpine AS a\nFROM scratch\nCOPY --from=$S / /\n');
    assert.equal(msg, 'Dockerfile:4: variable expansion is not supported for --from, define a new stage with FROM using ARG from global scope as a workaround');
    assert.equal(planError('FROM a\nFROM b\nCOPY --from=7 / /\n'), 'Dockerfile:3: invalid stage index 7');
    assert.equal(planError('FROM a\nCOPY --from=-1 / /\n'), 'Dockerfile:2: invalid stage index -1');
  });
});

describe('targets, skipping and parallelism', () => {
  const text = [
    'FROM alpine AS base', // 0
    'FROM base AS deps', // 1
    'FROM base AS assets', // 2
    'FROM golang AS unused', // 3
    'FROM base AS app', // 4
    'COPY --from=deps /d /d',
    'COPY --from=assets /a /a',
    'FROM app AS test', // 5
    'RUN --mount=type=bind,from=unused,target=/u true',
  ].join('\n');

  it('builds the last stage by default, with only the stages it needs', () => {
    const p = plan(text);
    assert.equal(p.target, 5);
    assert.deepEqual(order(p), [[0, []], [1, [0]], [2, [0]], [3, []], [4, [0, 1, 2]], [5, [3, 4]]]);
  });

  it('skips stages the target does not need', () => {
    const p = plan(text, { target: 'app' });
    assert.equal(p.target, 4);
    // deps and assets both need only base: they can run in parallel.
    assert.deepEqual(order(p), [[0, []], [1, [0]], [2, [0]], [4, [0, 1, 2]]]);
    assert.deepEqual(order(plan(text, { target: 'DEPS' })), [[0, []], [1, [0]]]);
    assert.deepEqual(order(plan(text, { target: 'unused' })), [[3, []]]);
  });

  it('lists every planned stage after all of its dependencies', () => {
    const p = plan(text);
    const seen = new Set<number>();
    for (const s of p.stages) {
      for (const d of s.deps) assert.ok(seen.has(d), `stage ${s.index} before its dependency ${d}`);
      seen.add(s.index);
    }
  });

  it('rejects an unknown target', () => {
    assert.equal(planError(text, { target: 'nope' }), 'target stage "nope" could not be found');
  });
});

describe('stage errors', () => {
  it('rejects a stage name used twice', () => {
    assert.equal(planError('FROM a AS x\nFROM b AS X\n'), 'Dockerfile:2: duplicate stage name "x", also defined at line 1');
  });

  it('rejects references to the stage itself or to later stages', () => {
    assert.equal(planError('FROM a AS self\nCOPY --from=self / /\n'), 'Dockerfile:2: circular dependency detected on stage: self');
    assert.equal(planError('FROM a\nCOPY --from=0 / /\n'), 'Dockerfile:2: circular dependency detected on stage: stage-0');
    assert.equal(
      planError('FROM a AS one\nCOPY --from=two / /\nFROM b AS two\nCOPY --from=one / /\n'),
      'Dockerfile:2: cannot copy from stage "two", it needs to be defined before current stage "one"',
    );
    assert.equal(
      planError('FROM a AS one\nRUN --mount=from=two,target=/x true\nFROM b AS two\n'),
      'Dockerfile:2: cannot mount from stage "two", it needs to be defined before current stage "one"',
    );
  });

  it('rejects invalid stage names in hand-built Dockerfiles', () => {
    const df = parseDockerfile('FROM a AS ok\n');
    const stage = df.stages[0];
    assert.ok(stage);
    stage.name = 'Bad!';
    assert.throws(() => planStages(df, { buildArgs: {} }), /Dockerfile:1: invalid name for build stage: "Bad!"/);
  });

  it('rejects a Dockerfile without stages', () => {
    const df = parseDockerfile('ARG A=1\n');
    assert.throws(() => planStages(df, { buildArgs: {} }), /dockerfile contains no stages to build/);
  });
});
