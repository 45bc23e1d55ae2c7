// Where a blob came from, kept as a content label (containerd's
// containerd.io/distribution.source.<registry>=<repo>,<repo>): a push to another
// repository of the same registry can then mount the blob instead of uploading it.
import type { ContentStore, Labels } from '../../content/store.js';
import type { Digest } from '../../util/digest.js';

export const SOURCE_LABEL_PREFIX = 'berth.distribution.source.';
/** Labels are bounded (4 KiB); the oldest repositories give way to newer ones. */
const MAX_VALUE_BYTES = 3072;

export function sourceLabelKey(registry: string): string {
  return `${SOURCE_LABEL_PREFIX}${registry}`;
}

/** The repositories of `registry` a blob is known to be in, from its labels. */
export function sourceRepositories(labels: Labels, registry: string): string[] {
  const value = labels[sourceLabelKey(registry)];
  return value ? value.split(',').filter(Boolean) : [];
}

/** The label value with `repo` added (last, as the most recent). */
export function withSourceRepository(current: string | undefined, repo: string): string {
  const repos = (current ?? '').split(',').filter((r) => r !== '' && r !== repo);
  repos.push(repo);
  while (repos.length > 1 && Buffer.byteLength(repos.join(',')) > MAX_VALUE_BYTES) repos.shift();
  return repos.join(',');
}

/** Labels to write with a blob that is about to arrive from registry/repo. */
export async function sourceLabels(content: ContentStore, digest: Digest, registry: string, repo: string): Promise<Labels> {
  const key = sourceLabelKey(registry);
  const info = await content.info(digest);
  return { [key]: withSourceRepository(info?.labels[key], repo) };
}

/** Record on a blob already in the store that registry/repo has it too. */
export async function addSourceRepository(content: ContentStore, digest: Digest, registry: string, repo: string): Promise<void> {
  const info = await content.info(digest);
  if (!info) return;
  const key = sourceLabelKey(registry);
  const value = withSourceRepository(info.labels[key], repo);
  if (info.labels[key] === value) return;
  await content.setLabels(digest, { ...info.labels, [key]: value });
}
