import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  LineSplitter,
  hasTimestamp,
  compareTs,
  timestampKey,
  formatKey,
  lineEnd,
  stripInto,
  lastLineStart,
  strippedLength,
} from '../../src/stream/log-lines.js';

const TS = '2026-01-02T03:04:05.123456789Z';

test('~> hasTimestamp checks the fixed-width prefix and its space', () => {
  const l = Buffer.from(`${TS} hello\n`);
  assert.ok(hasTimestamp(l, 0, l.length));
  assert.ok(hasTimestamp(Buffer.from(`${TS} `), 0, 31), '~> an empty line still has its prefix');
  assert.not.ok(hasTimestamp(Buffer.from(TS), 0, 30), '~> no space');
  assert.not.ok(hasTimestamp(Buffer.from(`hello world this is not a timestamp at all\n`), 0, 44));
  assert.not.ok(hasTimestamp(Buffer.from(`2026-01-02 03:04:05.123456789Z x`), 0, 32));
  const two = Buffer.from(`xx${TS} y`);
  assert.ok(hasTimestamp(two, 2, two.length));
});

test('~> byte order is time order for fixed-width UTC timestamps', () => {
  const a = Buffer.from('2026-01-02T03:04:05.000000001Z');
  const b = Buffer.from('2026-01-02T03:04:05.000000002Z');
  const c = Buffer.from('2026-01-02T03:04:06.000000000Z');
  assert.ok(compareTs(a, 0, b, 0) < 0);
  assert.ok(compareTs(c, 0, b, 0) > 0);
  assert.is(compareTs(a, 0, Buffer.from(`x${a}`), 1), 0);
});

test('~> since/until keys from unix seconds (with fraction) and RFC 3339', () => {
  assert.is(timestampKey('1700000000')!.toString(), '2023-11-14T22:13:20.000000000Z');
  assert.is(
    timestampKey('1700000000.5')!.toString(),
    '2023-11-14T22:13:20.500000000Z',
    '~> ".5" scales to 500000000 ns as in moby',
  );
  assert.is(timestampKey('1700000000.123456789123')!.toString(), '2023-11-14T22:13:20.123456789Z');
  assert.is(timestampKey('1700000000.')!.toString(), '2023-11-14T22:13:20.000000000Z');
  assert.is(timestampKey('2023-11-14T22:13:20.25Z')!.toString(), '2023-11-14T22:13:20.250000000Z');
  assert.is(timestampKey('2023-11-15T00:13:20.000000001+02:00')!.toString(), '2023-11-14T22:13:20.000000001Z');
  assert.is(timestampKey('2023-11-14T22:13:20Z')!.toString(), '2023-11-14T22:13:20.000000000Z');
  assert.is(timestampKey(''), undefined);
  assert.is(timestampKey('0'), undefined, '~> 0 means unset');
  assert.is(timestampKey('0.000'), undefined);
  assert.throws(() => timestampKey('yesterday'), RangeError);
  assert.throws(() => timestampKey('2023-13-45T99:99:99Z'), RangeError);
  assert.is(formatKey(-1e15).toString(), '0000-01-01T00:00:00.000000000Z');
  assert.is(formatKey(1e15).toString(), '9999-12-31T23:59:59.999999999Z');
});

function split(chunks: string[], maxLine?: number): string[] {
  const s = new LineSplitter(maxLine);
  const segs: string[] = [];
  for (const c of chunks) s.push(Buffer.from(c), (seg) => segs.push(seg.toString()));
  s.end((seg) => segs.push(seg.toString()));
  return segs;
}

test('~> segments hold whole lines only, whatever the chunking', () => {
  const text = 'alpha\nbeta\n\ngamma delta\nlast-no-newline';
  for (let i = 0; i <= text.length; i++) {
    for (let j = i; j <= text.length; j++) {
      const segs = split([text.slice(0, i), text.slice(i, j), text.slice(j)]);
      assert.is(segs.join(''), text, `split ${i},${j}`);
      for (const s of segs.slice(0, -1)) assert.ok(s.endsWith('\n'), `~> ${JSON.stringify(s)} ends a line`);
    }
  }
});

test('~> a whole chunk of whole lines is passed on as is (no copy)', () => {
  const s = new LineSplitter();
  const chunk = Buffer.from('a\nb\n');
  let seg: Buffer | undefined;
  s.push(chunk, (x) => (seg = x));
  assert.is(seg, chunk);
});

test('~> a line longer than maxLine is cut, and memory stays bounded', () => {
  const s = new LineSplitter(10);
  const segs: string[] = [];
  for (let i = 0; i < 5; i++) s.push(Buffer.from('xxxx'), (seg) => segs.push(seg.toString()));
  assert.ok(s.pending < 10);
  s.push(Buffer.from('y\nz'), (seg) => segs.push(seg.toString()));
  s.end((seg) => segs.push(seg.toString()));
  assert.is(segs.join(''), 'xxxx'.repeat(5) + 'y\nz');
  assert.ok(segs.length >= 3);
});

test('~> lineEnd finds the end of each line', () => {
  const b = Buffer.from('ab\ncd');
  assert.is(lineEnd(b, 0), 3);
  assert.is(lineEnd(b, 3), 5);
});

test('~> stripInto removes exactly the prefixes it is given', () => {
  const seg = Buffer.from(`${TS} a\nplain\n${TS} \n${TS} b`);
  const stamps = [0, 39, 71];
  const len = strippedLength(0, seg.length, stamps);
  // Room for the whole run (it is copied, then squeezed in place); only len bytes are meaningful.
  const out = Buffer.alloc(seg.length + 2, 0x23);
  assert.is(stripInto(seg, 0, seg.length, stamps, out, 2), len + 2);
  assert.is(out.subarray(0, len + 2).toString(), '##a\nplain\n\nb');
  assert.is(strippedLength(39, seg.length, [39, 71]), seg.length - 39 - 62);
  // A run that starts inside the segment, written at an offset before its own position in it.
  const part = Buffer.alloc(seg.length, 0x23);
  const end = stripInto(seg, 39, seg.length, [39, 71], part, 1);
  assert.is(part.subarray(1, end).toString(), '\nb');
  // ...and one with unstamped text first and an offset after it (the squeeze moves left only).
  const late = Buffer.alloc(seg.length + 40, 0x23);
  const e2 = stripInto(seg, 33, seg.length, [39, 71], late, 40);
  assert.is(late.subarray(40, e2).toString(), 'plain\n\nb');
});

test('~> lastLineStart finds the last line of a segment, with or without its newline', () => {
  assert.is(lastLineStart(Buffer.from('ab\ncd\n'), 0), 3);
  assert.is(lastLineStart(Buffer.from('ab\ncd'), 0), 3);
  assert.is(lastLineStart(Buffer.from('ab\n\n'), 0), 3);
  assert.is(lastLineStart(Buffer.from('ab\ncd\n'), 4), 4);
  assert.is(lastLineStart(Buffer.from('ab\n'), 0), 0);
  assert.is(lastLineStart(Buffer.from('\n'), 0), 0);
});

test.run();
