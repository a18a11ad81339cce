/**
 * `docker logs` through kuber-api (issue 4 acceptance): follow with timestamps and tail on a
 * detached container, logs that survive `docker stop` (the Pod is kept), `start` again, an empty
 * log before the first start, the 400 without streams, since/until (unix fractions and RFC 3339),
 * the Content-Type by API version, raw TTY logs, stdout/stderr selection, and dockerode's
 * `follow=true&tail=-1&since=0` demuxed as testcontainers reads it.
 */
import { suite, type Test } from 'uvu';
import * as assert from 'uvu/assert';
import Docker from 'dockerode';
import { request } from 'node:http';
import { PassThrough } from 'node:stream';
import { dockerAvailable } from '../helpers/docker-cli.js';
import { clusterTest, realClusterKubeconfig } from '../helpers/cluster.js';
import { eventually, streamsEnv, uniqueName, type StreamsEnv } from '../helpers/streams-env.js';

type Ctx = { env: StreamsEnv; docker: Docker; split: boolean | undefined };
type Case = [string, (c: Ctx) => Promise<void>];

const TS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z /;
const text = (r: { stdout: Buffer }) => r.stdout.toString();

/** A raw GET on kuber-api's socket: status, headers and the whole body. */
function get(
  socketPath: string,
  path: string,
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path, headers: { Host: 'docker' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** The payloads of a stdcopy body by stream. */
function demux(b: Buffer): { out: string; err: string; frames: number } {
  let out = '',
    err = '',
    frames = 0;
  for (let i = 0; i + 8 <= b.length;) {
    const len = b.readUInt32BE(i + 4);
    const p = b.subarray(i + 8, i + 8 + len).toString();
    if (b[i] === 2) err += p;
    else out += p;
    i += 8 + len;
    frames++;
  }
  return { out, err, frames };
}

const CASES: Case[] = [
  [
    '~> docker run -d, then docker logs -f -t --tail 5: the last 5 lines with timestamps, then new ones',
    async ({ env, split }) => {
      const name = uniqueName('follow');
      const r = await env.docker([
        'run',
        '-d',
        '--name',
        name,
        'busybox',
        'sh',
        '-c',
        'for i in 0 1 2 3 4 5 6 7 8 9; do echo line $i; done; while [ ! -f /tmp/go ]; do sleep 0.1; done; echo after; echo err-after >&2; sleep 1000',
      ]);
      assert.is(r.code, 0, r.stderr);
      await eventually(async () => text(await env.docker(['logs', name])).includes('line 9'), 10_000, 'ten lines');
      const f = env.docker(['logs', '-f', '-t', '--tail', '5', name]);
      let got = '';
      let gotErr = '';
      f.child.stdout!.on('data', (d) => (got += d));
      f.child.stderr!.on('data', (d) => (gotErr += d));
      await eventually(() => got.split('\n').length >= 6, 10_000, 'the tail');
      await env.docker(['exec', name, 'touch', '/tmp/go']);
      await eventually(
        () => got.includes(' after\n') && (gotErr + got).includes(' err-after\n'),
        10_000,
        'the line after, followed',
      );
      f.child.kill('SIGINT');
      await f;
      const lines = got.trimEnd().split('\n');
      assert.equal(
        lines.slice(0, 5).map((l) => l.replace(TS, '')),
        ['line 5', 'line 6', 'line 7', 'line 8', 'line 9'],
      );
      for (const l of lines) assert.match(l, TS);
      if (split !== false) assert.match(gotErr, TS); // without split streams stderr lines are on stdout
      await env.docker(['rm', '-f', name]);
    },
  ],
  [
    '~> stop keeps the exit code and the logs; ps -a shows Exited (3); start runs it again',
    async ({ env }) => {
      const name = uniqueName('stop');
      await env.docker([
        'run',
        '-d',
        '--name',
        name,
        'busybox',
        'sh',
        '-c',
        'echo started; echo oops >&2; trap "echo stopping; exit 3" TERM; while :; do sleep 0.1; done',
      ]);
      await eventually(async () => text(await env.docker(['logs', name])).includes('started'), 10_000, 'output');
      const s = await env.docker(['stop', name]);
      assert.is(s.code, 0, s.stderr);
      const ps = await env.docker(['ps', '-a', '--filter', `name=${name}`, '--format', '{{.Status}}']);
      assert.match(text(ps), /^Exited \(3\) /);
      const l = await env.docker(['logs', name]);
      assert.is(l.code, 0, l.stderr);
      assert.is(text(l), 'started\nstopping\n');
      assert.is(l.stderr, 'oops\n');
      const f = await env.docker(['logs', '-f', name], { timeoutMs: 10_000 });
      assert.is(text(f), 'started\nstopping\n', 'follow on an exited container ends after the log');
      const st = await env.docker(['start', name]);
      assert.is(st.code, 0, st.stderr);
      await eventually(
        async () => text(await env.docker(['logs', name])).includes('started'),
        10_000,
        'the new run logs',
      );
      const running = await env.docker(['inspect', '-f', '{{.State.Status}}', name]);
      assert.is(text(running).trim(), 'running');
      await env.docker(['rm', '-f', name]);
    },
  ],
  [
    '~> a created container has an empty log; no stream selected is a 400',
    async ({ env }) => {
      const name = uniqueName('created');
      await env.docker(['create', '--name', name, 'busybox', 'echo', 'hi']);
      const l = await env.docker(['logs', name]);
      assert.is(l.code, 0, l.stderr);
      assert.is(text(l), '');
      const f = await env.docker(['logs', '-f', name], { timeoutMs: 10_000 });
      assert.is(f.code, 0);
      const bad = await get(env.api.socketPath, `/v1.45/containers/${name}/logs`);
      assert.is(bad.status, 400);
      assert.equal(JSON.parse(bad.body.toString()), { message: 'Bad parameters: you must choose at least one stream' });
      const missing = await get(env.api.socketPath, `/containers/no-such-${name}/logs?stdout=1`);
      assert.is(missing.status, 404);
      await env.docker(['rm', name]);
    },
  ],
  [
    '~> Content-Type by API version; stdout/stderr selection; a TTY container logs raw bytes',
    async ({ env, split }) => {
      const name = uniqueName('ct');
      await env.docker(['run', '--name', name, 'busybox', 'sh', '-c', 'echo o1; echo e1 >&2']);
      const v45 = await get(env.api.socketPath, `/v1.45/containers/${name}/logs?stdout=1&stderr=1`);
      assert.is(v45.headers['content-type'], 'application/vnd.docker.multiplexed-stream');
      const v41 = await get(env.api.socketPath, `/v1.41/containers/${name}/logs?stdout=1&stderr=1`);
      assert.is(v41.headers['content-type'], 'application/vnd.docker.raw-stream');
      const both = demux(v45.body);
      const only = demux((await get(env.api.socketPath, `/v1.45/containers/${name}/logs?stdout=1`)).body);
      const onlyErr = demux((await get(env.api.socketPath, `/v1.45/containers/${name}/logs?stderr=1`)).body);
      if (split === false || (split === undefined && both.err === '')) {
        assert.equal(both, { out: 'o1\ne1\n', err: '', frames: both.frames });
        assert.is(only.out, 'o1\ne1\n');
        assert.is(onlyErr.out + onlyErr.err, '');
      } else {
        assert.is(both.out, 'o1\n');
        assert.is(both.err, 'e1\n');
        assert.equal([only.out, only.err], ['o1\n', '']);
        assert.equal([onlyErr.out, onlyErr.err], ['', 'e1\n']);
      }
      const tty = uniqueName('tty');
      await env.docker(['run', '-t', '--name', tty, 'busybox', 'echo', 'raw']);
      const t = await get(env.api.socketPath, `/v1.45/containers/${tty}/logs?stdout=1&stderr=1`);
      assert.is(t.headers['content-type'], 'application/vnd.docker.raw-stream');
      assert.is(t.body.toString(), 'raw\r\n');
      await env.docker(['rm', '-f', name, tty]);
    },
  ],
  [
    '~> since and until: unix seconds with fractions and RFC 3339',
    async ({ env }) => {
      const name = uniqueName('since');
      await env.docker(['run', '--name', name, 'busybox', 'sh', '-c', 'echo a; sleep 1.2; echo b; sleep 1.2; echo c']);
      const all = text(await env.docker(['logs', '-t', name]))
        .trimEnd()
        .split('\n');
      assert.equal(
        all.map((l) => l.replace(TS, '')),
        ['a', 'b', 'c'],
      );
      const tsB = all[1]!.slice(0, 30);
      const unixB = (Date.parse(tsB.slice(0, 19) + 'Z') / 1000).toString() + '.' + tsB.slice(20, 29);
      const s1 = await get(env.api.socketPath, `/v1.45/containers/${name}/logs?stdout=1&since=${unixB}`);
      assert.is(demux(s1.body).out, 'b\nc\n', `since=${unixB}`);
      const s2 = await env.docker(['logs', '--since', tsB, name]);
      assert.is(text(s2), 'b\nc\n', `--since ${tsB}`);
      const u1 = await get(env.api.socketPath, `/v1.45/containers/${name}/logs?stdout=1&until=${unixB}`);
      assert.is(demux(u1.body).out, 'a\nb\n', `until=${unixB}`);
      const u2 = await env.docker(['logs', '--until', tsB, '-t', name]);
      assert.equal(
        text(u2)
          .trimEnd()
          .split('\n')
          .map((l) => l.replace(TS, '')),
        ['a', 'b'],
      );
      const tail = await env.docker(['logs', '--tail', '1', name]);
      assert.is(text(tail), 'c\n');
      const tail0 = await env.docker(['logs', '--tail', '0', name]);
      assert.is(text(tail0), '');
      const tailAll = await get(env.api.socketPath, `/v1.45/containers/${name}/logs?stdout=1&tail=all`);
      assert.is(demux(tailAll.body).out, 'a\nb\nc\n');
      await env.docker(['rm', name]);
    },
  ],
  [
    '~> the head of a follow is flushed at once, before any log line exists',
    async ({ env }) => {
      const name = uniqueName('quiet');
      // No line until /tmp/go exists: the head can only come from kuber-api flushing it at once.
      await env.docker([
        'run',
        '-d',
        '--name',
        name,
        'busybox',
        'sh',
        '-c',
        'while [ ! -f /tmp/go ]; do sleep 0.1; done; echo late',
      ]);
      const head = await new Promise<{ status: number; ct: string | undefined }>((resolve, reject) => {
        const req = request(
          { socketPath: env.api.socketPath, path: `/v1.45/containers/${name}/logs?follow=1&stdout=1&stderr=1` },
          (res) => {
            resolve({ status: res.statusCode ?? 0, ct: res.headers['content-type'] });
            res.destroy();
          },
        );
        req.on('error', reject);
        req.end();
      });
      assert.is(head.status, 200);
      assert.is(head.ct, 'application/vnd.docker.multiplexed-stream');
      assert.is(text(await env.docker(['logs', name])), '', 'no line was written before the head arrived');
      await env.docker(['rm', '-f', name]);
    },
  ],
  [
    '~> dockerode logs {follow, tail:-1, since:0} demuxed while the container runs, ending when it exits',
    async ({ docker }) => {
      const c = await docker.createContainer({
        Image: 'busybox',
        Cmd: ['sh', '-c', 'echo ready; echo warn >&2; sleep 0.5; echo done'],
      });
      await c.start();
      const stream = (await c.logs({
        follow: true,
        stdout: true,
        stderr: true,
        tail: -1,
        since: 0,
      } as Docker.ContainerLogsOptions & { follow: true })) as unknown as NodeJS.ReadableStream;
      const so = new PassThrough();
      const se = new PassThrough();
      let o = '';
      let e = '';
      so.on('data', (d) => (o += d));
      se.on('data', (d) => (e += d));
      docker.modem.demuxStream(stream, so, se);
      await new Promise<void>((resolve) => stream.on('end', () => resolve()));
      assert.is(o.replace('warn\n', ''), 'ready\ndone\n');
      assert.ok((o + e).includes('warn\n'));
      await c.remove({ force: true });
    },
  ],
];

function register(name: string, split: boolean | undefined, real: boolean, cases = CASES): void {
  const s: Test = suite(name);
  const c = { split } as Ctx;
  s.before(async () => {
    const k = real ? realClusterKubeconfig() : undefined;
    if (real && !k) return;
    c.env = await streamsEnv(k ? { kubeconfig: k } : { splitStreams: split });
    c.docker = new Docker({ socketPath: c.env.api.socketPath });
  });
  s.after(async () => c.env?.stop());
  for (const [title, fn] of cases) {
    if (real) clusterTest(s, title, () => fn(c));
    else s(title, () => fn(c));
  }
  s.run();
}

if (!dockerAvailable()) console.log('SKIP docker logs e2e tests: no `docker` on PATH');
else {
  register('logs (kube-sim, split streams on)', true, false);
  // Split streams off: the one merged body (tailLines, since/until on it, everything on stdout).
  register('logs (kube-sim, split streams off)', false, false, [CASES[0]!, CASES[3]!, CASES[4]!]);
  register('logs (real cluster)', undefined, true);
}
