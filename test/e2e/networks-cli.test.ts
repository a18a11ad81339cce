/**
 * Docker networks with real clients (the docker CLI, docker-compose 1.29, docker compose v2) against kuber-api on
 * kube-sim: network create/ls/inspect/rm/connect/disconnect/prune with dockerd's status codes and
 * messages, containers reaching each other by name, alias and compose service name (kuber-api's
 * embedded DNS, engine/dns), and networks surviving a restart.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import http from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kubectl } from '../helpers/sim.js';
import { cliSuite } from '../helpers/streams-env.js';
import { httpRequest } from '../helpers/raw-client.js';
import { ok, until } from './containers-cases.js';
import { compose as runCompose, composeTools, type ComposeTool } from '../helpers/compose.js';

const { available, t, d, env, sim } = cliSuite('docker CLI network tests', { timeoutMs: 60_000 });
const api = async (method: string, path: string, body?: unknown) => {
  const r = await httpRequest(
    { path: env().api.socketPath },
    method,
    `/v1.51${path}`,
    body === undefined ? {} : { headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) },
  );
  return { status: r.status, json: r.body.length ? JSON.parse(r.body.toString()) : undefined };
};
/** A web server answering `text` on port 8080 (busybox httpd). */
const httpd = (text: string) => [
  'busybox',
  'sh',
  '-c',
  `mkdir -p /www && echo ${text} > /www/index.html && exec httpd -f -p 8080 -h /www`,
];
/** A client that fetches http://<host>:8080/ (retrying while names and the server come up, as a dependent service would). */
const fetchCmd = (host: string) => [
  'sh',
  '-c',
  `for i in $(seq 100); do wget -qO- http://${host}:8080/ && exit 0; sleep 0.1; done; exit 1`,
];

t(
  '~> network create/ls/inspect/rm with dockerd statuses: 201, 409 duplicate, 404 unknown, 403 predefined',
  async () => {
    const since = Math.floor(Date.now() / 1000);
    const id = ok(await d('network', 'create', '--label', 'team=a', 'n-basic'));
    assert.match(id, /^[0-9a-f]{64}$/);
    const dup = await d('network', 'create', 'n-basic');
    assert.is(dup.code, 1);
    assert.match(dup.stderr, /network with name n-basic already exists/);
    assert.is((await api('POST', '/networks/create', { Name: 'n-basic' })).status, 409);
    const ls = ok(await d('network', 'ls', '--format', '{{.Name}} {{.Driver}} {{.Scope}}'));
    for (const l of ['bridge bridge local', 'host host local', 'none null local', 'n-basic bridge local'])
      assert.ok(ls.split('\n').includes(l), ls);
    assert.is(ok(await d('network', 'ls', '-q', '--no-trunc', '--filter', 'label=team=a')), id);
    const j = JSON.parse(ok(await d('network', 'inspect', 'n-basic')))[0];
    assert.equal(
      [j.Id, j.Name, j.Driver, j.Scope, j.Labels, j.Containers],
      [id, 'n-basic', 'bridge', 'local', { team: 'a' }, {}],
    );
    assert.is(JSON.parse(ok(await d('network', 'inspect', id.slice(0, 12))))[0].Id, id);
    const missing = await api('GET', '/networks/nope');
    assert.equal([missing.status, missing.json.message], [404, 'network nope not found']);
    assert.match((await d('network', 'inspect', 'nope')).stderr, /network nope not found/);
    const rmBridge = await api('DELETE', '/networks/bridge');
    assert.equal(
      [rmBridge.status, rmBridge.json.message],
      [403, 'bridge is a pre-defined network and cannot be removed'],
    );
    assert.match((await d('network', 'rm', 'bridge')).stderr, /bridge is a pre-defined network and cannot be removed/);
    const createBridge = await api('POST', '/networks/create', { Name: 'host' });
    assert.is(createBridge.status, 403);
    const macvlan = await api('POST', '/networks/create', { Name: 'mv', Driver: 'macvlan' });
    assert.is(macvlan.status, 501);
    assert.match(macvlan.json.message, /network driver "macvlan" is not supported by kuber-api/);
    const host = await d('run', '--rm', '--network', 'host', 'busybox', 'true');
    assert.is.not(host.code, 0);
    assert.match(host.stderr, /network mode "host" is not supported by kuber-api/);
    assert.match((await d('run', '--rm', '--network', 'nope', 'busybox', 'true')).stderr, /network nope not found/);
    assert.is(ok(await d('network', 'rm', 'n-basic')), 'n-basic');
    assert.match((await d('network', 'rm', 'n-basic')).stderr, /network n-basic not found/);
    const ev = ok(
      await d(
        'events',
        '--since',
        String(since),
        '--until',
        String(Math.floor(Date.now() / 1000) + 1),
        '--filter',
        'type=network',
        '--filter',
        'network=n-basic',
        '--format',
        '{{.Action}} {{.Actor.Attributes.name}}',
      ),
    );
    assert.equal(ev.split('\n'), ['create n-basic', 'destroy n-basic']);
  },
);

