import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  EngineError,
  statusFromError,
  notFound,
  conflict,
  notModified,
  notImplemented,
  invalid,
  categoryOf,
} from '../src/errors.js';

test('~> each category maps to the status moby uses', () => {
  assert.is(statusFromError(notFound('No such container: x')), 404);
  assert.is(statusFromError(conflict('in use')), 409);
  assert.is(statusFromError(invalid('bad')), 400);
  assert.is(statusFromError(notModified()), 304);
  assert.is(statusFromError(notImplemented('pause')), 501);
  assert.is(statusFromError(new EngineError('headers-too-large', 'x')), 431);
  assert.is(statusFromError(new EngineError('too-large', 'x')), 413);
});

test('~> foreign errors are 500 and category system', () => {
  assert.is(statusFromError(new Error('boom')), 500);
  assert.is(statusFromError('str'), 500);
  assert.is(categoryOf(new TypeError('x')), 'system');
});

test('~> codes are stable and the cause is kept', () => {
  const cause = new Error('root');
  const e = new EngineError('not-found', 'gone', { cause, code: 'KAPI_ERR_NO_SUCH_CONTAINER' });
  assert.is(e.code, 'KAPI_ERR_NO_SUCH_CONTAINER');
  assert.is(e.cause, cause);
  assert.is(notFound('x').code, 'KAPI_ERR_NOT_FOUND');
});

test('~> expected categories carry no stack; unexpected ones keep it', () => {
  assert.not.match(notFound('No such container: x').stack ?? '', /at /);
  assert.match(new EngineError('system', 'boom').stack ?? '', /at /);
  assert.ok(Error.stackTraceLimit > 0, 'the global limit is restored');
});

test.run();
