/**
 * engine/ryuk/reaper with real sockets and a fake Docker behind the pruner: ACK only after the
 * filter is durable, the reconnection timeout (a reconnection keeps everything), the connection
 * timeout, "changes detected" retries, SIGTERM with and without clients, SIGKILL, and the log
 * lines Ryuk prints. Timeouts are tens of milliseconds; assertions are on order, not durations.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import net from 'node:net';
import { pino } from 'pino';
import { Reaper } from '../../../src/engine/ryuk/reaper.js';
import { Pruner } from '../../../src/engine/ryuk/prune.js';
import { RyukLog } from '../../../src/engine/ryuk/ryuk-log.js';
import { ryukConfig } from '../../../src/engine/ryuk/config.js';
import type { RyukDocker } from '../../../src/engine/ryuk/host.js';
import { EngineError } from '../../../src/errors.js';

interface Fake {
  docker: RyukDocker;
  containers: Array<{ Id: string; Created: number; Labels: Record<string, string> }>;
  removed: string[];
}

function fakeDocker(): Fake {
  const f: Fake = {
    containers: [],
    removed: [],
    docker: {
      listContainers: async (filters) =>
        f.containers.filter((c) =>
          (filters.label ?? []).every((l) => c.Labels[l.split('=')[0]!] === l.split('=').slice(1).join('=')),
        ),
      removeContainer: async (id) => {
        const i = f.containers.findIndex((c) => c.Id === id);
        if (i < 0) throw new EngineError('not-found', `No such container: ${id}`);
        f.containers.splice(i, 1);
        f.removed.push(id);
      },
      listNetworks: async () => [],
      removeNetwork: async () => {},
      listImages: async () => [],
      removeImage: async () => {},
    },
  };
  return f;
}

function setup(env: string[], fake = fakeDocker()) {
  const log = new RyukLog(1000, false);
  const persisted: string[][] = [];
  let exitCode: number | undefined;
  let onExit: () => void = () => {};
  const exited = new Promise<number>((r) => (onExit = () => r(exitCode!)));
  const reaper: Reaper = new Reaper(ryukConfig(env), {
    log,
    pruner: new Pruner(
      fake.docker,
      { listError: () => {}, removeError: () => {} },
      (ms) => new Promise((r) => setTimeout(r, ms / 100)),
    ),
    klog: pino({ level: 'silent' }),
    persist: async () => {
      await new Promise((r) => setTimeout(r, 20)); // a slow apiserver: the ACK must wait for it
      persisted.push(reaper.saved().filters);
    },
    exited: (code) => {
      exitCode = code;
      onExit();
    },
    maxLineBytes: 1024,
    maxFilters: 4,
    maxConnections: 8,
  });
  const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true }, (s) => reaper.accept(s));
  server.unref(); // a failed assertion must fail the file, not keep it running until the runner's timeout
  const listening = new Promise<number>((r) =>
    server.listen(0, '127.0.0.1', () => r((server.address() as net.AddressInfo).port)),
  );
  const text = () =>
    log
      .all()
      .map((l) => l.slice(31))
      .join('');
  return { reaper, log, persisted, exited, server, listening, fake, text };
}

async function client(port: number) {
  const sock = net.connect(port, '127.0.0.1');
  await new Promise((r) => sock.once('connect', r));
  let got = '';
  sock.on('data', (b: Buffer) => (got += b.toString()));
  const closed = new Promise<void>((r) => sock.once('close', () => r()));
  return { sock, got: () => got, closed };
}

const waitFor = async (cond: () => boolean, what: string) => {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(cond(), what);
};

test('a filter is ACKed only once persisted; a reconnection within the timeout keeps everything; then the matching containers go and Ryuk exits 0', async () => {
  const s = setup(['RYUK_RECONNECTION_TIMEOUT=150ms', 'RYUK_RETRY_OFFSET=0s']);
  s.fake.containers.push(
    { Id: 'victim', Created: 1, Labels: { sess: '1' } },
    { Id: 'other', Created: 1, Labels: { sess: '2' } },
    { Id: 'ryuk', Created: 1, Labels: { sess: '1', 'org.testcontainers.ryuk': 'true' } },
  );
  s.reaper.start(8080);
  const port = await s.listening;
  const a = await client(port);
  a.sock.write('label=sess=1\n');
  await waitFor(() => a.got() === 'ACK\n', 'ACK');
  assert.equal(s.persisted.at(-1), ['{"label":{"sess=1":true}}'], 'persisted before the ACK');
  a.sock.end();
  await a.closed;
  const b = await client(port); // within 150 ms
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(s.fake.removed, []);
  b.sock.end();
  assert.is(await s.exited, 0);
  assert.equal(s.fake.removed, ['victim']);
  const t = s.text();
  assert.match(t, /level=INFO msg=starting connection_timeout=1m0s reconnection_timeout=150ms/);
  assert.match(t, 'level=INFO msg=Started address=[::]:8080\n');
  assert.match(t, /msg="client disconnected" address=127\.0\.0\.1:\d+ clients=0/);
  assert.match(t, 'msg=removed containers=1 networks=0 volumes=0 images=0\n');
  assert.ok(t.trimEnd().endsWith('msg=done'));
  s.server.close();
});

test('nobody connects: the prune check runs after the connection timeout; a resource created after it began waits for the next check', async () => {
  const s = setup(['RYUK_CONNECTION_TIMEOUT=50ms', 'RYUK_CHANGES_RETRY_INTERVAL=50ms', 'RYUK_RETRY_OFFSET=0s']);
  // "Created after the check began": an hour ahead, not the next second, which a check begun 50 ms
  // later under load can already have passed (the container was then pruned without a retry).
  const created = Math.floor(Date.now() / 1000) + 3600;
  s.fake.containers.push({ Id: 'new', Created: created, Labels: {} });
  const filters = new Map([['{"label":{}}', {}]]);
  s.reaper.resume({ filters: [...filters.keys()], connectedOnce: false }, Date.now(), filters);
  await waitFor(() => s.text().includes('change detected, waiting again'), 'a change detected');
  s.fake.containers[0]!.Created = 1;
  assert.is(await s.exited, 0);
  assert.equal(s.fake.removed, ['new']);
  s.server.close();
});

test('SIGTERM with a client connected waits for it; without clients prunes at once; new connections are refused after it', async () => {
  const s = setup(['RYUK_RECONNECTION_TIMEOUT=10s']);
  s.reaper.start(8080);
  const port = await s.listening;
  const a = await client(port);
  await waitFor(() => s.reaper.clientCount === 1, 'connected');
  s.reaper.signal();
  const late = await client(port);
  await late.closed;
  assert.match(s.text(), 'msg="shutdown, aborting client"');
  assert.match(s.text(), 'msg="signal received" clients=1 shutdown_timeout=10m0s');
  a.sock.end();
  // The last client left: the reconnection timeout (10 s) overrides the shutdown's; SIGKILL ends it without a prune.
  s.reaper.kill();
  assert.is(await s.exited, 137);
  s.server.close();
  const t = setup([]);
  t.reaper.start(8080);
  t.reaper.signal();
  assert.is(await t.exited, 0);
  t.server.close();
});

test('limits: a line past the scanner buffer ends the connection; more filters than allowed disconnects', async () => {
  const s = setup([]);
  s.reaper.start(8080);
  const port = await s.listening;
  const a = await client(port);
  a.sock.write(Buffer.alloc(2000, 0x61));
  await a.closed;
  assert.match(s.text(), 'level=ERROR msg=scan');
  const b = await client(port);
  b.sock.write('label=1\nlabel=2\nlabel=3\nlabel=4\nlabel=5\n');
  await b.closed;
  assert.is(b.got(), 'ACK\n'.repeat(4));
  assert.is(s.reaper.filters.size, 4);
  s.reaper.dispose();
  s.server.close();
});

test('limits: connections made during a long prune check are held up to maxConnections; the rest are refused', async () => {
  const fake = fakeDocker();
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const list = fake.docker.listContainers;
  fake.docker.listContainers = async (f) => (await gate, list(f));
  const s = setup(['RYUK_CONNECTION_TIMEOUT=10ms', 'RYUK_RETRY_OFFSET=0s'], fake);
  const port = await s.listening;
  const filters = new Map([['{"label":{"sess=1":true}}', { label: ['sess=1'] }]]);
  s.reaper.resume({ filters: [...filters.keys()], connectedOnce: false }, Date.now(), filters);
  await waitFor(() => s.text().includes('msg="prune check"'), 'the prune check under way');
  const socks = await Promise.all(Array.from({ length: 20 }, () => client(port)));
  let refused = 0;
  for (const c of socks) void c.closed.then(() => refused++);
  await waitFor(() => refused === 12, 'twelve connections refused');
  assert.is(s.reaper.heldCount, 8, 'no more than maxConnections held');
  release();
  s.reaper.dispose();
  for (const c of socks) c.sock.destroy();
  s.server.close();
});

test.run();
