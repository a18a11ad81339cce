/**
 * @module test/sim/client
 * A raw HTTP(S) client for the kube-sim tests: requests with the handle's token and CA, and a
 * watch reader that splits the chunked body into events.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { SimHandle } from '../../src/sim/index.js';

export interface Resp {
  status: number;
  headers: IncomingMessage['headers'];
  text: string;
  json: any;
}

export function call(
  sim: Pick<SimHandle, 'url' | 'token' | 'caPem'>,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Resp> {
  return new Promise((resolve, reject) => {
    const u = new URL(path, sim.url);
    const data = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    const h: Record<string, string> = { ...headers };
    if (sim.token && !('authorization' in h)) h.authorization = `Bearer ${sim.token}`;
    if (h.authorization === '') delete h.authorization;
    if (data !== undefined && !h['content-type']) h['content-type'] = 'application/json';
    const req = (u.protocol === 'https:' ? httpsRequest : httpRequest)(
      u,
      { method, headers: h, ca: sim.caPem },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (text += d));
        res.on('end', () => {
          let json: any;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode!, headers: res.headers, text, json });
        });
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

export interface WatchReader {
  status: number;
  headers: IncomingMessage['headers'];
  /** Next event (waits up to `ms`); undefined when the stream ended. */
  next(ms?: number): Promise<any | undefined>;
  /** Resolves when the server ended the stream. */
  ended: Promise<'end' | 'error'>;
  close(): void;
}

export function watch(
  sim: Pick<SimHandle, 'url' | 'token' | 'caPem'>,
  path: string,
  headers: Record<string, string> = {},
): Promise<WatchReader> {
  return new Promise((resolve, reject) => {
    const u = new URL(path, sim.url);
    const h: Record<string, string> = { ...headers };
    if (sim.token) h.authorization = `Bearer ${sim.token}`;
    const req = (u.protocol === 'https:' ? httpsRequest : httpRequest)(u, { headers: h, ca: sim.caPem }, (res) => {
      const queue: any[] = [];
      const waiters: Array<(v: any) => void> = [];
      let buf = '';
      let done = false;
      let endResolve!: (v: 'end' | 'error') => void;
      const ended = new Promise<'end' | 'error'>((r) => (endResolve = r));
      const push = (v: any) => {
        const w = waiters.shift();
        if (w) w(v);
        else queue.push(v);
      };
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        buf += d;
        let i;
        while ((i = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, i);
          buf = buf.slice(i + 1);
          if (line.trim()) push(JSON.parse(line));
        }
      });
      const finish = (how: 'end' | 'error') => {
        if (done) return;
        done = true;
        endResolve(how);
        while (waiters.length) waiters.shift()!(undefined);
      };
      res.on('end', () => finish('end'));
      res.on('error', () => finish('error'));
      res.on('aborted', () => finish('error'));
      req.on('error', () => finish('error'));
      resolve({
        status: res.statusCode!,
        headers: res.headers,
        ended,
        next: (ms = 5000) =>
          new Promise((resolve2, reject2) => {
            if (queue.length) return resolve2(queue.shift());
            if (done) return resolve2(undefined);
            const t = setTimeout(() => reject2(new Error(`no watch event within ${ms} ms`)), ms);
            waiters.push((v) => {
              clearTimeout(t);
              resolve2(v);
            });
          }),
        close: () => req.destroy(),
      });
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * A test pod. `schedulerName: manual` keeps it unscheduled (no scheduler claims it, as on a real
 * cluster), so apiserver tests do not depend on what the simulated kubelet does with pods.
 */
export const pod = (name: string, extra: Record<string, any> = {}) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, ...(extra.metadata ?? {}) },
  spec: {
    schedulerName: 'manual',
    containers: [{ name: 'c', image: 'busybox', command: ['sleep', '1000'] }],
    ...(extra.spec ?? {}),
  },
});

export const tick = () => new Promise((r) => setImmediate(r));
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Poll until fn() is truthy (controllers are asynchronous, as real ones are). */
export async function until<T>(fn: () => T | Promise<T>, ms = 5000, what = 'condition'): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}
