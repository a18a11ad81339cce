import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Router, compilePattern } from '../../src/router/router.js';
import { ROUTES } from '../../src/router/routes.js';

const router = new Router(ROUTES, (r) => r.handler);
const match = (m: string, p: string) => {
  const x = router.match(m, p);
  return x ? { handler: x.handler, params: x.params } : undefined;
};

test('~> exact paths', () => {
  assert.equal(match('GET', '/_ping'), { handler: 'pingHandler', params: {} });
  assert.equal(match('HEAD', '/_ping'), { handler: 'pingHandler', params: {} });
  assert.equal(match('GET', '/containers/json'), { handler: 'getContainersJSON', params: {} });
  assert.equal(match('POST', '/containers/create'), { handler: 'postContainersCreate', params: {} });
});

test('~> {name:.*} captures names with slashes (moby gorilla patterns)', () => {
  assert.equal(match('GET', '/containers/abc/json'), { handler: 'getContainersByName', params: { name: 'abc' } });
  assert.equal(match('GET', '/containers//x/json'), { handler: 'getContainersByName', params: { name: '/x' } });
  assert.equal(match('GET', '/images/registry:5000/a/b:tag/json'), {
    handler: 'getImagesByName',
    params: { name: 'registry:5000/a/b:tag' },
  });
  assert.equal(match('DELETE', '/images/a/b'), { handler: 'deleteImages', params: { name: 'a/b' } });
  assert.equal(match('POST', '/exec/123/start'), { handler: 'postContainerExecStart', params: { name: '123' } });
  assert.equal(match('GET', '/exec/123/json'), { handler: 'getExecByID', params: { id: '123' } });
});

test('~> static routes win over patterns that could also match', () => {
  assert.is(match('GET', '/images/json')!.handler, 'getImagesJSON');
  assert.is(match('GET', '/images/get')!.handler, 'getImagesGet');
  assert.is(match('GET', '/networks/')!.handler, 'getNetworksList');
  assert.equal(match('GET', '/networks/abc'), { handler: 'getNetwork', params: { id: 'abc' } });
  assert.is(match('POST', '/networks/create')!.handler, 'postNetworkCreate');
});

test('~> {id} without a regex is one segment', () => {
  assert.equal(match('GET', '/services/s1'), { handler: 'getService', params: { id: 's1' } });
  assert.is(match('GET', '/services/a/b'), undefined);
  assert.equal(match('DELETE', '/containers/c/checkpoints/cp'), {
    handler: 'deleteContainerCheckpoint',
    params: { name: 'c', checkpoint: 'cp' },
  });
});

test('~> method matters; unknown paths do not match', () => {
  assert.is(match('POST', '/_ping'), undefined);
  assert.is(match('PATCH', '/_ping'), undefined);
  assert.is(match('GET', '/nosuch'), undefined);
  assert.is(match('GET', '/containers/x'), undefined);
  assert.is(match('GET', '/'), undefined);
});

test('~> OPTIONS matches any path', () => {
  assert.equal(match('OPTIONS', '/containers/x/json'), {
    handler: 'optionsHandler',
    params: { anyroute: 'containers/x/json' },
  });
});

test('~> compilePattern: escapes literals, supports nested braces in regexes', () => {
  const p = compilePattern('/a.b/{n:[0-9]{2}}/{rest:.*}')!;
  assert.equal(p.names, ['n', 'rest']);
  assert.ok(p.re.test('/a.b/12/x/y'));
  assert.not.ok(p.re.test('/aXb/12/x'));
  assert.not.ok(p.re.test('/a.b/123/x'));
  assert.is(compilePattern('/plain'), null);
  assert.throws(() => compilePattern('/a/{broken'));
});

test.run();
