/**
 * pods/attach (stdin/stdinOnce/tty semantics, several sessions, Success status, attach never stops
 * the container) and pods/portforward (v4 channels, the 2-byte port prefix, localhost in the pod's
 * network namespace, errors on the error channel) with a raw `ws` client.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { WebSocket } from 'ws';
import { connect } from 'node:net';
import { PODS } from '../../../src/sim/types.js';
import { busyboxPod, execUrl, phase, startKubelet, waitFor, wsSession, type KubeletHarness } from './helpers.js';

const test = suite<{ h: KubeletHarness }>('attach-portforward');

test.before(async (ctx) => {
  ctx.h = await startKubelet();
});

test.after(async (ctx) => {
  await ctx.h.stop();
});

const attachUrl = (h: KubeletHarness, pod: string, q: Record<string, string>) => execUrl(h.base, pod, [], q, 'attach');

function open(
  url: string,
  protocols = ['v5.channel.k8s.io'],
): Promise<{ ws: WebSocket; got: () => string; frames: Array<{ ch: number; data: Buffer }>; closed: Promise<number> }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url.replace(/^http/, 'ws'), protocols);
    const frames: Array<{ ch: number; data: Buffer }> = [];
    const closed = new Promise<number>((r) => ws.on('close', (code) => r(code)));
    ws.on('message', (d: Buffer) => d.length && frames.push({ ch: d[0]!, data: Buffer.from(d.subarray(1)) }));
    ws.on('open', () =>
      resolve({
        ws,
        frames,
        closed,
        got: () => Buffer.concat(frames.filter((f) => f.ch === 1).map((f) => f.data)).toString(),
      }),
    );
    ws.on('error', reject);
  });
}

test('~> attach with stdin: lines go to the main process; two sessions see the same output; detaching keeps it running', async ({
  h,
}) => {
  h.store.create(PODS, {
    metadata: { name: 'echoer', namespace: 'default' },
    spec: {
      restartPolicy: 'Never',
      terminationGracePeriodSeconds: 0,
      containers: [
        { name: 'c', image: 'busybox', stdin: true, command: ['sh', '-c', 'while read l; do echo "got $l"; done'] },
      ],
    },
  });
  await waitFor(() => phase(h.store, 'echoer') === 'Running', 15000, 'Running');
  const a = await open(attachUrl(h, 'echoer', { stdin: 'true', stdout: 'true', stderr: 'true' }));
  const b = await open(attachUrl(h, 'echoer', { stdout: 'true' }));
  a.ws.send(Buffer.from([0, ...Buffer.from('one\n')]));
  await waitFor(() => a.got().includes('got one') && b.got().includes('got one'), 5000, 'both sessions');
  a.ws.close(1000);
  b.ws.close(1000);
  await a.closed;
  await new Promise((r) => setTimeout(r, 200));
  assert.is(phase(h.store, 'echoer'), 'Running');
  const c = await open(attachUrl(h, 'echoer', { stdin: 'true', stdout: 'true' }));
  c.ws.send(Buffer.from([0, ...Buffer.from('two\n')]));
  await waitFor(() => c.got().includes('got two'), 5000, 'third session');
  assert.not.match(c.got(), 'got one', 'attach shows output from now on');
  c.ws.close(1000);
  h.store.delete(PODS, 'default', 'echoer', 0);
});

test('~> stdinOnce: the first client closing its stdin ends the container stdin; attach ends with Success, no exit code', async ({
  h,
}) => {
  h.store.create(PODS, {
    metadata: { name: 'once', namespace: 'default' },
    spec: {
      restartPolicy: 'Never',
      containers: [
        { name: 'c', image: 'busybox', stdin: true, stdinOnce: true, command: ['sh', '-c', 'cat; echo eof; exit 3'] },
      ],
    },
  });
  await waitFor(() => phase(h.store, 'once') === 'Running', 15000, 'Running');
  const r = await wsSession(attachUrl(h, 'once', { stdin: 'true', stdout: 'true', stderr: 'true' }), {
    onOpen: (ws) => {
      ws.send(Buffer.from([0, ...Buffer.from('data\n')]));
      setTimeout(() => ws.send(Buffer.from([255, 0])), 100);
    },
  });
  assert.is(r.stdout, 'data\neof\n');
  assert.equal(r.status, { metadata: {}, status: 'Success' });
  assert.is(r.closeCode, 1000);
  await waitFor(() => phase(h.store, 'once') === 'Failed', 15000, 'Failed');
  assert.is(h.store.pod('once')!.status.containerStatuses[0].state.terminated.exitCode, 3);
});

test('~> tty container: attach gets the terminal, resize reaches it; a non-TTY request is forced to TTY', async ({
  h,
}) => {
  h.store.create(PODS, {
    metadata: { name: 'term', namespace: 'default' },
    spec: {
      restartPolicy: 'Never',
      terminationGracePeriodSeconds: 0,
      containers: [{ name: 'c', image: 'busybox', stdin: true, tty: true, command: ['sh'] }],
    },
  });
  await waitFor(() => phase(h.store, 'term') === 'Running', 15000, 'Running');
  const a = await open(attachUrl(h, 'term', { stdin: 'true', stdout: 'true', stderr: 'true' }));
  a.ws.send(Buffer.from([4, ...Buffer.from('{"Width":100,"Height":30}')]));
  await new Promise((r) => setTimeout(r, 100));
  a.ws.send(Buffer.from([0, ...Buffer.from('stty size; tty >/dev/null && echo is-a-tty\n')]));
  await waitFor(() => a.got().includes('30 100') && a.got().includes('is-a-tty\r\n'), 5000, 'stty size');
  assert.ok(!a.frames.some((f) => f.ch === 2), 'no stderr channel with a TTY');
  a.ws.close(1000);
  h.store.delete(PODS, 'default', 'term', 0);
});

test('~> attach to a container that is not running is an error; v4 gets it before the upgrade', async ({ h }) => {
  const r = await runDone(h);
  const v5 = await wsSession(attachUrl(h, r, { stdout: 'true' }));
  assert.is(v5.status.reason, 'InternalError');
  assert.is(v5.status.message, 'Internal error occurred: unable to upgrade connection: container not found ("c")');
  assert.is(v5.closeCode, 1000);
  try {
    await wsSession(attachUrl(h, r, { stdout: 'true' }), { protocols: ['v4.channel.k8s.io'] });
    assert.unreachable();
  } catch (e) {
    assert.is((e as { statusCode: number }).statusCode, 500);
    assert.match((e as { body: string }).body, 'container not found (\\"c\\")');
  }
});

async function runDone(h: KubeletHarness): Promise<string> {
  h.store.create(PODS, busyboxPod('finished', ['true'], { restartPolicy: 'Never' }));
  await waitFor(() => phase(h.store, 'finished') === 'Succeeded', 15000, 'Succeeded');
  return 'finished';
}

test('~> portforward: port prefix on both channels, then a TCP conversation with localhost in the pod', async ({
  h,
}) => {
  h.store.create(PODS, {
    metadata: { name: 'pf', namespace: 'default' },
    spec: {
      restartPolicy: 'Never',
      terminationGracePeriodSeconds: 0,
      containers: [
        {
          name: 'c',
          image: 'busybox',
          command: ['sh', '-c', 'mkdir /www; echo via-portforward > /www/i; exec httpd -f -p 127.0.0.1:8080 -h /www'],
        },
      ],
    },
  });
  await waitFor(() => phase(h.store, 'pf') === 'Running', 15000, 'Running');
  await new Promise((r) => setTimeout(r, 200));
  const url = `${h.base}/api/v1/namespaces/default/pods/pf/portforward?ports=8080`;
  const s = await open(url, ['v5.channel.k8s.io', 'v4.channel.k8s.io', 'channel.k8s.io']);
  assert.is(s.ws.protocol, 'v4.channel.k8s.io');
  s.ws.send(Buffer.from([0, ...Buffer.from('GET /i HTTP/1.0\r\n\r\n')]));
  const code = await s.closed;
  assert.equal([...s.frames[0]!.data], [0x90, 0x1f]);
  assert.is(s.frames[0]!.ch, 0);
  assert.is(s.frames[1]!.ch, 1);
  assert.equal([...s.frames[1]!.data], [0x90, 0x1f]);
  const body = Buffer.concat(
    s.frames
      .slice(2)
      .filter((f) => f.ch === 0)
      .map((f) => f.data),
  ).toString();
  assert.match(body, /^HTTP\/1\.[01] 200 OK/);
  assert.match(body, 'via-portforward');
  assert.is(code, 1000);
});

test('~> portforward to a closed port: error text on the error channel', async ({ h }) => {
  const s = await open(`${h.base}/api/v1/namespaces/default/pods/pf/portforward?ports=9999`, ['v4.channel.k8s.io']);
  await s.closed;
  const err = Buffer.concat(
    s.frames
      .filter((f) => f.ch === 1)
      .slice(1)
      .map((f) => f.data),
  ).toString();
  assert.match(err, /^error forwarding port 9999 to pod [0-9a-f]+, uid : /);
  assert.match(err, 'connection refused');
});

test('~> portforward without ports is 400; SPDY-in-WebSocket (kubectl port-forward) gets a clear 400', async ({
  h,
}) => {
  const url = `${h.base}/api/v1/namespaces/default/pods/pf/portforward`;
  try {
    await wsSession(url, { protocols: ['v4.channel.k8s.io'] });
    assert.unreachable();
  } catch (e) {
    assert.is((e as { statusCode: number }).statusCode, 400);
    assert.match((e as { body: string }).body, 'query parameter \\"port\\" is required');
  }
  // kubectl >= 1.31 offers SPDY tunnelled in WebSocket (a subprotocol the `ws` client refuses to send: raw request).
  const sock = connect(Number(new URL(url).port), '127.0.0.1');
  let text = '';
  sock.on('data', (d) => (text += d));
  sock.write(
    `GET /api/v1/namespaces/default/pods/pf/portforward HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: SPDY/3.1+portforward.k8s.io\r\n\r\n`,
  );
  await new Promise((r) => sock.once('close', r));
  assert.match(text, /^HTTP\/1\.1 400 /);
  assert.match(text, 'SPDY (and SPDY tunnelled in WebSocket, kubectl port-forward) is not supported');
  h.store.delete(PODS, 'default', 'pf', 0);
});

test.run();
