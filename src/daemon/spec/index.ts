// berthd's OCI spec builder: Docker create requests + image config → validated Config/HostConfig → OCI spec.
export { mergeImageConfig } from './merge.js';
export { applyConfigDefaults, applyHostConfigDefaults, DEFAULT_SHM_SIZE, type DaemonContainerDefaults } from './defaults.js';
export { validateCreate, validateConfig, validateHealthcheck } from './validate.js';
export { validateRestartPolicy } from './validate-host.js';
export { buildSpec, DEFAULT_CGROUP_PARENT, OCI_VERSION, type BuiltSpec } from './build.js';
export { resolveUser, resolveUserFromFiles } from './user.js';
export { readFileInRoot } from './rootfs-file.js';
export { readSpecHost } from './host.js';
export { missingBindSources, parseUserMounts, CONTAINER_INIT_PATH } from './mounts.js';
export type { UserMount } from './binds.js';
export { DEFAULT_CAPABILITIES } from './caps.js';
export type { JoinedNamespaces, NetworkFiles, ResolvedUser, SpecHost, SpecInput } from './types.js';
