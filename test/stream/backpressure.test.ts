import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { PauseGate, HOLD_SINK, HOLD_PEER, HOLD_USER } from '../../src/stream/backpressure.js';
import { PauseCounter } from './fakes.js';

test('~> the first reason pauses, the last release resumes, exactly once each', () => {
  const src = new PauseCounter();
  const g = new PauseGate(src);
  g.hold(HOLD_SINK);
  g.hold(HOLD_PEER);
  g.hold(HOLD_SINK);
  assert.is(src.pauses, 1);
  g.release(HOLD_SINK);
  assert.ok(src.paused, '~> still held by the peer');
  g.release(HOLD_SINK);
  g.release(HOLD_PEER);
  assert.is(src.resumes, 1);
  assert.not.ok(g.paused);
  g.release(HOLD_USER);
  assert.is(src.resumes, 1, '~> releasing a reason not held does nothing');
  assert.is(g.pauses, 1);
  assert.is(g.resumes, 1);
  assert.is(src.unpaired, 0);
});

test('~> close(true) pays back a pending pause; close(false) leaves the source; both end management', () => {
  const a = new PauseCounter();
  const ga = new PauseGate(a);
  ga.hold(HOLD_USER);
  ga.close(true);
  assert.not.ok(a.paused);
  ga.hold(HOLD_SINK);
  assert.is(a.pauses, 1, '~> a closed gate no longer pauses');
  const b = new PauseCounter();
  const gb = new PauseGate(b);
  gb.hold(HOLD_SINK);
  gb.close(false);
  assert.ok(b.paused);
  gb.release(HOLD_SINK);
  assert.ok(b.paused, '~> nor resumes');
  assert.is(a.unpaired + b.unpaired, 0);
});

test('~> holds() reports each reason', () => {
  const g = new PauseGate(new PauseCounter());
  g.hold(HOLD_PEER);
  assert.ok(g.holds(HOLD_PEER));
  assert.not.ok(g.holds(HOLD_SINK));
});

test.run();
