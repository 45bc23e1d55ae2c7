// Image references as docker's CLI normalises them before talking to the daemon:
// reference.ParseNormalizedNamed + TagNameOnly; "invalid reference format" otherwise.
import { StatusError } from '../command.js';

export interface NormalizedRef {
  /** docker.io/library/busybox:latest */
  full: string;
  /** busybox:latest */
  familiar: string;
  tag?: string;
  /** The tag was added ("Using default tag: latest"). */
  defaultedTag: boolean;
  /** Neither a tag nor a digest (only with keepNameOnly). */
  nameOnly: boolean;
}

/** With keepNameOnly (pull -a), a name without tag or digest stays so. */
export async function normalizedRef(s: string, keepNameOnly = false): Promise<NormalizedRef> {
  const { familiarString, parseReference, withDefaultTag } = await import('../../images/reference.js');
  let ref;
  try {
    ref = parseReference(s);
  } catch (err) {
    const msg = (err as Error).message;
    throw new StatusError(1, /uppercase/i.test(msg) ? msg : 'invalid reference format');
  }
  const nameOnly = ref.tag === undefined && ref.digest === undefined;
  const defaultedTag = nameOnly && !keepNameOnly;
  if (defaultedTag) ref = withDefaultTag(ref);
  return { full: ref.toString(), familiar: familiarString(ref), ...(ref.tag !== undefined ? { tag: ref.tag } : {}), defaultedTag, nameOnly: nameOnly && keepNameOnly };
}
