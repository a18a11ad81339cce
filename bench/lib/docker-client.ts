/**
 * @module bench/lib/docker-client
 * A small Docker Engine API client for the benchmark: node:http (llhttp parses the responses in
 * C) over a unix socket or TCP, a keep-alive agent for the JSON calls, and the hijack the docker
 * CLI does for attach and exec start (`Connection: Upgrade` / `Upgrade: tcp`, 101, then raw
 * bytes; docker/cli cli/command/container/hijack.go). Streams are handed back undecoded: the
 * scenario demultiplexes with bench/lib/demux and applies its own backpressure (pause/resume), so
 * the client adds no copy.
 */
import { Agent, request, type IncomingMessage, type RequestOptions } from 'node:http';
import type { Socket } from 'node:net';

export class DockerApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface Hijacked {
  socket: Socket;
  /** Bytes that arrived with the 101 head (already part of the stream). */
  head: Buffer;
  status: number;
  contentType: string;
}

export class DockerClient {
  readonly agent: Agent;
  private readonly base: RequestOptions;
  prefix = '/v1.41';

  constructor(readonly host: string) {
    this.agent = new Agent({ keepAlive: true, maxSockets: Infinity, maxFreeSockets: 256 });
    if (host.startsWith('unix://')) this.base = { socketPath: host.slice('unix://'.length) };
    else if (host.startsWith('/')) this.base = { socketPath: host };
    else {
      const u = new URL(host.replace(/^tcp:/, 'http:'));
      this.base = { host: u.hostname, port: Number(u.port || 2375) };
    }
  }

  /** Negotiate the API version as the docker CLI does: the server's, capped at ours. */
  async negotiate(max = '1.45'): Promise<string> {
    const v = (await this.json<{ ApiVersion: string }>('GET', '/version', undefined, { raw: true })).ApiVersion;
    const [a, b] = v.split('.').map(Number);
    const [c, d] = max.split('.').map(Number);
    const use = a! < c! || (a === c && b! < d!) ? v : max;
    this.prefix = `/v${use}`;
    return use;
  }

  private opts(
    method: string,
    path: string,
    headers: Record<string, string>,
    agent: Agent | false = this.agent,
  ): RequestOptions {
    return { ...this.base, method, path, headers: { Host: 'docker', ...headers }, agent };
  }

