/**
 * The apiserver's hand-over of streaming subresources to the kubelet (KubeletStreams): auth
 * (header or the WebSocket bearer subprotocol, stripped before the kubelet sees the request),
 * pod lookup with a 404 Status written on the raw socket for upgrades, and plain GET/POST routing.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { connect } from 'node:net';
import type { Duplex } from 'node:stream';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FaultRegistry } from '../../src/sim/faults.js';
import { ApiServer } from '../../src/sim/apiserver/server.js';
import { Lifecycle } from '../../src/sim/store/lifecycle.js';
import { defOf } from '../../src/sim/store/resources.js';
import { Store } from '../../src/sim/store/store.js';
import type { KObject, KubeletStreams } from '../../src/sim/types.js';
import { call, pod, tick } from './client.js';

const calls: Array<{ kind: string; pod: string; protocol?: string; url?: string }> = [];
const kubelet: KubeletStreams = {
  handleUpgrade(kind, req: IncomingMessage, socket: Duplex, _head: Buffer, p: KObject) {
    calls.push({
      kind,
      pod: p.metadata.name!,
      protocol: req.headers['sec-websocket-protocol'] as string | undefined,
      url: req.url,
    });
    socket.end('HTTP/1.1 418 Teapot\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
  },
  handlePlain(kind, _req, res: ServerResponse, p) {
    calls.push({ kind: `plain-${kind}`, pod: p.metadata.name! });
    res.writeHead(400, { 'content-type': 'application/json' }).end('{}');
  },
  handleLog(_req, res: ServerResponse, p) {
    calls.push({ kind: 'log', pod: p.metadata.name! });
    res.writeHead(200, { 'content-type': 'text/plain' }).end('log of ' + p.metadata.name);
  },
};

let api: ApiServer;
let port: number;
const TOKEN = 'tok-123';
test.before(async () => {
  const store = new Store();
  const lc = new Lifecycle(store);
  store.create(defOf({ group: '', resource: 'namespaces' }), undefined, { metadata: { name: 'default' } });
  await tick();
  store.create(defOf({ group: '', resource: 'pods' }), 'default', pod('p'));
  api = new ApiServer(store, lc, kubelet, new FaultRegistry(), {
    host: '127.0.0.1',
    port: 0,
    token: TOKEN,
    bookmarkIntervalMs: 60_000,
    minRequestTimeoutSeconds: 1800,
    maxWatchBufferBytes: 1 << 20,
  });
  port = await api.listen();
});
test.after(async () => {
  await api.close();
});

/** Send a raw upgrade request; resolve with everything the server wrote before closing. */
function rawUpgrade(path: string, headers: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    let out = '';
    s.on('data', (d) => (out += d));
    s.on('end', () => resolve(out));
    s.on('error', reject);
    const h = {
      Host: `127.0.0.1:${port}`,
      Connection: 'Upgrade',
      Upgrade: 'websocket',
      'Sec-WebSocket-Version': '13',
      'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
      ...headers,
    };
    s.write(
      `GET ${path} HTTP/1.1\r\n${Object.entries(h)
        .map(([k, v]) => `${k}: ${v}`)
        .join('\r\n')}\r\n\r\n`,
    );
  });
}

const sim = () => ({ url: `http://127.0.0.1:${port}`, token: TOKEN });

test('~> exec upgrade with the bearer subprotocol: authenticated, protocol stripped, handed to the kubelet', async () => {
  calls.length = 0;
  const tok = Buffer.from(TOKEN).toString('base64url');
  const out = await rawUpgrade('/api/v1/namespaces/default/pods/p/exec?command=ls&stdout=true', {
    'Sec-WebSocket-Protocol': `base64url.bearer.authorization.k8s.io.${tok}, v5.channel.k8s.io, v4.channel.k8s.io`,
  });
  assert.match(out, /^HTTP\/1\.1 418/);
  assert.equal(calls, [
    {
      kind: 'exec',
      pod: 'p',
      protocol: 'v5.channel.k8s.io, v4.channel.k8s.io',
      url: '/api/v1/namespaces/default/pods/p/exec?command=ls&stdout=true',
    },
  ]);
});

test('~> upgrade errors are Status responses on the raw socket: 401, 404 pod, 400 non-stream path', async () => {
  calls.length = 0;
  const unauth = await rawUpgrade('/api/v1/namespaces/default/pods/p/attach', { Authorization: 'Bearer wrong' });
  assert.match(unauth, /^HTTP\/1\.1 401 Unauthorized/);
  const missing = await rawUpgrade('/api/v1/namespaces/default/pods/nope/portforward?ports=80', {
    Authorization: `Bearer ${TOKEN}`,
  });
  assert.match(missing, /^HTTP\/1\.1 404 Not Found/);
  const body = JSON.parse(missing.slice(missing.indexOf('\r\n\r\n') + 4));
  assert.equal([body.kind, body.reason, body.message, body.code], ['Status', 'NotFound', 'pods "nope" not found', 404]);
  const other = await rawUpgrade('/api/v1/namespaces/default/pods', { Authorization: `Bearer ${TOKEN}` });
  assert.match(other, /^HTTP\/1\.1 400/);
  const spdy = await rawUpgrade('/api/v1/namespaces/default/pods/p/exec?command=ls', {
    Authorization: `Bearer ${TOKEN}`,
    Upgrade: 'SPDY/3.1',
    'X-Stream-Protocol-Version': 'v4.channel.k8s.io',
  });
  assert.match(spdy, /^HTTP\/1\.1 418/, 'SPDY upgrades reach the kubelet too (it refuses them with a Status)');
  assert.equal(
    calls.map((c) => c.kind),
    ['exec'],
  );
});

test('~> pods/log and non-upgrade exec reach the kubelet after the pod lookup', async () => {
  calls.length = 0;
  const log = await call(sim(), 'GET', '/api/v1/namespaces/default/pods/p/log?follow=true');
  assert.is(log.status, 200);
  assert.is(log.text, 'log of p');
  const nf = await call(sim(), 'GET', '/api/v1/namespaces/default/pods/x/log');
  assert.is(nf.status, 404);
  assert.is(nf.json.message, 'pods "x" not found');
  const plain = await call(sim(), 'POST', '/api/v1/namespaces/default/pods/p/exec?command=ls');
  assert.is(plain.status, 400);
  const put = await call(sim(), 'PUT', '/api/v1/namespaces/default/pods/p/log');
  assert.is(put.status, 405);
  assert.equal(
    calls.map((c) => c.kind),
    ['log', 'plain-exec'],
  );
});

test.run();
