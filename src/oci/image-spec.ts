// The OCI image specification (v1.1) and Docker's image manifest v2 schema 2: media
// types, the documents' shapes, validating parsers and platform matching.
// Pure: no I/O. Parsers take a blob's bytes and return a typed object holding only
// the known fields, or throw InvalidArgument naming the offending field, because a
// registry or a tarball is untrusted input and "invalid manifest" alone helps nobody.
import { endianness } from 'node:os';

import { digestOf, parseDigest, type Digest } from '../util/digest.js';
import { BerthError, invalidArgument, notFound } from '../util/errors.js';

// ---------------------------------------------------------------------------
// Media types

export const MediaTypes = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  ociLayerNondistributable: 'application/vnd.oci.image.layer.nondistributable.v1.tar',
  ociLayerNondistributableGzip: 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  ociLayerNondistributableZstd: 'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd',
  ociEmpty: 'application/vnd.oci.empty.v1+json',

  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  // `docker save` and containerd use the uncompressed and zstd forms; registries
  // almost always serve the gzip one.
  dockerLayer: 'application/vnd.docker.image.rootfs.diff.tar',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  dockerLayerZstd: 'application/vnd.docker.image.rootfs.diff.tar.zstd',
  dockerForeignLayer: 'application/vnd.docker.image.rootfs.foreign.diff.tar',
  dockerForeignLayerGzip: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
  // Recognised only to refuse them with a clear message.
  dockerSchema1Manifest: 'application/vnd.docker.distribution.manifest.v1+json',
  dockerSchema1SignedManifest: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
} as const;

export type LayerCompression = 'none' | 'gzip' | 'zstd';

const LAYER_COMPRESSION: ReadonlyMap<string, LayerCompression> = new Map<string, LayerCompression>([
  [MediaTypes.ociLayer, 'none'],
  [MediaTypes.ociLayerGzip, 'gzip'],
  [MediaTypes.ociLayerZstd, 'zstd'],
  [MediaTypes.ociLayerNondistributable, 'none'],
  [MediaTypes.ociLayerNondistributableGzip, 'gzip'],
  [MediaTypes.ociLayerNondistributableZstd, 'zstd'],
  [MediaTypes.dockerLayer, 'none'],
  [MediaTypes.dockerLayerGzip, 'gzip'],
  [MediaTypes.dockerLayerZstd, 'zstd'],
  [MediaTypes.dockerForeignLayer, 'none'],
  [MediaTypes.dockerForeignLayerGzip, 'gzip'],
]);

export function isManifestType(mediaType: string): boolean {
  return mediaType === MediaTypes.ociManifest || mediaType === MediaTypes.dockerManifest;
}

export function isIndexType(mediaType: string): boolean {
  return mediaType === MediaTypes.ociIndex || mediaType === MediaTypes.dockerManifestList;
}

export function isConfigType(mediaType: string): boolean {
  return mediaType === MediaTypes.ociConfig || mediaType === MediaTypes.dockerConfig;
}

export function isLayerType(mediaType: string): boolean {
  return LAYER_COMPRESSION.has(mediaType);
}

function isSchema1Type(mediaType: string): boolean {
  return mediaType === MediaTypes.dockerSchema1Manifest || mediaType === MediaTypes.dockerSchema1SignedManifest;
}

/** How a layer blob of this media type is compressed; InvalidArgument for a non-layer type. */
export function layerCompression(mediaType: string): LayerCompression {
  const c = LAYER_COMPRESSION.get(mediaType);
  if (c === undefined) throw invalidArgument(`unsupported layer media type "${clip(mediaType)}"`);
  return c;
}

// ---------------------------------------------------------------------------
// Documents

export interface Platform {
  architecture: string;
  os: string;
  'os.version'?: string;
  'os.features'?: string[];
  variant?: string;
}

export interface Descriptor {
  mediaType: string;
  digest: Digest;
  size: number;
  urls?: string[];
  annotations?: Record<string, string>;
  /** Base64 of the blob itself (OCI 1.1), verified against digest and size when parsed. */
  data?: string;
  platform?: Platform;
  artifactType?: string;
}