  /** A JSON call: resolves the parsed body (undefined when empty); rejects DockerApiError on >= 400. */
  json<T = any>(method: string, path: string, body?: unknown, o: { raw?: boolean } = {}): Promise<T> {
    const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const headers: Record<string, string> = data
      ? { 'Content-Type': 'application/json', 'Content-Length': String(data.length) }
      : {};
    return new Promise<T>((resolve, reject) => {
      const req = request(this.opts(method, o.raw ? path : this.prefix + path, headers), (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const status = res.statusCode ?? 0;
          if (status >= 400) {
            let msg = text;
            try {
              msg = (JSON.parse(text) as { message: string }).message ?? text;
            } catch {
              /* plain text */
            }
            return reject(new DockerApiError(status, `${method} ${path}: ${status} ${msg}`));
          }
          if (!text.trim()) return resolve(undefined as T);
          try {
            resolve(JSON.parse(text) as T);
          } catch (err) {
            reject(new Error(`${method} ${path}: invalid JSON: ${(err as Error).message}`));
          }
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(data);
    });
  }

  /** A streaming GET (logs): resolves with the response once the head arrived (status checked). */
  stream(path: string, o: { agent?: Agent | false } = {}): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const req = request(this.opts('GET', this.prefix + path, {}, o.agent ?? this.agent), (res) => {
        const status = res.statusCode ?? 0;
        if (status >= 400) {
          const chunks: Buffer[] = [];
          res.on('data', (d: Buffer) => chunks.push(d));
          res.on('end', () =>
            reject(
              new DockerApiError(status, `GET ${path}: ${status} ${Buffer.concat(chunks).toString('utf8').trim()}`),
            ),
          );
          return;
        }
        resolve(res);
      });
      req.on('error', reject);
      req.end();
    });
  }

  /**
   * POST with `Connection: Upgrade` and `Upgrade: tcp`, as the docker CLI does for attach and
   * exec start. With `closeWrite` the client half-closes at once (the CLI does when no stdin is
   * attached); the server must keep streaming output.
   */
  hijack(path: string, body?: unknown): Promise<Hijacked> {
    const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const headers: Record<string, string> = {
      Connection: 'Upgrade',
      Upgrade: 'tcp',
      ...(data
        ? { 'Content-Type': 'application/json', 'Content-Length': String(data.length) }
        : { 'Content-Type': 'text/plain' }),
    };
    return new Promise((resolve, reject) => {
      const req = request(this.opts('POST', this.prefix + path, headers, false));
      req.on('upgrade', (res: IncomingMessage, socket: Socket, head: Buffer) => {
        resolve({ socket, head, status: res.statusCode ?? 0, contentType: String(res.headers['content-type'] ?? '') });
      });
      req.on('response', (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () =>
          reject(
            new DockerApiError(
              res.statusCode ?? 0,
              `POST ${path}: ${res.statusCode} (no upgrade) ${Buffer.concat(chunks).toString('utf8').trim()}`,
            ),
          ),
        );
      });
      req.on('error', reject);
      req.end(data);
    });
  }

  /**
   * Exec start as dockerode (testcontainers) does it: no upgrade headers, `{"stdin":true,...}`,
   * and a 200 whose raw body (stdcopy frames, no HTTP framing) ends when the server closes its
   * write side. Resolves with the whole body; `onHead` is called when the response head arrived.
   */
  execStartPlain(execId: string, body: Record<string, unknown>, onHead?: () => void): Promise<Buffer> {
    const data = Buffer.from(JSON.stringify(body));
    return new Promise((resolve, reject) => {
      const req = request(
        this.opts(
          'POST',
          `${this.prefix}/exec/${execId}/start`,
          { 'Content-Type': 'application/json', 'Content-Length': String(data.length) },
          false,
        ),
        (res) => {
          onHead?.();
          const chunks: Buffer[] = [];
          res.on('data', (d: Buffer) => chunks.push(d));
          res.on('end', () => {
            const b = Buffer.concat(chunks);
            if ((res.statusCode ?? 0) >= 400)
              reject(new DockerApiError(res.statusCode ?? 0, `exec start: ${res.statusCode} ${b.toString('utf8')}`));
            else resolve(b);
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      // The request is written but, as in dockerode with openStdin, the socket is not half-closed.
      req.write(data);
      req.end();
    });
  }

  close(): void {
    this.agent.destroy();
  }

  // ---- the calls the scenarios use ----

  async create(body: Record<string, unknown>, name?: string): Promise<string> {
    const r = await this.json<{ Id: string }>(
      'POST',
      `/containers/create${name ? `?name=${encodeURIComponent(name)}` : ''}`,
      body,
    );
    return r.Id;
  }

  start(id: string): Promise<void> {
    return this.json('POST', `/containers/${id}/start`);
  }

  async wait(id: string): Promise<number> {
    return (await this.json<{ StatusCode: number }>('POST', `/containers/${id}/wait`)).StatusCode;
  }

  inspect(id: string): Promise<any> {
    return this.json('GET', `/containers/${id}/json`);
  }

  async remove(id: string): Promise<void> {
    try {
      await this.json('DELETE', `/containers/${id}?force=1&v=1`);
    } catch (err) {
      if (!(err instanceof DockerApiError && err.status === 404)) throw err;
    }
  }

  async execCreate(id: string, body: Record<string, unknown>): Promise<string> {
    return (await this.json<{ Id: string }>('POST', `/containers/${id}/exec`, body)).Id;
  }

  execInspect(execId: string): Promise<{ ExitCode: number | null; Running: boolean }> {
    return this.json('GET', `/exec/${execId}/json`);
  }
}
