/**
 * The import-graph checker (test/helpers/import-graph.ts) with the project's own rule table
 * (test/architecture/rules.ts), on tiny fake trees written to a temporary directory: a tree that
 * keeps every rule passes, and each deliberate violation (a cycle, engine -> api, stream -> kube,
 * http -> engine, src/sim imported outside the CLI entry, a wing -> the composition root, router ->
 * engine, api -> kube, kube -> engine) fails with the rule's name and the offending file:line.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import {
  readImportGraph,
  findCycles,
  checkRules,
  describeViolation,
  importsOf,
  globRegExp,
  stronglyConnected,
} from '../helpers/import-graph.js';
import { RULES, CYCLE_SCOPE } from './rules.js';

/** A small tree that keeps every rule: the layers of src/ARCHITECTURE.md in miniature. */
const CLEAN: Record<string, string> = {
  'src/cli.ts': `if (process.argv[2] === 'sim') await import('./sim/cli.js');\nelse await import('./main.js');\n`,
  'src/main.ts': `import { families } from './api/index.js';\nimport { listen } from './http/server.js';\nexport const main = () => listen(families);\n`,
  'src/errors.ts': `export class EngineError extends Error {}\n`,
  'src/log.ts': `export const log = console;\n`,
  'src/api/index.ts': `import { KubeEngine } from '../engine/kube-engine.js';\nimport { writeFrame } from '../stream/stdcopy.js';\nexport const families = [KubeEngine, writeFrame];\n`,
  'src/engine/kube-engine.ts': `import { create } from './containers/create.js';\nimport { get } from '../kube/client.js';\nexport class KubeEngine { create = create; get = get; }\n`,
  'src/engine/containers/create.ts': `import type { ContainersHost } from './host.js';\nimport { EngineError } from '../../errors.js';\nexport function create(h: ContainersHost) { if (!h) throw new EngineError(); }\n`,
  'src/engine/containers/host.ts': `import { get } from '../../kube/client.js';\nexport interface ContainersHost { get: typeof get }\n`,
  'src/stream/stdcopy.ts': `import { Writable } from 'node:stream';\nimport { EngineError } from '../errors.js';\nimport { log } from '../log.js';\nexport const writeFrame = (w: Writable) => { log.info(w); throw new EngineError(); };\n`,
  'src/http/server.ts': `import { createServer } from 'node:net';\nimport { HTTPParser } from 'http-parser-js';\nimport { log } from '../log.js';\nexport const listen = (x: unknown) => { log.info(x, HTTPParser); return createServer(); };\n`,
  'src/router/dispatch.ts': `import { listen } from '../http/server.js';\nimport { EngineError } from '../errors.js';\nexport const dispatch = () => listen(EngineError);\n`,
  'src/kube/client.ts': `import { request } from 'node:https';\nexport const get = () => request('https://x');\n`,
  'src/kube/embedded-sim.ts': `import { spawn } from 'node:child_process';\n// Spawns \`cli.js sim\`: nothing of src/sim is imported (import { start } from '../sim/index.js' would break the rule).\nexport const startSim = () => spawn(process.execPath, ['cli.js', 'sim']);\n`,
  'src/sim/cli.ts': `import { start } from './index.js';\nexport const main = start;\n`,
  'src/sim/index.ts': `import { log } from '../log.js';\nexport const start = () => log.info('sim');\n`,
};