export interface Manifest {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  config: Descriptor;
  layers: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

export interface Index {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  manifests: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

/** The value type of ExposedPorts and Volumes: Go's map[string]struct{}. */
export type EmptyObject = Record<string, never>;

/** Durations are Go time.Duration values: integer nanoseconds. */
export interface HealthConfig {
  Test?: string[];
  Interval?: number;
  Timeout?: number;
  StartPeriod?: number;
  StartInterval?: number;
  Retries?: number;
}

/** The image config's "config": OCI's fields plus the Docker ones `docker inspect` shows. */
export interface ContainerConfig {
  User?: string;
  ExposedPorts?: Record<string, EmptyObject>;
  Env?: string[];
  Entrypoint?: string[];
  Cmd?: string[];
  Volumes?: Record<string, EmptyObject>;
  WorkingDir?: string;
  Labels?: Record<string, string>;
  StopSignal?: string;
  StopTimeout?: number;
  ArgsEscaped?: boolean;
  Healthcheck?: HealthConfig;
  Shell?: string[];
  OnBuild?: string[];
  Hostname?: string;
  Domainname?: string;
  AttachStdin?: boolean;
  AttachStdout?: boolean;
  AttachStderr?: boolean;
  Tty?: boolean;
  OpenStdin?: boolean;
  StdinOnce?: boolean;
  Image?: string;
  NetworkDisabled?: boolean;
  MacAddress?: string;
}

export interface RootFS {
  type: 'layers';
  diff_ids: Digest[];
}

export interface HistoryEntry {
  created?: string;
  created_by?: string;
  author?: string;
  comment?: string;
  empty_layer?: boolean;
}

export interface ImageConfig {
  created?: string;
  author?: string;
  architecture: string;
  os: string;
  'os.version'?: string;
  'os.features'?: string[];
  variant?: string;
  config?: ContainerConfig;
  rootfs: RootFS;
  history?: HistoryEntry[];
}

// ---------------------------------------------------------------------------
// Field readers. `where` is "doc" or "doc: path"; errors read "doc: path.field: problem".

/** The largest manifest or index accepted: distribution's registry refuses bigger bodies (maxManifestBodySize). */
export const MAX_MANIFEST_SIZE = 4 * 1024 * 1024;

type JsonObject = Record<string, unknown>;

function clip(s: string, max = 160): string {
  return s.length > max ? `${s.slice(0, max)}…` : s;
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  const text = JSON.stringify(v);
  return clip(text ?? String(v), 60);
}

function field(where: string, key: string): string {
  return where.includes(': ') ? `${where}.${key}` : `${where}: ${key}`;
}

function fail(where: string, problem: string): BerthError {
  return invalidArgument(`${where}: ${problem}`);
}

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function asObject(v: unknown, where: string): JsonObject {
  if (!isObject(v)) throw fail(where, `want a JSON object, got ${describe(v)}`);
  return v;
}

/** Absent and null are the same thing (OCI: "any OPTIONAL field MAY also be set to null"). */
function present(o: JsonObject, key: string): boolean {
  return o[key] !== undefined && o[key] !== null;
}

function reqString(o: JsonObject, key: string, where: string): string {
  if (!present(o, key)) throw fail(field(where, key), 'is required');
  return optString(o, key, where)!;
}

function optString(o: JsonObject, key: string, where: string): string | undefined {
  if (!present(o, key)) return undefined;
  const v = o[key];
  if (typeof v !== 'string') throw fail(field(where, key), `want a string, got ${describe(v)}`);
  return v;
}

function optBool(o: JsonObject, key: string, where: string): boolean | undefined {
  if (!present(o, key)) return undefined;
  const v = o[key];
  if (typeof v !== 'boolean') throw fail(field(where, key), `want true or false, got ${describe(v)}`);
  return v;
}

/** An integer field; `nonNegative` for sizes, counts and durations. */
function optInt(o: JsonObject, key: string, where: string, nonNegative: boolean): number | undefined {
  if (!present(o, key)) return undefined;
  const v = o[key];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || (nonNegative && v < 0)) {
    throw fail(field(where, key), `want ${nonNegative ? 'a non-negative integer' : 'an integer'}, got ${describe(v)}`);
  }
  return v;
}

function optArray(o: JsonObject, key: string, where: string): unknown[] | undefined {
  if (!present(o, key)) return undefined;
  const v = o[key];
  if (!Array.isArray(v)) throw fail(field(where, key), `want an array, got ${describe(v)}`);
  return v;
}

function optStringArray(o: JsonObject, key: string, where: string): string[] | undefined {
  const arr = optArray(o, key, where);
  if (arr === undefined) return undefined;
  return arr.map((v, i) => {
    if (typeof v !== 'string') throw fail(`${field(where, key)}[${i}]`, `want a string, got ${describe(v)}`);
    return v;
  });
}

// Object.fromEntries defines own properties, so a "__proto__" key stays a plain key.
function optStringMap(o: JsonObject, key: string, where: string): Record<string, string> | undefined {
  if (!present(o, key)) return undefined;
  const m = asObject(o[key], field(where, key));
  return Object.fromEntries(
    Object.entries(m).map(([k, v]) => {
      if (typeof v !== 'string') throw fail(`${field(where, key)}[${JSON.stringify(k)}]`, `want a string, got ${describe(v)}`);
      return [k, v];
    }),
  );
}

function optEmptyObjectMap(o: JsonObject, key: string, where: string): Record<string, EmptyObject> | undefined {
  if (!present(o, key)) return undefined;
  const m = asObject(o[key], field(where, key));
  return Object.fromEntries(
    Object.keys(m).map((k) => {
      asObject(m[k], `${field(where, key)}[${JSON.stringify(k)}]`);
      return [k, {} as EmptyObject];
    }),
  );
}

function digestField(o: JsonObject, key: string, where: string): Digest {
  const raw = reqString(o, key, where);
  try {
    return parseDigest(raw).digest;
  } catch (err) {
    throw fail(field(where, key), (err as Error).message);
  }
}

// RFC 6838 as the OCI schema spells it (restricted-name "/" restricted-name).
const MEDIA_TYPE_RE = /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$/;

function mediaTypeField(o: JsonObject, key: string, where: string, required: boolean): string | undefined {
  const v = required ? reqString(o, key, where) : optString(o, key, where);
  if (v !== undefined && !MEDIA_TYPE_RE.test(v)) throw fail(field(where, key), `invalid media type "${clip(v)}"`);
  return v;
}

// RFC 3339 date-time, which is what Go's time.Time accepts when Docker decodes it.
const RFC3339_RE = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$/;

function timeField(o: JsonObject, key: string, where: string): string | undefined {
  const v = optString(o, key, where);
  if (v !== undefined && !RFC3339_RE.test(v)) throw fail(field(where, key), `want an RFC 3339 time, got "${clip(v)}"`);
  return v;
}

const BASE64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Drops undefined values so parsed objects compare and serialise like the input. */
function compact<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}

