/**
 * Fuzz the front door with mutated real traffic: the bytes the docker CLI and dockerode sent
 * (test/helpers/captured-requests.json) with random byte flips, truncations, duplications,
 * insertions, splices and bogus lengths, written in random pieces, on fresh and on reused
 * connections. Afterwards the server must still answer /_ping and hold no connections.
 * Every response must be well-formed HTTP, and no request may produce a 500.
 * FUZZ_SEED=<n> replays a run; FUZZ_CASES=<n> changes its size.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { startServer, type TestServer } from '../helpers/server.js';
import { parseResponses, httpRequest, type ParsedResponse } from '../helpers/raw-client.js';
import { delay } from '../helpers/http.js';

const seedFile = new URL('../../../test/helpers/captured-requests.json', import.meta.url);
const seeds: Buffer[] = (JSON.parse(readFileSync(seedFile, 'utf8')) as { requests: { bytes: string }[] }).requests.map(
  (r) => Buffer.from(r.bytes, 'base64'),
);
const SEED = Number(process.env.FUZZ_SEED ?? 0x5eed);
const CASES = Number(process.env.FUZZ_CASES ?? 3000);
const WORKERS = 24;

/** mulberry32: small, seedable, good enough to pick mutations. */
function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  return { next, int, pick: <T>(xs: readonly T[]) => xs[int(xs.length)]! };
}

const SPECIAL = [0x0d, 0x0a, 0x00, 0x20, 0x3a, 0x7f, 0xff, 0x09, 0x30, 0x7b];

function mutate(r: ReturnType<typeof rng>, input: Buffer): Buffer {
  let b = Buffer.from(input);
  const rounds = 1 + r.int(4);
  for (let i = 0; i < rounds; i++) {
    const at = r.int(Math.max(1, b.length));
    switch (r.int(8)) {
      case 0: // flip bytes
        for (let k = 0, n = 1 + r.int(8); k < n; k++)
          b[r.int(b.length)] = r.next() < 0.5 ? r.int(256) : r.pick(SPECIAL);
        break;
      case 1: // truncate
        b = b.subarray(0, at);
        break;
      case 2: {
        // duplicate a slice in place
        const len = 1 + r.int(Math.min(200, b.length - at || 1));
        b = Buffer.concat([b.subarray(0, at + len), b.subarray(at, at + len), b.subarray(at + len)]);
        break;
      }
      case 3: // insert junk
        b = Buffer.concat([
          b.subarray(0, at),
          Buffer.from(Array.from({ length: 1 + r.int(40) }, () => (r.next() < 0.3 ? r.pick(SPECIAL) : r.int(256)))),
          b.subarray(at),
        ]);
        break;
      case 4: // delete a slice
        b = Buffer.concat([b.subarray(0, at), b.subarray(at + 1 + r.int(60))]);
        break;
      case 5: {
        // splice with another seed
        const other = r.pick(seeds);
        b = Buffer.concat([b.subarray(0, at), other.subarray(r.int(other.length))]);
        break;
      }
      case 6: {
        // bogus lengths and chunk sizes
        const s = b
          .toString('latin1')
          .replace(
            /Content-Length: \d+/i,
            `Content-Length: ${r.pick(['0', '1', '99999999', '-1', '', '18446744073709551616', String(r.int(5000))])}`,
          );
        b = Buffer.from(
          r.next() < 0.5
            ? s
            : s.replace(
                /\r\n\r\n/,
                `\r\nTransfer-Encoding: ${r.pick(['chunked', 'gzip', 'chunked, chunked', 'identity'])}\r\n\r\n`,
              ),
          'latin1',
        );
        break;
      }
      default: {
        // a header bomb or a huge request line
        const big = r.pick([70_000, 1_000, 10]);
        b = Buffer.concat([
          b.subarray(0, at),
          Buffer.from(r.pick([`X-${'a'.repeat(big)}: b\r\n`, 'a'.repeat(big), '\r\n\r\n', '0\r\n\r\n'])),
          b.subarray(at),
        ]);
      }
    }
    if (b.length === 0) b = Buffer.from(r.pick(seeds).subarray(0, 1 + r.int(20)));
  }
  return b;
}

/**
 * Parse what the server sent. The requests were mutated, so which of them were HEAD (headers
 * with a Content-Length but no body) is unknown: where a body length does not land on the next
 * status line, try the response as a HEAD answer. After a 101 the rest is a raw stream.
 */
