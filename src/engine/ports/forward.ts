/**
 * @module engine/ports/forward
 * One published-port connection: a client connected to kuber-api's listener, forwarded to the
 * container's port in its Pod, the way dockerd's userland proxy (docker-proxy) forwards to a
 * container: the connection is accepted at once, then the container is dialled.
 *
 * - `direct`: a TCP connection to `podIP:port` (fast: no apiserver in the path; needs kuber-api to
 *   reach pod IPs, as a sidecar in a CI job pod does on most clusters, and as kube-sim allows).
 *   Both directions are piped with backpressure (`pipe()` pauses the source when the destination's
 *   `write()` returns false and resumes it on 'drain') and half-close is preserved: a FIN from
 *   either side is forwarded after the bytes before it (sockets opened with allowHalfOpen).
 * - `portforward`: pods/portforward over WebSocket (`v4.channel.k8s.io`, engine/ports/portforward-session.ts):
 *   data on channel 0, errors on channel 1, each starting with the 2-byte little-endian port. The
 *   protocol has no half-close: a client's FIN cannot be passed on (the session ends when the
 *   container closes its side, or the client closes completely). Backpressure: a full client
 *   pauses the WebSocket (`ws.pause()`), a WebSocket with more than `wsHighWaterMark` buffered
 *   pauses the client.
 * - `auto`: direct, and pods/portforward from the first connection on which a pod IP was
 *   unreachable (timeout, no route) on.
 *
 * While the container is not running yet, or does not listen yet (connection refused), the
 * connection waits and the dial is retried, for at most `dialRetryMs` (the app may still be
 * starting: testcontainers' HTTP wait strategy relies on it); then the client is disconnected.
 * For portforward, the bytes the client sent before the container answered are kept (up to
 * `replayBytes`) and sent again on the retried session.
 */
import net, { type Socket } from 'node:net';
import type { WebSocket } from 'ws';
import type { Logger } from '../../log.js';
import { endThenDestroy, PortForwardSession, type Replay, type SessionEnd } from './portforward-session.js';

export type PortMode = 'direct' | 'portforward' | 'auto';

export interface ForwardOptions {
  mode: PortMode;
  /** How long a connection waits for the container to run and to accept (ms). */
  dialRetryMs: number;
  /** A direct dial that takes longer than this counts as "pod IPs unreachable" in auto mode. */
  connectTimeoutMs: number;
  /** portforward: client bytes kept for a retry until the container's first byte. */
  replayBytes: number;
  /** portforward: pause the client while the WebSocket buffers more than this. */
  wsHighWaterMark: number;
}

/** Where a connection goes: the running Pod of the container (undefined: the container is gone or stopped). */
export interface ForwardTarget {
  ip: string;
  namespace: string;
  pod: string;
}

export interface ForwardDeps {
  /** Wait (at most `timeoutMs`) for the container's Pod to run; undefined when it will not. */
  resolve(timeoutMs: number, signal: AbortSignal): Promise<ForwardTarget | undefined>;
  /** Open pods/portforward for one port; resolves with the WebSocket paused (the forwarder resumes it). */
  portForward(namespace: string, pod: string, port: number): Promise<WebSocket>;
}

const UNREACHABLE = new Set(['ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'ENETDOWN']);
const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });

/** Pipe two sockets both ways with backpressure and half-close; resolves when both are closed. */
export function pipeSockets(a: Socket, b: Socket): Promise<void> {
  return new Promise((resolve) => {
    let closed = 0;
    const onClose = (other: Socket) => () => {
      endThenDestroy(other);
      if (++closed === 2) resolve();
    };
    const kill = () => {
      a.destroy();
      b.destroy();
    };
    a.on('error', kill);
    b.on('error', kill);
    a.once('close', onClose(b));
    b.once('close', onClose(a));
    a.pipe(b);
    b.pipe(a);
    a.resume();
    b.resume();
  });
}

