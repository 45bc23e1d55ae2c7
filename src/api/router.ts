// Docker's route table matching, as moby registers it with gorilla/mux: every route with
// and without the /v{version} prefix; `{name:.*}` segments are greedy regexps (image names
// contain slashes); the first registered match wins; a path that matches no route for the
// request's method is 404 "page not found" (moby sets MethodNotAllowedHandler to it too).
import type { RequestContext } from './context.js';

export type Handler = (ctx: RequestContext) => Promise<void>;

export interface Route {
  readonly method: string;
  readonly pattern: string;
  readonly handler: Handler;
  /** The route may take the connection over (attach, exec start). */
  readonly hijacks: boolean;
  readonly regex: RegExp;
  readonly names: readonly string[];
}

export interface RouteMatch {
  route: Route;
  params: Record<string, string>;
}

function compile(pattern: string): { regex: RegExp; names: string[] } {
  const names: string[] = [];
  let source = '';
  let rest = pattern;
  for (let open = rest.indexOf('{'); open >= 0; open = rest.indexOf('{')) {
    const close = rest.indexOf('}', open);
    source += escapeRegex(rest.slice(0, open));
    const [name, expr] = rest.slice(open + 1, close).split(':', 2) as [string, string | undefined];
    names.push(name);
    source += `(${expr ?? '[^/]+'})`;
    rest = rest.slice(close + 1);
  }
  source += escapeRegex(rest);
  return { regex: new RegExp(`^${source}$`), names };
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export function route(method: string, pattern: string, handler: Handler, opts: { hijacks?: boolean } = {}): Route {
  return { method, pattern, handler, hijacks: opts.hijacks === true, ...compile(pattern) };
}

/** Splits "/v1.41/containers/json" into version "1.41" and path "/containers/json". */
export function splitVersion(path: string): { version?: string; path: string } {
  const m = /^\/v([0-9.]+)(\/.*)$/.exec(path);
  return m === null ? { path } : { version: m[1]!, path: m[2]! };
}

export function matchRoute(routes: readonly Route[], method: string, path: string): RouteMatch | undefined {
  for (const r of routes) {
    if (r.method !== method) continue;
    const m = r.regex.exec(path);
    if (m === null) continue;
    const params: Record<string, string> = {};
    r.names.forEach((name, i) => {
      params[name] = m[i + 1] ?? '';
    });
    return { route: r, params };
  }
  return undefined;
}
