/**
 * @module test/helpers/server
 * Start the real Docker API server (src/main.ts `serve`) for a test, on a temporary unix socket
 * and an ephemeral TCP port, so test files can run in parallel. Logs are silent unless
 * TEST_LOG=<level> is set.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { loadOptions, type Options } from '../../src/config.js';
import { serve, type Running } from '../../src/main.js';
import type { Backend } from '../../src/engine/backend/backend.js';
import { NoClusterBackend } from '../../src/engine/backend/no-cluster.js';
import type { EventsSource } from '../../src/engine/events/types.js';

export interface TestServer {
  running: Running;
  /** unix socket path */
  socketPath: string;
  port: number;
  /** DOCKER_HOST values */
  unixHost: string;
  tcpHost: string;
  options: Options;
  close(graceMs?: number): Promise<void>;
}

export function testLogger() {
  const level = process.env.TEST_LOG;
  return pino({ level: level ?? 'silent', base: { name: 'kuber-api-test' } });
}

export async function startServer(
  overrides: Partial<Options> & { backend?: Backend; events?: EventsSource } = {},
): Promise<TestServer> {
  const dir = mkdtempSync(join(tmpdir(), 'kapi-'));
  const socketPath = join(dir, 'docker.sock');
  const { backend, events, ...rest } = overrides;
  const options = loadOptions([], {}, { hosts: [`unix://${socketPath}`, 'tcp://127.0.0.1:0'], ...rest });
  const running = await serve(options, backend ?? new NoClusterBackend(), {
    log: testLogger(),
    ...(events ? { events } : {}),
  });
  const tcp = running.bound.find((b) => b.address.kind === 'tcp');
  const port = tcp && tcp.address.kind === 'tcp' ? tcp.address.port : 0;
  return {
    running,
    socketPath,
    port,
    unixHost: `unix://${socketPath}`,
    tcpHost: `tcp://127.0.0.1:${port}`,
    options,
    async close(graceMs = 0) {
      await running.close(graceMs);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
