/**
 * pods/exec over WebSocket against the kubelet (raw `ws` client): protocol negotiation, the initial
 * empty frame, channel-3 Status with the exit code, close 1000, v5 stdin close, TTY resize with
 * both key casings, runc-like 126/127, split and coalesced client frames, errors before/after the upgrade.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { connect } from 'node:net';
import { PODS } from '../../../src/sim/types.js';
import { busyboxPod, execUrl, phase, startKubelet, waitFor, wsSession, type KubeletHarness } from './helpers.js';

const test = suite<{ h: KubeletHarness }>('exec');

test.before(async (ctx) => {
  ctx.h = await startKubelet();
  ctx.h.store.create(
    PODS,
    busyboxPod('p', ['sleep', '3600'], { restartPolicy: 'Never', terminationGracePeriodSeconds: 0 }),
  );
  ctx.h.store.create(
    PODS,
    busyboxPod('two', [], {
      restartPolicy: 'Never',
      containers: [
        { name: 'a', image: 'busybox', command: ['sleep', '3600'] },
        { name: 'b', image: 'busybox', command: ['sleep', '3600'] },
      ],
    }),
  );
  await waitFor(
    () => phase(ctx.h.store, 'p') === 'Running' && phase(ctx.h.store, 'two') === 'Running',
    15000,
    'pods running',
  );
});

test.after(async (ctx) => {
  await ctx.h.stop();
});

test('~> v5: both streams, exit code in details.causes, close 1000, first frame empty on stdout', async ({ h }) => {
  const r = await wsSession(execUrl(h.base, 'p', ['sh', '-c', 'echo out; echo err >&2; exit 3']));
  assert.is(r.protocol, 'v5.channel.k8s.io');
  assert.equal([...r.firstFrame!], [1]);
  assert.is(r.stdout, 'out\n');
  assert.is(r.stderr, 'err\n');
  assert.is(r.status.status, 'Failure');
  assert.is(r.status.reason, 'NonZeroExitCode');
  assert.equal(r.status.details.causes, [{ reason: 'ExitCode', message: '3' }]);
  assert.is(r.closeCode, 1000);
});

test('~> success status is exactly {"metadata":{},"status":"Success"}', async ({ h }) => {
  const r = await wsSession(execUrl(h.base, 'p', ['true']));
  const raw = Buffer.concat(r.frames.filter((f) => f.ch === 3).map((f) => f.data)).toString();
  assert.is(raw, '{"metadata":{},"status":"Success"}');
  assert.is(r.closeCode, 1000);
});

test('~> v4 is chosen when offered first; its exit message is the kubelet one', async ({ h }) => {
  const r = await wsSession(execUrl(h.base, 'p', ['sh', '-c', 'exit 5']), {
    protocols: ['v4.channel.k8s.io', 'v5.channel.k8s.io'],
  });
  assert.is(r.protocol, 'v4.channel.k8s.io');
  assert.is(r.status.details.causes[0].message, '5');
  assert.match(r.status.message, 'error executing command [sh -c exit 5], exit code 5');
});

test('~> v4.base64 uses text frames with an ASCII channel digit', async ({ h }) => {
  const { WebSocket } = await import('ws');
  const msgs: Array<{ text: boolean; data: string }> = [];
  await new Promise<void>((resolve, reject) => {
    const ws = new WebSocket(execUrl(h.base, 'p', ['echo', 'hi']).replace('http', 'ws'), ['v4.base64.channel.k8s.io']);
    ws.on('message', (d, isBinary) => msgs.push({ text: !isBinary, data: d.toString() }));
    ws.on('close', () => resolve());
    ws.on('error', reject);
  });
  assert.ok(msgs.every((m) => m.text));
  const out = msgs
    .filter((m) => m.data[0] === '1')
    .map((m) => Buffer.from(m.data.slice(1), 'base64').toString())
    .join('');
  assert.is(out, 'hi\n');
});

test('~> stdin: data then [255,0] gives the process EOF; output and status still flow', async ({ h }) => {
  const r = await wsSession(
    execUrl(h.base, 'p', ['sh', '-c', 'cat; echo done'], { stdin: 'true', stdout: 'true', stderr: 'true' }),
    {
      onOpen: (ws) => {
        ws.send(Buffer.from([0, ...Buffer.from('line1\n')]));
        ws.send(Buffer.from([0, ...Buffer.from('line2\n')]));
        ws.send(Buffer.from([255, 0]));
      },
    },
  );
  assert.is(r.stdout, 'line1\nline2\ndone\n');
  assert.is(r.status.status, 'Success');
  assert.is(r.closeCode, 1000);
});

test('~> a raw client writing coalesced and split WebSocket frames in odd TCP chunks', async ({ h }) => {
  // Hand-made client: upgrade, then masked frames written byte-split and coalesced.
  const url = new URL(execUrl(h.base, 'p', ['cat'], { stdin: 'true', stdout: 'true' }));
  const sock = connect(Number(url.port), url.hostname);
  await new Promise((r) => sock.once('connect', r));
  sock.write(
    `GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: v5.channel.k8s.io\r\n\r\n`,
  );
  let buf = Buffer.alloc(0);
  sock.on('data', (d) => (buf = Buffer.concat([buf, d])));
  await waitFor(() => buf.includes('\r\n\r\n'), 5000, '101');
  assert.match(buf.toString('latin1', 0, buf.indexOf('\r\n\r\n')), /^HTTP\/1\.1 101/);
  const frame = (payload: Buffer) => {
    const mask = Buffer.from([1, 2, 3, 4]);
    const masked = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]!));
    return Buffer.concat([Buffer.from([0x82, 0x80 | payload.length]), mask, masked]);
  };
  const all = Buffer.concat([
    frame(Buffer.from([0, ...Buffer.from('ab')])),
    frame(Buffer.from([0, ...Buffer.from('cd\n')])),
    frame(Buffer.from([255, 0])),
  ]);
  for (let i = 0; i < all.length; i += 3) {
    sock.write(all.subarray(i, i + 3));
    await new Promise((r) => setTimeout(r, 2));
  }
  await waitFor(() => buf.includes(Buffer.from('Success')), 5000, 'status');
  // Parse server frames after the head (unmasked, small).
  let p = buf.indexOf('\r\n\r\n') + 4;
  let out = '';
  while (p + 2 <= buf.length) {
    const len = buf[p + 1]! & 0x7f;
    const payload = buf.subarray(p + 2, p + 2 + len);
    if (buf[p]! === 0x82 && payload[0] === 1) out += payload.subarray(1).toString();
    p += 2 + len;
  }
  assert.is(out, 'abcd\n');
  sock.destroy();
});

test('~> TTY: stty size shows the resize, both key casings, split and multiple objects', async ({ h }) => {
  const r = await wsSession(
    execUrl(h.base, 'p', ['sh', '-c', 'stty size; read x; stty size; read y; stty size'], {
      stdin: 'true',
      stdout: 'true',
      tty: 'true',
    }),
    {
      onOpen: (ws) => {
        ws.send(Buffer.from([4, ...Buffer.from('{"Width":80,"Height":24}\n')]));
        setTimeout(() => {
          ws.send(Buffer.from([4, ...Buffer.from('{"width":132,')]));
          ws.send(Buffer.from([4, ...Buffer.from('"height":50}')]));
          ws.send(Buffer.from([0, ...Buffer.from('\n')]));
        }, 300);
        setTimeout(() => {
          ws.send(Buffer.from([4, ...Buffer.from('{"Width":10,"Height":11}{"width":100,"height":40}')]));
          ws.send(Buffer.from([0, ...Buffer.from('\n')]));
        }, 600);
      },
    },
  );
  const sizes = r.stdout.split(/\r?\n/).filter((l) => /^\d+ \d+$/.test(l));
  assert.equal(sizes, ['24 80', '50 132', '40 100']);
  assert.is(r.status.status, 'Success');
});

test('~> exit codes 127 (not found) and 126 (not executable) with the runtime message on stderr', async ({ h }) => {
  let r = await wsSession(execUrl(h.base, 'p', ['nosuchcmd']));
  assert.is(r.status.details.causes[0].message, '127');
  assert.match(r.stderr, 'exec: "nosuchcmd": executable file not found in $PATH');
  r = await wsSession(execUrl(h.base, 'p', ['/etc/passwd']));
  assert.is(r.status.details.causes[0].message, '126');
  assert.match(r.stderr, 'permission denied');
});

test('~> exec sees the container: files it wrote, its pid namespace, its hostname', async ({ h }) => {
  await wsSession(execUrl(h.base, 'p', ['sh', '-c', 'echo hello > /tmp/shared']));
  const r = await wsSession(
    execUrl(h.base, 'p', ['sh', '-c', 'cat /tmp/shared; hostname; cat /proc/1/cmdline | tr "\\0" " "']),
  );
  assert.is(r.stdout, 'hello\np\nsleep 3600 ');
});

test('~> pings are answered', async ({ h }) => {
  const pong = await new Promise<boolean>((resolve) => {
    void wsSession(execUrl(h.base, 'p', ['sleep', '1']), {
      onOpen: (ws) => {
        ws.on('pong', () => resolve(true));
        ws.ping();
      },
    });
  });
  assert.ok(pong);
});

test('~> errors before the upgrade: container not valid, name required, no streams', async ({ h }) => {
  const err = async (url: string, protocols?: string[]) => {
    try {
      await wsSession(url, { protocols });
    } catch (e) {
      return e as Error & { statusCode: number; body: string };
    }
    throw new Error('expected an HTTP error');
  };
  let e = await err(execUrl(h.base, 'p', ['true'], { container: 'nope', stdout: 'true' }));
  assert.is(e.statusCode, 400);
  assert.is(JSON.parse(e.body).message, 'container nope is not valid for pod p');
  e = await err(execUrl(h.base, 'two', ['true']));
  assert.is(JSON.parse(e.body).message, 'a container name must be specified for pod two, choose one of: [a b]');
  e = await err(execUrl(h.base, 'p', ['true'], {}), ['v4.channel.k8s.io']);
  assert.is(e.statusCode, 400);
  assert.match(JSON.parse(e.body).message, 'you must specify at least 1 of stdin, stdout, stderr');
});

test('~> SPDY (kubectl fallback) gets a clear 400 Status, not a hang', async ({ h }) => {
  const url = new URL(execUrl(h.base, 'p', ['true']));
  const sock = connect(Number(url.port), url.hostname);
  let text = '';
  sock.on('data', (d) => (text += d));
  sock.write(
    `POST ${url.pathname}${url.search} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: v4.channel.k8s.io\r\nContent-Length: 0\r\n\r\n`,
  );
  await new Promise((r) => sock.once('close', r));
  assert.match(text, /^HTTP\/1\.1 400 /);
  assert.match(text, 'SPDY is not supported');
});

test('~> a plain GET without upgrade is 400 "Upgrade request required"', async ({ h }) => {
  const r = await fetch(execUrl(h.base, 'p', ['true']));
  assert.is(r.status, 400);
  assert.is(((await r.json()) as { message: string }).message, 'Upgrade request required');
});

test('~> channel.k8s.io (pre-v4): no status on success, plain text on failure', async ({ h }) => {
  let r = await wsSession(execUrl(h.base, 'p', ['true']), { protocols: ['channel.k8s.io'] });
  assert.is(r.protocol, 'channel.k8s.io');
  assert.is(r.status, undefined);
  r = await wsSession(execUrl(h.base, 'p', ['sh', '-c', 'exit 4']), { protocols: ['channel.k8s.io'] });
  assert.is(
    r.status,
    'command terminated with non-zero exit code: error executing command [sh -c exit 4], exit code 4',
  );
});

test('~> a bearer-token subprotocol is ignored in negotiation; nothing supported offered is 400', async ({ h }) => {
  const r = await wsSession(execUrl(h.base, 'p', ['true']), {
    protocols: ['base64url.bearer.authorization.k8s.io.dG9r', 'v4.channel.k8s.io'],
  });
  assert.is(r.protocol, 'v4.channel.k8s.io');
  try {
    await wsSession(execUrl(h.base, 'p', ['true']), { protocols: ['v3.channel.k8s.io'] });
    assert.unreachable();
  } catch (e) {
    assert.is((e as { statusCode: number }).statusCode, 400);
  }
});

test('~> fault dropStreamsAfterBytes: the exec stream is cut mid-way, without a status', async ({ h }) => {
  h.faults.set({ dropStreamsAfterBytes: 100_000 });
  try {
    const r = await wsSession(execUrl(h.base, 'p', ['dd', 'if=/dev/zero', 'bs=64k', 'count=100']));
    assert.is(r.status, undefined);
    // An abrupt drop: what was still in flight is lost too.
    assert.ok(r.stdout.length > 0 && r.stdout.length < 6_553_600, `${r.stdout.length}`);
    assert.is.not(r.closeCode, 1000);
    const log = await fetch(`${h.base}/api/v1/namespaces/default/pods/p/log`)
      .then((res) => res.text())
      .catch(() => 'cut');
    assert.ok(log === '' || log === 'cut');
  } finally {
    h.faults.clear();
  }
});

test.run();