function parseLenient(data: Buffer): ParsedResponse[] {
  const out: ParsedResponse[] = [];
  let rest = data;
  // A client that went quiet may have hung up in the middle of a response: a cut tail is fine.
  const cut = (b: Buffer) => {
    const t = b.toString('latin1');
    return t.length <= 9 ? 'HTTP/1.1 '.startsWith(t) : /^HTTP\/1\.1 \d{1,3}$/.test(t);
  };
  while (rest.length) {
    if (!rest.includes('\r\n\r\n') && /^HTTP\/1\.1 \d{3} /.test(rest.toString('latin1', 0, 13))) break; // a cut head
    if (cut(rest)) break;
    let { responses } = parseResponses(rest, { ended: false, limit: 1 });
    if (!responses.length) {
      // nothing complete: a cut body (close-delimited bodies are complete at the end)
      ({ responses } = parseResponses(rest, { ended: true, limit: 1 }));
      if (!responses.length) break;
    }
    let first = responses[0];
    const after = (r: ParsedResponse) => rest.subarray(r.raw.length);
    const fits = (r: ParsedResponse | undefined) =>
      r && (after(r).length === 0 || /^HTTP\/1\.1 \d{3} /.test(after(r).toString('latin1', 0, 13)) || cut(after(r)));
    if (!fits(first) && first?.status !== 101) {
      ({ responses } = parseResponses(rest, { ended: true, head: [0], limit: 1 }));
      first = responses[0];
      if (!fits(first))
        throw new Error(`malformed response stream at ${JSON.stringify(rest.toString('latin1').slice(0, 120))}`);
    }
    out.push(first!);
    if (first!.status === 101) break;
    rest = after(first!);
  }
  return out;
}

interface Outcome {
  statuses: number[];
  bad?: string;
  /** bodies of 500 answers */
  errors: string[];
}

/** Write `payload` in random pieces; half-close or not; collect until the server closes or goes quiet. */
function exchange(srv: TestServer, r: ReturnType<typeof rng>, payloads: Buffer[], fin: boolean): Promise<Outcome> {
  return new Promise((resolve) => {
    const s =
      r.next() < 0.5
        ? net.connect({ path: srv.socketPath, allowHalfOpen: true })
        : net.connect({ port: srv.port, host: '127.0.0.1', allowHalfOpen: true });
    const got: Buffer[] = [];
    let quiet: NodeJS.Timeout | undefined;
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      clearTimeout(quiet);
      s.destroy();
      const data = Buffer.concat(got);
      const out: Outcome = { statuses: [], errors: [] };
      try {
        const responses = parseLenient(data);
        out.statuses = responses.map((x) => x.status);
        out.errors = responses.filter((x) => x.status === 500).map((x) => x.body.toString());
      } catch (e) {
        out.bad = `${(e as Error).message}: ${JSON.stringify(data.toString('latin1').slice(0, 300))}`;
      }
      resolve(out);
    };
    const arm = () => {
      clearTimeout(quiet);
      quiet = setTimeout(finish, 400);
    };
    s.on('data', (d: Buffer) => {
      got.push(d);
      arm();
    });
    s.on('end', finish);
    s.on('close', finish);
    s.on('error', finish);
    s.on('connect', async () => {
      for (const p of payloads) {
        let off = 0;
        while (off < p.length && !s.destroyed) {
          const n = r.next() < 0.7 ? p.length - off : 1 + r.int(p.length - off);
          s.write(p.subarray(off, off + n));
          off += n;
          if (off < p.length) await new Promise((res) => setImmediate(res));
        }
        await delay(r.int(3));
      }
      if (fin && !s.destroyed) s.end();
      arm();
    });
  });
}

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

test(`~> ${CASES} mutated docker CLI / dockerode requests: well-formed answers, no 500, no crash (seed ${SEED})`, async () => {
  assert.ok(seeds.length >= 10, 'seed requests loaded');
  const r = rng(SEED);
  const statusCount = new Map<number, number>();
  const problems: string[] = [];
  let sent = 0;
  let next = 0;
  const worker = async (w: number) => {
    const wr = rng(SEED + w + 1);
    while (next < CASES) {
      const reused = wr.next() < 0.3;
      const n = reused ? Math.min(2 + wr.int(6), CASES - next) : 1;
      next += n;
      const payloads = Array.from({ length: n }, () =>
        wr.next() < 0.1 ? Buffer.from(wr.pick(seeds)) : mutate(wr, wr.pick(seeds)),
      );
      sent += n;
      const out = await exchange(srv, wr, payloads, wr.next() < 0.7);
      for (const st of out.statuses) statusCount.set(st, (statusCount.get(st) ?? 0) + 1);
      if (out.bad) problems.push(out.bad);
      for (const e of out.errors)
        problems.push(`500 ${e} for ${JSON.stringify(Buffer.concat(payloads).toString('latin1').slice(0, 300))}`);
    }
  };
  void r;
  await Promise.all(Array.from({ length: WORKERS }, (_, i) => worker(i)));
  const summary = [...statusCount.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([k, v]) => `${k}:${v}`)
    .join(' ');
  console.log(`fuzz: ${sent} requests, statuses ${summary}`);
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
