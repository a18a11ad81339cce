/**
 * Attach through the API as dockerode and testcontainers use it (docker-modem lib/modem.js): the upgraded
 * path with `hijack:true` (dockerode writes the chunk terminator `0\r\n\r\n` right after the head),
 * the plain 200 path, stdin with StdinOnce over the hijacked socket and its half-close, `logs=1`,
 * a resize sent before start, a client that disconnects (a detach: the container keeps running, a
 * `detach` event, no attach stream left in kube-sim), and the 404 before any hijack.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import Docker from 'dockerode';
import { request } from 'node:http';
import type { Duplex } from 'node:stream';
import { PassThrough } from 'node:stream';
import { dockerAvailable } from '../helpers/docker-cli.js';
import {
  eventually,
  streamsEnv,
  upstreamCloseMs,
  UPSTREAM_CLOSE_BOUND_MS,
  type StreamsEnv,
} from '../helpers/streams-env.js';

let env: StreamsEnv;
let docker: Docker;
const t = dockerAvailable() ? test : test.skip;
if (!dockerAvailable()) console.log('SKIP attach API e2e tests: needs the docker CLI for setup');

test.before(async () => {
  if (!dockerAvailable()) return;
  env = await streamsEnv({ splitStreams: true, tcp: true });
  docker = new Docker({ socketPath: env.api.socketPath });
});
test.after(async () => env?.stop());

/** dockerode over kuber-api's TCP listener, with the docker CLI's User-Agent when `agent` is given. */
function tcpDocker(agent?: string): Docker {
  const u = new URL(env.tcpHost!.replace(/^tcp:/, 'http:'));
  return new Docker({
    host: u.hostname,
    port: Number(u.port),
    ...(agent ? { headers: { 'User-Agent': agent } } : {}),
  });
}

/** Read a raw TTY stream until `re` shows up. */
function readUntil(sock: Duplex, re: RegExp): Promise<string> {
  let text = '';
  return new Promise((resolve) => {
    const on = (d: Buffer) => {
      text += d;
      if (re.test(text)) {
        sock.removeListener('data', on);
        resolve(text);
      }
    };
    sock.on('data', on);
  });
}

const ended = (sock: Duplex) => new Promise<void>((r) => (sock.readableEnded ? r() : sock.once('end', () => r())));

/** Attach with stdin to a running TTY shell, see `echo word` answered, half-close, and wait for the stream's end. */
async function ttyEchoThenEof(c: Docker.Container, word: string): Promise<void> {
  const sock = (await c.attach({ stream: true, stdin: true, stdout: true, hijack: true })) as unknown as Duplex;
  const echoed = readUntil(sock, new RegExp(`^${word}\\r?$`, 'm'));
  sock.write(`echo ${word}\n`);
  await echoed;
  sock.end();
  await ended(sock);
}

/** A hijacked attach with stdin, stdout and stderr (dockerode's `hijack: true`). */
const attachAll = async (c: Docker.Container) =>
  (await c.attach({ stream: true, stdin: true, stdout: true, stderr: true, hijack: true })) as unknown as Duplex;

function collect(stream: NodeJS.ReadableStream): Promise<{ out: string; err: string }> {
  const so = new PassThrough();
  const se = new PassThrough();
  let out = '';
  let err = '';
  so.on('data', (d) => (out += d));
  se.on('data', (d) => (err += d));
  docker.modem.demuxStream(stream, so, se);
  return new Promise((resolve) => {
    stream.on('end', () => resolve({ out, err }));
    stream.on('close', () => resolve({ out, err }));
  });
}

t(
  '~> dockerode attach {hijack:true} before start gets stdout and stderr from the first byte; the stream ends at exit',
  async () => {
    const c = await docker.createContainer({
      Image: 'busybox',
      Cmd: ['sh', '-c', 'echo first; echo oops >&2; exit 2'],
      AttachStdout: true,
      AttachStderr: true,
    });
    const stream = (await c.attach({
      stream: true,
      stdout: true,
      stderr: true,
      hijack: true,
    })) as unknown as NodeJS.ReadableStream;
    const done = collect(stream);
    await c.start();
    assert.equal(await done, { out: 'first\n', err: 'oops\n' });
    assert.is((await c.wait()).StatusCode, 2);
    await c.remove();
  },
);

