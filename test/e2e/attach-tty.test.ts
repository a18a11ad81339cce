/**
 * `docker run -it busybox sh` through a real terminal (tmux): the prompt appears (replayed from the
 * log when it was printed before the attach), `stty size` follows a window resize (container
 * resize -> channel 4 on the attach session), `exit 7` gives exit code 7, and ctrl-p ctrl-q
 * detaches, leaving the container running (a `detach` event), after which `docker attach` gets
 * the terminal back. Over TCP the same keys end `docker run -it`, `docker attach` and
 * `docker start -ai` as they do over a unix socket (where dockerd leaves the CLI waiting).
 */
import { suite, type Test } from 'uvu';
import * as assert from 'uvu/assert';
import { dockerAvailable } from '../helpers/docker-cli.js';
import { clusterTest, realClusterKubeconfig } from '../helpers/cluster.js';
import { Tmux } from '../helpers/tmux.js';
import { dockerConfigDir, eventually, streamsEnv, uniqueName, type StreamsEnv } from '../helpers/streams-env.js';

const PROMPT = /\/ #\s*$/m;

type Case = [string, (env: StreamsEnv) => Promise<void>];

/**
 * The program's exit code; when it does not exit in time, what kuber-api and kube-sim knew at that
 * moment goes into the error (diagnosis of a hang after the shell's exit, seen under heavy load).
 */
async function exitCodeOrDiagnose(t: Tmux, env: StreamsEnv, name: string): Promise<number> {
  try {
    return await t.exitCode();
  } catch (err) {
    const streams = env.sim
      ? JSON.stringify((await env.simState().catch(() => ({ streams: undefined }))).streams)
      : 'n/a';
    const ps = await env.docker(['ps', '-a', '--filter', `name=${name}`, '--format', '{{.Status}}']);
    throw new Error(
      `${(err as Error).message}\ncontainer: ${ps.stdout}\nkube-sim open streams: ${streams}\nkuber-api log tail:\n${env.api.logs().split('\n').slice(-60).join('\n')}`,
    );
  }
}

const dockerTmux = (env: StreamsEnv, args: string[], host = env.dockerHost) =>
  Tmux.start(['docker', ...args], {
    env: { DOCKER_HOST: host, DOCKER_CONFIG: dockerConfigDir() },
    width: 80,
    height: 24,
  });

/** ctrl-p, then ctrl-q in a read of its own, as a person types them (see the detach case). */
async function detachKeys(t: Tmux): Promise<void> {
  await t.keys('C-p');
  await new Promise((r) => setTimeout(r, 250));
  await t.keys('C-q');
}

async function stateOf(env: StreamsEnv, name: string): Promise<string> {
  const r = await env.docker(['inspect', '-f', '{{.State.Running}} {{.State.Status}}', name]);
  return r.stdout.toString().trim() || r.stderr;
}

