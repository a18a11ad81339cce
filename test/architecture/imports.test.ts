/**
 * The architecture's import rules, checked on the real tree: no import cycle in src/ (src/sim
 * included), and every rule of test/architecture/rules.ts (quoted by src/ARCHITECTURE.md). A
 * failure lists every offending import as `file:line imports target [rule]`, or every cycle as a
 * path. test/architecture/checker.test.ts proves the checker fails on each kind of violation.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  readImportGraph,
  findCycles,
  checkRules,
  describeViolation,
  type ImportGraph,
} from '../helpers/import-graph.js';
import { REPO_ROOT } from '../helpers/tools.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RULES, CYCLE_SCOPE, rulesMarkdown } from './rules.js';

let graph: ImportGraph;

test.before(() => {
  graph = readImportGraph(REPO_ROOT, CYCLE_SCOPE);
});

test('the graph is read: every source file, and every relative import resolves to a file', () => {
  assert.ok(
    graph.files.includes('src/cli.ts') && graph.files.includes('src/stream/stdcopy.ts'),
    'src/cli.ts and src/stream/stdcopy.ts are sources',
  );
  assert.ok(
    graph.edges.some((e) => e.from === 'src/cli.ts' && e.to === 'src/main.ts' && e.kind === 'dynamic'),
    'the CLI entry loads main.ts by dynamic import',
  );
  assert.equal(
    graph.unresolved.map((e) => `${e.from}:${e.line} '${e.specifier}'`),
    [],
  );
});

test(`no import cycle in ${CYCLE_SCOPE}/`, () => {
  const cycles = findCycles(graph).map((c) => c.join(' -> '));
  assert.ok(cycles.length === 0, `${cycles.length} import cycle(s):\n  ${cycles.join('\n  ')}`);
});

for (const rule of RULES) {
  test(`rule ${rule.name}: ${rule.why}`, () => {
    const broken = checkRules(graph, [rule]).map(describeViolation);
    assert.ok(
      broken.length === 0,
      `${broken.length} import(s) break "${rule.name}" (${rule.why}):\n  ${broken.join('\n  ')}`,
    );
  });
}

test('every rule applies to some import of the tree (a rule whose globs match nothing checks nothing)', () => {
  const applies = (rule: (typeof RULES)[number]) =>
    checkRules(graph, [{ ...rule, forbid: undefined, allow: [] }]).length > 0;
  assert.equal(
    RULES.filter((r) => !applies(r)).map((r) => r.name),
    [],
  );
});

test('src/ARCHITECTURE.md quotes the rule table as it is (between its import-rules markers)', () => {
  const doc = readFileSync(join(REPO_ROOT, 'src', 'ARCHITECTURE.md'), 'utf8');
  const m = /<!-- import-rules:begin[^>]*-->\n([\s\S]*?)\n<!-- import-rules:end -->/.exec(doc);
  assert.ok(m, 'src/ARCHITECTURE.md has no <!-- import-rules:begin --> ... <!-- import-rules:end --> block');
  assert.fixture(m[1]!, rulesMarkdown());
});

test.run();
