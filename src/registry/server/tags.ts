// GET /v2/<name>/tags/list and GET /v2/_catalog: lexically sorted lists with the spec's
// pagination (?n=<count>&last=<previous last entry>) and an RFC 8288 Link to the next page.
import { registryError } from '../errors.js';
import { sendJson, type Ctx } from './respond.js';
import { compareBytes } from './storage.js';

interface Page {
  items: string[];
  /** The Link header when more entries follow. */
  link?: string;
}

/** One page of a sorted list, after `last`, at most `n` entries (all when n is absent). */
export function paginate(all: readonly string[], query: URLSearchParams, path: string): Page {
  const last = query.get('last');
  const rawN = query.get('n');
  let n: number | undefined;
  if (rawN !== null) {
    if (!/^\d{1,9}$/.test(rawN)) {
      throw registryError('PAGINATION_NUMBER_INVALID', 'invalid number of results requested', { detail: { n: rawN.slice(0, 20) } });
    }
    n = Number(rawN);
  }
  const after = last === null ? all : all.filter((t) => compareBytes(t, last) > 0);
  if (n === undefined || after.length <= n) return { items: [...after] };
  const items = after.slice(0, n);
  const next = items[items.length - 1];
  // n=0 asks for nothing and gets no next page: there is no "last" to continue from.
  if (next === undefined) return { items };
  return { items, link: `<${path}?n=${n}&last=${encodeURIComponent(next)}>; rel="next"` };
}

export async function listTags(ctx: Ctx, name: string): Promise<void> {
  const tags = await ctx.storage.listTags(name);
  if (tags === undefined) throw registryError('NAME_UNKNOWN', 'repository name not known to registry', { detail: { name } });
  const page = paginate(tags, ctx.query, `/v2/${name}/tags/list`);
  sendJson(ctx.res, 200, { name, tags: page.items }, page.link !== undefined ? { Link: page.link } : {});
}

export async function catalog(ctx: Ctx): Promise<void> {
  const page = paginate(await ctx.storage.listRepositories(), ctx.query, '/v2/_catalog');
  sendJson(ctx.res, 200, { repositories: page.items }, page.link !== undefined ? { Link: page.link } : {});
}
