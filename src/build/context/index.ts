// The build context: .dockerignore, the context archive on both sides of POST /build,
// and COPY/ADD sources (resolution, destination plan, tar of the copy, cache checksum).
export { parseIgnoreFile, ignoreFileFor, IgnoreMatcher } from './ignore.js';
export { goMatch, goClean, containsWildcards } from './go-path.js';
export { BuildContext, DEFAULT_CONTEXT_LIMITS, type ContextLimits } from './archive.js';
export type { ContextEntry, ContextEntryType } from './tree.js';
export { readIgnoreFile } from './context-ignore.js';
export { resolveSources, type SourceMatch, type SourceItem, type ResolveOptions } from './sources.js';
export { planCopy, MULTIPLE_SOURCES_ERROR, type CopyPlan, type CopyItem, type PlanOptions } from './copy-plan.js';
export { copyArchive } from './copy-archive.js';
export { checksumSources } from './checksum.js';
export { contextTar, loadIgnoreFile, type ContextTarOptions } from './client-tar.js';
