/**
 * @module router/router
 * Method + path matching over a route table given as data. Patterns use moby's gorilla/mux
 * syntax: `{name}` matches one segment, `{name:.*}` (or any `{name:REGEX}`) matches the regex,
 * so names may contain `/` (`/containers/{name:.*}/json`, moby daemon/server/router/container).
 * Compiled once: exact paths go in a Map, patterns are bucketed by their first literal segment
 * and tried in table order, so a lookup is one Map get plus a few regex tests.
 */

export interface RouteDef {
  method: string;
  /** A moby path pattern without the `/v1.NN` prefix. */
  path: string;
  /** The moby handler name, e.g. `getContainersJSON`. */
  handler: string;
}

export interface Match<H> {
  route: RouteDef;
  handler: H;
  params: Record<string, string>;
}

interface Compiled<H> {
  route: RouteDef;
  handler: H;
  re: RegExp;
  names: string[];
}

interface MethodTable<H> {
  exact: Map<string, Compiled<H>>;
  /** first literal segment -> patterns; '' holds patterns that start with a variable */
  buckets: Map<string, Compiled<H>[]>;
}

const NO_PARAMS: Record<string, string> = Object.freeze({}) as Record<string, string>;

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Compile a gorilla-style pattern; null for a path without variables. */
export function compilePattern(path: string): { re: RegExp; names: string[] } | null {
  if (!path.includes('{')) return null;
  const names: string[] = [];
  let src = '^';
  let i = 0;
  while (i < path.length) {
    const open = path.indexOf('{', i);
    if (open < 0) {
      src += escapeRe(path.slice(i));
      break;
    }
    src += escapeRe(path.slice(i, open));
    // find the matching '}' (a regex may itself contain braces, e.g. {n:[0-9]{2}})
    let depth = 0;
    let close = open;
    for (; close < path.length; close++) {
      if (path[close] === '{') depth++;
      else if (path[close] === '}' && --depth === 0) break;
    }
    if (close >= path.length) throw new Error(`unbalanced braces in route ${path}`);
    const inner = path.slice(open + 1, close);
    const colon = inner.indexOf(':');
    const name = colon < 0 ? inner : inner.slice(0, colon);
    const pattern = colon < 0 ? '[^/]+' : inner.slice(colon + 1);
    names.push(name);
    src += `(${pattern})`;
    i = close + 1;
  }
  return { re: new RegExp(src + '$'), names };
}

function firstSegment(path: string): string {
  const end = path.indexOf('/', 1);
  return end < 0 ? path.slice(1) : path.slice(1, end);
}

export class Router<H> {
  private readonly methods = new Map<string, MethodTable<H>>();
  readonly routes: readonly RouteDef[];

  constructor(routes: readonly RouteDef[], resolve: (route: RouteDef) => H) {
    this.routes = routes;
    for (const route of routes) {
      let t = this.methods.get(route.method);
      if (!t) this.methods.set(route.method, (t = { exact: new Map(), buckets: new Map() }));
      const handler = resolve(route);
      const compiled = compilePattern(route.path);
      if (!compiled) {
        if (!t.exact.has(route.path)) t.exact.set(route.path, { route, handler, re: /^$/, names: [] });
        continue;
      }
      const first = route.path.startsWith('/{') ? '' : firstSegment(route.path);
      if (first.includes('{'))
        throw new Error(`route ${route.path}: a variable inside the first segment is not supported`);
      let b = t.buckets.get(first);
      if (!b) t.buckets.set(first, (b = []));
      b.push({ route, handler, ...compiled });
    }
  }

  /** Find the route for a decoded path (no version prefix, no query). */
  match(method: string, path: string): Match<H> | undefined {
    const t = this.methods.get(method);
    if (!t) return undefined;
    const hit = t.exact.get(path);
    if (hit) return { route: hit.route, handler: hit.handler, params: NO_PARAMS };
    return this.scan(t.buckets.get(firstSegment(path)), path) ?? this.scan(t.buckets.get(''), path);
  }

  private scan(list: Compiled<H>[] | undefined, path: string): Match<H> | undefined {
    if (!list) return undefined;
    for (const c of list) {
      const m = c.re.exec(path);
      if (!m) continue;
      const params: Record<string, string> = {};
      for (let i = 0; i < c.names.length; i++) params[c.names[i]!] = m[i + 1]!;
      return { route: c.route, handler: c.handler, params };
    }
    return undefined;
  }
}
