import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { LogMerger, mergeLogs } from '../../src/stream/log-merge.js';
import { timestampKey } from '../../src/stream/log-lines.js';
import { StdcopyDemuxer } from '../../src/stream/stdcopy.js';
import { SlowSink, FakeSource, PauseCounter, until } from './fakes.js';

const ts = (n: number) => {
  const s = Math.floor(n / 1000);
  return `2026-01-02T03:${String(Math.floor(s / 60) % 60).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}.${String(n % 1000).padStart(9, '0')}Z`;
};
const line = (n: number, text: string) => `${ts(n)} ${text}\n`;

/** An in-memory sink that records frames (stream, payload) and can refuse writes. */
function frameSink() {
  const frames: [number, string][] = [];
  const listeners: Record<string, (() => void)[]> = {};
  let cur: Buffer[] = [];
  const d = new StdcopyDemuxer((s, data, end) => {
    cur.push(Buffer.from(data));
    if (end) {
      frames.push([s, Buffer.concat(cur).toString()]);
      cur = [];
    }
  });
  const sink = {
    ok: true,
    frames,
    write(b: Uint8Array) {
      d.push(Buffer.from(b));
      return sink.ok;
    },
    once: (e: string, l: () => void) => void (listeners[e] ??= []).push(l),
    removeListener: (e: string, l: () => void) => void (listeners[e] = (listeners[e] ?? []).filter((x) => x !== l)),
    emit: (e: string) => (listeners[e] ?? []).splice(0).forEach((l) => l()),
    /** Lines in output order, tagged by stream. */
    lines(): string[] {
      return frames.flatMap(([s, p]) =>
        p
          .split(/(?<=\n)/)
          .filter(Boolean)
          .map((l) => `${s}:${l}`),
      );
    },
  };
  return sink;
}

function merger(opts: ConstructorParameters<typeof LogMerger>[2] = {}) {
  const sink = frameSink();
  const srcs: [PauseCounter, PauseCounter] = [new PauseCounter(), new PauseCounter()];
  const m = new LogMerger(sink, srcs, opts);
  return { sink, srcs, m };
}

test('~> lines come out in timestamp order, each on its own stream', async () => {
  const { sink, m } = merger({ keepTimestamps: true });
  m.push(0, Buffer.from(line(1, 'o1') + line(3, 'o3') + line(5, 'o5')));
  m.push(1, Buffer.from(line(2, 'e2') + line(4, 'e4') + line(6, 'e6')));
  m.end(0);
  m.end(1);
  assert.is(await m.done, 'end');
  assert.equal(sink.lines(), [
    `1:${line(1, 'o1')}`,
    `2:${line(2, 'e2')}`,
    `1:${line(3, 'o3')}`,
    `2:${line(4, 'e4')}`,
    `1:${line(5, 'o5')}`,
    `2:${line(6, 'e6')}`,
  ]);
});

test('~> ties are stable: stdout first on equal timestamps', async () => {
  const { sink, m } = merger();
  m.push(1, Buffer.from(line(7, 'e-a') + line(7, 'e-b')));
  m.push(0, Buffer.from(line(7, 'o-a') + line(7, 'o-b')));
  m.end(0);
  m.end(1);
  await m.done;
  assert.equal(sink.lines(), ['1:o-a\n', '1:o-b\n', '2:e-a\n', '2:e-b\n']);
});

test('~> a run of lines up to the other head goes out as one frame', async () => {
  const { sink, m } = merger();
  m.push(0, Buffer.from(line(1, 'a') + line(2, 'b') + line(3, 'c') + line(10, 'd')));
  m.push(1, Buffer.from(line(5, 'x')));
  m.end(0);
  m.end(1);
  await m.done;
  assert.equal(sink.frames, [
    [1, 'a\nb\nc\n'],
    [2, 'x\n'],
    [1, 'd\n'],
  ]);
});

