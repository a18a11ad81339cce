/**
 * @module http/server
 * The listening side: one `node:net` server per `-H` address (`allowHalfOpen: true`, because a
 * docker client half-closes hijacked streams and still reads), a shared connection count with a
 * `maxConnections` bound (503 + close beyond it), one timer that sweeps all connections for head
 * and idle timeouts (instead of a timer per request, as Node's http server does), and a graceful
 * close: stop accepting, close idle connections, let running ones finish within a grace period.
 */
import net from 'node:net';
import tls from 'node:tls';
import { chmod, chown, lstat, unlink } from 'node:fs/promises';
import { setMaxListeners } from 'node:events';
import type { Logger } from '../log.js';
import { Connection, type ConnectionLimits, type Handler } from './connection.js';
import { cannedResponse } from './canned.js';
import { formatHost, parseHost, type ListenAddress } from './address.js';

export interface ServerOptions extends ConnectionLimits {
  maxConnections: number;
  log: Logger;
  /**
   * TLS for TCP listeners (unix sockets never use it, as in dockerd): key + cert, and with
   * `requestCert` + `rejectUnauthorized` + `ca` a client certificate signed by that CA is
   * required (dockerd --tlsverify: tls.RequireAndVerifyClientCert); the handshake fails without one.
   */
  tls?: tls.TlsOptions;
  /** Unix sockets: file mode (dockerd: 0660) and group id (undefined: the process's own). */
  socketMode?: number;
  socketGid?: number;
  /** The gid is the default group: when we may not give it (not root, not a member), keep ours and warn. */
  socketGidOptional?: boolean;
}

export interface Bound {
  /** The address as given (port 0 resolved). */
  address: ListenAddress;
  /** `unix:///path` or `tcp://host:port`, usable as DOCKER_HOST. */
  url: string;
}

export class HttpServer {
  private readonly servers: { server: net.Server; address: ListenAddress }[] = [];
  private readonly conns = new Set<Connection>();
  private sweep: NodeJS.Timeout | undefined;
  private closing = false;
  private nextConnId = 0;
  /** Aborted when close() starts: every Request's `shutdown` signal. */
  private readonly stopping = new AbortController();

  constructor(
    private readonly handler: Handler,
    private readonly opts: ServerOptions,
  ) {
    // One listener per open long request: no "possible leak" warning at 11.
    setMaxListeners(0, this.stopping.signal);
  }

  /** Open connections (hijacked ones included). */
  get connectionCount(): number {
    return this.conns.size;
  }

  /** Listen on every address (dockerd `-H` syntax). Rejects, closing what was opened, if one fails. */
  async listen(hosts: readonly (string | ListenAddress)[]): Promise<Bound[]> {
    const out: Bound[] = [];
    try {
      for (const h of hosts) out.push(await this.listenOne(typeof h === 'string' ? parseHost(h) : h));
    } catch (err) {
      await this.close(0);
      throw err;
    }
    if (!this.sweep) {
      const every = Math.max(
        10,
        Math.min(
          1000,
          Math.floor(
            Math.min(
              this.opts.headerTimeoutMs,
              this.opts.idleTimeoutMs || Infinity,
              this.opts.bodyTimeoutMs || Infinity,
            ) / 4,
          ),
        ),
      );
      this.sweep = setInterval(() => {
        const now = Date.now();
        for (const c of this.conns) c.checkTimeouts(now);
      }, every);
      this.sweep.unref();
    }
    return out;
  }