function checkSize(bytes: Uint8Array, doc: string): void {
  if (bytes.length > MAX_MANIFEST_SIZE) {
    throw invalidArgument(`${doc}: ${bytes.length} bytes is larger than the ${MAX_MANIFEST_SIZE / (1024 * 1024)} MiB limit`);
  }
}

function parseJson(bytes: Uint8Array, doc: string): JsonObject {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
  } catch (err) {
    throw invalidArgument(`${doc}: invalid JSON: ${(err as Error).message}`);
  }
  return asObject(value, doc);
}

function schema1Error(doc: string): BerthError {
  return invalidArgument(
    `${doc}: Docker image manifest schema1 is unsupported (Docker removed it too); ` +
      'the image must be pushed again as Docker schema2 or OCI',
  );
}

function checkSchemaVersion(o: JsonObject, doc: string): void {
  if (o['schemaVersion'] === 1) throw schema1Error(doc);
  if (o['schemaVersion'] !== 2) throw fail(field(doc, 'schemaVersion'), `want 2, got ${describe(o['schemaVersion'])}`);
}

// ---------------------------------------------------------------------------
// Parsers

function parsePlatformObject(v: unknown, where: string): Platform {
  const o = asObject(v, where);
  const p: Platform = {
    architecture: reqString(o, 'architecture', where),
    os: reqString(o, 'os', where),
    'os.version': optString(o, 'os.version', where),
    'os.features': optStringArray(o, 'os.features', where),
    variant: optString(o, 'variant', where),
  };
  if (p.architecture === '') throw fail(field(where, 'architecture'), 'is empty');
  if (p.os === '') throw fail(field(where, 'os'), 'is empty');
  return compact(p);
}

/** Validates one descriptor; `where` names it in errors, e.g. "manifest: layers[2]". */
export function parseDescriptor(obj: unknown, where: string): Descriptor {
  const o = asObject(obj, where);
  const d: Descriptor = {
    mediaType: mediaTypeField(o, 'mediaType', where, true)!,
    digest: digestField(o, 'digest', where),
    size: 0,
    urls: optStringArray(o, 'urls', where),
    annotations: optStringMap(o, 'annotations', where),
    data: optString(o, 'data', where),
    platform: present(o, 'platform') ? parsePlatformObject(o['platform'], field(where, 'platform')) : undefined,
    artifactType: mediaTypeField(o, 'artifactType', where, false),
  };
  if (!present(o, 'size')) throw fail(field(where, 'size'), 'is required');
  d.size = optInt(o, 'size', where, true)!;
  if (d.data !== undefined) {
    if (!BASE64_RE.test(d.data)) throw fail(field(where, 'data'), 'is not valid base64');
    const blob = Buffer.from(d.data, 'base64');
    if (blob.length !== d.size) throw fail(field(where, 'data'), `holds ${blob.length} bytes but size is ${d.size}`);
    const algorithm = parseDigest(d.digest).algorithm;
    if (digestOf(blob, algorithm) !== d.digest) throw fail(field(where, 'data'), `does not match digest ${d.digest}`);
  }
  return compact(d);
}

