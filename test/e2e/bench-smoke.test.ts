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
 *   15 targets) written. Every path must succeed: a 501 from kuber-api fails like any error.
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
import { dockerCli, dockerCliAvailable } from '../../bench/lib/docker-cli.js';
import { DockerClient } from '../../bench/lib/docker-client.js';
import { startCeiling } from '../../bench/lib/procs.js';
import { producerCmd } from '../../bench/lib/model.js';
import { summarise } from '../../bench/lib/summary.js';
import { targets15, type Meta } from '../../bench/lib/report.js';
import type { CaseDef, Sample } from '../../bench/lib/types.js';

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
  for (const [name, b] of [
    ['flipped', flipped],
    ['swapped', swapped],
    ['short', good.subarray(0, good.length - 1)],
    ['long', Buffer.concat([good, Buffer.from('x')])],
  ] as const) {
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
    const d = new StdcopyDemuxer(
      (b) => (out += b),
      (b) => (err += b),
    );
    for (let i = 0; i < all.length; i += step) d.push(all.subarray(i, i + step));
    assert.is(out, 'hello world', `step ${step}`);
    assert.is(err, 'err');
    assert.ok(d.clean);
  }
  const bad = new StdcopyDemuxer(
    () => {},
    () => {},
  );
  bad.push(Buffer.from([9, 0, 0, 0, 0, 0, 0, 1, 0x41]));
  assert.ok(bad.error);
});

test('~> the CLI ceiling answers what the docker CLI calls: logs, run, exec, exec true, run --rm true, every byte verified', async () => {
  if (!dockerCliAvailable()) return console.log('SKIP the CLI ceiling: no docker CLI on PATH');
  const ceiling = await startCeiling();
  const host = `tcp://127.0.0.1:${ceiling.port}`;
  const api = new DockerClient(host);
  try {
    const logs = await api.create({ Image: 'busybox', Cmd: producerCmd(3) });
    await api.start(logs);
    const sleeper = await api.create({ Image: 'busybox', Cmd: ['sleep', '3600'] });
    const runs = [
      ['logs', logs],
      ['run', '--rm', 'busybox', ...producerCmd(3)],
      ['exec', sleeper, ...producerCmd(3)],
    ];
    for (const args of runs) {
      const r = await dockerCli(host, args, { verifier: new Verifier({ blocks: 3 }), timeoutMs: 30_000 });
      assert.ok(r.ok, `docker ${args[0]}: ${r.error}`);
      assert.is(r.bytes, streamBytes({ blocks: 3 }));
    }
    for (const args of [
      ['exec', sleeper, 'true'],
      ['run', '--rm', 'busybox', 'true'],
    ]) {
      const r = await dockerCli(host, args, { timeoutMs: 30_000 });
      assert.ok(r.ok, `docker ${args.join(' ')}: ${r.error}`);
      assert.is(r.bytes, 0);
    }
    assert.not.ok(ceiling.tail().includes('unhandled'), ceiling.tail());
  } finally {
    api.close();
    await ceiling.stop();
  }
});

test('~> issue 15 targets: ratios between paths of the same run, the floor bounds, "not measured" without the path', () => {
  const GiB = 1024 ** 3;
  const defs: CaseDef[] = [
    { id: 'logs', group: 'logs', metric: 'throughput', what: '' },
    { id: 'logs (split)', group: 'logs', metric: 'throughput', what: '' },
    { id: 'exec', group: 'exec', metric: 'throughput', what: '' },
    { id: 'docker logs (CLI)', group: 'cli', metric: 'throughput', what: '' },
  ];
  const tp = (c: string, path: Sample['path'], seconds: number, cpu: Record<string, number>): Sample => ({
    case: c,
    path,
    rep: 1,
    ok: true,
    bytes: GiB,
    seconds,
    cpu,
  });
  const samples = [
    tp('logs', 'a', 10, { 'kuber-api': 2 }),
    tp('logs', 'f', 5, { 'node floor': 1.25 }),
    tp('logs (split)', 'a', 10, { 'kuber-api': 2.4 }),
    tp('logs (split)', 'f', 5, { 'node floor': 1.25 }),
    tp('exec', 'a', 10, { 'kuber-api': 3 }),
    tp('docker logs (CLI)', 'a', 10.24, {}),
    tp('docker logs (CLI)', 'b', 6.83, {}),
    tp('docker logs (CLI)', 'd', 204.8, {}),
    tp('docker logs (CLI)', 'e', 1, {}),
  ];
  const meta = { cores: 2, options: { cliMiB: 256 } } as unknown as Meta;
  const rows = targets15(summarise(defs, samples), meta);
  const find = (prefix: string) => rows.find((r) => r.target.startsWith(prefix));
  const vsDockerd = find('`docker logs` (CLI, 256 MiB) vs the docker host');
  assert.is(vsDockerd?.met, true, vsDockerd?.measured); // 100 MiB/s against 5: 20×
  assert.ok(vsDockerd!.measured.startsWith('20.0×'), vsDockerd!.measured);
  assert.is(find('`docker logs` (CLI, 256 MiB) vs what the simulator')?.met, false); // 100 against 150: 0.67×
  assert.is(find('logs: kuber-api CPU per GiB')?.met, false); // 2 / 1.25 = 1.6× > 1.3×
  assert.is(find('logs (split): kuber-api CPU per GiB')?.met, true); // 1.92× ≤ 2×
  const exec = find('exec: kuber-api CPU per GiB');
  assert.is(exec?.met, undefined);
  assert.is(exec?.measured, 'not measured');
});

