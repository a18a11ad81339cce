/**
 * Docker networks really isolated on kube-sim: kuber-api with `--network-policies true` makes one
 * NetworkPolicy per Docker network, and kube-sim enforces them (src/sim/network-policy). With the
 * docker CLI: a container on network n1 serves TCP 8080 (busybox `nc -ll -e`; busybox's `wget -T` segfaults on Debian 12); a client on n1 reaches it, a client on n2 does
 * not (by IP: names do not resolve across networks either); `docker network connect n2 web` lets
 * n2's clients in, `disconnect` shuts them out again, as dockerd's bridge isolation does; an
 * `--internal` network's containers reach each other but not the node (egress policy), as on dockerd.
 * Needs the docker CLI, root and nft (skipped otherwise).
 */
import { execFileSync } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { GATEWAY } from '../../src/sim/kubelet/netns.js';
import { spawnSim, type SpawnedSim } from '../helpers/sim.js';
import { startKuber, type Kuber } from '../helpers/kuber.js';
import { docker, dockerAvailable } from '../helpers/docker-cli.js';
import { ok, until } from './containers-cases.js';

let sim: SpawnedSim;
let kuber: Kuber;
/** A TCP server on the node (this process) answering `node`. */
let nodeServer: Server | undefined;
const hasNft = (() => {
  try {
    execFileSync('nft', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
const why = !dockerAvailable()
  ? 'no `docker` on PATH'
  : process.getuid?.() !== 0
    ? 'not root'
    : !hasNft
      ? 'no nft on PATH'
      : '';
if (why) console.log(`SKIP network isolation tests: ${why}`);
const t = why ? test.skip : test;

test.before(async () => {
  if (why) return;
  sim = await spawnSim();
  kuber = await startKuber({ kubeconfig: sim.kubeconfigPath, args: ['--network-policies', 'true'] });
});
test.after(async () => {
  nodeServer?.close();
  await kuber?.stop();
  await sim?.stop();
});

const d = (...args: string[]) => docker(kuber.dockerHost, args, { timeoutMs: 60_000 });
/** One connection from a new container on `net`: what the server says, or `blocked` when no connection is made within 3 s. */
const probe = async (net: string, addr: string) =>
  ok(
    await d('run', '--rm', '--network', net, 'busybox', 'sh', '-c', `nc -w 3 ${addr} 8080 2>/dev/null || echo blocked`),
  );
/** A client on `net` that retries (after `network connect`, the membership reaches the rules a moment later). */
const fetchRetrying = async (net: string, addr: string) =>
  ok(
    await d(
      'run',
      '--rm',
      '--network',
      net,
      'busybox',
      'sh',
      '-c',
      `for i in $(seq 30); do nc -w 1 ${addr} 8080 2>/dev/null && exit 0; sleep 0.2; done; echo blocked`,
    ),
  );

t(
  '~> two networks: a container reaches one on its own network, not one on another; connect/disconnect opens and closes it',
  async () => {
    ok(await d('network', 'create', 'iso-1'));
    ok(await d('network', 'create', 'iso-2'));
    ok(
      await d(
        'run',
        '-d',
        '--network',
        'iso-1',
        '--name',
        'iso-web',
        'busybox',
        'sh',
        '-c',
        'exec nc -ll -p 8080 -e echo iso-web',
      ),
    );
    const ip = await until(
      async () =>
        ok(await d('inspect', '-f', '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', 'iso-web')) ||
        undefined,
      30_000,
      'iso-web has an IP',
    );
    assert.is(await probe('iso-1', ip), 'iso-web', 'same network: reachable at the first try');
    assert.is(await probe('iso-2', ip), 'blocked', 'other network: isolated');
    ok(await d('network', 'connect', 'iso-2', 'iso-web'));
    assert.is(await fetchRetrying('iso-2', ip), 'iso-web', 'after connect: reachable from iso-2');
    ok(await d('network', 'disconnect', 'iso-2', 'iso-web'));
    await until(
      async () => ((await probe('iso-2', ip)) === 'blocked' ? true : undefined),
      30_000,
      'isolated again after disconnect',
    );
    ok(await d('rm', '-f', 'iso-web'));
    ok(await d('network', 'rm', 'iso-1', 'iso-2'));
  },
);

t(
  '~> an --internal network: its containers reach each other but not the node; a normal network reaches the node',
  async () => {
    nodeServer = createServer((c) => c.end('node\n'));
    await new Promise<void>((r) => nodeServer!.listen(0, '0.0.0.0', r));
    const port = (nodeServer.address() as { port: number }).port;
    ok(await d('network', 'create', '--internal', 'iso-int'));
    ok(await d('network', 'create', 'iso-ext'));
    const toNode = async (net: string) =>
      ok(
        await d(
          'run',
          '--rm',
          '--network',
          net,
          'busybox',
          'sh',
          '-c',
          `nc -w 3 ${GATEWAY} ${port} 2>/dev/null || echo blocked`,
        ),
      );
    assert.is(await toNode('iso-ext'), 'node', 'a normal network reaches the node');
    assert.is(await toNode('iso-int'), 'blocked', 'an internal network does not');
    ok(
      await d(
        'run',
        '-d',
        '--network',
        'iso-int',
        '--name',
        'iso-db',
        'busybox',
        'nc',
        '-ll',
        '-p',
        '8080',
        '-e',
        'echo',
        'iso-db',
      ),
    );
    const ip = await until(
      async () =>
        ok(await d('inspect', '-f', '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', 'iso-db')) || undefined,
      30_000,
      'iso-db has an IP',
    );
    assert.is(await probe('iso-int', ip), 'iso-db', 'members of the internal network reach each other');
    ok(await d('rm', '-f', 'iso-db'));
    ok(await d('network', 'rm', 'iso-int', 'iso-ext'));
  },
);

test.run();