  private async listenOne(address: ListenAddress): Promise<Bound> {
    const secure = address.kind === 'tcp' && this.opts.tls !== undefined;
    const server = secure
      ? tls.createServer({ ...this.opts.tls, allowHalfOpen: true }, (s) => this.accept(s))
      : net.createServer({ allowHalfOpen: true, pauseOnConnect: false }, (s) => this.accept(s));
    // A client without a valid certificate is refused in the handshake: a debug line, not an error.
    if (secure)
      server.on('tlsClientError', (err) => this.opts.log.debug({ err: err.message }, 'TLS handshake refused'));
    if (address.kind === 'unix') await removeStaleSocket(address.path);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      const done = () => {
        server.removeListener('error', reject);
        server.on('error', (err) => this.opts.log.error({ err }, 'listener error'));
        resolve();
      };
      if (address.kind === 'unix') {
        // The socket file is created by bind() inside listen(): a umask that leaves only the
        // owner's bits makes it private from its first instant; chmod/chown then open it to the group.
        const old = process.umask(0o177);
        try {
          server.listen(address.path, done);
        } finally {
          process.umask(old);
        }
      } else server.listen({ host: address.host, port: address.port }, done);
    });
    if (address.kind === 'unix') {
      try {
        if (this.opts.socketGid !== undefined) {
          await chown(address.path, -1, this.opts.socketGid).catch((err: NodeJS.ErrnoException) => {
            if (!this.opts.socketGidOptional || err.code !== 'EPERM') throw err;
            this.opts.log.warn(
              { path: address.path, gid: this.opts.socketGid },
              "cannot give the socket the docker group (not root, not a member): it keeps kuber-api's own group",
            );
          });
        }
        await chmod(address.path, this.opts.socketMode ?? 0o660);
      } catch (err) {
        server.close();
        throw err;
      }
    }
    const bound: ListenAddress =
      address.kind === 'tcp' ? { ...address, port: (server.address() as net.AddressInfo).port } : address;
    this.servers.push({ server, address: bound });
    return { address: bound, url: formatHost(bound) };
  }

  private accept(socket: net.Socket): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    if (this.conns.size >= this.opts.maxConnections) {
      this.opts.log.warn({ limit: this.opts.maxConnections }, 'connection refused: too many connections');
      socket.on('error', () => {});
      socket.end(cannedResponse(503, `too many connections (limit ${this.opts.maxConnections})`));
      socket.resume();
      setTimeout(() => socket.destroy(), 1000).unref();
      return;
    }
    const conn = new Connection(
      socket,
      this.handler,
      this.opts,
      this.opts.log,
      ++this.nextConnId,
      (c) => {
        this.conns.delete(c);
        if (this.closing && this.conns.size === 0) this.onDrained?.();
      },
      this.stopping.signal,
    );
    this.conns.add(conn);
  }

  private onDrained: (() => void) | undefined;

  /**
   * Stop accepting, close idle connections at once, let requests, streams and hijacked
   * connections run for up to `graceMs`, then destroy what is left.
   */
  async close(graceMs: number): Promise<void> {
    this.closing = true;
    // First: events streams, waits and log follows end their responses cleanly now.
    if (!this.stopping.signal.aborted) this.stopping.abort(new Error('kuber-api is shutting down'));
    clearInterval(this.sweep);
    this.sweep = undefined;
    const closed = this.servers.splice(0).map(
      ({ server, address }) =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          if (address.kind === 'unix') unlink(address.path).catch(() => {});
        }),
    );
    for (const c of this.conns) c.shutdown();
    if (this.conns.size > 0) {
      await new Promise<void>((resolve) => {
        // After the grace period, cut what is left; its 'close' events then drain the set.
        const timer = setTimeout(() => {
          for (const c of this.conns) c.destroy();
        }, graceMs);
        this.onDrained = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    await Promise.all(closed);
  }
}

/**
 * dockerd removes a leftover socket file before it listens. Do the same, but only for a socket
 * nobody answers on (a second kuber-api on the same path must fail, not steal it).
 */
async function removeStaleSocket(path: string): Promise<void> {
  let st;
  try {
    st = await lstat(path);
  } catch {
    return;
  }
  if (!st.isSocket()) throw Object.assign(new Error(`${path} exists and is not a socket`), { code: 'EADDRINUSE' });
  const alive = await new Promise<boolean>((resolve) => {
    const c = net.connect(path);
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
  if (alive) throw Object.assign(new Error(`${path} is in use by another server`), { code: 'EADDRINUSE' });
  await unlink(path).catch(() => {});
}

export function createServer(handler: Handler, opts: ServerOptions): HttpServer {
  return new HttpServer(handler, opts);
}
