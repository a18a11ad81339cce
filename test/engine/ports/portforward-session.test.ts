import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { PortPrefixed } from '../../../src/engine/ports/portforward-session.js';

const m = (ch: number, ...bytes: number[]) => Buffer.from([ch, ...bytes]);

test('~> each channel starts with the 2-byte port, stripped even when it arrives split', () => {
  const d = new PortPrefixed();
  assert.is(d.decode(m(0, 0x50)), undefined, 'one byte of the data prefix');
  assert.equal(d.decode(m(0, 0x00, 0x41, 0x42)), { channel: 0, payload: Buffer.from('AB') });
  assert.equal(d.decode(m(0, 0x43)), { channel: 0, payload: Buffer.from('C') }, 'no prefix after the first');
  assert.equal(
    d.decode(m(1, 0x50, 0x00, 0x65)),
    { channel: 1, payload: Buffer.from('e') },
    'the error channel has its own prefix',
  );
});

test('~> empty messages and other channels carry nothing', () => {
  const d = new PortPrefixed();
  assert.is(d.decode(Buffer.alloc(0)), undefined);
  assert.is(d.decode(m(0)), undefined);
  assert.is(d.decode(m(2, 1, 2, 3)), undefined);
});

test.run();
