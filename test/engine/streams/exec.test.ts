/**
 * engine/exec with a fake engine and a fake exec WebSocket: the exit code is recorded before the
 * client's stream is closed; a process that could not start (an InternalError status) gets
 * dockerd's answer (the runtime message on stdout + "\r\n", exit 126); NonZeroExitCode passes
 * through; the start body's Tty decides the framing; 409/404 with moby's texts; events.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { EventEmitter } from 'node:events';
import { PassThrough, Writable } from 'node:stream';
import { ExecService } from '../../../src/engine/streams/exec.js';
import type { StreamsHost } from '../../../src/engine/streams/host.js';
import { pino } from 'pino';
import { statusFromError } from '../../../src/errors.js';
import type { ClientConn } from '../../../src/engine/backend/streams.js';

class FakeWs extends EventEmitter {
  readonly protocol = 'v5.channel.k8s.io';
  readyState = 1;
  bufferedAmount = 0;
  readonly OPEN = 1;
  readonly CONNECTING = 0;
  sent: Buffer[] = [];
  send(b: Buffer, cb?: (e?: Error) => void) {
    this.sent.push(Buffer.from(b));
    cb?.();
  }
  pause() {}
  resume() {}
  close() {
    this.readyState = 3;
  }
  terminated = false;
  terminate() {
    this.terminated = true;
    this.readyState = 3;
  }
  /** The server side: a message, then the close. */
  serve(messages: Buffer[], code = 1000) {
    for (const m of messages) this.emit('message', m, true);
    this.readyState = 3;
    this.emit('close', code);
  }
}

class Conn implements ClientConn {
  readonly chunks: Buffer[] = [];
  readonly output: Writable;
  readonly input = new PassThrough();
  closed = false;
  wroteBeforeClose: unknown;
  constructor(private readonly onCloseWrite: () => void) {
    this.output = new Writable({
      write: (c, _e, cb) => {
        this.chunks.push(Buffer.from(c));
        cb();
      },
    });
  }
  closeWrite() {
    this.onCloseWrite();
    this.output.end();
  }
  destroy() {
    this.closed = true;
  }
  onClose() {}
  get bytes() {
    return Buffer.concat(this.chunks);
  }
}

const events: Array<[string, Record<string, string> | undefined]> = [];
let ws: FakeWs;
let dialed: { command: readonly string[]; tty?: boolean; stdin?: boolean; stderr?: boolean } | undefined;
let running = true;
const rec = { id: 'c'.repeat(64), name: 'ctr', config: { Image: 'busybox' }, state: { run: 1, restartCount: 0 } };
const host = {
  kube: {
    namespace: 'ns',
    client: {} as never,
    dialer: {
      exec: async (
        _ns: string,
        _pod: string,
        o: { command: readonly string[]; tty?: boolean; stdin?: boolean; stderr?: boolean },
      ) => {
        dialed = o;
        ws = new FakeWs();
        return { ws, protocol: ws.protocol };
      },
    } as never,
  },
  target: (n: string) => {
    if (n !== 'ctr') throw Object.assign(new Error(`No such container: ${n}`), { category: 'not-found' });
    return {
      id: rec.id,
      name: 'ctr',
      namespace: 'ns',
      config: rec.config,
      run: 1,
      podName: 'ctr-pod',
      containerName: 'main',
      state: { Running: running, Paused: false, Restarting: false } as never,
    };
  },
  index: {
    get: () => rec as never,
    currentPod: () =>
      ({
        metadata: { name: 'ctr-pod' },
        status: {
          containerStatuses: [{ name: 'main', state: running ? { running: {} } : { terminated: { exitCode: 0 } } }],
        },
      }) as never,
    when: async () => undefined as never,
  },
  events: { container: (_s: unknown, action: string, extra?: Record<string, string>) => events.push([action, extra]) },
  eventSource: () => ({ id: rec.id, name: 'ctr', image: 'busybox', labels: {} }),
} as unknown as StreamsHost;

const svc = new ExecService(
  host,
  { store: { retentionMs: 60_000, maxEntries: 100 }, maxDetached: 100, detachedIdleMs: 0 },
  pino({ level: 'silent' }),
);

function frames(b: Buffer): Array<[number, string]> {
  const out: Array<[number, string]> = [];
  for (let i = 0; i + 8 <= b.length;) {
    const len = b.readUInt32BE(i + 4);
    out.push([b[i]!, b.subarray(i + 8, i + 8 + len).toString()]);
    i += 8 + len;
  }
  return out;
}

