/**
 * A client that goes away (issue 14, items 4 and 6): kuber-api against kube-sim, driven over raw
 * sockets so the test chooses the exact moment of the disconnect.
 * - A short call (here `DELETE /containers/{id}`, whose apiserver DELETE kube-sim holds back and
 *   answers 503) is cancelled: kube-sim sees the apiserver request's connection closed before its
 *   answer, and no retry follows. The container is left as it was, and the next call succeeds.
 * - A create whose client leaves while its write is on the wire is not cut: the write is answered
 *   (a committed create is adopted, never left ambiguous), and the container is whole.
 * - A client that disconnects mid-attach, mid-exec and mid-logs closes the upstream stream within
 *   about a second, measured from the test's disconnect to kube-sim's close of that stream, and
 *   kuber-api's open file descriptors come back to where they were (nothing leaks).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { connect, type Socket } from 'node:net';
import { existsSync } from 'node:fs';
import { dockerAvailable } from '../helpers/docker-cli.js';
import {
  eventually,
  cancelledRemoval,
  FD_SLACK,
  simRest,
  openFds,
  streamsEnv,
  uniqueName,
  upstreamCloseMs,
  UPSTREAM_CLOSE_BOUND_MS,
  type StreamsEnv,
} from '../helpers/streams-env.js';

let env: StreamsEnv;
const procFs = existsSync('/proc/self/fd');
const t = dockerAvailable() && procFs ? test : test.skip;
if (!dockerAvailable()) console.log('SKIP disconnect fault tests: needs the docker CLI for setup');
else if (!procFs) console.log('SKIP disconnect fault tests: no /proc to count file descriptors');

test.before(async () => {
  if (dockerAvailable() && procFs) env = await streamsEnv({ splitStreams: true });
});
test.after(async () => env?.stop());

const rest = () => simRest(env);

/** Send one raw request on kuber-api's socket; `head` resolves with the response head, if one comes. */
function send(method: string, path: string, body = '', upgrade = false): { sock: Socket; head: Promise<string> } {
  const sock = connect(env.api.socketPath);
  sock.on('error', () => {});
  sock.write(
    `${method} ${path} HTTP/1.1\r\nHost: docker\r\n${upgrade ? 'Connection: Upgrade\r\nUpgrade: tcp\r\n' : ''}` +
      `${body ? 'Content-Type: application/json\r\n' : ''}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
  const head = new Promise<string>((resolve) => {
    let got = '';
    const onData = (d: Buffer) => {
      got += d.toString('latin1');
      const end = got.indexOf('\r\n\r\n');
      if (end < 0) return;
      sock.off('data', onData);
      sock.on('data', () => {}); // keep reading: a stream's output never piles up in the socket
      resolve(got.slice(0, end));
    };
    sock.on('data', onData);
    sock.on('close', () => resolve(got));
  });
  return { sock, head };
}

const ok = async (args: string[]) => {
  const r = await env.docker(args);
  assert.is(r.code, 0, r.stderr);
  return r.stdout.toString().trim();
};

t('~> a client that leaves mid-call cancels the apiserver request and its retries; the next call succeeds', () =>
  cancelledRemoval(env, 3000, async (id, deleteSeen) => {
    const { sock } = send('DELETE', `/v1.45/containers/${id}`);
    await eventually(deleteSeen, 10_000, 'the DELETE at kube-sim');
    sock.destroy();
  }),
);

t('~> a create whose client leaves while the write is on the wire completes it: one whole container', async () => {
  const name = uniqueName('committed');
  await env.sim!.setFaults({ delayMs: { ms: 1500, pathContains: '/configmaps' } });
  const posts = async () =>
    (await rest()).filter((r) => r.method === 'POST' && r.path === '/api/v1/namespaces/default/configmaps');
  const before = (await posts()).length;
  try {
    const { sock } = send('POST', `/v1.45/containers/create?name=${name}`, JSON.stringify({ Image: 'busybox' }));
    await eventually(async () => (await posts()).length > before, 10_000, 'the record POST at kube-sim');
    sock.destroy();
    const mine = (await posts()).slice(before);
    assert.is(mine.length, 1);
    await eventually(async () => (await posts())[before]!.outcome !== 'pending', 10_000, 'the POST answered');
    assert.is((await posts())[before]!.outcome, 'answered', 'a write on the wire is let finish');
  } finally {
    await env.sim!.clearFaults();
  }
  const status = await eventually(async () => {
    const r = await env.docker(['inspect', '-f', '{{.State.Status}}', name]);
    return r.code === 0 && r.stdout.toString().trim();
  });
  assert.is(status, 'created');
  await ok(['start', name]);
  await ok(['rm', '-f', name]);
});

t('~> a stop whose client leaves at once still stops the container, as dockerd (moby daemon/stop.go)', async () => {
  const name = uniqueName('stubborn');
  // PID 1 ignores SIGTERM: only the kill after the timeout stops it.
  await ok(['run', '-d', '--name', name, 'busybox', 'sh', '-c', "trap '' TERM; while :; do sleep 0.2; done"]);
  const { sock, head } = send('POST', `/v1.45/containers/${name}/stop?t=1`);
  await new Promise((r) => setTimeout(r, 200)); // the stop is under way
  sock.destroy();
  await head;
  const status = await eventually(
    async () => {
      const st = await ok(['inspect', '-f', '{{.State.Status}}', name]);
      return st === 'exited' && st;
    },
    20_000,
    'the container to exit',
  );
  assert.is(status, 'exited');
  await ok(['rm', name]);
});

/** Open a stream of `kind` at kube-sim through kuber-api, drop the client, and measure the upstream close. */
async function dropMidStream(kind: 'attach' | 'exec' | 'log', open: (ctr: string) => Promise<Socket>): Promise<void> {
  const ctr = uniqueName(`drop-${kind}`);
  await ok(['run', '-d', '--name', ctr, 'busybox', 'sh', '-c', 'while :; do echo tick; sleep 0.1; done']);
  const fds = await openFds(env.api.pid);
  const streams = async () => ((await env.simState()).streams as Record<string, number> | undefined)?.[kind] ?? 0;
  const sock = await open(ctr);
  await eventually(async () => (await streams()) >= 1, 15_000, `a ${kind} stream open in kube-sim`);
  const droppedAt = Date.now();
  sock.destroy();
  const took = await upstreamCloseMs(env, kind, droppedAt);
  console.log(`  ${kind}: client gone -> kube-sim stream closed in ${took} ms`);
  assert.ok(took >= 0 && took < UPSTREAM_CLOSE_BOUND_MS, `the ${kind} stream closed ${took} ms after the client left`);
  assert.is(await ok(['inspect', '-f', '{{.State.Running}}', ctr]), 'true', 'the container keeps running');
  await eventually(
    async () => (await openFds(env.api.pid)) <= fds + FD_SLACK,
    10_000,
    `kuber-api's file descriptors back to ${fds} (+${FD_SLACK})`,
  );
  await ok(['rm', '-f', ctr]);
}

