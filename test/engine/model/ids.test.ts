import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  newId,
  normaliseName,
  randomName,
  podName,
  recordName,
  asLabelValue,
  isLabelKey,
  sanitiseLabelValue,
  ID_RE,
} from '../../../src/engine/model/ids.js';

test('~> IDs are 64 lowercase hex and never have an all-digit short form', () => {
  for (let i = 0; i < 200; i++) {
    const id = newId();
    assert.ok(ID_RE.test(id), id);
    assert.not.ok(/^\d{12}/.test(id));
  }
});

test('~> names: a leading slash is accepted, moby charset enforced with its message', () => {
  assert.is(normaliseName('/web'), 'web');
  assert.is(normaliseName('a.b_c-1'), 'a.b_c-1');
  assert.throws(
    () => normaliseName('x'),
    /Invalid container name \(x\), only \[a-zA-Z0-9\]\[a-zA-Z0-9_.-\] are allowed/,
  );
  assert.throws(() => normaliseName('-x'), /Invalid container name/);
  assert.throws(() => normaliseName('a b'), /Invalid container name/);
});

test('~> generated names look like moby namesgenerator output', () => {
  assert.match(randomName(), /^[a-z]+_[a-z]+$/);
  assert.match(randomName(2), /^[a-z]+_[a-z]+\d$/);
});

test('~> pod names are DNS-1123 labels with the short id, run number from the second run', () => {
  const id = 'abcdef0123456789'.repeat(4);
  assert.is(podName('My_Web.app', id, 1), 'my-web-app-abcdef012345');
  assert.is(podName('web', id, 3), 'web-abcdef012345-3');
  assert.is(podName('__', id, 1), 'kapi-abcdef012345');
  const long = podName('x'.repeat(100), id, 12);
  assert.ok(long.length <= 63, long);
  assert.match(long, /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
  assert.is(recordName(id), 'kapi-abcdef012345');
});

test('~> label keys and values follow Kubernetes syntax', () => {
  assert.ok(isLabelKey('com.docker.compose.project'));
  assert.ok(isLabelKey('example.com/name'));
  assert.not.ok(isLabelKey('Bad_Prefix/name'));
  assert.not.ok(isLabelKey('x'.repeat(64)));
  assert.is(asLabelValue('ok-1.2_3'), 'ok-1.2_3');
  assert.is(asLabelValue(''), '');
  assert.is(asLabelValue('a'.repeat(64)), undefined);
  assert.is(asLabelValue('has space'), undefined);
  assert.is(sanitiseLabelValue('host:name/1'), 'host-name-1');
  assert.is(sanitiseLabelValue('---'), 'default');
});

test.run();