const status = (o: unknown) => Buffer.concat([Buffer.from([3]), Buffer.from(JSON.stringify(o))]);

test('~> exit code from NonZeroExitCode, recorded before the stream closes; events exec_create/start/die', async () => {
  events.length = 0;
  const { Id } = svc.create('ctr', { Cmd: ['sh', '-c', 'exit 3'], AttachStdout: true, AttachStderr: true });
  assert.is(svc.inspect(Id).ExitCode, null);
  const start = await svc.start(Id, { Tty: false });
  assert.is(start.tty, false);
  const conn = new Conn(() => (conn.wroteBeforeClose = svc.inspect(Id).ExitCode));
  const done = start.run(conn);
  ws.serve([
    Buffer.from([1]),
    Buffer.from('\x01out\n'),
    Buffer.from('\x02err\n'),
    status({
      metadata: {},
      status: 'Failure',
      reason: 'NonZeroExitCode',
      details: { causes: [{ reason: 'ExitCode', message: '3' }] },
    }),
  ]);
  await done;
  assert.is(conn.wroteBeforeClose, 3, 'ExitCode was final when the stream was closed');
  assert.equal(frames(conn.bytes), [
    [1, 'out\n'],
    [2, 'err\n'],
  ]);
  assert.equal(
    events.map((e) => e[0]),
    ['exec_create: sh -c exit 3', 'exec_start: sh -c exit 3', 'exec_die'],
  );
  assert.equal(events[2]![1], { execID: Id, exitCode: '3' });
  assert.is(svc.inspect(Id).Running, false);
});

test('~> create dials nothing; the session ends at the status while the apiserver holds the socket open, then we close it', async () => {
  dialed = undefined;
  const { Id } = svc.create('ctr', { Cmd: ['touch', '/created'], AttachStdout: true });
  assert.is(dialed, undefined, 'the command runs at the dial: only start dials');
  const start = await svc.start(Id, { Tty: false });
  assert.equal(dialed!.command, ['touch', '/created']);
  const order: string[] = [];
  const conn = new Conn(() => {
    order.push(`eof (exit ${svc.inspect(Id).ExitCode}, ws ${ws.readyState})`);
  });
  const closeWs = ws.close.bind(ws);
  ws.close = () => {
    order.push('ws close');
    closeWs();
  };
  const done = start.run(conn);
  // The apiserver writes the status last and waits for the client to close (no close frame here).
  ws.emit('message', Buffer.from('\x01ok\n'), true);
  ws.emit('message', status({ metadata: {}, status: 'Success' }), true);
  await done;
  assert.equal(order, ['eof (exit 0, ws 1)', 'ws close'], 'the client EOF first, with the exit code final');
  assert.equal(frames(conn.bytes), [[1, 'ok\n']]);
});

test('~> a process that cannot start: the runtime message on stdout + \\r\\n, exit 126 (dockerd)', async () => {
  const { Id } = svc.create('ctr', { Cmd: ['nope'], AttachStdout: true, AttachStderr: true });
  const start = await svc.start(Id, {});
  const conn = new Conn(() => (conn.wroteBeforeClose = svc.inspect(Id).ExitCode));
  const done = start.run(conn);
  const msg =
    'error executing command in container: failed to exec in container: failed to start exec "x": OCI runtime exec failed: exec failed: unable to start container process: exec: "nope": executable file not found in $PATH: unknown';
  ws.serve([
    Buffer.from([1]),
    status({
      metadata: {},
      status: 'Failure',
      reason: 'InternalError',
      code: 500,
      message: `Internal error occurred: ${msg}`,
    }),
  ]);
  await done;
  assert.is(conn.wroteBeforeClose, 126);
  assert.equal(frames(conn.bytes), [
    [
      1,
      'OCI runtime exec failed: exec failed: unable to start container process: exec: "nope": executable file not found in $PATH: unknown\r\n',
    ],
  ]);
});

