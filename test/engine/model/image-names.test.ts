import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { normaliseImage, familiarImage, imageId, imageMatches } from '../../../src/engine/model/image-names.js';

test('~> references normalise as distribution/reference does', () => {
  assert.is(normaliseImage('busybox'), 'docker.io/library/busybox:latest');
  assert.is(normaliseImage('busybox:1.36'), 'docker.io/library/busybox:1.36');
  assert.is(normaliseImage('me/app'), 'docker.io/me/app:latest');
  assert.is(normaliseImage('localhost:5000/app'), 'localhost:5000/app:latest');
  assert.is(normaliseImage('ghcr.io/x/y:z'), 'ghcr.io/x/y:z');
  assert.is(normaliseImage(`alpine@sha256:${'a'.repeat(64)}`), `docker.io/library/alpine@sha256:${'a'.repeat(64)}`);
  assert.is(familiarImage('docker.io/library/busybox'), 'busybox:latest');
});

test('~> IDs are stable per reference; ancestor matches name, tag and ID prefix', () => {
  assert.is(imageId('busybox'), imageId('docker.io/library/busybox:latest'));
  assert.is.not(imageId('busybox'), imageId('busybox:1.36'));
  assert.match(imageId('busybox'), /^sha256:[0-9a-f]{64}$/);
  assert.ok(imageMatches('busybox', 'busybox:latest'));
  assert.ok(imageMatches(imageId('busybox').slice(7, 19), 'busybox'));
  assert.not.ok(imageMatches('alpine', 'busybox'));
});

test.run();
