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
    why: 'src/engine is Docker semantics below the HTTP API: it never imports the layers above it (api, router, http)',
    from: ['src/engine/**'],
    forbid: ['src/api/**', 'src/router/**', 'src/http/**', 'src/main.ts', 'src/cli.ts'],
  },
  {
    name: 'stream-pure',
    why: 'src/stream is pure framing and backpressure on structural interfaces: it imports only itself, src/errors.ts, src/log.ts and node builtins',
    from: ['src/stream/**'],
    allow: ['src/stream/**', 'src/errors.ts', 'src/log.ts', 'node:**'],
  },
  {
    name: 'http-bytes-only',
    why: 'src/http is bytes to Request/Response: nothing of Docker (api, router, engine) or Kubernetes (kube, client-node, ws)',
    from: ['src/http/**'],
    allow: ['src/http/**', 'src/errors.ts', 'src/log.ts', 'node:**', 'http-parser-js'],
  },
  {
    name: 'sim-only-from-cli',
    why: 'kuber-api reaches kube-sim only through a kubeconfig, as a real cluster; only the CLI entry (src/cli.ts, `kuber-api sim`) loads it (src/kube/embedded-sim.ts spawns that CLI as a child process and imports nothing of src/sim)',
    from: ['src/**'],
    fromExcept: ['src/sim/**', 'src/cli.ts'],
    forbid: ['src/sim/**'],
  },
  {
    name: 'wings-below-root',
    why: 'src/engine/kube-engine.ts is the composition root: a wing (src/engine/<wing>/) sees its host interface, never KubeEngine',
    from: ['src/engine/*/**'],
    forbid: ['src/engine/kube-engine.ts'],
  },
];
