/**
 * watchPodUntil against a scripted apiserver: the Pod read answers the test's current Pod, and each
 * watch request is answered by the next script of raw watch-event bytes (events split across
 * chunks, several in one chunk, a stream that ends early, a 410 Gone ERROR event, a deletion).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import http from 'node:http';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { loadKubeTarget, KubeClient } from '../../src/kube/index.js';
import { watchPodUntil } from '../../src/kube/pod-watch.js';

type Pod = { metadata: { name: string; resourceVersion: string }; status: { phase: string } };
type Script = (res: http.ServerResponse) => Promise<void>;

const pod = (rv: number, phase: string): Pod => ({
  metadata: { name: 'p', resourceVersion: String(rv) },
  status: { phase },
});
const line = (type: string, object: unknown) => JSON.stringify({ type, object }) + '\n';
const verdict = (p: Pod) => (p.status.phase === 'Running' ? 'running' : undefined);
/** Let a written chunk leave as its own TCP write before the next one. */
const tick = () => new Promise((r) => setTimeout(r, 20));

let server: http.Server;
let client: KubeClient;
let current: Pod;
let scripts: Script[] = [];
let reads = 0;
let watchQueries: URLSearchParams[] = [];
let watchClosed: Promise<unknown>[] = [];

test.before(async () => {
  server = http.createServer((req, res) => {
    const u = new URL(req.url!, 'http://x');
    if (u.pathname === '/api/v1/namespaces/ns/pods/p' && !u.searchParams.get('watch')) {
      reads++;
      res.writeHead(200, { 'Content-Type': 'application/json' });
      return res.end(JSON.stringify(current));
    }
    if (u.pathname === '/api/v1/namespaces/ns/pods' && u.searchParams.get('watch')) {
      watchQueries.push(u.searchParams);
      watchClosed.push(once(res, 'close'));
      res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
      res.flushHeaders();
      const script = scripts.shift();
      // No script left: stay open until the server's timeoutSeconds, as the apiserver does.
      if (!script) {
        const t = setTimeout(() => res.end(), Number(u.searchParams.get('timeoutSeconds')) * 1000);
        res.on('close', () => clearTimeout(t));
        return;
      }
      void script(res);
      return;
    }
    res.writeHead(404).end();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const cfg = join(mkdtempSync(join(tmpdir(), 'pod-watch-')), 'config');
  writeFileSync(
    cfg,
    [
      'apiVersion: v1',
      'kind: Config',
      `clusters: [{ name: c, cluster: { server: "${url}" } }]`,
      'users: [{ name: u, user: { token: t } }]',
      'contexts: [{ name: c, context: { cluster: c, user: u, namespace: ns } }]',
      'current-context: c',
      '',
    ].join('\n'),
  );
  client = new KubeClient(loadKubeTarget({ kubeconfig: cfg }));
});
test.after(async () => {
  client.close();
  server.closeAllConnections();
  server.close();
});
test.before.each(() => {
  scripts = [];
  reads = 0;
  watchQueries = [];
  watchClosed = [];
});

test('~> an event split across chunks is read whole; the watch starts at the read and is closed after', async () => {
  current = pod(10, 'Pending');
  scripts.push(async (res) => {
    const ev = line('MODIFIED', pod(11, 'Running'));
    res.write(ev.slice(0, 17));
    await tick();
    res.write(ev.slice(17, 40));
    await tick();
    res.write(ev.slice(40));
  });
  const r = await watchPodUntil(client, 'ns', 'p', verdict, 30_000);
  assert.equal(r, { kind: 'verdict', verdict: 'running' });
  assert.is(reads, 1);
  assert.is(watchQueries[0]!.get('fieldSelector'), 'metadata.name=p');
  assert.is(watchQueries[0]!.get('resourceVersion'), '10');
  await watchClosed[0]; // aborted by the helper: the server sees the connection go
});

test('~> events coalesced in one chunk are each judged; a bookmark is passed over', async () => {
  current = pod(10, 'Pending');
  scripts.push(async (res) => {
    res.write(
      line('BOOKMARK', { metadata: { resourceVersion: '11' } }) +
        line('MODIFIED', pod(12, 'Pending')) +
        line('MODIFIED', pod(13, 'Running')),
    );
  });
  const seen: string[] = [];
  const r = await watchPodUntil(
    client,
    'ns',
    'p',
    (p: Pod) => (seen.push(p.metadata.resourceVersion), verdict(p)),
    30_000,
  );
  assert.equal(r, { kind: 'verdict', verdict: 'running' });
  assert.equal(seen, ['10', '12', '13']);
});

test('~> a watch that ends early is followed by a fresh read and a watch from its resourceVersion', async () => {
  current = pod(10, 'Pending');
  scripts.push(async (res) => {
    res.write(line('MODIFIED', pod(11, 'Pending')));
    await tick();
    current = pod(12, 'Pending');
    res.end();
  });
  scripts.push(async (res) => {
    res.write(line('MODIFIED', pod(13, 'Running')));
  });
  const r = await watchPodUntil(client, 'ns', 'p', verdict, 30_000);
  assert.equal(r, { kind: 'verdict', verdict: 'running' });
  assert.is(reads, 2);
  assert.equal(
    watchQueries.map((q) => q.get('resourceVersion')),
    ['10', '12'],
  );
});

test('~> a 410 Gone ERROR event: read again, and the read can carry the verdict itself', async () => {
  current = pod(10, 'Pending');
  scripts.push(async (res) => {
    current = pod(20, 'Running');
    res.write(line('ERROR', { kind: 'Status', status: 'Failure', code: 410, reason: 'Expired', message: 'too old' }));
  });
  const r = await watchPodUntil(client, 'ns', 'p', verdict, 30_000);
  assert.equal(r, { kind: 'verdict', verdict: 'running' });
  assert.is(reads, 2);
  assert.is(watchQueries.length, 1);
});

test('~> DELETED ends the wait as deleted', async () => {
  current = pod(10, 'Pending');
  scripts.push(async (res) => {
    res.write(line('DELETED', pod(11, 'Pending')));
  });
  const r = await watchPodUntil(client, 'ns', 'p', verdict, 30_000);
  assert.equal(r, { kind: 'deleted' });
  await watchClosed[0];
});

test('~> the deadline: no watch when it has passed at the read; else the read after the watch times out', async () => {
  current = pod(10, 'Pending');
  assert.equal(await watchPodUntil(client, 'ns', 'p', verdict, 0), { kind: 'timeout' });
  assert.is(watchQueries.length, 0);
  // No script: the watch stays open until its timeoutSeconds (at least 1), then the read finds the deadline gone.
  assert.equal(await watchPodUntil(client, 'ns', 'p', verdict, 50), { kind: 'timeout' });
  assert.is(watchQueries[0]!.get('timeoutSeconds'), '1');
  assert.is(reads, 3);
});

test.run();
