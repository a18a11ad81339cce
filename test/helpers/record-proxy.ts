/**
 * @module test/helpers/record-proxy
 * A recording proxy on a unix socket: every connection is passed through to `upstream` unchanged
 * (half-closes included) and the bytes the client sent, up to 64 KiB, are kept as one captured
 * connection tagged with the client and the step current when it opened. The seeds of the fuzzers
 * (test/helpers/capture-requests.ts, bench/fuzz.ts).
 */
import net from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Target } from './raw-client.js';

export interface Captured {
  client: string;
  what: string;
  /** base64 of the bytes the client sent */
  bytes: string;
}

export interface RecordingProxy {
  /** DOCKER_HOST of the proxy */
  host: string;
  socketPath: string;
  captured: Captured[];
  /** Tag the connections opened from now on. */
  tag(client: string, what: string): void;
  /** Record the connections still open (keep-alive agents hold theirs), stop listening. */
  close(): Promise<void>;
}

export async function recordingProxy(upstream: Target): Promise<RecordingProxy> {
  const dir = mkdtempSync(join(tmpdir(), 'kapi-capture-'));
  const socketPath = join(dir, 'proxy.sock');
  const captured: Captured[] = [];
  let current = { client: '', what: '' };
  const live = new Map<() => void, net.Socket>();
  const server = net.createServer({ allowHalfOpen: true }, (client) => {
    const chunks: Buffer[] = [];
    const tag = { ...current };
    const up =
      'path' in upstream
        ? net.connect({ path: upstream.path, allowHalfOpen: true })
        : net.connect({ port: upstream.port, host: upstream.host ?? '127.0.0.1', allowHalfOpen: true });
    client.on('data', (d: Buffer) => {
      chunks.push(d);
      up.write(d);
    });
    client.on('end', () => up.end());
    up.on('data', (d) => client.write(d));
    up.on('end', () => client.end());
    let recorded = false;
    const done = () => {
      if (recorded) return;
      recorded = true;
      live.delete(done);
      const bytes = Buffer.concat(chunks).subarray(0, 64 * 1024);
      if (bytes.length) captured.push({ ...tag, bytes: bytes.toString('base64') });
    };
    live.set(done, client);
    client.on('close', done);
    client.on('error', () => up.destroy());
    up.on('error', () => client.destroy());
  });
  await new Promise<void>((r) => server.listen(socketPath, r));
  return {
    host: `unix://${socketPath}`,
    socketPath,
    captured,
    tag(client, what) {
      current = { client, what };
    },
    async close() {
      for (const [done, sock] of [...live]) {
        done();
        sock.destroy();
      }
      await new Promise<void>((r) => server.close(() => r()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
