/**
 * @module test/architecture/rules
 * The import rules of src/ as data: src/ARCHITECTURE.md quotes this table, and
 * test/architecture/imports.test.ts checks the real tree against it (with the checker in
 * test/helpers/import-graph.ts). Patterns are globs on repo-relative paths (`*` one segment, `**`
 * any depth); packages are matched by name (`node:**`, `http-parser-js`). Type-only imports count.
 *
 * Beyond the table: no import cycle anywhere under `CYCLE_SCOPE` (src/sim included).
 */
import type { ImportRule } from '../helpers/import-graph.js';

/** Every file under this folder is checked for cycles. */
export const CYCLE_SCOPE = 'src';

export const RULES: readonly ImportRule[] = [
  {
    name: 'engine-below-api',
    why: 'Docker semantics sit below the HTTP API: the API calls the engine, never the reverse (the engine owns the types it shares)',
    from: ['src/engine/**'],
    forbid: ['src/api/**', 'src/router/**', 'src/http/**', 'src/main.ts', 'src/cli.ts'],
  },
  {
    name: 'stream-pure',
    why: 'pure framing and backpressure on structural interfaces, unit-tested with fakes: no I/O, nothing of Docker or Kubernetes',
    from: ['src/stream/**'],
    allow: ['src/stream/**', 'src/errors.ts', 'src/log.ts', 'node:**'],
  },
  {
    name: 'http-bytes-only',
    why: 'bytes to Request/Response: it knows nothing of Docker (api, router, engine) or Kubernetes (kube, client-node, ws)',
    from: ['src/http/**'],
    allow: ['src/http/**', 'src/errors.ts', 'src/log.ts', 'node:**', 'http-parser-js'],
  },
  {
    name: 'router-below-api',
    why: 'the route table, versions and the one error writer: it dispatches to handlers it is given, and knows nothing of what they do',
    from: ['src/router/**'],
    allow: ['src/router/**', 'src/http/**', 'src/errors.ts', 'src/log.ts', 'node:**'],
  },
  {
    name: 'api-through-engine',
    why: "a Docker handler speaks to the engine's backend interfaces; Kubernetes is the engine's business",
    from: ['src/api/**'],
    forbid: ['src/kube/**', '@kubernetes/client-node', 'ws'],
  },
  {
    name: 'kube-below-engine',
    why: 'Kubernetes access (kubeconfig, REST, watch caches, WebSockets) knows nothing of Docker',
    from: ['src/kube/**'],
    forbid: ['src/engine/**', 'src/api/**', 'src/router/**', 'src/http/**', 'src/main.ts', 'src/cli.ts'],
  },
  {
    name: 'sim-only-from-cli',
    why: 'kuber-api reaches kube-sim only through a kubeconfig, as a real cluster: `kuber-api sim` (src/cli.ts) is its one entry, and src/kube/embedded-sim.ts spawns that CLI as a child process instead of importing it',
    from: ['src/**'],
    fromExcept: ['src/sim/**', 'src/cli.ts'],
    forbid: ['src/sim/**'],
  },
  {
    name: 'operator-on-kube',
    why: 'the operator reconciles Kubernetes objects and brokers credentials: it reaches the cluster through src/kube and knows nothing of Docker',
    from: ['src/operator/**'],
    allow: ['src/operator/**', 'src/kube/**', 'src/errors.ts', 'src/log.ts', 'node:**'],
  },
  {
    name: 'wings-below-root',
    why: 'kube-engine.ts is the composition root: a wing (a folder under src/engine) sees its narrow host interface, never KubeEngine',
    from: ['src/engine/*/**'],
    forbid: ['src/engine/kube-engine.ts'],
  },
];

const code = (globs: readonly string[] | undefined): string => (globs ?? []).map((g) => `\`${g}\``).join(', ');

/**
 * The rules as the Markdown table src/ARCHITECTURE.md quotes between its `import-rules` markers
 * (test/architecture/imports.test.ts fails when the two differ; paste this function's output).
 */
export function rulesMarkdown(): string {
  const rows = RULES.map((r) => {
    const files = code(r.from) + (r.fromExcept ? ` except ${code(r.fromExcept)}` : '');
    const imports = r.forbid ? `must not import ${code(r.forbid)}` : `may import only ${code(r.allow)}`;
    return `| ${r.name} | ${files} | ${imports} | ${r.why} |`;
  });
  return [
    '| rule | files | imports | why |',
    '|---|---|---|---|',
    `| no-cycles | \`${CYCLE_SCOPE}/**\` | no import cycle (type-only imports count) | a cycle makes two modules one: neither can be read, tested or moved alone |`,
    ...rows,
  ].join('\n');
}