t(
  '~> containers on a user network reach each other by name and alias; connect/disconnect/inspect; survives a restart',
  async () => {
    ok(await d('network', 'create', 'n-app'));
    const web = ok(
      await d('run', '-d', '--network', 'n-app', '--name', 'web', '--network-alias', 'www', ...httpd('hello-web')),
    );
    assert.is(ok(await d('run', '--rm', '--network', 'n-app', 'busybox', ...fetchCmd('web'))), 'hello-web');
    assert.is(ok(await d('run', '--rm', '--network', 'n-app', 'busybox', ...fetchCmd('www'))), 'hello-web');
    // The network shows its running container; the container its network, aliases and DNS names.
    const n = JSON.parse(ok(await d('network', 'inspect', 'n-app')))[0];
    assert.equal(Object.keys(n.Containers), [web]);
    assert.is(n.Containers[web].Name, 'web');
    assert.match(n.Containers[web].IPv4Address, /^\d+\.\d+\.\d+\.\d+\/32$/);
    const c = JSON.parse(ok(await d('inspect', 'web')))[0];
    assert.equal(Object.keys(c.NetworkSettings.Networks), ['n-app']);
    assert.equal(c.NetworkSettings.Networks['n-app'].DNSNames, ['web', 'www', web.slice(0, 12)]);
    assert.is(c.NetworkSettings.Networks['n-app'].IPAddress, n.Containers[web].IPv4Address.split('/')[0]);
    assert.is(ok(await d('ps', '--filter', 'network=n-app', '--format', '{{.Names}}')), 'web');
    // A live connect with an alias: the running container answers to it from the other network's peers.
    ok(await d('network', 'create', 'n-other'));
    ok(await d('network', 'connect', '--alias', 'api', 'n-other', 'web'));
    assert.is(ok(await d('run', '--rm', '--network', 'n-other', 'busybox', ...fetchCmd('api'))), 'hello-web');
    assert.equal(Object.keys(JSON.parse(ok(await d('inspect', 'web')))[0].NetworkSettings.Networks), [
      'n-app',
      'n-other',
    ]);
    const again = await api('POST', '/networks/n-other/connect', { Container: 'web' });
    assert.equal([again.status, again.json.message], [403, 'endpoint with name web already exists in network n-other']);
    ok(await d('network', 'disconnect', 'n-other', 'web'));
    assert.equal(Object.keys(JSON.parse(ok(await d('inspect', 'web')))[0].NetworkSettings.Networks), ['n-app']);
    // A network in use cannot be removed.
    const busy = await d('network', 'rm', 'n-app');
    assert.match(busy.stderr, /network n-app id [0-9a-f]{64} has active endpoints/);
    // Kubernetes side: the names are kuber-api's embedded DNS (the Pod's one nameserver, the cluster's
    // search list kept), not Services (those are the fallback: test/e2e/dns.test.ts).
    const pods = JSON.parse(
      (
        await kubectl('1.33', ['get', 'pods', '-l', `kuber-api.io/instance=${env().api.instanceId}`, '-o', 'json'], {
          kubeconfig: sim().kubeconfigPath,
        })
      ).stdout,
    );
    const webPod = pods.items.find(
      (p: { metadata: { labels: Record<string, string> } }) =>
        p.metadata.labels['kuber-api.io/container'] === web.slice(0, 12),
    );
    assert.is(webPod.spec.dnsPolicy, 'None');
    assert.is(webPod.spec.dnsConfig.nameservers.length, 1);
    assert.ok(
      webPod.spec.dnsConfig.searches.includes('default.svc.cluster.local'),
      JSON.stringify(webPod.spec.dnsConfig),
    );
    assert.is(
      (
        await kubectl('1.33', ['get', 'service', 'www', '-o', 'name'], { kubeconfig: sim().kubeconfigPath })
      ).stdout.trim(),
      '',
    );
    // State lives in Kubernetes: after a restart the network, the membership and the names are back.
    await env().api.restart();
    assert.is(JSON.parse(ok(await d('network', 'inspect', 'n-app')))[0].Containers[web].Name, 'web');
    assert.is(ok(await d('run', '--rm', '--network', 'n-app', 'busybox', ...fetchCmd('www'))), 'hello-web');
    ok(await d('rm', '-f', 'web'));
    ok(await d('network', 'rm', 'n-app'));
    // prune removes unused custom networks only.
    const pruned = ok(await d('network', 'prune', '-f'));
    assert.match(pruned, /n-other/);
    assert.not.match(ok(await d('network', 'ls', '--format', '{{.Name}}')), /n-other/);
    // The Services went with the containers and networks (--rm clients are removed asynchronously).
    await until(
      async () =>
        (
          await kubectl(
            '1.33',
            ['get', 'services', '-l', `kuber-api.io/instance=${env().api.instanceId}`, '-o', 'name'],
            {
              kubeconfig: sim().kubeconfigPath,
            },
          )
        ).stdout.trim() === ''
          ? true
          : undefined,
      20_000,
      'no Services left',
    );
  },
);

