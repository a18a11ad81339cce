import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  splitVersion,
  compareVersions,
  checkVersion,
  versionHeaders,
  versionLess,
  versionAtLeast,
  engineVersionFor,
} from '../../src/router/version.js';

test('~> /v1.NN prefixes are stripped; other paths are unversioned', () => {
  assert.equal(splitVersion('/v1.51/containers/json'), { version: '1.51', rest: '/containers/json' });
  assert.equal(splitVersion('/v1.24/_ping'), { version: '1.24', rest: '/_ping' });
  assert.equal(splitVersion('/containers/json'), { version: undefined, rest: '/containers/json' });
  assert.equal(splitVersion('/v1.51'), { version: undefined, rest: '/v1.51' });
  assert.equal(splitVersion('/volumes/x'), { version: undefined, rest: '/volumes/x' });
  assert.equal(splitVersion('/vx/_ping'), { version: undefined, rest: '/vx/_ping' });
});

test('~> versions compare numerically per part (1.4 < 1.24 < 1.100)', () => {
  assert.is(compareVersions('1.4', '1.24'), -1);
  assert.is(compareVersions('1.24', '1.24'), 0);
  assert.is(compareVersions('1.100', '1.51'), 1);
  assert.is(compareVersions('1.51', '1.51.0'), 0);
  assert.ok(versionLess('1.41', '1.42'));
  assert.ok(versionAtLeast('1.42', '1.42'));
});

test("~> versions outside [min, max] get dockerd's exact messages", () => {
  assert.is(checkVersion('1.51', '1.24', '1.51'), undefined);
  assert.is(checkVersion('1.24', '1.24', '1.51'), undefined);
  assert.is(
    checkVersion('1.99', '1.24', '1.51')!.message,
    'client version 1.99 is too new. Maximum supported API version is 1.51',
  );
  assert.is(checkVersion('1.99', '1.24', '1.51')!.category, 'invalid');
  assert.is(
    checkVersion('1.12', '1.24', '1.51')!.message,
    'client version 1.12 is too old. Minimum supported API version is 1.24, please upgrade your client to a newer version',
  );
});

test('~> middleware headers: base for version errors, full otherwise', () => {
  const h = versionHeaders('1.51', '28.3.3');
  assert.is(h.base.raw, 'Api-Version: 1.51\r\nOstype: linux\r\nServer: Docker/28.3.3 (linux)\r\n');
  assert.is(h.full.raw, h.base.raw + 'Docker-Experimental: false\r\n');
});

test('~> the engine version follows the advertised API version', () => {
  assert.is(engineVersionFor('1.51'), '28.3.3');
  assert.is(engineVersionFor('1.52'), '29.0.0');
  assert.is(engineVersionFor('9.99'), '28.3.3');
});

test.run();