const CASES: Case[] = [
  [
    '~> docker run -it busybox sh: prompt, stty size follows a resize, exit 7',
    async (env) => {
      const name = uniqueName('tty');
      const t = await dockerTmux(env, ['run', '-it', '--rm', '--name', name, 'busybox', 'sh']);
      try {
        await t.waitFor(PROMPT);
        await t.type('stty size\n');
        await t.waitFor(/^24 80\s*$/m);
        await t.resize(100, 30);
        const typed = await t.typeUntil('stty size\n', /^30 100\s*$/m);
        await t.type('echo $((6*7))\n');
        await t.waitFor(/^42\s*$/m);
        await t.type('exit 7\n');
        const code = await exitCodeOrDiagnose(t, env, name);
        assert.is(code, 7);
        const pane = await t.capture();
        assert.is(pane.match(/stty size/g)?.length, 1 + typed, `the typed commands are echoed once each:\n${pane}`);
      } finally {
        await t.kill();
      }
    },
  ],
  [
    '~> ctrl-p ctrl-q detaches and leaves the container running; docker attach gets the terminal back',
    async (env) => {
      const name = uniqueName('detach');
      const since = Math.floor(Date.now() / 1000) - 1;
      const t = await dockerTmux(env, ['run', '-it', '--name', name, 'busybox', 'sh']);
      try {
        await t.waitFor(PROMPT);
        await t.type('echo before-detach\n');
        await t.waitFor(/^before-detach\s*$/m);
        // Typed as a person types them: the docker CLI's escape proxy (moby/term NewEscapeProxy) only
        // matches keys that arrive one per read; both in one read go to the server, whose own scan
        // detaches too (the CLI then waits for its wait request, which kuber-api ends for the docker
        // CLI: api/cli-detach.ts; dockerd leaves it waiting). Over TCP see the case below.
        await t.keys('C-p');
        await new Promise((r) => setTimeout(r, 250));
        await t.keys('C-q');
        assert.is(await t.exitCode(), 0);
      } finally {
        await t.kill();
      }
      const running = await env.docker(['inspect', '-f', '{{.State.Running}} {{.State.Status}}', name]);
      assert.is(running.stdout.toString().trim(), 'true running', running.stderr);
      const ev = await env.docker([
        'events',
        '--since',
        String(since),
        '--until',
        String(Math.floor(Date.now() / 1000) + 1),
        '--filter',
        `container=${name}`,
        '--format',
        '{{.Action}}',
      ]);
      assert.ok(ev.stdout.toString().split('\n').includes('detach'), `events: ${ev.stdout}`);
      // Attach again: the shell is still there and still reads its terminal.
      const a = await dockerTmux(env, ['attach', name]);
      try {
        await a.type('echo again-$((1+1))\n');
        await a.waitFor(/^again-2\s*$/m);
        await a.type('exit 3\n');
        assert.is(await exitCodeOrDiagnose(a, env, name), 3);
      } finally {
        await a.kill();
      }
      await eventually(
        async () =>
          (await env.docker(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', name])).stdout
            .toString()
            .trim() === 'exited 3',
        10_000,
        'exited 3',
      );
      await env.docker(['rm', '-f', name]);
    },
  ],
  [
    '~> over TCP, ctrl-p ctrl-q ends run -it (exit 0), attach ("read escape sequence", exit 1) and start -ai (exit 0), as over unix',
    async (env) => {
      // Over TCP the CLI's EscapeError arrives wrapped (TCPConn.ReadFrom): it half-closes and waits
      // for its wait request, forever against dockerd. kuber-api ends that wait (api/cli-detach.ts).
      const tcp = env.tcpHost!;
      const name = uniqueName('tcpdetach');
      const run = await dockerTmux(env, ['run', '-it', '--name', name, 'busybox', 'sh'], tcp);
      try {
        await run.waitFor(PROMPT);
        await run.type('echo before-detach\n');
        await run.waitFor(/^before-detach\s*$/m);
        await detachKeys(run);
        assert.is(await exitCodeOrDiagnose(run, env, name), 0);
      } finally {
        await run.kill();
      }
      assert.is(await stateOf(env, name), 'true running');
      const att = await dockerTmux(env, ['attach', name], tcp);
      try {
        await att.typeUntil('echo attached-$((2+2))\n', /^attached-4\s*$/m);
        await detachKeys(att);
        assert.is(await exitCodeOrDiagnose(att, env, name), 1);
        assert.match(await att.capture(), /read escape sequence/);
      } finally {
        await att.kill();
      }
      assert.is(await stateOf(env, name), 'true running');
      // The shell still reads its terminal: end it, then start -ai over TCP and detach again.
      const end = await dockerTmux(env, ['attach', name]);
      try {
        await end.typeUntil('echo ending\n', /^ending\s*$/m);
        await end.type('exit 5\n');
        assert.is(await exitCodeOrDiagnose(end, env, name), 5);
      } finally {
        await end.kill();
      }
      await eventually(async () => (await stateOf(env, name)) === 'false exited', 10_000, 'exited');
      const start = await dockerTmux(env, ['start', '-ai', name], tcp);
      try {
        await start.typeUntil('echo started-$((3+3))\n', /^started-6\s*$/m);
        await detachKeys(start);
        assert.is(await exitCodeOrDiagnose(start, env, name), 0);
      } finally {
        await start.kill();
      }
      assert.is(await stateOf(env, name), 'true running');
      await env.docker(['rm', '-f', name]);
    },
  ],
];

function register(name: string, real: boolean): void {
  const s: Test = suite(name);
  let env: StreamsEnv | undefined;
  s.before(async () => {
    if (real) {
      const k = realClusterKubeconfig();
      if (k) env = await streamsEnv({ kubeconfig: k, tcp: true });
    } else env = await streamsEnv({ splitStreams: true, tcp: true });
  });
  s.after(async () => env?.stop());
  for (const [title, fn] of CASES) {
    if (real) clusterTest(s, title, () => fn(env!));
    else s(title, () => fn(env!));
  }
  s.run();
}

if (!dockerAvailable() || !(await Tmux.available()))
  console.log('SKIP TTY attach e2e tests: needs `docker` and `tmux` on PATH');
else {
  register('attach -it (kube-sim)', false);
  register('attach -it (real cluster)', true);
}
