/**
 * @module bench/lib/kube-direct
 * Path (b): the same work done directly against the Kubernetes API, with no kuber-api in between.
 * The kubeconfig is loaded by @kubernetes/client-node (every auth method a real cluster may use),
 * then the calls are plain node:https (REST, pods/log) and `ws` (pods/exec and pods/attach on
 * v5.channel.k8s.io, KEP-4006), with a keep-alive agent, so this path is as lean as a
 * Kubernetes client can be.
 */
import { KubeConfig } from '@kubernetes/client-node';
import { Agent as HttpsAgent, request as httpsRequest, type RequestOptions } from 'node:https';
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { WebSocket, type ClientOptions } from 'ws';
import { createSecureContext } from 'node:tls';

export const CH_STDIN = 0;
export const CH_STDOUT = 1;
export const CH_STDERR = 2;
export const CH_STATUS = 3;
export const CH_CLOSE = 255;

export class KubeApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface ChannelSession {
  ws: WebSocket;
  protocol: string;
}

export class KubeDirect {
  readonly server: URL;
  private readonly tls: boolean;
  private readonly agent: HttpsAgent | HttpAgent;
  private wsOpts: ClientOptions = {};
  private reqOpts: RequestOptions = {};

  private constructor(
    kc: KubeConfig,
    readonly namespace: string,
  ) {
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error('the kubeconfig has no current cluster');
    this.server = new URL(cluster.server);
    this.tls = this.server.protocol === 'https:';
    this.agent = this.tls
      ? new HttpsAgent({ keepAlive: true, maxSockets: Infinity })
      : new HttpAgent({ keepAlive: true, maxSockets: Infinity });
  }