const started = async (s: { sock: Socket; head: Promise<string> }, status: RegExp) => {
  assert.match(await s.head, status);
  return s.sock;
};

t('~> a client that disconnects mid-attach closes the upstream attach within the bound and leaks nothing', () =>
  dropMidStream('attach', (ctr) =>
    started(send('POST', `/v1.45/containers/${ctr}/attach?stream=1&stdout=1&stderr=1`, '', true), /^HTTP\/1\.1 101/),
  ),
);

t('~> a client that disconnects mid-exec closes the upstream exec within the bound and leaks nothing', () =>
  dropMidStream('exec', async (ctr) => {
    const created = send(
      'POST',
      `/v1.45/containers/${ctr}/exec`,
      JSON.stringify({
        AttachStdout: true,
        AttachStderr: true,
        Cmd: ['sh', '-c', 'while :; do echo x; sleep 0.1; done'],
      }),
    );
    let body = '';
    created.sock.on('data', (d) => (body += d));
    await created.head;
    const execId = await eventually(() => /"Id":"([0-9a-f]+)"/.exec(body)?.[1]);
    created.sock.destroy();
    return started(
      send('POST', `/v1.45/exec/${execId}/start`, '{"Detach":false,"Tty":false}', true),
      /^HTTP\/1\.1 101/,
    );
  }),
);

t('~> a client that disconnects mid-logs closes the upstream log streams within the bound and leaks nothing', () =>
  dropMidStream('log', (ctr) =>
    started(send('GET', `/v1.45/containers/${ctr}/logs?follow=1&stdout=1&stderr=1`), /^HTTP\/1\.1 200/),
  ),
);

test.run();
