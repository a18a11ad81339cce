/** engine/logs: the tail trim of split log bodies, fed raw chunks (split, coalesced, unstamped continuations). */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { EventEmitter } from 'node:events';
import { PassThrough } from 'node:stream';
import {
  TailTrim,
  checkLogTimes,
  planLog,
  planQuery,
  refinePlan,
  streamPodLog,
  type LogPlan,
} from '../../../src/engine/streams/logs.js';
import type { KubeClient } from '../../../src/kube/client.js';
import { timestampKey } from '../../../src/stream/log-lines.js';
import { statusFromError } from '../../../src/errors.js';

class Src extends EventEmitter {
  paused = 0;
  resumed = 0;
  pause() {
    this.paused++;
  }
  resume() {
    this.resumed++;
  }
}

const T = (s: number, ns = 0) => `2026-01-02T03:04:${String(s).padStart(2, '0')}.${String(ns).padStart(9, '0')}Z `;
const T0 = Buffer.from(T(5).slice(0, 30));

function run(chunks: string[], skip: number): string {
  const src = new Src();
  const trim = new TailTrim(src, T0, skip);
  let out = '';
  trim.on('data', (d: Buffer) => (out += d.toString()));
  let ended = false;
  trim.on('end', () => (ended = true));
  for (const c of chunks) src.emit('data', Buffer.from(c));
  src.emit('end');
  assert.ok(ended);
  return out;
}

const body = `${T(4)}old\n${T(5)}a\n${T(5)}b\n${T(5)}c\n${T(6)}d\n${T(7)}e\n`;

test('~> lines before t0 go, the first `skip` lines stamped t0 go, the rest passes', () => {
  assert.is(run([body], 0), `${T(5)}a\n${T(5)}b\n${T(5)}c\n${T(6)}d\n${T(7)}e\n`);
  assert.is(run([body], 2), `${T(5)}c\n${T(6)}d\n${T(7)}e\n`);
  assert.is(run([body], 3), `${T(6)}d\n${T(7)}e\n`);
});

test('~> any chunking gives the same output (lines split across chunks, partial last line)', () => {
  const withPartial = body + `${T(8)}partial-no-newline`;
  const want = run([withPartial], 1);
  for (let size = 1; size < 40; size += 3) {
    const chunks: string[] = [];
    for (let i = 0; i < withPartial.length; i += size) chunks.push(withPartial.slice(i, i + size));
    assert.is(run(chunks, 1), want, `chunk size ${size}`);
  }
  assert.ok(want.endsWith('partial-no-newline'));
});

test('~> an unstamped line continues the line before it', () => {
  const b = `${T(4)}old\ncontinued-old\n${T(5)}a\ncontinued-a\n${T(6)}d\n`;
  assert.is(run([b], 0), `${T(5)}a\ncontinued-a\n${T(6)}d\n`);
});

test('~> pause/resume reach the source', () => {
  const src = new Src();
  const t = new TailTrim(src, T0, 0);
  t.pause();
  t.resume();
  assert.equal([src.paused, src.resumed], [1, 1]);
});

test('~> since/until that are not times are a 400', () => {
  checkLogTimes({ since: '1700000000.5', until: '2026-01-02T03:04:05.123456789Z' });
  for (const bad of ['yesterday', '12:00']) {
    try {
      checkLogTimes({ since: bad });
      assert.unreachable();
    } catch (e) {
      assert.is(statusFromError(e), 400);
    }
  }
});

const target = { namespace: 'ns', pod: 'p', container: 'main', tty: false };
const base = { stdout: true, stderr: true, follow: false, timestamps: false, holdMs: 5 };
const now = timestampKey('1700000100')!;
const nowIso = '2023-11-14T22:15:00.000Z';

test('~> plan: nothing wanted, or stderr alone without split streams, ends at once', () => {
  assert.is(planLog(target, { ...base, stdout: false, stderr: false }, true, now, nowIso), 'end');
  assert.is(planLog(target, { ...base, stdout: false }, false, now, nowIso), 'end');
});

test('~> plan: a TTY is one raw stream; without split streams tail is tailLines on the All body', () => {
  const p = planLog({ ...target, tty: true }, { ...base, tail: 3 }, false, now, nowIso) as LogPlan;
  assert.equal([p.wantOut, p.wantErr, p.tailLines, p.probeEmpty], [true, false, 3, false]);
  assert.equal(planQuery(p, 'main', false), {
    base: { container: 'main', follow: false, timestamps: false, tailLines: 3 },
    merge: false,
    timestamped: false,
  });
});

