/**
 * @module test/helpers/import-graph
 * The import graph of a TypeScript tree, its cycles, and a check of layer rules given as data
 * (test/architecture/rules.ts holds the project's table; src/ARCHITECTURE.md quotes it).
 *
 * Why our own: the graph is small (a few hundred files) and the rules are a dozen lines of data, so
 * a dependency-cruiser configuration would be larger than this module. The files are read with the
 * TypeScript parser the project already builds with (a devDependency, not a runtime one): an
 * `import` inside a comment or a string is not an import, and a type-only import is known as such.
 *
 * What counts as an import: `import … from`, `import type … from`, side-effect `import 'x'`,
 * `export … from`, `export * from`, dynamic `import('x')`, type-position `import('x').T`, and
 * `import x = require('x')`. Type-only imports count: the rules are about what a module knows of,
 * not only what it loads (a seam that takes its types from an implementation is the cycle the
 * rules exist to prevent).
 *
 * Specifiers are resolved as NodeNext resolves this project's sources: a relative `./x.js` is
 * `./x.ts` (or `./x.tsx`, `./x/index.ts`); other specifiers (`node:net`, `ws`, `@scope/pkg/sub`)
 * are external and keep their package name.
 */
import { readdirSync, readFileSync, statSync, existsSync } from 'node:fs';
import { join, relative, posix, sep } from 'node:path';
import ts from 'typescript';

export type ImportKind = 'static' | 're-export' | 'dynamic' | 'type-import' | 'require';

export interface ImportEdge {
  /** The importing file, repo-relative with forward slashes (`src/http/port.ts`). */
  from: string;
  /** A repo-relative file for a relative specifier, else the external package (`node:net`, `ws`, `@kubernetes/client-node`). */
  to: string;
  external: boolean;
  specifier: string;
  line: number;
  kind: ImportKind;
  /** `import type`, `export type`, or every named binding marked `type`. */
  typeOnly: boolean;
}

export interface ImportGraph {
  files: string[];
  edges: ImportEdge[];
  /** Relative specifiers that name no file (a broken import the compiler would also reject). */
  unresolved: ImportEdge[];
}

/** Every .ts file under `root/dir` (declaration files excluded), repo-relative, sorted. */
export function listSources(root: string, dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (/\.tsx?$/.test(name) && !name.endsWith('.d.ts')) out.push(toPosix(relative(root, p)));
    }
  };
  walk(join(root, dir));
  return out.sort();
}

function toPosix(p: string): string {
  return sep === '/' ? p : p.split(sep).join('/');
}