function parseDescriptorList(o: JsonObject, key: string, doc: string): Descriptor[] {
  if (!present(o, key)) throw fail(field(doc, key), 'is required');
  const arr = optArray(o, key, doc)!;
  return arr.map((v, i) => parseDescriptor(v, `${field(doc, key)}[${i}]`));
}

/**
 * Parses an image manifest (OCI or Docker schema2). `expectedMediaType` is the type
 * the manifest was fetched as (descriptor or Content-Type); the document must agree
 * with it, which stops a blob being passed off as a different kind of document.
 */
export function parseManifest(bytes: Uint8Array, expectedMediaType?: string): Manifest {
  const doc = 'manifest';
  checkSize(bytes, doc);
  const o = parseJson(bytes, doc);
  const mediaType = optString(o, 'mediaType', doc);
  if ((mediaType !== undefined && isSchema1Type(mediaType)) || (expectedMediaType !== undefined && isSchema1Type(expectedMediaType))) {
    throw schema1Error(doc);
  }
  checkSchemaVersion(o, doc);
  if (expectedMediaType !== undefined && !isManifestType(expectedMediaType)) {
    throw fail(doc, `"${clip(expectedMediaType)}" is not an image manifest media type`);
  }
  if (mediaType !== undefined) {
    if (isIndexType(mediaType)) throw fail(field(doc, 'mediaType'), `"${mediaType}" is an image index, not a manifest`);
    if (!isManifestType(mediaType)) throw fail(field(doc, 'mediaType'), `unsupported manifest media type "${clip(mediaType)}"`);
    if (expectedMediaType !== undefined && mediaType !== expectedMediaType) {
      throw fail(field(doc, 'mediaType'), `"${mediaType}" does not match the expected "${expectedMediaType}"`);
    }
  }
  if (present(o, 'manifests')) throw fail(doc, 'has a "manifests" field: this is an image index, not a manifest');
  if (!present(o, 'config')) throw fail(field(doc, 'config'), 'is required');
  const m: Manifest = {
    schemaVersion: 2,
    mediaType,
    artifactType: mediaTypeField(o, 'artifactType', doc, false),
    config: parseDescriptor(o['config'], field(doc, 'config')),
    layers: parseDescriptorList(o, 'layers', doc),
    subject: present(o, 'subject') ? parseDescriptor(o['subject'], field(doc, 'subject')) : undefined,
    annotations: optStringMap(o, 'annotations', doc),
  };
  return compact(m);
}

/** Parses an image index (OCI) or manifest list (Docker). */
export function parseIndex(bytes: Uint8Array, expectedMediaType?: string): Index {
  const doc = 'index';
  checkSize(bytes, doc);
  const o = parseJson(bytes, doc);
  const mediaType = optString(o, 'mediaType', doc);
  if (mediaType !== undefined && isSchema1Type(mediaType)) throw schema1Error(doc);
  checkSchemaVersion(o, doc);
  if (expectedMediaType !== undefined && !isIndexType(expectedMediaType)) {
    throw fail(doc, `"${clip(expectedMediaType)}" is not an image index media type`);
  }
  if (mediaType !== undefined) {
    if (isManifestType(mediaType)) throw fail(field(doc, 'mediaType'), `"${mediaType}" is an image manifest, not an index`);
    if (!isIndexType(mediaType)) throw fail(field(doc, 'mediaType'), `unsupported index media type "${clip(mediaType)}"`);
    if (expectedMediaType !== undefined && mediaType !== expectedMediaType) {
      throw fail(field(doc, 'mediaType'), `"${mediaType}" does not match the expected "${expectedMediaType}"`);
    }
  }
  if (present(o, 'config') || present(o, 'layers')) {
    throw fail(doc, 'has a "config" or "layers" field: this is an image manifest, not an index');
  }
  const index: Index = {
    schemaVersion: 2,
    mediaType,
    artifactType: mediaTypeField(o, 'artifactType', doc, false),
    manifests: parseDescriptorList(o, 'manifests', doc),
    subject: present(o, 'subject') ? parseDescriptor(o['subject'], field(doc, 'subject')) : undefined,
    annotations: optStringMap(o, 'annotations', doc),
  };
  return compact(index);
}