test("~> once one side has ended, the other side's whole backlog goes out in one go", async () => {
  const { sink, m } = merger();
  m.end(1);
  let text = '';
  for (let i = 0; i < 500; i++) text += line(i, `line ${i}`);
  m.push(0, Buffer.from(text));
  assert.is(sink.frames.length, 1);
  m.end(0);
  assert.is(await m.done, 'end');
});

test('~> without holdMs a side waits for the other (non-follow): nothing is guessed', () => {
  const { sink, m } = merger();
  m.push(0, Buffer.from(line(1, 'a')));
  assert.is(sink.frames.length, 0);
  m.push(1, Buffer.from(line(0, 'z')));
  assert.equal(sink.frames, [[2, 'z\n']], '~> the earlier stderr line went first; stdout still waits');
});

/** Deterministic PRNG. */
function rng(seed: number) {
  let x = seed >>> 0 || 1;
  return () => (x = (x * 1664525 + 1013904223) >>> 0) / 2 ** 32;
}

test('~> random timestamps and random chunking: output is the stable merge, byte-exact', async () => {
  for (let seed = 1; seed <= 30; seed++) {
    const r = rng(seed);
    const out: [number, string][] = [];
    const err: [number, string][] = [];
    let t = 0;
    for (let i = 0; i < 200; i++) {
      t += Math.floor(r() * 3); // repeats make ties
      (r() < 0.5 ? out : err).push([t, `l${i}${'.'.repeat(Math.floor(r() * 40))}`]);
    }
    const expected = [...out.map(([n, s]) => ({ n, s, side: 0 })), ...err.map(([n, s]) => ({ n, s, side: 1 }))]
      .sort((a, b) => a.n - b.n || a.side - b.side) // stable: stdout first on ties; within a side in order
      .map((x) => `${x.side + 1}:${x.s}\n`);
    const texts = [out.map(([n, s]) => line(n, s)).join(''), err.map(([n, s]) => line(n, s)).join('')];
    const pos = [0, 0];
    const { sink, m } = merger({ holdMs: 0 });
    while (pos[0]! < texts[0]!.length || pos[1]! < texts[1]!.length) {
      const side = r() < 0.5 ? 0 : 1;
      if (pos[side]! >= texts[side]!.length) continue;
      const n = 1 + Math.floor(r() * 120);
      m.push(side as 0 | 1, Buffer.from(texts[side]!.slice(pos[side], pos[side]! + n)));
      pos[side]! += n;
    }
    m.end(0);
    m.end(1);
    assert.is(await m.done, 'end');
    assert.equal(sink.lines(), expected, `seed ${seed}`);
  }
});

test('~> keep timestamps, and since/until per line', async () => {
  const since = timestampKey(ts(2000).replace(/\.\d+Z$/, 'Z'))!; // 2 s
  const untilKey = timestampKey(ts(4000).replace(/\.\d+Z$/, 'Z'))!; // 4 s
  const { sink, m } = merger({ keepTimestamps: true, since, until: untilKey });
  m.push(0, Buffer.from(line(1000, 'o-early') + line(2000, 'o-at-since') + line(3500, 'o-mid') + line(4500, 'o-late')));
  m.push(1, Buffer.from(line(1500, 'e-early') + line(3000, 'e-mid') + line(4000, 'e-at-until') + line(9000, 'e-late')));
  m.end(0);
  m.end(1);
  assert.is(await m.done, 'until');
  assert.equal(sink.lines(), [
    `1:${line(2000, 'o-at-since')}`,
    `2:${line(3000, 'e-mid')}`,
    `1:${line(3500, 'o-mid')}`,
    `2:${line(4000, 'e-at-until')}`,
  ]);
});

test('~> until on one side keeps that source paused for the caller to close', async () => {
  const { srcs, m } = merger({ until: timestampKey(ts(5000).replace(/\.\d+Z$/, 'Z'))! });
  m.push(1, Buffer.from(line(1000, 'a') + line(6000, 'late')));
  m.push(0, Buffer.from(line(3000, 'ok')));
  m.end(0);
  assert.is(await m.done, 'until');
  assert.ok(srcs[1].paused, '~> the cut side stays paused');
  assert.not.ok(srcs[0].paused, '~> the side that ended normally is not');
});

