/**
 * The published-port forwarder on real sockets: direct (TCP to the pod IP) and pods/portforward
 * (a `ws` server playing the kubelet's v4 port-forward protocol: the 2-byte little-endian port
 * opens channels 0 and 1, data on 0, errors on 1). Slow readers stay bounded, half-close passes
 * through direct connections, a container that does not listen yet is retried.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import net, { type Socket } from 'node:net';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { WebSocketServer, WebSocket } from 'ws';
import pino from 'pino';
import { Forwarder, type ForwardDeps, type ForwardOptions } from '../../../src/engine/ports/forward.js';
import { DEFAULT_ENGINE_OPTIONS } from '../../../src/engine/engine-options.js';

const MiB = 1024 * 1024;
const log = pino({ level: process.env.TEST_LOG ?? 'silent' });

/** A listener whose connections `fwd` forwards with `deps`; returns a connected client socket. */
async function front(
  fwd: Forwarder,
  port: number,
  deps: ForwardDeps,
): Promise<{ client: Socket; accepted: Promise<Socket>; close(): void }> {
  let onAccepted!: (s: Socket) => void;
  const accepted = new Promise<Socket>((r) => (onAccepted = r));
  const srv = net.createServer({ allowHalfOpen: true, pauseOnConnect: true }, (s) => {
    onAccepted(s);
    void fwd.handle(s, port, deps);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const client = net.connect({ port: (srv.address() as net.AddressInfo).port, host: '127.0.0.1', allowHalfOpen: true });
  await new Promise((r) => client.once('connect', r));
  const inner: Socket[] = [];
  void accepted.then((s) => inner.push(s));
  return {
    client,
    accepted,
    close: () => {
      client.destroy();
      for (const s of inner) s.destroy();
      srv.close();
    },
  };
}

const freePort = async () => {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const p = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return p;
};

const readAll = (s: Socket) =>
  new Promise<Buffer>((resolve) => {
    const parts: Buffer[] = [];
    s.on('data', (d) => parts.push(d));
    s.once('end', () => resolve(Buffer.concat(parts)));
  });

const directDeps = (): ForwardDeps => ({
  resolve: async () => ({ ip: '127.0.0.1', namespace: 'ns', pod: 'p' }),
  portForward: () => Promise.reject(new Error('unused')),
});
const opts = (o: Partial<ForwardOptions>): ForwardOptions => ({ ...DEFAULT_ENGINE_OPTIONS.publish.forward, ...o });

test('~> direct: a container that listens late is retried; half-close passes both ways after the bytes', async () => {
  const port = await freePort();
  const fwd = new Forwarder(opts({ mode: 'direct', dialRetryMs: 5_000 }), log);
  const f = await front(fwd, port, directDeps());
  f.client.write('hello ');
  f.client.end('world');
  const got = readAll(f.client);
  // The "container" starts listening only now: the first dials are refused.
  await new Promise((r) => setTimeout(r, 150));
  const app = net.createServer({ allowHalfOpen: true }, (s) => {
    const parts: Buffer[] = [];
    s.on('data', (d) => parts.push(d));
    s.on('end', () => s.end(Buffer.concat(parts).toString().toUpperCase())); // answers after our FIN
  });
  await new Promise<void>((r) => app.listen(port, '127.0.0.1', r));
  assert.is((await got).toString(), 'HELLO WORLD');
  f.close();
  app.close();
});

test('~> direct: 16 MiB to a slow reader: the forwarder holds at most about one socket buffer, byte-exact', async () => {
  const total = 16 * MiB;
  const sent = createHash('sha256');
  let appPaused = 0;
  const app = net.createServer((s) => {
    let n = 0;
    const pump = () => {
      while (n < total) {
        const b = Buffer.alloc(64 * 1024, n / 65536);
        sent.update(b);
        n += b.length;
        if (!s.write(b)) {
          appPaused++;
          return void s.once('drain', pump);
        }
      }
      s.end();
    };
    pump();
  });
  await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
  const fwd = new Forwarder(opts({ mode: 'direct' }), log);
  const f = await front(fwd, (app.address() as net.AddressInfo).port, directDeps());
  const inner = await f.accepted;
  let peak = 0;
  const got = createHash('sha256');
  let bytes = 0;
  f.client.pause();
  const tick = setInterval(() => {
    peak = Math.max(peak, inner.writableLength);
    f.client.resume();
  }, 1);
  f.client.on('data', (d) => {
    got.update(d);
    bytes += d.length;
    f.client.pause();
  });
  await new Promise((r) => f.client.once('end', r));
  clearInterval(tick);
  assert.is(bytes, total);
  assert.is(got.digest('hex'), sent.digest('hex'));
  assert.ok(appPaused > 0, 'the container was pushed back');
  assert.ok(peak < 1 * MiB, `kuber-api buffered ${peak} bytes for the slow reader`);
  f.close();
  app.close();
});

test('~> direct: the container gone (resolve says so) disconnects the client', async () => {
  const fwd = new Forwarder(opts({ mode: 'direct' }), log);
  const f = await front(fwd, 1, {
    resolve: async () => undefined,
    portForward: () => Promise.reject(new Error('unused')),
  });
  f.client.resume();
  await new Promise((r) => f.client.once('end', r));
  f.close();
});

/** A kubelet's pods/portforward WebSocket (v4): refuses the first `refuse` sessions, then echoes upper-cased. */
async function fakeKubelet(refuse: number, push = 0) {
  let sessions = 0;
  let pushPaused = 0;
  const wss = new WebSocketServer({
    port: 0,
    host: '127.0.0.1',
    perMessageDeflate: false,
    handleProtocols: () => 'v4.channel.k8s.io',
  });
  wss.on('connection', (ws) => {
    const port = 8080;
    const prefix = (ch: number) => Buffer.from([ch, port & 0xff, port >> 8]);
    ws.send(prefix(0));
    ws.send(prefix(1));
    if (sessions++ < refuse) {
      ws.send(
        Buffer.concat([
          Buffer.from([1]),
          Buffer.from(
            `an error occurred forwarding ${port} -> ${port}: dial tcp4 127.0.0.1:${port}: connect: connection refused`,
          ),
        ]),
      );
      return void ws.close();
    }
    if (push) {
      let n = 0;
      const pump = () => {
        while (n < push) {
          if (ws.bufferedAmount > MiB) {
            pushPaused++;
            return void setTimeout(pump, 1);
          }
          const b = Buffer.alloc(32 * 1024 + 1, 7);
          b[0] = 0;
          ws.send(b);
          n += 32 * 1024;
        }
        ws.close();
      };
      return pump();
    }
    ws.on('message', (d: Buffer) => {
      if (d[0] === 0) ws.send(Buffer.concat([Buffer.from([0]), Buffer.from(d.subarray(1).toString().toUpperCase())]));
      if (d.subarray(1).toString().includes('.')) ws.close();
    });
  });
  await new Promise((r) => wss.once('listening', r));
  const url = `ws://127.0.0.1:${(wss.address() as net.AddressInfo).port}/`;
  const deps: ForwardDeps = {
    resolve: async () => ({ ip: '203.0.113.1', namespace: 'ns', pod: 'p' }),
    portForward: () =>
      new Promise((resolve, reject) => {
        const ws = new WebSocket(url, ['v4.channel.k8s.io'], { perMessageDeflate: false });
        ws.once('open', () => {
          ws.pause(); // as WsDialer.portForward hands it over
          resolve(ws);
        });
        ws.once('error', reject);
      }),
  };
  return {
    deps,
    sessions: () => sessions,
    pushPaused: () => pushPaused,
    close: () => {
      for (const c of wss.clients) c.terminate();
      wss.close();
    },
  };
}

test('~> portforward: port prefixes stripped, a refused session retried with the bytes sent so far replayed', async () => {
  const k = await fakeKubelet(2);
  const fwd = new Forwarder(opts({ mode: 'portforward', dialRetryMs: 5_000 }), log);
  const f = await front(fwd, 8080, k.deps);
  f.client.write('ping');
  await new Promise((r) => setTimeout(r, 20));
  f.client.write(' pong.');
  const got = await readAll(f.client);
  // Each chunk is echoed by the third session: nothing was lost or repeated across the retries.
  assert.is(got.toString(), 'PING PONG.');
  assert.is(k.sessions(), 3);
  f.close();
  k.close();
});

test('~> portforward: 8 MiB to a slow reader pauses the WebSocket (bounded), byte count exact', async () => {
  const total = 8 * MiB;
  const k = await fakeKubelet(0, total);
  const fwd = new Forwarder(opts({ mode: 'portforward' }), log);
  const f = await front(fwd, 8080, k.deps);
  const inner = await f.accepted;
  let peak = 0;
  let bytes = 0;
  f.client.pause();
  const tick = setInterval(() => {
    peak = Math.max(peak, inner.writableLength);
    f.client.resume();
  }, 1);
  f.client.on('data', (d) => {
    bytes += d.length;
    f.client.pause();
  });
  await new Promise((r) => f.client.once('end', r));
  clearInterval(tick);
  assert.is(bytes, total);
  assert.ok(k.pushPaused() > 0, 'the kubelet side was pushed back');
  assert.ok(peak < 2 * MiB, `kuber-api buffered ${peak} bytes for the slow reader`);
  f.close();
  k.close();
});

/**
 * A pod IP that does not answer: a listening socket nobody accepts from, its accept queue filled,
 * so further SYNs are dropped and a connect hangs (addresses cannot be used for this: some
 * machines proxy every outbound connection).
 */
async function blackhole(): Promise<{ port: number; close(): void }> {
  const py = spawn(
    'python3',
    [
      '-c',
      'import socket,sys,time\ns=socket.socket()\ns.bind(("127.0.0.1",0))\ns.listen(0)\nprint(s.getsockname()[1],flush=True)\nsys.stdin.read()',
    ],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const port = await new Promise<number>((r) => py.stdout!.once('data', (d: Buffer) => r(Number(d.toString().trim()))));
  const fillers: Socket[] = [];
  for (let i = 0; i < 3; i++) {
    const s = net.connect({ host: '127.0.0.1', port });
    s.on('error', () => {});
    fillers.push(s);
  }
  await new Promise((r) => setTimeout(r, 50));
  return { port, close: () => (fillers.forEach((s) => s.destroy()), py.stdin!.end()) };
}

test('~> auto: a pod IP that does not answer switches to pods/portforward for this and later connections', async () => {
  const k = await fakeKubelet(0);
  const hole = await blackhole();
  const fwd = new Forwarder(opts({ mode: 'auto', connectTimeoutMs: 300 }), log);
  const f = await front(fwd, hole.port, {
    ...k.deps,
    resolve: async () => ({ ip: '127.0.0.1', namespace: 'ns', pod: 'p' }),
  });
  f.client.end('x.');
  assert.is((await readAll(f.client)).toString(), 'X.');
  assert.is(fwd.effectiveMode, 'portforward');
  f.close();
  k.close();
  hole.close();
});

test.run();