/**
 * Whether a fetched document is a manifest or an index: by its mediaType field, else
 * `mediaType` (the Content-Type it came with), else by its shape.
 */
export function detectManifestKind(bytes: Uint8Array, mediaType?: string): 'manifest' | 'index' {
  const doc = 'manifest';
  checkSize(bytes, doc);
  const o = parseJson(bytes, doc);
  const declared = optString(o, 'mediaType', doc);
  if (o['schemaVersion'] === 1) throw schema1Error(doc);
  for (const t of [declared, mediaType]) {
    if (t === undefined) continue;
    if (isSchema1Type(t)) throw schema1Error(doc);
    if (isIndexType(t)) return 'index';
    if (isManifestType(t)) return 'manifest';
    // An unhelpful Content-Type (application/json, octet-stream) falls through to the shape.
    if (t === declared) throw fail(field(doc, 'mediaType'), `unsupported media type "${clip(t)}"`);
  }
  if (Array.isArray(o['manifests'])) return 'index';
  if (present(o, 'config') || Array.isArray(o['layers'])) return 'manifest';
  throw fail(doc, 'neither an image manifest nor an index (no mediaType, "manifests" or "config")');
}

function parseHealthcheck(v: unknown, where: string): HealthConfig {
  const o = asObject(v, where);
  return compact({
    Test: optStringArray(o, 'Test', where),
    Interval: optInt(o, 'Interval', where, true),
    Timeout: optInt(o, 'Timeout', where, true),
    StartPeriod: optInt(o, 'StartPeriod', where, true),
    StartInterval: optInt(o, 'StartInterval', where, true),
    Retries: optInt(o, 'Retries', where, true),
  });
}

function parseContainerConfig(v: unknown, where: string): ContainerConfig {
  const o = asObject(v, where);
  return compact<ContainerConfig>({
    User: optString(o, 'User', where),
    ExposedPorts: optEmptyObjectMap(o, 'ExposedPorts', where),
    Env: optStringArray(o, 'Env', where),
    Entrypoint: optStringArray(o, 'Entrypoint', where),
    Cmd: optStringArray(o, 'Cmd', where),
    Volumes: optEmptyObjectMap(o, 'Volumes', where),
    WorkingDir: optString(o, 'WorkingDir', where),
    Labels: optStringMap(o, 'Labels', where),
    StopSignal: optString(o, 'StopSignal', where),
    StopTimeout: optInt(o, 'StopTimeout', where, false),
    ArgsEscaped: optBool(o, 'ArgsEscaped', where),
    Healthcheck: present(o, 'Healthcheck') ? parseHealthcheck(o['Healthcheck'], field(where, 'Healthcheck')) : undefined,
    Shell: optStringArray(o, 'Shell', where),
    OnBuild: optStringArray(o, 'OnBuild', where),
    Hostname: optString(o, 'Hostname', where),
    Domainname: optString(o, 'Domainname', where),
    AttachStdin: optBool(o, 'AttachStdin', where),
    AttachStdout: optBool(o, 'AttachStdout', where),
    AttachStderr: optBool(o, 'AttachStderr', where),
    Tty: optBool(o, 'Tty', where),
    OpenStdin: optBool(o, 'OpenStdin', where),
    StdinOnce: optBool(o, 'StdinOnce', where),
    Image: optString(o, 'Image', where),
    NetworkDisabled: optBool(o, 'NetworkDisabled', where),
    MacAddress: optString(o, 'MacAddress', where),
  });
}

function parseHistoryEntry(v: unknown, where: string): HistoryEntry {
  const o = asObject(v, where);
  return compact({
    created: timeField(o, 'created', where),
    created_by: optString(o, 'created_by', where),
    author: optString(o, 'author', where),
    comment: optString(o, 'comment', where),
    empty_layer: optBool(o, 'empty_layer', where),
  });
}