test('~> follow: holdMs bounds how long a quiet side holds the other back', async () => {
  const { sink, m } = merger({ holdMs: 20 });
  m.push(0, Buffer.from(line(1, 'a')));
  assert.is(sink.frames.length, 0);
  await until(() => sink.frames.length === 1, 1000);
  assert.equal(sink.frames, [[1, 'a\n']]);
  m.stop();
});

test('~> follow: while the other side stays quiet (holdMs), a side flows without waiting', async () => {
  const { sink, m } = merger({ holdMs: 20 });
  m.push(0, Buffer.from(line(1, 'a')));
  assert.is(sink.frames.length, 0, 'at first stderr is not known to be quiet: held');
  await until(() => sink.frames.length === 1, 1000);
  m.push(0, Buffer.from(line(2, 'b')));
  assert.equal(
    sink.frames,
    [
      [1, 'a\n'],
      [1, 'b\n'],
    ],
    'stderr quiet for holdMs: b goes out at once',
  );
  // stderr speaks: it is no longer idle, so stdout waits for it again and order is by timestamp.
  m.push(1, Buffer.from(line(4, 'e')));
  m.push(0, Buffer.from(line(3, 'c') + line(5, 'd')));
  assert.equal(
    sink.frames.slice(2),
    [
      [1, 'c\n'],
      [2, 'e\n'],
    ],
    'c then e in timestamp order; d waits: stderr is not quiet',
  );
  m.end(1);
  m.end(0);
  await m.done;
  assert.equal(sink.frames.slice(2), [
    [1, 'c\n'],
    [2, 'e\n'],
    [1, 'd\n'],
  ]);
});

test('~> keep timestamps, other side quiet: segments go out whole, and their last timestamp still orders what follows', async () => {
  const { sink, m } = merger({ keepTimestamps: true, holdMs: 20 });
  m.push(0, Buffer.from(line(1, 'a')));
  await until(() => sink.frames.length === 1, 1000); // stderr now counts as quiet
  m.push(0, Buffer.from(line(10, 'x') + line(30, 'y')));
  assert.equal(sink.frames.slice(1), [[1, line(10, 'x') + line(30, 'y')]], 'one frame, as it came');
  // stderr speaks (20 < 30); then stdout's next line carries no timestamp (a continuation): it is
  // ordered by stdout's last timestamp, 30 (from the whole segment), so stderr's line goes first.
  m.push(1, Buffer.from(line(20, 'e')));
  m.push(0, Buffer.from('more\n'));
  assert.equal(sink.frames.slice(2), [[2, line(20, 'e')]], 'stderr first; stdout waits: stderr is not quiet now');
  m.end(1);
  assert.equal(sink.frames.slice(3), [[1, 'more\n']]);
  // A segment whose last line carries no timestamp takes the per-line pass (it finds the one before).
  m.push(0, Buffer.from(line(35, 'p') + 'cont\n'));
  m.end(0);
  assert.is(await m.done, 'end');
  assert.equal(sink.frames.slice(4), [[1, line(35, 'p') + 'cont\n']]);
});

test('~> follow: a prompt without a newline goes out after holdMs; its continuation follows unstamped', async () => {
  const { sink, m } = merger({ holdMs: 20 });
  m.push(0, Buffer.from(`${ts(1)} name? `));
  await until(() => sink.frames.length === 1, 1000);
  assert.equal(sink.frames, [[1, 'name? ']], 'the prompt, without its timestamp');
  // The kubelet prefixes only line starts: the rest of the line comes without a timestamp.
  m.push(0, Buffer.from('bob\n'));
  m.push(1, Buffer.from(line(2, 'err')));
  m.end(0);
  m.end(1);
  await m.done;
  assert.equal(sink.frames.map(([s, p]) => `${s}:${p}`).join(''), '1:name? 1:bob\n2:err\n');
});

