/**
 * The benchmark harness as a CI smoke test: correctness only, never speed.
 * - the local model of the busybox producer is byte-for-byte what the producer script writes, and
 *   the verifier and demuxer catch what they must (flipped byte, swapped block, short stream,
 *   split stdcopy headers);
 * - `node dist/bench/run.js --quick` runs every scenario on a local kube-sim: every run verified
 *   (every byte, every exit code, zero failed concurrent streams) on every path that applies: a, b,
 *   c; f (the Node floor) on the stream cases; e (the docker CLI against kuber-api and its
 *   in-memory ceiling) when the docker CLI is on PATH; d (the docker host) when the run found the
 *   dockerd-oracle up; results.json, the table, the three SVG charts and report.md (with the issue
 *   15 targets) written. A kuber-api endpoint that answers 501 "not supported" (a feature not on
 *   this branch yet) is reported with a SKIP line instead of failing.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { modelPieces, PRODUCER_SCRIPT, Verifier, streamBytes } from '../../bench/lib/model.js';
import { StdcopyDemuxer } from '../../bench/lib/demux.js';
import { dockerCliAvailable } from '../../bench/lib/docker-cli.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

test('~> the local model is exactly what the busybox producer script writes', () => {
  const out = execFileSync('/bin/busybox', ['sh', '-c', PRODUCER_SCRIPT, 'sh', '3'], { maxBuffer: 64 << 20 });
  assert.is(out.length, streamBytes({ blocks: 3 }));
  assert.ok(Buffer.concat([...modelPieces({ blocks: 3 })]).equals(out), 'model bytes differ from the script output');
  const v = new Verifier({ blocks: 3 });
  for (let i = 0; i < out.length; i += 65_537) v.push(out.subarray(i, i + 65_537));
  assert.ok(v.end(), v.error);
});

test('~> the verifier catches a flipped byte, a swapped block, a short stream, a bad timestamp', () => {
  const good = Buffer.concat([...modelPieces({ blocks: 3 })]);
  const flipped = Buffer.from(good);
  flipped[2 * 1048576 + 77]! ^= 1;
  const swapped = Buffer.concat([good.subarray(1048576, 2097152), good.subarray(0, 1048576), good.subarray(2097152)]);
  for (const [name, b] of [['flipped', flipped], ['swapped', swapped], ['short', good.subarray(0, good.length - 1)], ['long', Buffer.concat([good, Buffer.from('x')])]] as const) {
    const v = new Verifier({ blocks: 3 });
    v.push(b);
    assert.not.ok(v.end(), `${name} passed`);
  }
  const ts = Buffer.concat([...modelPieces({ blocks: 2, timestamps: true })]);
  for (const step of [1, 777, 65_536]) {
    const v = new Verifier({ blocks: 2, timestamps: true });
    for (let i = 0; i < ts.length; i += step) v.push(ts.subarray(i, i + step));
    assert.ok(v.end(), `timestamped, ${step}-byte reads: ${v.error}`);
  }
  const badTs = Buffer.from(ts);
  badTs[159 * 9 + 10] = 0x20; // the 'T' of line 9's timestamp
  const v1 = new Verifier({ blocks: 2, timestamps: true });
  v1.push(badTs);
  assert.not.ok(v1.end());
  const tty = Buffer.concat([Buffer.from('\r\n'), ...modelPieces({ blocks: 1, tty: true })]);
  const v2 = new Verifier({ blocks: 1, tty: true }, { allowLeadingNewlines: 2 });
  v2.push(tty);
  assert.ok(v2.end(), v2.error);
});

test('~> the stdcopy demuxer survives headers and payloads split across reads', () => {
  const frame = (s: number, p: string) => Buffer.concat([Buffer.from([s, 0, 0, 0, 0, 0, 0, p.length]), Buffer.from(p)]);
  const all = Buffer.concat([frame(1, 'hello '), frame(2, 'err'), frame(1, 'world'), frame(1, '')]);
  for (let step = 1; step <= all.length; step++) {
    let out = '';
    let err = '';
    const d = new StdcopyDemuxer((b) => (out += b), (b) => (err += b));
    for (let i = 0; i < all.length; i += step) d.push(all.subarray(i, i + step));
    assert.is(out, 'hello world', `step ${step}`);
    assert.is(err, 'err');
    assert.ok(d.clean);
  }
  const bad = new StdcopyDemuxer(() => {}, () => {});
  bad.push(Buffer.from([9, 0, 0, 0, 0, 0, 0, 1, 0x41]));
  assert.ok(bad.error);
});

test('~> npm run bench -- --quick: every scenario runs, every byte and exit code verified, files written', async () => {
  const out = mkdtempSync(join(tmpdir(), 'kapi-bench-smoke-'));
  try {
    const started = Date.now();
    const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve) => {
      const child = spawn(process.execPath, [join(root, 'dist', 'bench', 'run.js'), '--quick', '--no-results', '--out', out], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      child.stdout.on('data', (d) => (output += d));
      child.stderr.on('data', (d) => (output += d));
      child.on('close', (c) => resolve({ code: c, output }));
    });
    console.log(`bench --quick: exit ${code} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
    for (const f of ['results.json', 'table.txt', 'table.md', 'throughput.svg', 'latency.svg', 'cli.svg', 'report.md']) assert.ok(existsSync(join(out, f)), `${f} missing:\n${output.slice(-3000)}`);
    for (const f of ['throughput.svg', 'latency.svg', 'cli.svg']) {
      const svg = readFileSync(join(out, f), 'utf8');
      assert.ok(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"') && svg.trimEnd().endsWith('</svg>'), `${f} is not an SVG document`);
    }
    const r = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as {
      meta: { options: { dockerHost?: string } };
      cases: Array<{ id: string; group: string; metric: string }>;
      samples: Array<{ case: string; path: string; ok: boolean; error?: string; streams?: number; failed?: number; bytes?: number }>;
    };
    const groups = new Set(r.cases.map((c) => c.group));
    const cli = dockerCliAvailable();
    const withD = !!r.meta.options.dockerHost;
    for (const g of ['control', 'startup', 'logs', 'attach', 'exec', ...(cli ? ['cli'] : []), 'roundtrip', 'echo', 'backpressure', 'concurrency']) assert.ok(groups.has(g), `scenario ${g} did not run:\n${output.slice(-3000)}`);
    const report = readFileSync(join(out, 'report.md'), 'utf8');
    assert.ok(report.includes('## Targets (issue 15)'), 'report.md has no issue 15 targets');
    if (cli) assert.ok(report.includes("## The user's view: the docker CLI as the consumer (path e)"), 'report.md has no docker CLI table');
    assert.ok(report.includes('against the Node floor (path f)'), 'report.md has no floor table');
    /** The paths every case must have run on. */
    const expected = (c: { id: string; group: string; metric: string }): string[] => {
      const d = withD && !c.id.includes('(split)'); // the split-streams kube-sim runs without path d
      if (c.id === 'create+start') return ['a', 'b', ...(d ? ['d'] : [])];
      if (c.group === 'startup') return ['a', 'c'];
      if (c.group === 'cli') return ['a', 'e', ...(d ? ['d'] : []), ...(c.metric === 'throughput' && !c.id.startsWith('docker run') ? ['b'] : [])];
      const f = c.metric === 'throughput' && ['logs', 'attach', 'exec'].includes(c.group) ? ['f'] : [];
      return ['a', 'b', 'c', ...(d ? ['d'] : []), ...f];
    };
    let skipped = 0;
    for (const c of r.cases) {
      for (const p of expected(c)) {
        const ss = r.samples.filter((s) => s.case === c.id && s.path === p);
        assert.ok(ss.length > 0, `no sample for ${c.id} on path ${p}`);
        for (const s of ss) {
          if (!s.ok && p === 'a' && /\b501\b.*not supported/.test(s.error ?? '')) {
            skipped++;
            console.log(`SKIP ${c.id} (a): kuber-api answers 501 on this branch: ${s.error!.slice(0, 160)}`);
            continue;
          }
          assert.ok(s.ok, `${c.id} (${p}) failed: ${s.error}`);
          if (c.metric === 'concurrency') assert.is(s.failed, 0, `${c.id} (${p}): ${s.failed} of ${s.streams} streams failed`);
          if (c.metric === 'throughput' || c.metric === 'concurrency' || c.metric === 'memory') assert.ok((s.bytes ?? 0) > 0, `${c.id} (${p}): no verified bytes`);
        }
      }
    }
    assert.ok(code === 0 || (code === 1 && skipped > 0), `bench exited ${code}:\n${output.slice(-3000)}`);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test.run();
