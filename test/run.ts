/**
 * @module test/run
 * The test command. Every `*.test.js` under dist/test runs in its own Node process (so a hang is
 * a timeout, not a stuck suite, and a crash costs one file), two at a time. uvu prints a summary
 * per file; this runner adds them up and ends with the line `N passed, N failed`.
 *
 *   node dist/test/run.js [--coverage] [substring ...]
 *
 * Environment: TEST_CONCURRENCY (default 2), TEST_TIMEOUT_MS (default 300000 per file).
 */
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, statSync, mkdirSync, rmSync } from 'node:fs';
import { join, relative, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const args = process.argv.slice(2);
const coverage = args.includes('--coverage');
const filters = args.filter((a) => !a.startsWith('--'));
const concurrency = Number(process.env.TEST_CONCURRENCY ?? 2);
const timeoutMs = Number(process.env.TEST_TIMEOUT_MS ?? 300_000);

function findTests(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...findTests(p));
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out.sort();
}

interface Result {
  file: string;
  passed: number;
  failed: number;
  skipped: number;
  output: string;
  ms: number;
}

// uvu's summary: "Total: N / Passed: N / Skipped: N" (uvu/src/index.js exec()).
function summarise(output: string): { total: number; passed: number; skipped: number } | null {
  const clean = output.replace(/\x1b\[[0-9;]*m/g, '');
  const t = [...clean.matchAll(/Total:\s+(\d+)/g)];
  const p = [...clean.matchAll(/Passed:\s+(\d+)/g)];
  const s = [...clean.matchAll(/Skipped:\s+(\d+)/g)];
  if (!t.length || !p.length) return null;
  return { total: Number(t.at(-1)![1]), passed: Number(p.at(-1)![1]), skipped: Number(s.at(-1)?.[1] ?? 0) };
}

const covDir = join(root, 'coverage', 'tmp');

function runFile(file: string): Promise<Result> {
  const started = Date.now();
  return new Promise((resolve) => {
    const env: NodeJS.ProcessEnv = { ...process.env, NODE_DISABLE_COLORS: '1', FORCE_COLOR: '0' };
    if (coverage) env.NODE_V8_COVERAGE = covDir;
    const child = spawn(process.execPath, ['--enable-source-maps', file], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      // Reap anything the file left behind in its process group (servers, sandboxes).
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        /* already gone */
      }
      const s = summarise(output);
      const rel = relative(root, file);
      let passed = 0,
        failed = 0,
        skipped = 0;
      if (s) {
        passed = s.passed;
        skipped = s.skipped;
        failed = Math.max(0, s.total - s.passed - s.skipped);
      }
      if (timedOut) {
        output += `\n[run] ${rel}: timed out after ${timeoutMs} ms\n`;
        failed = Math.max(failed, 1);
      } else if (code !== 0 && failed === 0) {
        output += `\n[run] ${rel}: exited with code ${code}\n`;
        failed = 1;
      }
      resolve({ file: rel, passed, failed, skipped, output, ms: Date.now() - started });
    });
  });
}

async function main() {
  let files = findTests(here);
  if (filters.length) files = files.filter((f) => filters.some((x) => f.includes(x)));
  // Longest first (the classic LPT schedule): with two workers, a long end-to-end file started last
  // would leave one worker idle for its whole run. The slow files are the real-client and
  // simulator ones, so they go first; the rest keep their alphabetical order.
  const weight = (f: string) => (/[/\\]e2e[/\\]/.test(f) ? 0 : /[/\\]sim[/\\]/.test(f) ? 1 : 2);
  files.sort((a, b) => weight(a) - weight(b) || a.localeCompare(b));
  if (coverage) {
    rmSync(covDir, { recursive: true, force: true });
    mkdirSync(covDir, { recursive: true });
  }
  const results: Result[] = [];
  const queue = [...files];
  async function worker() {
    for (let f = queue.shift(); f; f = queue.shift()) {
      process.stdout.write(`▶ ${relative(root, f)}\n`);
      const r = await runFile(f);
      results.push(r);
      const mark = r.failed ? '✘' : '✔';
      process.stdout.write(
        `${mark} ${r.file}  ${r.passed} passed, ${r.failed} failed, ${r.skipped} skipped  (${(r.ms / 1000).toFixed(1)} s)\n`,
      );
      if (r.failed || process.env.TEST_VERBOSE) process.stdout.write(r.output.replace(/^/gm, '    ') + '\n');
      else {
        // Skip reasons are always shown: a skipped real-cluster test must say why.
        for (const line of r.output.split('\n')) if (/^SKIP\b/.test(line)) process.stdout.write(`    ${line}\n`);
      }
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
  if (coverage) {
    const c8 = join(root, 'node_modules', '.bin', 'c8');
    spawnSync(
      c8,
      [
        'report',
        '--temp-directory',
        covDir,
        '--report-dir',
        join(root, 'coverage'),
        '-r',
        'text-summary',
        '-r',
        'lcov',
        '--src',
        root,
        '--exclude',
        'dist/test/**',
        '--exclude',
        'test/**',
        '--exclude',
        'node_modules/**',
      ],
      { stdio: 'inherit', cwd: root },
    );
  }
  const passed = results.reduce((a, r) => a + r.passed, 0);
  const failed = results.reduce((a, r) => a + r.failed, 0);
  const skipped = results.reduce((a, r) => a + r.skipped, 0);
  const failedFiles = results.filter((r) => r.failed).map((r) => r.file);
  if (failedFiles.length) process.stdout.write(`\nfailing files:\n${failedFiles.map((f) => `  ${f}`).join('\n')}\n`);
  process.stdout.write(`\n${files.length} test files, ${skipped} skipped\n`);
  process.stdout.write(`${passed} passed, ${failed} failed\n`);
  process.exitCode = failed || !files.length ? 1 : 0;
}

await main();