/** Parses an image configuration (OCI config v1 or Docker container image v1). */
export function parseImageConfig(bytes: Uint8Array): ImageConfig {
  const doc = 'image config';
  const o = parseJson(bytes, doc);
  if (!present(o, 'rootfs')) throw fail(field(doc, 'rootfs'), 'is required');
  const rootfsWhere = field(doc, 'rootfs');
  const r = asObject(o['rootfs'], rootfsWhere);
  const type = reqString(r, 'type', rootfsWhere);
  if (type !== 'layers') throw fail(field(rootfsWhere, 'type'), `want "layers", got "${clip(type)}"`);
  if (!present(r, 'diff_ids')) throw fail(field(rootfsWhere, 'diff_ids'), 'is required');
  const diffIds = optArray(r, 'diff_ids', rootfsWhere)!.map((v, i) => {
    const where = `${field(rootfsWhere, 'diff_ids')}[${i}]`;
    if (typeof v !== 'string') throw fail(where, `want a digest string, got ${describe(v)}`);
    try {
      return parseDigest(v).digest;
    } catch (err) {
      throw fail(where, (err as Error).message);
    }
  });
  const history = optArray(o, 'history', doc)?.map((v, i) => parseHistoryEntry(v, `${field(doc, 'history')}[${i}]`));
  if (history !== undefined && history.length > 0) {
    // Docker pairs history entries with layers to show `docker history`; a mismatch
    // means the config was assembled wrongly and would mislabel every layer.
    const withLayer = history.filter((h) => h.empty_layer !== true).length;
    if (withLayer !== diffIds.length) {
      throw fail(
        field(doc, 'history'),
        `${withLayer} entries have a layer (empty_layer unset) but rootfs.diff_ids has ${diffIds.length}`,
      );
    }
  }
  return compact<ImageConfig>({
    created: timeField(o, 'created', doc),
    author: optString(o, 'author', doc),
    architecture: reqString(o, 'architecture', doc),
    os: reqString(o, 'os', doc),
    'os.version': optString(o, 'os.version', doc),
    'os.features': optStringArray(o, 'os.features', doc),
    variant: optString(o, 'variant', doc),
    config: present(o, 'config') ? parseContainerConfig(o['config'], field(doc, 'config')) : undefined,
    rootfs: { type: 'layers', diff_ids: diffIds },
    history,
  });
}

// ---------------------------------------------------------------------------
// Layer identity

/**
 * ChainIDs for a stack of layers, bottom first (image-spec config.md "Layer ChainID"):
 * ChainID(L0) = DiffID(L0); ChainID(L0|…|Ln) = sha256(ChainID(L0|…|Ln-1) + " " + DiffID(Ln)).
 */
export function chainIds(diffIds: readonly Digest[]): Digest[] {
  const out: Digest[] = [];
  for (const diffId of diffIds) {
    const parent = out[out.length - 1];
    out.push(parent === undefined ? diffId : digestOf(`${parent} ${diffId}`));
  }
  return out;
}

// ---------------------------------------------------------------------------
// Platforms (containerd's platforms package semantics)

const NODE_ARCH_TO_GOARCH: Record<string, string> = {
  x64: 'amd64',
  ia32: '386',
  arm: 'arm',
  arm64: 'arm64',
  ppc: 'ppc',
  s390: 's390',
  s390x: 's390x',
  riscv64: 'riscv64',
  loong64: 'loong64',
  mips: 'mips',
  mipsel: 'mipsle',
};

const NODE_PLATFORM_TO_GOOS: Record<string, string> = { win32: 'windows', sunos: 'solaris' };

export interface NodeHost {
  arch?: string;
  platform?: string;
  /** Node's build-time `arm_version` (process.config.variables), e.g. "7". */
  armVersion?: string;
}

function nodeArmVersion(): string | undefined {
  const variables = process.config.variables as unknown as Record<string, unknown>;
  const v = variables['arm_version'];
  return typeof v === 'string' || typeof v === 'number' ? String(v) : undefined;
}

/** The platform this process runs as, in GOOS/GOARCH terms, normalised. */
export function hostPlatform(host: NodeHost = {}): Platform {
  const arch = host.arch ?? process.arch;
  const platform = host.platform ?? process.platform;
  let goarch = NODE_ARCH_TO_GOARCH[arch] ?? arch;
  if (arch === 'ppc64') goarch = endianness() === 'LE' ? 'ppc64le' : 'ppc64';
  let variant: string | undefined;
  if (goarch === 'arm') variant = `v${host.armVersion ?? nodeArmVersion() ?? '7'}`;
  const os = NODE_PLATFORM_TO_GOOS[platform] ?? platform;
  return normalizePlatform(variant === undefined ? { os, architecture: goarch } : { os, architecture: goarch, variant });
}

