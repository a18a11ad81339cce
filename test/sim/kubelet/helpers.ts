/**
 * @module test/sim/kubelet/helpers
 * Test helpers for the kubelet alone: an in-memory KubeletStore with the apiserver behaviours the
 * kubelet relies on (uid, resourceVersion, watch events, graceful deletion as deletionTimestamp),
 * and a tiny HTTP front that routes pods/{log,exec,attach,portforward} to the kubelet the way
 * kube-sim's apiserver does. Real-client end-to-end tests use startSim() instead.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FaultRegistry } from '../../../src/sim/faults.js';
import { createKubelet } from '../../../src/sim/kubelet/index.js';
import { writeStatus, notFound } from '../../../src/sim/status.js';
import {
  PODS,
  type Gvr,
  type KObject,
  type Kubelet,
  type KubeletStore,
  type WatchEvent,
} from '../../../src/sim/types.js';

type Obj = Record<string, any>;

export class FakeStore implements KubeletStore {
  private objects = new Map<string, KObject>();
  private subs = new Map<string, Set<(ev: WatchEvent) => void>>();
  events: Array<{ type: string; reason: string; message: string; name: string }> = [];
  private rv = 1;

  private key(gvr: Gvr, ns: string | undefined, name: string): string {
    return `${gvr.resource}/${ns ?? ''}/${name}`;
  }

  private emit(gvr: Gvr, type: WatchEvent['type'], obj: KObject): void {
    for (const cb of [...(this.subs.get(gvr.resource) ?? [])]) cb({ type, object: structuredClone(obj) });
  }

  get(gvr: Gvr, ns: string | undefined, name: string): KObject | undefined {
    const o = this.objects.get(this.key(gvr, ns, name));
    return o && structuredClone(o);
  }

  list(gvr: Gvr, ns: string | undefined): KObject[] {
    const out: KObject[] = [];
    for (const [k, v] of this.objects)
      if (k.startsWith(`${gvr.resource}/`) && (ns === undefined || v.metadata.namespace === ns))
        out.push(structuredClone(v));
    return out;
  }

  subscribe(gvr: Gvr, cb: (ev: WatchEvent) => void): () => void {
    let set = this.subs.get(gvr.resource);
    if (!set) this.subs.set(gvr.resource, (set = new Set()));
    set.add(cb);
    return () => set!.delete(cb);
  }

  mutate(gvr: Gvr, ns: string | undefined, name: string, fn: (obj: KObject) => void): KObject | undefined {
    const k = this.key(gvr, ns, name);
    const cur = this.objects.get(k);
    if (!cur) return undefined;
    const copy = structuredClone(cur);
    fn(copy);
    copy.metadata.resourceVersion = String(++this.rv);
    this.objects.set(k, copy);
    this.emit(gvr, 'MODIFIED', copy);
    return structuredClone(copy);
  }

  remove(gvr: Gvr, ns: string | undefined, name: string): void {
    const k = this.key(gvr, ns, name);
    const cur = this.objects.get(k);
    if (!cur) return;
    this.objects.delete(k);
    this.emit(gvr, 'DELETED', cur);
  }

  recordEvent(involved: KObject, type: 'Normal' | 'Warning', reason: string, message: string): void {
    this.events.push({ type, reason, message, name: involved.metadata.name ?? '' });
  }

  /** Create as the apiserver does (uid, resourceVersion, a Pending status for pods). */
  create(gvr: Gvr, obj: Obj): KObject {
    const o = structuredClone(obj) as KObject;
    o.metadata.namespace ??= gvr.namespaced ? 'default' : undefined;
    o.metadata.uid = randomUUID();
    o.metadata.resourceVersion = String(++this.rv);
    o.metadata.creationTimestamp = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    if (gvr.resource === 'pods') {
      const spec = ((o as Obj).spec ??= {});
      spec.restartPolicy ??= 'Always';
      spec.terminationGracePeriodSeconds ??= 30;
      for (const c of [...(spec.containers ?? []), ...(spec.initContainers ?? [])])
        c.imagePullPolicy ??= 'IfNotPresent';
      (o as Obj).status = { phase: 'Pending', qosClass: 'BestEffort' };
    }
    this.objects.set(this.key(gvr, o.metadata.namespace, o.metadata.name!), o);
    this.emit(gvr, 'ADDED', o);
    return structuredClone(o);
  }

  /** Delete as the apiserver does: pods with a grace period get deletionTimestamp; others go at once. */
  delete(gvr: Gvr, ns: string | undefined, name: string, graceSeconds?: number): void {
    const cur = this.objects.get(this.key(gvr, ns, name));
    if (!cur) return;
    const grace = graceSeconds ?? (cur as Obj).spec?.terminationGracePeriodSeconds ?? 30;
    if (gvr.resource === 'pods' && grace > 0 && (cur as Obj).spec?.nodeName) {
      this.mutate(gvr, ns, name, (o) => {
        o.metadata.deletionTimestamp = new Date(Date.now() + grace * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
        o.metadata.deletionGracePeriodSeconds = grace;
      });
    } else this.remove(gvr, ns, name);
  }

  pod(name: string, ns = 'default'): Obj | undefined {
    return this.get(PODS, ns, name) as Obj | undefined;
  }
}

