import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer } from 'node:net';
import {
  RegistryClient,
  RegistryError,
  hostPlatform,
  pickPlatform,
  parsePlatform,
} from '../../../../src/engine/images/registry/registry.js';
import { parseRef, withDefaultTag } from '../../../../src/engine/model/image-ref.js';
import { startRegistry, type TestRegistry } from '../../../helpers/registry.js';
import { createServer as createHttpServer, request as httpRequest } from 'node:http';
import { connect as netConnect, type AddressInfo } from 'node:net';
import { proxyFor, proxyFromEnv } from '../../../../src/engine/images/registry/proxy.js';

let reg: TestRegistry;
const arch = hostPlatform().architecture;
const client = () =>
  new RegistryClient({
    mirrors: [],
    insecure: [],
    timeoutMs: 5000,
    userAgent: 'kuber-api-test',
    tokenCacheEntries: 100,
  });
const ref = (s: string) => withDefaultTag(parseRef(s));

test.before(async () => {
  reg = await startRegistry();
});
test.after(() => reg.close());

async function fails(p: Promise<unknown>): Promise<RegistryError> {
  try {
    await p;
  } catch (e) {
    assert.instance(e, RegistryError);
    return e as RegistryError;
  }
  throw new Error('expected a RegistryError');
}

test('~> a single-platform OCI image: manifest, then the config blob (through a redirect), never a layer', async () => {
  const pushed = reg.push('app/one', '1.0', {
    config: { Cmd: ['run'], ExposedPorts: { '8080/tcp': {} } },
    platforms: [`linux/${arch}`],
    layers: 2,
  });
  reg.requests.length = 0;
  const r = await client().resolve(ref(`${reg.host}/app/one:1.0`));
  const p = pushed.platforms[`linux/${arch}`]!;
  assert.is(r.config.digest, p.config);
  assert.is(r.digest, pushed.digest);
  assert.is(r.manifestDigest, p.manifest);
  assert.is(r.layers.length, 2);
  assert.equal(JSON.parse(r.configBlob.toString()).config.ExposedPorts, { '8080/tcp': {} });
  const paths = reg.requests.map((q) => q.path);
  assert.ok(paths.includes('/v2/app/one/manifests/1.0'));
  assert.ok(
    paths.some((x) => x.startsWith('/blobstore/')),
    'the redirect was followed',
  );
  for (const l of r.layers)
    assert.not.ok(
      paths.some((x) => x.includes(l.digest)),
      'no layer is fetched',
    );
});

test('~> an index (manifest list) resolves to the host platform; the repo digest is the index digest; attestations are skipped', async () => {
  const other = arch === 'amd64' ? 'arm64' : 'amd64';
  const pushed = reg.push('multi/arch', 'latest', { platforms: [`linux/${other}`, `linux/${arch}`], format: 'docker' });
  const r = await client().resolve(ref(`${reg.host}/multi/arch`));
  assert.is(r.digest, pushed.digest);
  assert.is(r.manifestDigest, pushed.platforms[`linux/${arch}`]!.manifest);
  assert.is(r.config.digest, pushed.platforms[`linux/${arch}`]!.config);
  assert.is(r.platform?.architecture, arch);
  const r2 = await client().resolve(ref(`${reg.host}/multi/arch`), { platform: { os: 'linux', architecture: other } });
  assert.is(r2.config.digest, pushed.platforms[`linux/${other}`]!.config);
  const e = await fails(
    client().resolve(ref(`${reg.host}/multi/arch`), { platform: { os: 'linux', architecture: 's390x' } }),
  );
  assert.is(e.kind, 'no-platform');
  assert.is(e.message, 'no matching manifest for linux/s390x in the manifest list entries');
  // Pinned by the index digest: same answer; a wrong digest is unknown.
  const byDigest = await client().resolve(ref(`${reg.host}/multi/arch@${pushed.digest}`));
  assert.is(byDigest.config.digest, r.config.digest);
  const bad = await fails(client().resolve(ref(`${reg.host}/multi/arch@sha256:${'0'.repeat(64)}`)));
  assert.is(bad.kind, 'manifest-unknown');
});

