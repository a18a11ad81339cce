/**
 * Fuzz the front door with mutated real traffic: the bytes the docker CLI and dockerode sent
 * (test/helpers/captured-requests.json) with random byte flips, truncations, duplications,
 * insertions, splices and bogus lengths, written in random pieces, on fresh and on reused
 * connections. Afterwards the server must still answer /_ping and hold no connections.
 * Every response must be well-formed HTTP, no request may produce a 500, and every connection
 * must be answered or closed within 5 s of its last write. The generator is test/helpers/fuzz.ts,
 * which `npm run bench -- fuzz` runs 100,000 times against a kuber-api process on kube-sim.
 * FUZZ_SEED=<n> replays a run; FUZZ_CASES=<n> changes its size.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { startServer, type TestServer } from '../helpers/server.js';
import { httpRequest } from '../helpers/raw-client.js';
import { delay } from '../helpers/http.js';
import { connectionPayloads, exchange, rng, statusSummary } from '../helpers/fuzz.js';

const seedFile = new URL('../../../test/helpers/captured-requests.json', import.meta.url);
const seeds: Buffer[] = (JSON.parse(readFileSync(seedFile, 'utf8')) as { requests: { bytes: string }[] }).requests.map(
  (r) => Buffer.from(r.bytes, 'base64'),
);
const SEED = Number(process.env.FUZZ_SEED ?? 0x5eed);
const CASES = Number(process.env.FUZZ_CASES ?? 3000);
const WORKERS = 24;

let srv: TestServer;
test.before(async () => {
  srv = await startServer({
    headerTimeoutMs: 1000,
    idleTimeoutMs: 2000,
    maxHeaderBytes: 64 * 1024,
    maxBodyBytes: 64 * 1024,
  });
});
test.after(() => srv.close());

test(`~> ${CASES} mutated docker CLI / dockerode requests: well-formed answers, no 500, no hang, no crash (seed ${SEED})`, async () => {
  assert.ok(seeds.length >= 10, 'seed requests loaded');
  const targets = [{ path: srv.socketPath }, { port: srv.port }];
  const statusCount = new Map<number, number>();
  const problems: string[] = [];
  let sent = 0;
  let next = 0;
  const worker = async (w: number) => {
    const wr = rng(SEED + w + 1);
    while (next < CASES) {
      const payloads = connectionPayloads(wr, seeds, CASES - next);
      next += payloads.length;
      sent += payloads.length;
      // The server's header timeout is 1 s: an answer or a close comes well within 5 s.
      const out = await exchange(targets, wr, payloads, wr.next() < 0.7, { quietMs: 400, answerBoundMs: 5000 });
      for (const st of out.statuses) statusCount.set(st, (statusCount.get(st) ?? 0) + 1);
      const sentText = () => JSON.stringify(Buffer.concat(payloads).toString('latin1').slice(0, 300));
      if (out.bad) problems.push(out.bad);
      if (out.hang) problems.push(`no answer and no close within 5 s for ${sentText()}`);
      for (const e of out.errors) problems.push(`500 ${e} for ${sentText()}`);
    }
  };
  await Promise.all(Array.from({ length: WORKERS }, (_, i) => worker(i)));
  console.log(`fuzz: ${sent} requests, statuses ${statusSummary(statusCount)}`);
  assert.is(problems.length, 0, problems.slice(0, 5).join('\n'));
  for (const st of [200, 400, 404])
    assert.ok((statusCount.get(st) ?? 0) > 0, `some ${st} answers (the mutations reach the handlers and the parser)`);
});

test('~> afterwards the server answers /_ping and holds no connections', async () => {
  const r = await httpRequest({ path: srv.socketPath }, 'GET', '/_ping');
  assert.is(r.status, 200);
  assert.is(r.body.toString(), 'OK');
  // every client is gone: all connections must drain (lingering ones within LINGER_MS)
  const until = Date.now() + 8000;
  while (srv.running.server.connectionCount > 0 && Date.now() < until) await delay(50);
  assert.is(srv.running.server.connectionCount, 0);
});

test.run();
