/**
 * @module test/helpers/http
 * A bare src/http server (no Docker routes) with a test handler, on a temp unix socket and an
 * ephemeral TCP port.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Handler, type HttpServer, type ServerOptions } from '../../src/http/index.js';
import { testLogger } from './server.js';

export interface HttpTestServer {
  server: HttpServer;
  port: number;
  socketPath: string;
  tcp: { port: number };
  unix: { path: string };
  close(graceMs?: number): Promise<void>;
}

export const TEST_LIMITS = {
  maxHeaderBytes: 1 << 20,
  maxBodyBytes: 1 << 20,
  headerTimeoutMs: 30_000,
  idleTimeoutMs: 300_000,
  maxConnections: 1000,
};

export async function startHttp(
  handler: Handler,
  limits: Partial<Omit<ServerOptions, 'log'>> = {},
): Promise<HttpTestServer> {
  const dir = mkdtempSync(join(tmpdir(), 'kapi-http-'));
  const socketPath = join(dir, 'h.sock');
  const server = createServer(handler, { ...TEST_LIMITS, ...limits, log: testLogger() });
  const bound = await server.listen([`unix://${socketPath}`, 'tcp://127.0.0.1:0']);
  const a = bound[1]!.address;
  const port = a.kind === 'tcp' ? a.port : 0;
  return {
    server,
    port,
    socketPath,
    tcp: { port },
    unix: { path: socketPath },
    async close(graceMs = 0) {
      await server.close(graceMs);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));
