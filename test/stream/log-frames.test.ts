import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { LogFramer, pumpLog } from '../../src/stream/log-frames.js';
import { timestampKey } from '../../src/stream/log-lines.js';
import { SlowSink, FakeSource, demuxAll } from './fakes.js';

function rec() {
  const writes: Buffer[] = [];
  return { writes, write: (b: Uint8Array) => (writes.push(Buffer.from(b)), true) };
}

const ts = (s: number, ns = 0) => `2026-01-02T03:04:${String(s).padStart(2, '0')}.${String(ns).padStart(9, '0')}Z`;
const BODY = [
  `${ts(1)} one\n`,
  `${ts(2)} two two\n`,
  `${ts(3)} \n`,
  `${ts(4)} four\n`,
  `${ts(5)} five-no-newline`,
].join('');

test('~> pass-through: each chunk is one frame, no line work', () => {
  const r = rec();
  const f = new LogFramer(r, {});
  assert.not.ok(f.perLine);
  f.push(Buffer.from('partial li'));
  f.push(Buffer.from('ne\nnext\n'));
  f.end();
  const d = demuxAll(Buffer.concat(r.writes));
  assert.is(d.frames, 2);
  assert.is(d[1].toString(), 'partial line\nnext\n');
});

test('~> pass-through on stderr, and raw for TTY', () => {
  const r = rec();
  new LogFramer(r, { stream: 2 }).push(Buffer.from('e'));
  assert.equal([...r.writes[0]!], [2, 0, 0, 0, 0, 0, 0, 1, 101]);
  const t = rec();
  new LogFramer(t, { tty: true, stream: 2 }).push(Buffer.from('raw'));
  assert.is(Buffer.concat(t.writes).toString(), 'raw');
});

test('~> timestamps kept and nothing to filter: still pass-through (docker -t prints the same format)', () => {
  const r = rec();
  const f = new LogFramer(r, { timestamped: true, keepTimestamps: true });
  assert.not.ok(f.perLine);
  f.push(Buffer.from(BODY));
  assert.is(demuxAll(Buffer.concat(r.writes))[1].toString(), BODY);
});

function run(opts: ConstructorParameters<typeof LogFramer>[1], chunks: string[]) {
  const r = rec();
  const f = new LogFramer(r, opts);
  for (const c of chunks) f.push(Buffer.from(c));
  f.end();
  return {
    out: opts?.tty ? Buffer.concat(r.writes).toString() : demuxAll(Buffer.concat(r.writes))[1].toString(),
    f,
    writes: r.writes.length,
  };
}

test('~> strip: the prefix goes, per line, across every chunk boundary', () => {
  const want = 'one\ntwo two\n\nfour\nfive-no-newline';
  for (let i = 0; i <= BODY.length; i++) {
    for (let j = i; j <= BODY.length; j += 7) {
      const { out } = run({ timestamped: true }, [BODY.slice(0, i), BODY.slice(i, j), BODY.slice(j)]);
      assert.is(out, want, `split ${i},${j}`);
    }
  }
  assert.is(run({ timestamped: true, tty: true }, [BODY]).out, want, '~> TTY raw');
});

test('~> strip writes one frame per segment, not per line', () => {
  const { writes } = run({ timestamped: true }, [BODY]);
  assert.is(writes, 2, '~> the whole lines of the chunk, then the unterminated last line at end');
});

test('~> since drops earlier lines (equal passes), until ends at the first later line', () => {
  const since = timestampKey('2026-01-02T03:04:02Z')!;
  const until = timestampKey('2026-01-02T03:04:04Z')!;
  for (let i = 0; i <= BODY.length; i += 3) {
    const kept = run({ timestamped: true, keepTimestamps: true, since, until }, [BODY.slice(0, i), BODY.slice(i)]);
    assert.is(kept.out, `${ts(2)} two two\n${ts(3)} \n${ts(4)} four\n`, `keep, split ${i}`);
    assert.ok(kept.f.done, '~> done after until');
    const stripped = run({ timestamped: true, since, until }, [BODY.slice(0, i), BODY.slice(i)]);
    assert.is(stripped.out, 'two two\n\nfour\n', `strip, split ${i}`);
  }
});

test('~> a cut long line inherits its timestamp and is never stripped in the middle', () => {
  const long = `${ts(1)} ${'x'.repeat(50)}\n${ts(9)} after\n`;
  const chunks: string[] = [];
  for (let i = 0; i < long.length; i += 7) chunks.push(long.slice(i, i + 7));
  const r = rec();
  const f = new LogFramer(r, { timestamped: true, maxLine: 40, until: timestampKey('2026-01-02T03:04:05Z') });
  for (const c of chunks) f.push(Buffer.from(c));
  f.end();
  assert.is(demuxAll(Buffer.concat(r.writes))[1].toString(), 'x'.repeat(50) + '\n');
  assert.ok(r.writes.length >= 2, '~> the line went out in pieces');
  assert.ok(f.done);
});

test('~> lines without a prefix pass through untouched', () => {
  const { out } = run({ timestamped: true }, ['no stamp here\n', `${ts(1)} stamped\n`]);
  assert.is(out, 'no stamp here\nstamped\n');
});

test('~> pumpLog: a slow client pauses the body and gets it all', async () => {
  const sink = new SlowSink({ highWaterMark: 1024, delayMs: 1, writev: false });
  const src = new FakeSource(4);
  const lines: string[] = [];
  for (let i = 0; i < 3000; i++) lines.push(`${ts(i % 60, i)} line ${i}\n`);
  const text = lines.join('');
  const chunks: Buffer[] = [];
  for (let i = 0; i < text.length; i += 997) chunks.push(Buffer.from(text.slice(i, i + 997)));
  const pump = pumpLog(src, sink, new LogFramer(sink, { timestamped: true }));
  src.feed(chunks, true);
  assert.is(await pump.done, 'end');
  await new Promise<void>((r) => sink.end(r));
  const want = lines.map((l) => l.slice(31)).join('');
  assert.is(demuxAll(sink.all())[1].toString(), want);
  assert.ok(src.pauses > 0, '~> paused');
  assert.is(src.pauses, src.resumes);
  assert.ok(sink.peakBuffered <= 1024 + 4 * 1000 + 8 * 4, `~> peak ${sink.peakBuffered}`);
});

test('~> pumpLog: until ends the pump (the caller closes upstream); client close is reported', async () => {
  const sink = new SlowSink();
  const src = new FakeSource();
  const pump = pumpLog(
    src,
    sink,
    new LogFramer(sink, { timestamped: true, until: timestampKey('2026-01-02T03:04:01Z') }),
  );
  src.feed([Buffer.from(`${ts(1)} a\n${ts(2)} b\n`)]);
  assert.is(await pump.done, 'until');
  assert.is(src.listenerCount('data'), 0);
  assert.ok(src.paused, '~> the body stays paused until the caller closes it');
  const sink2 = new SlowSink();
  const src2 = new FakeSource();
  const p2 = pumpLog(src2, sink2, new LogFramer(sink2, {}));
  sink2.destroy();
  assert.is(await p2.done, 'client-closed');
});

test.run();