t('~> the plain 200 path (no upgrade) carries the same multiplexed stream', async () => {
  const c = await docker.createContainer({ Image: 'busybox', Cmd: ['sh', '-c', 'echo plain; echo perr >&2'] });
  const stream = (await c.attach({ stream: true, stdout: true, stderr: true })) as unknown as NodeJS.ReadableStream;
  const done = collect(stream);
  await c.start();
  assert.equal(await done, { out: 'plain\n', err: 'perr\n' });
  await c.remove();
});

t('~> stdin over the hijacked socket with StdinOnce: cat gets it, the half-close ends cat and the stream', async () => {
  const c = await docker.createContainer({
    Image: 'busybox',
    Cmd: ['cat'],
    OpenStdin: true,
    StdinOnce: true,
    AttachStdin: true,
    AttachStdout: true,
    AttachStderr: true,
  });
  const sock = await attachAll(c);
  const done = collect(sock);
  await c.start();
  sock.write('hello over the socket\n');
  sock.end();
  assert.equal(await done, { out: 'hello over the socket\n', err: '' });
  assert.is((await c.wait()).StatusCode, 0);
  await c.remove();
});

t(
  "~> TTY over TCP, dockerode's stdin EOF: the session ends, the container runs on, and its wait gets the real exit (137 after a kill)",
  async () => {
    const d = tcpDocker();
    const c = await d.createContainer({ Image: 'busybox', Cmd: ['sh'], Tty: true, OpenStdin: true, StdinOnce: true });
    await c.start();
    const waited = c.wait({ condition: 'next-exit' });
    await ttyEchoThenEof(c, 'eof-test');
    assert.is((await c.inspect()).State.Running, true);
    await c.kill();
    assert.is((await waited).StatusCode, 137);
    await c.remove({ force: true });
  },
);

t(
  "~> the docker CLI's User-Agent without a TTY: the half-close closes stdin (StdinOnce), the wait gets the real exit code",
  async () => {
    const d = tcpDocker('Docker-Client/28.2.2 (linux)');
    const c = await d.createContainer({
      Image: 'busybox',
      Cmd: ['sh', '-c', 'cat; exit 3'],
      OpenStdin: true,
      StdinOnce: true,
    });
    const sock = await attachAll(c);
    const done = collect(sock);
    const waited = c.wait({ condition: 'next-exit' });
    await c.start();
    sock.write('to cat\n');
    sock.end();
    assert.equal(await done, { out: 'to cat\n', err: '' });
    assert.is((await waited).StatusCode, 3);
    await c.remove();
  },
);

t(
  "~> the docker CLI's User-Agent with a TTY: its half-close is its detach, its own wait answers as the CLI needs",
  async () => {
    const d = tcpDocker('Docker-Client/28.2.2 (linux)');
    const c = await d.createContainer({ Image: 'busybox', Cmd: ['sh'], Tty: true, OpenStdin: true, StdinOnce: true });
    await c.start();
    // `docker attach` opens a wait without a condition (not-running): it prints the wait's error.
    const waited = c.wait();
    await ttyEchoThenEof(c, 'cli-test');
    assert.equal(await waited, { StatusCode: 0, Error: { Message: 'read escape sequence' } });
    assert.is((await c.inspect()).State.Running, true);
    // `docker run -it` / `start -ai` wait for next-exit: a plain 0, so that the CLI exits 0.
    const next = c.wait({ condition: 'next-exit' });
    await ttyEchoThenEof(c, 'cli-again');
    assert.equal(await next, { StatusCode: 0 });
    assert.is((await c.inspect()).State.Running, true);
    await c.remove({ force: true });
  },
);

t(
  "~> logs=1&stream=0 replays an exited container's log; a resize before start is 200 and reaches the TTY",
  async () => {
    const c = await docker.createContainer({ Image: 'busybox', Cmd: ['sh', '-c', 'echo replayed'] });
    await c.start();
    await c.wait();
    const stream = (await c.attach({
      logs: true,
      stream: false,
      stdout: true,
      stderr: true,
      hijack: true,
    })) as unknown as NodeJS.ReadableStream;
    assert.equal(await collect(stream), { out: 'replayed\n', err: '' });
    await c.remove();

    const tty = await docker.createContainer({
      Image: 'busybox',
      Cmd: ['sh', '-c', 'sleep 1; stty size'],
      Tty: true,
      OpenStdin: true,
    });
    await tty.resize({ h: 33, w: 101 });
    const raw = (await tty.attach({
      stream: true,
      stdout: true,
      stderr: true,
      stdin: true,
      hijack: true,
    })) as unknown as Duplex;
    let text = '';
    raw.on('data', (d) => (text += d));
    const ended = new Promise<void>((r) => raw.on('end', () => r()));
    await tty.start();
    await ended;
    assert.match(text, /^33 101\r?$/m, JSON.stringify(text));
    await tty.remove({ force: true });
  },
);

