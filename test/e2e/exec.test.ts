/**
 * `docker exec` and dockerode/testcontainers exec through kuber-api (issue 4 acceptance): exit
 * codes (5; 126 and 127 as the runtime reports them), Env and WorkingDir honoured, 409 on a stopped
 * container, stdin with EOF, `-it` through a real terminal (tmux: prompt, resize, exit 7), the plain
 * 200 path with a never-ended request, detached execs, and a client that drops mid-stream closing
 * the upstream stream (the producing process in the pod dies of EPIPE).
 */
import { suite, type Test } from 'uvu';
import * as assert from 'uvu/assert';
import Docker from 'dockerode';
import { PassThrough } from 'node:stream';
import { dockerAvailable } from '../helpers/docker-cli.js';
import { clusterTest, realClusterKubeconfig } from '../helpers/cluster.js';
import { Tmux } from '../helpers/tmux.js';
import {
  dockerConfigDir,
  eventually,
  streamsEnv,
  uniqueName,
  upstreamCloseMs,
  UPSTREAM_CLOSE_BOUND_MS,
  type StreamsEnv,
} from '../helpers/streams-env.js';

type Ctx = { env: StreamsEnv; ctr: string; docker: Docker };
type Case = [string, (c: Ctx) => Promise<void>];

const out = (r: { stdout: Buffer }) => r.stdout.toString();

const CASES: Case[] = [
  [
    '~> docker exec ctr sh -c "exit 5" exits 5; output and stderr come through',
    async ({ env, ctr }) => {
      const r = await env.docker(['exec', ctr, 'sh', '-c', 'echo to-out; echo to-err >&2; exit 5']);
      assert.is(r.code, 5, r.stderr);
      assert.is(out(r), 'to-out\n');
      assert.is(r.stderr, 'to-err\n');
    },
  ],
  [
    '~> docker exec -e A=1 -w /tmp ctr sh -c "echo $A; pwd" prints 1 and /tmp',
    async ({ env, ctr }) => {
      const r = await env.docker(['exec', '-e', 'A=1', '-w', '/tmp', ctr, 'sh', '-c', 'echo $A; pwd']);
      if (r.code !== 0) {
        const st = await env.docker(['inspect', '-f', '{{json .State}}', ctr]);
        assert.is(r.code, 0, `exit ${r.code}: ${r.stderr} | stdout ${JSON.stringify(out(r))} | container ${st.stdout}`);
      }
      assert.is(out(r), '1\n/tmp\n');
      const e = await env.docker(['exec', '-e', 'B=two words', ctr, 'sh', '-c', 'echo "$B"']);
      assert.is(out(e), 'two words\n');
      const w = await env.docker(['exec', '-w', '/no/such/dir', ctr, 'pwd']);
      assert.is(w.code, 126);
      assert.match(out(w), /chdir to cwd \("\/no\/such\/dir"\) set in config.json failed: no such file or directory/);
    },
  ],
  [
    '~> 127 for a command that is not found, 126 for one that cannot be executed',
    async ({ env, ctr }) => {
      const nf = await env.docker(['exec', ctr, 'no-such-command']);
      assert.ok(nf.code === 127 || nf.code === 126, `not found: ${nf.code}`);
      assert.match(out(nf) + nf.stderr, /no-such-command/);
      const sh = await env.docker(['exec', ctr, 'sh', '-c', 'no-such-command']);
      assert.is(sh.code, 127);
      const pd = await env.docker(['exec', ctr, '/etc/passwd']);
      assert.is(pd.code, 126);
      assert.match(out(pd) + pd.stderr, /permission denied/i);
    },
  ],
  [
    '~> echo hello | docker exec -i ctr cat: stdin and its EOF reach the process',
    async ({ env, ctr }) => {
      const r = await env.docker(['exec', '-i', ctr, 'cat'], { stdin: 'hello\n' });
      assert.is(r.code, 0, r.stderr);
      assert.is(out(r), 'hello\n');
    },
  ],
  [
    '~> exec on a stopped container: 409 "container <id> is not running"',
    async ({ env }) => {
      const name = uniqueName('stopped');
      const r = await env.docker(['run', '--name', name, 'busybox', 'true']);
      assert.is(r.code, 0, r.stderr);
      const x = await env.docker(['exec', name, 'true']);
      assert.is(x.code, 1);
      assert.match(x.stderr, /Error response from daemon: container [0-9a-f]{64} is not running/);
      await env.docker(['rm', '-f', name]);
    },
  ],
  [
    '~> detached exec (-d): no stream, the command runs, inspect gets its exit code',
    async ({ env, ctr, docker }) => {
      const r = await env.docker(['exec', '-d', ctr, 'sh', '-c', 'echo detached > /tmp/d; exit 9']);
      assert.is(r.code, 0, r.stderr);
      await eventually(
        async () => out(await env.docker(['exec', ctr, 'cat', '/tmp/d'])) === 'detached\n',
        10_000,
        'the detached exec wrote its file',
      );
      const e = await docker.getContainer(ctr).exec({ Cmd: ['sh', '-c', 'exit 4'] });
      await e.start({ Detach: true });
      const info = await eventually(
        async () => {
          const i = await e.inspect();
          return i.Running === false && i.ExitCode !== null ? i : undefined;
        },
        10_000,
        'detached exec exit code',
      );
      assert.is(info.ExitCode, 4);
    },
  ],
  [
    '~> dockerode/testcontainers: start {stdin:true,Detach:false,Tty:false} on the plain 200 path, request never ended',
    async ({ docker, ctr }) => {
      const e = await docker
        .getContainer(ctr)
        .exec({ Cmd: ['sh', '-c', 'echo hi; echo oops >&2; exit 4'], AttachStdout: true, AttachStderr: true });
      const before = await e.inspect();
      assert.is(before.ExitCode, null);
      assert.is(before.Running, false);
      const stream = await e.start({ stdin: true, Detach: false, Tty: false } as Docker.ExecStartOptions);
      const so = new PassThrough();
      const se = new PassThrough();
      let o = '';
      let er = '';
      so.on('data', (d) => (o += d));
      se.on('data', (d) => (er += d));
      docker.modem.demuxStream(stream, so, se);
      await new Promise<void>((resolve) => stream.on('end', resolve));
      const info = await e.inspect();
      assert.is(o, 'hi\n');
      assert.is(er, 'oops\n');
      assert.is(info.ExitCode, 4, 'ExitCode is final when the stream ends');
      assert.is(info.Running, false);
      assert.equal(info.ProcessConfig.arguments, ['-c', 'echo hi; echo oops >&2; exit 4']);
      assert.is(info.ProcessConfig.entrypoint, 'sh');
    },
  ],
  [
    '~> a client dropping mid-stream closes the exec: the producer in the pod dies (EPIPE)',
    async ({ env, ctr }) => {
      const run = env.docker(['exec', ctr, 'sh', '-c', 'exec yes kuber-api-epipe-probe']);
      let got = 0;
      run.child.stdout!.on('data', (d: Buffer) => (got += d.length));
      await eventually(() => got > 1 << 20, 15_000, 'output from yes');
      const droppedAt = Date.now();
      run.child.kill('SIGKILL');
      await run;
      // Measured before the ps below opens exec streams of its own.
      if (env.sim) {
        const ms = await upstreamCloseMs(env, 'exec', droppedAt);
        assert.ok(ms < UPSTREAM_CLOSE_BOUND_MS, `the exec stream closed in kube-sim ${ms} ms after the client left`);
      }
      await eventually(
        async () => !out(await env.docker(['exec', ctr, 'ps', '-o', 'args'])).includes('kuber-api-epipe-probe'),
        15_000,
        'yes to exit',
      );
    },
  ],
];

