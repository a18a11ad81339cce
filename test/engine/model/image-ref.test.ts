import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  parseRef,
  normaliseRef,
  familiarRef,
  registryHost,
  withDefaultTag,
} from '../../../src/engine/model/image-ref.js';
import { decodeRegistryAuth, parseChallenges, dockerConfigJson } from '../../../src/engine/images/registry/auth.js';
import { statusFromError } from '../../../src/errors.js';

const D = 'sha256:' + 'ab'.repeat(32);

test('~> references normalise as distribution/reference ParseNormalizedNamed does', () => {
  assert.is(normaliseRef('busybox'), 'docker.io/library/busybox:latest');
  assert.is(normaliseRef('index.docker.io/busybox:1'), 'docker.io/library/busybox:1');
  assert.is(normaliseRef('docker.io/me/app'), 'docker.io/me/app:latest');
  assert.is(normaliseRef('localhost/app'), 'localhost/app:latest');
  assert.is(normaliseRef('127.0.0.1:5000/a/b/c:v1.2-x'), '127.0.0.1:5000/a/b/c:v1.2-x');
  assert.is(normaliseRef(`busybox@${D}`), `docker.io/library/busybox@${D}`);
  assert.is(normaliseRef(`busybox:1.36@${D}`), `docker.io/library/busybox:1.36@${D}`);
  assert.equal(parseRef('Registry.Example/app'), { domain: 'Registry.Example', path: 'app' });
  assert.is(familiarRef('docker.io/library/busybox:latest'), 'busybox:latest');
  assert.is(familiarRef('docker.io/library/sub/x'), 'library/sub/x:latest');
  assert.is(familiarRef(`ghcr.io/o/r@${D}`), `ghcr.io/o/r@${D}`);
  assert.is(registryHost(withDefaultTag(parseRef('busybox'))), 'registry-1.docker.io');
  assert.is(registryHost(parseRef('quay.io/x/y')), 'quay.io');
});

test('~> invalid references are 400s with moby wording', () => {
  for (const bad of ['', 'Busybox', 'a b', 'busybox:', 'busybox@sha256:zz', ':tag', 'x/-y', `${'a'.repeat(64)}`]) {
    try {
      parseRef(bad);
      assert.unreachable(bad);
    } catch (e) {
      assert.is(statusFromError(e), 400, bad);
      assert.match((e as Error).message, /invalid (reference format|repository name)/, bad);
    }
  }
  assert.throws(() => parseRef('Busybox'), /repository name \(library\/Busybox\) must be lowercase/);
});

test('~> X-Registry-Auth: base64url JSON, `auth` split, empty means anonymous, garbage is a 400', () => {
  const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  assert.equal(decodeRegistryAuth(enc({ username: 'u', password: 'p', serveraddress: 'reg' })), {
    username: 'u',
    password: 'p',
    serveraddress: 'reg',
  });
  assert.equal(decodeRegistryAuth(enc({ auth: Buffer.from('bob:pw:x').toString('base64') })), {
    auth: Buffer.from('bob:pw:x').toString('base64'),
    username: 'bob',
    password: 'pw:x',
  });
  assert.equal(decodeRegistryAuth(Buffer.from(JSON.stringify({ identitytoken: 't' })).toString('base64')), {
    identitytoken: 't',
  });
  assert.is(decodeRegistryAuth(''), undefined);
  assert.is(decodeRegistryAuth('e30='), undefined);
  assert.is(
    decodeRegistryAuth(enc({ username: '', password: '', serveraddress: 'https://index.docker.io/v1/' })),
    undefined,
  );
  try {
    decodeRegistryAuth('!!!not-json');
    assert.unreachable();
  } catch (e) {
    assert.is(statusFromError(e), 400);
    assert.match((e as Error).message, /^invalid X-Registry-Auth header/);
  }
  const cfg = JSON.parse(dockerConfigJson('https://index.docker.io/v1/', { username: 'u', password: 'p' })!);
  assert.equal(cfg.auths['https://index.docker.io/v1/'], {
    username: 'u',
    password: 'p',
    auth: Buffer.from('u:p').toString('base64'),
  });
  assert.is(dockerConfigJson('x', { identitytoken: 't' }), undefined);
});

test('~> WWW-Authenticate challenges (RFC 7235)', () => {
  assert.equal(
    parseChallenges(
      'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"',
    ),
    [
      {
        scheme: 'bearer',
        params: {
          realm: 'https://auth.docker.io/token',
          service: 'registry.docker.io',
          scope: 'repository:library/busybox:pull',
        },
      },
    ],
  );
  assert.equal(parseChallenges('Basic realm="Registry Realm", Bearer realm="https://x/t",service=s'), [
    { scheme: 'basic', params: { realm: 'Registry Realm' } },
    { scheme: 'bearer', params: { realm: 'https://x/t', service: 's' } },
  ]);
  assert.equal(parseChallenges(undefined), []);
});

test.run();
