/**
 * @module operator/server
 * The operator's HTTP(S) endpoints: /healthz (the process answers), /readyz (caches synced and the
 * startup sweep done), /metrics (Prometheus text), POST /v1/credentials (the broker). Small enough
 * for node:http; bodies are not read (the credential request carries only its Authorization).
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../log.js';
import type { CredentialBroker } from './broker.js';
import type { Metrics } from './metrics.js';

export interface OperatorServer {
  server: Server;
  port: number;
  close(): Promise<void>;
}

/** `tls`: serve HTTPS (the broker hands out tokens: use it unless a mesh encrypts the hop). */
export async function serveOperator(
  host: string,
  port: number,
  parts: { broker: CredentialBroker; metrics: Metrics; ready: () => boolean },
  log: Logger,
  tls?: { certFile: string; keyFile: string },
): Promise<OperatorServer> {
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      const text = typeof body === 'string' ? body : JSON.stringify(body) + '\n';
      res.writeHead(status, {
        'content-type': typeof body === 'string' ? 'text/plain; version=0.0.4' : 'application/json',
        ...headers,
      });
      res.end(text);
    };
    req.resume();
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/healthz') return send(200, 'ok\n');
    if (req.method === 'GET' && path === '/readyz') return parts.ready() ? send(200, 'ok\n') : send(503, 'not ready\n');
    if (req.method === 'GET' && path === '/metrics') return send(200, parts.metrics.text());
    if (req.method === 'POST' && path === '/v1/credentials') {
      const auth = req.headers.authorization ?? '';
      const token = /^Bearer\s+(\S+)$/i.exec(auth)?.[1];
      parts.broker
        .issue(token)
        .then((a) => send(a.status, a.body, a.retryAfterSeconds ? { 'retry-after': String(a.retryAfterSeconds) } : {}))
        .catch((err: Error) => {
          log.warn({ err: err.message }, 'credential request failed');
          send(500, { message: `the operator could not issue credentials: ${err.message}` });
        });
      return;
    }
    send(404, { message: 'page not found' });
  };
  const server: Server = tls
    ? createTlsServer({ cert: readFileSync(tls.certFile), key: readFileSync(tls.keyFile) }, handler)
    : createServer(handler);
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, host, resolve));
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