t(
  '~> a client that disconnects detaches: the container keeps running, a detach event, no attach left upstream',
  async () => {
    const since = Date.now() / 1000 - 1;
    const c = await docker.createContainer({
      Image: 'busybox',
      Cmd: ['sh', '-c', 'while :; do echo tick; sleep 0.1; done'],
    });
    await c.start();
    const sock = (await c.attach({ stream: true, stdout: true, stderr: true, hijack: true })) as unknown as Duplex;
    let got = '';
    sock.on('data', (d) => (got += d));
    await eventually(() => got.includes('tick'), 10_000, 'live output');
    let last: unknown;
    if (env.sim)
      await eventually(
        async () => ((last = (await env.simState()).streams)?.attach ?? 0) >= 1,
        15_000,
        'an attach stream in kube-sim',
      ).catch((e) => {
        throw new Error(`${e.message}; last: ${JSON.stringify(last)}`);
      });
    const droppedAt = Date.now();
    sock.destroy();
    if (env.sim) {
      const ms = await upstreamCloseMs(env, 'attach', droppedAt);
      assert.ok(ms < UPSTREAM_CLOSE_BOUND_MS, `the attach stream closed in kube-sim ${ms} ms after the client left`);
    }
    const info = await c.inspect();
    assert.is(info.State.Running, true);
    const events = await new Promise<string>((resolve, reject) => {
      const req = request(
        {
          socketPath: env.api.socketPath,
          path: `/events?since=${since}&until=${Date.now() / 1000 + 1}&filters=${encodeURIComponent(JSON.stringify({ container: [c.id] }))}`,
        },
        (res) => {
          let b = '';
          res.on('data', (d) => (b += d));
          res.on('end', () => resolve(b));
        },
      );
      req.on('error', reject);
      req.end();
    });
    const actions = events
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l).Action as string);
    assert.ok(actions.includes('attach'), actions.join(','));
    assert.ok(actions.includes('detach'), actions.join(','));
    await c.remove({ force: true });
  },
);

t(
  '~> a raw upgrade with a chunked body ended right after the head (dockerode hijack without stdin): 101, then the stream',
  async () => {
    const c = await docker.createContainer({ Image: 'busybox', Cmd: ['sh', '-c', 'echo raw-101'] });
    const { connect } = await import('node:net');
    const sock = connect(env.api.socketPath);
    sock.write(
      `POST /v1.45/containers/${c.id}/attach?stream=1&stdout=1&stderr=1 HTTP/1.1\r\nHost: docker\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
    );
    const chunks: Buffer[] = [];
    sock.on('data', (d: Buffer) => chunks.push(d));
    const ended = new Promise<void>((r) => sock.on('end', () => r()));
    await new Promise((r) => setTimeout(r, 200));
    await c.start();
    await ended;
    sock.destroy();
    const all = Buffer.concat(chunks);
    const headEnd = all.indexOf('\r\n\r\n');
    const head = all.subarray(0, headEnd).toString();
    assert.match(
      head,
      /^HTTP\/1\.1 101 UPGRADED\r\nContent-Type: application\/vnd\.docker\.multiplexed-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n/,
    );
    const body = all.subarray(headEnd + 4);
    assert.equal([...body.subarray(0, 8)], [1, 0, 0, 0, 0, 0, 0, 8]);
    assert.is(body.subarray(8).toString(), 'raw-101\n');
    await c.remove();
  },
);

t('~> attach to a missing container is a 404 before any hijack', async () => {
  const r = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request(
      {
        socketPath: env.api.socketPath,
        method: 'POST',
        path: '/v1.45/containers/no-such-thing/attach?stream=1&stdout=1',
        headers: { Connection: 'Upgrade', Upgrade: 'tcp' },
      },
      (res) => {
        let b = '';
        res.on('data', (d) => (b += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: b }));
      },
    );
    req.on('upgrade', () => resolve({ status: 101, body: '' }));
    req.on('error', reject);
    req.end();
  });
  assert.is(r.status, 404);
  assert.equal(JSON.parse(r.body), { message: 'No such container: no-such-thing' });
});

test.run();
