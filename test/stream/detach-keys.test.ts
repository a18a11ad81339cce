import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseDetachKeys, DetachScanner, DEFAULT_DETACH_KEYS } from '../../src/stream/detach-keys.js';
import { EngineError } from '../../src/errors.js';

test('~> specs parse exactly as moby/term ToBytes', () => {
  assert.equal([...parseDetachKeys(undefined)], [0x10, 0x11]);
  assert.equal([...parseDetachKeys('')], [0x10, 0x11]);
  assert.equal([...parseDetachKeys('ctrl-p,ctrl-q')], [16, 17]);
  assert.equal([...parseDetachKeys('ctrl-a,x')], [1, 120]);
  assert.equal([...parseDetachKeys('ctrl-@,ctrl-[,ctrl-\\,ctrl-],ctrl-^,ctrl-_')], [0, 27, 28, 29, 30, 31]);
  assert.equal([...parseDetachKeys('ctrl-z')], [26]);
  assert.equal([...parseDetachKeys('DEL')], [127]);
});

test('~> invalid specs fail with dockerd message', () => {
  for (const bad of [
    'ctrl-P',
    'ctrl-1',
    'ctrl-',
    'ctrl-ab',
    ' ctrl-p',
    'ctrl-p, ctrl-q',
    'é',
    'del',
    'a,,b',
    'ab',
    ',',
  ]) {
    let err: unknown;
    try {
      parseDetachKeys(bad);
    } catch (e) {
      err = e;
    }
    assert.instance(err, EngineError, bad);
    assert.is((err as EngineError).category, 'invalid');
    assert.is((err as Error).message, `Invalid detach keys (${bad}) provided`);
  }
});

/** Run chunks through a scanner, returning what was forwarded and whether it detached. */
function scan(keys: Buffer, chunks: (string | number[])[]) {
  const s = new DetachScanner(keys);
  const out: Buffer[] = [];
  let detached = false;
  for (const c of chunks) {
    if (
      s.push(Buffer.isBuffer(c) ? c : typeof c === 'string' ? Buffer.from(c, 'latin1') : Buffer.from(c), (b) =>
        out.push(Buffer.from(b)),
      )
    ) {
      detached = true;
      break;
    }
  }
  if (!detached) s.end((b) => out.push(Buffer.from(b)));
  return { out: Buffer.concat(out).toString('latin1'), detached };
}

const P = '\x10';
const Q = '\x11';

test('~> the full sequence detaches and is swallowed; bytes before it pass', () => {
  assert.equal(scan(DEFAULT_DETACH_KEYS, [`ab${P}${Q}`]), { out: 'ab', detached: true });
  assert.equal(scan(DEFAULT_DETACH_KEYS, [`${P}${Q}`]), { out: '', detached: true });
  assert.equal(
    scan(DEFAULT_DETACH_KEYS, [`ab${P}${Q}after`]),
    { out: 'ab', detached: true },
    '~> bytes after the sequence are dropped',
  );
});

test('~> a sequence split across chunks detaches; partial bytes are held back meanwhile', () => {
  const s = new DetachScanner(DEFAULT_DETACH_KEYS);
  const out: string[] = [];
  const fwd = (b: Buffer) => out.push(b.toString('latin1'));
  assert.not.ok(s.push(Buffer.from(`x${P}`, 'latin1'), fwd));
  assert.equal(out, ['x'], '~> ctrl-p held back');
  assert.is(s.held, 1);
  assert.ok(s.push(Buffer.from(Q, 'latin1'), fwd));
  assert.equal(out, ['x']);
  assert.ok(s.detached);
});

test('~> a broken sequence releases the held bytes, in order', () => {
  assert.equal(scan(DEFAULT_DETACH_KEYS, [`a${P}`, 'b']), { out: `a${P}b`, detached: false });
  assert.equal(scan(DEFAULT_DETACH_KEYS, [`a${P}b`]), { out: `a${P}b`, detached: false });
  assert.equal(scan(DEFAULT_DETACH_KEYS, [P, 'b', 'c']), { out: `${P}bc`, detached: false });
});

test('~> like moby, the byte that breaks a match is not retried as a new start', () => {
  // ctrl-p ctrl-p ctrl-q: the second ctrl-p breaks the first match and is passed on; then ctrl-q alone.
  assert.equal(scan(DEFAULT_DETACH_KEYS, [`${P}${P}${Q}`]), { out: `${P}${P}${Q}`, detached: false });
  assert.equal(scan(DEFAULT_DETACH_KEYS, [P, P, Q]), { out: `${P}${P}${Q}`, detached: false });
  // After the break a fresh sequence still works.
  assert.equal(scan(DEFAULT_DETACH_KEYS, [`${P}x${P}${Q}`]), { out: `${P}x`, detached: true });
});

test('~> a held partial match is released at end of input (nothing typed is lost)', () => {
  assert.equal(scan(DEFAULT_DETACH_KEYS, [`abc${P}`]), { out: `abc${P}`, detached: false });
});

test('~> longer sequences: every split of every input gives the same result as one chunk', () => {
  const keys = parseDetachKeys('ctrl-a,b,ctrl-c');
  const inputs = [
    'hello',
    '\x01b\x03',
    'x\x01b\x03y',
    '\x01b\x01b\x03',
    '\x01\x01b\x03',
    'a\x01bc\x03',
    '\x01b',
    'zz\x01',
  ];
  for (const input of inputs) {
    const whole = scan(keys, [input]);
    for (let i = 0; i <= input.length; i++) {
      for (let j = i; j <= input.length; j++) {
        const parts = [input.slice(0, i), input.slice(i, j), input.slice(j)];
        assert.equal(scan(keys, parts), whole, `${JSON.stringify(input)} split ${i},${j}`);
      }
    }
  }
  assert.equal(scan(keys, ['x\x01b\x03y']), { out: 'x', detached: true });
  assert.equal(scan(keys, ['\x01b\x01b\x03']), { out: '\x01b\x01b\x03', detached: false });
});

test('~> a single-key sequence and an empty key list', () => {
  assert.equal(scan(parseDetachKeys('ctrl-x'), ['ab\x18cd']), { out: 'ab', detached: true });
  assert.equal(scan(Buffer.alloc(0), ['\x10\x11']), { out: '\x10\x11', detached: false });
});

test('~> after detaching, further input is ignored', () => {
  const s = new DetachScanner();
  const out: Buffer[] = [];
  assert.ok(s.push(Buffer.from([0x10, 0x11]), (b) => out.push(b)));
  assert.ok(s.push(Buffer.from('more'), (b) => out.push(b)));
  s.end((b) => out.push(b));
  assert.is(out.length, 0);
});

test.run();