const TTY_CASE: Case = [
  '~> docker exec -it ctr sh through tmux: prompt, stty size follows a resize, exit 7',
  async ({ env, ctr }) => {
    const t = await Tmux.start(['docker', 'exec', '-it', ctr, 'sh'], {
      env: { DOCKER_HOST: env.dockerHost, DOCKER_CONFIG: dockerConfigDir() },
      width: 80,
      height: 24,
    });
    try {
      await t.waitFor(/\/ #\s*$/m);
      await t.type('stty size\n');
      await t.waitFor(/^24 80\s*$/m);
      await t.resize(120, 40);
      await t.typeUntil('stty size\n', /^40 120\s*$/m);
      await t.type('exit 7\n');
      let code: number;
      try {
        code = await t.exitCode();
      } catch (err) {
        // A rare hang here (seen only under heavy machine load) is not understood yet: keep what
        // kuber-api and kube-sim knew at that moment, so that the next occurrence can be diagnosed.
        const streams = env.sim
          ? JSON.stringify((await env.simState().catch(() => ({ streams: undefined }))).streams)
          : 'n/a';
        const log = env.api.logs().split('\n').slice(-40).join('\n');
        throw new Error(`${(err as Error).message}\nkube-sim open streams: ${streams}\nkuber-api log tail:\n${log}`);
      }
      assert.is(
        code,
        7,
        `exit code; kuber-api log tail:\n${env.api
          .logs()
          .split('\n')
          .filter((l) => /exec/.test(l))
          .slice(-12)
          .join('\n')}`,
      );
    } finally {
      await t.kill();
    }
  },
];

function register(name: string, real: boolean): void {
  const s: Test = suite(name);
  const c = {} as Ctx;
  s.before(async () => {
    const k = real ? realClusterKubeconfig() : undefined;
    if (real && !k) return;
    c.env = await streamsEnv(k ? { kubeconfig: k } : { splitStreams: true });
    c.docker = new Docker({ socketPath: c.env.api.socketPath });
    c.ctr = uniqueName('exec');
    const r = await c.env.docker([
      'run',
      '-d',
      '--name',
      c.ctr,
      'busybox',
      'sh',
      '-c',
      'trap "exit 0" TERM; while :; do sleep 0.2; done',
    ]);
    if (r.code !== 0) throw new Error(`docker run -d: ${r.stderr}`);
    // Seen once with three suites in parallel under heavy load: the loop exited 1 at once. Say why
    // (its logs and state) instead of failing every case with "is not running".
    const st = await c.env.docker(['inspect', '--format', '{{json .State}}', c.ctr]);
    if (!st.stdout.toString().includes('"Running":true')) {
      const logs = await c.env.docker(['logs', c.ctr]);
      throw new Error(
        `the exec target is not running: ${st.stdout}\nlogs: ${logs.stdout}${logs.stderr}\nkuber-api log tail:\n${c.env.api.logs().split('\n').slice(-30).join('\n')}`,
      );
    }
  });
  s.after(async () => {
    if (c.env) await c.env.docker(['rm', '-f', c.ctr]);
    await c.env?.stop();
  });
  const cases = [...CASES];
  if (tmuxOk) cases.push(TTY_CASE);
  for (const [title, fn] of cases) {
    if (real) clusterTest(s, title, () => fn(c));
    else s(title, () => fn(c));
  }
  s.run();
}

const tmuxOk = await Tmux.available();
if (!tmuxOk) console.log('SKIP docker exec -it test: no `tmux` on PATH');
if (!dockerAvailable()) console.log('SKIP docker exec e2e tests: no `docker` on PATH');
else {
  register('exec (kube-sim)', false);
  register('exec (real cluster)', true);
}