  static async load(kubeconfigPath: string, namespace?: string): Promise<KubeDirect> {
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfigPath);
    const ctx = kc.getContextObject(kc.getCurrentContext());
    const k = new KubeDirect(kc, namespace || ctx?.namespace || 'default');
    const o: RequestOptions = {};
    await kc.applyToHTTPSOptions(o);
    k.reqOpts = o;
    const w: ClientOptions = {};
    await kc.applyToHTTPSOptions(w);
    // One TLS context for every dial, as kuber-api's dialer does (bench/RESULTS.md optimisation 2):
    // otherwise tls.connect parses the CA again for each exec/attach.
    const { ca, cert, key, ...rest } = w as ClientOptions & {
      ca?: string | Buffer;
      cert?: string | Buffer;
      key?: string | Buffer;
    };
    k.wsOpts = {
      ...rest,
      ...(k.tls ? { secureContext: createSecureContext({ ca, cert, key }) } : {}),
      perMessageDeflate: false,
      maxPayload: 64 << 20,
    } as ClientOptions;
    return k;
  }

  private path(p: string): string {
    return this.server.pathname.replace(/\/+$/, '') + p;
  }

  private rawRequest(
    method: string,
    p: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<IncomingMessage> {
    const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const opts: RequestOptions = {
      ...this.reqOpts,
      host: this.server.hostname,
      port: this.server.port || (this.tls ? 443 : 80),
      method,
      path: this.path(p),
      agent: this.agent,
      headers: {
        ...(this.reqOpts.headers as Record<string, string>),
        Accept: 'application/json',
        ...headers,
        ...(data ? { 'Content-Type': 'application/json', 'Content-Length': String(data.length) } : {}),
      },
    };
    return new Promise((resolve, reject) => {
      const req = (this.tls ? httpsRequest : httpRequest)(opts, resolve);
      req.on('error', reject);
      req.end(data);
    });
  }

  async json<T = any>(method: string, p: string, body?: unknown): Promise<T> {
    const res = await this.rawRequest(method, p, body);
    const chunks: Buffer[] = [];
    for await (const c of res) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    if ((res.statusCode ?? 0) >= 400) {
      let msg = text;
      try {
        msg = JSON.parse(text).message ?? text;
      } catch {
        /* plain */
      }
      throw new KubeApiError(res.statusCode ?? 0, `${method} ${p}: ${res.statusCode} ${msg}`);
    }
    return JSON.parse(text) as T;
  }

  private ns(p: string): string {
    return `/api/v1/namespaces/${this.namespace}${p}`;
  }

  listPods(labelSelector: string): Promise<{ items: any[] }> {
    return this.json('GET', this.ns(`/pods?labelSelector=${encodeURIComponent(labelSelector)}`));
  }

  getPod(name: string): Promise<any> {
    return this.json('GET', this.ns(`/pods/${name}`));
  }

  createPod(pod: unknown): Promise<any> {
    return this.json('POST', this.ns('/pods'), pod);
  }

  async deletePod(name: string, graceSeconds = 0): Promise<void> {
    try {
      await this.json('DELETE', this.ns(`/pods/${name}?gracePeriodSeconds=${graceSeconds}`));
    } catch (err) {
      if (!(err instanceof KubeApiError && err.status === 404)) throw err;
    }
  }

  /**
   * Resolves once the pod's (first) container runs, from a watch (the way kuber-api's start and
   * client-go's wait do it), with the resourceVersion of `fromRv` so no event is missed.
   */
  async waitRunning(name: string, fromRv: string, timeoutMs = 120_000): Promise<void> {
    const res = await this.rawRequest(
      'GET',
      this.ns(
        `/pods?watch=1&fieldSelector=${encodeURIComponent(`metadata.name=${name}`)}&resourceVersion=${fromRv}&timeoutSeconds=${Math.ceil(timeoutMs / 1000)}`,
      ),
    );
    if ((res.statusCode ?? 0) >= 400) throw new KubeApiError(res.statusCode ?? 0, `watch ${name}: ${res.statusCode}`);
    return new Promise((resolve, reject) => {
      let buf = '';
      const done = (err?: Error) => {
        res.removeAllListeners('data');
        res.destroy();
        err ? reject(err) : resolve();
      };
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        buf += d;
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          if (!line.trim()) continue;
          const ev = JSON.parse(line) as { type: string; object: any };
          const st = ev.object?.status?.containerStatuses?.[0]?.state;
          if (st?.running) return done();
          if (st?.terminated || ev.type === 'DELETED') {
            const t = st?.terminated;
            const why = t ? `: ${t.reason} (exit ${t.exitCode})${t.message ? ` ${t.message}` : ''}` : '';
            return done(new Error(`pod ${name} ended before running${why}`));
          }
        }
      });
      res.on('end', () => done(new Error(`watch of ${name} ended before the pod ran`)));
      res.on('error', done);
    });
  }

  /** pods/log as a stream (text/plain, chunked); the caller reads it with its own backpressure. */
  async logStream(
    pod: string,
    q: { container?: string; follow?: boolean; timestamps?: boolean },
  ): Promise<IncomingMessage> {
    const p = new URLSearchParams();
    if (q.container) p.set('container', q.container);
    if (q.follow) p.set('follow', 'true');
    if (q.timestamps) p.set('timestamps', 'true');
    const res = await this.rawRequest('GET', this.ns(`/pods/${pod}/log?${p}`), undefined, { Accept: '*/*' });
    if ((res.statusCode ?? 0) >= 400) {
      const chunks: Buffer[] = [];
      for await (const c of res) chunks.push(c as Buffer);
      throw new KubeApiError(
        res.statusCode ?? 0,
        `log ${pod}: ${res.statusCode} ${Buffer.concat(chunks).toString('utf8')}`,
      );
    }
    return res;
  }

  private dial(sub: 'exec' | 'attach', pod: string, q: URLSearchParams): Promise<ChannelSession> {
    const u = new URL(this.server.toString());
    u.protocol = this.tls ? 'wss:' : 'ws:';
    u.pathname = this.path(this.ns(`/pods/${pod}/${sub}`));
    u.search = q.toString();
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(u.toString(), ['v5.channel.k8s.io', 'v4.channel.k8s.io'], this.wsOpts);
      ws.binaryType = 'nodebuffer';
      ws.once('open', () => {
        ws.removeListener('error', reject);
        // Handed over paused: frames that came with the 101 would otherwise be emitted (from a
        // nextTick) before the caller's promise continuation attaches its 'message' listener.
        // The consumer resumes once it listens.
        ws.pause();
        resolve({ ws, protocol: ws.protocol });
      });
      ws.once('unexpected-response', (_req, res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () =>
          reject(
            new KubeApiError(
              res.statusCode ?? 0,
              `${sub} ${pod}: ${res.statusCode} ${Buffer.concat(chunks).toString('utf8')}`,
            ),
          ),
        );
      });
      ws.once('error', reject);
    });
  }

  exec(
    pod: string,
    command: readonly string[],
    o: { container?: string; tty?: boolean; stdin?: boolean },
  ): Promise<ChannelSession> {
    const q = new URLSearchParams();
    for (const c of command) q.append('command', c);
    if (o.container) q.set('container', o.container);
    q.set('stdout', 'true');
    q.set('stderr', o.tty ? 'false' : 'true');
    q.set('stdin', o.stdin ? 'true' : 'false');
    q.set('tty', o.tty ? 'true' : 'false');
    return this.dial('exec', pod, q);
  }

  attach(pod: string, o: { container?: string; tty?: boolean; stdin?: boolean }): Promise<ChannelSession> {
    const q = new URLSearchParams();
    if (o.container) q.set('container', o.container);
    q.set('stdout', 'true');
    q.set('stderr', o.tty ? 'false' : 'true');
    q.set('stdin', o.stdin ? 'true' : 'false');
    q.set('tty', o.tty ? 'true' : 'false');
    return this.dial('attach', pod, q);
  }

  close(): void {
    this.agent.destroy();
  }
}

/** The exit code in a channel-3 Status (0 for Success, the ExitCode cause otherwise). */
export function exitCodeOfStatus(text: string): number {
  const s = JSON.parse(text) as {
    status?: string;
    reason?: string;
    message?: string;
    details?: { causes?: Array<{ reason?: string; message?: string }> };
  };
  if (s.status === 'Success') return 0;
  const c = s.details?.causes?.find((x) => x.reason === 'ExitCode');
  if (c?.message !== undefined) return Number(c.message);
  throw new Error(`exec failed: ${s.message ?? text}`);
}
