import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { signalNumber, signalName } from '../../../src/engine/model/signals.js';

test('~> Docker signal spellings: SIGKILL, KILL, kill, 9, RTMIN+n', () => {
  assert.is(signalNumber('SIGKILL'), 9);
  assert.is(signalNumber('kill'), 9);
  assert.is(signalNumber('9'), 9);
  assert.is(signalNumber('SIGRTMIN+3'), 37);
  assert.is(signalNumber('RTMAX'), 64);
  assert.is(signalNumber('NOPE'), undefined);
  assert.is(signalNumber('0'), undefined);
  assert.is(signalName('15'), 'SIGTERM');
  assert.is(signalName('usr1'), 'SIGUSR1');
  assert.is(signalName('37'), 'SIGRTMIN+3');
  assert.is(signalName('63'), 'SIGRTMAX-1');
});

test.run();
