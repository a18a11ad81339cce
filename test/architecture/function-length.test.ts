/**
 * Readable units in src/engine (issue 9): no function, method or arrow function there is longer than
 * 100 lines, counted from its first to its last line as the TypeScript parser sees it. A failure
 * names each one with its length, so the split is where the reader needs it. The checker itself is
 * tested on a small source with one long function.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import ts from 'typescript';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { REPO_ROOT } from '../helpers/tools.js';

const MAX_LINES = 100;

/** Every function-like node with a body longer than `max` lines: `file:line name (n lines)`. */
export function longFunctions(file: string, text: string, max: number): string[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const out: string[] = [];
  const visit = (n: ts.Node): void => {
    if (ts.isFunctionLike(n) && 'body' in n && n.body) {
      const first = sf.getLineAndCharacterOfPosition(n.getStart(sf)).line;
      const last = sf.getLineAndCharacterOfPosition(n.end).line;
      const lines = last - first + 1;
      const name = (n as ts.FunctionLikeDeclaration).name?.getText(sf) ?? '(anonymous)';
      if (lines > max) out.push(`${file}:${first + 1} ${name} (${lines} lines)`);
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return out;
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? tsFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

test('~> the checker finds a function over the limit, and only that one', () => {
  const body = Array.from({ length: 12 }, (_, i) => `  const v${i} = ${i};`).join('\n');
  const src = `function short() {\n  return 1;\n}\nfunction long() {\n${body}\n}\n`;
  assert.equal(longFunctions('x.ts', src, 10), ['x.ts:4 long (14 lines)']);
});

test(`~> no function in src/engine is over ${MAX_LINES} lines`, () => {
  const root = join(REPO_ROOT, 'src', 'engine');
  const found = tsFiles(root).flatMap((f) => longFunctions(relative(REPO_ROOT, f), readFileSync(f, 'utf8'), MAX_LINES));
  assert.equal(found, [], `split these:\n${found.join('\n')}`);
});

test.run();
