import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DEFAULT_OPTIONS, loadOptions } from '../../src/config.js';
import { DEFAULT_ENGINE_OPTIONS, engineOptionsFrom, resolveEngineOptions } from '../../src/engine/engine-options.js';

test("~> the engine defaults are the option specs' defaults (defined once, in src/config.ts)", () => {
  const d = DEFAULT_ENGINE_OPTIONS;
  assert.is(d.killGraceSeconds, DEFAULT_OPTIONS.killGraceSeconds);
  assert.is(d.startTimeoutMs, DEFAULT_OPTIONS.startTimeoutMs);
  assert.is(d.autoRemoveHoldMs, DEFAULT_OPTIONS.autoRemoveHoldMs);
  assert.is(d.restartMaxBackoffMs, DEFAULT_OPTIONS.restartMaxBackoffMs);
  assert.equal(d.execCommand, {
    timeoutMs: DEFAULT_OPTIONS.execCommandTimeoutMs,
    maxOutput: DEFAULT_OPTIONS.execCommandMaxOutput,
  });
  assert.equal(d.streams, {
    logMergeHoldMs: DEFAULT_OPTIONS.logMergeHoldMs,
    attachReplayBytes: DEFAULT_OPTIONS.attachReplayBytes,
    execRetentionMs: DEFAULT_OPTIONS.execRetentionMs,
    maxExecs: DEFAULT_OPTIONS.maxExecs,
    maxDetachedExecs: DEFAULT_OPTIONS.maxDetachedExecs,
    detachedExecIdleMs: DEFAULT_OPTIONS.detachedExecIdleMs,
    execPreconnectMs: DEFAULT_OPTIONS.execPreconnectMs,
  });
  assert.is(d.images.failureTtlMs, DEFAULT_OPTIONS.imageFailureTtlMs);
  assert.is(d.publish.forward.replayBytes, DEFAULT_OPTIONS.publishReplayBytes);
  assert.is(d.publish.forward.wsHighWaterMark, DEFAULT_OPTIONS.publishWsHighWaterBytes);
  assert.is(d.archiveExecHighWaterBytes, DEFAULT_OPTIONS.archiveExecHighWaterBytes);
});

test('~> a flag reaches the wing that uses it', () => {
  const o = engineOptionsFrom(
    loadOptions(
      [
        '--auto-remove-hold-ms',
        '5',
        '--publish-connect-timeout-ms',
        '7',
        '--exec-command-timeout-ms',
        '9',
        '--network-policies',
        'true',
      ],
      {},
    ),
    'ua/1',
  );
  assert.is(o.autoRemoveHoldMs, 5);
  assert.is(o.publish.forward.connectTimeoutMs, 7);
  assert.is(o.execCommand.timeoutMs, 9);
  assert.is(o.network.isolation, true);
  assert.is(o.images.userAgent, 'ua/1');
});

test('~> overrides are laid over the defaults group by group', () => {
  const r = resolveEngineOptions({ instance: 'i', streams: { maxExecs: 3 }, publish: { forward: { dialRetryMs: 1 } } });
  assert.is(r.instance, 'i');
  assert.is(r.streams.maxExecs, 3);
  assert.is(r.streams.logMergeHoldMs, DEFAULT_OPTIONS.logMergeHoldMs);
  assert.is(r.publish.forward.dialRetryMs, 1);
  assert.is(r.publish.forward.connectTimeoutMs, DEFAULT_OPTIONS.publishConnectTimeoutMs);
  assert.equal(r.publish.addresses, DEFAULT_OPTIONS.publishAddresses);
});

test.run();