function normalizeArch(arch: string, variant: string): [string, string] {
  arch = arch.toLowerCase();
  variant = variant.toLowerCase();
  switch (arch) {
    case 'i386':
      return ['386', ''];
    case 'x86_64':
    case 'x86-64':
    case 'amd64':
      return ['amd64', variant === 'v1' ? '' : variant];
    case 'aarch64':
    case 'arm64':
      // containerd drops v8 instead; berth keeps it so that formatted platforms read
      // like Docker's messages ("linux/arm64/v8"). Matching treats both the same.
      if (variant === '' || variant === '8' || variant === 'v8' || variant === 'v8.0') return ['arm64', 'v8'];
      if (variant === '9' || variant === '9.0' || variant === 'v9.0') return ['arm64', 'v9'];
      return ['arm64', variant];
    case 'armhf':
      return ['arm', 'v7'];
    case 'armel':
      return ['arm', 'v6'];
    case 'arm':
      if (variant === '' || variant === '7') return ['arm', 'v7'];
      if (variant === '5' || variant === '6' || variant === '8') return ['arm', `v${variant}`];
      return ['arm', variant];
    default:
      return [arch, variant];
  }
}

/** Canonical spelling: aarch64→arm64/v8, x86_64→amd64, armhf→arm/v7, sorted os.features. */
export function normalizePlatform(p: Platform): Platform {
  let os = p.os === '' ? hostOs() : p.os.toLowerCase();
  if (os === 'macos') os = 'darwin';
  const [architecture, variant] = normalizeArch(p.architecture, p.variant ?? '');
  const out: Platform = { architecture, os };
  if (p['os.version'] !== undefined && p['os.version'] !== '') out['os.version'] = p['os.version'];
  if (p['os.features'] !== undefined && p['os.features'].length > 0) {
    out['os.features'] = [...new Set(p['os.features'])].sort();
  }
  if (variant !== '') out.variant = variant;
  return out;
}

function hostOs(): string {
  return NODE_PLATFORM_TO_GOOS[process.platform] ?? process.platform;
}

// From Go's syslist.go, as containerd uses them to read a one-word specifier.
const KNOWN_OS = new Set([
  'aix', 'android', 'darwin', 'dragonfly', 'freebsd', 'hurd', 'illumos', 'ios', 'js', 'linux', 'nacl',
  'netbsd', 'openbsd', 'plan9', 'solaris', 'windows', 'zos',
]);
const KNOWN_ARCH = new Set([
  '386', 'amd64', 'amd64p32', 'arm', 'armbe', 'arm64', 'arm64be', 'ppc64', 'ppc64le', 'loong64', 'mips',
  'mipsle', 'mips64', 'mips64le', 'mips64p32', 'mips64p32le', 'ppc', 'riscv', 'riscv64', 's390', 's390x',
  'sparc', 'sparc64', 'wasm',
]);
const SPECIFIER_RE = /^[A-Za-z0-9_.-]+$/;

/**
 * Parses "os", "arch", "os/arch" or "os/arch/variant" (Docker's --platform) into a
 * normalised platform; a lone word is an OS (host arch) or an arch (host OS).
 */
export function parsePlatform(specifier: string): Platform {
  if (specifier.includes('*')) throw invalidArgument(`"${clip(specifier)}": wildcards not yet supported`);
  const parts = specifier.split('/');
  if (parts.length > 3) throw invalidArgument(`"${clip(specifier)}": cannot parse platform specifier`);
  for (const part of parts) {
    if (!SPECIFIER_RE.test(part)) {
      throw invalidArgument(`"${clip(part)}" is an invalid component of "${clip(specifier)}": platform specifier component must match "${SPECIFIER_RE.source}"`);
    }
  }
  const [first, second, third] = parts as [string, string | undefined, string | undefined];
  if (second === undefined) {
    const os = first.toLowerCase() === 'macos' ? 'darwin' : first.toLowerCase();
    if (KNOWN_OS.has(os)) {
      const host = hostPlatform();
      return normalizePlatform({ ...host, os });
    }
    const p = normalizePlatform({ os: hostOs(), architecture: first });
    if (KNOWN_ARCH.has(p.architecture)) return p;
    throw invalidArgument(`"${clip(specifier)}": unknown operating system or architecture`);
  }
  return normalizePlatform(third === undefined ? { os: first, architecture: second } : { os: first, architecture: second, variant: third });
}

/** "os/arch[/variant]", as Docker prints platforms. */
export function formatPlatform(p: Platform): string {
  if (p.os === '') return 'unknown';
  return [p.os, p.architecture, p.variant].filter((s) => s !== undefined && s !== '').join('/');
}

