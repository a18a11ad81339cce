import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { lazyBackend } from '../../../src/engine/backend/lazy-backend.js';
import type { Backend } from '../../../src/engine/backend/backend.js';
import { statusFromError } from '../../../src/errors.js';

const fake = { listContainers: async () => ['x'], resizeContainer: () => 'resized' } as unknown as Backend;

test('~> async calls wait for the engine; synchronous ones are 503 until it is ready; then direct', async () => {
  let resolve!: (b: Backend) => void;
  const b = lazyBackend(new Promise<Backend>((r) => (resolve = r)));
  const pending = b.listContainers({ all: true, size: false, filters: {} }, '1.51');
  try {
    b.resizeContainer('x', 1, 1);
    assert.unreachable();
  } catch (e) {
    assert.is(statusFromError(e), 503);
    assert.match((e as Error).message, /still connecting/);
  }
  resolve(fake);
  assert.equal(await pending, ['x']);
  assert.is(b.resizeContainer('x', 1, 1) as unknown, 'resized');
  assert.is((b as unknown as { then?: unknown }).then, undefined, 'not a thenable');
});

test('~> a failed boot answers 503 with the reason', async () => {
  const b = lazyBackend(Promise.reject(new Error('no route to host')));
  await new Promise((r) => setTimeout(r, 0));
  try {
    await b.listContainers({ all: true, size: false, filters: {} }, '1.51');
    assert.unreachable();
  } catch (e) {
    assert.is(statusFromError(e), 503);
    assert.match((e as Error).message, /no route to host/);
  }
});

test.run();