export interface KubeletHarness {
  store: FakeStore;
  faults: FaultRegistry;
  kubelet: Kubelet;
  server: Server;
  base: string;
  stateDir: string;
  stop(): Promise<void>;
}

/** A kubelet on a fake store behind a minimal HTTP front (no auth, no discovery). */
export async function startKubelet(
  extra: Record<string, unknown> = {},
  featureGates: Record<string, boolean> = {},
  parentDir = tmpdir(),
): Promise<KubeletHarness> {
  const store = new FakeStore();
  const faults = new FaultRegistry();
  const stateDir = mkdtempSync(join(parentDir, 'kubelet-test-'));
  const kubelet = createKubelet(store, faults, {
    stateDir,
    nodeName: 'kube-sim-node',
    featureGates,
    extra: { backoffInitialMs: 200, backoffMaxMs: 1000, ...extra },
  });
  await kubelet.start();
  const route = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/(log|exec|attach|portforward)(?:\?|$)/;
  const server = createServer((req, res) => {
    const m = route.exec(req.url ?? '');
    const pod = m && store.get(PODS, m[1], m[2]!);
    if (!m || !pod) return writeStatus(res, notFound('pods', m?.[2] ?? ''));
    if (m[3] === 'log') kubelet.handleLog(req, res, pod);
    else kubelet.handlePlain(m[3] as 'exec', req, res, pod);
  });
  server.on('upgrade', (req, socket, head) => {
    const m = route.exec(req.url ?? '');
    const pod = m && store.get(PODS, m[1], m[2]!);
    if (!m || !pod || m[3] === 'log') {
      socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    kubelet.handleUpgrade(m[3] as 'exec', req, socket, head, pod);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    store,
    faults,
    kubelet,
    server,
    base: `http://127.0.0.1:${port}`,
    stateDir,
    async stop() {
      await kubelet.stop();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

export async function waitFor<T>(
  fn: () => T | undefined | false | null,
  timeoutMs = 15000,
  what = 'condition',
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export function busyboxPod(name: string, command: string[], extra: Obj = {}): Obj {
  const { containers, ...rest } = extra;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default' },
    spec: { containers: containers ?? [{ name: 'c', image: 'busybox', command }], ...rest },
  };
}

export const phase = (store: FakeStore, name: string) => store.pod(name)?.status?.phase as string | undefined;

export interface WsResult {
  protocol: string;
  frames: Array<{ ch: number; data: Buffer }>;
  stdout: string;
  stderr: string;
  status: any;
  closeCode: number;
  firstFrame?: Buffer;
}

/** A raw `ws` client session: collects channels, parses the channel-3 Status, records the close code. */
export function wsSession(
  url: string,
  opts: { protocols?: string[]; onOpen?: (ws: import('ws').WebSocket) => void; headers?: Record<string, string> } = {},
): Promise<WsResult & { ws: import('ws').WebSocket }> {
  return import('ws').then(
    ({ WebSocket }) =>
      new Promise((resolve, reject) => {
        const ws = new WebSocket(
          url.replace(/^http/, 'ws'),
          opts.protocols ?? ['v5.channel.k8s.io', 'v4.channel.k8s.io'],
          { perMessageDeflate: false, headers: opts.headers },
        );
        const frames: Array<{ ch: number; data: Buffer }> = [];
        let firstFrame: Buffer | undefined;
        ws.on('unexpected-response', (_req, res) => {
          let body = '';
          res.on('data', (d) => (body += d));
          res.on('end', () =>
            reject(Object.assign(new Error(`HTTP ${res.statusCode}: ${body}`), { statusCode: res.statusCode, body })),
          );
        });
        ws.on('error', reject);
        ws.on('open', () => opts.onOpen?.(ws));
        ws.on('message', (d: Buffer) => {
          firstFrame ??= Buffer.from(d);
          if (d.length) frames.push({ ch: d[0]!, data: Buffer.from(d.subarray(1)) });
        });
        ws.on('close', (code) => {
          const text = (ch: number) => Buffer.concat(frames.filter((f) => f.ch === ch).map((f) => f.data)).toString();
          const st = text(3);
          let status: any;
          try {
            status = st ? JSON.parse(st) : undefined;
          } catch {
            status = st;
          }
          resolve({
            ws,
            protocol: ws.protocol,
            frames,
            stdout: text(1),
            stderr: text(2),
            status,
            closeCode: code,
            firstFrame,
          });
        });
      }),
  );
}

export function execUrl(
  base: string,
  pod: string,
  argv: string[],
  q: Record<string, string> = { stdout: 'true', stderr: 'true' },
  kind = 'exec',
  ns = 'default',
): string {
  const p = new URLSearchParams(q);
  for (const a of argv) p.append('command', a);
  return `${base}/api/v1/namespaces/${ns}/pods/${pod}/${kind}?${p}`;
}

/** Run a pod to completion (restartPolicy Never); returns its phase, exit code and log. */
export async function runToCompletion(
  h: KubeletHarness,
  pod: Obj,
  timeoutMs = 20000,
): Promise<{ phase: string; exitCode: number; log: string; pod: Obj }> {
  pod.spec.restartPolicy ??= 'Never';
  h.store.create(PODS, pod);
  const name = pod.metadata.name;
  await waitFor(() => ['Succeeded', 'Failed'].includes(phase(h.store, name) ?? ''), timeoutMs, `${name} to complete`);
  const p = h.store.pod(name)!;
  const c = p.spec.containers.length > 1 ? `?container=${p.spec.containers[0].name}` : '';
  const log = await (await fetch(`${h.base}/api/v1/namespaces/default/pods/${name}/log${c}`)).text();
  return { phase: p.status.phase, exitCode: p.status.containerStatuses[0].state.terminated?.exitCode, log, pod: p };
}

/** Exec in a running pod; returns stdout, stderr and the exit code (0 on Success). */
export async function execIn(
  h: KubeletHarness,
  pod: string,
  argv: string[],
  container?: string,
): Promise<{ stdout: string; stderr: string; code: number }> {
  const q: Record<string, string> = { stdout: 'true', stderr: 'true' };
  if (container) q.container = container;
  const r = await wsSession(execUrl(h.base, pod, argv, q));
  const code = r.status?.status === 'Success' ? 0 : Number(r.status?.details?.causes?.[0]?.message ?? -1);
  return { stdout: r.stdout, stderr: r.stderr, code };
}

/** Is `cmd` on PATH (the sandbox tests need bwrap, strace, ip)? */
export function onPath(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** The environment the sandbox tests give their processes. */
export const SANDBOX_ENV = { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin' };