/** The package a bare specifier names: `@scope/pkg/sub` -> `@scope/pkg`, `pkg/sub` -> `pkg`; `node:x` stays whole. */
function packageOf(spec: string): string {
  if (spec.startsWith('node:')) return spec;
  const parts = spec.split('/');
  return spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

/** A relative specifier of `from` resolved to a repo-relative file, or undefined when none exists. */
function resolveRelative(root: string, from: string, spec: string): string | undefined {
  const base = posix.normalize(posix.join(posix.dirname(from), spec));
  const stem = base.replace(/\.(m|c)?js$/, '');
  const candidates = [`${stem}.ts`, `${stem}.tsx`, `${stem}/index.ts`, base];
  return candidates.find((c) => existsSync(join(root, c)) && statSync(join(root, c)).isFile());
}

interface RawImport {
  specifier: string;
  pos: number;
  kind: ImportKind;
  typeOnly: boolean;
}

function namedBindingsTypeOnly(clause: ts.ImportClause): boolean {
  if (clause.isTypeOnly) return true;
  if (clause.name) return false;
  const nb = clause.namedBindings;
  return !!nb && ts.isNamedImports(nb) && nb.elements.length > 0 && nb.elements.every((e) => e.isTypeOnly);
}

/** The module specifiers one source text mentions, in order. */
export function importsOf(fileName: string, text: string): RawImport[] {
  const sf = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const out: RawImport[] = [];
  const lit = (n: ts.Node | undefined): n is ts.StringLiteralLike => !!n && ts.isStringLiteralLike(n);
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && lit(node.moduleSpecifier)) {
      const typeOnly = !!node.importClause && namedBindingsTypeOnly(node.importClause);
      out.push({ specifier: node.moduleSpecifier.text, pos: node.getStart(sf), kind: 'static', typeOnly });
    } else if (ts.isExportDeclaration(node) && lit(node.moduleSpecifier)) {
      out.push({
        specifier: node.moduleSpecifier.text,
        pos: node.getStart(sf),
        kind: 're-export',
        typeOnly: node.isTypeOnly,
      });
    } else if (
      ts.isImportEqualsDeclaration(node) &&
      ts.isExternalModuleReference(node.moduleReference) &&
      lit(node.moduleReference.expression)
    ) {
      out.push({
        specifier: node.moduleReference.expression.text,
        pos: node.getStart(sf),
        kind: 'require',
        typeOnly: node.isTypeOnly,
      });
    } else if (
      ts.isCallExpression(node) &&
      node.expression.kind === ts.SyntaxKind.ImportKeyword &&
      lit(node.arguments[0])
    ) {
      out.push({ specifier: node.arguments[0].text, pos: node.getStart(sf), kind: 'dynamic', typeOnly: false });
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && lit(node.argument.literal)) {
      out.push({ specifier: node.argument.literal.text, pos: node.getStart(sf), kind: 'type-import', typeOnly: true });
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out.map((r) => ({ ...r, pos: sf.getLineAndCharacterOfPosition(r.pos).line + 1 }));
}

/** Read every source under `root/dir` and build its import graph. */
export function readImportGraph(root: string, dir = 'src'): ImportGraph {
  const files = listSources(root, dir);
  const edges: ImportEdge[] = [];
  const unresolved: ImportEdge[] = [];
  for (const from of files) {
    for (const r of importsOf(from, readFileSync(join(root, from), 'utf8'))) {
      const relativeSpec = r.specifier.startsWith('./') || r.specifier.startsWith('../');
      const base = { from, specifier: r.specifier, line: r.pos, kind: r.kind, typeOnly: r.typeOnly };
      if (!relativeSpec) {
        edges.push({ ...base, to: packageOf(r.specifier), external: true });
        continue;
      }
      const to = resolveRelative(root, from, r.specifier);
      if (to) edges.push({ ...base, to, external: false });
      else unresolved.push({ ...base, to: posix.join(posix.dirname(from), r.specifier), external: false });
    }
  }
  return { files, edges, unresolved };
}

/** Adjacency of the internal edges: file -> the files it imports (each once, sorted). */
function adjacency(graph: ImportGraph): Map<string, string[]> {
  const adj = new Map<string, Set<string>>(graph.files.map((f) => [f, new Set()]));
  for (const e of graph.edges) if (!e.external) adj.get(e.from)?.add(e.to);
  return new Map([...adj].map(([k, v]) => [k, [...v].sort()]));
}

/** Strongly connected components with more than one file, or a file importing itself (Tarjan). */
export function stronglyConnected(graph: ImportGraph): string[][] {
  const adj = adjacency(graph);
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  let next = 0;
  const connect = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of adj.get(v) ?? []) {
      if (!index.has(w)) {
        connect(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const comp: string[] = [];
    for (let w = stack.pop()!; ; w = stack.pop()!) {
      onStack.delete(w);
      comp.push(w);
      if (w === v) break;
    }
    if (comp.length > 1 || adj.get(v)!.includes(v)) out.push(comp.sort());
  };
  for (const v of adj.keys()) if (!index.has(v)) connect(v);
  return out.sort((a, b) => a[0]!.localeCompare(b[0]!));
}

/** The shortest path from `start` to `goal` inside `within`, by breadth-first search. */
function shortestPath(
  adj: Map<string, string[]>,
  start: string,
  goal: string,
  within: Set<string>,
): string[] | undefined {
  const prev = new Map<string, string>([[start, start]]);
  const queue = [start];
  for (let i = 0; i < queue.length; i++) {
    const v = queue[i]!;
    if (v === goal) {
      const path = [v];
      for (let p = v; p !== start;) path.unshift((p = prev.get(p)!));
      return path;
    }
    for (const w of adj.get(v) ?? []) {
      if (within.has(w) && !prev.has(w)) {
        prev.set(w, v);
        queue.push(w);
      }
    }
  }
  return undefined;
}

/**
 * The import cycles, each a path that starts and ends at the same file (`a -> b -> a`). For every
 * import edge inside a strongly connected component, the shortest cycle through that edge: every
 * arrow that takes part in a cycle is shown (so each can be judged), without listing the
 * exponentially many elementary cycles of a large component. Each starts at its first file in
 * alphabetical order; duplicates are dropped.
 */
export function findCycles(graph: ImportGraph): string[][] {
  const adj = adjacency(graph);
  const seen = new Set<string>();
  const cycles: string[][] = [];
  for (const comp of stronglyConnected(graph)) {
    const within = new Set(comp);
    for (const a of comp) {
      for (const b of adj.get(a)!) {
        if (!within.has(b)) continue;
        const back = shortestPath(adj, b, a, within);
        if (!back) continue;
        const body = [a, ...back].slice(0, -1);
        const minAt = body.indexOf([...body].sort()[0]!);
        const rotated = [...body.slice(minAt), ...body.slice(0, minAt)];
        const key = rotated.join(' -> ');
        if (seen.has(key)) continue;
        seen.add(key);
        cycles.push([...rotated, rotated[0]!]);
      }
    }
  }
  return cycles.sort((x, y) => x.join(' ').localeCompare(y.join(' ')));
}

/**
 * One layer rule. A rule applies to the files matching `from` and none of `fromExcept`. Then either
 * `forbid` lists what they must not import, or `allow` lists the only things they may import
 * (files and packages alike; a package is matched by its name, e.g. `node:**`, `ws`).
 * Patterns are globs on repo-relative paths: `*` within one path segment, `**` across segments.
 */
export interface ImportRule {
  name: string;
  /** Why the rule exists (quoted by the failure message and by src/ARCHITECTURE.md). */
  why: string;
  from: readonly string[];
  fromExcept?: readonly string[];
  forbid?: readonly string[];
  allow?: readonly string[];
}

export interface RuleViolation {
  rule: string;
  edge: ImportEdge;
}

const globCache = new Map<string, RegExp>();
/** A glob as a regular expression: `**` any characters, `*` any but `/`; `**` before a `/` may match nothing. */
export function globRegExp(glob: string): RegExp {
  let re = globCache.get(glob);
  if (re) return re;
  let src = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*') {
      const slash = glob[i + 2] === '/';
      src += slash ? '(?:.*/)?' : '.*';
      i += slash ? 2 : 1;
    } else if (c === '*') src += '[^/]*';
    else src += c.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
  }
  re = new RegExp(`^${src}$`);
  globCache.set(glob, re);
  return re;
}

const matchesAny = (path: string, globs: readonly string[] | undefined): boolean =>
  !!globs?.some((g) => globRegExp(g).test(path));

/** The edges that break a rule, in file order. */
export function checkRules(graph: ImportGraph, rules: readonly ImportRule[]): RuleViolation[] {
  const out: RuleViolation[] = [];
  for (const edge of graph.edges) {
    for (const rule of rules) {
      if (!matchesAny(edge.from, rule.from) || matchesAny(edge.from, rule.fromExcept)) continue;
      const broken =
        (rule.forbid && matchesAny(edge.to, rule.forbid)) || (rule.allow && !matchesAny(edge.to, rule.allow));
      if (broken) out.push({ rule: rule.name, edge });
    }
  }
  return out;
}

/** A violation as one line a reader can act on: `src/a.ts:3 imports src/b.ts ('./b.js', type-only) [rule]`. */
export function describeViolation(v: RuleViolation): string {
  const e = v.edge;
  return `${e.from}:${e.line} imports ${e.to} ('${e.specifier}'${e.typeOnly ? ', type-only' : ''}) [${v.rule}]`;
}
