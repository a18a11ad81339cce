/**
 * @module kube/ws-dialer
 * The only place that opens WebSockets to the apiserver (pods/exec, pods/attach, pods/portforward,
 * pods/log with a WS upgrade). It offers `v5.channel.k8s.io` first and `v4.channel.k8s.io` second
 * (KEP-4006: a ≥1.30 apiserver translates v5 to the kubelet; older servers proxy v4 to the kubelet's
 * own WS server, pkg/kubelet/cri/streaming/remotecommand/websocket.go), uses the kubeconfig's TLS
 * and auth exactly as REST calls do (src/kube/client `connectionOptions`), and hands back the raw
 * `ws` WebSocket so that src/stream can apply backpressure (`ws.pause()`/`ws.resume()`,
 * `ws.bufferedAmount`, `ws.send(.., cb)`).
 *
 * Errors before the upgrade are the apiserver's `Status` bodies (404 pod not found, 400 container
 * not valid / pod has no host, 403 RBAC) and reject as KubeApiError. After the 101, failures arrive
 * as a Status on channel 3 (the v5 translator upgrades first): a 101 means "transport up", not
 * "process started" (§1.9).
 */
import { WebSocket, type ClientOptions } from 'ws';
import type { IncomingMessage } from 'node:http';
import type { ConnectionOptions as TlsConnectOptions, SecureContext } from 'node:tls';
import { KubeApiError, type ConnectionOptions, type KubeClient } from './client.js';
import { WarmTls } from './tls-warm.js';
import { requestSignal } from '../cancel-scope.js';
import { secureContextOf } from './secure-context.js';

/** Session tickets and the spare connection (src/kube/tls-warm.ts), per set of connection options. */
const warmByOptions = new WeakMap<ConnectionOptions, WarmTls>();
function warmOf(c: ConnectionOptions): WarmTls {
  let w = warmByOptions.get(c);
  if (!w) {
    w = new WarmTls();
    warmByOptions.set(c, w);
  }
  return w;
}

export const CHANNEL_PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io'] as const;
/** pods/portforward over WebSocket speaks the v4 channel protocol only (kubelet portforward/websocket.go). */
export const PORTFORWARD_PROTOCOLS = ['v4.channel.k8s.io'] as const;

export interface DialOptions {
  /** Subprotocols to offer, most preferred first. Default: v5 then v4 channel protocols. */
  protocols?: readonly string[];
  /**
   * Abort the handshake. Default: the signal of the Docker request the dial runs for
   * (src/cancel-scope.ts), as REST calls take it: its client went away, or its deadline passed.
   */
  signal?: AbortSignal;
  /** Handshake timeout (default: the client's `wsHandshakeTimeoutMs`, --ws-handshake-timeout-ms). */
  handshakeTimeoutMs?: number;
  /** ws `maxPayload` for inbound messages (default 64 MiB). */
  maxPayload?: number;
  /**
   * Resolve with the WebSocket paused (`ws.pause()` in 'open'): messages that came with the
   * handshake wait until the caller has its listeners and calls `ws.resume()` (otherwise they
   * can be emitted before a promise continuation attaches them, and are lost).
   */
  paused?: boolean;
}

export interface Dialed {
  ws: WebSocket;
  /** The negotiated subprotocol, e.g. `v5.channel.k8s.io` (v5 has the [255, ch] CLOSE signal). */
  protocol: string;
}

/** Query for exec/attach: booleans as "true"/"false"; `command` repeated once per argv element. */
export type DialQuery = Record<string, string | number | boolean | readonly string[] | undefined>;

export function buildQuery(q: DialQuery): URLSearchParams {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) {
    if (v === undefined) continue;
    if (Array.isArray(v)) for (const x of v) p.append(k, String(x));
    else p.set(k, String(v));
  }
  return p;
}

export class WsDialer {
  constructor(private readonly client: KubeClient) {}

  /** The ws(s):// URL for an apiserver path. */
  url(path: string, query: DialQuery = {}): string {
    const u = this.client.url(path);
    u.protocol = u.protocol === 'http:' ? 'ws:' : 'wss:';
    u.search = buildQuery(query).toString();
    return u.toString();
  }

  /**
   * Open the TLS connection the next dial will use (`docker exec` create, before its start dials
   * pods/exec): closed if no dial takes it within `idleMs`. Nothing through a proxy or over ws://.
   */
  async preconnect(idleMs: number): Promise<void> {
    const c = await this.client.connectionOptions();
    const u = this.client.url('/');
    if (u.protocol !== 'https:' || c.proxyAgent || idleMs <= 0) return;
    const host = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
    warmOf(c).preconnect(
      {
        host,
        port: Number(u.port || 443),
        servername: c.servername,
        secureContext: secureContextOf(c),
        rejectUnauthorized: c.rejectUnauthorized,
      },
      idleMs,
    );
  }