test('~> unknown tags and repositories fail with moby wording', async () => {
  reg.push('app/two', 'v1');
  const e1 = await fails(client().resolve(ref(`${reg.host}/app/two:nope`)));
  assert.is(e1.kind, 'manifest-unknown');
  assert.is(e1.message, `manifest for ${reg.host}/app/two:nope not found: manifest unknown: manifest unknown`);
  const e2 = await fails(client().resolve(ref(`${reg.host}/no/such`)));
  assert.is(e2.kind, 'name-unknown');
  assert.is(
    e2.message,
    `repository ${reg.host}/no/such not found: name unknown: repository name not known to registry`,
  );
  assert.ok(e1.definitive && e2.definitive);
});

test('~> token auth: anonymous is denied, Basic credentials and identity tokens get a token (cached), wrong ones are refused; the CDN never sees credentials', async () => {
  reg.push('private/img', 'latest', { config: { Cmd: ['secret'] } });
  reg.protect('private/img', { username: 'alice', password: 's3cret', identityToken: 'refresh-123' });
  const r = ref(`${reg.host}/private/img`);
  const denied = await fails(client().resolve(r));
  assert.is(denied.kind, 'denied');
  assert.match(
    denied.message,
    `pull access denied for ${reg.host}/private/img, repository does not exist or may require 'docker login'`,
  );
  const c = client();
  reg.requests.length = 0;
  const ok = await c.resolve(r, { auth: { username: 'alice', password: 's3cret' } });
  assert.equal(JSON.parse(ok.configBlob.toString()).config.Cmd, ['secret']);
  const tokenReq = reg.requests.find((q) => q.path.startsWith('/token'))!;
  assert.match(tokenReq.path, 'scope=repository%3Aprivate%2Fimg%3Apull');
  assert.match(tokenReq.path, 'service=registry.test');
  assert.is(tokenReq.auth, `Basic ${Buffer.from('alice:s3cret').toString('base64')}`);
  assert.ok(reg.requests.some((q) => q.path === '/v2/private/img/manifests/latest' && q.auth?.startsWith('Bearer ')));
  assert.ok(
    reg.requests.filter((q) => q.path.startsWith('/blobstore/')).every((q) => !q.auth),
    'no credentials to another origin',
  );
  reg.requests.length = 0;
  await c.resolve(r, { auth: { username: 'alice', password: 's3cret' } });
  assert.not.ok(
    reg.requests.some((q) => q.path.startsWith('/token')),
    'the token is cached',
  );
  const wrong = await fails(client().resolve(r, { auth: { username: 'alice', password: 'nope' } }));
  assert.is(wrong.kind, 'unauthorized');
  assert.match(wrong.message, 'unauthorized: incorrect username or password');
  reg.requests.length = 0;
  const viaIdentity = await client().resolve(r, { auth: { identitytoken: 'refresh-123' } });
  assert.is(viaIdentity.config.digest, ok.config.digest);
  assert.ok(
    reg.requests.some((q) => q.method === 'POST' && q.path === '/token'),
    'OAuth2 refresh-token grant',
  );
});

test('~> bearer tokens, one per repository pulled, are held at most --registry-token-cache-entries', async () => {
  const c = new RegistryClient({ mirrors: [], insecure: [], timeoutMs: 5000, userAgent: 't', tokenCacheEntries: 2 });
  const auth = { username: 'bob', password: 'pw' };
  for (let i = 0; i < 5; i++) {
    reg.push(`bounded/r${i}`, 'latest');
    reg.protect(`bounded/r${i}`, auth);
    await c.resolve(ref(`${reg.host}/bounded/r${i}`), { auth });
    assert.ok(c.tokenCount <= 2, `${c.tokenCount} tokens after ${i + 1} repositories`);
  }
  assert.is(c.tokenCount, 2);
  reg.requests.length = 0;
  await c.resolve(ref(`${reg.host}/bounded/r4`), { auth });
  assert.not.ok(
    reg.requests.some((q) => q.path.startsWith('/token')),
    'a kept token is used',
  );
  await c.resolve(ref(`${reg.host}/bounded/r0`), { auth });
  assert.ok(
    reg.requests.some((q) => q.path.startsWith('/token')),
    'an evicted one costs one token request',
  );
});