test('~> plan: split streams, both wanted, finished: probe for emptiness; a lone stream then reads alone', () => {
  const p = planLog(target, base, true, now, nowIso) as LogPlan;
  assert.ok(p.probeEmpty);
  assert.is(planQuery(p, 'main', false).merge, true);
  const lone = refinePlan(p, undefined, { out: true, err: false }) as LogPlan;
  assert.equal([lone.wantOut, lone.wantErr, planQuery(lone, 'main', false).merge], [true, false, false]);
  assert.is(refinePlan(p, undefined, { out: false, err: false }), 'end');
});

test('~> plan: split streams and a tail: its start comes from an All request, then trims the split bodies', () => {
  const p = planLog(target, { ...base, follow: true, tail: 5 }, true, now, nowIso) as LogPlan;
  assert.equal([p.tailFromAll, p.tailLines, p.probeEmpty], [5, undefined, false]);
  const t0 = timestampKey('1700000000.25')!;
  const r = refinePlan(p, { t0, skip: 2 }) as LogPlan;
  assert.equal(r.trim, { t0, skip: 2 });
  assert.is(r.sinceTime, t0.toString('latin1'));
  assert.is(planQuery(r, 'main', false).timestamped, true);
});

test('~> plan: --tail 0 without follow is empty; with follow it starts now', () => {
  assert.is(planLog(target, { ...base, tail: 0 }, true, now, nowIso), 'end');
  const p = planLog(target, { ...base, follow: true, tail: 0 }, true, now, nowIso) as LogPlan;
  assert.equal(p.sinceKey, now);
});

test('~> plan: an until already past ends a follow; a fractional since is filtered here', () => {
  const p = planLog(
    target,
    { ...base, follow: true, until: '1600000000', since: '1500000000.5' },
    false,
    now,
    nowIso,
  ) as LogPlan;
  assert.is(p.follow, false);
  assert.ok(p.sinceKey);
  assert.is(planQuery(p, 'main', false).timestamped, true);
});

/**
 * A pods/log server as a fake KubeClient.openStream, split streams on: the probe, the tail's All
 * request, the t0 count, and the two followed bodies. The stdout body's lines are there at once
 * (its 'data' flows as soon as anything listens); the stderr body opens later and stays quiet.
 */
function fakeLogClient(lines: string, stderrDelayMs: number): KubeClient {
  const body = (text: string, end = true) => {
    const b = new PassThrough();
    if (text) b.write(text);
    if (end) b.end();
    return b;
  };
  const openStream = async (_path: string, q: Record<string, string>) => {
    if (q.limitBytes === '1') return body('x'); // the split-streams probe
    if (q.stream === 'Stdout' && q.follow) return body(lines, false);
    if (q.stream === 'Stderr' && q.follow) {
      await new Promise((r) => setTimeout(r, stderrDelayMs));
      return body('', false);
    }
    if (q.tailLines)
      return body(
        lines
          .split('\n')
          .slice(-Number(q.tailLines) - 1)
          .join('\n'),
      );
    return body(lines); // sinceTime=t0: the lines stamped t0 and after
  };
  return { openStream } as unknown as KubeClient;
}

test('~> split streams, follow and a tail: the lines of the first body are not lost while the second body opens', async () => {
  const lines = [5, 6, 7, 8, 9].map((i) => `${T(i)}line ${i}\n`).join('');
  const sink = Object.assign(new EventEmitter(), {
    writableNeedDrain: false,
    chunks: [] as Buffer[],
    write(c: Buffer) {
      this.chunks.push(Buffer.from(c));
      return true;
    },
  });
  const ac = new AbortController();
  const t = { namespace: 'ns', pod: 'p', container: 'main', tty: false };
  const reading = streamPodLog(
    fakeLogClient(lines, 30),
    t,
    { stdout: true, stderr: true, follow: true, timestamps: false, tail: 3, holdMs: 5, signal: ac.signal },
    sink as never,
  );
  for (let i = 0; i < 100 && Buffer.concat(sink.chunks).length < 3 * 14; i++)
    await new Promise((r) => setTimeout(r, 10));
  ac.abort();
  await reading.catch(() => undefined);
  const framed = Buffer.concat(sink.chunks);
  let payload = '';
  for (let i = 0; i + 8 <= framed.length; i += 8 + framed.readUInt32BE(i + 4)) {
    assert.is(framed[i], 1, 'a stdout frame');
    payload += framed.toString('latin1', i + 8, i + 8 + framed.readUInt32BE(i + 4));
  }
  assert.is(payload, 'line 7\nline 8\nline 9\n');
});

test.run();
