/**
 * Published ports with real clients against kuber-api on kube-sim: `docker run -p`, `-P`,
 * `docker port`, `docker ps` Ports, inspect `NetworkSettings.Ports`, testcontainers
 * `withExposedPorts` + `getMappedPort`; kuber-api listens on the host port and forwards to the
 * container's Pod (here `--port-mode portforward`: through pods/portforward over WebSocket, as on
 * a cluster whose pod IPs kuber-api cannot reach; direct dialling is unit-tested). The listener
 * closes when the container stops or is removed, and the allocation survives a kuber-api restart.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import net from 'node:net';
import http from 'node:http';
import { cliSuite } from '../helpers/streams-env.js';
import { ok, until } from './containers-cases.js';

const { t, d, env } = cliSuite('published-port tests', {
  api: { args: ['--port-mode', 'portforward'] },
  timeoutMs: 60_000,
});
const httpd = (text: string) => [
  'busybox',
  'sh',
  '-c',
  `mkdir -p /www && echo ${text} > /www/index.html && exec httpd -f -p 8080 -h /www`,
];

/** GET http://host:port/ from this process. */
const get = (port: number, host = '127.0.0.1') =>
  new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = http.get({ host, port, path: '/', agent: false, timeout: 20_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
  });

/** Is something listening on 127.0.0.1:port? */
const listening = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });

const freePort = async () => {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const p = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return p;
};

t(
  '~> docker run -p HOST:8080: a GET on 127.0.0.1:HOST reaches the container; docker port, ps and inspect show it; a taken port fails the start',
  async () => {
    const hp = await freePort();
    ok(await d('run', '-d', '--name', 'pub', '-p', `${hp}:8080`, ...httpd('hello-port')));
    // The first connection waits for the container to run and listen (as testcontainers' wait strategies expect).
    assert.equal(await get(hp), { status: 200, body: 'hello-port\n' });
    // Bound on 127.0.0.1, ::1 and the bridge gateway (kube-sim's node address, a local address here).
    const gateway = JSON.parse(ok(await d('network', 'inspect', 'bridge')))[0].IPAM.Config[0].Gateway;
    assert.equal(
      ok(await d('port', 'pub', '8080'))
        .split('\n')
        .sort(),
      [`127.0.0.1:${hp}`, `${gateway}:${hp}`, `[::1]:${hp}`].sort(),
    );
    assert.match(
      ok(await d('ps', '--filter', 'name=pub', '--format', '{{.Ports}}')),
      new RegExp(`127\\.0\\.0\\.1:${hp}->8080/tcp`),
    );
    const j = JSON.parse(ok(await d('inspect', 'pub')))[0];
    assert.equal(j.NetworkSettings.Ports['8080/tcp'], [
      { HostIp: '127.0.0.1', HostPort: String(hp) },
      { HostIp: '::1', HostPort: String(hp) },
      { HostIp: gateway, HostPort: String(hp) },
    ]);
    assert.equal(j.HostConfig.PortBindings, { '8080/tcp': [{ HostIp: '', HostPort: String(hp) }] });
    assert.is((await get(hp, '::1')).body, 'hello-port\n');
    assert.is((await get(hp, gateway)).body, 'hello-port\n');
    // The same host port for a second container: dockerd's error, nothing left running.
    const clash = await d('run', '-d', '--name', 'clash', '-p', `${hp}:8080`, 'busybox', 'sleep', '30');
    assert.is.not(clash.code, 0);
    assert.match(clash.stderr, new RegExp(`Bind for 127\\.0\\.0\\.1:${hp} failed: port is already allocated`));
    assert.is(JSON.parse(ok(await d('inspect', 'clash')))[0].State.Status, 'created');
    // An open connection is cut and the port closed when the container stops; start binds it again.
    const sock = net.connect({ host: '127.0.0.1', port: hp });
    await new Promise((r) => sock.once('connect', r));
    const cut = new Promise((r) => sock.once('close', r));
    ok(await d('stop', '-t', '0', 'pub'));
    await cut;
    assert.is(await listening(hp), false);
    assert.equal(JSON.parse(ok(await d('inspect', 'pub')))[0].NetworkSettings.Ports, {});
    ok(await d('start', 'pub'));
    assert.is((await get(hp)).body, 'hello-port\n');
    ok(await d('rm', '-f', 'pub', 'clash'));
    await until(async () => ((await listening(hp)) ? undefined : true), 10_000, 'port closed after rm');
  },
);

t('~> -p 8080 and -P pick random host ports, kept across a kuber-api restart', async () => {
  ok(await d('run', '-d', '--name', 'rnd', '-p', '8080', '--expose', '9090', '-P', ...httpd('hello-random')));
  const ports = JSON.parse(ok(await d('inspect', 'rnd')))[0].NetworkSettings.Ports;
  const hp = Number(ports['8080/tcp'][0].HostPort);
  assert.ok(hp > 0);
  assert.ok(Number(ports['9090/tcp'][0].HostPort) > 0, JSON.stringify(ports));
  assert.is(ok(await d('port', 'rnd', '8080/tcp')).split('\n')[0], `127.0.0.1:${hp}`);
  assert.is((await get(hp)).body, 'hello-random\n');
  await env().api.restart();
  assert.is(JSON.parse(ok(await d('inspect', 'rnd')))[0].NetworkSettings.Ports['8080/tcp'][0].HostPort, String(hp));
  assert.is((await get(hp)).body, 'hello-random\n');
  ok(await d('rm', '-f', 'rnd'));
});

t('~> testcontainers 11: withExposedPorts(8080), getMappedPort, an HTTP wait strategy and a GET', async () => {
  process.env.DOCKER_HOST = env().api.dockerHost;
  process.env.TESTCONTAINERS_RYUK_DISABLED = 'true';
  const { GenericContainer, Wait } = await import('testcontainers');
  const c = await new GenericContainer('busybox')
    .withCommand(httpd('hello-tc').slice(1))
    .withExposedPorts(8080)
    .withWaitStrategy(Wait.forHttp('/', 8080))
    .start();
  try {
    const port = c.getMappedPort(8080);
    // localhost, or inside a container (/.dockerenv) the bridge network's gateway, which is bound too.
    const gateway = JSON.parse(ok(await d('network', 'inspect', 'bridge')))[0].IPAM.Config[0].Gateway;
    assert.ok(['localhost', gateway].includes(c.getHost()), c.getHost());
    assert.is((await get(port, c.getHost())).body, 'hello-tc\n');
  } finally {
    await c.stop();
  }
});

t('~> testcontainers 11: a Network with an alias; a second container reaches the first by the alias', async () => {
  process.env.DOCKER_HOST = env().api.dockerHost;
  process.env.TESTCONTAINERS_RYUK_DISABLED = 'true';
  const { GenericContainer, Network } = await import('testcontainers');
  const network = await new Network().start();
  const web = await new GenericContainer('busybox')
    .withCommand(httpd('hello-alias').slice(1))
    .withNetwork(network)
    .withNetworkAliases('tcweb')
    .start();
  const client = await new GenericContainer('busybox').withCommand(['sleep', '300']).withNetwork(network).start();
  try {
    const r = await client.exec([
      'sh',
      '-c',
      'for i in $(seq 100); do wget -qO- http://tcweb:8080/ && exit 0; sleep 0.1; done; exit 1',
    ]);
    assert.equal([r.exitCode, r.output], [0, 'hello-alias\n']);
    assert.is(client.getNetworkNames().includes(network.getName()), true);
  } finally {
    await client.stop({ timeout: 0 });
    await web.stop({ timeout: 0 });
    await network.stop();
  }
});

test.run();