function connectDirect(ip: string, port: number, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: ip, port, allowHalfOpen: true, noDelay: true });
    const t = setTimeout(() => {
      s.destroy();
      reject(Object.assign(new Error(`connect ETIMEDOUT ${ip}:${port}`), { code: 'ETIMEDOUT' }));
    }, timeoutMs);
    s.once('connect', () => {
      clearTimeout(t);
      s.removeAllListeners('error');
      resolve(s);
    });
    s.once('error', (e) => {
      clearTimeout(t);
      reject(e);
    });
  });
}

export class Forwarder {
  /** auto mode: set once a pod IP was unreachable; then every connection uses pods/portforward. */
  directUnreachable = false;
  /** Open forwarded connections (client sockets). */
  readonly open = new Set<Socket>();

  constructor(
    private readonly opts: ForwardOptions,
    private readonly log: Logger,
  ) {}

  get effectiveMode(): 'direct' | 'portforward' {
    return this.opts.mode === 'portforward' || (this.opts.mode === 'auto' && this.directUnreachable)
      ? 'portforward'
      : 'direct';
  }

  /** Forward an accepted client connection to `port` of the container `deps` resolves. */
  handle(client: Socket, port: number, deps: ForwardDeps): Promise<void> {
    client.pause();
    client.setNoDelay(true);
    this.open.add(client);
    const ac = new AbortController();
    const onEarlyClose = () => ac.abort();
    client.once('close', onEarlyClose);
    client.on('error', () => {});
    return this.run(client, port, deps, ac.signal)
      .catch((err: Error) => {
        this.log.debug({ err: err.message, port }, 'published port: connection failed');
        client.destroy();
      })
      .finally(() => {
        client.off('close', onEarlyClose);
        if (!client.destroyed) client.once('close', () => this.open.delete(client));
        else this.open.delete(client);
      });
  }

  private async run(client: Socket, port: number, deps: ForwardDeps, signal: AbortSignal): Promise<void> {
    const deadline = Date.now() + this.opts.dialRetryMs;
    const replay: Replay = { chunks: [], bytes: 0, overflow: false, ended: false };
    let backoff = 25;
    for (;;) {
      if (signal.aborted) return;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`the container did not accept on port ${port} within ${this.opts.dialRetryMs} ms`);
      const target = await deps.resolve(left, signal);
      if (!target) throw new Error('the container is not running');
      if (this.effectiveMode === 'direct') {
        let up: Socket;
        try {
          up = await connectDirect(
            target.ip,
            port,
            Math.min(this.opts.connectTimeoutMs, Math.max(1, deadline - Date.now())),
          );
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code ?? '';
          if (this.opts.mode === 'auto' && UNREACHABLE.has(code)) {
            this.directUnreachable = true;
            this.log.warn(
              { ip: target.ip, code },
              'published ports: pod IPs are not reachable from kuber-api; forwarding through pods/portforward from now on',
            );
            continue;
          }
          if (code !== 'ECONNREFUSED' && !UNREACHABLE.has(code)) throw err;
          await sleep(backoff, signal);
          backoff = Math.min(backoff * 2, 500);
          continue;
        }
        if (signal.aborted) return void up.destroy();
        await pipeSockets(client, up);
        return;
      }
      const outcome = await this.portForward(client, port, target, deps, deadline, signal, replay);
      if (outcome === 'done') return;
      await sleep(backoff, signal);
      backoff = Math.min(backoff * 2, 500);
    }
  }

  /** One pods/portforward session (engine/ports/portforward-session.ts). */
  private portForward(
    client: Socket,
    port: number,
    target: ForwardTarget,
    deps: ForwardDeps,
    deadline: number,
    signal: AbortSignal,
    state: Replay,
  ): Promise<SessionEnd> {
    const limits = { replayBytes: this.opts.replayBytes, wsHighWaterMark: this.opts.wsHighWaterMark, deadline };
    return new PortForwardSession(client, port, state, limits, signal, this.log).start(
      deps.portForward(target.namespace, target.pod, port),
    );
  }

  /** Cut every open connection (the container stopped, or kuber-api is closing). */
  destroyAll(sockets: Iterable<Socket> = this.open): void {
    for (const s of [...sockets]) s.destroy();
  }
}