const dirs: string[] = [];
/** The clean tree with some files replaced or added, written to a fresh temporary directory. */
function tree(changes: Record<string, string> = {}): string {
  const root = mkdtempSync(join(tmpdir(), 'archcheck-'));
  dirs.push(root);
  for (const [path, text] of Object.entries({ ...CLEAN, ...changes })) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

function check(root: string) {
  const graph = readImportGraph(root, CYCLE_SCOPE);
  return {
    graph,
    cycles: findCycles(graph).map((c) => c.join(' -> ')),
    violations: checkRules(graph, RULES).map(describeViolation),
  };
}

test.after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

test('the clean tree keeps every rule and has no cycle', () => {
  const { graph, cycles, violations } = check(tree());
  assert.equal(graph.files.length, Object.keys(CLEAN).length);
  assert.equal(graph.unresolved, []);
  assert.equal(cycles, []);
  assert.equal(violations, []);
});

test('a cycle fails, reported as a path; a larger component is reported edge by edge', () => {
  const { cycles } = check(
    tree({
      'src/kube/client.ts': `import { cache } from './cache.js';\nexport const get = () => cache;\n`,
      'src/kube/cache.ts': `import type { get } from './client.js';\nexport const cache: typeof get | undefined = undefined;\n`,
    }),
  );
  assert.equal(cycles, ['src/kube/cache.ts -> src/kube/client.ts -> src/kube/cache.ts']);

  const three = check(
    tree({
      'src/sim/index.ts': `import { b } from './b.js';\nexport const start = () => b;\n`,
      'src/sim/b.ts': `import { c } from './c.js';\nexport const b = c;\n`,
      'src/sim/c.ts': `export { start as c } from './index.js';\nexport const d = import('./b.js');\n`,
    }),
  );
  // index -> b -> c -> index, and the dynamic import c -> b closes a second, shorter cycle.
  assert.equal(
    three.cycles.sort(),
    [
      'src/sim/b.ts -> src/sim/c.ts -> src/sim/b.ts',
      'src/sim/b.ts -> src/sim/c.ts -> src/sim/index.ts -> src/sim/b.ts',
    ].sort(),
  );
  assert.equal(stronglyConnected(three.graph), [['src/sim/b.ts', 'src/sim/c.ts', 'src/sim/index.ts']]);
});

test('engine importing api fails (a type-only import too), and says so with file:line', () => {
  const { violations, cycles } = check(
    tree({
      'src/engine/events.ts': `import { log } from '../log.js';\nimport type { ApiContext } from '../api/index.js';\nexport type E = ApiContext | typeof log;\n`,
    }),
  );
  assert.equal(violations, [
    `src/engine/events.ts:2 imports src/api/index.ts ('../api/index.js', type-only) [engine-below-api]`,
  ]);
  assert.equal(cycles, [], 'events.ts is imported by nothing: no cycle, only the layer rule');
});

test('stream importing kube (or a package other than node builtins) fails', () => {
  const { violations } = check(
    tree({
      'src/stream/stdcopy.ts': `import { get } from '../kube/client.js';\nimport type WebSocket from 'ws';\nexport const writeFrame = (w: WebSocket) => get() && w;\n`,
    }),
  );
  assert.equal(violations, [
    `src/stream/stdcopy.ts:1 imports src/kube/client.ts ('../kube/client.js') [stream-pure]`,
    `src/stream/stdcopy.ts:2 imports ws ('ws', type-only) [stream-pure]`,
  ]);
});

test('http importing engine, kube or api fails', () => {
  const { violations } = check(
    tree({
      'src/http/server.ts': `import type { KubeEngine } from '../engine/kube-engine.js';\nexport const listen = (e: KubeEngine) => e;\n`,
      'src/http/port.ts': `export { get } from '../kube/client.js';\nexport type F = typeof import('../api/index.js').families;\n`,
    }),
  );
  assert.equal(violations, [
    `src/http/port.ts:1 imports src/kube/client.ts ('../kube/client.js') [http-bytes-only]`,
    `src/http/port.ts:2 imports src/api/index.ts ('../api/index.js', type-only) [http-bytes-only]`,
    `src/http/server.ts:1 imports src/engine/kube-engine.ts ('../engine/kube-engine.js', type-only) [http-bytes-only]`,
  ]);
});

test('src/sim imported by anything but the CLI entry fails (a dynamic import too)', () => {
  const { violations } = check(
    tree({
      'src/kube/embedded-sim.ts': `export const startSim = async () => (await import('../sim/index.js')).start();\n`,
      'src/main.ts': `import { start } from './sim/index.js';\nexport const main = start;\n`,
    }),
  );
  assert.equal(violations, [
    `src/kube/embedded-sim.ts:1 imports src/sim/index.ts ('../sim/index.js') [sim-only-from-cli]`,
    `src/main.ts:1 imports src/sim/index.ts ('./sim/index.js') [sim-only-from-cli]`,
  ]);
});

test('a wing importing the composition root fails (and closes a cycle)', () => {
  const { violations, cycles } = check(
    tree({
      'src/engine/containers/create.ts': `import type { KubeEngine } from '../kube-engine.js';\nexport function create(e: KubeEngine) { return e; }\n`,
    }),
  );
  assert.equal(violations, [
    `src/engine/containers/create.ts:1 imports src/engine/kube-engine.ts ('../kube-engine.js', type-only) [wings-below-root]`,
  ]);
  assert.equal(cycles, [
    'src/engine/containers/create.ts -> src/engine/kube-engine.ts -> src/engine/containers/create.ts',
  ]);
});

test('router importing the engine, api importing kube, kube importing the engine: each fails', () => {
  const { violations } = check(
    tree({
      'src/router/dispatch.ts': `import type { KubeEngine } from '../engine/kube-engine.js';\nexport const dispatch = (e: KubeEngine) => e;\n`,
      'src/api/index.ts': `import { get } from '../kube/client.js';\nimport WebSocket from 'ws';\nexport const families = [get, WebSocket];\n`,
      'src/kube/client.ts': `import type { KubeEngine } from '../engine/kube-engine.js';\nexport const get = (e: KubeEngine) => e;\n`,
    }),
  );
  assert.equal(violations, [
    `src/api/index.ts:1 imports src/kube/client.ts ('../kube/client.js') [api-through-engine]`,
    `src/api/index.ts:2 imports ws ('ws') [api-through-engine]`,
    `src/kube/client.ts:1 imports src/engine/kube-engine.ts ('../engine/kube-engine.js', type-only) [kube-below-engine]`,
    `src/router/dispatch.ts:1 imports src/engine/kube-engine.ts ('../engine/kube-engine.js', type-only) [router-below-api]`,
  ]);
});

test('a relative import of a missing file is reported as unresolved', () => {
  const { graph } = check(tree({ 'src/log.ts': `import './gone.js';\nexport const log = console;\n` }));
  assert.equal(
    graph.unresolved.map((e) => `${e.from}:${e.line} ${e.specifier}`),
    ['src/log.ts:1 ./gone.js'],
  );
});

test('importsOf: every import form, and nothing from comments or strings', () => {
  const text = [
    `import a from './a.js';`,
    `import type { B } from './b.js';`,
    `import { type C, type D } from './cd.js';`,
    `import { type E, f } from './ef.js';`,
    `import './side.js';`,
    `export * from './star.js';`,
    `export type { G } from './g.js';`,
    `const h = await import('./h.js');`,
    `type I = import('./i.js').I;`,
    `import j = require('./j.js');`,
    `// import k from './k.js';`,
    `/* export * from './l.js' */ const m = "import n from './n.js'";`,
  ].join('\n');
  const found = importsOf('x.ts', text).map((r) => `${r.pos} ${r.specifier} ${r.kind}${r.typeOnly ? ' type' : ''}`);
  assert.equal(found, [
    '1 ./a.js static',
    '2 ./b.js static type',
    '3 ./cd.js static type',
    '4 ./ef.js static',
    '5 ./side.js static',
    '6 ./star.js re-export',
    '7 ./g.js re-export type',
    '8 ./h.js dynamic',
    '9 ./i.js type-import type',
    '10 ./j.js require',
  ]);
});

test('globs: * stays within a segment, ** crosses them (and **/ may match nothing)', () => {
  assert.ok(globRegExp('src/engine/*/**').test('src/engine/containers/create.ts'));
  assert.not.ok(globRegExp('src/engine/*/**').test('src/engine/kube-engine.ts'));
  assert.ok(globRegExp('src/**').test('src/cli.ts'));
  assert.ok(globRegExp('src/**/x.ts').test('src/x.ts'));
  assert.ok(globRegExp('node:**').test('node:fs/promises'));
  assert.not.ok(globRegExp('src/errors.ts').test('src/errorsXts'));
});

test.run();