test('~> Docker Hub references use the mirrors first; a mirror that lacks the image gives its definitive answer', async () => {
  const pushed = reg.push('library/mirrored', 'latest', { config: { Cmd: ['from-mirror'] } });
  const c = new RegistryClient({
    mirrors: [reg.url + '/'],
    insecure: [],
    timeoutMs: 3000,
    userAgent: 't',
    tokenCacheEntries: 100,
  });
  const r = await c.resolve(ref('mirrored'));
  assert.is(r.endpoint, reg.url);
  assert.is(r.digest, pushed.digest);
  const e = await fails(c.resolve(ref('mirrored:absent')));
  assert.is(e.kind, 'manifest-unknown');
  assert.is(e.message, 'manifest for mirrored:absent not found: manifest unknown: manifest unknown');
  assert.equal(c.endpoints(ref('x')), [reg.url, 'https://registry-1.docker.io']);
  assert.equal(c.endpoints(ref('ghcr.io/a/b')), ['https://ghcr.io']);
});

test('~> an unreachable registry is a network error, not an answer', async () => {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  const e = await fails(client().resolve(ref(`127.0.0.1:${port}/gone`)));
  assert.is(e.kind, 'unreachable');
  assert.not.ok(e.definitive);
  assert.match(e.message, `Get "http://127.0.0.1:${port}/v2/gone/manifests/latest": ECONNREFUSED`);
});

test('~> insecure registries: loopback and listed hosts/CIDRs only', () => {
  const c = new RegistryClient({
    mirrors: [],
    insecure: ['reg.internal:5000', '10.0.0.0/8'],
    timeoutMs: 1,
    userAgent: 't',
    tokenCacheEntries: 100,
  });
  assert.ok(c.isInsecure('127.0.0.1:5000'));
  assert.ok(c.isInsecure('localhost:5000'));
  assert.ok(c.isInsecure('reg.internal:5000'));
  assert.ok(c.isInsecure('10.1.2.3:443'));
  assert.not.ok(c.isInsecure('reg.internal:6000'));
  assert.not.ok(c.isInsecure('ghcr.io'));
});

test('~> platform matching: variants, arm64 defaults to v8', () => {
  const e = (p: string) => {
    const [os, architecture, variant] = p.split('/') as [string, string, string?];
    return { digest: p, size: 1, platform: { os, architecture, ...(variant ? { variant } : {}) } };
  };
  const list = [e('linux/arm/v6'), e('linux/arm/v7'), e('linux/arm64'), e('linux/amd64')];
  assert.is(pickPlatform(list, { os: 'linux', architecture: 'arm', variant: 'v7' })?.digest, 'linux/arm/v7');
  assert.is(pickPlatform(list, { os: 'linux', architecture: 'arm64', variant: 'v8' })?.digest, 'linux/arm64');
  assert.is(pickPlatform(list, { os: 'windows', architecture: 'amd64' }), undefined);
  assert.equal(parsePlatform('linux/arm64/v8'), { os: 'linux', architecture: 'arm64', variant: 'v8' });
  assert.is(parsePlatform(''), undefined);
});

