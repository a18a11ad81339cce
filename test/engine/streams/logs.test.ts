/** engine/logs: the tail trim of split log bodies, fed raw chunks (split, coalesced, unstamped continuations). */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { EventEmitter } from 'node:events';
import { TailTrim, checkLogTimes } from '../../../src/engine/streams/logs.js';
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

test.run();