const httpGet = (port: number) =>
  new Promise<string>((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve(body));
      })
      .on('error', reject);
  });

const composeClients = available ? composeTools('the compose network test') : [];

for (const tool of composeClients)
  test(`~> ${tool.label}: a client service reaches the web service by its service name; down removes containers and network`, () =>
    composeScenario(tool, `proj${tool.argv.length}`));

async function composeScenario(tool: ComposeTool, proj: string): Promise<void> {
  const compose = (dir: string, args: string[]) => runCompose(tool, env().api.dockerHost, dir, args, 120_000);
  const dir = mkdtempSync(join(tmpdir(), 'kapi-compose-'));
  writeFileSync(
    join(dir, 'docker-compose.yml'),
    [
      "version: '3.8'",
      'services:',
      '  web:',
      '    image: busybox',
      `    command: ${JSON.stringify(httpd('hello-compose').slice(1))}`,
      "    ports: ['8080']",
      '  client:',
      '    image: busybox',
      '    depends_on: [web]',
      // Compose interpolates $VAR: a literal $ is $$.
      `    command: ${JSON.stringify(fetchCmd('web')).replace(/\$/g, '$$$$')}`,
      '',
    ].join('\n'),
  );
  const up = await compose(dir, ['-p', proj, 'up', '-d']);
  assert.is(up.code, 0, up.stderr);
  assert.is(ok(await d('wait', tool.container(proj, 'client'))), '0');
  assert.is(ok(await d('logs', tool.container(proj, 'client'))), 'hello-compose');
  assert.match(ok(await d('network', 'ls', '--format', '{{.Name}}')), new RegExp(`^${proj}_default$`, 'm'));
  // The published port (kuber-api's default --port-mode auto: direct to the pod IP here).
  const port = await compose(dir, ['-p', proj, 'port', 'web', '8080']);
  assert.is(port.code, 0, port.stderr);
  const hp = Number(port.stdout.trim().split(':').pop());
  assert.is(await httpGet(hp), 'hello-compose\n');
  const down = await compose(dir, ['-p', proj, 'down']);
  assert.is(down.code, 0, down.stderr);
  assert.match(down.stderr, `${proj}_default`);
  assert.is(ok(await d('ps', '-a', '--filter', `label=com.docker.compose.project=${proj}`, '-q')), '');
  assert.not.match(ok(await d('network', 'ls', '--format', '{{.Name}}')), `${proj}_default`);
}

test.run();