test('~> follow: a partial shorter than a timestamp prefix is not flushed (it may be a cut prefix)', async () => {
  const { sink, m } = merger({ holdMs: 5 });
  m.push(0, Buffer.from(ts(1).slice(0, 12)));
  await new Promise((r) => setTimeout(r, 40));
  assert.is(sink.frames.length, 0);
  m.push(0, Buffer.from(`${ts(1).slice(12)} whole\n`));
  m.end(0);
  m.end(1);
  await m.done;
  assert.equal(sink.frames, [[1, 'whole\n']]);
});

test('~> a full sink pauses both sources; drain resumes both, paired', async () => {
  const { sink, srcs, m } = merger();
  sink.ok = false;
  m.end(1);
  m.push(0, Buffer.from(line(1, 'a')));
  assert.ok(srcs[0].paused && srcs[1].paused);
  sink.ok = true;
  sink.emit('drain');
  assert.not.ok(srcs[0].paused || srcs[1].paused);
  assert.is(srcs[0].unpaired + srcs[1].unpaired, 0);
  m.end(0);
  assert.is(await m.done, 'end');
});

test('~> a side far ahead is paused at highWater while it waits for the other', () => {
  const { srcs, m, sink } = merger({ highWater: 1000 });
  let text = '';
  for (let i = 0; i < 100; i++) text += line(10000 + i, 'later stdout line');
  m.push(0, Buffer.from(text));
  assert.ok(srcs[0].paused, '~> stdout paused: it cannot go before stderr says something');
  assert.not.ok(srcs[1].paused, '~> stderr keeps flowing');
  m.push(1, Buffer.from(line(1, 'early')));
  assert.is(sink.frames.length, 1);
  m.end(1);
  assert.not.ok(srcs[0].paused, '~> released once stderr ended and stdout drained');
  assert.is(srcs[0].pauses, srcs[0].resumes);
});

test('~> mergeLogs with a slow client: every line once, order kept, both sources paired', async () => {
  const sink = new SlowSink({ highWaterMark: 4096, delayMs: 1, writev: false });
  const out = new FakeSource(2);
  const err = new FakeSource(2);
  const { done } = mergeLogs(out, err, sink, { highWater: 8192 });
  const lo: string[] = [];
  const le: string[] = [];
  for (let i = 0; i < 1500; i++) (i % 3 ? lo : le).push(line(i, `n${i}`));
  const chunk = (t: string) =>
    Array.from({ length: Math.ceil(t.length / 1500) }, (_, k) => Buffer.from(t.slice(k * 1500, k * 1500 + 1500)));
  out.feed(chunk(lo.join('')), true);
  err.feed(chunk(le.join('')), true);
  assert.is(await done, 'end');
  await new Promise<void>((r) => sink.end(r));
  const got: string[] = [];
  new StdcopyDemuxer((s, d) => got.push(`${s}${d}`)).push(sink.all());
  const lines = got.join('').match(/[12]?n\d+\n/g)!;
  assert.ok(lines.length >= 1500);
  const text = got.map((g) => g.slice(1)).join('');
  assert.is(text, Array.from({ length: 1500 }, (_, i) => `n${i}\n`).join(''), '~> strict timestamp order');
  assert.ok(out.pauses > 0 && err.pauses > 0, '~> both paused');
  assert.is(out.pauses, out.resumes);
  assert.is(err.pauses, err.resumes);
  assert.ok(sink.peakBuffered <= 4096 + 2 * 1500 + 64, `~> peak ${sink.peakBuffered}`);
});

test('~> mergeLogs: a client going away is reported and stops the merge', async () => {
  const sink = new SlowSink();
  const out = new FakeSource();
  const err = new FakeSource();
  const { done } = mergeLogs(out, err, sink, { holdMs: 10 });
  out.feed([Buffer.from(line(1, 'x'))]);
  sink.destroy();
  assert.is(await done, 'client-closed');
  assert.is(out.listenerCount('data') + err.listenerCount('data'), 0);
  assert.ok(out.paused && err.paused, '~> both bodies stay paused for the caller to close');
});

test.run();
