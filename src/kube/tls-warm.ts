/**
 * @module kube/tls-warm
 * Warm TLS connections to the apiserver for WebSocket dials (src/kube/ws-dialer.ts), per set of
 * connection options (they are replaced when the credentials are refreshed, and so is this state):
 *
 * - the last TLS session ticket, offered by the next connection (RFC 8446 §2.2 resumption: no
 *   certificate chain to send and verify again, on either side);
 * - one spare connection, opened ahead of a dial we expect: `docker exec` is create, then start,
 *   and only start may dial pods/exec (the command runs at the dial), so create opens the TCP and
 *   TLS connection that start's WebSocket handshake will then use, while the client's next
 *   request is on its way. A spare unused for `idleMs` is closed.
 * - the spare a dial took is replaced once that dial's WebSocket is open ({@link WarmTls.renew}):
 *   execs come in series (testcontainers' port check every 100 ms, a script's `docker exec`s), and
 *   a handshake started at create competes for the CPU with the create's answer and the start
 *   request on their way (bench/optimisations.md 12); started while the previous exec runs, it is
 *   done when the next create comes. Still one spare at most, closed after `idleMs` unused.
 *
 * `connect()` is what `ws` calls to open its socket (its `createConnection` option), with the
 * options it would give tls.connect (ws lib/websocket.js `tlsConnect`).
 */
import { isIP } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions as TlsConnectOptions, type TLSSocket } from 'node:tls';

interface Spare {
  socket: TLSSocket;
  key: string;
  timer: NodeJS.Timeout;
  /** What opened it, to open its replacement ({@link WarmTls.renew}). */
  options: TlsConnectOptions;
  idleMs: number;
}

/** The endpoint a connection is for: a spare is only handed to a dial of the same one. */
function keyOf(o: TlsConnectOptions): string {
  return `${o.host}:${o.port}:${o.servername}`;
}

/** ws's tlsConnect: no path, and the SNI name defaults to the host unless it is an IP address. */
function normalised(o: TlsConnectOptions & { path?: string }): TlsConnectOptions {
  const n: TlsConnectOptions & { path?: string } = { ...o, path: undefined };
  if (!n.servername && n.servername !== '') n.servername = n.host && isIP(n.host) ? '' : n.host;
  return n;
}

const ignore = () => {};

export class WarmTls {
  private session: Buffer | undefined;
  private spare: Spare | undefined;
  /** The spare the last connect() handed out, until renew() replaces it. */
  private taken: Pick<Spare, 'options' | 'idleMs'> | undefined;

  /** Open a connection, offering the last session ticket; remember the tickets it receives. */
  private open(o: TlsConnectOptions): TLSSocket {
    // No Nagle from the start: on a connection that is already up when the dial comes, the
    // upgrade request's writes otherwise wait for the server's delayed ACK (~40 ms on Linux).
    const socket = tlsConnect(this.session ? { ...o, session: this.session } : o);
    socket.setNoDelay(true);
    socket.on('session', (s: Buffer) => (this.session = s));
    return socket;
  }

  /** Open the spare connection for `o` (replacing none: one is enough for the next dial). */
  preconnect(o: TlsConnectOptions, idleMs: number): void {
    if (this.spare || idleMs <= 0) return;
    const n = normalised(o);
    const socket = this.open(n);
    // Nobody listens yet: an error closes the spare (the dial that comes opens its own).
    socket.on('error', ignore);
    // A spare alone must not keep a stopping kuber-api alive.
    socket.unref();
    const timer = setTimeout(() => this.drop(), idleMs);
    timer.unref();
    this.spare = { socket, key: keyOf(n), timer, options: n, idleMs };
  }

  /**
   * Open a spare in place of the one the last connect() handed out, if it did (the caller's dial
   * is through: its WebSocket is open). Nothing when the dial made its own connection.
   */
  renew(): void {
    const t = this.taken;
    this.taken = undefined;
    if (t) this.preconnect(t.options, t.idleMs);
  }

  /** ws's createConnection: the spare if it is for this endpoint and still open, else a new connection. */
  connect(o: TlsConnectOptions): TLSSocket {
    const n = normalised(o);
    const spare = this.spare;
    if (spare) {
      this.spare = undefined;
      clearTimeout(spare.timer);
      const state = spare.socket.readyState; // 'readOnly'/'writeOnly': the server closed its side
      if (spare.key === keyOf(n) && !spare.socket.destroyed && (state === 'open' || state === 'opening')) {
        spare.socket.removeListener('error', ignore);
        spare.socket.ref();
        this.taken = { options: spare.options, idleMs: spare.idleMs };
        return spare.socket;
      }
      spare.socket.destroy();
    }
    this.taken = undefined;
    return this.open(n);
  }

  /** Close the spare, if any. */
  drop(): void {
    const spare = this.spare;
    this.spare = undefined;
    if (!spare) return;
    clearTimeout(spare.timer);
    spare.socket.destroy();
  }
}