test("~> the start body's Tty decides raw output; Env/WorkingDir wrap the argv; resize before start is sent once dialed", async () => {
  const { Id } = svc.create('ctr', {
    Cmd: ['sh'],
    Tty: true,
    AttachStdin: true,
    AttachStdout: true,
    Env: ['A=1'],
    WorkingDir: '/tmp',
    ConsoleSize: [24, 80],
  });
  svc.resize(Id, 30, 100);
  const start = await svc.start(Id, { Tty: true });
  assert.is(start.tty, true);
  assert.equal(dialed!.command.slice(0, 3), ['env', '--', 'A=1']);
  assert.ok(dialed!.command.includes('/tmp'));
  assert.is(dialed!.tty, true);
  assert.is(dialed!.stderr, false);
  assert.equal(
    ws.sent.map((b) => b.toString('latin1')),
    ['\x04{"Width":100,"Height":30}'],
  );
  const conn = new Conn(() => {});
  const done = start.run(conn);
  svc.resize(Id, 40, 120);
  ws.serve([Buffer.from('\x01raw bytes'), status({ metadata: {}, status: 'Success' })]);
  await done;
  assert.is(conn.bytes.toString(), 'raw bytes');
  assert.is(ws.sent.at(-1)!.toString('latin1'), '\x04{"Width":120,"Height":40}');
  assert.is(svc.inspect(Id).ExitCode, 0);
});

test('~> 409 on a stopped container, 404 for unknown ids, a second start is 409, no command is 400', async () => {
  running = false;
  try {
    svc.create('ctr', { Cmd: ['true'] });
    assert.unreachable();
  } catch (e) {
    assert.is(statusFromError(e), 409);
    assert.is((e as Error).message, `container ${rec.id} is not running`);
  } finally {
    running = true;
  }
  assert.throws(
    () => svc.inspect('nope'),
    (e: unknown) => statusFromError(e) === 404 && (e as Error).message === 'No such exec instance: nope',
  );
  assert.throws(
    () => svc.create('ctr', { Cmd: [] }),
    (e: unknown) => statusFromError(e) === 400,
  );
  const { Id } = svc.create('ctr', { Cmd: ['true'] });
  const s = await svc.start(Id, {});
  await rejects(svc.start(Id, {}), (e: unknown) => statusFromError(e) === 409);
  const conn = new Conn(() => {});
  const done = s.run(conn);
  ws.serve([status({ metadata: {}, status: 'Success' })]);
  await done;
});

async function rejects(p: Promise<unknown>, check: (e: unknown) => boolean): Promise<void> {
  try {
    await p;
  } catch (e) {
    assert.ok(check(e), String(e));
    return;
  }
  assert.unreachable('expected a rejection');
}

test('~> detached execs: at most --max-detached-execs drain at once (503 naming it); one ending makes room', async () => {
  const limited = new ExecService(
    host,
    { store: { retentionMs: 60_000, maxEntries: 100 }, maxDetached: 1, detachedIdleMs: 0 },
    pino({ level: 'silent' }),
  );
  const a = limited.create('ctr', { Cmd: ['sleep', '100'] }).Id;
  await limited.start(a, { Detach: true });
  const first = ws;
  assert.is(limited.detachedRunning, 1);
  const b = limited.create('ctr', { Cmd: ['sleep', '100'] }).Id;
  const err = await limited.start(b, { Detach: true }).then(
    () => undefined,
    (e: Error) => e,
  );
  assert.is(statusFromError(err), 503);
  assert.match(String(err?.message), /--max-detached-execs/);
  first.serve([status({ metadata: {}, status: 'Success' })]);
  await new Promise((r) => setImmediate(r));
  assert.is(limited.inspect(a).ExitCode, 0);
  assert.is(limited.detachedRunning, 0);
  await limited.start(b, { Detach: true });
  assert.is(limited.detachedRunning, 1);
  ws.serve([status({ metadata: {}, status: 'Success' })]);
});

test('~> a detached exec silent past --detached-exec-idle-ms is let go: WebSocket closed, exit code unknown', async () => {
  const idle = new ExecService(
    host,
    { store: { retentionMs: 60_000, maxEntries: 100 }, maxDetached: 10, detachedIdleMs: 20 },
    pino({ level: 'silent' }),
  );
  const id = idle.create('ctr', { Cmd: ['sleep', '100'] }).Id;
  await idle.start(id, { Detach: true });
  const sock = ws;
  for (let i = 0; i < 500 && idle.inspect(id).Running; i++) await new Promise((r) => setTimeout(r, 10));
  assert.is(idle.inspect(id).Running, false);
  assert.is(idle.inspect(id).ExitCode, null);
  assert.ok(sock.terminated);
  assert.is(idle.detachedRunning, 0);
});

test.run();
