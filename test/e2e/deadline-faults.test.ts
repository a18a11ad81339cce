/**
 * Every Docker request has an overall deadline (issue 14 item 4; src/api/deadline.ts), against
 * kube-sim with injected delays and faults, over raw sockets and the docker CLI:
 * - a call whose apiserver request outlives `--request-deadline-ms` answers 500 "context deadline
 *   exceeded" naming the option; kube-sim sees that request abandoned and no retry after it; the
 *   container is as it was, and no file descriptor is left behind;
 * - a start whose Pod cannot start answers at the deadline and lets go of the container: its wait
 *   is released (the container's lock with it), so `rm -f` goes through at once, where a wait held
 *   until `--start-timeout-ms` (120 s here) would queue it past the CLI's minute;
 * - a start whose client disconnects (no deadline) releases its wait the same way;
 * - streams live past the deadline: `docker logs -f` and `docker events` keep delivering.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync } from 'node:fs';
import { dockerAvailable, docker } from '../helpers/docker-cli.js';
import {
  eventually,
  cancelledRemoval,
  FD_SLACK,
  simRest,
  openFds,
  streamsEnv,
  uniqueName,
  type StreamsEnv,
} from '../helpers/streams-env.js';
import { startKuber } from '../helpers/kuber.js';
import { RawClient, type ParsedResponse } from '../helpers/raw-client.js';

const DEADLINE_MS = 2000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let env: StreamsEnv;
const procFs = existsSync('/proc/self/fd');
const t = dockerAvailable() && procFs ? test : test.skip;
if (!dockerAvailable()) console.log('SKIP deadline fault tests: needs the docker CLI for setup');
else if (!procFs) console.log('SKIP deadline fault tests: no /proc to count file descriptors');

test.before(async () => {
  if (dockerAvailable() && procFs)
    env = await streamsEnv({
      api: { args: ['--request-deadline-ms', String(DEADLINE_MS), '--start-timeout-ms', '120000'] },
    });
});
test.after(async () => env?.stop());

const rest = () => simRest(env);

const ok = async (args: string[], host = env.dockerHost) => {
  const r = await docker(host, args, { timeoutMs: 60_000 });
  assert.is(r.code, 0, `docker ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
};

/** One raw request on kuber-api's socket, and its parsed answer. */
async function call(method: string, path: string, socketPath = env.api.socketPath): Promise<ParsedResponse> {
  const c = await RawClient.connect({ path: socketPath });
  try {
    await c.write(`${method} ${path} HTTP/1.1\r\nHost: docker\r\nContent-Length: 0\r\n\r\n`);
    const [r] = await c.waitResponses(1, 60_000);
    return r!;
  } finally {
    c.destroy();
  }
}

function assertDeadlineAnswer(r: ParsedResponse): void {
  assert.is(r.status, 500, r.body.toString());
  assert.is(r.headers['content-type'], 'application/json');
  const msg = JSON.parse(r.body.toString()).message as string;
  assert.match(msg, /^context deadline exceeded: /);
  assert.match(msg, `within ${DEADLINE_MS} ms (--request-deadline-ms)`);
}

t('~> a call past --request-deadline-ms: 500 naming the option; its apiserver request is cut, never retried', () =>
  cancelledRemoval(env, 3 * DEADLINE_MS, async (id) =>
    assertDeadlineAnswer(await call('DELETE', `/v1.45/containers/${id}`)),
  ),
);

t('~> a start past the deadline lets go of the container: the next inspect and rm -f work at once', async () => {
  const id = await ok(['create', '--name', uniqueName('nosandbox'), 'busybox', 'sleep', '60']);
  const fds = await openFds(env.api.pid);
  await env.sim!.setFaults({ failSandboxes: 1000 }); // the Pod stays ContainerCreating
  try {
    assertDeadlineAnswer(await call('POST', `/v1.45/containers/${id}/start`));
    assert.is(await ok(['inspect', '-f', '{{.State.Status}}', id]), 'created');
    // rm takes the container's lock: a start still waiting for its Pod (120 s) would hold it.
    await ok(['rm', '-f', id]);
  } finally {
    await env.sim!.clearFaults();
  }
  await eventually(async () => (await openFds(env.api.pid)) <= fds + FD_SLACK, 15_000, 'file descriptors back');
});

t('~> a start whose client disconnects stops waiting for its Pod (no deadline): rm -f goes through', async () => {
  const k = await startKuber({
    kubeconfig: env.kubeconfig,
    args: ['--request-deadline-ms', '0', '--start-timeout-ms', '120000'],
  });
  try {
    const id = await ok(['create', '--name', uniqueName('leaver'), 'busybox', 'sleep', '60'], k.dockerHost);
    const fds = await openFds(k.pid);
    await env.sim!.setFaults({ failSandboxes: 1000 });
    const podPosts = async () =>
      (await rest()).filter(
        (r) => r.method === 'POST' && r.path === '/api/v1/namespaces/default/pods' && r.outcome === 'answered',
      ).length;
    const before = await podPosts();
    const c = await RawClient.connect({ path: k.socketPath });
    await c.write(`POST /v1.45/containers/${id}/start HTTP/1.1\r\nHost: docker\r\nContent-Length: 0\r\n\r\n`);
    try {
      await eventually(async () => (await podPosts()) > before, 30_000, 'the Pod created by the start');
      // The start now waits for its Pod, which cannot start: only the client's leaving ends the wait.
      await sleep(500);
      assert.is(c.data.length, 0, 'no answer yet');
      c.destroy();
      await ok(['rm', '-f', id], k.dockerHost);
    } finally {
      c.destroy();
      await env.sim!.clearFaults();
    }
    await eventually(async () => (await openFds(k.pid)) <= fds + FD_SLACK, 15_000, 'file descriptors back');
  } finally {
    await k.stop();
  }
});

t('~> streams live past the deadline: logs -f and events keep delivering', async () => {
  const name = uniqueName('ticker');
  await ok([
    'run',
    '-d',
    '--name',
    name,
    'busybox',
    'sh',
    '-c',
    'i=0; while [ $i -lt 300 ]; do i=$((i+1)); echo line$i; sleep 0.2; done',
  ]);
  let logs = '';
  let events = '';
  const follow = env.docker(['logs', '-f', name], { onStdout: (d) => (logs += d.toString()), timeoutMs: 120_000 });
  const watch = env.docker(['events', '--format', '{{.Action}} {{.Actor.Attributes.name}}'], {
    onStdout: (d) => (events += d.toString()),
    timeoutMs: 120_000,
  });
  try {
    await eventually(() => logs.includes('line1\n'), 30_000, 'the first log line');
    await sleep(2 * DEADLINE_MS);
    const seen = logs.length;
    await eventually(() => logs.length > seen, 15_000, 'log lines after the deadline');
    const other = uniqueName('after-deadline');
    await ok(['create', '--name', other, 'busybox', 'true']);
    await eventually(() => events.includes(`create ${other}`), 15_000, 'an event after the deadline');
    assert.is(follow.child.exitCode, null, 'logs -f still running');
    assert.is(watch.child.exitCode, null, 'events still running');
    await ok(['rm', other]);
  } finally {
    follow.child.kill();
    watch.child.kill();
    await Promise.all([follow, watch]);
    await ok(['rm', '-f', name]);
  }
});

test.run();
