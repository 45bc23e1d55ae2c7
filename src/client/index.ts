// The typed Engine API client (used by the berth CLI and by tests).
export { EngineClient, chooseVersion, compareVersions, encodeQuery, filtersParam, splitReference } from './client.js';
export type { ClientOptions, ContainerLogsRequest, PingResult, QueryValue, RequestInit, WaitHandle } from './client.js';
export { ClientError, isClientError, errorFromBody } from './errors.js';
export { DEFAULT_HOST, parseHost, resolveHostString } from './host.js';
export type { DaemonHost, TlsOptions } from './host.js';
export type { HijackedConnection } from './hijack.js';
export { StdStream, copyTo, decodeJsonStream, demuxFrames, demuxTo, encodeFrame, readAll, write } from './streams.js';
export type { Frame } from './streams.js';