const ARM64_VARIANTS: Record<string, { major: number[]; minor: number[] }> = {
  v8: { major: [8], minor: [0] },
  'v8.0': { major: [8], minor: [0] },
  ...Object.fromEntries([1, 2, 3, 4, 5, 6, 7, 8, 9].map((n) => [`v8.${n}`, { major: [8], minor: [n] }])),
  v9: { major: [9, 8], minor: [0, 5] },
  'v9.0': { major: [9, 8], minor: [0, 5] },
  ...Object.fromEntries([1, 2, 3, 4, 5, 6, 7].map((n) => [`v9.${n}`, { major: [9, 8], minor: [n, Math.min(n + 5, 9)] }])),
};

/**
 * The platforms a host of platform `p` runs, best first (containerd's platformVector):
 * amd64/vN → vN…v1, then 386; arm/vN → vN…v5; arm64/v8.x → v8.x…v8, then arm/v8…v5.
 */
function platformVector(p: Platform): Platform[] {
  const vector: Platform[] = [p];
  const variantNumber = (v: string | undefined): number => Number.parseInt((v ?? '').replace(/^v/, ''), 10);
  const like = (architecture: string, variant: string): Platform =>
    normalizePlatform({ ...p, architecture, ...(variant === '' ? { variant: undefined } : { variant }) });
  switch (p.architecture) {
    case 'amd64': {
      const n = variantNumber(p.variant);
      if (n > 1) for (let v = n - 1; v >= 1; v--) vector.push(like('amd64', `v${v}`));
      vector.push(like('386', ''));
      break;
    }
    case 'arm': {
      const n = variantNumber(p.variant);
      if (n > 5) for (let v = n - 1; v >= 5; v--) vector.push(like('arm', `v${v}`));
      break;
    }
    case 'arm64': {
      const variant = p.variant ?? 'v8';
      const versions = ARM64_VARIANTS[variant];
      // containerd matches nothing for an unknown arm64 variant; berth at least matches itself.
      if (versions === undefined) break;
      vector.length = 0;
      versions.major.forEach((major, i) => {
        for (let minor = versions.minor[i]!; minor >= 0; minor--) {
          vector.push(like('arm64', minor === 0 ? `v${major}` : `v${major}.${minor}`));
        }
      });
      // A 64-bit ARM host runs 32-bit ARM binaries up to ARMv8.
      vector.push(...platformVector(like('arm', 'v8')));
      break;
    }
  }
  return vector;
}

function sameFeatures(wantFeatures: readonly string[] | undefined, haveFeatures: readonly string[] | undefined): boolean {
  if (haveFeatures === undefined || haveFeatures.length === 0) return true;
  const want = new Set(wantFeatures ?? []);
  return haveFeatures.every((f) => want.has(f));
}

function matchesExactly(want: Platform, have: Platform): boolean {
  const n = normalizePlatform(have);
  return (
    want.os === n.os &&
    want.architecture === n.architecture &&
    (want.variant ?? '') === (n.variant ?? '') &&
    sameFeatures(want['os.features'], n['os.features'])
  );
}

/**
 * Whether an image for `have` runs where `want` is asked for: both normalised, os and
 * architecture equal, variants compatible (arm64 "" == v8; arm/v7 accepts v6 and v5;
 * amd64 accepts 386), every os.feature of `have` present in `want`. `strict` accepts
 * only the same normalised platform (containerd's OnlyStrict).
 */
export function platformMatches(want: Platform, have: Platform, options: { strict?: boolean } = {}): boolean {
  const w = normalizePlatform(want);
  const candidates = options.strict === true ? [w] : platformVector(w);
  return candidates.some((c) => matchesExactly(c, have));
}

/**
 * The index entry to pull for `want`: the best compatible platform (in platformVector
 * order; then the one with more os.features; then the first listed). Entries without
 * a platform are never chosen, since nothing says what they run on.
 */
export function selectManifest(index: Index, want: Platform): Descriptor {
  const w = normalizePlatform(want);
  const vector = platformVector(w);
  let best: { desc: Descriptor; rank: number; features: number } | undefined;
  for (const desc of index.manifests) {
    if (desc.platform === undefined) continue;
    const platform = desc.platform;
    const rank = vector.findIndex((c) => matchesExactly(c, platform));
    if (rank < 0) continue;
    const features = platform['os.features']?.length ?? 0;
    if (best === undefined || rank < best.rank || (rank === best.rank && features > best.features)) {
      best = { desc, rank, features };
    }
  }
  if (best === undefined) {
    throw notFound(`no matching manifest for ${formatPlatform(w)} in the manifest list entries`);
  }
  return best.desc;
}
