/**
 * @module test/helpers/fuzz
 * The request fuzzer shared by the small run in `npm test` (test/e2e/fuzz.test.ts, an in-process
 * server) and the 100k run of `npm run bench -- fuzz` (bench/fuzz.ts, a kuber-api process on
 * kube-sim): a seedable generator, the mutations of captured real-client bytes (flips,
 * truncations, duplications, insertions, splices, bogus lengths and chunk sizes, header bombs),
 * one exchange on a raw socket (writes split at random, then a half-close or not) and a lenient
 * parse of what the server sent back.
 */
import net from 'node:net';
import { parseResponses, type ParsedResponse, type Target } from './raw-client.js';
import { delay } from './http.js';

export type Rng = ReturnType<typeof rng>;

/** mulberry32: small, seedable, good enough to pick mutations. */
export function rng(seed: number) {
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

/** One to four mutations of `input`; `seeds` are the other inputs a splice may take a tail of. */
export function mutate(r: Rng, input: Buffer, seeds: readonly Buffer[]): Buffer {
  let b: Buffer = Buffer.from(input);
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
      case 6:
        b = bogusLengths(r, b);
        break;
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

/** Bogus Content-Length values, and Transfer-Encoding beside them. */
function bogusLengths(r: Rng, b: Buffer): Buffer {
  const s = b
    .toString('latin1')
    .replace(
      /Content-Length: \d+/i,
      `Content-Length: ${r.pick(['0', '1', '99999999', '-1', '', '18446744073709551616', String(r.int(5000))])}`,
    );
  return Buffer.from(
    r.next() < 0.5
      ? s
      : s.replace(
          /\r\n\r\n/,
          `\r\nTransfer-Encoding: ${r.pick(['chunked', 'gzip', 'chunked, chunked', 'identity'])}\r\n\r\n`,
        ),
    'latin1',
  );
}

/**
 * Parse what the server sent. The requests were mutated, so which of them were HEAD (headers
 * with a Content-Length but no body) is unknown: where a body length does not land on the next
 * status line, try the response as a HEAD answer. After a 101 the rest is a raw stream.
 */
export function parseLenient(data: Buffer): ParsedResponse[] {
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

export interface Outcome {
  statuses: number[];
  /** what the server sent does not parse as HTTP/1.1 responses */
  bad?: string;
  /** bodies of 500 answers */
  errors: string[];
  /** neither an answer nor a close within the bound after the last write */
  hang: boolean;
}

export interface ExchangeOptions {
  /** once something came back, the exchange ends after this long without more (a stream may go on) */
  quietMs: number;
  /** nothing at all back and the connection still open this long after the last write: a hang */
  answerBoundMs: number;
}

/**
 * Write `payloads` in random pieces (split, or coalesced when a piece takes the rest), then
 * half-close or not; collect until the server closes, or goes quiet after answering.
 */
export function exchange(
  targets: readonly Target[],
  r: Rng,
  payloads: Buffer[],
  fin: boolean,
  o: ExchangeOptions,
): Promise<Outcome> {
  return new Promise((resolve) => {
    const t = r.pick(targets);
    const s =
      'path' in t
        ? net.connect({ path: t.path, allowHalfOpen: true })
        : net.connect({ port: t.port, host: t.host ?? '127.0.0.1', allowHalfOpen: true });
    const got: Buffer[] = [];
    let timer: NodeJS.Timeout | undefined;
    let finished = false;
    let written = false;
    const finish = (hang = false) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      s.destroy();
      const data = Buffer.concat(got);
      const out: Outcome = { statuses: [], errors: [], hang };
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
      if (!written) return;
      clearTimeout(timer);
      timer = got.length ? setTimeout(finish, o.quietMs) : setTimeout(() => finish(true), o.answerBoundMs);
    };
    s.on('data', (d: Buffer) => {
      got.push(d);
      arm();
    });
    s.on('end', () => finish());
    s.on('close', () => finish());
    s.on('error', () => finish());
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
      written = true;
      arm();
    });
  });
}

/** The payloads of one connection: one request, or 2-7 on a reused connection; 10% unmutated. */
export function connectionPayloads(r: Rng, seeds: readonly Buffer[], left: number): Buffer[] {
  const n = r.next() < 0.3 ? Math.min(2 + r.int(6), left) : 1;
  return Array.from({ length: n }, () =>
    r.next() < 0.1 ? Buffer.from(r.pick(seeds)) : mutate(r, r.pick(seeds), seeds),
  );
}

/** "200:12 400:30 ..." */
export function statusSummary(counts: Map<number, number>): string {
  return [...counts.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([k, v]) => `${k}:${v}`)
    .join(' ');
}
