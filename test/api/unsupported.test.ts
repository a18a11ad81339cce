/** src/api/unsupported.ts and src/api/index.ts: every route resolves; 501s name the feature or the route. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ROUTES } from '../../src/router/routes.js';
import { createApi, implementedHandlers, resolveRoute } from '../../src/api/index.js';
import { startHttp } from '../helpers/http.js';
import { UNSUPPORTED, notYetImplemented } from '../../src/api/unsupported.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { httpRequest } from '../helpers/raw-client.js';

test('~> the route table has no duplicate method+path and every handler name resolves', () => {
  const seen = new Set<string>();
  const implemented = implementedHandlers();
  for (const r of ROUTES) {
    const key = `${r.method} ${r.path}`;
    assert.not.ok(seen.has(key), `duplicate ${key}`);
    seen.add(key);
    assert.type(resolveRoute(r, implemented).fn, 'function');
  }
  for (const name of Object.keys(UNSUPPORTED))
    assert.ok(
      ROUTES.some((r) => r.handler === name),
      `${name} is in the route table`,
    );
  for (const name of [
    'pingHandler',
    'getVersion',
    'getInfo',
    'getEvents',
    'optionsHandler',
    'getContainersJSON',
    'getContainersByName',
  ])
    assert.ok(implemented.has(name), name);
});

test('~> a not-yet handler is named for its route and says "not supported" (docker inspect skips it)', () => {
  const fn = notYetImplemented({ method: 'POST', path: '/containers/create', handler: 'postContainersCreate' });
  assert.is(fn.name, 'postContainersCreate');
  try {
    fn({} as never, {} as never, {} as never);
    assert.unreachable();
  } catch (e) {
    assert.is(
      (e as Error).message,
      'POST /containers/create (postContainersCreate) is not supported yet by kuber-api: not implemented yet',
    );
  }
});

let srv: TestServer;
test.before(async () => {
  srv = await startServer();
});
test.after(() => srv.close());

test('~> unsupported features answer 501 with the feature and the reason', async () => {
  for (const [m, p, feature] of [
    ['GET', '/v1.51/services', 'Swarm mode'],
    ['POST', '/swarm/init', 'Swarm mode'],
    ['GET', '/plugins', 'Docker plugins'],
    ['POST', '/build', 'Image builds'],
    ['POST', '/session', 'BuildKit sessions'],
    ['POST', '/commit', 'docker commit'],
    ['POST', '/containers/x/pause', 'Pausing containers'],
    ['GET', '/containers/x/export', 'Container export'],
    ['GET', '/distribution/busybox/json', 'Registry distribution inspection'],
  ] as const) {
    const r = await httpRequest(srv, m, p);
    assert.is(r.status, 501, p);
    assert.is(r.headers['content-type'], 'application/json');
    const msg = JSON.parse(r.body.toString()).message as string;
    assert.ok(msg.startsWith(`${feature} is not supported by kuber-api: `), msg);
  }
});

test('~> routes nobody implements yet answer 501 naming the route (whatever is left in the real table)', async () => {
  const implemented = implementedHandlers();
  const left = ROUTES.filter((r) => resolveRoute(r, implemented).kind === 'not-yet' && !r.path.includes('{'));
  for (const r of left) {
    const res = await httpRequest(srv, r.method, r.path);
    assert.is(res.status, 501, `${r.method} ${r.path}`);
    assert.equal(JSON.parse(res.body.toString()), {
      message: `${r.method} ${r.path} (${r.handler}) is not supported yet by kuber-api: not implemented yet`,
    });
  }
});

test('~> a route added to the table without a handler is a 501 naming it, also on the upgrade path', async () => {
  const routes = [...ROUTES, { method: 'POST', path: '/made/up/{name:.*}/start', handler: 'postMadeUpStart' }];
  const ctx = { ...srv.running.ctx };
  const h = await startHttp(createApi(ctx, routes).handler);
  try {
    const r = await httpRequest(h.unix, 'POST', '/v1.51/made/up/x/start', {
      headers: { Connection: 'Upgrade', Upgrade: 'tcp', 'Content-Type': 'application/json' },
      body: '{}',
    });
    assert.is(r.status, 501);
    assert.equal(JSON.parse(r.body.toString()), {
      message: 'POST /made/up/{name:.*}/start (postMadeUpStart) is not supported yet by kuber-api: not implemented yet',
    });
  } finally {
    await h.close();
  }
});

test.run();