  /** Dial `path` (e.g. `/api/v1/namespaces/ns/pods/p/exec`) with `query`. */
  async dial(path: string, query: DialQuery = {}, dialOpts: DialOptions = {}): Promise<Dialed> {
    const opts = { ...dialOpts, signal: dialOpts.signal ?? requestSignal() };
    const c = await this.client.connectionOptions();
    const protocols = [...(opts.protocols ?? CHANNEL_PROTOCOLS)];
    // ws passes TLS options through to tls.connect (servername included; its typings omit it).
    const url = this.url(path, query);
    // Through a proxy agent the TLS options stay as they were (the agent makes the connection).
    // Directly, the connection is ours: resumed sessions and the spare of preconnect().
    const direct = url.startsWith('wss:') && !c.proxyAgent;
    const tls = direct
      ? {
          secureContext: secureContextOf(c),
          createConnection: ((o: TlsConnectOptions) =>
            warmOf(c).connect(o)) as unknown as ClientOptions['createConnection'],
        }
      : { ca: c.ca, cert: c.cert, key: c.key };
    const wsOpts: ClientOptions & { servername?: string; secureContext?: SecureContext } = {
      headers: c.headers,
      ...tls,
      rejectUnauthorized: c.rejectUnauthorized,
      servername: c.servername,
      agent: c.proxyAgent,
      perMessageDeflate: false,
      handshakeTimeout: opts.handshakeTimeoutMs ?? this.client.opts.wsHandshakeTimeoutMs,
      maxPayload: opts.maxPayload ?? 64 * 1024 * 1024,
    };
    return new Promise<Dialed>((resolve, reject) => {
      if (opts.signal?.aborted) return reject(opts.signal.reason ?? new Error('aborted'));
      const ws = new WebSocket(url, protocols, wsOpts);
      let settled = false;
      const fail = (err: Error) => {
        if (settled) return;
        settled = true;
        opts.signal?.removeEventListener('abort', onAbort);
        ws.removeAllListeners();
        ws.on('error', () => {}); // a late socket error after terminate() must not crash the process
        ws.terminate();
        reject(err);
      };
      const onAbort = () => fail(opts.signal?.reason instanceof Error ? opts.signal.reason : new Error('aborted'));
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      ws.once('unexpected-response', (_req, res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () => fail(KubeApiError.fromBody(res.statusCode ?? 0, Buffer.concat(chunks).toString('utf8'))));
        res.on('error', (e) => fail(e));
      });
      ws.once('error', (e) => fail(new KubeApiError(0, 'ConnectionError', `WebSocket to ${path}: ${e.message}`)));
      ws.once('open', () => {
        if (settled) return;
        // client-go's check (transport/websocket/roundtripper.go): the server must pick one we offered.
        if (!ws.protocol || !protocols.includes(ws.protocol)) {
          return fail(
            new KubeApiError(
              0,
              'UpgradeFailure',
              `the apiserver negotiated no supported protocol (offered ${protocols.join(', ')}, got "${ws.protocol}")`,
            ),
          );
        }
        settled = true;
        opts.signal?.removeEventListener('abort', onAbort);
        ws.removeAllListeners('error');
        if (opts.paused) ws.pause();
        resolve({ ws, protocol: ws.protocol });
        // The apiserver has handled this upgrade: replace the spare it used (tls-warm.ts renew).
        if (direct) warmOf(c).renew();
      });
    });
  }

  /** Dial pods/exec: `command` is an argv. */
  exec(
    namespace: string,
    pod: string,
    opts: {
      container?: string;
      command: readonly string[];
      stdin?: boolean;
      stdout?: boolean;
      stderr?: boolean;
      tty?: boolean;
    },
    dial: DialOptions = {},
  ): Promise<Dialed> {
    return this.dial(
      `/api/v1/namespaces/${namespace}/pods/${pod}/exec`,
      {
        command: opts.command,
        container: opts.container,
        stdin: !!opts.stdin,
        stdout: opts.stdout ?? true,
        stderr: opts.tty ? false : (opts.stderr ?? true), // a TTY merges stderr (§1.1)
        tty: !!opts.tty,
      },
      dial,
    );
  }

  /**
   * Dial pods/portforward for one port (kubelet pkg/kubelet/cri/streaming/portforward/websocket.go):
   * `v4.channel.k8s.io` only (no v5
   * for port-forward, so no half-close); data on channel 0 and errors on channel 1, each opened
   * by the port as 2 little-endian bytes. One TCP conversation per WebSocket. Resolves paused
   * (the kubelet writes both port prefixes, and maybe an error, at once): `ws.resume()` it.
   */
  portForward(namespace: string, pod: string, port: number, dial: DialOptions = {}): Promise<Dialed> {
    return this.dial(
      `/api/v1/namespaces/${namespace}/pods/${pod}/portforward`,
      { ports: port },
      { paused: true, ...dial, protocols: dial.protocols ?? PORTFORWARD_PROTOCOLS },
    );
  }

  /** Dial pods/attach. */
  attach(
    namespace: string,
    pod: string,
    opts: { container?: string; stdin?: boolean; stdout?: boolean; stderr?: boolean; tty?: boolean },
    dial: DialOptions = {},
  ): Promise<Dialed> {
    return this.dial(
      `/api/v1/namespaces/${namespace}/pods/${pod}/attach`,
      {
        container: opts.container,
        stdin: !!opts.stdin,
        stdout: opts.stdout ?? true,
        stderr: opts.tty ? false : (opts.stderr ?? true),
        tty: !!opts.tty,
      },
      dial,
    );
  }
}