test('~> npm run bench -- --quick: every scenario runs, every byte and exit code verified, files written', async () => {
  const out = mkdtempSync(join(tmpdir(), 'kapi-bench-smoke-'));
  try {
    const started = Date.now();
    const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve) => {
      const child = spawn(
        process.execPath,
        [join(root, 'dist', 'bench', 'run.js'), '--quick', '--no-results', '--out', out],
        { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let output = '';
      child.stdout.on('data', (d) => (output += d));
      child.stderr.on('data', (d) => (output += d));
      child.on('close', (c) => resolve({ code: c, output }));
    });
    console.log(`bench --quick: exit ${code} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
    for (const f of ['results.json', 'table.txt', 'table.md', 'throughput.svg', 'latency.svg', 'cli.svg', 'report.md'])
      assert.ok(existsSync(join(out, f)), `${f} missing:\n${output.slice(-3000)}`);
    for (const f of ['throughput.svg', 'latency.svg', 'cli.svg']) {
      const svg = readFileSync(join(out, f), 'utf8');
      assert.ok(
        svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"') && svg.trimEnd().endsWith('</svg>'),
        `${f} is not an SVG document`,
      );
    }
    const r = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as {
      meta: { options: { dockerHost?: string } };
      cases: Array<{ id: string; group: string; metric: string }>;
      samples: Array<{
        case: string;
        path: string;
        ok: boolean;
        error?: string;
        streams?: number;
        failed?: number;
        bytes?: number;
      }>;
    };
    const groups = new Set(r.cases.map((c) => c.group));
    const cli = dockerCliAvailable();
    const withD = !!r.meta.options.dockerHost;
    for (const g of [
      'control',
      'startup',
      'logs',
      'attach',
      'exec',
      ...(cli ? ['cli'] : []),
      'roundtrip',
      'echo',
      'backpressure',
      'concurrency',
    ])
      assert.ok(groups.has(g), `scenario ${g} did not run:\n${output.slice(-3000)}`);
    const report = readFileSync(join(out, 'report.md'), 'utf8');
    assert.ok(report.includes('## Targets (issue 15)'), 'report.md has no issue 15 targets');
    if (cli)
      assert.ok(
        report.includes("## The user's view: the docker CLI as the consumer (path e)"),
        'report.md has no docker CLI table',
      );
    assert.ok(report.includes('against the Node floor (path f)'), 'report.md has no floor table');
    /** The paths every case must have run on. */
    const expected = (c: { id: string; group: string; metric: string }): string[] => {
      const d = withD && !c.id.includes('(split)'); // the split-streams kube-sim runs without path d
      if (c.id === 'create+start') return ['a', 'b', ...(d ? ['d'] : [])];
      if (c.group === 'startup') return ['a', 'c'];
      if (c.group === 'cli')
        return [
          'a',
          'e',
          ...(d ? ['d'] : []),
          ...(c.metric === 'throughput' && !c.id.startsWith('docker run') ? ['b'] : []),
        ];
      const f = c.metric === 'throughput' && ['logs', 'attach', 'exec'].includes(c.group) ? ['f'] : [];
      return ['a', 'b', 'c', ...(d ? ['d'] : []), ...f];
    };
    for (const c of r.cases) {
      for (const p of expected(c)) {
        const ss = r.samples.filter((s) => s.case === c.id && s.path === p);
        assert.ok(ss.length > 0, `no sample for ${c.id} on path ${p}`);
        for (const s of ss) {
          assert.ok(s.ok, `${c.id} (${p}) failed: ${s.error}`);
          if (c.metric === 'concurrency')
            assert.is(s.failed, 0, `${c.id} (${p}): ${s.failed} of ${s.streams} streams failed`);
          if (c.metric === 'throughput' || c.metric === 'concurrency' || c.metric === 'memory')
            assert.ok((s.bytes ?? 0) > 0, `${c.id} (${p}): no verified bytes`);
        }
      }
    }
    assert.is(code, 0, `bench exited ${code}:\n${output.slice(-3000)}`);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test.run();
