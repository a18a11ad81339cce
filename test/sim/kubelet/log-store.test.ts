/**
 * The on-disk log record format: records round-trip in order with their stream and monotonic
 * timestamps; reading works across block boundaries and for records bigger than a block; tailStart
 * finds the last N lines across many records; seekHint never skips a record at or after `since`;
 * followers see every record live; `ended` only once every record is committed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  formatTs,
  LogFile,
  RecordReader,
  STDERR,
  STDOUT,
  tailStart,
  type LogRecord,
} from '../../../src/sim/kubelet/log-store.js';

const test = suite<{ dir: string }>('log-store');
test.before((ctx) => {
  ctx.dir = mkdtempSync(join(tmpdir(), 'log-store-'));
});
test.after((ctx) => rmSync(ctx.dir, { recursive: true, force: true }));

async function readAll(path: string, size: number, blockSize?: number, from = 0): Promise<LogRecord[]> {
  const fh = await open(path, 'r');
  const r = new RecordReader(fh, from, blockSize);
  const out: LogRecord[] = [];
  for (let rec = await r.next(size); rec; rec = await r.next(size))
    out.push({ ...rec, payload: Buffer.from(rec.payload) });
  await fh.close();
  return out;
}

test('~> records round-trip in order, across small blocks and a record bigger than a block', async ({ dir }) => {
  const f = new LogFile(join(dir, 'a.log'));
  await f.open();
  const chunks: Array<[number, Buffer]> = [];
  for (let i = 0; i < 50; i++)
    chunks.push([i % 3 === 0 ? STDERR : STDOUT, Buffer.from(`line ${i}\n`.repeat(1 + (i % 5)))]);
  chunks.push([STDOUT, Buffer.alloc(5000, 0x41)]);
  for (const [s, d] of chunks) f.append(s, d);
  await f.end();
  assert.ok(f.ended);
  const recs = await readAll(f.path, f.size, 256);
  assert.is(recs.length, chunks.length);
  for (let i = 0; i < chunks.length; i++) {
    assert.is(recs[i]!.stream, chunks[i]![0]);
    assert.ok(recs[i]!.payload.equals(chunks[i]![1]));
    if (i) assert.ok(recs[i]!.ts > recs[i - 1]!.ts, 'strictly increasing timestamps');
  }
});

test('~> tailStart: the last N lines across records; a final newline does not count', async ({ dir }) => {
  const f = new LogFile(join(dir, 'b.log'));
  await f.open();
  f.append(STDOUT, Buffer.from('a\nb\n'));
  f.append(STDERR, Buffer.from('c\nd'));
  f.append(STDOUT, Buffer.from('e\n'));
  await f.end();
  const fh = await open(f.path, 'r');
  const text = async (n: number) => {
    const { offset, skip } = await tailStart(fh, f.size, n);
    const recs = await readAll(f.path, f.size, undefined, offset);
    return Buffer.concat(recs.map((r, i) => (i === 0 ? r.payload.subarray(skip) : r.payload))).toString();
  };
  assert.is(await text(1), 'de\n');
  assert.is(await text(2), 'c\nde\n');
  assert.is(await text(4), 'a\nb\nc\nde\n');
  assert.is(await text(99), 'a\nb\nc\nde\n');
  await fh.close();
});

test('~> seekHint lands at or before the first record at/after since', async ({ dir }) => {
  const f = new LogFile(join(dir, 'c.log'));
  await f.open();
  const big = Buffer.alloc(100 * 1024, 0x62);
  for (let i = 0; i < 20; i++) f.append(STDOUT, big);
  await f.end();
  const recs = await readAll(f.path, f.size);
  for (const i of [0, 5, 13, 19]) {
    const since = recs[i]!.ts;
    const hint = f.seekHint(since);
    assert.ok(hint <= recs[i]!.offset, `hint ${hint} <= ${recs[i]!.offset}`);
  }
});

test('~> a live follower gets every record in order, and ended comes after the last commit', async ({ dir }) => {
  const f = new LogFile(join(dir, 'd.log'), 1 << 16);
  await f.open();
  const seen: string[] = [];
  const un = f.tail((r) => seen.push(r.payload.toString()));
  let endedEarly = false;
  for (let i = 0; i < 200; i++) f.append(STDOUT, Buffer.from(`${i},`));
  const done = f.end();
  if (f.ended) endedEarly = true;
  await done;
  un();
  assert.not.ok(endedEarly, 'ended is set only once everything is on disk');
  assert.is(seen.join(''), Array.from({ length: 200 }, (_, i) => `${i},`).join(''));
  assert.is(f.size, f.appendedSize);
  f.append(STDOUT, Buffer.from('late'));
  assert.is(f.appendedSize, f.size, 'appends after end() are ignored');
});

test('~> formatTs: RFC 3339 with 9 fractional digits and a space', () => {
  assert.is(formatTs(1_700_000_000_000_000_123n).toString(), '2023-11-14T22:13:20.000000123Z ');
  assert.is(formatTs(1_700_000_000_999_999_999n).toString(), '2023-11-14T22:13:20.999999999Z ');
});

test.run();