test('~> proxies as Go reads them: HTTPS_PROXY/HTTP_PROXY, NO_PROXY names, subdomains, CIDRs, ports, *; loopback never proxied', () => {
  const p = proxyFromEnv({
    HTTPS_PROXY: 'http://u:p@proxy:3128',
    http_proxy: 'proxy:8080',
    NO_PROXY: 'example.com,.only-sub.org,10.0.0.0/8,reg.local:5000',
  });
  assert.equal(p, {
    http: 'proxy:8080',
    https: 'http://u:p@proxy:3128',
    noProxy: 'example.com,.only-sub.org,10.0.0.0/8,reg.local:5000',
  });
  const via = (u: string) => proxyFor(new URL(u), p)?.host;
  assert.is(via('https://ghcr.io/v2/'), 'proxy:3128');
  assert.is(via('http://ghcr.io/v2/'), 'proxy:8080');
  assert.is(via('https://example.com/v2/'), undefined);
  assert.is(via('https://registry.example.com/v2/'), undefined);
  assert.is(via('https://only-sub.org/v2/'), 'proxy:3128');
  assert.is(via('https://a.only-sub.org/v2/'), undefined);
  assert.is(via('https://10.1.2.3:5000/v2/'), undefined);
  assert.is(via('https://reg.local:5000/v2/'), undefined);
  assert.is(via('https://reg.local:5001/v2/'), 'proxy:3128');
  assert.is(via('https://127.0.0.1:5000/v2/'), undefined);
  assert.is(via('https://localhost/v2/'), undefined);
  assert.is(proxyFor(new URL('https://ghcr.io/'), { ...p, noProxy: '*' }), undefined);
  assert.is(proxyFor(new URL('https://ghcr.io/'), {}), undefined);
});

test('~> through a proxy: CONNECT for https (TLS to the registry), absolute-form for plain HTTP; a name only the proxy resolves works', async () => {
  const pushed = reg.push('app/proxied', '1', { config: { Cmd: ['via-proxy'] }, platforms: [`linux/${arch}`] });
  const port = Number(reg.host.split(':')[1]);
  const seen: string[] = [];
  // The proxy resolves registry.test (which DNS does not) to the registry double.
  const target = (host: string) => (host === 'registry.test' ? '127.0.0.1' : host);
  const proxy = createHttpServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    const u = new URL(req.url!);
    const up = httpRequest(
      {
        host: target(u.hostname),
        port: u.port,
        path: u.pathname + u.search,
        method: req.method,
        headers: { ...req.headers, host: u.host },
      },
      (r) => {
        res.writeHead(r.statusCode!, r.headers);
        r.pipe(res);
      },
    );
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  proxy.on('connect', (req, socket, head) => {
    seen.push(`CONNECT ${req.url}`);
    const [h, p] = req.url!.split(':');
    const up = netConnect(Number(p), target(h!), () => {
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      up.write(head);
      up.pipe(socket);
      socket.pipe(up);
    });
    up.on('error', () => socket.destroy());
    socket.on('error', () => up.destroy());
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  try {
    const c = new RegistryClient({
      mirrors: [],
      insecure: [`registry.test:${port}`],
      timeoutMs: 5000,
      userAgent: 'kuber-api-test',
      tokenCacheEntries: 100,
      proxy: { http: proxyUrl, https: proxyUrl },
    });
    const r = await c.resolve(ref(`registry.test:${port}/app/proxied:1`));
    assert.is(r.config.digest, pushed.platforms[`linux/${arch}`]!.config);
    assert.equal(JSON.parse(r.configBlob.toString()).config.Cmd, ['via-proxy']);
    // HTTPS first through a tunnel (the double speaks plain HTTP, so TLS fails), then plain HTTP in absolute form.
    assert.ok(seen.includes(`CONNECT registry.test:${port}`), seen.join('\n'));
    assert.ok(seen.includes(`GET http://registry.test:${port}/v2/app/proxied/manifests/1`), seen.join('\n'));
    // Without the proxy the name does not resolve.
    const direct = new RegistryClient({
      mirrors: [],
      insecure: [`registry.test:${port}`],
      timeoutMs: 5000,
      userAgent: 'kuber-api-test',
      tokenCacheEntries: 100,
      proxy: {},
    });
    assert.is((await fails(direct.resolve(ref(`registry.test:${port}/app/proxied:1`)))).kind, 'unreachable');
  } finally {
    proxy.closeAllConnections();
    await new Promise<void>((r) => proxy.close(() => r()));
  }
});

test.run();
