/**
 * src/kube/secure-context.ts: one TLS context per set of connection options, and the apiserver
 * client's connections share it. Against a local HTTPS server (a throwaway certificate from
 * openssl) that answers every GET with a body it holds open: three pods/log-like streams at once
 * are three connections, verified against the kubeconfig's CA, and none of them builds a context
 * of its own (Node's TLS layer calls tls.createSecureContext for a connection given ca/cert/key).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import https from 'node:https';
import tls from 'node:tls';
import type { IncomingMessage } from 'node:http';
import { secureContextOf } from '../../src/kube/secure-context.js';
import { KubeClient, loadKubeTarget } from '../../src/kube/index.js';
import { selfSignedCert } from '../helpers/tls-cert.js';

const dir = mkdtempSync(join(tmpdir(), 'secure-context-'));
const { cert, key } = selfSignedCert('DNS:localhost,IP:127.0.0.1');

test('the same options give the same context; other options another', () => {
  const a = { ca: cert };
  assert.is(secureContextOf(a), secureContextOf(a));
  assert.is.not(secureContextOf(a), secureContextOf({ ca: cert }));
});

test('streams to the apiserver are separate connections on one shared TLS context', async () => {
  const sockets = new Set<unknown>();
  const held: import('node:http').ServerResponse[] = [];
  const server = https.createServer({ cert, key }, (req, res) => {
    sockets.add(req.socket);
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.write(`stream ${req.url}\n`);
    held.push(res);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  const cfg = join(dir, 'kubeconfig');
  // A kubeconfig is YAML, and JSON is YAML.
  writeFileSync(
    cfg,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        {
          name: 'c',
          cluster: { server: `https://127.0.0.1:${port}`, 'certificate-authority-data': cert.toString('base64') },
        },
      ],
      users: [{ name: 'u', user: { token: 't' } }],
      contexts: [{ name: 'x', context: { cluster: 'c', user: 'u', namespace: 'ns' } }],
      'current-context': 'x',
    }),
  );
  const created: unknown[] = [];
  const original = tls.createSecureContext;
  tls.createSecureContext = (o) => {
    created.push(o);
    return original(o);
  };
  const client = new KubeClient(loadKubeTarget({ kubeconfig: cfg }));
  const streams: IncomingMessage[] = [];
  try {
    for (const name of ['a', 'b', 'c'])
      streams.push(await client.openStream(`/api/v1/namespaces/ns/pods/${name}/log`, { follow: true }));
    const first = await Promise.all(streams.map(async (s) => String((await once(s, 'data'))[0])));
    assert.equal(
      first,
      ['a', 'b', 'c'].map((n) => `stream /api/v1/namespaces/ns/pods/${n}/log?follow=true\n`),
    );
    assert.is(sockets.size, 3, 'one connection per open stream');
    assert.equal(created, [], 'no connection built a TLS context of its own');
  } finally {
    tls.createSecureContext = original;
    for (const s of streams) s.destroy();
    for (const r of held) r.destroy();
    client.close();
    server.closeAllConnections();
    server.close();
  }
});

test.run();
