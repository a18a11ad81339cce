import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { UserResolver } from '../../../src/engine/users/users.js';
import { EngineError, statusFromError } from '../../../src/errors.js';
import type { UsersHost } from '../../../src/engine/users/host.js';

const FILES = {
  passwd: 'root:x:0:0::/:/bin/sh\nnobody:x:65534:65534::/:/bin/false\napp:x:1000:1000::/app:/bin/sh\n',
  group: 'nogroup:x:65534:\n',
};
const warnings: string[] = [];
const host = {
  log: { warn: (_o: unknown, m: string) => warnings.push(m) },
  opts: { users: { maxBytes: 1 << 20, cacheEntries: 2 } },
} as unknown as UsersHost;

function resolver() {
  const reads: string[] = [];
  const r = new UserResolver(host, async (image) => {
    reads.push(image);
    if (image.startsWith('broken')) throw new EngineError('system', 'the lookup pod failed');
    return FILES;
  });
  return { r, reads };
}

test('~> an explicit name becomes uid:gid; numeric users and images without USER need no lookup', async () => {
  const { r, reads } = resolver();
  assert.equal((await r.numericIntent({ intent: { Image: 'img', User: 'nobody' } })).User, '65534:65534');
  assert.equal((await r.numericIntent({ intent: { Image: 'img', User: '1000:0' } })).User, '1000:0');
  assert.equal(await r.numericIntent({ intent: { Image: 'img' } }), { Image: 'img' });
  assert.equal(reads, ['img']);
});

test("~> the image's own named USER (left out of the intent) becomes numbers too", async () => {
  const { r } = resolver();
  assert.equal((await r.numericIntent({ intent: { Image: 'img' }, imageUser: 'app' })).User, '1000:1000');
});

test('~> files are read once per image digest, least recently used out beyond the cache size', async () => {
  const { r, reads } = resolver();
  for (const [img, key] of [
    ['a', 'sha256:1'],
    ['a2', 'sha256:1'],
    ['b', 'sha256:2'],
    ['a', 'sha256:1'],
    ['c', 'sha256:3'],
    ['b', 'sha256:2'],
  ] as const)
    await r.resolve('nobody', img, key);
  assert.equal(reads, ['a', 'b', 'c', 'b']); // a2 shares a's digest; b was evicted by c (a used more recently)
});

test('~> an unknown explicit user fails with a 500 naming it; an unresolvable image USER is left to the runtime', async () => {
  const { r } = resolver();
  try {
    await r.numericIntent({ intent: { Image: 'img', User: 'ghost' } });
    assert.unreachable();
  } catch (e) {
    assert.is(statusFromError(e), 500);
    assert.is((e as Error).message, 'unable to find user ghost: no matching entries in passwd file');
  }
  assert.equal(await r.numericIntent({ intent: { Image: 'broken' }, imageUser: 'app' }), { Image: 'broken' });
  assert.is(warnings.length, 1);
  // a failed read is not cached
  await r.numericIntent({ intent: { Image: 'broken' }, imageUser: 'app' });
  assert.is(warnings.length, 2);
});

test.run();
