/**
 * @module sim/kubelet/probes
 * Startup, readiness and liveness probes (pkg/kubelet/prober): exec (exit 0), tcpSocket (connect),
 * httpGet (2xx/3xx), run every periodSeconds after initialDelaySeconds with timeoutSeconds, a result
 * flipping after successThreshold / failureThreshold consecutive outcomes. Failures are recorded as
 * Unhealthy events with the prober's messages.
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';

type Obj = Record<string, any>;

export type ProbeKind = 'startup' | 'readiness' | 'liveness';

export interface ProbeResult {
  ok: boolean;
  /** For the Unhealthy event. */
  output: string;
}

export interface ProbeHost {
  podIP: string;
  /** Resolve a named port against the container's ports. */
  port(p: number | string): number | undefined;
  /** Run a command in the container; resolves with its exit code and (truncated) output. */
  exec(argv: string[], timeoutMs: number): Promise<{ code: number; output: string; timedOut: boolean }>;
}

export async function runProbe(probe: Obj, host: ProbeHost): Promise<ProbeResult> {
  const timeoutMs = Math.max(1, probe.timeoutSeconds ?? 1) * 1000;
  if (probe.exec) {
    const r = await host.exec(probe.exec.command ?? [], timeoutMs);
    if (r.timedOut)
      return {
        ok: false,
        output: `command timed out: "${(probe.exec.command ?? []).join(' ')}" timed out after ${timeoutMs / 1000}s`,
      };
    return { ok: r.code === 0, output: r.output };
  }
  if (probe.tcpSocket) {
    const port = host.port(probe.tcpSocket.port);
    const ip = probe.tcpSocket.host || host.podIP;
    if (!port) return { ok: false, output: `invalid port ${JSON.stringify(probe.tcpSocket.port)}` };
    return new Promise((resolve) => {
      const s = connect({ host: ip, port });
      const t = setTimeout(() => {
        s.destroy();
        resolve({ ok: false, output: `dial tcp ${ip}:${port}: i/o timeout` });
      }, timeoutMs);
      s.once('connect', () => {
        clearTimeout(t);
        s.destroy();
        resolve({ ok: true, output: '' });
      });
      s.once('error', (e: NodeJS.ErrnoException) => {
        clearTimeout(t);
        resolve({
          ok: false,
          output: `dial tcp ${ip}:${port}: connect: ${e.code === 'ECONNREFUSED' ? 'connection refused' : e.message}`,
        });
      });
    });
  }
  if (probe.httpGet) {
    const g = probe.httpGet;
    const port = host.port(g.port);
    const ip = g.host || host.podIP;
    if (!port) return { ok: false, output: `invalid port ${JSON.stringify(g.port)}` };
    const https = String(g.scheme ?? 'HTTP').toUpperCase() === 'HTTPS';
    const headers: Record<string, string> = { 'User-Agent': 'kube-probe/1.33', Accept: '*/*' };
    for (const h of g.httpHeaders ?? []) headers[h.name] = h.value;
    const url = `${https ? 'https' : 'http'}://${ip}:${port}${g.path ?? '/'}`;
    return new Promise((resolve) => {
      const req = (https ? httpsRequest : httpRequest)(
        url,
        { method: 'GET', headers, rejectUnauthorized: false, timeout: timeoutMs },
        (res) => {
          let body = '';
          res.on('data', (d) => {
            if (body.length < 10240) body += d;
          });
          res.on('end', () => {
            const code = res.statusCode ?? 0;
            if (code >= 200 && code < 400) resolve({ ok: true, output: '' });
            else resolve({ ok: false, output: `HTTP probe failed with statuscode: ${code}` });
          });
          res.on('error', () => resolve({ ok: false, output: 'HTTP probe failed: connection reset' }));
        },
      );
      req.on('timeout', () => {
        req.destroy();
        resolve({
          ok: false,
          output: `Get "${url}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`,
        });
      });
      req.on('error', (e: NodeJS.ErrnoException) =>
        resolve({
          ok: false,
          output: `Get "${url}": dial tcp ${ip}:${port}: connect: ${e.code === 'ECONNREFUSED' ? 'connection refused' : e.message}`,
        }),
      );
      req.end();
    });
  }
  if (probe.grpc) return { ok: false, output: 'kube-sim does not implement gRPC probes' };
  return { ok: true, output: '' };
}

/** Periodic prober for one probe of one container instance. */
export class Prober {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private successes = 0;
  private failures = 0;
  /** Current result (startup/liveness start optimistic only once thresholds say so). */
  result: boolean;

  constructor(
    readonly kind: ProbeKind,
    private readonly probe: Obj,
    private readonly host: ProbeHost,
    private readonly onChange: (ok: boolean, output: string) => void,
    private readonly onFailure: (output: string) => void,
  ) {
    this.result = kind === 'liveness';
  }

  start(): void {
    const delay = Math.max(0, this.probe.initialDelaySeconds ?? 0) * 1000;
    this.timer = setTimeout(() => void this.tick(), delay);
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    const r = await runProbe(this.probe, this.host).catch((e) => ({ ok: false, output: String(e) }));
    if (this.stopped) return;
    const successThreshold = Math.max(1, this.probe.successThreshold ?? 1);
    const failureThreshold = Math.max(1, this.probe.failureThreshold ?? 3);
    if (r.ok) {
      this.failures = 0;
      this.successes++;
      if (!this.result && this.successes >= successThreshold) {
        this.result = true;
        this.onChange(true, '');
      }
    } else {
      this.successes = 0;
      this.failures++;
      this.onFailure(r.output);
      if ((this.result || this.kind !== 'liveness') && this.failures >= failureThreshold) {
        const was = this.result;
        this.result = false;
        if (was || this.kind === 'startup' || this.kind === 'liveness') this.onChange(false, r.output);
        if (this.kind === 'liveness') this.failures = 0;
      }
    }
    // A startup probe stops once it succeeded; the others run for the container's life.
    if (this.kind === 'startup' && this.result) return;
    if (!this.stopped)
      this.timer = setTimeout(() => void this.tick(), Math.max(1, this.probe.periodSeconds ?? 10) * 1000);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }
}
