/**
 * @module test/kube/fake-apiserver
 * A deliberately tiny test double of the Kubernetes REST + watch API for src/kube's unit tests:
 * one collection (`/api/v1/namespaces/<ns>/<resource>`), resourceVersions, list, watch from a
 * resourceVersion (410 as an ERROR event when it is older than `expireBefore`), label equality
 * selectors, and fault knobs (fail the next N requests with a status, drop open watches).
 * The product's own tests run against kube-sim; this double only isolates the client and cache.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

interface Obj {
  metadata: { name: string; namespace?: string; uid: string; resourceVersion: string; labels?: Record<string, string> };
  [k: string]: unknown;
}

export interface FakeApiserver {
  url: string;
  kubeconfig: string;
  rv: number;
  objects: Map<string, Obj>;
  history: Array<{ rv: number; type: string; object: Obj }>;
  /** Requests seen (method + path). */
  seen: string[];
  failNext: { status: number; count: number; retryAfter?: string; pathContains?: string };
  expireBefore: number;
  /** Hold every answer back this long (ms): a slow apiserver, so a client can leave mid-request. */
  delayMs: number;
  put(name: string, labels?: Record<string, string>, extra?: Record<string, unknown>): Obj;
  remove(name: string): void;
  dropWatches(): void;
  openWatches(): number;
  close(): Promise<void>;
}

export async function startFakeApiserver(): Promise<FakeApiserver> {
  const watches = new Set<{ res: http.ServerResponse; selector: Record<string, string> }>();
  let uid = 0;
  const matches = (o: Obj, sel: Record<string, string>) =>
    Object.entries(sel).every(([k, v]) => o.metadata.labels?.[k] === v);
  const parseSel = (s: string | null) =>
    Object.fromEntries(
      (s ?? '')
        .split(',')
        .filter(Boolean)
        .map((kv) => kv.split('=') as [string, string]),
    );
  const f: FakeApiserver = {
    url: '',
    kubeconfig: '',
    rv: 100,
    objects: new Map(),
    history: [],
    seen: [],
    failNext: { status: 0, count: 0 },
    expireBefore: 0,
    delayMs: 0,
    put(name, labels, extra = {}) {
      const old = f.objects.get(name);
      f.rv++;
      const o: Obj = {
        ...extra,
        metadata: {
          name,
          namespace: 'default',
          uid: old?.metadata.uid ?? `uid-${++uid}`,
          resourceVersion: String(f.rv),
          labels,
        },
      };
      f.objects.set(name, o);
      emit(old ? 'MODIFIED' : 'ADDED', o);
      return o;
    },
    remove(name) {
      const o = f.objects.get(name);
      if (!o) return;
      f.objects.delete(name);
      f.rv++;
      emit('DELETED', { ...o, metadata: { ...o.metadata, resourceVersion: String(f.rv) } });
    },
    dropWatches() {
      for (const w of watches) w.res.destroy();
      watches.clear();
    },
    openWatches: () => watches.size,
    close: async () => {
      f.dropWatches();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
  function emit(type: string, object: Obj) {
    f.history.push({ rv: f.rv, type, object });
    for (const w of watches) if (matches(object, w.selector)) w.res.write(JSON.stringify({ type, object }) + '\n');
  }
  const server = http.createServer((req, res) => {
    const u = new URL(req.url!, 'http://x');
    f.seen.push(`${req.method} ${u.pathname}${u.searchParams.get('watch') ? '?watch' : ''}`);
    if (f.delayMs > 0) setTimeout(() => serve(req, res, u), f.delayMs);
    else serve(req, res, u);
  });
  function serve(req: http.IncomingMessage, res: http.ServerResponse, u: URL) {
    if (f.failNext.count > 0 && (!f.failNext.pathContains || u.pathname.includes(f.failNext.pathContains))) {
      f.failNext.count--;
      const headers: Record<string, string> = { 'Content-Type': 'application/json' };
      if (f.failNext.retryAfter !== undefined) headers['Retry-After'] = f.failNext.retryAfter;
      res.writeHead(f.failNext.status, headers);
      return res.end(
        JSON.stringify({
          kind: 'Status',
          apiVersion: 'v1',
          status: 'Failure',
          code: f.failNext.status,
          reason: f.failNext.status === 429 ? 'TooManyRequests' : 'InternalError',
          message: 'injected failure',
        }),
      );
    }
    if (u.pathname === '/version') {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      return res.end(JSON.stringify({ major: '1', minor: '33', gitVersion: 'v1.33.0-fake' }));
    }
    const selector = parseSel(u.searchParams.get('labelSelector'));
    if (u.searchParams.get('watch')) {
      const from = Number(u.searchParams.get('resourceVersion') ?? f.rv);
      res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
      res.flushHeaders();
      if (from < f.expireBefore) {
        res.end(
          JSON.stringify({
            type: 'ERROR',
            object: {
              kind: 'Status',
              apiVersion: 'v1',
              status: 'Failure',
              code: 410,
              reason: 'Expired',
              message: `too old resource version: ${from} (${f.rv})`,
            },
          }) + '\n',
        );
        return;
      }
      for (const h of f.history)
        if (h.rv > from && matches(h.object, selector))
          res.write(JSON.stringify({ type: h.type, object: h.object }) + '\n');
      const w = { res, selector };
      watches.add(w);
      res.on('close', () => watches.delete(w));
      return;
    }
    if (req.method === 'GET') {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      return res.end(
        JSON.stringify({
          kind: 'List',
          apiVersion: 'v1',
          metadata: { resourceVersion: String(f.rv) },
          items: [...f.objects.values()].filter((o) => matches(o, selector)),
        }),
      );
    }
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      res.writeHead(201, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ echoed: body ? JSON.parse(body) : null, method: req.method }));
    });
  }
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  f.url = `http://127.0.0.1:${port}`;
  f.kubeconfig = [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    `- name: fake`,
    `  cluster: { server: "${f.url}", insecure-skip-tls-verify: true }`,
    'users:',
    '- name: u',
    '  user: { token: "fake-token" }',
    'contexts:',
    '- name: fake',
    '  context: { cluster: fake, user: u, namespace: fakens }',
    'current-context: fake',
    '',
  ].join('\n');
  return f;
}
